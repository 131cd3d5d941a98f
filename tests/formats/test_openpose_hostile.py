"""Malformed OpenPose frames: each is a ClipError naming the file and what was wrong, or a
frame written as zeros and counted; never a traceback, never a NaN or an infinity in the rows."""
import json
import os
import shutil

import numpy as np
import pytest

from slt_nb.errors import ClipError
from slt_nb.formats.openpose import list_frame_files, read_openpose_clip


def _person(frame):
    return json.loads(frame.read_text())["people"][0]


def _clip(tmp_path, real_frame, frames=3):
    """A clip folder of `frames` copies of a real How2Sign frame."""
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(frames):
        shutil.copy(real_frame, clip / f"clip_{i:012d}_keypoints.json")
    return clip


def _overwrite(clip, index, doc):
    path = clip / f"clip_{index:012d}_keypoints.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("people, found", [([None], "null"), ([[1, 2]], "a list"), (["x"], "a string")])
def test_a_person_that_is_not_an_object_names_the_file(tmp_path, real_how2sign_frame, people, found):
    clip = _clip(tmp_path, real_how2sign_frame)
    bad = _overwrite(clip, 1, {"version": 1.3, "people": people})
    with pytest.raises(ClipError) as err:
        read_openpose_clip(str(clip))
    assert str(bad) in str(err.value) and f"people[0] is {found}" in str(err.value)


def test_a_string_confidence_is_refused_not_read_as_a_number(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["pose_keypoints_2d"][2] = str(person["pose_keypoints_2d"][2])  # "0.9", which numpy would accept
    clip = _clip(tmp_path, real_how2sign_frame)
    bad = _overwrite(clip, 2, {"version": 1.3, "people": [person]})
    with pytest.raises(ClipError) as err:
        read_openpose_clip(str(clip))
    msg = str(err.value)
    assert str(bad) in msg and "pose_keypoints_2d point 0 confidence is a string" in msg and "expected a number" in msg


def test_a_string_confidence_in_one_of_several_people_does_not_crash_the_choice(tmp_path, real_how2sign_frame):
    signer, other = _person(real_how2sign_frame), _person(real_how2sign_frame)
    other["pose_keypoints_2d"] = [str(v) for v in other["pose_keypoints_2d"]]
    clip = _clip(tmp_path, real_how2sign_frame)
    _overwrite(clip, 0, {"version": 1.3, "people": [other, signer]})
    rows, counts, _ = read_openpose_clip(str(clip))
    assert counts.several_people == 1 and np.array_equal(rows[0], rows[1])  # the numeric person was kept


def test_a_boolean_value_is_refused(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["hand_left_keypoints_2d"][4] = True
    clip = _clip(tmp_path, real_how2sign_frame)
    _overwrite(clip, 0, {"version": 1.3, "people": [person]})
    with pytest.raises(ClipError, match="hand_left_keypoints_2d point 1 y is a boolean"):
        read_openpose_clip(str(clip))


def test_a_keypoint_array_that_is_not_a_list_is_refused(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["hand_right_keypoints_2d"] = "x" * 63  # as long as a real array: must not be read letter by letter
    clip = _clip(tmp_path, real_how2sign_frame)
    _overwrite(clip, 0, {"version": 1.3, "people": [person]})
    with pytest.raises(ClipError, match="'hand_right_keypoints_2d' is a string; expected a list of 63 numbers"):
        read_openpose_clip(str(clip))


@pytest.mark.parametrize("value", [None, 1e39, -1e39, 1e6])
def test_a_null_infinite_or_absurd_coordinate_zeroes_its_frame_and_is_counted(tmp_path, real_how2sign_frame, value):
    person = _person(real_how2sign_frame)
    person["pose_keypoints_2d"][3] = value
    clip = _clip(tmp_path, real_how2sign_frame)
    _overwrite(clip, 1, {"version": 1.3, "people": [person]})
    rows, counts, _ = read_openpose_clip(str(clip))
    assert counts.zeroed_frames == 1
    assert np.isfinite(rows).all()
    assert not rows[1].any() and rows[0].any() and np.array_equal(rows[0], rows[2])


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400", "123456789012345678901234567890"])
def test_non_json_numbers_are_a_named_skip_and_huge_integers_zero_the_frame(tmp_path, real_how2sign_frame, literal):
    clip = _clip(tmp_path, real_how2sign_frame)
    person = _person(real_how2sign_frame)
    person["pose_keypoints_2d"][0] = "@"
    path = clip / "clip_000000000000_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": [person]}).replace('"@"', literal))
    if literal.isdigit():  # valid JSON, absurd value
        rows, counts, _ = read_openpose_clip(str(clip))
        assert counts.zeroed_frames == 1 and np.isfinite(rows).all() and not rows[0].any()
    else:  # not JSON (NaN, Infinity) or beyond a double: the parser refuses it
        with pytest.raises(ClipError, match="unparsable JSON") as err:
            read_openpose_clip(str(clip))
        assert str(path) in str(err.value)


def test_a_frame_file_that_is_a_folder_is_named(tmp_path, real_how2sign_frame):
    clip = _clip(tmp_path, real_how2sign_frame)
    (clip / "clip_000000000003_keypoints.json").mkdir()
    with pytest.raises(ClipError, match="clip_000000000003_keypoints.json: is a folder; expected a frame file"):
        read_openpose_clip(str(clip))


