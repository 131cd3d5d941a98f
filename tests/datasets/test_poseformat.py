"""The pose_format reader's quirks: pixels in the file, masked points, other layouts, bad files."""
import numpy as np
import pytest
from pose_format import Pose

from slt_nb.datasets import reader_from_params
from slt_nb.datasets.poseformat import PoseFormatReader
from slt_nb.errors import AnnotationError, ClipError
from slt_nb.layouts import MEDIAPIPE_150
from slt_nb.params import load_params

from conftest import DEMO, REPO

TREE = DEMO / "PoseFormat"
FIXTURES = REPO / "tests" / "data" / "real_pose_clips"


def _item(reader, split, clip):
    return next(i for i in reader.plan(split).items if i.clip == clip)


def test_coordinates_are_the_files_pixels_divided_by_their_frame_size():
    reader = PoseFormatReader(str(TREE))
    clip = reader.read(_item(reader, "train", "84322c38"))
    # the vendored fixture holds the same clip converted by other code (testing.sign_task)
    with np.load(FIXTURES / "84322c38ff23406f222641da30d0a49b.npz") as z:
        for part in ("pose", "left_hand", "right_hand"):
            points = MEDIAPIPE_150.segment(part).points(clip.frames)
            detected = z[f"{part}_detected"]
            np.testing.assert_allclose(points[detected], z[part][detected][..., :2], atol=1e-6)
    assert clip.frames.shape == (47, MEDIAPIPE_150.width)
    # MediaPipe places off-screen legs outside [0, 1]; the shoulders of a signer are in the frame
    shoulders = MEDIAPIPE_150.segment("pose").points(clip.frames)[:, 11:13]
    assert (shoulders > 0).all() and (shoulders < 1).all()


def test_pixels_keep_the_stored_values_and_each_file_uses_its_own_frame_size():
    params = load_params("PoseFormat", {"coordinates": "pixels"})
    reader = reader_from_params(params)
    clip = reader.read(_item(reader, "test", "pose_viewer_example"))
    with open(TREE / "poses" / "pose_viewer_example_holistic.pose", "rb") as f:
        pose = Pose.read(f.read())
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (320, 240)  # not the params' 640x360
    data = pose.get_components(["RIGHT_HAND_LANDMARKS"]).body.data[:, 0]
    seen = ~np.ma.getmaskarray(data)[..., :2].any(axis=-1)
    right = MEDIAPIPE_150.segment("right_hand").points(clip.frames)
    np.testing.assert_allclose(right[seen], np.ma.getdata(data)[..., :2][seen], rtol=1e-6)
    assert not right[~seen].any(), "masked points become (0, 0)"
    assert clip.counts["undetected_right_hand_frames"] == int((~seen).all(axis=1).sum())


def test_awkward_rows_are_skipped_with_the_file_and_the_reason():
    reader = PoseFormatReader(str(TREE))
    plan = reader.plan("train")
    reasons = {}
    for item in plan.items:
        try:
            reader.read(item)
        except ClipError as exc:
            reasons[item.clip] = str(exc)
    assert set(reasons) == {"openpose", "mediapipe_reduced", "cut_off", "not_there"}
    assert "openpose.pose: not a MediaPipe Holistic file (no component POSE_LANDMARKS" in reasons["openpose"]
    assert "mediapipe.pose: component POSE_LANDMARKS has 8 points, expected 33" in reasons["mediapipe_reduced"]
    assert "cut_off.pose: not a readable pose-format file" in reasons["cut_off"]
    assert "not_there.pose: pose file missing" in reasons["not_there"]


def test_a_file_recorded_at_another_frame_rate_is_noted():
    reader = PoseFormatReader(str(TREE), fps=30.0)
    clip = reader.read(_item(reader, "val", "7731febd"))
    assert any("recorded at 25 fps, the reader assumes 30" in n for n in clip.notes)
    assert not PoseFormatReader(str(TREE)).read(_item(reader, "val", "7731febd")).notes


def test_annotations_without_a_split_column_are_refused_naming_the_columns(tmp_path):
    (tmp_path / "annotations.csv").write_text("id,text\na,b\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"columns \['split'\] missing"):
        PoseFormatReader(str(tmp_path)).plan("train")


def test_detect_tells_this_tree_from_the_other_corpora():
    assert PoseFormatReader.detect(str(TREE))
    assert not PoseFormatReader.detect(str(DEMO / "LSFB-CONT"))
    assert not PoseFormatReader.detect(str(DEMO / "How2Sign"))


def _corrupted_tree(tmp_path, change):
    """The demo tree with the real 84322c38 clip's file changed by `change(pose)`."""
    import shutil

    root = tmp_path / "PoseFormat"
    shutil.copytree(TREE, root)
    path = root / "poses" / "84322c38ff23406f222641da30d0a49b.pose"
    pose = Pose.read(path.read_bytes())
    change(pose)
    with open(path, "wb") as f:
        pose.write(f)
    return root, path


def test_unmasked_nan_or_infinite_values_are_undetected_and_named(tmp_path):
    def change(pose):
        data = pose.body.data
        assert not data.mask[10, 0, 11].any() and not data.mask[20, 0, 12].any()  # real detected shoulders
        data.data[10, 0, 11, 0] = np.nan
        data.data[20, 0, 12, 1] = np.inf

    root, path = _corrupted_tree(tmp_path, change)
    reader = PoseFormatReader(str(root))
    clip = reader.read(_item(reader, "train", "84322c38"))
    shoulders = MEDIAPIPE_150.segment("pose").points(clip.frames)
    assert (shoulders[10, 11] == 0).all() and (shoulders[20, 12] == 0).all() and (shoulders[11, 11] != 0).all()
    (note,) = [n for n in clip.notes if "NaN or infinite" in n]
    assert note == (f"{path}: 2 pose points not masked but NaN or infinite, exported as undetected (0, 0): "
                    "frames 10, 20")


def test_absurd_values_zero_their_frame_and_a_zero_frame_size_is_a_named_skip(tmp_path):
    def change(pose):
        pose.body.data.data[7, 0, 0, 0] = 1e9  # the nose 1e9 pixels to the right
    root, path = _corrupted_tree(tmp_path, change)
    reader = PoseFormatReader(str(root))
    clip = reader.read(_item(reader, "train", "84322c38"))
    assert not clip.frames[7].any() and clip.frames[6].any() and clip.counts["zeroed_frames"] == 1
    assert any(n.startswith(f"{path}: 1 of 47 frames written as zeros") and n.endswith("in frames 7")
               for n in clip.notes)

    def no_size(pose):
        pose.header.dimensions.width = 0
    root, path = _corrupted_tree(tmp_path / "b", no_size)
    reader = PoseFormatReader(str(root))
    with pytest.raises(ClipError, match=r"frame size is 0x360; coordinates cannot be divided"):
        reader.read(_item(reader, "train", "84322c38"))


def test_a_clean_file_leaves_no_refusal_note():
    reader = PoseFormatReader(str(TREE))
    clip = reader.read(_item(reader, "train", "84322c38"))
    assert not [n for n in clip.notes if "NaN" in n or "zeros" in n]
