"""A `.pami0` set made outside slt-nb, as Signformer's users make one, from real MediaPipe output.

The 1024-feature PHOENIX-2014T / GSL / LSA-T sets hold MediaPipe Holistic points in the columns
`params/layouts/holistic-512.yaml` declares: pose 0-16, face mesh 15-467, left hand, right hand,
x and y interleaved, an undetected point 0. `holistic_512_rows` builds those rows from the
MediaPipe arrays of the real demo videos (`data/realdata/mediapipe_npy/<video>/`: pose (T, 33, 3),
face (T, 478, 3), hands (T, 21, 3), NaN where not detected) with plain numpy slicing, not
slt-nb's layout code, so a test comparing what slt-nb reads with these rows checks that code
against an independent construction. The rows are brought to 25 fps (PHOENIX's rate) by
taking the nearest source frame, as a user's own script would.

`write_plain` writes a split the way those sets are written: `gzip.open(path, "wb")` and one
`pickle.dump` of the list of sample dicts, `sign` a float32 torch tensor (T, 1024).
"""
from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MEDIAPIPE = REPO / "data" / "realdata" / "mediapipe_npy"
VIDEOS = ("test_video", "poseformat_sample_video")
SET_FPS = 25.0
SIGNER = "signer01"
TEXTS = {"test_video": "she signs with her right hand", "poseformat_sample_video": "he signs a short word"}
GLOSSES = {"test_video": "SIGN RIGHT HAND", "poseformat_sample_video": "SIGN WORD"}


def video_fps(video: str) -> float:
    return float(json.loads((MEDIAPIPE / video / "meta.json").read_text())["fps"])


def holistic_512_rows(video: str, fps: float | None = SET_FPS) -> np.ndarray:
    """(T, 1024) float32: pose 0-16, face 15-467, left hand, right hand, x,y; NaN -> 0; at `fps`
    by the nearest source frame (None: the video's own frames)."""
    folder = MEDIAPIPE / video
    pose, face = np.load(folder / "pose.npy"), np.load(folder / "face.npy")
    left, right = np.load(folder / "left_hand.npy"), np.load(folder / "right_hand.npy")
    points = np.concatenate([pose[:, :17, :2], face[:, 15:468, :2], left[:, :, :2], right[:, :, :2]], axis=1)
    rows = np.nan_to_num(points, nan=0.0).reshape(len(points), -1).astype(np.float32)
    if fps is None:
        return rows
    source = video_fps(video)
    count = int((len(rows) - 1) * fps / source) + 1
    nearest = np.minimum(np.rint(np.arange(count) * source / fps).astype(int), len(rows) - 1)
    return rows[nearest]


def sample(name: str, rows: np.ndarray, text: str, gloss: str = "", signer: str = SIGNER) -> dict:
    import torch

    return {"name": name, "signer": signer, "gloss": gloss, "text": text, "sign": torch.from_numpy(rows.copy())}


def write_plain(path: str | Path, samples: list[dict]) -> Path:
    """One split file as Signformer's users write it: gzip.open + one pickle.dump of the list."""
    path = Path(path)
    with gzip.open(path, "wb") as f:
        pickle.dump(samples, f)
    return path


def demo_samples(split: str) -> list[dict]:
    """dev: each demo video whole; train: the first video cut in two halves, and the second whole."""
    out = []
    for video in VIDEOS:
        rows = holistic_512_rows(video)
        if split == "train" and video == "test_video":
            half = len(rows) // 2
            out += [sample(f"train/{video}_a", rows[:half], TEXTS[video], GLOSSES[video]),
                    sample(f"train/{video}_b", rows[half:], TEXTS[video], GLOSSES[video])]
        else:
            out.append(sample(f"{split}/{video}", rows, TEXTS[video], GLOSSES[video]))
    return out


def write_demo_set(folder: str | Path, stem: str = "demo512") -> dict[str, list[Path]]:
    """`{stem}.pami0.dev` as one whole file, `{stem}.pami0.train.part0` / `.part1` as two parts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dev = write_plain(folder / f"{stem}.pami0.dev", demo_samples("dev"))
    train = demo_samples("train")
    parts = [write_plain(folder / f"{stem}.pami0.train.part0", train[:2]),
             write_plain(folder / f"{stem}.pami0.train.part1", train[2:])]
    return {"dev": [dev], "train": parts}


DECLARED = {"layout": "holistic-512", "fps": SET_FPS, "normalize": "frame"}  # what the demo set is


def holistic_exports(out: str | Path, datasets=("PoseFormat", "How2Sign"), **options) -> dict[str, Path]:
    """The demo corpora exported through slt-nb into holistic-512 (`-p feature_layout holistic-512`),
    the layout of the foreign set; their manifests by dataset."""
    from slt_nb.export.parameters import load_export_params
    from slt_nb.export.run import run_export

    out = Path(out)
    manifests = {}
    for name in datasets:
        run_export(load_export_params(name, {"output_dir": str(out), "feature_layout": "holistic-512", **options}))
        manifests[name] = out / f"{name}-1024.manifest.json"
    return manifests
