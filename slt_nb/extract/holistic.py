"""Pose keypoints from video frames with MediaPipe Holistic (mediapipe 0.10.21, offline).

Per frame: pose 33 x (x, y, z, visibility) and each hand 21 x (x, y, z), MediaPipe-normalised
(x, y in [0, 1] of the image width/height, z relative depth), with a detected flag per part.
An undetected part is zeros with its flag False. `left_hand` is the signer's own left hand
(MediaPipe Holistic's convention).

Two ways to run it, `holistic_mode`:
- "tracking": MediaPipe's video mode over every frame of the clip in order, keeping the sampled
  frames. Landmarks are tracked and smoothed from frame to frame, as in the reference arrays
  in data/realdata/mediapipe_npy (and LSFB-CONT's own poses). Costs one inference per frame.
- "sampled": each sampled frame on its own (static image mode). About clip_frames / num_frames
  times cheaper; on the real test video its points differ from tracking by a few hundredths
  (normalised units) and a hand seen for one frame may be found or missed differently.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.formats.extraction import HOLISTIC_PARTS, pose_keys
from slt_nb.formats.video import VideoError, clip_range, iter_frames, probe_video, sample_clip, sample_frame_indices

HOLISTIC_MODES = ("tracking", "sampled")
POSE_PARTS = tuple(p.key for p in HOLISTIC_PARTS)
POSE_KEYS = pose_keys(HOLISTIC_PARTS)


def check_model_complexity(model_complexity) -> int:
    """Only 1 works here: mediapipe 0.10.21 bundles just that model and cannot download the others."""
    if model_complexity != 1 or isinstance(model_complexity, bool):
        raise ValueError(
            f"model_complexity={model_complexity!r} is not supported: mediapipe 0.10.21 ships only the "
            "model_complexity=1 pose model inside the wheel; 0 (lite) and 2 (heavy) are downloaded on first "
            "use, and nothing can be downloaded on these machines (it fails with URLError). Use 1."
        )
    return 1


def check_holistic_mode(mode: str) -> str:
    if mode not in HOLISTIC_MODES:
        raise ValueError(f"holistic_mode must be one of {HOLISTIC_MODES}, got {mode!r}")
    return mode


def _new_holistic(static_image_mode: bool):
    try:
        import mediapipe as mp
    except ImportError as exc:  # heavy optional dependency: say what to install
        raise ImportError("pose extraction needs mediapipe==0.10.21 (pip install mediapipe==0.10.21)") from exc
    # Face landmarks are not saved; refining them would only cost time.
    return mp.solutions.holistic.Holistic(static_image_mode=static_image_mode, model_complexity=1,
                                          refine_face_landmarks=False)


def empty_poses(frames: int) -> dict[str, np.ndarray]:
    """Arrays for `frames` frames with nothing detected."""
    return {
        "pose": np.zeros((frames, 33, 4), np.float32),
        "pose_detected": np.zeros(frames, bool),
        "left_hand": np.zeros((frames, 21, 3), np.float32),
        "left_hand_detected": np.zeros(frames, bool),
        "right_hand": np.zeros((frames, 21, 3), np.float32),
        "right_hand_detected": np.zeros(frames, bool),
    }


def _fill(out: dict, row: int, results) -> None:
    if results.pose_landmarks is not None:
        out["pose"][row] = [(p.x, p.y, p.z, p.visibility) for p in results.pose_landmarks.landmark]
        out["pose_detected"][row] = True
    for part in ("left_hand", "right_hand"):
        landmarks = getattr(results, f"{part}_landmarks")
        if landmarks is not None:
            out[part][row] = [(p.x, p.y, p.z) for p in landmarks.landmark]
            out[f"{part}_detected"][row] = True


@dataclass
class ClipPoses:
    """Poses at the sampled frames of one clip, plus what reading it cost."""

    arrays: dict[str, np.ndarray]  # POSE_KEYS
    clip_frames: int
    inferred_frames: int  # frames Holistic ran on
    width: int
    height: int
    fps: float


class HolisticExtractor:
    """Runs Holistic on clips; one instance per process (tracking state is reset per clip)."""

    def __init__(self, model_complexity: int = 1, holistic_mode: str = "tracking"):
        self.model_complexity = check_model_complexity(model_complexity)
        self.mode = check_holistic_mode(holistic_mode)
        self._static = None

    def extract(self, path: str | Path, num_frames: int = 16, frame_start: int = 1,
                frame_end: int = -1) -> ClipPoses:
        """Poses at `num_frames` uniformly sampled frames of a clip (VideoError if unreadable)."""
        if self.mode == "sampled":
            clip = sample_clip(path, num_frames, frame_start, frame_end)
            if self._static is None:
                self._static = _new_holistic(static_image_mode=True)
            unique, where = np.unique(clip.frame_indices, return_index=True)
            out = empty_poses(len(clip.frame_indices))
            for row in where:
                _fill(out, row, self._static.process(clip.frames[row]))
            _repeat_rows(out, clip.frame_indices)
            out["frame_indices"] = clip.frame_indices.astype(np.int64)
            return ClipPoses(out, clip.clip_frames, len(unique), clip.width, clip.height, clip.fps)
        return self._extract_tracking(path, num_frames, frame_start, frame_end)

    def _extract_tracking(self, path, num_frames, frame_start, frame_end) -> ClipPoses:
        info = probe_video(path)
        first, stop = clip_range(info["frames"], frame_start, frame_end, path)
        indices = sample_frame_indices(stop - first, num_frames)
        rows_of: dict[int, list[int]] = {}
        for row, i in enumerate(indices.tolist()):
            rows_of.setdefault(i, []).append(row)
        out = empty_poses(len(indices))
        seen = 0
        # Tracking needs every frame in order; only the sampled frames' results are kept.
        with _new_holistic(static_image_mode=False) as holistic:
            for i, rgb in iter_frames(path, first + 1, stop):
                results = holistic.process(rgb)
                seen += 1
                for row in rows_of.get(i, ()):
                    _fill(out, row, results)
        if seen < stop - first:
            raise VideoError(f"{path}: the container lists {stop - first} frames in the clip but only "
                             f"{seen} could be decoded (truncated or damaged file)")
        out["frame_indices"] = indices
        return ClipPoses(out, stop - first, seen, info["width"], info["height"], info["fps"])

    def close(self) -> None:
        if self._static is not None:
            self._static.close()
            self._static = None


def _repeat_rows(out: dict, indices: np.ndarray) -> None:
    """Copy results of a repeated frame index into its later rows (short clips)."""
    for row in range(1, len(indices)):
        if indices[row] == indices[row - 1]:
            for key in out:
                out[key][row] = out[key][row - 1]


def detection_rates(arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of sampled frames in which each part was detected."""
    return {part: float(np.mean(arrays[f"{part}_detected"])) for part in POSE_PARTS}
