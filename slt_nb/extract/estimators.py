"""The `PoseEstimator` base class (the estimator contract) and the `ESTIMATORS` registry's helpers.

A pose estimator turns the frames of a video clip into keypoints with confidences, per body
part of its `parts` (`formats.extraction.PosePart`: key, skeleton, channels). Everything
downstream asks those parts for shapes: the npz contract and its checker, the resume check,
the training pose input, the inspection source and the drawings. Adding an estimator is one
module: a `PoseEstimator` subclass defining its abstract members, decorated with
`@register_estimator` (which refuses it, naming what is missing), listed in the `modules` of
`slt_nb.registry.ESTIMATORS` so the registry finds it.

Most estimators look at one frame at a time; `estimate_clip` holds the frame loop they share
(sampled frames on their own, or every frame in order for trackers, keeping the sampled ones),
so an estimator only says how to turn one RGB frame into landmarks.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from slt_nb.errors import ParameterError, VideoError
from slt_nb.formats.extraction import DEFAULT_ESTIMATOR, PosePart, pose_keys
# Moved to slt_nb.registry / formats.extraction (read by inspection and training, which must not
# import this stage); re-exported here for code written against this module.
from slt_nb.formats.extraction import recorded_estimator  # noqa: F401
from slt_nb.formats.video import clip_range, iter_frames, probe_video, sample_clip, sample_frame_indices
from slt_nb.registry import ESTIMATORS, AbstractAttribute, estimator_parts  # noqa: F401

# Modules whose import registers an estimator (imported on the registry's first use).
ESTIMATOR_MODULES = ESTIMATORS.modules
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


class PoseEstimator(ABC):
    """The contract of a pose estimator: what the extraction run, its resume check and its reports need.

    The run builds one per worker with the options it takes (`options_taken`), calls `extract`
    per video and `close` when the worker is done; `settings` goes into extraction.json.
    """

    name: str = AbstractAttribute(
        "The registered name (params `estimator`), recorded in extraction.json so readers of the folder "
        "know which parts its files hold.")
    parts: tuple[PosePart, ...] = AbstractAttribute(
        "The body parts `extract` writes, in file order: their keys, skeletons and channels are the npz "
        "contract (formats.extraction) of every folder this estimator makes.")
    options_taken: tuple[str, ...] = AbstractAttribute(
        "The run options its constructor takes by keyword (the run passes only these of the options it has).")

    @abstractmethod
    def settings(self) -> dict:
        """The options that change output values, JSON-ready; a resumed run must have the same."""

    @abstractmethod
    def extract(self, path: str | Path, num_frames: int = 16, frame_start: int = 1,
                frame_end: int = -1) -> ClipPoses:
        """Keypoints at `num_frames` uniformly sampled frames of a clip (frames 1-based, inclusive,
        -1 = to the end): exactly the arrays `pose_keys(parts)` with `frame_indices`.

        Raise VideoError naming the file for a video that cannot be read (the run lists it as
        skipped and goes on).
        """

    @abstractmethod
    def close(self) -> None:
        """Release the model (the run calls it when a worker is done); safe to call twice."""


def register_estimator(cls: type) -> type:
    """Class decorator: register a pose estimator (a `PoseEstimator` subclass) under its `name`."""
    return ESTIMATORS.register()(cls)


def load_estimators():
    """The registry with every module in ESTIMATOR_MODULES imported."""
    len(ESTIMATORS)  # the registry imports its modules on first use
    return ESTIMATORS


def estimator_class(name: str | None) -> type[PoseEstimator]:
    """The estimator registered as `name` (None: the default), or UnknownName listing the known ones."""
    return ESTIMATORS.lookup(name or DEFAULT_ESTIMATOR)


def build_estimator(name: str | None, options: dict | None = None) -> PoseEstimator:
    """An estimator from its name and the run's options; each takes only its `options_taken`.

    A run carries the options of every estimator (model_complexity is legacy Holistic's,
    model_path the Tasks landmarker's), so switching estimator is one parameter.
    """
    cls = estimator_class(name)
    options = options or {}
    return cls(**{k: options[k] for k in cls.options_taken if k in options})


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
