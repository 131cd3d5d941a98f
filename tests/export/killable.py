"""A run to kill: an export or an extraction in its own process, announcing its progress on stdout.

Used by test_resume.py, which starts it with `python killable.py ...`, watches what it prints
and `kill -9`s it at chosen moments. The readers here are the real ones with a pause and a
line of output around each unit of work, so the test can hit a moment (inside a part write,
between parts, inside the publish) instead of guessing a time.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.testing.synth import load_base, make_clip, write_clip


class AnnouncingReader(How2SignReader):
    """How2SignReader that prints `read <clip>` and pauses after each clip, while the part is open."""

    def __init__(self, root: str, pause: float = 0.0):
        super().__init__(root)
        self.pause = pause

    def read(self, item):
        clip = super().read(item)
        print(f"read {item.clip}", flush=True)
        time.sleep(self.pause)
        return clip


def build_how2sign_tree(root: Path, real: Path, clips: int = 12, frames: int = 12) -> None:
    """A realigned-CSV How2Sign train split made from real OpenPose frames."""
    base = load_base(sorted(str(p) for p in (real / "openpose_poseformat_sample" / "json").glob("*.json")))
    json_root = root / "train" / "openpose_output" / "json"
    lines = ["VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE"]
    for c in range(clips):
        name = f"kill{c:03d}_0-1-rgb_front"
        write_clip(json_root / name, name, make_clip(base, frames + c, name))
        lines.append(f"kill{c:03d}\tkill{c:03d}-1-rgb_front\tkill{c:03d}_0\t{name}\t0.0\t1.0\tsentence number {c}")
    (root / "how2sign_realigned_train.csv").write_text("\n".join(lines) + "\n")


def export(args) -> None:
    from slt_nb.export.pipeline import ExportOptions, export_split
    import slt_nb.journal as journal

    if args.publish_pause:
        checked = journal._checked

        def announced(write, path, *rest):
            print(f"publish {Path(path).name}", flush=True)
            time.sleep(args.publish_pause)
            return checked(write, path, *rest)

        journal._checked = announced
    entry = export_split(AnnouncingReader(args.tree, args.pause), "train",
                         ExportOptions(args.out, chunk_size=args.chunk_size), workers=args.workers)
    print("done " + json.dumps({"reads": entry["reads"], "resumed_parts": entry["resumed_parts"]}), flush=True)


def extract(args) -> None:
    import slt_nb.extract.run as run

    original = run.extract_video

    def announced(job, settings, output_dir):
        row = original(job, settings, output_dir)
        print(f"extracted {job.video.video_id}", flush=True)
        time.sleep(args.pause)
        return row

    run.extract_video = announced
    wlasl = Path(args.tree)
    report = run.run_extraction("features", wlasl / "WLASL_v0.3.json", wlasl / "videos", args.out,
                                class_list=wlasl / "wlasl_class_list.txt", embed_dim=16, workers=args.workers,
                                batch_videos=2)
    print("done " + json.dumps(report.counts), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["export", "extract"])
    ap.add_argument("tree")
    ap.add_argument("out")
    ap.add_argument("--chunk-size", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--pause", type=float, default=0.0)
    ap.add_argument("--publish-pause", type=float, default=0.0)
    args = ap.parse_args()
    (export if args.kind == "export" else extract)(args)
    sys.exit(0)
