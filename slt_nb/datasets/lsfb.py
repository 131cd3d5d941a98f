"""LSFB-CONT: one MediaPipe pose array per session video, one window of it per sentence.

Layout (the project brief's):
    annotations.csv                 id,text,video_id,start,end,split   (start/end in ms)
    annotations_train_augmented.csv id,text[,...]                       (several texts per id)
    poses/{pose,left_hand,right_hand}/<video_id>.npy                    (T, N, 3) x,y,z

A sentence is frames floor(start / 20) .. ceil(end / 20) of its session at 50 fps (20 ms a
frame, as the official lsfb-dataset library maps them). Features per frame: pose 33 x,y +
left hand 21 x,y + right hand 21 x,y = 150 (`MEDIAPIPE_150`). Real downloads are float16 and
may hold NaN (not detected): read as float32, NaN becomes 0 and is counted.

Session arrays are memory-mapped and opened once for all of their sentences: only the pages of
the windows asked for are read, so memory does not grow with the length of a session.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field

import numpy as np

from slt_nb.datasets.base import ClipData, ExportItem, Skipped, SplitPlan, TextRow, items_from_rows
from slt_nb.datasets.registry import common_params, register_reader
from slt_nb.errors import AnnotationError, ClipError, ParameterError
from slt_nb.formats.annotations import open_annotations, parse_lines, read_augmented, well_formed
from slt_nb.layouts import MEDIAPIPE_150

PARTS = ("pose", "left_hand", "right_hand")
COLUMNS = ("id", "text", "video_id", "start", "end", "split")


@dataclass
class Window:
    """Where a sentence's poses are: a session video and a time range in milliseconds."""

    video_id: str
    start_ms: float
    end_ms: float


# Normalised MediaPipe coordinates this far out are no detection but a corrupt file.
ABSURD_VALUE = 1e3


def window_problem(window: Window) -> str:
    """Why a sentence window cannot be cut from its session ("" when it can).

    A negative time would index from the end of the session (numpy wraps), NaN or infinite
    times have no frame, and an empty or reversed window has no frames to export.
    """
    start, end = window.start_ms, window.end_ms
    if not (math.isfinite(start) and math.isfinite(end)):
        return f"start {start:g} ms / end {end:g} ms: expected finite times in milliseconds"
    if start < 0 or end < 0:
        return f"negative time (start {start:g} ms, end {end:g} ms); expected times from 0 in the session"
    if end <= start:
        return f"empty window, start {start:g} ms >= end {end:g} ms"
    return ""


def frame_range(start_ms: float, end_ms: float, fps: float = 50.0) -> tuple[int, int]:
    """Frames [first, stop) of a window: floor(start / frame_ms), ceil(end / frame_ms)."""
    frame_ms = 1000.0 / fps
    return math.floor(start_ms / frame_ms), math.ceil(end_ms / frame_ms)


