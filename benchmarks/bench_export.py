"""Export benchmark: slt_nb against a naive baseline written the way the old scripts worked.

    .venv/bin/python benchmarks/bench_export.py [--frames 50000] [--scale 10] [--keep]

1. Generates a How2Sign-like tree (realigned CSV + per-frame OpenPose JSON made from the real
   frames in data/realdata by slt_nb.testing.synth) of at least --frames frames.
2. Exports its train split with slt_nb and with the baseline (per-frame json.load, Python lists,
   padding by list concatenation, torch.tensor, every sample held in memory, one gzip+pickle
   write at the end), each in a fresh process so peak RSS is that exporter's own.
3. Repeats slt_nb on a tree --scale times larger and reports how its peak RSS grew.
4. Issue 3: augmented export (3 texts per clip) time over plain export time; workers=2 over
   workers=1; LSFB-CONT peak RSS when the session videos grow 10x longer (same sentences).
Prints frames/s, ratio and peak RSS. Targets: >= 4x the baseline's frames/s in one process;
slt_nb's peak RSS grows < 15% when the tree grows 10x; augmented <= 1.3x plain; workers=2
>= 1.7x workers=1 on 2 cores; LSFB peak RSS flat (within 15%) for 10x longer sessions.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CLIP_FRAMES = 200  # How2Sign's median clip is about 5 s at 24 fps
TEMPLATES = 24


def build_tree(root: Path, frames: int) -> int:
    """A How2Sign-layout train split with ceil(frames / CLIP_FRAMES) clips; returns frame count."""
    from slt_nb.testing.synth import frame_document, load_base, make_clip
    import orjson

    real = REPO / "data" / "realdata"
    base = load_base(sorted(str(p) for p in (real / "openpose_poseformat_sample" / "json").glob("*.json")))
    # A few distinct clips serialised once, then written under every clip's own names: the
    # reader's work per frame is the same as for unique data, and generation stays quick.
    templates = []
    for k in range(TEMPLATES):
        clip = make_clip(base, CLIP_FRAMES, f"template{k}")
        templates.append([orjson.dumps(frame_document(clip, i)) for i in range(CLIP_FRAMES)])
    clips = -(-frames // CLIP_FRAMES)
    json_root = root / "train" / "openpose_output" / "json"
    lines = ["VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"]
    for c in range(clips):
        name = f"bench{c:06d}_0-1-rgb_front"
        d = json_root / name
        d.mkdir(parents=True)
        for i, data in enumerate(templates[c % TEMPLATES]):
            with open(d / f"{name}_{i:012d}_keypoints.json", "wb") as f:
                f.write(data)
        lines.append(f"bench{c:06d}\tbench{c:06d}-1-rgb_front\tbench{c:06d}_0\t{name}\t0.0\t8.33\tsentence number {c}")
    (root / "how2sign_realigned_train.csv").write_text("\n".join(lines) + "\n")
    return clips * CLIP_FRAMES


# ---- the baseline, as the old scripts did it ---------------------------------------------

def naive_export(root: Path, out: Path) -> int:
    import csv

    import torch

    samples = []
    with open(root / "how2sign_realigned_train.csv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    frames = 0
    for row in rows:
        clip_dir = root / "train" / "openpose_output" / "json" / row["SENTENCE_NAME"]
        seq = []
        for path in sorted(os.listdir(clip_dir)):
            with open(clip_dir / path) as jf:
                doc = json.load(jf)
            person = doc["people"][0]
            feats = []
            for key in ("pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"):
                values = person[key]
                for j in range(0, len(values), 3):
                    feats += [values[j] / 1280.0, values[j + 1] / 720.0]
            seq.append(feats + [0.0] * (1024 - len(feats)))
        frames += len(seq)
        samples.append({"name": row["SENTENCE_NAME"], "signer": "", "gloss": "", "text": row["SENTENCE"],
                        "sign": torch.tensor(seq, dtype=torch.float32)})
    with gzip.open(out / "naive.pami0.train", "wb") as f:
        pickle.dump(samples, f)
    return frames


def slt_nb_export(root: Path, out: Path, workers: int = 1, kind: str = "slt_nb", chunk_size: int = 100) -> int:
    from slt_nb.export.pipeline import ExportOptions, export_split
    from slt_nb.datasets.how2sign import How2SignReader
    from slt_nb.datasets.lsfb import LSFBReader

    if kind == "lsfb":
        reader = LSFBReader(str(root))
    elif kind == "slt_nb_aug":
        reader = How2SignReader(str(root), augmented="{data_root}/train_aug.tsv", variant="aug")
    else:
        reader = How2SignReader(str(root))
    entry = export_split(reader, "train", ExportOptions(str(out), chunk_size=chunk_size), workers=workers)
    return entry["frames"]


def add_augmented(root: Path, texts: int = 3) -> None:
    """train_aug.tsv with `texts` texts for every clip of the tree's realigned train CSV."""
    lines = (root / "how2sign_realigned_train.csv").read_text().splitlines()[1:]
    out = ["id\ttext"]
    for line in lines:
        f = line.split("\t")
        out += [f"{f[3]}\t{f[6]} (paraphrase {k})" for k in range(texts)]
    (root / "train_aug.tsv").write_text("\n".join(out) + "\n")


