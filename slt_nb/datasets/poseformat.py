"""Pose-format `.pose` files of MediaPipe Holistic: one file per clip, one CSV of texts.

A corpus of clips already run through MediaPipe Holistic and saved with the pose-format library
(sign-language-processing/pose), as its own test files and many shared sign-language sets are:

    annotations.csv          id,text,split[,file]     (file: relative to data_root and inside it; default poses/<id>.pose)
    poses/<id>.pose          pose-format binary, components POSE_LANDMARKS (33), LEFT_HAND_LANDMARKS (21),
                             RIGHT_HAND_LANDMARKS (21), FACE_LANDMARKS and POSE_WORLD_LANDMARKS (ignored)

Features per frame: pose 33 x,y + left hand 21 x,y + right hand 21 x,y = 150 (`MEDIAPIPE_150`,
the same layout as LSFB-CONT). pose-format stores MediaPipe's x and y multiplied by the video's
width and height (its header's `dimensions`); `coordinates: normalised` divides them back to
MediaPipe's [0, 1], `pixels` keeps them. A masked point (not detected) becomes (0, 0) and is
counted. The file's own fps is reported beside the reader's when they differ.

Quirks, each a skipped row with its reason: a `file` that is absolute or leads outside data_root
(`../x.pose`, a link out of the tree), an id with a path separator or `..` where it names the file,
a file that pose-format cannot parse, one from another estimator (OpenPose's `pose_keypoints_2d`)
or a reduced Holistic (8 pose points), a file with no frames.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from slt_nb.datasets.base import (ClipData, ExportItem, Reader, SplitPlan, TextRow, common_params, frame_list,
                                  items_from_rows, register_reader)
from slt_nb.errors import ClipError, MissingDependency
from slt_nb.datasets.lsfb_files import ABSURD_VALUE as ABSURD_FRAMES
from slt_nb.formats.openpose_checked import ABSURD_VALUE as ABSURD_PIXELS
from slt_nb.formats.annotations import read_table
from slt_nb.layouts import MEDIAPIPE_150
from slt_nb.paths import inside, plain_name

COLUMNS = ("id", "text", "split")
# layout segment -> pose-format component holding its points
COMPONENTS = {"pose": "POSE_LANDMARKS", "left_hand": "LEFT_HAND_LANDMARKS", "right_hand": "RIGHT_HAND_LANDMARKS"}


def read_pose_file(path: str):
    """A parsed pose-format file, or ClipError naming it (missing, or not a .pose file)."""
    try:
        from pose_format import Pose
    except ImportError as exc:  # optional dependency: say what to install
        raise MissingDependency("reading .pose files needs pose-format (pip install pose-format==0.15.0)") from exc
    if not os.path.isfile(path):
        raise ClipError(f"{path}: pose file missing")
    with open(path, "rb") as f:
        data = f.read()
    try:
        return Pose.read(data)
    except Exception as exc:  # pose-format raises struct/buffer errors of several kinds
        raise ClipError(f"{path}: not a readable pose-format file ({type(exc).__name__}: {exc})") from None


def holistic_points(pose, path: str) -> dict[str, np.ma.MaskedArray]:
    """Per layout segment, the (T, N, dims) masked points of the first person, checked against the layout."""
    found = {c.name: len(c.points) for c in pose.header.components}
    out = {}
    for seg in MEDIAPIPE_150.segments:
        name = COMPONENTS[seg.name]
        if name not in found:
            raise ClipError(f"{path}: not a MediaPipe Holistic file (no component {name}; found "
                            f"components {found})")
        if found[name] != seg.skeleton.size:
            raise ClipError(f"{path}: component {name} has {found[name]} points, expected "
                            f"{seg.skeleton.size} ({seg.skeleton.name}; a reduced or other layout)")
        out[seg.name] = pose.get_components([name]).body.data[:, 0]
    return out


def holistic_confidence(pose) -> np.ndarray:
    """(T, 75) the first person's confidence (MediaPipe visibility) per point, in layout order."""
    return np.concatenate([np.asarray(pose.get_components([COMPONENTS[seg.name]]).body.confidence[:, 0], np.float32)
                           for seg in MEDIAPIPE_150.segments], axis=1)


