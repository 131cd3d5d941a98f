"""Pose keypoints with MediaPipe's Tasks API `HolisticLandmarker` and a user-supplied `.task` model.

The second entry of `ESTIMATORS` ("holistic_landmarker"). The legacy `mp.solutions.holistic`
API (the "holistic" estimator) ends with mediapipe 0.10.21, which has no wheel for Python 3.13;
the Tasks API is its successor and takes its model as a file rather than from inside the wheel.
This wheel does not contain that file and nothing can be downloaded here, so the user passes
`model_path`: a `holistic_landmarker.task` bundle fetched once from MediaPipe's model page.
Without one the estimator refuses when it is built, before any video is read. (The tests run
it on a stand-in bundle assembled from the wheel's legacy models, `slt_nb.testing.landmarker_bundle`.)

It writes the same parts as Holistic (`HOLISTIC_PARTS`: pose 33 x,y,z,visibility; hands 21
x,y,z; `left_hand` the signer's left), so training, inspection and drawings take its files as
they are. Tracking runs the landmarker in VIDEO mode over every frame with timestamps from the
frame rate; "sampled" runs IMAGE mode on the sampled frames only.

mediapipe 0.10.21's `HolisticLandmarker.detect()` cannot be used on signing video: it aborts the
whole process (a C++ CHECK, not a Python exception) when a hand is not in view, and returns
nothing at all, pose and hands included, when the face is not found (mediapipe issue 5181). So
`part_landmarks` reads each part's output stream of the task graph itself, through the task's
packet interface, and a part whose stream is empty is "not detected".
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from slt_nb.errors import ParameterError
from slt_nb.extract.estimators import (ClipPoses, FrameLandmarks, PoseEstimator, check_mode, estimate_clip,
                                       register_estimator)
from slt_nb.extract.holistic import RESULT_FIELDS, import_mediapipe, landmark_array
from slt_nb.formats.extraction import HOLISTIC_PARTS

MODEL_HINT = ("download holistic_landmarker.task from MediaPipe's HolisticLandmarker model page "
              "(https://ai.google.dev/edge/mediapipe/solutions/vision/holistic_landmarker) on a machine "
              "with internet access and pass its path as model_path")


def check_model_path(model_path) -> Path:
    """The model file as a Path, or ParameterError saying what is missing and where to get it."""
    if model_path is None or str(model_path).strip() == "":
        raise ParameterError(f"the 'holistic_landmarker' pose estimator needs a model file and none was given: "
                             f"{MODEL_HINT}")
    path = Path(model_path).expanduser()
    if path.suffix != ".task":
        raise ParameterError(f"model_path {str(path)!r} is not a MediaPipe Tasks model bundle (expected a "
                             f"'.task' file): {MODEL_HINT}")
    if not path.is_file():
        raise ParameterError(f"model_path {str(path)!r}: no such file; {MODEL_HINT}")
    return path


def file_fingerprint(path: Path) -> str:
    """sha256 of a model file, so a resumed run notices that the model changed."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def part_landmarks(landmarker, rgb: np.ndarray, timestamp_ms: int | None = None) -> FrameLandmarks:
    """One frame through a HolisticLandmarker (IMAGE mode, or VIDEO mode with a timestamp), per part.

    The task's packet interface (`_process_image_data` / `_process_video_data`, what `detect`
    and `detect_for_video` call) is used instead of `detect`, which crashes on a missing hand.
    """
    mp = import_mediapipe()
    from mediapipe.framework.formats import landmark_pb2
    from mediapipe.python import packet_creator, packet_getter

    packet = packet_creator.create_image(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    if timestamp_ms is None:
        outputs = landmarker._process_image_data({"image_in": packet})
    else:  # the graph counts time in microseconds
        outputs = landmarker._process_video_data({"image_in": packet.at(timestamp_ms * 1000)})
    found: FrameLandmarks = {}
    for part in HOLISTIC_PARTS:
        stream = outputs[RESULT_FIELDS[part.key]]
        if stream.is_empty():
            found[part.key] = None
            continue
        landmarks = landmark_pb2.NormalizedLandmarkList()
        landmarks.MergeFrom(packet_getter.get_proto(stream))
        found[part.key] = landmark_array(landmarks.landmark, part.channels) if len(landmarks.landmark) else None
    return found


@register_estimator
class HolisticLandmarkerEstimator(PoseEstimator):
    """MediaPipe Tasks HolisticLandmarker from a local `.task` file; one instance per process."""

    name = "holistic_landmarker"
    parts = HOLISTIC_PARTS
    options_taken = ("model_path", "holistic_mode")

    def __init__(self, model_path=None, holistic_mode: str = "tracking"):
        self.model_path = check_model_path(model_path)
        self.mode = check_mode(holistic_mode)
        self.fingerprint = file_fingerprint(self.model_path)
        self._image = None

    def settings(self) -> dict:
        return {"holistic_mode": self.mode, "model": self.model_path.name, "model_sha256": self.fingerprint}

    def options(self, video: bool):
        """HolisticLandmarkerOptions for this model in VIDEO (tracking) or IMAGE mode."""
        import_mediapipe()
        from mediapipe.tasks.python import BaseOptions, vision

        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        return vision.HolisticLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(self.model_path)),
                                                running_mode=mode)

    def new_landmarker(self, video: bool):
        from mediapipe.tasks.python import vision

        try:
            return vision.HolisticLandmarker.create_from_options(self.options(video))
        except RuntimeError as exc:  # mediapipe says only what failed inside, not which file
            raise ParameterError(f"model_path {str(self.model_path)!r}: MediaPipe cannot load it as a "
                                 f"HolisticLandmarker model ({exc}); {MODEL_HINT}") from exc

    def extract(self, path: str | Path, num_frames: int = 16, frame_start: int = 1,
                frame_end: int = -1) -> ClipPoses:
        """Poses at `num_frames` uniformly sampled frames of a clip (VideoError if unreadable)."""
        if self.mode == "sampled":
            if self._image is None:
                self._image = self.new_landmarker(video=False)
            return estimate_clip(path, self.parts, num_frames, frame_start, frame_end, tracking=False,
                                 frame_landmarks=lambda rgb, ms: part_landmarks(self._image, rgb))
        # VIDEO mode needs increasing timestamps, so each clip gets its own landmarker.
        with self.new_landmarker(video=True) as tracker:
            return estimate_clip(path, self.parts, num_frames, frame_start, frame_end, tracking=True,
                                 frame_landmarks=lambda rgb, ms: part_landmarks(tracker, rgb, ms))

    def close(self) -> None:
        if self._image is not None:
            self._image.close()
            self._image = None
