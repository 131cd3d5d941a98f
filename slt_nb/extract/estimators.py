"""`ESTIMATORS`: pose estimator name -> class, and the `PoseEstimator` protocol they follow.

A pose estimator turns the frames of a video clip into keypoints with confidences, per body
part of its `parts` (`formats.extraction.PosePart`: key, skeleton, channels). Everything
downstream asks those parts for shapes: the npz contract and its checker, the resume check,
the training pose input, the inspection source and the drawings. Adding an estimator is one
module: a class with the attributes below, decorated with `@register_estimator`, imported in
`ESTIMATOR_MODULES` so the registry finds it.

Most estimators look at one frame at a time; `estimate_clip` holds the frame loop they share
(sampled frames on their own, or every frame in order for trackers, keeping the sampled ones),
so an estimator only says how to turn one RGB frame into landmarks.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Protocol, runtime_checkable

import numpy as np

from slt_nb.errors import ParameterError, UnknownName, VideoError
from slt_nb.formats.extraction import PosePart, pose_keys
from slt_nb.formats.video import clip_range, iter_frames, probe_video, sample_clip, sample_frame_indices

ESTIMATORS: dict[str, type] = {}
# Modules whose import registers an estimator; imported on the first registry lookup so that
# `import slt_nb.extract` stays cheap and mediapipe is only loaded by whoever runs one.
ESTIMATOR_MODULES = ("slt_nb.extract.holistic", "slt_nb.extract.landmarker")
DEFAULT_ESTIMATOR = "holistic"
MODES = ("tracking", "sampled")

# One frame's result: part key -> (points, channels) float array, or None when not detected.
FrameLandmarks = dict[str, "np.ndarray | None"]


@dataclass
class ClipPoses:
    """Poses at the sampled frames of one clip, plus what reading it cost."""

    arrays: dict[str, np.ndarray]  # pose_keys(estimator.parts)
    clip_frames: int
    inferred_frames: int  # frames the estimator ran on
    width: int
    height: int
    fps: float


@runtime_checkable
class PoseEstimator(Protocol):
    """What the extraction run, its resume check and its reports need from an estimator."""

    name: ClassVar[str]
    parts: ClassVar[tuple[PosePart, ...]]  # what `extract` writes, in file order
    options_taken: ClassVar[tuple[str, ...]]  # the run options its constructor takes

    def settings(self) -> dict:
        """The options that change output values; a resumed run must have the same."""

    def extract(self, path: str | Path, num_frames: int = 16, frame_start: int = 1,
                frame_end: int = -1) -> ClipPoses:
        """Keypoints at `num_frames` uniformly sampled frames of a clip (VideoError if unreadable)."""

    def close(self) -> None:
        """Release the model (the run calls it when a worker is done)."""


REQUIRED = ("name", "parts", "options_taken", "settings", "extract", "close")


def register_estimator(cls: type) -> type:
    """Class decorator: register a pose estimator under its `name`."""
    missing = [attr for attr in REQUIRED if not hasattr(cls, attr)]
    if missing:
        raise TypeError(f"pose estimator {cls.__name__} lacks {missing}")
    if cls.name in ESTIMATORS and ESTIMATORS[cls.name] is not cls:
        raise ValueError(f"a pose estimator named {cls.name!r} is already registered "
                         f"({ESTIMATORS[cls.name].__name__})")
    ESTIMATORS[cls.name] = cls
    return cls


def load_estimators() -> dict[str, type]:
    """The registry with every module in ESTIMATOR_MODULES imported."""
    for module in ESTIMATOR_MODULES:
        importlib.import_module(module)
    return ESTIMATORS


def estimator_class(name: str | None) -> type:
    """The estimator registered as `name` (None: the default), or UnknownName listing the known ones."""
    known = load_estimators()
    try:
        return known[name or DEFAULT_ESTIMATOR]
    except KeyError:
        raise UnknownName(f"no pose estimator named {name!r}; known estimators: {sorted(known)}") from None


def build_estimator(name: str | None, options: dict | None = None):
    """An estimator from its name and the run's options; each takes only its `options_taken`.

    A run carries the options of every estimator (model_complexity is legacy Holistic's,
    model_path the Tasks landmarker's), so switching estimator is one parameter.
    """
    cls = estimator_class(name)
    options = options or {}
    return cls(**{k: options[k] for k in cls.options_taken if k in options})


def estimator_parts(name: str | None) -> tuple[PosePart, ...]:
    """The parts an estimator writes, without building (or loading a model for) it."""
    return estimator_class(name).parts


def recorded_estimator(output_dir: str | Path) -> str:
    """The pose estimator an extraction folder was made with (its extraction.json; Holistic if none)."""
    record = Path(output_dir) / "extraction.json"
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))["settings"].get("estimator") or DEFAULT_ESTIMATOR
    return DEFAULT_ESTIMATOR


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ParameterError(f"holistic_mode must be one of {MODES}, got {mode!r}")
    return mode


def empty_poses(parts: tuple[PosePart, ...], frames: int) -> dict[str, np.ndarray]:
    """Arrays for `frames` frames of `parts` with nothing detected (zeros, flags False)."""
    out: dict[str, np.ndarray] = {}
    for part in parts:
        out[part.key] = np.zeros(part.shape(frames), np.float32)
        out[part.flag] = np.zeros(frames, bool)
    return out


def store_frame(out: dict, row: int, landmarks: FrameLandmarks, parts: tuple[PosePart, ...]) -> None:
    """Put one frame's landmarks into row `row` of the clip arrays."""
    for part in parts:
        points = landmarks.get(part.key)
        if points is not None:
            out[part.key][row] = points
            out[part.flag][row] = True


def estimate_clip(path: str | Path, parts: tuple[PosePart, ...], num_frames: int, frame_start: int,
                  frame_end: int, tracking: bool,
                  frame_landmarks: Callable[[np.ndarray, int], FrameLandmarks]) -> ClipPoses:
    """Run `frame_landmarks(rgb, timestamp_ms)` over a clip and keep the uniformly sampled frames.

    tracking=False decodes only the sampled frames and runs each once (a frame index repeated
    in a short clip is run once and copied). tracking=True runs every frame of the clip in
    order, as trackers need, and keeps the results of the sampled ones.
    """
    if not tracking:
        clip = sample_clip(path, num_frames, frame_start, frame_end)
        out = empty_poses(parts, len(clip.frame_indices))
        unique, where = np.unique(clip.frame_indices, return_index=True)
        ms_per_frame = 1000.0 / clip.fps if clip.fps else 40.0
        for row in where:
            store_frame(out, row, frame_landmarks(clip.frames[row], int(clip.frame_indices[row] * ms_per_frame)),
                        parts)
        repeat_rows(out, clip.frame_indices)
        out["frame_indices"] = clip.frame_indices.astype(np.int64)
        return ClipPoses(out, clip.clip_frames, len(unique), clip.width, clip.height, clip.fps)

    info = probe_video(path)
    first, stop = clip_range(info["frames"], frame_start, frame_end, path)
    indices = sample_frame_indices(stop - first, num_frames)
    rows_of: dict[int, list[int]] = {}
    for row, i in enumerate(indices.tolist()):
        rows_of.setdefault(i, []).append(row)
    out = empty_poses(parts, len(indices))
    ms_per_frame = 1000.0 / info["fps"] if info["fps"] else 40.0
    seen = 0
    for i, rgb in iter_frames(path, first + 1, stop):
        landmarks = frame_landmarks(rgb, int(round(i * ms_per_frame)))
        seen += 1
        for row in rows_of.get(i, ()):
            store_frame(out, row, landmarks, parts)
    if seen < stop - first:
        raise VideoError(f"{path}: the container lists {stop - first} frames in the clip but only "
                         f"{seen} could be decoded (truncated or damaged file)")
    out["frame_indices"] = indices
    return ClipPoses(out, stop - first, seen, info["width"], info["height"], info["fps"])


def repeat_rows(out: dict, indices: np.ndarray) -> None:
    """Copy results of a repeated frame index into its later rows (short clips)."""
    for row in range(1, len(indices)):
        if indices[row] == indices[row - 1]:
            for key in out:
                out[key][row] = out[key][row - 1]


def detection_rates(arrays: dict[str, np.ndarray], parts: tuple[PosePart, ...]) -> dict[str, float]:
    """Share of sampled frames in which each part was detected."""
    return {part.key: float(np.mean(arrays[part.flag])) for part in parts}


def clip_arrays(poses: ClipPoses, parts: tuple[PosePart, ...]) -> dict[str, np.ndarray]:
    """The arrays of a clip that the npz contract of `parts` holds, in file order."""
    return {k: poses.arrays[k] for k in pose_keys(parts)}
