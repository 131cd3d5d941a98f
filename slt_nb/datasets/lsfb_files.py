"""LSFB-CONT files: sentence windows, session arrays and the 2.x subtitles, checked before use.

A window (session, start ms, end ms) is refused with its reason when its times are negative,
NaN, infinite or reversed; a session array when it is empty, truncated, an `.npz` saved as
`.npy`, not a regular file or not of real numbers; subtitle times when they read as frame numbers.
"""
from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass

import numpy as np

from slt_nb.errors import AnnotationError, ClipError
from slt_nb.paths import file_kind


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


SUBTITLES = "{data_root}/annotations/subtitles.json"
SPLITS_DIR = "{data_root}/metadata/splits"
# A window may end a little past the last pose frame (rounding, a trailing frame not estimated).
END_SLACK_MS = 1000.0


def check_subtitle_times(path: str, session: str, windows: list[tuple[float, float]], frames: int,
                         fps: float = 50.0) -> None:
    """Raise AnnotationError, naming the session, when its subtitle times read as frame numbers.

    Windows so short and so early (a sentence lasting under 0.2 s, every end within `frames`)
    say the file's unit is frames, which holds for every session of it: the plan stops.
    """
    if len(windows) < 3:
        return
    length_ms = frames * 1000.0 / fps
    ends = sorted(end for _, end in windows)
    durations = sorted(end - start for start, end in windows)
    median = durations[len(durations) // 2]
    if median < 200 and ends[-1] <= frames:
        raise AnnotationError(
            f"{path}: session {session}: subtitle times look like frame numbers, not milliseconds: the "
            f"median subtitle lasts {median:g} and every end is within {ends[-1]:g} of a session of {frames} "
            f"frames ({length_ms:g} ms); expected milliseconds")


def session_poses_problem(pose_path: str, windows: list[tuple[float, float]], frames: int,
                          fps: float = 50.0) -> str:
    """Why a session's poses cannot hold its subtitles ("" when they can): none, or they end first."""
    if frames == 0:
        return f"{pose_path}: 0 frames (T = 0); the session has no poses for its {len(windows)} subtitle(s)"
    length_ms = frames * 1000.0 / fps
    last = max(end for _, end in windows)
    if last > length_ms + END_SLACK_MS:
        return (f"{pose_path}: poses shorter than the session's subtitles: a subtitle ends at {last:g} ms but "
                f"the poses have {frames} frames = {length_ms:g} ms at {fps:g} fps (expected every end "
                f"<= {length_ms + END_SLACK_MS:g} ms)")
    return ""


def load_session_array(path: str) -> np.ndarray:
    """A session's .npy, memory-mapped, or ClipError saying what the file is instead.

    np.load opens a zip archive whatever its name, so an `.npz` saved as `.npy` comes back as
    an NpzFile, not an error; complex, string, structured and object arrays load fine too and
    are refused here by their dtype, before numpy would cast them to wrong numbers.
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ClipError(f"{path}: a folder; expected a .npy file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block np.load forever
            raise ClipError(f"{path}: not a regular file ({file_kind(info.st_mode)}); expected a .npy file")
        if info.st_size == 0:
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
        raise ClipError(f"{path}: dtype {arr.dtype} ({dtype_kind(arr.dtype)}); expected real numbers "
                        "(float16/32/64 or integers)")
    return arr


def dtype_kind(dtype: np.dtype) -> str:
    if dtype.fields:
        return "structured"
    return {"c": "complex", "U": "string", "S": "bytes", "O": "object", "b": "boolean", "M": "datetime",
            "m": "timedelta", "V": "raw bytes"}.get(dtype.kind, dtype.kind)


class JSONObject(dict):
    """A JSON object as a dict, with the keys the file gave more than once and all their values."""

    duplicates: dict[str, list]


def _object_with_duplicates(pairs: list[tuple[str, object]]) -> JSONObject:
    obj, seen = JSONObject(), {}
    for key, value in pairs:
        seen.setdefault(key, []).append(value)
        obj[key] = value
    obj.duplicates = {k: v for k, v in seen.items() if len(v) > 1}
    return obj


def read_json(path: str, what: str):
    """A JSON file whose objects are `JSONObject`s: a key given twice is kept in `.duplicates`, not lost."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=_object_with_duplicates)
    except FileNotFoundError:
        raise AnnotationError(f"{path}: {what} not found") from None
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{path}: {what} is not valid JSON ({exc})") from None
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise AnnotationError(f"{path}: {what} cannot be read ({type(exc).__name__}: {exc})") from None
