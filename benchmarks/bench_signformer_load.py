"""Signformer data loading: its own way (reference) against slt_nb's lean loader.

    .venv/bin/python benchmarks/bench_signformer_load.py [--frames 50000] [--batch-size 32]

1. Exports a How2Sign-like train split of at least --frames frames (the same generated tree as
   bench_export.py: real OpenPose frames, time-warped; 200-frame clips) with slt_nb, 1024 features,
   in benchmarks/_work/signformer_load (kept between runs).
2. Loads it with the reference path (slt_nb.testing.signformer_reference: whole files, full-width
   tensors, `+ 1e-8`, one tensor per frame; what Signformer's load_data does) and with
   slt_nb.signformer.loader.load_data, each in a fresh process: the memory loading adds (peak RSS
   above the process after its imports, from ru_maxrss), what stays held, and the load time;
   then one epoch of training batches from each.
3. Prints ratios (targets: lean added memory <= 1/5 of the reference's, load time no worse) and the
   projected RAM for the full How2Sign train split both ways, from slt_nb.signformer.memory and
   from this run's bytes per frame.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

WORK = REPO / "benchmarks" / "_work" / "signformer_load"
# Full How2Sign train (FORMATS.md): 31,048 clips; about 22 GB padded to 1024 float32 features,
# i.e. about 5.37 million frames (22e9 / 4096).
HOW2SIGN_TRAIN_CLIPS = 31_048
HOW2SIGN_TRAIN_FRAMES = 22_000_000_000 // (1024 * 4)
CHUNK_SIZE = 100


def build_export(frames: int) -> Path:
    """The export folder for at least `frames` frames (built once, reused while it is big enough)."""
    from bench_export import build_tree, slt_nb_export

    out = WORK / f"export-{frames}"
    marker = out / "How2Sign-1024.manifest.json"
    if marker.exists():
        return out
    tree = WORK / f"tree-{frames}"
    if not (tree / "how2sign_realigned_train.csv").exists():
        import shutil

        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        build_tree(tree, frames)
    out.mkdir(parents=True, exist_ok=True)
    slt_nb_export(tree, out, chunk_size=CHUNK_SIZE)
    return out


def data_config(export: Path) -> dict:
    manifest = json.loads((export / "How2Sign-1024.manifest.json").read_text())
    parts = [p["file"] for p in sorted(manifest["splits"]["train"]["parts"], key=lambda p: p["index"])]
    return {"data_path": str(export), "train": parts, "dev": parts[-1:], "test": parts[-1:],
            "feature_size": [1024], "level": "word", "txt_lowercase": True, "max_sent_length": 400,
            "version": "phoenix_2014_trans", "multimodal": 0.0}


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(path: str, config_file: str, batch_size: int) -> None:
    """One loader in this fresh process; prints a JSON line of its figures."""
    import random
    import warnings

    import torch  # noqa: F401
    import torchtext  # noqa: F401

    from slt_nb.signformer import vocabulary
    from slt_nb.signformer.loader import load_data, make_data_iter
    from slt_nb.testing.signformer_reference import reference_load_data

    warnings.simplefilter("ignore")
    data_cfg = json.loads(Path(config_file).read_text())
    gc.collect()
    before = rss()
    random.seed(42)
    started = time.perf_counter()
    if path == "reference":
        train, dev, test, gls, txt = reference_load_data(data_cfg, vocabulary)
    else:
        train, dev, test, gls, txt = load_data(data_cfg, vocabulary)
    load_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gc.collect()
    held = rss() - before
    frames = sum(len(e.sgn) for e in train.examples)
    random.seed(42)
    started = time.perf_counter()
    batches = 0
    for batch in make_data_iter(train, batch_size, train=True, shuffle=True):
        batches += int(batch.sgn[0].shape[0] > 0)
    epoch_s = time.perf_counter() - started
    print(json.dumps({"path": path, "added_peak": peak - before, "held": held, "load_s": load_s,
                      "epoch_s": epoch_s, "batches": batches, "samples": len(train), "frames": frames,
                      "imports_rss": before}))


def run_child(path: str, config_file: Path, batch_size: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, __file__, "--child", path, "--config", str(config_file),
                          "--batch-size", str(batch_size)], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{path} loader failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=50_000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1, help="runs per loader; the fastest load time is kept")
    ap.add_argument("--child", choices=["reference", "lean"], help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.config, args.batch_size)
        return

    from slt_nb.signformer.memory import GB, split_projection

    started = time.perf_counter()
    export = build_export(args.frames)
    config_file = WORK / "data_config.json"
    config_file.write_text(json.dumps(data_config(export)))
    manifest = json.loads((export / "How2Sign-1024.manifest.json").read_text())
    train = manifest["splits"]["train"]
    print(f"export: {train['samples']} samples, {train['frames']} frames in {len(train['parts'])} parts "
          f"({sum(p['bytes'] for p in train['parts']) / 1e6:.0f} MB gzip), ready in {time.perf_counter() - started:.0f} s")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

    results = {}
    for path in ("reference", "lean"):
        runs = [run_child(path, config_file, args.batch_size) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["load_s"])
        best["added_peak"] = max(r["added_peak"] for r in runs)
        results[path] = best
    ref, lean = results["reference"], results["lean"]
    assert ref["samples"] == lean["samples"] and ref["frames"] == lean["frames"]

    print()
    print(f"{'loader':<11}{'added peak MB':>15}{'held MB':>10}{'load s':>9}{'epoch s':>9}{'batches':>9}")
    for path, r in results.items():
        print(f"{path:<11}{r['added_peak'] / 1e6:>15.0f}{r['held'] / 1e6:>10.0f}{r['load_s']:>9.2f}"
              f"{r['epoch_s']:>9.2f}{r['batches']:>9}")
    memory_ratio = lean["added_peak"] / ref["added_peak"]
    time_ratio = lean["load_s"] / ref["load_s"]
    print(f"\nlean / reference added peak memory: {memory_ratio:.3f} (target <= 0.2: "
          f"{'met' if memory_ratio <= 0.2 else 'NOT met'})")
    print(f"lean / reference load time: {time_ratio:.2f} (target <= 1.0: {'met' if time_ratio <= 1.0 else 'NOT met'})")
    print(f"lean / reference epoch of batches: {lean['epoch_s'] / ref['epoch_s']:.2f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    frames = ref["frames"]
    largest = max(train["clip_frames"].values())
    model = split_projection(HOW2SIGN_TRAIN_FRAMES, 1024, 134, largest)
    print(f"\nprojected RAM, full How2Sign train ({HOW2SIGN_TRAIN_CLIPS} clips, ~{HOW2SIGN_TRAIN_FRAMES / 1e6:.2f} M frames):")
    print(f"  slt_nb.signformer.memory: Signformer's loader {model['signformer_held'] / GB:.1f} GB loaded, "
          f"{model['signformer_peak'] / GB:.1f} GB at peak; lean {model['lean_held'] / GB:.1f} GB loaded, "
          f"{model['lean_peak'] / GB:.1f} GB at peak")
    scale = HOW2SIGN_TRAIN_FRAMES / frames
    print(f"  scaled from this run (x{scale:.0f}): Signformer's loader {ref['held'] * scale / GB:.1f} GB loaded, "
          f"{ref['added_peak'] * scale / GB:.1f} GB at peak; lean {lean['held'] * scale / GB:.1f} GB loaded, "
          f"{(lean['added_peak'] - lean['held'] + lean['held'] * scale) / GB:.1f} GB at peak "
          "(the lean loader's per-sample read buffer does not grow with the split)")
    model_run = split_projection(frames, 1024, 134, largest)
    print(f"  model vs measured on this run: Signformer peak {model_run['signformer_peak'] / 1e6:.0f} MB projected, "
          f"{ref['added_peak'] / 1e6:.0f} MB measured; lean peak {model_run['lean_peak'] / 1e6:.0f} MB projected, "
          f"{lean['added_peak'] / 1e6:.0f} MB measured")


if __name__ == "__main__":
    main()
