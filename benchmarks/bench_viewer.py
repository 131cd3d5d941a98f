"""How fast the live viewer redraws a frame, against drawing a new figure per frame as it used to.

    .venv/bin/python benchmarks/bench_viewer.py [--dataset How2Sign --split val --clip 0 --frames 0]

For a demo clip (How2Sign: OpenPose body, hands and face at 24 fps; LSFB-CONT: MediaPipe pose and
hands at 50 fps) it prints, in the same run and on the same frames:

- old: a new `frame_figure` per frame saved with `figure_png` (the viewer's path before);
- new: `ClipViewer.draw`, the image widget's value included (`FrameRenderer`: kept figures whose
  artists are moved, PNG from the canvas), after its first frame, which also makes the figure;

with the clip's own frame rate, the rate the viewer's play button is set to, and how many of the
sampled frames the new path draws pixel for pixel as the old one does.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from slt_nb.inspection import ClipViewer, open_source, pick_clip  # noqa: E402


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def bench(dataset: str, split: str, clip: str, frames: int) -> None:
    source = open_source(dataset, with_face=True)
    ref = pick_clip(source, split, clip)
    started = time.perf_counter()
    viewer = ClipViewer(source, split, ref)
    opened = time.perf_counter() - started
    c = viewer.clip
    count = len(c.frames) if frames <= 0 else min(frames, len(c.frames))
    indices = list(range(count))

    started = time.perf_counter()
    old = [viewer.renderer.fresh_png(i, viewer.title(i)) for i in indices]
    old_fps = count / (time.perf_counter() - started)

    started = time.perf_counter()
    for i in indices:
        viewer.draw(i)
    new_fps = count / (time.perf_counter() - started)

    sample = indices[:: max(1, count // 12)]
    same = sum(np.array_equal(pixels(viewer.renderer.png(i, viewer.title(i))), pixels(old[i])) for i in sample)
    print(f"{source.name} {split}/{c.name}: {len(c.frames)} frames at {c.fps:g} fps, {c.layout.name} "
          f"({c.layout.width // 2} points), {count} frames drawn each way")
    print(f"  old, a new figure per frame: {old_fps:6.1f} frames/s ({1000 / old_fps:.0f} ms a frame)")
    print(f"  new, ClipViewer.draw:        {new_fps:6.1f} frames/s ({1000 / new_fps:.0f} ms a frame), "
          f"{new_fps / old_fps:.1f}x; opening the clip (load, figure, first frames) {opened * 1000:.0f} ms")
    print(f"  clip rate {c.fps:g} fps: {'reached' if new_fps >= c.fps else 'not reached'}; "
          f"play interval {viewer.play.interval} ms ({viewer.rate.value.replace('&#x27;', chr(39))})")
    print(f"  figures kept {len(viewer.renderer._templates)}, frames drawn the old way by the new path "
          f"{viewer.renderer.plain_frames}; identical pixels in {same} of {len(sample)} sampled frames")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", help="params name or path (default: How2Sign and LSFB-CONT)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--clip", default="0", help="clip name or index in the split")
    parser.add_argument("--frames", type=int, default=0, help="frames to draw each way (0: the whole clip)")
    args = parser.parse_args(argv)
    for dataset in args.dataset or ["How2Sign", "LSFB-CONT"]:
        bench(dataset, args.split, args.clip, args.frames)


if __name__ == "__main__":
    main()
