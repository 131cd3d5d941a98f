"""WLASL extraction speed: sampled-frame decoding against decoding every frame, and videos/s.

    .venv/bin/python benchmarks/bench_extract.py [--repeats 3] [--skip-end-to-end]

1. Decoding: a generated 300-frame 1280x720 H.264 clip (libx264 defaults, B-frames on), made from
   the real 1280x720 signing video in data/realdata (its 9 frames played back and forth with a
   slow pan, so the encoder sees real texture and motion). Baselines, measured in the same run:
   decode every frame to RGB and then pick the sampled ones, with PyAV and with OpenCV
   (cv2.VideoCapture read loop, the usual WLASL script). Target: sampled >= 3x faster than PyAV's.
2. End to end: the demo WLASL set (8 readable videos, 1 missing, 1 truncated) through
   run_extraction, poses and features, workers=1 and workers=2 (fresh output folder each time).
Timings are the best of `--repeats` runs; the machine is shared, so compare ratios, not seconds.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slt_nb.formats.video import iter_frames, sample_clip, sample_frame_indices, write_video  # noqa: E402

WORK = REPO / "benchmarks" / "_work"
NUM_FRAMES = 16


def bench_clip() -> Path:
    path = WORK / "clip_300_1280x720.mp4"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    real = [f for _, f in iter_frames(REPO / "data/realdata/openpose_poseformat_sample/video.mp4")]
    bounce = real + real[-2:0:-1]  # 0..8..1, 16 frames

    def frames():
        for i in range(300):
            yield np.roll(bounce[i % len(bounce)], int(40 * np.sin(i / 20)), axis=1)

    return write_video(path, frames(), fps=24)


def decode_all_pyav(path):
    every = [f for _, f in iter_frames(path)]
    return [every[i] for i in sample_frame_indices(len(every), NUM_FRAMES)]


def decode_all_opencv(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    every = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        every.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return [every[i] for i in sample_frame_indices(len(every), NUM_FRAMES)]


def decode_sampled(path):
    return list(sample_clip(path, NUM_FRAMES).frames)


def bench_decoding(repeats: int) -> None:
    path = bench_clip()
    methods = {"sampled": decode_sampled, "pyav": decode_all_pyav, "opencv": decode_all_opencv}
    best = {name: float("inf") for name in methods}
    out = {}
    for _ in range(repeats):  # interleaved, so load from other processes hits all methods alike
        for name, fn in methods.items():
            t = time.perf_counter()
            out[name] = fn(path)
            best[name] = min(best[name], time.perf_counter() - t)
    sampled_t, pyav_t, cv_t = best["sampled"], best["pyav"], best["opencv"]
    sampled, pyav = out["sampled"], out["pyav"]
    same = all(np.array_equal(a, b) for a, b in zip(sampled, pyav))
    decoded = sample_clip(path, NUM_FRAMES).decoded_frames
    print(f"decoding {NUM_FRAMES} of 300 frames, 1280x720 H.264 ({path.stat().st_size / 1e6:.2f} MB), best of {repeats}:")
    print(f"  baseline: decode every frame, PyAV     {pyav_t:7.3f} s")
    print(f"  baseline: decode every frame, OpenCV   {cv_t:7.3f} s")
    print(f"  sampled (sample_clip)                  {sampled_t:7.3f} s   decoder produced {decoded} of 300 frames")
    print(f"  speed-up vs PyAV every frame:  {pyav_t / sampled_t:.2f}x   (target >= 3x)")
    print(f"  speed-up vs OpenCV every frame: {cv_t / sampled_t:.2f}x")
    print(f"  sampled frames identical to the full decode's: {same}")


def bench_end_to_end() -> None:
    from slt_nb.extract.run import run_extraction

    demo = REPO / "data/demo/WLASL"
    print("end to end on data/demo/WLASL (8 readable videos):")
    for kind in ("features", "poses"):
        for workers in (1, 2):
            out = WORK / f"{kind}-w{workers}"
            shutil.rmtree(out, ignore_errors=True)
            report = run_extraction(kind, demo / "WLASL_v0.3.json", demo / "videos", out,
                                    class_list=demo / "wlasl_class_list.txt", workers=workers, embed_dim=128)
            inferred = int(report.videos["inferred_frames"].sum())
            print(f"  {kind:8s} workers={workers}: {len(report.videos)} videos in {report.seconds:6.2f} s = "
                  f"{report.videos_per_second:.3f} videos/s, {inferred / report.seconds:.1f} model frames/s, "
                  f"skipped {len(report.skipped)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-end-to-end", action="store_true")
    args = parser.parse_args()
    bench_decoding(args.repeats)
    if not args.skip_end_to_end:
        bench_end_to_end()


if __name__ == "__main__":
    main()
