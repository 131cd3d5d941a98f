"""feature_layout / normalize / fps / min_confidence on real data (README "Training on several corpora").

The same signing video through OpenPose (How2Sign tree) and MediaPipe (LSFB-CONT tree), exported
with each option; agreement figures measured here on that pair (9 frames):

    aligned + frame      nose/shoulders/elbows/wrists: max 0.027, mean <= 0.014 of the frame
    aligned + shoulders  nose and shoulders: max 0.025 shoulder widths; elbows and wrists: max 0.111,
                         mean <= 0.067 (the two estimators place elbows ~15 px apart and measure
                         shoulder widths a few per cent apart; both scale with the distance from
                         the shoulders)
    seed                 columns 0-49 differ by a median 0.13 of the frame: other joints
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from slt_nb.testing.same_video import FRAMES, how2sign_params, how2sign_same_video, lsfb_params, lsfb_same_video
from slt_nb.errors import ParameterError
from slt_nb.export.features import COLUMN0_GUARD, FeatureOptions, resample, resampled_length
from slt_nb.export.run import run_export
from slt_nb.export.validate import validate_exports
from slt_nb.formats.pami import load_signformer
from slt_nb.layouts import ALIGNED_150, BODY_25, MEDIAPIPE_150, OPENPOSE_134, point_map
from slt_nb.params import load_params

HERE = Path(__file__).parent
JOINTS = ("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")


def signs(out: Path, dataset: str) -> list[np.ndarray]:
    return [s["sign"].numpy() for s in load_signformer(out / f"{dataset}-1024.pami0.train.part0")]


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("same_video")
    return how2sign_same_video(root / "How2Sign"), lsfb_same_video(root / "LSFB-CONT")


def export_pair(trees, out: Path, **options) -> tuple[np.ndarray, np.ndarray]:
    h2s, lsfb = trees
    run_export(how2sign_params(h2s, out, **options))
    run_export(lsfb_params(lsfb, out, **options))
    (a,), (b,) = signs(out, "How2Sign"), signs(out, "LSFB-CONT")
    return a, b


def joint_error(a: np.ndarray, b: np.ndarray, joint: str) -> np.ndarray:
    seg = ALIGNED_150.segment("pose")
    i = seg.skeleton.index(joint)
    return np.abs(seg.points(a)[:, i] - seg.points(b)[:, i])


def test_seed_exports_are_byte_identical_to_those_before_the_options(tmp_path):
    reference = json.loads((HERE / "seed_export_sha256.json").read_text())["parts"]
    seen = {}
    for name in ("How2Sign", "How2Sign-aug", "LSFB-CONT", "LSFB-CONT-aug", "PoseFormat"):
        run_export(load_params(name, {"output_dir": str(tmp_path)}))
    for part in sorted(tmp_path.glob("*.part*")):
        seen[part.name] = hashlib.sha256(gzip.decompress(part.read_bytes())).hexdigest()
    assert seen == reference


def test_aligned_frame_puts_the_same_joint_in_the_same_column(trees, tmp_path):
    a, b = export_pair(trees, tmp_path, feature_layout="aligned")
    assert a.shape == b.shape == (FRAMES, 1024)
    for joint in JOINTS:
        err = joint_error(a, b, joint)
        assert err.max() < 0.03 and err.mean() < 0.015, (joint, err.max(), err.mean())
    # hands: the signer's own left hand in the left-hand columns for both estimators
    left, right = ALIGNED_150.segment("left_hand"), ALIGNED_150.segment("right_hand")
    assert np.abs(left.points(a) - left.points(b)).max() < 0.02
    # OpenPose's right hand is uncertain in this clip (confidence 0.04-0.92): a few points stray
    assert np.median(np.abs(right.points(a) - right.points(b))) < 0.01
    assert np.abs(left.points(a) - right.points(b)).mean() > 0.1  # swapped hands would be far apart


def test_aligned_shoulders_agree_in_shoulder_widths(trees, tmp_path):
    a, b = export_pair(trees, tmp_path, feature_layout="aligned", normalize="shoulders")
    for joint in ("nose", "left_shoulder", "right_shoulder"):
        assert joint_error(a, b, joint).max() < 0.03, joint
    for joint in ("left_elbow", "right_elbow", "left_wrist", "right_wrist"):
        err = joint_error(a, b, joint)
        assert err.max() < 0.12 and err.mean() < 0.07, (joint, err.max(), err.mean())
    seg = ALIGNED_150.segment("pose")
    pts = seg.points(a)
    ls, rs = pts[:, seg.skeleton.index("left_shoulder")], pts[:, seg.skeleton.index("right_shoulder")]
    assert np.allclose((ls + rs) / 2, 0, atol=1e-5) and np.allclose(np.linalg.norm(ls - rs, axis=1), 1, atol=1e-5)
    # points OpenPose never has (eye corners, mouth, MediaPipe's hand points on the pose) stay 0
    never = {p for p in point_map(OPENPOSE_134).to_manifest()["points_never_filled"]}
    assert "pose.mouth_left" in never
    assert np.all(pts[:, seg.skeleton.index("mouth_left")] == 0)
    assert np.all(a[:, 150:] == 0) and np.all(a[:, 0] != 0)


def test_seed_columns_do_not_line_up(trees, tmp_path):
    a, b = export_pair(trees, tmp_path)
    # column 2-3: How2Sign's neck, LSFB-CONT's left inner eye corner; most body columns differ
    assert BODY_25.points[1] == "neck" and MEDIAPIPE_150.segment("pose").skeleton.points[1] == "left_eye_inner"
    assert np.median(np.abs(a[:, :50] - b[:, :50])) > 0.1
    report = validate_exports(sorted(tmp_path.glob("*.manifest.json")))
    messages = [f.message for f in report.errors()]
    assert any("disagree on layout" in m and "openpose_body25_hands_xy" in m for m in messages), messages


def test_resampling_gives_exact_lengths_and_the_manifest_both_rates(trees, tmp_path):
    h2s, lsfb = trees
    m = run_export(lsfb_params(lsfb, tmp_path, fps=12))
    entry = m["splits"]["train"]
    assert entry["clip_frames"] == {"SAMPLE_S001_0": resampled_length(FRAMES, 24, 12)} == {"SAMPLE_S001_0": 5}
    assert entry["source_frames"] == {"SAMPLE_S001_0": FRAMES}
    assert entry["features"]["fps"] == 12 and entry["parameters"]["fps"] == 12
    demo = run_export(load_params("LSFB-CONT", {"output_dir": str(tmp_path / "demo"), "fps": 25}))
    for split, e in demo["splits"].items():
        for clip, n in e["clip_frames"].items():
            assert n == resampled_length(e["source_frames"][clip], 50, 25), (split, clip)
    assert [resampled_length(t, s, d) for t, s, d in [(81, 50, 25), (9, 24, 25), (240, 24, 25), (1, 50, 25), (100, 25, 25)]] \
        == [41, 9, 249, 1, 100]


def test_resampling_interpolates_only_between_detected_points():
    t = np.arange(5, dtype=np.float32)
    points = np.stack([np.stack([t + 1, 2 * t + 1], 1), np.stack([t + 1, t + 1], 1)], 1)  # (5, 2 points, 2)
    detected = np.ones((5, 2), bool)
    detected[2, 1] = False  # point 1 not seen in frame 2
    points[2, 1] = 0
    out, seen = resample(points, detected, 2.0, 3.0)  # 5 frames at 2 fps -> 7 at 3 fps
    assert out.shape == (7, 2, 2)
    src = np.arange(7) * 2 / 3  # source positions 0, .67, 1.33, 2, 2.67, 3.33, 4
    assert np.allclose(out[:, 0, 0], src + 1)  # point 0: linear everywhere
    # point 1 around frame 2: 1.33 -> nearest frame 1 (detected), 2 -> undetected, 2.67 -> nearest frame 3
    assert np.allclose(out[[2, 3, 4], 1, 0], [2, 0, 4]) and not seen[3, 1] and seen[2, 1] and seen[4, 1]
    assert np.allclose(out[[0, 1, 5, 6], 1, 0], src[[0, 1, 5, 6]] + 1)


def test_a_clip_without_shoulders_is_skipped_with_its_reason(tmp_path):
    lsfb = lsfb_same_video(tmp_path / "noshoulders", drop_shoulders=True)
    m = run_export(lsfb_params(lsfb, tmp_path / "out", feature_layout="aligned", normalize="shoulders"))
    entry = m["splits"]["train"]
    assert entry["rows_exported"] == 0 and entry["rows_skipped"] == 1
    assert "no frame has both shoulders detected" in entry["skipped"][0]["reason"]
    assert "SAMPLE_S001_0" in entry["skipped"][0]["reason"]


def test_min_confidence_drops_uncertain_openpose_points(trees, tmp_path):
    h2s, _ = trees
    m = run_export(how2sign_params(h2s, tmp_path, feature_layout="aligned", min_confidence=0.5))
    (a,) = signs(tmp_path, "How2Sign")
    entry = m["splits"]["train"]
    dropped = entry["counts"]["points_below_min_confidence"]
    # the README of the sample: right-hand confidences 0.04 to 0.92, median 0.55
    right = ALIGNED_150.segment("right_hand").points(a)
    assert dropped > 0 and (right == 0).all(axis=2).sum() >= 0.3 * right.shape[0] * right.shape[1]
    assert entry["features"]["min_confidence_applies_to"] == "OpenPose confidence"


def test_column0_is_never_zero_in_a_frame_with_points(trees, tmp_path):
    h2s, lsfb = trees
    lsfb_nonose = lsfb_same_video(tmp_path / "nonose")
    arr = np.load(lsfb_nonose / "poses" / "pose" / "SAMPLE_S001.npy")
    arr[:4, 0] = np.nan  # nose not seen in four frames
    np.save(lsfb_nonose / "poses" / "pose" / "SAMPLE_S001.npy", arr)
    m = run_export(lsfb_params(lsfb_nonose, tmp_path / "out", feature_layout="aligned", normalize="shoulders"))
    (b,) = signs(tmp_path / "out", "LSFB-CONT")
    assert np.all(b[:4, 0] == np.float32(COLUMN0_GUARD)) and np.all(b[:4, 1] == 0) and np.all(b[4:, 0] != 0)
    assert m["splits"]["train"]["counts"]["column0_guarded_frames"] == 4
    assert "frame[0] != 0" in m["splits"]["train"]["features"]["column0_guard"]


@pytest.mark.parametrize("params, message", [
    ({"feature_layout": "mediapipe"}, "'feature_layout': 'mediapipe' is not one of"),
    ({"normalize": "hips"}, "'normalize': 'hips' is not one of"),
    ({"fps": "fast"}, "'fps': 'fast' is not a number"),
    ({"fps": 0}, "'fps': 0 is not a frame rate"),
    ({"min_confidence": 2}, "'min_confidence': 2 is not between 0 and 1"),
])
def test_bad_option_values_name_the_parameter(params, message):
    with pytest.raises(ParameterError, match=message):
        FeatureOptions.from_params(params)
    assert FeatureOptions.from_params({"fps": "null", "feature_layout": None}).identity