def test_a_dangling_frame_link_is_named(tmp_path, real_how2sign_frame):
    clip = _clip(tmp_path, real_how2sign_frame)
    os.symlink(tmp_path / "gone.json", clip / "clip_000000000003_keypoints.json")
    with pytest.raises(ClipError, match="clip_000000000003_keypoints.json: dangling symbolic link"):
        read_openpose_clip(str(clip))


def test_a_frame_link_loop_is_named(tmp_path, real_how2sign_frame):
    clip = _clip(tmp_path, real_how2sign_frame)
    os.symlink(clip / "clip_000000000004_keypoints.json", clip / "clip_000000000003_keypoints.json")
    os.symlink(clip / "clip_000000000003_keypoints.json", clip / "clip_000000000004_keypoints.json")
    with pytest.raises(ClipError, match="clip_00000000000[34]_keypoints.json: cannot read the frame file: Too many"):
        read_openpose_clip(str(clip))


def test_a_clip_folder_link_loop_or_dangling_link_is_named(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(ClipError, match="cannot list the keypoint folder: Too many levels of symbolic links"):
        list_frame_files(str(tmp_path / "a"))
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    with pytest.raises(ClipError, match="dangling symbolic link"):
        list_frame_files(str(tmp_path / "dangling"))


def test_huge_confidences_do_not_break_picking_the_signer(tmp_path, real_how2sign_frame):
    signer, other = _person(real_how2sign_frame), _person(real_how2sign_frame)
    other["pose_keypoints_2d"][2] = 10 ** 30  # read by orjson as a float far beyond any confidence
    other["pose_keypoints_2d"][5] = 1e308
    clip = _clip(tmp_path, real_how2sign_frame)
    path = clip / "clip_000000000000_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": [other, signer]}))
    rows, counts, _ = read_openpose_clip(str(clip))
    assert counts.several_people == 1 and np.isfinite(rows).all()
    assert np.array_equal(rows[0], rows[1])  # the absurd values count nothing: the real signer was kept


def _two_people(real_frame, where: str, value):
    """The real signer and a weaker second person (half the confidences) with one refused value."""
    signer = _person(real_frame)
    other = json.loads(json.dumps(signer))
    for key in ("pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"):
        other[key] = [v / 2 if i % 3 == 2 else v for i, v in enumerate(other[key])]
    other[where][4] = value
    return {"version": 1.3, "people": [signer, other]}


@pytest.mark.parametrize("where", ["pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"])
@pytest.mark.parametrize("value, found", [("12.5", "a string"), (None, "null"), ([1], "a list"), (True, "a boolean")])
def test_a_refused_value_in_another_person_is_named_and_the_signer_kept(tmp_path, real_how2sign_frame, where,
                                                                       value, found):
    clip = _clip(tmp_path, real_how2sign_frame)
    bad = _overwrite(clip, 1, _two_people(real_how2sign_frame, where, value))
    rows, counts, _ = read_openpose_clip(str(clip))
    (tmp_path / "clean").mkdir()
    clean, _, _ = read_openpose_clip(str(_clip(tmp_path / "clean", real_how2sign_frame)))
    np.testing.assert_array_equal(rows, clean)  # the signer, exactly as in a frame without the second person
    assert (counts.several_people, counts.other_people_refused) == (1, 1)
    (line,) = counts.refused
    assert line.startswith(f"{bad}: people[1] {where} point 1 y is {found}"), line
    assert "not the signer" in line


def test_the_export_notes_the_refused_second_person_with_clip_and_frame(tmp_path, real_how2sign_frame):
    from slt_nb.export.run import run_export
    from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree

    root = how2sign_tree(tmp_path / "How2Sign", "flat", {"val": [TreeClip("_2FBDaOPYig_1-3-rgb_front", "Fries.")]})
    folder = next(root.rglob("_2FBDaOPYig_1-3-rgb_front_000000000001_keypoints.json"))
    folder.write_text(json.dumps(_two_people(folder, "hand_right_keypoints_2d", "oops")))
    manifest = run_export({"dataset": "How2Sign", "reader": "how2sign", "data_root": str(root),
                           "output_dir": str(tmp_path / "out"), "splits": ["val"]})
    entry = manifest["splits"]["val"]
    assert entry["samples"] == 1 and entry["counts"]["other_people_refused"] == 1
    notes = [n for n in entry["notes"] if "another person" in json.dumps(n)]
    assert notes and "_2FBDaOPYig_1-3-rgb_front" in json.dumps(notes[0])
    assert "000000000001_keypoints.json: people[1] hand_right_keypoints_2d point 1 y is a string 'oops'" in json.dumps(notes[0])


@pytest.mark.parametrize("key", ["pose_keypoints_2d", "hand_right_keypoints_2d"])
def test_a_one_element_list_where_a_number_belongs_is_refused_for_the_signer(tmp_path, real_how2sign_frame, key):
    person = _person(real_how2sign_frame)
    person[key][3] = [person[key][3]]  # same count of numbers once flattened
    clip = _clip(tmp_path, real_how2sign_frame)
    bad = _overwrite(clip, 0, {"version": 1.3, "people": [person]})
    with pytest.raises(ClipError, match=f"{bad}: {key} point 1 x is a list"):
        read_openpose_clip(str(clip))
