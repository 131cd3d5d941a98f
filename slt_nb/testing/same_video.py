"""One real signing video through two estimators, laid out as two corpora.

`data/realdata/openpose_poseformat_sample/json` is OpenPose on a 1280x720, 24 fps video (9
frames); `data/realdata/mediapipe_npy/poseformat_sample_video` is MediaPipe Holistic on the same
video. The first becomes a How2Sign tree (flat download layout, realigned CSV), the second an
LSFB-CONT tree (one session .npy per body part, one sentence window over the whole video).
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
OPENPOSE = REPO / "data" / "realdata" / "openpose_poseformat_sample" / "json"
MEDIAPIPE = REPO / "data" / "realdata" / "mediapipe_npy" / "poseformat_sample_video"
CLIP = "sample_0-1-rgb_front"
SESSION = "SAMPLE_S001"
WIDTH, HEIGHT, FPS, FRAMES = 1280, 720, 24, 9


def how2sign_same_video(root: Path, split: str = "train") -> Path:
    folder = root / split / "openpose_output" / "json" / CLIP
    folder.mkdir(parents=True)
    for i, frame in enumerate(sorted(OPENPOSE.glob("*.json"))):
        shutil.copy(frame, folder / f"{CLIP}_{i:012d}_keypoints.json")
    with open(root / f"how2sign_realigned_{split}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE"])
        w.writerow(["sample", "sample-1-rgb_front", "sample_0", CLIP, "0.00", "0.37", "the same signing video"])
    return root


def lsfb_same_video(root: Path, split: str = "train", drop_shoulders: bool = False) -> Path:
    for part in ("pose", "left_hand", "right_hand"):
        arr = np.load(MEDIAPIPE / f"{part}.npy")
        if drop_shoulders and part == "pose":
            arr = arr.copy()
            arr[:, 11:13] = np.nan  # MediaPipe's "not detected"
        (root / "poses" / part).mkdir(parents=True, exist_ok=True)
        np.save(root / "poses" / part / f"{SESSION}.npy", arr)
    end_ms = int(FRAMES * 1000 / FPS) - 1
    with open(root / "annotations.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "video_id", "start", "end", "split"])
        w.writerow([f"{SESSION}_0", "the same signing video", SESSION, 0, end_ms, split])
    return root


def how2sign_params(root: Path, out: Path, **options) -> dict:
    return {"dataset": "How2Sign", "reader": "how2sign", "data_root": str(root), "output_dir": str(out),
            "splits": ["train"], "frame_size": [WIDTH, HEIGHT], **options}


def lsfb_params(root: Path, out: Path, **options) -> dict:
    return {"dataset": "LSFB-CONT", "reader": "lsfb", "data_root": str(root), "output_dir": str(out),
            "splits": ["train"], "source_fps": FPS, "frame_size": [WIDTH, HEIGHT], **options}
