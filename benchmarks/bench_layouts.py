"""What layout detection and per-clip frame sizes cost when planning a How2Sign export.

    .venv/bin/python benchmarks/bench_layouts.py [--clips 300]

Builds an official-layout tree (one split, --clips keypoint folders of 2 frames each) twice:
without clip videos, and with a small real mp4 per clip in rgb_front/raw_videos. Plans the split
on each (best of 3 after a warm-up) and prints the planning time, the time per clip spent
reading video headers, and the ratio against the baseline measured in the same run: planning the
flat demo-style tree with an explicit keypoints_dir (no detection, no frame sizes), which is what
the reader did before layouts were detected.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slt_nb.datasets.how2sign import How2SignReader  # noqa: E402
from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree  # noqa: E402


def best_plan_seconds(reader: How2SignReader, split: str, repeats: int = 3) -> float:
    reader.plan(split)  # warm-up: directory listings in the page cache
    times = []
    for _ in range(repeats):
        fresh = How2SignReader(reader.data_root, keypoints_dir=reader.keypoints_dir)
        started = time.perf_counter()
        fresh.plan(split)
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain = [TreeClip(f"c{i:05d}_1-1-rgb_front", f"Sentence {i}.", frames=2) for i in range(args.clips)]
        videos = [TreeClip(c.name, c.text, frames=2, video_size=(1280, 720) if i % 2 else (1920, 1080))
                  for i, c in enumerate(plain)]
        flat = how2sign_tree(tmp / "flat", "flat", {"val": plain})
        official = how2sign_tree(tmp / "official" / "How2Sign", "official", {"val": plain})
        with_videos = how2sign_tree(tmp / "videos" / "How2Sign", "official", {"val": videos})
        baseline = best_plan_seconds(How2SignReader(str(flat), keypoints_dir="{data_root}/{split}/openpose_output/json"), "val")
        detected = best_plan_seconds(How2SignReader(str(official)), "val")
        headers = best_plan_seconds(How2SignReader(str(with_videos)), "val")
    n = args.clips
    print(f"{n} clips, one split")
    print(f"baseline: explicit keypoints_dir, configured size   {baseline * 1e3:8.1f} ms  ({baseline / n * 1e6:6.0f} us/clip)")
    print(f"official layout detected, no videos                 {detected * 1e3:8.1f} ms  ratio {detected / baseline:5.2f}x")
    print(f"official layout detected, frame size from headers   {headers * 1e3:8.1f} ms  ratio {headers / baseline:5.2f}x  "
          f"({(headers - detected) / n * 1e3:.2f} ms a video header)")
    print(f"projected for How2Sign train (31,048 clips): {(headers - detected) / n * 31048:.0f} s of header reads")


if __name__ == "__main__":
    main()
