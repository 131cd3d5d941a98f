"""Training data from a WLASL extraction: index, label map, pose/feature/video clips, batching.

Reads `<dir>/index.csv` (video_id, gloss, label, split, frames, path) written by the pose or
feature extraction, checks every row against the class list and the files on disk, and lists
each row it cannot use with its reason, so used + skipped = rows (plus any video in `video_dir`
that was never extracted). Clips are turned into per-frame tensors by `slt_nb.train.inputs` (pose, features or video).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from slt_nb.train.inputs import (POSE_PARTS, Augmentation, pose_input_dim, check_feature_arrays, pose_frames,
                                 read_video_frames)
from slt_nb.errors import ClipError, DataFileError, MissingInput, ParameterError, VideoError
from slt_nb.formats.extraction import recorded_estimator
from slt_nb.registry import estimator_parts
from slt_nb.paths import inside, plain_name
from slt_nb.formats.extraction import INDEX_COLUMNS, SkippedVideo, check_pose_arrays, read_class_list, read_npz

@dataclass
class ClipRecord:
    """One usable index row: where its file is and which class it belongs to."""

    video_id: str
    split: str
    label: int      # WLASL class index
    gloss: str
    path: Path
    target: int = -1   # position in the run's label map


# -- index and label map -----------------------------------------------------------------------

def read_index(index_dir: Path, class_list: list[str], input_type: str,
               video_dir: Path | None = None) -> tuple[list[ClipRecord], list[SkippedVideo]]:
    """Rows of `<index_dir>/index.csv` that point at a usable file, and the rest with reasons."""
    index_path = index_dir / "index.csv"
    if not index_path.exists():
        raise MissingInput(f"{index_path}: no extraction index (run the extraction notebook first)")
    records, skipped, seen = [], [], set()
    with open(index_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in INDEX_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataFileError(f"{index_path}: missing columns {missing}; found {reader.fieldnames}")
        for line, row in enumerate(reader, 2):
            vid, split = (row["video_id"] or "").strip(), (row["split"] or "").strip()
            where = f"{index_path.name} line {line}"

            def skip(reason):
                skipped.append(SkippedVideo(vid, split, reason, where))

            if not vid:
                skip("empty video_id")
                continue
            if vid in seen:
                skip(f"duplicate video_id {vid}")
                continue
            seen.add(vid)
            try:
                label = int(row["label"])
            except (TypeError, ValueError):
                skip(f"label {row['label']!r} is not an integer")
                continue
            if not 0 <= label < len(class_list):
                skip(f"label {label} is outside the class list (0..{len(class_list) - 1})")
                continue
            gloss = (row["gloss"] or "").strip()
            if gloss and gloss != class_list[label]:
                skip(f"gloss {gloss!r} does not match the class list's {class_list[label]!r} for label {label}")
                continue
            try:  # an index written by hand or elsewhere must not lead outside its folders
                if input_type == "video":
                    plain_name(vid, video_dir, "video_id", "the name of a video in that folder")
                elif row["path"]:
                    inside(row["path"], index_dir, "path")
            except ClipError as exc:
                skip(f"{where}: {exc}")
                continue
            if input_type == "video":
                path = video_dir / f"{vid}.mp4" if video_dir else None
                if path is None or not path.exists():
                    skip(f"video file missing: {path}")
                    continue
            else:
                path = index_dir / (row["path"] or "")
                if not row["path"] or not path.is_file():
                    skip(f"{input_type} file missing: {path}")
                    continue
            records.append(ClipRecord(vid, split, label, class_list[label], path))
    # the extraction's own list of videos it could not extract (issue 5 writes skipped.csv beside
    # the index): carried over so the report says why, not just that they are absent
    extraction_skipped = index_dir / "skipped.csv"
    if extraction_skipped.exists():
        with open(extraction_skipped, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                vid = (row.get("video_id") or "").strip()
                if vid and vid not in seen:
                    seen.add(vid)
                    skipped.append(SkippedVideo(vid, (row.get("split") or "").strip(),
                                           f"not extracted: {row.get('reason', '')}", "skipped.csv"))
    if video_dir is not None and video_dir.is_dir() and input_type != "video":
        listed = seen
        for video in sorted(video_dir.glob("*.mp4")):
            if video.stem not in listed:
                skipped.append(SkippedVideo(video.stem, "", f"video not in the {input_type} extraction index",
                                       str(video)))
    return records, skipped


def label_map_for(records: list[ClipRecord]) -> list[dict]:
    """Classes present in the usable rows, in class-list order: target i -> WLASL label, gloss."""
    labels = sorted({(r.label, r.gloss) for r in records})
    return [{"target": i, "label": label, "gloss": gloss} for i, (label, gloss) in enumerate(labels)]


# -- datasets ----------------------------------------------------------------------------------

class ClipDataset(Dataset):
    """Clips of one split as (frames tensor, frame-valid mask, target) items.

    Pose and feature files are checked (and, with `cache`, kept in memory: a few KB a clip)
    when the dataset is built, so a corrupt file is skipped with its reason up front instead of
    failing an epoch half-way. Videos are opened once to check them and decoded per item.
    """

    def __init__(self, records: list[ClipRecord], input_type: str, normalise_pose: bool = True,
                 augmentation: Augmentation | None = None, cache: bool = True, num_frames: int = 16,
                 video_size: int = 64, seed: int = 0, parts=POSE_PARTS):
        self.input_type, self.normalise_pose = input_type, normalise_pose
        self.parts = parts  # the pose estimator's parts (pose input only)
        self.augmentation = augmentation or Augmentation()
        self.cache, self.num_frames, self.video_size, self.seed = cache, num_frames, video_size, seed
        self.epoch = 0
        self.records: list[ClipRecord] = []
        self.skipped: list[SkippedVideo] = []
        self._arrays: list[dict | None] = []
        self._widths: list[int] = []
        self._frames: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.feature_dim: int | None = None
        for record in records:
            try:
                arrays = self._load(record.path)
            except Exception as exc:  # any unreadable file is one skipped clip, not a failed run
                self.skipped.append(SkippedVideo(record.video_id, record.split, f"unreadable: {exc}", str(record.path)))
                continue
            if input_type == "features":
                self._widths.append(arrays["features"].shape[1])
            self.records.append(record)
            self._arrays.append(arrays if cache and input_type != "video" else None)

    def feature_widths(self) -> list[int]:
        return list(self._widths)

    def keep_feature_width(self, width: int) -> None:
        """Keep feature clips `width` columns wide; list the others as skipped (the model has one input size)."""
        keep = [w == width for w in self._widths]
        for record, ok, w in zip(self.records, keep, self._widths):
            if not ok:
                self.skipped.append(SkippedVideo(record.video_id, record.split,
                                            f"features have {w} columns, the other clips have {width}",
                                            str(record.path)))
        self.records = [r for r, ok in zip(self.records, keep) if ok]
        self._arrays = [a for a, ok in zip(self._arrays, keep) if ok]
        self._widths = [w for w, ok in zip(self._widths, keep) if ok]
        self.feature_dim = width

    def _load(self, path: Path) -> dict:
        if self.input_type == "video":
            import cv2

            cap = cv2.VideoCapture(str(path))
            ok = cap.isOpened() and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 0
            cap.release()
            if not ok:
                raise VideoError(f"{path}: cannot be opened as a video")
            return {}
        arrays = read_npz(path)
        if self.input_type == "pose":
            check_pose_arrays(arrays, path, self.parts)
        else:
            check_feature_arrays(arrays, path)
        return arrays

    @property
    def input_dim(self) -> int:
        if self.input_type == "pose":
            return pose_input_dim(self.parts)
        if self.input_type == "features":
            return self.feature_dim or 0
        return 3 * self.video_size * self.video_size

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on (seed, epoch, item) only: the same on resume and with workers."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int):
        record = self.records[i]
        if self.input_type == "video":
            frames = read_video_frames(record.path, self.num_frames, self.video_size)
            return torch.from_numpy(frames), torch.ones(len(frames), dtype=torch.bool), record.target
        arrays = self._arrays[i] if self._arrays[i] is not None else read_npz(record.path)
        if self.input_type == "features":
            feats = arrays["features"].astype(np.float32, copy=False)
            return torch.from_numpy(feats), torch.ones(len(feats), dtype=torch.bool), record.target
        if self.augmentation.enabled:
            rng = np.random.default_rng([self.seed, self.epoch, i])
            frames, valid = pose_frames(arrays, self.normalise_pose, self.augmentation, rng, self.parts)
            return torch.from_numpy(frames), torch.from_numpy(valid), record.target
        if self.cache:
            # without augmentation a clip's frames never change: normalise once, not every epoch
            if i not in self._frames:
                frames, valid = pose_frames(arrays, self.normalise_pose, parts=self.parts)
                self._frames[i] = (torch.from_numpy(frames), torch.from_numpy(valid))
            frames_t, valid_t = self._frames[i]
            return frames_t, valid_t, record.target
        frames, valid = pose_frames(arrays, self.normalise_pose, parts=self.parts)
        return torch.from_numpy(frames), torch.from_numpy(valid), record.target


def collate_clips(items) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad clips to the longest in the batch: x (B, T, ...), padding_mask (B, T) True = ignore, targets (B,)."""
    longest = max(x.shape[0] for x, _, _ in items)
    first = items[0][0]
    x = torch.zeros((len(items), longest) + tuple(first.shape[1:]), dtype=first.dtype)
    mask = torch.ones(len(items), longest, dtype=torch.bool)
    for b, (frames, valid, _) in enumerate(items):
        x[b, : len(frames)] = frames
        mask[b, : len(frames)] = ~valid
    targets = torch.tensor([t for _, _, t in items], dtype=torch.long)
    return x, mask, targets