def read_lsfb_annotations(path: str) -> tuple[list[dict], list[Skipped]]:
    """All rows of `annotations.csv` as dicts with their line number; malformed rows skipped."""
    with open_annotations(path) as f:
        header_line = f.readline()
        header = [c.strip() for c in next(csv.reader([header_line]), [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise AnnotationError(f"{path}: columns {missing} missing; found {header}, expected {list(COLUMNS)}")
        rows, skipped = [], []
        for line, fields in well_formed(path, parse_lines(f, ","), header, skipped, header.index("id")):
            row = {c: fields[header.index(c)].strip() for c in COLUMNS}
            row["line"] = line
            rows.append(row)
    return rows, skipped


def _load_session_array(path: str) -> np.ndarray:
    """A session's .npy, memory-mapped, or ClipError saying what the file is instead.

    np.load opens a zip archive whatever its name, so an `.npz` saved as `.npy` comes back as
    an NpzFile, not an error; complex, string, structured and object arrays load fine too and
    are refused here by their dtype, before numpy would cast them to wrong numbers.
    """
    try:
        if os.path.getsize(path) == 0:
            raise ClipError(f"{path}: empty file (0 bytes); expected a .npy array")
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ClipError:
        raise
    except Exception as exc:  # truncated header, not .npy at all, a pickle, an I/O error
        raise ClipError(f"{path}: not a readable .npy array ({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray):
        names = list(getattr(arr, "files", []))
        close = getattr(arr, "close", None)
        if close is not None:
            close()
        raise ClipError(f"{path}: an .npz archive (arrays {names}) saved as .npy; expected one (T, N, 3) array")
    if arr.dtype.kind not in "fiu":
        raise ClipError(f"{path}: dtype {arr.dtype} ({_dtype_kind(arr.dtype)}); expected real numbers "
                        "(float16/32/64 or integers)")
    return arr


def _dtype_kind(dtype: np.dtype) -> str:
    if dtype.fields:
        return "structured"
    return {"c": "complex", "U": "string", "S": "bytes", "O": "object", "b": "boolean", "M": "datetime",
            "m": "timedelta", "V": "raw bytes"}.get(dtype.kind, dtype.kind)


@register_reader("lsfb")
@dataclass
class LSFBReader:
    """Plans and reads LSFB-CONT sentence windows for export."""

    data_root: str
    annotations: str = "{data_root}/annotations.csv"
    augmented: str | None = None  # e.g. "{data_root}/annotations_train_augmented.csv"
    augmented_splits: tuple[str, ...] = ("train",)
    poses_dir: str = "{data_root}/poses"
    fps: float = 50.0
    dataset: str = "LSFB-CONT"
    variant: str = ""
    layout = MEDIAPIPE_150
    inspection_layout = MEDIAPIPE_150
    frame_size = (720, 576)  # the session videos; MediaPipe coordinates are fractions of it
    demo_params = "LSFB-CONT"
    session_opens: int = field(default=0, compare=False)  # how many times a session was opened

    def __post_init__(self):
        self._session_id: str | None = None
        self._session: dict[str, np.ndarray] | None = None

    def __getstate__(self):  # worker processes open their own sessions
        state = self.__dict__.copy()
        state["_session_id"], state["_session"] = None, None
        return state

    @classmethod
    def from_params(cls, params: dict) -> "LSFBReader":
        if params.get("coordinates", "normalised") != "normalised":
            raise ParameterError("LSFB-CONT poses are MediaPipe-normalised already; coordinates must be 'normalised'")
        return cls(
            annotations=params.get("annotations", "{data_root}/annotations.csv"),
            poses_dir=params.get("poses_dir", "{data_root}/poses"),
            fps=float(params.get("fps", 50)),
            **common_params(params),
        )

    @staticmethod
    def detect(root: str) -> bool:
        """Whether `root` looks like an LSFB-CONT tree (a poses/ folder of .npy sessions)."""
        return os.path.isdir(os.path.join(root, "poses", "pose"))

    def read_for_inspection(self, item: ExportItem) -> ClipData:
        return self.read(item)

    def _path(self, template: str) -> str:
        return template.format(data_root=self.data_root)

    def pose_file(self, part: str, video_id: str) -> str:
        """The session's array for one part; ClipError if video_id would lead outside poses/<part>/."""
        folder = os.path.join(self._path(self.poses_dir), part)
        if video_id in ("", ".", "..") or "/" in video_id or os.sep in video_id or "\x00" in video_id:
            raise ClipError(f"video_id {video_id!r}: not a plain file name, would lead outside {folder}; "
                            "expected the name of a session file in that folder")
        return os.path.join(folder, f"{video_id}.npy")

    def plan(self, split: str) -> SplitPlan:
        ann_path = self._path(self.annotations)
        all_rows, bad = read_lsfb_annotations(ann_path)
        augmented = bool(self.augmented) and split in self.augmented_splits
        windows: dict[str, tuple[Window | None, int]] = {}  # id -> (window, line), first row wins
        for r in all_rows:
            if r["split"] != split or r["id"] in windows:
                continue
            try:
                window = Window(r["video_id"], float(r["start"]), float(r["end"]))
            except ValueError:
                window = None
            windows[r["id"]] = (window, r["line"])

        if augmented:
            path = self._path(self.augmented)
            rows, skipped = read_augmented(path)
        else:
            path = ann_path
            rows = [TextRow(r["line"], r["id"], r["text"]) for r in all_rows if r["split"] == split]
            skipped = list(bad)
        total = len(rows) + len(skipped)

        def resolve(row: TextRow):
            found = windows.get(row.id)
            if found is None:
                what = "source clip unknown" if augmented else "id not in annotations"
                raise ClipError(f"{row.id}: {what} (no {split} row in {ann_path})")
            window, line = found
            if window is None:
                raise ClipError(f"{ann_path} line {line}: start/end are not numbers")
            problem = window_problem(window)
            if problem:
                raise ClipError(f"{ann_path} line {line}: {problem}")
            return [(row.id, window, "")]

        items = items_from_rows(split, rows, resolve, path, skipped, augmented)
        return SplitPlan(split, path, total, items, skipped)

    def _open_session(self, video_id: str) -> dict[str, np.ndarray]:
        if self._session_id == video_id:
            return self._session
        self._session_id, self._session = None, None  # let the previous session go first
        arrays = {}
        for part in PARTS:
            path = self.pose_file(part, video_id)
            if not os.path.lexists(path):
                raise ClipError(f"{path}: pose file missing")
            arr = _load_session_array(path)
            seg = self.layout.segment(part)
            if arr.ndim != 3 or arr.shape[2] < 2:
                raise ClipError(f"{path}: shape {arr.shape}; expected (T, N, 3)")
            if arr.shape[1] != seg.skeleton.size:
                raise ClipError(
                    f"{path}: {arr.shape[1]} points per frame; layout {self.layout.name} expects "
                    f"{seg.skeleton.size} for {part} ({seg.skeleton.name})"
                )
            arrays[part] = arr
        lengths = {p: a.shape[0] for p, a in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ClipError(f"{video_id}: pose parts disagree on the number of frames: {lengths}")
        self.session_opens += 1
        self._session_id, self._session = video_id, arrays
        return arrays

    def read(self, item: ExportItem) -> ClipData:
        window: Window = item.locator
        try:
            arrays = self._open_session(window.video_id)
        except ClipError:
            self._session_id, self._session = None, None
            raise
        total = next(iter(arrays.values())).shape[0]
        problem = window_problem(window)
        if problem:  # planned windows are checked already; this guards readers built by hand
            raise ClipError(f"{item.clip}: {problem}")
        first, stop = frame_range(window.start_ms, window.end_ms, self.fps)
        notes = []
        counts = {"frames": 0, "clipped_windows": 0}
        if first >= total:
            raise ClipError(
                f"{item.clip}: window frames {first}-{stop} start past the end of {window.video_id} ({total} frames)"
            )
        if stop > total:
            notes.append(f"window frames {first}-{stop} runs past the end of {window.video_id} "
                         f"({total} frames); clipped to {total - first} frames")
            counts["clipped_windows"] = 1
            stop = total
        frames = np.empty((stop - first, self.layout.width), dtype=np.float32)
        for part in PARTS:
            seg = self.layout.segment(part)
            try:
                xy = np.asarray(arrays[part][first:stop, :, :2], dtype=np.float32)  # only these pages are read
            except (OSError, ValueError) as exc:
                raise ClipError(f"{self.pose_file(part, window.video_id)}: frames {first}-{stop} "
                                f"cannot be read: {exc}") from None
            missing = np.isnan(xy)
            if missing.any():
                counts[f"nan_{part}_frames"] = int(missing.any(axis=(1, 2)).sum())
                xy = np.where(missing, np.float32(0), xy)
            frames[:, seg.start:seg.stop] = xy.reshape(len(xy), -1)
        # NaN is MediaPipe's "not detected"; an infinity or a coordinate 1000 frames away is a
        # corrupt value, and the whole frame is zeroed rather than half-trusted.
        corrupt = ~(np.abs(frames) < ABSURD_VALUE).all(axis=1)
        if corrupt.any():
            frames[corrupt] = 0
            counts["zeroed_frames"] = int(corrupt.sum())
            notes.append(f"{int(corrupt.sum())} of {len(frames)} frames written as zeros: infinite or absurd "
                         f"(>= {ABSURD_VALUE:g}) coordinates")
        counts["frames"] = len(frames)
        return ClipData(frames, counts, notes)

    def describe(self) -> dict:
        return {
            "name": self.reader_name,
            "fps": self.fps,
            "kind": "LSFB-CONT MediaPipe .npy sessions",
            "data_root": self.data_root,
            "annotations": self.annotations,
            "augmented": self.augmented,
            "augmented_splits": list(self.augmented_splits) if self.augmented else [],
            "poses_dir": self.poses_dir,
            "coordinates": "normalised",
            "frame_size": list(self.frame_size),
        }
