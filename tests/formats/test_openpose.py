import json
import shutil

import numpy as np
import pytest

from slt_nb.layouts import OPENPOSE_134
from slt_nb.errors import ClipError
from slt_nb.formats.openpose import list_frame_files, read_openpose_clip, read_openpose_frames


def _person(path):
    return json.loads(path.read_text())["people"][0]


def _write(path, doc):
    path.write_text(json.dumps(doc))


def test_values_match_the_real_json_numbers(real_how2sign_frame):
    rows, counts = read_openpose_frames([str(real_how2sign_frame)], frame_size=(1280, 720))
    person = _person(real_how2sign_frame)
    body = np.array(person["pose_keypoints_2d"]).reshape(25, 3)
    right = np.array(person["hand_right_keypoints_2d"]).reshape(21, 3)
    assert rows.shape == (1, 134) and rows.dtype == np.float32
    got_body = OPENPOSE_134.segment("body").points(rows[0])
    np.testing.assert_allclose(got_body[:, 0], body[:, 0] / 1280, rtol=1e-6)
    np.testing.assert_allclose(got_body[:, 1], body[:, 1] / 720, rtol=1e-6)
    # x,y interleaved: column 0 is the nose's x, column 1 its y
    assert rows[0, 0] == pytest.approx(body[0, 0] / 1280)
    assert rows[0, 1] == pytest.approx(body[0, 1] / 720)
    got_right = OPENPOSE_134.segment("right_hand").points(rows[0])
    np.testing.assert_allclose(got_right * [1280, 720], right[:, :2], rtol=1e-5)
    assert counts.frames == 1 and counts.empty_people == 0


def test_pixel_mode_keeps_pixels(real_how2sign_frame):
    rows, _ = read_openpose_frames([str(real_how2sign_frame)], frame_size=None)
    body = np.array(_person(real_how2sign_frame)["pose_keypoints_2d"]).reshape(25, 3)
    np.testing.assert_allclose(rows[0, 0:50:2], body[:, 0], rtol=1e-6)


def test_undetected_points_stay_zero(real_openpose_sequence):
    rows, _, _ = read_openpose_clip(str(real_openpose_sequence))
    body = OPENPOSE_134.segment("body").points(rows)
    # the signer is framed from the waist up: mid-hip (8) and legs are 0,0 in the real files
    assert np.all(body[:, 8] == 0) and np.all(body[:, 1] != 0)


def test_frames_are_ordered_by_number_not_by_string(tmp_path, real_how2sign_frame):
    doc = json.loads(real_how2sign_frame.read_text())
    for n in (10, 9, 2, 100):
        d = json.loads(json.dumps(doc))
        d["people"][0]["pose_keypoints_2d"][0] = float(n)  # mark the frame in the nose x
        _write(tmp_path / f"frame_{n}_keypoints.json", d)
    files = list_frame_files(str(tmp_path))
    assert files.numbers == [2, 9, 10, 100]
    rows, _ = read_openpose_frames(files.paths, frame_size=None)
    assert rows[:, 0].tolist() == [2, 9, 10, 100]
    assert files.gaps == [(0, 1), (3, 8), (11, 99)]


def test_how2sign_naming_with_gap_is_reported(tmp_path, real_how2sign_frame):
    clip = "_2FBDaOPYig_1-3-rgb_front"
    for n in (0, 1, 4):
        shutil.copy(real_how2sign_frame, tmp_path / f"{clip}_{n:012d}_keypoints.json")
    rows, counts, files = read_openpose_clip(str(tmp_path))
    assert len(rows) == 3 and files.gaps == [(2, 3)] and files.describe_gaps() == "2-3"


def test_empty_people_frame_becomes_zero_row(tmp_path, real_how2sign_frame):
    shutil.copy(real_how2sign_frame, tmp_path / "frame_000000_keypoints.json")
    _write(tmp_path / "frame_000001_keypoints.json", {"version": 1.3, "people": []})
    rows, counts, _ = read_openpose_clip(str(tmp_path))
    assert counts.empty_people == 1
    assert not rows[1].any() and rows[0].any()


