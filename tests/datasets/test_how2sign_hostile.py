"""How2Sign trees with hostile clips: one bad clip is a named skip, the split still finishes,
every row is counted and no part holds a NaN or an infinity."""
import json
import os
import shutil

import numpy as np
import pytest

from conftest import DEMO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.pami import iter_samples

CLIPS = DEMO / "How2Sign" / "val" / "openpose_output" / "json"
GOOD, OTHER = "_2FBDaOPYig_1-3-rgb_front", "_2FBDaOPYig_1-5-rgb_front"


def _tree(tmp_path, ids):
    root = tmp_path / "How2Sign"
    clips = root / "val" / "openpose_output" / "json"
    for name in (GOOD, OTHER):
        shutil.copytree(CLIPS / name, clips / name)
    (root / "annotations.csv").write_text("id,text,split\n" + "".join(f"{i},Sentence {n},val\n" for n, i in enumerate(ids)))
    return root, clips


def _export(root, tmp_path):
    out = tmp_path / "out"
    entry = export_split(How2SignReader(str(root)), "val", ExportOptions(str(out)))
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    samples = list(iter_samples(out / p["file"] for p in entry["parts"]))
    for s in samples:
        assert np.isfinite(s["sign"].numpy()).all(), s["name"]
    return entry, [s["name"] for s in samples]


def _frame(clips, clip, index):
    return sorted((clips / clip).glob("*_keypoints.json"))[index]


@pytest.mark.parametrize("people", [[None], [[1, 2]]])
def test_a_frame_with_a_person_that_is_not_an_object_skips_only_its_clip(tmp_path, people):
    root, clips = _tree(tmp_path, [GOOD, OTHER])
    bad = _frame(clips, GOOD, 5)
    bad.write_text(json.dumps({"version": 1.3, "people": people}))
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{OTHER}"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == GOOD and skip["reason"].startswith(f"{bad}: people[0] is")


def test_a_null_coordinate_is_zeroed_counted_and_noted(tmp_path):
    root, clips = _tree(tmp_path, [GOOD])
    path = _frame(clips, GOOD, 5)
    doc = json.loads(path.read_text())
    doc["people"][0]["hand_left_keypoints_2d"][0] = None
    doc["people"][0]["pose_keypoints_2d"][0] = 1e39
    path.write_text(json.dumps(doc))
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{GOOD}"] and entry["counts"]["zeroed_frames"] == 1
    assert any("1 of" in n["note"] and "written as zeros" in n["note"] for n in entry["notes"])


def test_clip_folders_that_are_broken_links_are_skipped_by_name(tmp_path):
    root, clips = _tree(tmp_path, [GOOD, "loop-1-rgb_front", "dangling-1-rgb_front"])
    os.symlink(clips / "loop-1-rgb_front", clips / "loop-1-rgb_front")
    os.symlink(tmp_path / "nowhere", clips / "dangling-1-rgb_front")
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{GOOD}"]
    reasons = {s["clip"]: s["reason"] for s in entry["skipped"]}
    assert "Too many levels of symbolic links" in reasons["loop-1-rgb_front"]
    assert "dangling symbolic link" in reasons["dangling-1-rgb_front"]


def test_a_frame_file_that_is_a_folder_skips_its_clip(tmp_path):
    root, clips = _tree(tmp_path, [GOOD, OTHER])
    (clips / GOOD / f"{GOOD}_000000099999_keypoints.json").mkdir()
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{OTHER}"] and "is a folder; expected a frame file" in entry["skipped"][0]["reason"]


def test_a_frame_file_that_is_a_fifo_skips_its_clip_without_blocking(tmp_path, fails_instead_of_hanging):
    root, clips = _tree(tmp_path, [GOOD, OTHER])
    fifo = _frame(clips, GOOD, 3)
    fifo.unlink()
    os.mkfifo(fifo)  # no writer ever comes: opening it for reading would wait forever
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{OTHER}"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == GOOD and skip["reason"] == f"{fifo}: a FIFO, not a regular file; expected a frame file"


@pytest.mark.parametrize("width, height", [("0", "720"), ("-1280", "720"), ("1280", "0"), ("wide", "720"),
                                           ("1280", "")])
def test_a_bad_frame_size_row_skips_only_its_clip_naming_the_csv_line(tmp_path, width, height):
    root, clips = _tree(tmp_path, [GOOD, OTHER])
    sizes = root / "frame_sizes.csv"
    sizes.write_text(f"clip,width,height\n{OTHER},1280,720\n{GOOD},{width},{height}\n")
    out = tmp_path / "out"
    entry = export_split(How2SignReader(str(root), frame_sizes=str(sizes)), "val", ExportOptions(str(out)))
    assert entry["rows_exported"] == 1 and entry["rows_skipped"] == 1 == len(entry["skipped"])
    assert [s["name"] for s in iter_samples(out / p["file"] for p in entry["parts"])] == [f"val/{OTHER}"]
    skip = entry["skipped"][0]
    assert skip["clip"] == GOOD and skip["row"] == 2
    assert skip["reason"] == (f"{sizes} line 3: frame size {[width, height]} for {GOOD}; expected a width and a "
                              "height in pixels, whole numbers above 0")
    assert entry["frame_sizes"]["refused_rows"] == [skip["reason"]]
    assert entry["reconciliation"]["poses_without_rows"] == 0


@pytest.mark.parametrize("clip_id", [f"../json/{GOOD}", f"../../../val/openpose_output/json/{GOOD}", "..", "/etc"])
def test_an_annotation_id_never_leads_outside_the_keypoint_folder(tmp_path, clip_id):
    root, clips = _tree(tmp_path, [OTHER, clip_id])
    entry, names = _export(root, tmp_path)
    assert names == [f"val/{OTHER}"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == clip_id and f"clip name {clip_id!r}: not a plain file name, would lead outside {clips}" in skip["reason"]
