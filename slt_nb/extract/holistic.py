"""Pose keypoints from video frames with MediaPipe Holistic (mediapipe 0.10.21, offline).

The first entry of `ESTIMATORS` ("holistic"): the legacy `mp.solutions.holistic` API, whose
models ship inside the wheel. Per frame: pose 33 x (x, y, z, visibility) and each hand
21 x (x, y, z), MediaPipe-normalised (x, y in [0, 1] of the image width/height, z relative
depth), with a detected flag per part (`HOLISTIC_PARTS`). An undetected part is zeros with its
flag False. `left_hand` is the signer's own left hand (MediaPipe Holistic's convention).

Two ways to run it, `holistic_mode`:
- "tracking": MediaPipe's video mode over every frame of the clip in order, keeping the sampled
  frames. Landmarks are tracked and smoothed from frame to frame, as in the reference arrays
  in data/realdata/mediapipe_npy (and LSFB-CONT's own poses). Costs one inference per frame.
- "sampled": each sampled frame on its own (static image mode). About clip_frames / num_frames
  times cheaper; on the real test video its points differ from tracking by a few hundredths
  (normalised units) and a hand seen for one frame may be found or missed differently.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from slt_nb.errors import MissingDependency, ParameterError
from slt_nb.extract.estimators import (MODES, ClipPoses, FrameLandmarks, PoseEstimator, check_mode, estimate_clip,
                                       register_estimator)
from slt_nb.formats.extraction import HOLISTIC_PARTS, pose_keys

HOLISTIC_MODES = MODES
POSE_PARTS = tuple(p.key for p in HOLISTIC_PARTS)
POSE_KEYS = pose_keys(HOLISTIC_PARTS)
# The result attribute holding each part's landmarks (the same in the legacy and the Tasks API).
RESULT_FIELDS = {"pose": "pose_landmarks", "left_hand": "left_hand_landmarks", "right_hand": "right_hand_landmarks"}


def check_model_complexity(model_complexity) -> int:
    """Only 1 works here: mediapipe 0.10.21 bundles just that model and cannot download the others."""
    if model_complexity != 1 or isinstance(model_complexity, bool):
        raise ParameterError(
            f"model_complexity={model_complexity!r} is not supported: mediapipe 0.10.21 ships only the "
            "model_complexity=1 pose model inside the wheel; 0 (lite) and 2 (heavy) are downloaded on first "
            "use, and nothing can be downloaded on these machines (it fails with URLError). Use 1."
        )
    return 1


def check_holistic_mode(mode: str) -> str:
    return check_mode(mode)


def import_mediapipe():
    """mediapipe, or an ImportError saying which version to install."""
    from slt_nb.quiet import filter_native_stderr

    filter_native_stderr()  # MediaPipe's C++ logs known noise to fd 2 from its threads (slt_nb.quiet)
    try:
        import mediapipe as mp
    except ImportError as exc:  # heavy optional dependency: say what to install
        raise MissingDependency("pose extraction needs mediapipe==0.10.21 (pip install mediapipe==0.10.21)") from exc
    return mp


def new_holistic(static_image_mode: bool):
    mp = import_mediapipe()
    # Face landmarks are not saved; refining them would only cost time.
    return mp.solutions.holistic.Holistic(static_image_mode=static_image_mode, model_complexity=1,
                                          refine_face_landmarks=False)


def holistic_landmarks(results) -> FrameLandmarks:
    """One frame's result of either MediaPipe Holistic API as part key -> (points, channels) array or None.

    The legacy API gives a landmark-list message or None per part, the Tasks API a plain list
    that is empty when the part was not found; both hold landmarks with x, y, z, visibility.
    """
    out: FrameLandmarks = {}
    for part in HOLISTIC_PARTS:
        found = getattr(results, RESULT_FIELDS[part.key])
        found = getattr(found, "landmark", found)
        out[part.key] = landmark_array(found, part.channels) if found else None
    return out


def landmark_array(landmarks, channels: int) -> np.ndarray:
    """MediaPipe landmarks as (points, channels) float32: x, y, z and, with 4 channels, visibility."""
    fields = ("x", "y", "z", "visibility")[:channels]
    return np.array([[getattr(p, f) or 0.0 for f in fields] for p in landmarks], np.float32)


@register_estimator
class HolisticExtractor(PoseEstimator):
    """Runs Holistic on clips; one instance per process (tracking state is reset per clip)."""

    name = "holistic"
    parts = HOLISTIC_PARTS
    options_taken = ("model_complexity", "holistic_mode")

    def __init__(self, model_complexity: int = 1, holistic_mode: str = "tracking"):
        self.model_complexity = check_model_complexity(model_complexity)
        self.mode = check_holistic_mode(holistic_mode)
        self._static = None

    def settings(self) -> dict:
        return {"model_complexity": self.model_complexity, "holistic_mode": self.mode}

    def extract(self, path: str | Path, num_frames: int = 16, frame_start: int = 1,
                frame_end: int = -1) -> ClipPoses:
        """Poses at `num_frames` uniformly sampled frames of a clip (VideoError if unreadable)."""
        if self.mode == "sampled":
            if self._static is None:
                self._static = new_holistic(static_image_mode=True)
            return estimate_clip(path, self.parts, num_frames, frame_start, frame_end, tracking=False,
                                 frame_landmarks=lambda rgb, ms: holistic_landmarks(self._static.process(rgb)))
        # A fresh tracker per clip: tracking state must not leak from one video into the next.
        with new_holistic(static_image_mode=False) as tracker:
            return estimate_clip(path, self.parts, num_frames, frame_start, frame_end, tracking=True,
                                 frame_landmarks=lambda rgb, ms: holistic_landmarks(tracker.process(rgb)))

    def close(self) -> None:
        if self._static is not None:
            self._static.close()
            self._static = None

