"""LSFB-CONT: one MediaPipe pose array per session video, one window of it per sentence.

Two layouts, detected by which annotation file exists:
- one annotations.csv ("annotations-csv", the layout the demo data uses):
    annotations.csv                 id,text,video_id,start,end,split   (start/end in ms)
    annotations_train_augmented.csv id,text[,...]                       (several texts per id)
    poses/{pose,left_hand,right_hand}/<video_id>.npy                    (T, N, 3) x,y,z
- lsfb-dataset 2.x ("official-2.x"), planned by `lsfb_official`:
    annotations/subtitles.json      {"<session id>": [{"start": ms, "end": ms, "value": text}, ...]}
    metadata/splits/<split>.json    a list of session ids
    poses/{pose,left_hand,right_hand}/<session id>.npy
  Sentences are named `<session>_<k>` (k-th subtitle of the session by start time); a session
  whose poses end before its subtitles (or hold no frames, or are no (T, N, 3) array) has its
  rows skipped by name.

A sentence is frames floor(start / 20) .. ceil(end / 20) of its session at 50 fps (20 ms a
frame, as the official lsfb-dataset library maps them). Features per frame: pose 33 x,y +
left hand 21 x,y + right hand 21 x,y = 150 (`MEDIAPIPE_150`). Real downloads are float16 and
may hold NaN (not detected): read as float32, NaN becomes 0 and is counted.

Session arrays are memory-mapped and opened once for all of their sentences: only the pages of
the windows asked for are read, so memory does not grow with the length of a session.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from slt_nb.datasets.base import (ClipData, ExportItem, Reader, Skipped, SplitPlan, TextRow, canonical_split,
                                  common_params, frame_list, items_from_rows, register_reader, split_values_entry)
from slt_nb.errors import AnnotationError, ClipError, ParameterError
from slt_nb.paths import plain_name
from slt_nb.registry import another_reader_hint
from slt_nb.formats.annotations import read_augmented, read_table
from slt_nb.datasets.lsfb_files import (ABSURD_VALUE, SPLITS_DIR, SUBTITLES, Window, frame_range,
                                        load_session_array, window_problem)
from slt_nb.datasets.lsfb_official import detect_official, official_splits, plan_official
from slt_nb.layouts import MEDIAPIPE_150

PARTS = ("pose", "left_hand", "right_hand")
COLUMNS = ("id", "text", "video_id", "start", "end", "split")


def read_lsfb_annotations(path: str) -> tuple[list[dict], list[Skipped]]:
    """All rows of `annotations.csv` as dicts with their line number; malformed rows skipped."""
    return read_table(path, COLUMNS)


@register_reader("lsfb")
@dataclass
class LSFBReader(Reader):
    """Plans and reads LSFB-CONT sentence windows for export."""

    data_root: str
    annotations: str = "{data_root}/annotations.csv"
    augmented: str | None = None  # e.g. "{data_root}/annotations_train_augmented.csv"
    augmented_splits: tuple[str, ...] = ("train",)
    poses_dir: str = "{data_root}/poses"
    fps: float = 50.0
    frame_size: tuple[int, int] = (720, 576)  # the session videos; MediaPipe coordinates are fractions of it
    dataset: str = "LSFB-CONT"
    variant: str = ""
    layout = MEDIAPIPE_150
    point_confidence = None  # the .npy arrays hold x, y, z: no visibility
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
            fps=float(params.get("source_fps", 50)),
            frame_size=tuple(int(v) for v in params.get("frame_size") or (720, 576)),
            **common_params(params),
        )

    @staticmethod
    def detect(root: str) -> bool:
        """Whether `root` looks like an LSFB-CONT tree: poses/pose/ and either layout's annotations."""
        return os.path.isdir(os.path.join(root, "poses", "pose")) and (
            os.path.isfile(os.path.join(root, "annotations.csv")) or detect_official(root))

    def tree_layout(self) -> str:
        """`annotations-csv` (annotations.csv), `official-2.x` (annotations/subtitles.json), else an error listing both."""
        csv_path, official = self._path(self.annotations), SUBTITLES.format(data_root=self.data_root)
        if os.path.isfile(csv_path):
            return "annotations-csv"
        if detect_official(self.data_root):
            return "official-2.x"
        raise AnnotationError(
            f"{self.data_root}: no LSFB-CONT layout matches; tried:\n"
            f"  annotations-csv: {csv_path} (id,text,video_id,start,end,split) and {self.pose_file('pose', '<video_id>')}\n"
            f"  official-2.x: {official}, {SPLITS_DIR.format(data_root=self.data_root)}/<split>.json and "
            f"{self.pose_file('pose', '<id>')}" + another_reader_hint(self.data_root, self.reader_name))

    def splits_present(self) -> list[str] | None:
        """The split files of the official layout; None for annotations-csv (its splits are rows)."""
        if self.tree_layout() != "official-2.x":
            return None
        return official_splits(self.data_root)

    def require_splits(self, splits: list[str]) -> None:
        """Raise if the official layout has no split file for a split asked for (annotations-csv's splits are rows)."""
        present = self.splits_present()
        missing = [s for s in splits if present is not None and s not in present]
        if missing:
            raise AnnotationError(f"LSFB-CONT splits {missing} not found: looked for "
                                  f"{[os.path.join(SPLITS_DIR.format(data_root=self.data_root), m + '.json') for m in missing]}; "
                                  f"splits present: {present or 'none'}")

    def sessions_on_disk(self) -> set[str]:
        try:
            with os.scandir(os.path.join(self._path(self.poses_dir), "pose")) as it:
                return {e.name[:-4] for e in it if e.name.endswith(".npy")}
        except FileNotFoundError:
            return set()

    def _path(self, template: str) -> str:
        return template.format(data_root=self.data_root)

    def poses_root(self) -> str:
        """The folder holding poses/{pose,left_hand,right_hand}/<session>.npy."""
        return self._path(self.poses_dir)

    def pose_file(self, part: str, video_id: str) -> str:
        """The session's array for one part; ClipError if video_id would lead outside poses/<part>/."""
        folder = os.path.join(self._path(self.poses_dir), part)
        name = plain_name(video_id, folder, "video_id", "the name of a session file in that folder")
        return os.path.join(folder, f"{name}.npy")

    def source_files(self, item: ExportItem) -> list[str]:
        """The session arrays a window is read from (the export's resume key covers them)."""
        try:
            return [self.pose_file(part, item.locator.video_id) for part in PARTS]
        except ClipError:
            return []  # an id leading outside the pose folders is skipped by the plan

    def plan(self, split: str) -> SplitPlan:
        if self.tree_layout() == "official-2.x":
            return plan_official(self, split)
        ann_path = self._path(self.annotations)
        all_rows, bad = read_lsfb_annotations(ann_path)
        augmented = bool(self.augmented) and split in self.augmented_splits
        windows: dict[str, tuple[Window | None, int]] = {}  # id -> (window, line), first row wins
        by_value: dict[str, int] = {}
        for r in all_rows:
            by_value[r["split"]] = by_value.get(r["split"], 0) + 1
            r["split"] = canonical_split(r["split"])
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
            try:  # checked here too, so an escaping video_id is a skip of the plan, not of the read
                self.pose_file("pose", window.video_id)
            except ClipError as exc:
                raise ClipError(f"{ann_path} line {line}: {exc}") from None
            return [(row.id, window, "")]

        items = items_from_rows(split, rows, resolve, path, skipped, augmented)
        on_disk = self.sessions_on_disk()
        named = {r["video_id"] for r in all_rows}
        without_sessions = sorted({item.locator.video_id for item in items} - on_disk)
        extra = {
            "source": {"layout": "annotations-csv", "text": ann_path, "poses": self._path(self.poses_dir)},
            "split_values": split_values_entry(ann_path, len(all_rows) + len(bad), by_value, len(bad)),
            "reconciliation": {
                "rows_without_sessions": sum(len(item.rows) for item in items if item.locator.video_id not in on_disk),
                "sessions_missing": without_sessions,
                "sessions_without_rows": len(on_disk - named),
                "sessions_without_rows_list": sorted(on_disk - named),
            },
        }
        return SplitPlan(split, path, total, items, skipped, extra)

    def _open_session(self, video_id: str) -> dict[str, np.ndarray]:
        if self._session_id == video_id:
            return self._session
        self._session_id, self._session = None, None  # let the previous session go first
        arrays = {}
        for part in PARTS:
            path = self.pose_file(part, video_id)
            if not os.path.lexists(path):
                raise ClipError(f"{path}: pose file missing")
            arr = load_session_array(path)
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
            nan = np.isnan(xy)
            if nan.any():
                # NaN x and y is MediaPipe's "not detected"; one NaN beside a number is no point
                # either, and is said, since the file is not what MediaPipe writes.
                missing = nan.any(axis=2)
                counts[f"nan_{part}_frames"] = int(missing.any(axis=1).sum())
                half = missing & ~nan.all(axis=2)
                if half.any():
                    where = np.flatnonzero(half.any(axis=1)) + first
                    notes.append(f"{self.pose_file(part, window.video_id)}: {int(half.sum())} points with one "
                                 f"coordinate NaN and the other a number, exported as undetected (0, 0): session "
                                 f"frames {frame_list(where)}")
                xy = np.where(missing[..., None], np.float32(0), xy)
            frames[:, seg.start:seg.stop] = xy.reshape(len(xy), -1)
        # An infinity or a coordinate 1000 frames away is a corrupt value, and the whole frame is
        # zeroed rather than half-trusted.
        corrupt = ~(np.abs(frames) < ABSURD_VALUE).all(axis=1)
        if corrupt.any():
            frames[corrupt] = 0
            counts["zeroed_frames"] = int(corrupt.sum())
            notes.append(f"{int(corrupt.sum())} of {len(frames)} frames written as zeros: infinite or absurd "
                         f"(>= {ABSURD_VALUE:g}) coordinates in session frames {frame_list(np.flatnonzero(corrupt) + first)}"
                         f" of {window.video_id}")
        counts["frames"] = len(frames)
        return ClipData(frames, counts, notes, pixel_scale=(float(self.frame_size[0]), float(self.frame_size[1])),
                        fps=self.fps)

    def describe(self) -> dict:
        try:
            tree = self.tree_layout()
        except AnnotationError:
            tree = "none"
        return {
            "name": self.reader_name,
            "tree": {"layout": tree},
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
