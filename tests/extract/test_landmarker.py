"""The Tasks HolisticLandmarker estimator: configuration, refusals, and runs on the real video.

Google's `holistic_landmarker.task` is not in the mediapipe wheel and cannot be downloaded here;
the runs use a stand-in bundle assembled from the wheel's legacy Holistic models
(`slt_nb.testing.landmarker_bundle`), so they check the estimator and the Tasks graph, not the
official model's accuracy.
"""
import json

import numpy as np
import pytest
from mediapipe.tasks.python import vision

from slt_nb.errors import ParameterError
from slt_nb.extract import build_estimator, estimator_class
from slt_nb.extract.holistic import HolisticExtractor
from slt_nb.extract.landmarker import HolisticLandmarkerEstimator
from slt_nb.extract.run import run_extraction
from slt_nb.formats.extraction import HOLISTIC_PARTS, check_pose_arrays
from slt_nb.testing.landmarker_bundle import build_holistic_bundle

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


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The stand-in holistic_landmarker.task built from the wheel's legacy models (testing.landmarker_bundle)."""
    return build_holistic_bundle(tmp_path_factory.mktemp("model") / "holistic_landmarker.task")


@pytest.fixture(scope="module")
def legacy_sampled():
    holistic = HolisticExtractor(holistic_mode="sampled")
    try:
        return holistic.extract(TEST_VIDEO, num_frames=16).arrays
    finally:
        holistic.close()


def test_sampled_landmarker_finds_what_legacy_holistic_finds(bundle, legacy_sampled):
    estimator = HolisticLandmarkerEstimator(bundle, holistic_mode="sampled")
    try:
        poses = estimator.extract(TEST_VIDEO, num_frames=16)
    finally:
        estimator.close()
    got = poses.arrays
    check_pose_arrays(got, TEST_VIDEO, estimator.parts)
    assert poses.inferred_frames == 16
    # the left hand is never in view: detect() would have aborted the process on the first frame
    # the same models through two APIs: a borderline hand may flip in one frame (seen on an AMD EPYC,
    # whose XNNPACK kernels round differently from the machine that wrote these tests)
    for part in HOLISTIC_PARTS:
        assert (got[part.flag] != legacy_sampled[part.flag]).sum() <= 1, part.key
    upper = slice(11, 17)  # shoulders, elbows, wrists
    assert np.median(np.abs(got["pose"][:, upper, :2] - legacy_sampled["pose"][:, upper, :2])) < 0.02
    right = got["right_hand_detected"] & legacy_sampled["right_hand_detected"]
    assert right.any() and np.median(np.abs(got["right_hand"][right] - legacy_sampled["right_hand"][right])) < 0.01


def test_tracking_landmarker_follows_the_reference_poses(bundle):
    estimator = HolisticLandmarkerEstimator(bundle, holistic_mode="tracking")
    poses = estimator.extract(TEST_VIDEO, num_frames=16)
    idx = poses.arrays["frame_indices"]
    assert poses.inferred_frames == 58 and poses.arrays["pose_detected"].all()
    reference = np.load(REAL / "mediapipe_npy" / "test_video" / "pose.npy")[idx]
    err = np.abs(poses.arrays["pose"][:, 11:17, :2] - reference[:, 11:17, :2])
    assert np.median(err) < 0.01 and err.max() < 0.15


def test_an_extraction_run_with_the_landmarker_writes_and_resumes_its_files(tmp_path, bundle):
    report = demo_run(tmp_path, holistic_mode="sampled", estimator="holistic_landmarker", model_path=bundle)
    assert report.counts["extracted"] == 2 and len(report.index) == 2
    identity = json.loads((tmp_path / "extraction.json").read_text(encoding="utf-8"))["settings_identity"]
    assert identity["estimator"] == "holistic_landmarker" and identity["model"] == "holistic_landmarker.task"
    for path in report.index["path"]:
        with np.load(tmp_path / path) as d:
            check_pose_arrays(dict(d), path, HOLISTIC_PARTS)
    again = demo_run(tmp_path, holistic_mode="sampled", estimator="holistic_landmarker", model_path=bundle)
    assert again.counts["resumed"] == 2 and again.counts["extracted"] == 0


def test_resuming_a_holistic_folder_with_the_landmarker_is_refused(tmp_path, unloadable_model):
    demo_run(tmp_path, holistic_mode="sampled", max_videos=1)
    with pytest.raises(ValueError, match="other settings.*'estimator': \\(None, 'holistic_landmarker'\\)"):
        demo_run(tmp_path, holistic_mode="sampled", max_videos=1, estimator="holistic_landmarker",
                 model_path=unloadable_model)
