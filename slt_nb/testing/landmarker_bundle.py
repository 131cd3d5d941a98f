"""A HolisticLandmarker `.task` bundle assembled from the models inside the mediapipe wheel.

Google's `holistic_landmarker.task` cannot be downloaded on these machines, so the tests and
benchmarks of the "holistic_landmarker" estimator run it on a stand-in: the same Tasks graph
fed with the legacy Holistic models that mediapipe 0.10.21 ships (`mediapipe/modules/`), each
given the TFLite metadata the Tasks API requires (input normalisation, as the legacy graphs'
ImageToTensorCalculator ranges set it) and zipped under the names the graph looks for.

It is not Google's bundle: the pose landmark model is BlazePose full (the official bundle has
lite), the face models are the legacy ones, there is no face blendshape model (none is asked
for). Its points are close to legacy Holistic's; what it proves is that the estimator runs end
to end, not how good the official model is.
"""
from __future__ import annotations

from pathlib import Path

# name in the bundle -> (file under mediapipe/modules, input float range of the legacy graph)
BUNDLE_MODELS = {
    "pose_detector.tflite": ("pose_detection/pose_detection.tflite", (-1.0, 1.0)),
    "pose_landmarks_detector.tflite": ("pose_landmark/pose_landmark_full.tflite", (0.0, 1.0)),
    "hand_landmarks_detector.tflite": ("hand_landmark/hand_landmark_full.tflite", (0.0, 1.0)),
    "hand_roi_refinement.tflite": ("holistic_landmark/hand_recrop.tflite", (0.0, 1.0)),
    "face_detector.tflite": ("face_detection/face_detection_short_range.tflite", (-1.0, 1.0)),
    "face_landmarks_detector.tflite": ("face_landmark/face_landmark.tflite", (0.0, 1.0)),
}


def with_image_metadata(model: bytes, name: str, float_range: tuple[float, float]) -> bytes:
    """The model with TFLite metadata saying how to normalise an RGB uint8 image into its range."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    low, high = float_range
    std = 255.0 / (high - low)
    writer = metadata_writer.MetadataWriter.create(bytearray(model)).add_general_info(name)
    writer.add_image_input(norm_mean=[-low * std], norm_std=[std])
    for output in writer_utils.get_output_tensor_names(bytearray(model)):
        writer.add_feature_output(name=output)
    content, _ = writer.populate()
    return bytes(content)


def build_holistic_bundle(path: str | Path) -> Path:
    """Write the stand-in `holistic_landmarker.task` to `path` (a few MB, about a second)."""
    import mediapipe
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    from slt_nb.atomic import atomic_path

    modules = Path(mediapipe.__file__).parent / "modules"
    models = {name: with_image_metadata((modules / source).read_bytes(), name, float_range)
              for name, (source, float_range) in BUNDLE_MODELS.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        model_asset_bundle_utils.create_model_asset_bundle(models, str(tmp))
    return path
