"""How2Sign and LSFB-CONT trees laid out like the real downloads, for tests and the README check.

`how2sign_tree` writes keypoint folders made from real OpenPose frames (see `synth`) in one of
the layouts the reader detects, with realigned CSVs or one `annotations.csv`, and optionally clip
videos (tiny real mp4 files whose header gives the frame size). `lsfb_official_tree` writes the
lsfb-dataset 2.x layout: subtitles.json, metadata/splits, poses/<part>/<id>.npy.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.testing.synth import load_base, make_clip, write_clip

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "data" / "realdata"
REALIGNED_HEADER = ["VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE"]


@dataclass
class TreeClip:
    """One sentence of a test tree: its folder name, text, length and how its files look."""

    name: str
    text: str
    frames: int = 12
    naming: str = "how2sign"  # or "frame" (frame_000000_keypoints.json)
    poses: bool = True  # False: a CSV row with no keypoint folder
    row: bool = True  # False: a keypoint folder no CSV row names
    video_size: tuple[int, int] | None = None  # write rgb_front/raw_videos/<name>.mp4 of this size
    scale: float = 1.0  # multiply pixel coordinates (1.5 puts a 1280x720 pose on a 1920x1080 frame)


def real_base() -> dict[str, np.ndarray]:
    """The real OpenPose sequence every test clip is warped from."""
    return load_base(sorted(str(p) for p in (REAL / "openpose_poseformat_sample" / "json").glob("*.json")))


def _keypoints_dir(root: Path, layout: str, split: str) -> Path:
    return {
        "official": root / "sentence_level" / split / "rgb_front" / "features" / "openpose_output" / "json",
        "annotations-csv": root / "sentence_level" / split / "rgb_front" / "features" / "openpose_output" / "json",
        "flat": root / split / "openpose_output" / "json",
    }[layout]


def _video_dir(root: Path, layout: str, split: str) -> Path:
    if layout == "flat":
        return root / split / "raw_videos"
    return root / "sentence_level" / split / "rgb_front" / "raw_videos"


def how2sign_tree(root: str | os.PathLike, layout: str, splits: dict[str, list[TreeClip]]) -> Path:
    """Write a How2Sign tree in `layout` (official, annotations-csv or flat) holding only `splits`."""
    from slt_nb.formats.video import write_video

    root = Path(root)
    base = real_base()
    simple_rows = []
    for split, clips in splits.items():
        kp = _keypoints_dir(root, layout, split)
        kp.mkdir(parents=True, exist_ok=True)
        for clip in clips:
            if clip.poses:
                data = make_clip(base, clip.frames, clip.name)
                if clip.scale != 1.0:
                    for part in data.values():
                        part[..., :2] *= clip.scale
                write_clip(kp / clip.name, clip.name, data, naming=clip.naming)
            if clip.video_size:
                width, height = clip.video_size
                frames = (np.full((height, width, 3), 40 * k, dtype=np.uint8) for k in range(2))
                video_dir = _video_dir(root, layout, split)
                video_dir.mkdir(parents=True, exist_ok=True)
                write_video(video_dir / f"{clip.name}.mp4", frames, fps=24)
        rows = [c for c in clips if c.row]
        if layout == "annotations-csv":
            simple_rows += [(c.name, c.text, split) for c in rows]
            continue
        if layout == "official":
            csv_path = root / "sentence_level" / split / "text" / "en" / "raw_text" / "re_aligned" / f"how2sign_realigned_{split}.csv"
        else:
            csv_path = root / f"how2sign_realigned_{split}.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter="\t")
            w.writerow(REALIGNED_HEADER)
            for k, c in enumerate(rows):
                sentence_id = c.name.rsplit("-", 2)[0]
                video = sentence_id.rsplit("_", 1)[0]
                w.writerow([video, f"{video}-1-rgb_front", sentence_id, c.name, f"{k * 5:.2f}", f"{k * 5 + 4:.2f}", c.text])
    if layout == "annotations-csv":
        with open(root / "annotations.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "text", "split"])
            w.writerows(simple_rows)
    return root


def lsfb_official_tree(root: str | os.PathLike, sessions: dict[str, int], splits: dict[str, list[str]],
                       subtitles: dict[str, list[dict]]) -> Path:
    """Write the lsfb-dataset 2.x layout: `sessions` maps a session id to its number of frames."""
    root = Path(root)
    rng = np.random.default_rng(7)
    for session, frames in sessions.items():
        for part, points in (("pose", 33), ("left_hand", 21), ("right_hand", 21), ("face", 478)):
            d = root / "poses" / part
            d.mkdir(parents=True, exist_ok=True)
            np.save(d / f"{session}.npy", rng.random((frames, points, 3)).astype(np.float16))
    (root / "metadata" / "splits").mkdir(parents=True, exist_ok=True)
    for split, ids in splits.items():
        (root / "metadata" / "splits" / f"{split}.json").write_text(json.dumps(ids))
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "subtitles.json").write_text(json.dumps(subtitles, ensure_ascii=False))
    return root