def build_lsfb(root: Path, sentences: int, session_seconds: float, sessions: int = 4) -> int:
    """LSFB-CONT layout: `sessions` float16 session videos at 50 fps of `session_seconds` each,
    with `sentences` 4-second sentences spread over the first 10 minutes of them."""
    import numpy as np

    real = REPO / "data" / "realdata" / "mediapipe_npy" / "test_video"
    src = {p: np.load(real / f"{p}.npy") for p in ("pose", "left_hand", "right_hand")}
    total = int(session_seconds * 50)
    for p, a in src.items():
        (root / "poses" / p).mkdir(parents=True, exist_ok=True)
        reps = -(-total // a.shape[0])
        session = np.tile(a, (reps, 1, 1))[:total].astype(np.float16)
        for k in range(sessions):
            np.save(root / "poses" / p / f"session{k}.npy", session)
    rows = ["id,text,video_id,start,end,split"]
    per = sentences // sessions
    for k in range(sessions):
        for i in range(per):
            start = (i * 4500) % 600_000
            rows.append(f"s{k}_{i},phrase {i},session{k},{start},{start + 4000},train")
    (root / "annotations.csv").write_text("\n".join(rows) + "\n")
    return per * sessions * 200


def run_one(kind: str, root: str, workers: int, chunk_size: int = 100) -> None:
    """Child process: import, export, print one JSON line with time and peak RSS."""
    import torch  # noqa: F401  (both exporters need it; keep import time out of the timing)

    out = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    try:
        started = time.perf_counter()
        frames = naive_export(Path(root), out) if kind == "naive" else slt_nb_export(Path(root), out, workers, kind, chunk_size)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB on Linux
    if workers > 1:
        peak += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "frames": frames, "seconds": seconds, "peak_mb": peak, "bytes": size}))


