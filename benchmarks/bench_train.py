"""Training throughput on CPU: the real data pipeline against the same model fed tensors in memory.

    .venv/bin/python benchmarks/bench_train.py [--clips-per-class 32] [--epochs 3] [--threads 1]

Data: the synthetic sign task (slt_nb.testing.sign_task) written as a WLASL extraction from the real
MediaPipe clips in the repo (8 classes), in benchmarks/_work/ (git-ignored); for the video input,
copies of the real signing video data/realdata/video_signing/test_video.mp4 (540x720, 58 frames).

1. Pose input, configured batch size: samples/s through the real pipeline (index -> npz or the
   in-memory cache -> normalisation -> collate -> forward/backward/step) against the same model
   and the same batches already collated in memory (the baseline, measured in this run). Data
   loading share = time to produce the batches alone / (that + in-memory step time), and, as a
   check, 1 - in-memory time / pipeline time. Target: under 20%. Measured with the in-memory
   cache on (the default: files read once) and off (every clip read from its npz every epoch).
2. Per input type (pose, features, video), each in a fresh process: parameter count, peak RSS
   (ru_maxrss) over a few training steps, samples/s.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slt_nb.train.model import parameter_count  # noqa: E402
from slt_nb.testing.sign_task import write_sign_task  # noqa: E402
from slt_nb.train.loop import make_loader, build_model, load_config, training_data  # noqa: E402

WORK = REPO / "benchmarks" / "_work" / "bench_train"
REAL_VIDEO = REPO / "data" / "realdata" / "video_signing" / "test_video.mp4"


def prepare(clips_per_class: int) -> dict:
    marker = WORK / f"ready-{clips_per_class}"
    if not marker.exists():
        shutil.rmtree(WORK, ignore_errors=True)
        task = write_sign_task(WORK, num_classes=8, per_class={"train": clips_per_class, "val": 4, "test": 4})
        videos = WORK / "videos"
        videos.mkdir()
        # 64 videos is plenty for the timed video steps; the others are listed as skipped there
        for row in [r for r in task["rows"] if r["split"] == "train"][:64]:
            shutil.copy(REAL_VIDEO, videos / f"{row['video_id']}.mp4")
        marker.write_text("ok")
    return {"pose_dir": str(WORK / "poses"), "feature_dir": str(WORK / "features"), "video_dir": str(WORK / "videos"),
            "output_dir": str(WORK / "run")}


def config(paths: dict, input_type: str, cache: bool = True, batch_size: int | None = None) -> dict:
    return load_config(None, {**paths, "input_type": input_type, "cache_in_memory": cache, "batch_size": batch_size})


def train_steps(model, batches, optimizer, criterion) -> tuple[float, int]:
    """Seconds and samples for one pass of training steps over an iterable of batches."""
    samples, t0 = 0, time.perf_counter()
    for x, mask, y in batches:
        loss = criterion(model(x, mask), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        samples += len(y)
    return time.perf_counter() - t0, samples


def pipeline_vs_memory(paths: dict, epochs: int, cache: bool) -> dict:
    cfg = config(paths, "pose", cache=cache)
    data = training_data(cfg)
    ds, bs = data.datasets["train"], int(cfg["training"]["batch_size"])
    model = build_model(cfg, data)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    criterion = torch.nn.CrossEntropyLoss()
    train_steps(model, list(make_loader(ds, bs, True, 0, 0, 0))[:2], optimizer, criterion)  # warm-up
    pipe, mem, load, n = [], [], [], 0
    for epoch in range(1, epochs + 1):
        # interleave the two so machine load drifts hit both alike; medians below drop outliers
        s, n = train_steps(model, make_loader(ds, bs, True, 0, epoch, 0), optimizer, criterion)
        pipe.append(s)
        t0 = time.perf_counter()
        batches = list(make_loader(ds, bs, True, 0, epoch, 0))
        load.append(time.perf_counter() - t0)
        s, _ = train_steps(model, batches, optimizer, criterion)
        mem.append(s)
    pipe_s, mem_s, load_s = (statistics.median(v) for v in (pipe, mem, load))
    return {"cache_in_memory": cache, "batch_size": bs, "train_clips": len(ds), "epochs": epochs,
            "epoch_seconds": {"pipeline": pipe, "in_memory": mem, "loading_only": load},
            "pipeline_samples_per_s": n / pipe_s, "in_memory_samples_per_s": n / mem_s,
            "loading_only_samples_per_s": n / load_s,
            # share of a pipeline step not spent in the model: what the loader adds on top
            "loading_share_of_step": max(0.0, 1 - mem_s / pipe_s),
            "loading_only_share": load_s / (load_s + mem_s)}


def one_input_type(paths: dict, input_type: str, steps: int) -> dict:
    """Run in a child process: peak RSS belongs to this input type alone."""
    import psutil

    rss_start = psutil.Process().memory_info().rss / 2**20
    cfg = config(paths, input_type)
    data = training_data(cfg)
    ds, bs = data.datasets["train"], int(cfg["training"]["batch_size"])
    model = build_model(cfg, data)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    criterion = torch.nn.CrossEntropyLoss()
    rss_data = psutil.Process().memory_info().rss / 2**20
    batches = iter(make_loader(ds, bs, True, 0, 1, 0))
    train_steps(model, [next(batches)], optimizer, criterion)  # warm-up
    done, samples, seconds = 0, 0, 0.0
    for batch in batches:
        s, n = train_steps(model, [batch], optimizer, criterion)
        seconds, samples, done = seconds + s, samples + n, done + 1
        if done >= steps:
            break
    return {"input_type": input_type, "parameters": parameter_count(model), "train_clips": len(ds),
            "frame_shape": list(ds[0][0].shape), "steps": done, "samples_per_s": samples / seconds,
            "rss_start_mb": rss_start, "rss_after_data_mb": rss_data, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-class", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per input type")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 = torch default)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = prepare(args.clips_per_class)
    if args.child:
        print(json.dumps(one_input_type(paths, args.child, args.steps)))
        return 0

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), data in {WORK}")
    print("\n1. pose input: real pipeline vs the same batches already in memory (baseline, same run)")
    results = [pipeline_vs_memory(paths, args.epochs, cache) for cache in (True, False)]
    for r in results:
        print(f"  cache_in_memory={r['cache_in_memory']!s:5}  batch {r['batch_size']}, {r['train_clips']} clips x "
              f"{r['epochs']} epochs:  pipeline {r['pipeline_samples_per_s']:7.0f} samples/s   in memory "
              f"{r['in_memory_samples_per_s']:7.0f} samples/s   ratio {r['pipeline_samples_per_s'] / r['in_memory_samples_per_s']:.2f}"
              f"   loading share of step {100 * r['loading_share_of_step']:.1f}%  (loader alone: "
              f"{r['loading_only_samples_per_s']:.0f} samples/s = {100 * r['loading_only_share']:.1f}% of load+step)"
              f"   target < 20%: {'met' if r['loading_only_share'] < 0.2 else 'NOT met'}")

    print("\n2. per input type, each in a fresh process (configured batch size)")
    rows = []
    for input_type in ("pose", "features", "video"):
        out = subprocess.run([sys.executable, __file__, "--child", input_type, "--steps", str(args.steps),
                              "--clips-per-class", str(args.clips_per_class), "--threads", str(args.threads)],
                             capture_output=True, text=True, cwd=REPO)
        if out.returncode:
            print(f"  {input_type}: FAILED\n{out.stderr[-2000:]}")
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in rows:
        print(f"  {r['input_type']:8}  {r['parameters']:>9,} parameters   frame {str(tuple(r['frame_shape'])):16}  "
              f"{r['samples_per_s']:8.1f} samples/s   RSS: start {r['rss_start_mb']:4.0f} MB, with data+model "
              f"{r['rss_after_data_mb']:4.0f} MB, "
              f"peak {r['peak_rss_mb']:4.0f} MB   ({r['train_clips']} train clips, {r['steps']} timed steps)")
    if rows:
        base = next((r for r in rows if r["input_type"] == "pose"), rows[0])
        print("  speed relative to pose: " + ", ".join(
            f"{r['input_type']} {r['samples_per_s'] / base['samples_per_s']:.2f}x" for r in rows))
    (WORK / "results.json").write_text(json.dumps({"pipeline": results, "input_types": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
