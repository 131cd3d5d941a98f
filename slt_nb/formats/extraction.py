"""The extraction output contract: one `.npz` per video plus `index.csv` and `skipped.csv`.

Pose extractions store, per body part of the estimator's layout, `<part>` (F, points, channels)
and `<part>_detected` (F,), plus `frame_indices` (F,). The parts of MediaPipe Holistic, the
first estimator, are `HOLISTIC_PARTS`; their shapes come from the skeletons in `layouts`, so
writers (extraction, synthetic tasks), checkers (training) and readers (inspection) agree.
Feature extractions store `features` (F, embed_dim) float32 and `frame_indices`.
`extraction.json` records the run's settings; its `estimator` names the pose estimator whose
parts the files hold (`recorded_estimator`; folders from before it was recorded are Holistic's).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.atomic import atomic_open
from slt_nb.errors import AnnotationError, DataFileError
from slt_nb.layouts import LAYOUTS, MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33, FeatureLayout, Skeleton, consecutive_layout

# The estimator of an extraction folder that does not name one (made before estimators were recorded).
DEFAULT_ESTIMATOR = "holistic"
INDEX_COLUMNS = ("video_id", "gloss", "label", "split", "frames", "path")
SKIPPED_COLUMNS = ("video_id", "split", "reason")


@dataclass(frozen=True)
class SkippedVideo:
    """A listed video (or an index row) that has no output or is not used, and why.

    The one type for WLASL listings, extraction runs and training data; `skipped.csv` holds
    its SKIPPED_COLUMNS. (Annotation rows skipped by an export are `formats.annotations.Skipped`:
    they are named by file and line, not by video and split.)
    """

    video_id: str
    split: str
    reason: str
    source: str = ""  # where it was found: a file and line, a video path


@dataclass(frozen=True)
class PosePart:
    """One body part of a pose npz: its array key, skeleton and values per point."""

    key: str
    skeleton: Skeleton
    channels: int  # x, y, z (+ visibility)

    @property
    def flag(self) -> str:
        return f"{self.key}_detected"

    def shape(self, frames: int) -> tuple[int, int, int]:
        return (frames, self.skeleton.size, self.channels)


# MediaPipe Holistic: pose x,y,z,visibility; hands x,y,z. `left_hand` is the signer's left.
HOLISTIC_PARTS = (PosePart("pose", MEDIAPIPE_POSE_33, 4), PosePart("left_hand", MEDIAPIPE_HAND_21, 3),
                  PosePart("right_hand", MEDIAPIPE_HAND_21, 3))


def pose_keys(parts=HOLISTIC_PARTS) -> tuple[str, ...]:
    """Every array key of a pose npz, in file order."""
    return ("frame_indices",) + tuple(k for p in parts for k in (p.key, p.flag))


def parts_layout(parts=HOLISTIC_PARTS) -> FeatureLayout:
    """The x,y feature layout that pose parts become when inspected or plotted (a known one if equal)."""
    layout = consecutive_layout("_".join(p.skeleton.name for p in parts) + "_xy",
                                [(p.key, p.skeleton) for p in parts])
    for known in LAYOUTS.values():
        if known.segments == layout.segments:
            return known
    return layout


def pose_rows(arrays: dict, where: str = "npz", parts=HOLISTIC_PARTS) -> np.ndarray:
    """(F, parts_layout(parts).width) x,y rows from pose arrays; undetected parts and NaN become 0."""
    columns = []
    frames = None
    for part in parts:
        if part.key not in arrays:
            raise DataFileError(f"{where}: no array {part.key!r}; found {sorted(arrays)}")
        a = np.asarray(arrays[part.key], dtype=np.float32)
        if a.ndim != 3 or a.shape[1] != part.skeleton.size or a.shape[2] < 2:
            raise DataFileError(f"{where}: {part.key} has shape {a.shape}; expected (F, {part.skeleton.size}, >=2)")
        if frames is None:
            frames = a.shape[0]
        elif a.shape[0] != frames:
            raise DataFileError(f"{where}: {part.key} has {a.shape[0]} frames, {parts[0].key} has {frames}")
        xy = a[:, :, :2].copy()
        flag = arrays.get(part.flag)
        if flag is not None:
            xy[~np.asarray(flag, dtype=bool)] = 0
        xy[~np.isfinite(xy).all(axis=-1)] = 0
        columns.append(xy.reshape(len(xy), -1))
    return np.concatenate(columns, axis=1)


def check_pose_arrays(arrays: dict, path, parts=HOLISTIC_PARTS) -> None:
    """Raise ValueError naming the file if the npz is not in the pose contract of `parts`."""
    missing = [k for k in pose_keys(parts) if k not in arrays]
    if missing:
        raise DataFileError(f"{path}: missing arrays {missing} (has {sorted(arrays)})")
    f = len(arrays["frame_indices"])
    for part in parts:
        for key, shape in ((part.key, part.shape(f)), (part.flag, (f,))):
            if arrays[key].shape != shape:
                raise DataFileError(f"{path}: {key} has shape {arrays[key].shape}, expected {shape}")
    if f == 0:
        raise DataFileError(f"{path}: no frames")
    for part in parts:
        if not np.isfinite(arrays[part.key]).all():
            raise DataFileError(f"{path}: {part.key} contains NaN or inf (undetected parts must be zeros)")


def save_npz(path: str | Path, arrays: dict[str, np.ndarray], compressed: bool = True) -> int:
    """Write arrays to `path` atomically; returns the file size in bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return path.stat().st_size


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_index(root: str | Path, rows: list[dict]) -> Path:
    """`<root>/index.csv` in the contract's columns, written atomically."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "index.csv"
    with atomic_open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=INDEX_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row[k] for k in INDEX_COLUMNS})
    return path


def read_class_list(path: str | Path) -> list[str]:
    """Glosses in label order from `wlasl_class_list.txt` (`index<TAB>gloss` per line)."""
    path = Path(path)
    glosses: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t") if "\t" in line else line.split(None, 1)
            if len(parts) != 2 or not parts[0].strip().isdigit():
                raise AnnotationError(f"{path}, line {line_no}: expected '<index><TAB><gloss>', found {line!r}")
            index, gloss = int(parts[0]), parts[1].strip()
            if index != len(glosses):
                raise AnnotationError(f"{path}, line {line_no}: class index {index}, expected {len(glosses)} "
                                 "(indices must run 0, 1, 2, ... in order)")
            glosses.append(gloss)
    if not glosses:
        raise AnnotationError(f"{path}: no classes listed")
    return glosses


def recorded_estimator(output_dir: str | Path) -> str:
    """The pose estimator an extraction folder was made with (its extraction.json; Holistic if none)."""
    record = Path(output_dir) / "extraction.json"
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))["settings"].get("estimator") or DEFAULT_ESTIMATOR
    return DEFAULT_ESTIMATOR
