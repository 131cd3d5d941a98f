"""Per-joint agreement of OpenPose and MediaPipe on one real video (data/realdata: the 9 OpenPose frames
of pose-format's sample and MediaPipe Holistic run on the same video), and the agreement notebook."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from slt_nb.errors import ClipError, ParameterError
from slt_nb.export.run import run_export
from slt_nb.formats.pami import load_signformer
from slt_nb.inspection import agreement
from slt_nb.inspection.estimator_pairs import read_mediapipe, read_openpose, read_pairs
from slt_nb.layouts import ALIGNED_150, MEDIAPIPE_POSE_33
from slt_nb.testing.same_video import (FRAMES, HEIGHT, MEDIAPIPE, OPENPOSE, WIDTH, how2sign_params,
                                       how2sign_same_video, lsfb_params, lsfb_same_video)

SIZE = (WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def pairing():
    return read_pairs(OPENPOSE, MEDIAPIPE, SIZE)


@pytest.fixture(scope="module")
def table(pairing):
    return agreement.joint_table(agreement.agreements(pairing))


def row(table, normalize, segment, joint):
    (found,) = table[(table["normalize"] == normalize) & (table["segment"] == segment)
                     & (table["joint"] == joint)].to_dict("records")
    return found


def mediapipe_copy(tmp_path: Path, name: str = "clip") -> Path:
    folder = tmp_path / name
    shutil.copytree(MEDIAPIPE, folder)
    return folder


def test_frame_k_is_the_same_instant_in_both_and_a_dropped_frame_shows(pairing, tmp_path):
    (_, a, b), = pairing.pairs
    offsets = agreement.frame_offsets(a, b).set_index("lag")["median px"]
    assert offsets.idxmin() == 0 and offsets[0] < 0.85 * min(offsets[-1], offsets[1])
    # MediaPipe's first frame dropped (a video decoded one frame late): its frame k is OpenPose's k + 1
    late = mediapipe_copy(tmp_path)
    for part in late.glob("*.npy"):
        np.save(part, np.load(part)[1:])
    (_, a2, b2), = read_pairs(OPENPOSE, late, SIZE).pairs
    assert agreement.frame_offsets(a2, b2).set_index("lag")["median px"].idxmin() == -1


def test_every_mapped_joint_has_a_row_and_the_lower_body_is_never_compared(table):
    frame = table[table["normalize"] == "frame"]
    counts = frame.groupby("segment").size().to_dict()
    # BODY_25 into pose 33 by name (21 joints), both hands whole, the 63 face points of the table
    assert counts == {"pose": 21, "left_hand": 21, "right_hand": 21, "face": 63}
    # OpenPose has the signer framed from the waist up (points 8-14, 19-24 are 0 in every frame)
    assert set(frame[frame["frames"] == 0]["joint"]) == {
        f"{side}_{j}" for side in ("left", "right") for j in ("hip", "knee", "ankle", "heel", "foot_index")}
    assert row(table, "frame", "pose", "left_foot_index")["OpenPose point"] == "body.left_big_toe"
    assert row(table, "frame", "face", "face_33")["OpenPose point"] == "face.face_36"  # right eye corner
    assert (frame[frame["frames"] > 0]["frames"] == FRAMES).all()


def test_pixel_distances_match_the_raw_files(table):
    """The nose in `frame`: OpenPose's pixels straight from the JSON, MediaPipe's [0, 1] times the size."""
    nose_op = np.array([json.loads(p.read_text())["people"][0]["pose_keypoints_2d"][:2]
                        for p in sorted(OPENPOSE.glob("*.json"))])
    nose_mp = np.load(MEDIAPIPE / "pose.npy")[:, MEDIAPIPE_POSE_33.index("nose"), :2] * SIZE
    expected = np.median(np.linalg.norm(nose_op - nose_mp, axis=1))
    assert row(table, "frame", "pose", "nose")["median px"] == pytest.approx(expected, rel=1e-4)


def test_shoulder_distances_are_those_of_the_aligned_exports(table, tmp_path):
    """`shoulders` goes through the export's own code: the same numbers as the How2Sign and LSFB-CONT
    exports of the same video in aligned + shoulders (their columns compared directly)."""
    h2s, lsfb = how2sign_same_video(tmp_path / "How2Sign"), lsfb_same_video(tmp_path / "LSFB-CONT")
    options = {"feature_layout": "aligned", "normalize": "shoulders"}
    run_export(how2sign_params(h2s, tmp_path / "out", **options))
    run_export(lsfb_params(lsfb, tmp_path / "out", **options))
    (a,), (b,) = ([s["sign"].numpy() for s in load_signformer(tmp_path / "out" / f"{d}-1024.pami0.train.part0")]
                  for d in ("How2Sign", "LSFB-CONT"))
    pose = ALIGNED_150.segment("pose")
    for joint in ("nose", "left_shoulder", "right_elbow", "left_wrist"):
        i = pose.skeleton.index(joint)
        exported = np.linalg.norm(pose.points(a)[:, i] - pose.points(b)[:, i], axis=1)
        assert row(table, "shoulders", "pose", joint)["median"] == pytest.approx(np.median(exported), abs=1e-5)


def test_the_same_joints_agree_and_swapped_hands_would_not(table, tmp_path):
    for normalize in ("frame", "shoulders"):
        for joint in ("nose", "left_shoulder", "right_shoulder", "left_wrist", "right_wrist"):
            found = row(table, normalize, "pose", joint)
            assert found["median"] < 0.1 and found["PCK@0.2"] == 1.0, (normalize, joint, found)
    swapped = mediapipe_copy(tmp_path)  # MediaPipe's hands under each other's names
    shutil.copy(MEDIAPIPE / "left_hand.npy", swapped / "right_hand.npy")
    shutil.copy(MEDIAPIPE / "right_hand.npy", swapped / "left_hand.npy")
    wrong = agreement.joint_table(agreement.agreements(read_pairs(OPENPOSE, swapped, SIZE), ["frame"]))
    for hand in ("left_hand", "right_hand"):
        assert row(wrong, "frame", hand, "wrist")["median"] > 0.5  # the hands are ~0.9 shoulder widths apart
        assert row(wrong, "frame", hand, "wrist")["PCK@0.2"] == 0.0
        assert row(table, "frame", hand, "wrist")["median"] < 0.1


def test_frames_where_one_estimator_lost_a_hand_are_listed(pairing, tmp_path):
    assert agreement.lost_hands(agreement.agreements(pairing)).empty  # both find both hands in all 9 frames
    lossy = mediapipe_copy(tmp_path)
    right = np.load(MEDIAPIPE / "right_hand.npy")
    right[[2, 5]] = np.nan  # how MediaPipe writes a hand it did not find
    np.save(lossy / "right_hand.npy", right)
    results = agreement.agreements(read_pairs(OPENPOSE, lossy, SIZE), ["frame"])
    lost = agreement.lost_hands(results)
    assert lost[["frame", "hand", "found by", "lost by"]].values.tolist() == [
        [2, "right hand", "OpenPose", "MediaPipe"], [5, "right hand", "OpenPose", "MediaPipe"]]
    counts = agreement.hand_detection(results)
    assert counts.loc["right hand"].tolist() == [FRAMES - 2, 2, 0, 0]
    assert row(agreement.joint_table(results), "frame", "right_hand", "wrist")["frames"] == FRAMES - 2


def test_min_confidence_drops_uncertain_openpose_points(pairing):
    # OpenPose's shoulders are below 0.5 in some frames of this clip: fewer frames compared
    strict = agreement.joint_table(agreement.agreements(pairing, ["shoulders"], min_confidence=0.4))
    loose = agreement.joint_table(agreement.agreements(pairing, ["shoulders"]))
    fewer = strict.set_index(["segment", "joint"])["frames"] < loose.set_index(["segment", "joint"])["frames"]
    assert fewer.any() and (strict["frames"] <= FRAMES).all()


def test_clips_pair_by_name_in_trees(tmp_path):
    for name in ("clip_a", "clip_b", "only_openpose"):
        shutil.copytree(OPENPOSE, tmp_path / "openpose" / name)
    for name in ("clip_a", "clip_b", "only_mediapipe"):
        mediapipe_copy(tmp_path / "mediapipe", name)
    pairing = read_pairs(tmp_path / "openpose", tmp_path / "mediapipe", SIZE)
    assert [name for name, _, _ in pairing.pairs] == ["clip_a", "clip_b"]
    assert pairing.only_first == ["only_openpose"] and pairing.only_second == ["only_mediapipe"]
    # LSFB-CONT's layout, poses/<part>/<video_id>.npy
    lsfb = lsfb_same_video(tmp_path / "LSFB-CONT")
    (clip,) = read_mediapipe(lsfb, SIZE).values()
    assert clip.name == "SAMPLE_S001" and clip.frames.shape == (FRAMES, (33 + 42) * 2)


def test_bad_inputs_name_the_file(tmp_path):
    with pytest.raises(ParameterError, match=r"openpose: .*nothing is not a folder"):
        read_openpose(tmp_path / "nothing", SIZE)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match=r"mediapipe: .*empty holds no pose.npy"):
        read_mediapipe(tmp_path / "empty", SIZE)
    short = mediapipe_copy(tmp_path)
    np.save(short / "left_hand.npy", np.load(MEDIAPIPE / "left_hand.npy")[:5])
    with pytest.raises(ClipError, match=r"left_hand.npy: 5 frames, but pose.npy beside it has 9"):
        read_mediapipe(short, SIZE)
    for name in ("a", "b"):
        shutil.copytree(OPENPOSE, tmp_path / "op" / name)
        mediapipe_copy(tmp_path / "mp", name.upper())
    with pytest.raises(ParameterError, match=r"share no clip name"):
        read_pairs(tmp_path / "op", tmp_path / "mp", SIZE)


@pytest.mark.slow
def test_agreement_notebook_reports_every_joint(tmp_path):
    import papermill as pm

    out = tmp_path / "agreement.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "agreement.ipynb"), str(out), cwd=str(REPO), progress_bar=False,
                        kernel_name="python3", parameters={"openpose": str(OPENPOSE), "mediapipe": str(MEDIAPIPE)})
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "frame k matches frame k in every clip" in text and "neither estimator lost a hand" in text
    assert "left_wrist" in text and "face_33" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1
    assert not [o for o in outputs if o.get("output_type") == "error"]