def test_several_people_keeps_the_most_confident_body(tmp_path, real_how2sign_frame):
    signer = _person(real_how2sign_frame)
    bystander = json.loads(json.dumps(signer))
    pose = bystander["pose_keypoints_2d"]
    for j in range(0, len(pose), 3):
        pose[j] += 300
        pose[j + 2] *= 0.3
    _write(tmp_path / "frame_000000_keypoints.json", {"version": 1.3, "people": [bystander, signer]})
    rows, counts, _ = read_openpose_clip(str(tmp_path), frame_size=None)
    assert counts.several_people == 1
    assert rows[0, 0] == pytest.approx(signer["pose_keypoints_2d"][0])


def test_empty_hand_list_means_not_estimated(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["hand_left_keypoints_2d"] = []
    _write(tmp_path / "frame_000000_keypoints.json", {"version": 1.3, "people": [person]})
    rows, counts, _ = read_openpose_clip(str(tmp_path))
    assert counts.no_left_hand == 1 and counts.no_right_hand == 0
    left = OPENPOSE_134.segment("left_hand")
    assert not rows[0, left.start:left.stop].any()


def test_wrong_length_array_names_the_file(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["hand_right_keypoints_2d"] = person["hand_right_keypoints_2d"][:60]
    bad = tmp_path / "frame_000003_keypoints.json"
    _write(bad, {"version": 1.3, "people": [person]})
    with pytest.raises(ClipError) as err:
        read_openpose_clip(str(tmp_path))
    assert str(bad) in str(err.value) and "hand_right_keypoints_2d" in str(err.value) and "60" in str(err.value)


def test_a_keypoint_that_is_not_a_number_names_the_file_and_array(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    person["hand_left_keypoints_2d"][4] = "0.5"
    bad = tmp_path / "frame_000002_keypoints.json"
    _write(bad, {"version": 1.3, "people": [person]})
    # index 4 is point 1's y: the message says which value, not just which array
    with pytest.raises(ClipError, match="hand_left_keypoints_2d point 1 y is a string '0.5'; expected a number") as err:
        read_openpose_clip(str(tmp_path))
    assert str(bad) in str(err.value)


def test_unparsable_json_names_the_file(tmp_path, real_how2sign_frame):
    bad = tmp_path / "frame_000000_keypoints.json"
    bad.write_bytes(real_how2sign_frame.read_bytes()[:500])
    with pytest.raises(ClipError, match="unparsable JSON") as err:
        read_openpose_clip(str(tmp_path))
    assert str(bad) in str(err.value)


def test_two_files_for_one_frame_number_is_an_error(tmp_path, real_how2sign_frame):
    shutil.copy(real_how2sign_frame, tmp_path / "frame_000001_keypoints.json")
    shutil.copy(real_how2sign_frame, tmp_path / "clip_000000000001_keypoints.json")
    with pytest.raises(ClipError, match="two files claim frame 1"):
        list_frame_files(str(tmp_path))


def test_missing_or_empty_folder_is_a_clip_error(tmp_path):
    with pytest.raises(ClipError, match="not found"):
        list_frame_files(str(tmp_path / "nope"))
    with pytest.raises(ClipError, match="no \\*_keypoints.json"):
        list_frame_files(str(tmp_path))


def test_face_is_skipped_but_its_absence_counted(tmp_path, real_how2sign_frame):
    person = _person(real_how2sign_frame)
    shutil.copy(real_how2sign_frame, tmp_path / "frame_000000_keypoints.json")
    person["face_keypoints_2d"] = []
    _write(tmp_path / "frame_000001_keypoints.json", {"version": 1.3, "people": [person]})
    rows, counts, _ = read_openpose_clip(str(tmp_path))
    assert counts.no_face == 1 and rows[0].any() and rows[1].any()


def test_a_file_cut_off_inside_the_face_is_still_unparsable(tmp_path, real_how2sign_frame):
    raw = real_how2sign_frame.read_bytes()
    cut = raw.index(b'"face_keypoints_2d":[') + 60
    (tmp_path / "frame_000000_keypoints.json").write_bytes(raw[:cut])
    with pytest.raises(ClipError, match="unparsable JSON"):
        read_openpose_clip(str(tmp_path))


def test_the_read_takes_the_same_fingerprint_a_resume_takes_by_stat(real_openpose_sequence, tmp_path):
    from slt_nb.formats.openpose import frame_files_fingerprint, frame_number

    clip = tmp_path / "clip"
    shutil.copytree(real_openpose_sequence, clip)
    _, _, files = read_openpose_clip(str(clip))
    assert files.fingerprint == frame_files_fingerprint(str(clip))
    assert files.fingerprint[0] == len(files.paths) and files.fingerprint[1] == sum(
        (clip / p).stat().st_size for p in files.paths)
    frame = clip / files.paths[3]
    frame.write_bytes(frame.read_bytes().replace(b"[", b"[ ", 1))  # rewritten in place: one byte more
    assert frame_files_fingerprint(str(clip))[1] == files.fingerprint[1] + 1
    assert read_openpose_clip(str(clip))[2].fingerprint == frame_files_fingerprint(str(clip))
    assert frame_files_fingerprint(str(tmp_path / "nowhere")) == ["missing"]
    assert [frame_number(n) for n in ("a_000012_keypoints.json", "12_keypoints.json", "a_keypoints.json",
                                      "a_12_keypoints.json.bak", "a_１２_keypoints.json")] == [12, 12, None, None, None]


@pytest.mark.parametrize("damage", [None, b"1e300", b"null"])
def test_a_folder_read_by_name_equals_reading_each_path(real_openpose_sequence, tmp_path, damage):
    """read_openpose_clip opens each file by name in its open folder (fewer path walks) and checks
    the clip's values at once before row by row: the same rows and counts as reading path by path,
    clean or with an absurd value or a null in one frame."""
    clip = tmp_path / "clip"
    shutil.copytree(real_openpose_sequence, clip)
    files = list_frame_files(str(clip))
    if damage is not None:
        frame = clip / files.paths[4]
        doc = frame.read_bytes()
        start = doc.index(b"[", doc.index(b'"pose_keypoints_2d"')) + 1
        frame.write_bytes(doc[:start] + damage + doc[doc.index(b",", start):])
    rows, counts, _ = read_openpose_clip(str(clip))
    by_path, counts_by_path = read_openpose_frames(files.paths)
    np.testing.assert_array_equal(rows, by_path)
    assert counts == counts_by_path
    assert counts.zeroed_frames == (0 if damage is None else 1)
    if damage is not None:
        assert np.all(rows[4] == 0) and np.any(rows[3] != 0)


def test_a_frame_file_that_is_a_folder_is_named_by_its_full_path(real_openpose_sequence, tmp_path):
    clip = tmp_path / "clip"
    shutil.copytree(real_openpose_sequence, clip)
    name = sorted(p.name for p in clip.iterdir())[2]
    (clip / name).unlink()
    (clip / name).mkdir()
    with pytest.raises(ClipError, match=f"{clip / name}: is a folder; expected a frame file"):
        read_openpose_clip(str(clip))


_NAME_PARTS = ["clip_", "a1_", "", "x", "clip_0", "clip_1"]


@pytest.mark.parametrize("seed", range(40))
def test_the_fixed_width_shortcut_numbers_frames_exactly_as_each_name_would(seed):
    """list_frame_files takes the numbers of fixed-width names in one go; wherever it does, they
    are what frame_number gives each name, in frame order (mixed widths, prefixes, letters and
    non-ASCII digits among the names fall back to frame_number)."""
    from slt_nb.formats.openpose_files import _fixed_width_numbers, frame_number

    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, 13))
    numbers = rng.choice(10 ** min(width, 4), size=min(int(rng.integers(1, 30)), 10 ** width), replace=False)
    prefix = _NAME_PARTS[seed % len(_NAME_PARTS)]
    names = [f"{prefix}{n:0{width}d}_keypoints.json" for n in numbers]
    if seed % 4 == 1:  # one odd name among them
        odd = ["clip_00a1_keypoints.json", "clip_１２_keypoints.json", f"{prefix}{7:0{width + 1}d}_keypoints.json",
               f"other_{1:0{width}d}_keypoints.json"][seed // 4 % 4]
        names[int(rng.integers(len(names)))] = odd
    rng.shuffle(names)
    got = _fixed_width_numbers(list(names))
    expected = sorted((frame_number(n), n) for n in names if frame_number(n) is not None)
    if got is not None:
        assert got == [n for n, _ in expected], names
        assert len(got) == len(names) and len(set(got)) == len(got)
    if seed % 4 != 1:
        assert got is not None, names  # the common naming always takes the shortcut