def measure(kind: str, root: Path, workers: int = 1, repeats: int = 1, chunk_size: int = 100) -> dict:
    """Best of `repeats` runs, each in a fresh process (other load on the machine only slows a run)."""
    best = None
    for _ in range(repeats):
        cmd = [sys.executable, __file__, "--child", kind, "--tree", str(root), "--workers", str(workers),
               "--chunk-size", str(chunk_size)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    return best


def drop_caches_hint(root: Path) -> None:
    # Read the tree once so neither exporter pays for a cold page cache the other does not.
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                f.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=50_000)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    ap.add_argument("--repeats", type=int, default=3, help="runs per exporter on tree 1; the best counts")
    ap.add_argument("--child")
    ap.add_argument("--tree")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--chunk-size", type=int, default=100)
    args = ap.parse_args()
    if args.child:
        run_one(args.child, args.tree, args.workers, args.chunk_size)
        return

    work = Path(tempfile.mkdtemp(prefix="slt-nb-bench-"))
    try:
        small, large = work / "small", work / "large"
        t0 = time.perf_counter()
        n_small = build_tree(small, args.frames)
        print(f"tree 1: {n_small} frames in {n_small // CLIP_FRAMES} clips, generated in {time.perf_counter() - t0:.0f} s")
        drop_caches_hint(small)
        naive = measure("naive", small, repeats=args.repeats)
        ours = measure("slt_nb", small, repeats=args.repeats)
        ratio = (ours["frames"] / ours["seconds"]) / (naive["frames"] / naive["seconds"])
        print(f"{'exporter':<10}{'frames':>9}{'seconds':>9}{'frames/s':>10}{'peak RSS MB':>13}{'output MB':>11}")
        for r in (naive, ours):
            print(f"{r['kind']:<10}{r['frames']:>9}{r['seconds']:>9.1f}{r['frames'] / r['seconds']:>10.0f}"
                  f"{r['peak_mb']:>13.0f}{r['bytes'] / 1e6:>11.1f}")
        print(f"speed-up slt_nb / naive: {ratio:.1f}x (target >= 4x)")
        print(f"peak RSS naive / slt_nb: {naive['peak_mb'] / ours['peak_mb']:.1f}x")

        if args.scale > 1:
            t0 = time.perf_counter()
            n_large = build_tree(large, args.frames * args.scale)
            print(f"tree 2: {n_large} frames ({args.scale}x), generated in {time.perf_counter() - t0:.0f} s")
            drop_caches_hint(large)
            big = measure("slt_nb", large, repeats=1)
            growth = big["peak_mb"] / ours["peak_mb"] - 1
            print(f"slt_nb on tree 2: {big['frames'] / big['seconds']:.0f} frames/s, peak RSS {big['peak_mb']:.0f} MB "
                  f"(tree 1: {ours['peak_mb']:.0f} MB): growth {growth * 100:+.1f}% (target < 15%)")

        # ---- issue 3 ----
        add_augmented(small, texts=3)
        aug = measure("slt_nb_aug", small, repeats=args.repeats)
        print(f"augmented (3 texts/clip): {aug['seconds']:.2f} s vs plain {ours['seconds']:.2f} s: "
              f"{aug['seconds'] / ours['seconds']:.2f}x the plain time for 3x the samples (target <= 1.3x)")
        # Shards own whole parts, so the comparison uses enough parts to share (chunk_size 20).
        one = measure("slt_nb", small, workers=1, repeats=args.repeats, chunk_size=20)
        two = measure("slt_nb", small, workers=2, repeats=args.repeats, chunk_size=20)
        print(f"workers=2: {two['frames'] / two['seconds']:.0f} frames/s vs workers=1 {one['frames'] / one['seconds']:.0f} "
              f"(chunk_size 20): speed-up {one['seconds'] / two['seconds']:.2f}x on {os.cpu_count()} cores (target >= 1.7x); "
              f"peak RSS with workers {two['peak_mb']:.0f} MB")
        lsfb_short, lsfb_long = work / "lsfb-short", work / "lsfb-long"
        build_lsfb(lsfb_short, 400, session_seconds=12 * 60)
        build_lsfb(lsfb_long, 400, session_seconds=120 * 60)
        short = measure("lsfb", lsfb_short, repeats=1)
        long_ = measure("lsfb", lsfb_long, repeats=1)
        size = lambda d: sum(f.stat().st_size for f in (d / "poses").rglob("*.npy")) / 1e6  # noqa: E731
        print(f"LSFB-CONT 400 sentences: sessions of 12 min ({size(lsfb_short):.0f} MB of .npy) peak RSS "
              f"{short['peak_mb']:.0f} MB, {short['frames'] / short['seconds']:.0f} frames/s; sessions of 120 min "
              f"({size(lsfb_long):.0f} MB) peak RSS {long_['peak_mb']:.0f} MB: "
              f"{(long_['peak_mb'] / short['peak_mb'] - 1) * 100:+.1f}% (target within 15%)")
    finally:
        if args.keep:
            print(f"trees kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
