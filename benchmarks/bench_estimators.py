"""Pose estimators side by side: frames/s and agreement, every entry of ESTIMATORS on the real video.

    .venv/bin/python benchmarks/bench_estimators.py [--repeats 3] [--num-frames 16]

The 58-frame 1280x720 signing clip in data/realdata/video_signing, in both modes: "sampled"
(num_frames frames, each on its own) and "tracking" (every frame in order). Baseline, measured
in the same run: legacy MediaPipe Holistic ("holistic"). The Tasks HolisticLandmarker runs on
the stand-in bundle built from the wheel's legacy models (slt_nb.testing.landmarker_bundle),
so its speed is the Tasks graph's with those models, not the official bundle's.
Agreement: median |dx, dy| of shoulders, elbows and wrists against the reference arrays in
data/realdata/mediapipe_npy (legacy Holistic in tracking mode), and the share of sampled frames
whose per-part detected flags equal the baseline's. Model loading is timed apart from the clip:
a worker builds its estimator once and then runs many clips.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slt_nb.extract import build_estimator, load_estimators  # noqa: E402
from slt_nb.testing.landmarker_bundle import build_holistic_bundle  # noqa: E402

VIDEO = REPO / "data" / "realdata" / "video_signing" / "test_video.mp4"
REFERENCE = REPO / "data" / "realdata" / "mediapipe_npy" / "test_video" / "pose.npy"
WORK = REPO / "benchmarks" / "_work"
BASELINE = "holistic"


def options_for(name: str, mode: str) -> dict:
    if name == "holistic_landmarker":
        return {"holistic_mode": mode, "model_path": build_holistic_bundle(WORK / "holistic_landmarker.task")}
    return {"holistic_mode": mode}


def measure(name: str, mode: str, num_frames: int, repeats: int) -> dict:
    started = time.perf_counter()
    estimator = build_estimator(name, options_for(name, mode))
    first = estimator.extract(VIDEO, num_frames=num_frames)  # sampled mode loads its model here
    load_and_first = time.perf_counter() - started
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        poses = estimator.extract(VIDEO, num_frames=num_frames)
        best = min(best, time.perf_counter() - t0)
    estimator.close()
    idx = poses.arrays["frame_indices"]
    reference = np.load(REFERENCE)[idx]
    upper = slice(11, 17)
    err = np.abs(poses.arrays["pose"][:, upper, :2] - reference[:, upper, :2])
    return {"estimator": name, "mode": mode, "seconds": best, "first": load_and_first,
            "frames/s": poses.inferred_frames / best, "median_err": float(np.median(err)),
            "arrays": first.arrays, "parts": estimator.parts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--num-frames", type=int, default=16)
    args = ap.parse_args(argv)
    names = sorted(load_estimators(), key=lambda n: (n != BASELINE, n))
    print(f"{'estimator':22} {'mode':9} {'clip s':>7} {'x base':>7} {'frames/s':>9} {'load+1st s':>10} "
          f"{'median err':>10} {'flags = base':>12}")
    for mode in ("sampled", "tracking"):
        base = None
        for name in names:
            r = measure(name, mode, args.num_frames, args.repeats)
            if name == BASELINE:
                base = r
            same = np.mean(np.all([r["arrays"][p.flag] == base["arrays"][p.flag] for p in r["parts"]], axis=0))
            print(f"{name:22} {mode:9} {r['seconds']:7.2f} {r['seconds'] / base['seconds']:7.2f} "
                  f"{r['frames/s']:9.1f} {r['first']:10.2f} {r['median_err']:10.4f} {same:12.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