@dataclass
class TrainingData:
    """Everything the trainer needs from the extraction: datasets per split, label map, what was skipped."""

    datasets: dict[str, ClipDataset]
    label_map: list[dict]
    skipped: list[SkippedVideo]
    input_type: str
    index_rows: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return next(iter(self.datasets.values())).input_dim

    @property
    def num_classes(self) -> int:
        return len(self.label_map)

    def counts(self) -> dict[str, int]:
        return {split: len(ds) for split, ds in self.datasets.items()}

    def skipped_table(self):
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.skipped], columns=["video_id", "split", "reason", "source"])


def load_training_data(input_type: str, pose_dir: Path | None, feature_dir: Path | None, class_list_path: Path,
                       video_dir: Path | None = None, splits=("train", "val", "test"), normalise_pose: bool = True,
                       augmentation: Augmentation | None = None, cache: bool = True, num_frames: int = 16,
                       video_size: int = 64, seed: int = 0) -> TrainingData:
    """Build the split datasets for one input type from an extraction index.

    The index comes from pose_dir for pose, feature_dir for features, and for video whichever of
    the two exists (its labels and splits; frames come from video_dir).
    """
    class_list = read_class_list(class_list_path)
    if input_type == "pose":
        index_dir = pose_dir
    elif input_type == "features":
        index_dir = feature_dir
    else:
        index_dir = next((d for d in (pose_dir, feature_dir) if d is not None and (d / "index.csv").exists()), None)
        if video_dir is None:
            raise ParameterError("input_type video needs efficiency.video_dir")
    if index_dir is None:
        raise ParameterError(f"input_type {input_type} needs an extraction directory with an index.csv "
                         f"(pose_dir={pose_dir}, feature_dir={feature_dir})")
    records, skipped = read_index(Path(index_dir), class_list, input_type, video_dir)
    # pose files have the parts of the estimator that wrote them (its name is in extraction.json)
    parts = estimator_parts(recorded_estimator(index_dir)) if input_type == "pose" else POSE_PARTS
    index_rows = len(records) + sum(1 for s in skipped if s.source.startswith("index.csv"))
    unknown = [r for r in records if r.split not in splits]
    for r in unknown:
        skipped.append(SkippedVideo(r.video_id, r.split, f"split {r.split!r} is not one of {list(splits)}", str(r.path)))
    records = [r for r in records if r.split in splits]
    datasets = {}
    for split in splits:
        ds = ClipDataset([r for r in records if r.split == split], input_type, normalise_pose,
                         augmentation if split == "train" else None, cache, num_frames, video_size, seed, parts)
        datasets[split] = ds
    if input_type == "features":
        # the width most files share is the extraction's embed_dim; a file of another width is the odd one out
        widths = [w for ds in datasets.values() for w in ds.feature_widths()]
        if widths:
            width = max(set(widths), key=lambda w: (widths.count(w), w))
            for ds in datasets.values():
                ds.keep_feature_width(width)
    for ds in datasets.values():
        skipped.extend(ds.skipped)
    usable = [r for ds in datasets.values() for r in ds.records]
    label_map = label_map_for(usable)
    target_of = {m["label"]: m["target"] for m in label_map}
    for r in usable:
        r.target = target_of[r.label]
    return TrainingData(datasets, label_map, skipped, input_type, index_rows)