@register_reader("pose_format")
@dataclass
class PoseFormatReader(Reader):
    """Plans and reads pose-format `.pose` clips (MediaPipe Holistic) for export."""

    data_root: str
    annotations: str = "{data_root}/annotations.csv"
    poses_dir: str = "{data_root}/poses"
    fps: float = 25.0
    frame_size: tuple[int, int] = (640, 360)  # for plots; each file's header has its own
    coordinates: str = "normalised"
    dataset: str = "PoseFormat"
    variant: str = ""
    augmented: str | None = None  # no augmented texts for this corpus; kept for common_params
    augmented_splits: tuple[str, ...] = ()
    layout = MEDIAPIPE_150
    point_confidence = "MediaPipe visibility (pose-format confidence)"
    demo_params = "PoseFormat"

    @classmethod
    def from_params(cls, params: dict) -> "PoseFormatReader":
        size = params.get("frame_size") or (640, 360)
        return cls(
            annotations=params.get("annotations", "{data_root}/annotations.csv"),
            poses_dir=params.get("poses_dir", "{data_root}/poses"),
            fps=float(params.get("source_fps", 25)),
            frame_size=(int(size[0]), int(size[1])),
            coordinates=params.get("coordinates", "normalised"),
            **common_params(params),
        )

    @staticmethod
    def detect(root: str) -> bool:
        """Whether `root` looks like this corpus: an annotations.csv beside a folder of .pose files."""
        poses = os.path.join(root, "poses")
        return (os.path.isfile(os.path.join(root, "annotations.csv")) and os.path.isdir(poses)
                and any(n.endswith(".pose") for n in os.listdir(poses)))

    def _path(self, template: str) -> str:
        return template.format(data_root=self.data_root)

    def pose_file(self, row: dict) -> str:
        """The row's .pose file: its `file` (a path that stays inside data_root), else poses/<id>.pose.

        ClipError, naming the value and the folder, for a `file` that is absolute or leads out of
        data_root (`..`, a link pointing out) and for an id that is not a plain file name.
        """
        if row.get("file"):
            return inside(row["file"], self.data_root, "file")
        folder = self._path(self.poses_dir)
        return os.path.join(folder, f"{plain_name(row['id'], folder, 'id')}.pose")

    def plan(self, split: str) -> SplitPlan:
        path = self._path(self.annotations)
        all_rows, bad = read_table(path, COLUMNS, optional=("file",))
        rows = [TextRow(r["line"], r["id"], r["text"]) for r in all_rows if r["split"] == split]
        files = {r["line"]: r for r in all_rows if r["split"] == split}
        skipped = list(bad)
        total = len(rows) + len(skipped)

        def resolve(row: TextRow):
            # Only where the file is, is checked here; its content is checked when read
            # (parsing it here would read every clip twice).
            try:
                return [(row.id, self.pose_file(files[row.line]), "")]
            except ClipError as exc:
                raise ClipError(f"{path} line {row.line}: {exc}") from None

        items = items_from_rows(split, rows, resolve, path, skipped)
        return SplitPlan(split, path, total, items, skipped)

    def read(self, item: ExportItem) -> ClipData:
        path = str(item.locator)
        pose = read_pose_file(path)
        parts = holistic_points(pose, path)
        frames_total = len(next(iter(parts.values())))
        if frames_total == 0:
            raise ClipError(f"{path}: no frames")
        width, height = pose.header.dimensions.width, pose.header.dimensions.height
        if self.coordinates == "normalised" and not (width > 0 and height > 0):
            raise ClipError(f"{path}: the header's frame size is {width}x{height}; coordinates cannot be divided by "
                            "it (use -p coordinates pixels to keep pixels)")
        scale = np.array([width, height], np.float32) if self.coordinates == "normalised" else np.ones(2, np.float32)
        frames = np.empty((frames_total, self.layout.width), np.float32)
        counts = {"frames": frames_total}
        notes = []
        for seg in self.layout.segments:
            points = parts[seg.name]
            xy = np.ma.getdata(points)[..., :2].astype(np.float32) / scale
            masked = np.ma.getmaskarray(points)[..., :2].any(axis=-1)
            # A masked point is pose-format's "not detected"; a NaN or an infinity the mask does
            # not cover is a refused value, exported as undetected and said.
            refused = ~masked & ~np.isfinite(xy).all(axis=-1)
            if refused.any():
                notes.append(f"{path}: {int(refused.sum())} {seg.name} points not masked but NaN or infinite, "
                             f"exported as undetected (0, 0): frames {frame_list(np.flatnonzero(refused.any(axis=1)))}")
            missing = masked | refused
            xy[missing] = 0.0
            counts[f"undetected_{seg.name}_frames"] = int(missing.all(axis=1).sum())
            frames[:, seg.start:seg.stop] = xy.reshape(frames_total, -1)
        # a coordinate 1000 frames (or 100k pixels) away: the frame is zeroed, as the other readers do
        absurd = ABSURD_FRAMES if self.coordinates == "normalised" else ABSURD_PIXELS
        corrupt = ~(np.abs(frames) < absurd).all(axis=1)
        if corrupt.any():
            frames[corrupt] = 0
            counts["zeroed_frames"] = int(corrupt.sum())
            notes.append(f"{path}: {int(corrupt.sum())} of {frames_total} frames written as zeros: absurd "
                         f"(>= {absurd:g}) coordinates in frames {frame_list(np.flatnonzero(corrupt))}")
        if float(pose.body.fps) != self.fps:
            notes.append(f"{path}: recorded at {float(pose.body.fps):g} fps, the reader assumes {self.fps:g}")
        if pose.body.data.shape[1] > 1:
            notes.append(f"{path}: {pose.body.data.shape[1]} people; the first is exported")
        file_fps = float(pose.body.fps)
        return ClipData(frames, counts, notes, confidence=holistic_confidence(pose),
                        pixel_scale=(float(width), float(height)) if self.coordinates == "normalised" else (1.0, 1.0),
                        fps=file_fps if file_fps > 0 else self.fps)

    def describe(self) -> dict:
        return {
            "name": self.reader_name,
            "fps": self.fps,
            "kind": "pose-format .pose files (MediaPipe Holistic), one per clip",
            "data_root": self.data_root,
            "annotations": self.annotations,
            "poses_dir": self.poses_dir,
            "coordinates": self.coordinates,
            "frame_size": list(self.frame_size),
        }
