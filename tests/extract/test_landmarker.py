"""The Tasks HolisticLandmarker estimator, as far as it goes without a model file.

No `holistic_landmarker.task` is in the mediapipe wheel and nothing can be downloaded here, so
these tests cover its configuration, its refusals and its result conversion (fed with a real
HolisticLandmarkerResult container built from legacy Holistic's output on the real test video),
not an inference run.
"""
import numpy as np
import pytest
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.components.containers.landmark import NormalizedLandmark

from slt_nb.errors import ParameterError
from slt_nb.extract import build_estimator, estimator_class
from slt_nb.extract.estimators import empty_poses, store_frame
from slt_nb.extract.holistic import HolisticExtractor, holistic_landmarks
from slt_nb.extract.landmarker import HolisticLandmarkerEstimator
from slt_nb.extract.run import run_extraction
from slt_nb.formats.extraction import HOLISTIC_PARTS, check_pose_arrays

from conftest import DEMO, REAL

WLASL = DEMO / "WLASL"
TEST_VIDEO = REAL / "video_signing" / "test_video.mp4"


@pytest.fixture
def unloadable_model(tmp_path):
    path = tmp_path / "holistic_landmarker.task"
    path.write_bytes(b"not a zip of tflite models")
    return path


def demo_run(output_dir, **kw):
    return run_extraction("poses", WLASL / "WLASL_v0.3.json", WLASL / "videos", output_dir,
                          class_list=WLASL / "wlasl_class_list.txt", split="val", num_frames=2, **kw)


def test_without_a_model_file_it_refuses_and_says_where_to_get_one(tmp_path):
    with pytest.raises(ParameterError, match="needs a model file and none was given.*holistic_landmarker.task"):
        HolisticLandmarkerEstimator()
    with pytest.raises(ParameterError, match="needs a model file"):
        demo_run(tmp_path, estimator="holistic_landmarker")
    assert not any(tmp_path.iterdir()), "the run stops before writing anything"


def test_a_path_that_is_not_a_task_bundle_or_does_not_exist_is_refused(tmp_path):
    with pytest.raises(ParameterError, match=r"pose_landmark_full.tflite' is not a MediaPipe Tasks model bundle"):
        HolisticLandmarkerEstimator(tmp_path / "pose_landmark_full.tflite")
    with pytest.raises(ParameterError, match=r"missing.task': no such file"):
        HolisticLandmarkerEstimator(tmp_path / "missing.task")


def test_a_file_mediapipe_cannot_load_is_named_in_the_error(unloadable_model):
    estimator = HolisticLandmarkerEstimator(unloadable_model, holistic_mode="sampled")
    with pytest.raises(ParameterError, match="holistic_landmarker.task'.*cannot load it as a HolisticLandmarker"):
        estimator.extract(TEST_VIDEO, num_frames=2)


def test_options_name_the_model_and_the_running_mode(unloadable_model):
    estimator = build_estimator("holistic_landmarker", {"model_path": str(unloadable_model), "model_complexity": 1,
                                                        "holistic_mode": "tracking"})
    video, image = estimator.options(video=True), estimator.options(video=False)
    assert video.base_options.model_asset_path == str(unloadable_model)
    assert video.running_mode == vision.RunningMode.VIDEO and image.running_mode == vision.RunningMode.IMAGE
    assert estimator.settings() == {"holistic_mode": "tracking", "model": "holistic_landmarker.task",
                                    "model_sha256": estimator.fingerprint}
    other = unloadable_model.with_name("other.task")
    other.write_bytes(b"another model")
    assert HolisticLandmarkerEstimator(other).fingerprint != estimator.fingerprint


def test_it_writes_the_same_parts_as_legacy_holistic():
    assert estimator_class("holistic_landmarker").parts == estimator_class("holistic").parts == HOLISTIC_PARTS


def test_a_landmarker_result_becomes_the_arrays_of_its_parts():
    """Real Holistic points of the test video, put into the Tasks API's result container and back."""
    holistic = HolisticExtractor(holistic_mode="sampled")
    try:
        arrays = holistic.extract(TEST_VIDEO, num_frames=3).arrays
    finally:
        holistic.close()
    out = empty_poses(HOLISTIC_PARTS, 3)
    for row in range(3):
        fields = {}
        for part in HOLISTIC_PARTS:
            points = arrays[part.key][row] if arrays[part.flag][row] else []
            fields[part.key] = [NormalizedLandmark(*map(float, p[:3]), visibility=float(p[3]) if len(p) == 4 else None)
                                for p in points]
        result = vision.HolisticLandmarkerResult(
            face_landmarks=[], pose_landmarks=fields["pose"], pose_world_landmarks=[],
            left_hand_landmarks=fields["left_hand"], left_hand_world_landmarks=[],
            right_hand_landmarks=fields["right_hand"], right_hand_world_landmarks=[])
        store_frame(out, row, holistic_landmarks(result), HOLISTIC_PARTS)
    out["frame_indices"] = arrays["frame_indices"]
    check_pose_arrays(out, "converted result", HOLISTIC_PARTS)
    for key in arrays:
        np.testing.assert_allclose(out[key], arrays[key], atol=1e-6, err_msg=key)


def test_resuming_a_holistic_folder_with_the_landmarker_is_refused(tmp_path, unloadable_model):
    demo_run(tmp_path, holistic_mode="sampled", max_videos=1)
    with pytest.raises(ValueError, match="other settings.*'estimator': \\(None, 'holistic_landmarker'\\)"):
        demo_run(tmp_path, holistic_mode="sampled", max_videos=1, estimator="holistic_landmarker",
                 model_path=unloadable_model)
