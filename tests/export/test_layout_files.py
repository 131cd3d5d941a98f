"""Layout files (`-p feature_layout holistic-512` or FILE.yaml): parsing, mapping, export, errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from slt_nb.errors import DataFileError, ParameterError
from slt_nb.export.features import FeatureOptions, FeatureTransform
from slt_nb.export.parameters import load_export_params
from slt_nb.export.run import run_export
from slt_nb.formats.pami import load_signformer
from slt_nb.layout_files import load_layout_file
from slt_nb.layouts import (ALIGNED_150, OPENPOSE_274, SKELETONS, FeatureLayout, consecutive_layout,
                            point_map)
from slt_nb.testing.same_video import how2sign_params, how2sign_same_video, lsfb_params, lsfb_same_video

# The segment role a reader would give each built-in skeleton.
ROLE = {"mediapipe_pose33": "pose", "openpose_body25": "body", "mediapipe_hand21": "left_hand",
        "openpose_hand21": "right_hand", "openpose_face70": "face", "mediapipe_face468": "face",
        "mediapipe_face478": "face"}


def layout_file(tmp_path: Path, segments: list, feature_size: int = 1024, name: str = "test-layout") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "feature_size": feature_size, "segments": segments}))
    return path


def frames_numbered(layout: FeatureLayout, t: int = 3) -> np.ndarray:
    """Rows whose point p holds (p + 1, p + 1): every column says which source point it came from."""
    points = np.arange(1, layout.width // 2 + 1, dtype=np.float32)
    return np.tile(np.repeat(points, 2), (t, 1))


def test_every_builtin_skeleton_has_a_test():
    assert set(ROLE) == set(SKELETONS)


@pytest.mark.parametrize("skeleton", sorted(ROLE))
def test_a_layout_file_with_each_skeleton_is_filled_by_a_reader_with_it(tmp_path, skeleton):
    target = load_layout_file(layout_file(tmp_path, [{"name": ROLE[skeleton], "skeleton": skeleton}])).layout
    size = SKELETONS[skeleton].size
    assert target.width == 2 * size and target.segments[0].skeleton is SKELETONS[skeleton]
    source = consecutive_layout("reader", [(ROLE[skeleton], SKELETONS[skeleton])])
    transform = FeatureTransform(FeatureOptions(feature_layout=str(tmp_path / "test-layout.yaml")), source)
    rows, _ = transform.apply(frames_numbered(source), "clip", None)
    assert rows.shape == (3, 2 * size)
    assert np.array_equal(rows, frames_numbered(source))
    assert transform.map.to_manifest()["points_never_filled"] == []


def test_openpose_into_holistic_512_by_name_and_by_the_face_table():
    target = load_layout_file("holistic-512").layout
    m = point_map(OPENPOSE_274, target)
    rows = m.apply(frames_numbered(OPENPOSE_274).reshape(3, -1, 2)).reshape(3, -1)
    face = target.segment("face")
    body = OPENPOSE_274.segment("body").skeleton
    ibug = OPENPOSE_274.segment("face").start // 2
    # iBUG 36 (right eye, outer corner) is face-mesh 33 (Mediapipe_2_Dlib_Landmarks): cols 2*33+4
    assert rows[0, face.start + 2 * (33 - 15)] == ibug + 36 + 1 and 2 * (33 - 15) + face.start == 70
    # iBUG 48 (mouth corner) is face-mesh 61; iBUG 30 (nose tip, face-mesh 4) has no column here
    assert rows[0, face.start + 2 * (61 - 15)] == ibug + 48 + 1
    assert "face.face_15" in m.to_manifest()["points_never_filled"]
    assert rows[0, 0] == body.index("nose") + 1 and rows[0, 22] == body.index("left_shoulder") + 1
    never = m.to_manifest()["points_never_filled"]
    assert "pose.left_eye_inner" in never and "pose.nose" not in never
    assert m.to_manifest()["points_filled"] == 11 + 57 + 42


def test_face_468_into_face_478_leaves_the_irises_unfilled(tmp_path):
    target = load_layout_file(layout_file(tmp_path, [{"name": "face", "skeleton": "mediapipe_face478"}])).layout
    source = consecutive_layout("reader", [("face", SKELETONS["mediapipe_face468"])])
    never = point_map(source, target).to_manifest()["points_never_filled"]
    assert never == [f"face.face_{i}" for i in range(468, 478)]


def test_point_subsets_by_name_index_and_range_keep_limbs_between_kept_points(tmp_path):
    path = layout_file(tmp_path, [
        {"name": "pose", "skeleton": "mediapipe_pose33", "points": ["left_shoulder", 12, "13-16"]},
        {"name": "right_hand", "skeleton": "openpose_hand21", "points": "0-4", "start": 20},
    ])
    layout = load_layout_file(path).layout
    pose = layout.segment("pose").skeleton
    assert pose.points == ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                           "right_wrist")
    assert (0, 1) in pose.limbs and (0, 2) in pose.limbs and len(pose.limbs) == 5  # 11-12, 11-13, 13-15, 12-14, 14-16
    assert layout.segment("right_hand").start == 20 and layout.width == 30
    assert FeatureLayout.from_manifest(json.loads(json.dumps(layout.to_manifest(1024)))) == layout


def test_old_manifests_without_points_still_rebuild_and_bad_points_are_named():
    assert FeatureLayout.from_manifest(ALIGNED_150.to_manifest(1024)) == ALIGNED_150
    entry = load_layout_file("holistic-512").layout.to_manifest(1024)
    entry["segments"][1]["points"] = "15-999"
    with pytest.raises(DataFileError, match="segment 'face' has points '15-999'"):
        FeatureLayout.from_manifest(entry)


@pytest.mark.parametrize("dataset", ["How2Sign", "LSFB-CONT", "PoseFormat"])
def test_demo_exports_into_holistic_512(tmp_path, dataset):
    run_export(load_export_params(dataset, {"output_dir": str(tmp_path), "feature_layout": "holistic-512"}))
    manifest = json.loads(next(tmp_path.glob("*.manifest.json")).read_text())
    layout = manifest["layout"]
    assert layout["name"] == "holistic-512" and layout["file"]["path"] == "params/layouts/holistic-512.yaml"
    assert FeatureLayout.from_manifest(layout) == load_layout_file("holistic-512").layout
    filled = np.zeros(1024, bool)
    for a, b in layout["alignment"]["columns_filled"]:
        filled[a:b] = True
    rows = np.concatenate([s["sign"].numpy() for p in sorted(tmp_path.glob("*.part*")) for s in load_signformer(p)])
    assert rows.shape[1] == 1024 and rows.shape[0] > 0
    assert np.all(rows[:, ~filled] == 0)
    assert (rows[:, filled] != 0).any(axis=0).mean() > 0.8  # the columns it can fill it mostly does
    never = layout["alignment"]["points_never_filled"]
    assert [f"face.face_{i}" for i in range(15, 468)] == [p for p in never if p.startswith("face.")]
    assert not filled[34:940].any()  # no demo reader has a face
    if dataset == "How2Sign":  # OpenPose has no eye corners or mouth points in BODY_25
        assert "pose.left_eye_inner" in never and filled[0] and not filled[2]
    else:
        assert filled[:34].all() and filled[940:].all()
    split = next(iter(manifest["splits"].values()))
    assert split["parameters"]["layout"] == "holistic-512"


def test_shoulders_and_fps_work_in_a_layout_file(tmp_path):
    h2s = how2sign_same_video(tmp_path / "How2Sign")
    lsfb = lsfb_same_video(tmp_path / "LSFB-CONT")
    options = {"feature_layout": "holistic-512", "normalize": "shoulders", "fps": 25}
    run_export(how2sign_params(h2s, tmp_path / "out", **options))
    run_export(lsfb_params(lsfb, tmp_path / "out", **options))
    seg = load_layout_file("holistic-512").layout.segment("pose")
    for dataset in ("How2Sign", "LSFB-CONT"):
        (sign,) = [s["sign"].numpy() for s in load_signformer(tmp_path / "out" / f"{dataset}-1024.pami0.train.part0")]
        pts = seg.points(sign)
        ls, rs = pts[:, seg.skeleton.index("left_shoulder")], pts[:, seg.skeleton.index("right_shoulder")]
        assert np.allclose((ls + rs) / 2, 0, atol=1e-5) and np.allclose(np.linalg.norm(ls - rs, axis=1), 1, atol=1e-5)
        assert np.all(sign[:, 34:940] == 0)


BAD = [
    ([{"name": "pose", "skeleton": "openpose_body135"}], "segment 1 ('pose'): unknown skeleton 'openpose_body135'"),
    ([{"name": "pose", "skeleton": "mediapipe_pose33"}, {"name": "face", "skeleton": "mediapipe_face468",
                                                         "points": ["face_3", "nose_tip"]}],
     "segment 2 ('face'): unknown point 'nose_tip'"),
    ([{"name": "face", "skeleton": "mediapipe_face468", "points": "15-468"}],
     "segment 1 ('face'): point range '15-468' is not within 0-467"),
    ([{"name": "pose", "skeleton": "mediapipe_pose33"}, {"name": "left_hand", "skeleton": "mediapipe_hand21",
                                                         "start": 60}],
     "segment 2 ('left_hand'): starts at column 60, overlapping the segment before, which ends at 66"),
    ([{"name": "face", "skeleton": "mediapipe_face478"}, {"name": "pose", "skeleton": "mediapipe_pose33"}],
     "segment 2 ('pose'): columns 956-1021 (33 points x,y) go past the file's feature_size 1000"),
    ([{"name": "pose", "skeleton": "mediapipe_pose33"}, {"name": "pose", "skeleton": "openpose_body25"}],
     "segment 'pose' is declared 2 times"),
    ([{"name": "pose", "skeleton": "mediapipe_pose33", "colour": "red"}], "segment 1 ('pose'): unknown keys ['colour']"),
]


@pytest.mark.parametrize("segments, message", BAD)
def test_bad_layout_files_name_the_file_and_the_segment(tmp_path, segments, message):
    path = layout_file(tmp_path, segments, feature_size=1000)
    with pytest.raises(ParameterError) as caught:
        FeatureOptions.from_params({"feature_layout": str(path)})
    assert f"layout file {path}: {message}" in str(caught.value)


def test_a_layout_wider_than_the_export_and_unknown_names_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="holistic-512.yaml: written for feature_size 1024, more than the "
                                             "export's feature_size 512"):
        run_export(load_export_params("LSFB-CONT", {"output_dir": str(tmp_path), "feature_layout": "holistic-512",
                                                    "feature_size": 512}))
    with pytest.raises(ParameterError, match="'holistic-999' is not one of .*holistic-512"):
        FeatureOptions.from_params({"feature_layout": "holistic-999"})
    with pytest.raises(ParameterError, match="missing.yaml cannot be read"):
        FeatureOptions.from_params({"feature_layout": str(tmp_path / "missing.yaml")})


def test_editing_a_layout_file_changes_the_resume_key_not_the_parameters(tmp_path):
    path = layout_file(tmp_path, [{"name": "pose", "skeleton": "mediapipe_pose33"}])
    before = FeatureOptions.from_params({"feature_layout": str(path)})
    layout_file(tmp_path, [{"name": "pose", "skeleton": "mediapipe_pose33", "points": "0-16"}])
    after = FeatureOptions.from_params({"feature_layout": str(path)})
    assert before != after and before.as_dict() == after.as_dict()
    assert "layout_sha256" not in before.as_dict()


def test_shoulders_need_both_shoulders_in_a_pose_segment_of_the_file(tmp_path):
    path = layout_file(tmp_path, [{"name": "pose", "skeleton": "mediapipe_pose33", "points": "0-11"}])
    reader = consecutive_layout("reader", [("pose", SKELETONS["mediapipe_pose33"])])
    with pytest.raises(ParameterError, match=f"layout file {path} has no left_shoulder and right_shoulder"):
        FeatureTransform(FeatureOptions.from_params({"feature_layout": str(path), "normalize": "shoulders"}), reader)
