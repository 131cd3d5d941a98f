"""Names and paths from annotation rows never lead outside their folder (issue 18, item 1).

Each tree is a copy of a demo tree with a real file placed outside it, and annotation rows that
point at that file with `../`, an absolute path or an id with a separator in it. Only the check
stops them: without it, the outside file would be read (and, for WLASL, a .npz written beside it).
Each such row is a named skip; the other rows plan and export as before.
"""
from __future__ import annotations

import csv
import json
import os
import shutil

import pandas as pd
import pytest

from conftest import DEMO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.datasets.lsfb import LSFBReader
from slt_nb.datasets.poseformat import PoseFormatReader
from slt_nb.datasets.wlasl import WlaslVideo, locate_videos, read_wlasl
from slt_nb.errors import ClipError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.extract.run import output_path, record_path, run_extraction
from slt_nb.formats.pami import iter_samples
from slt_nb.paths import inside, plain_name

POSE = "84322c38ff23406f222641da30d0a49b.pose"


# --- the shared checks -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\x00b"])
def test_plain_name_refuses_anything_but_a_file_name_naming_value_and_folder(value, tmp_path):
    with pytest.raises(ClipError) as caught:
        plain_name(value, tmp_path, "video_id")
    assert f"video_id {value!r}: not a plain file name, would lead outside {tmp_path}" in str(caught.value)


def test_plain_name_keeps_names_with_dots_and_dashes(tmp_path):
    # a backslash is a character of a file name here, not a separator (real clip names hold one)
    for value in ("69241", "_2FBDaOPYig_1-3-rgb_front", "a..b", ".hidden", "evil$\\frac{$"):
        assert plain_name(value, tmp_path, "id") == value


def test_inside_keeps_relative_paths_that_stay_in_the_root_and_refuses_the_rest(tmp_path):
    root = tmp_path / "root"
    (root / "poses").mkdir(parents=True)
    (tmp_path / "outside.pose").write_bytes(b"x")
    (root / "poses" / "link.pose").symlink_to(tmp_path / "outside.pose")
    assert inside("poses/a.pose", root, "file") == os.path.join(root, "poses/a.pose")
    assert inside("poses/../poses/a.pose", root, "file") == os.path.join(root, "poses/../poses/a.pose")
    for value, why in [("../outside.pose", "leads outside"), ("poses/../../outside.pose", "leads outside"),
                       (str(tmp_path / "outside.pose"), "an absolute path"), ("poses/link.pose", "leads outside")]:
        with pytest.raises(ClipError) as caught:
            inside(value, root, "file")
        assert f"file {value!r}: {why}" in str(caught.value) and str(root) in str(caught.value)


# --- PoseFormat ------------------------------------------------------------------------------

def _poseformat_tree(tmp_path):
    root = tmp_path / "PoseFormat"
    shutil.copytree(DEMO / "PoseFormat", root)
    shutil.copy(root / "poses" / POSE, tmp_path / "outside.pose")  # a readable clip outside the tree
    shutil.copy(root / "poses" / POSE, root / "x.pose")  # inside data_root, outside poses/
    (root / "poses" / "link.pose").symlink_to(tmp_path / "outside.pose")
    rows = [
        "up,escapes with dots,train,../outside.pose",  # line 9
        f"abs,an absolute path,train,{tmp_path / 'outside.pose'}",  # line 10
        "../../outside,an id that escapes,train,",  # line 11: poses/../../outside.pose
        "../x,an id that leaves poses,train,",  # line 12: poses/../x.pose
        "linked,a link out of the tree,train,poses/link.pose",  # line 13
        f"roundabout,dots that stay inside,train,poses/../poses/{POSE}",  # line 14: kept
    ]
    with open(root / "annotations.csv", "a", encoding="utf-8") as f:
        f.write("".join(r + "\n" for r in rows))
    return root


def test_poseformat_rows_pointing_outside_data_root_are_skipped_naming_line_value_and_folder(tmp_path):
    root = _poseformat_tree(tmp_path)
    plan = PoseFormatReader(str(root)).plan("train")
    reasons = {s.clip: s.reason for s in plan.skipped}
    assert set(reasons) == {"up", "abs", "../../outside", "../x", "linked"}
    annotations = root / "annotations.csv"
    expected = {
        "up": (9, "file '../outside.pose': leads outside", str(root)),
        "abs": (10, f"file '{tmp_path / 'outside.pose'}': an absolute path", str(root)),
        "../../outside": (11, "id '../../outside': not a plain file name", str(root / "poses")),
        "../x": (12, "id '../x': not a plain file name", str(root / "poses")),
        "linked": (13, "file 'poses/link.pose': leads outside", str(root)),
    }
    for clip, (line, what, folder) in expected.items():
        assert reasons[clip].startswith(f"{annotations} line {line}: {what}"), reasons[clip]
        assert f"outside {folder}" in reasons[clip]
    assert [s.row for s in plan.skipped] == [9, 10, 11, 12, 13]
    # the demo's rows plan as before, and a path with dots that stays inside is kept
    assert [i.clip for i in plan.items] == ["84322c38", "openpose", "mediapipe_reduced", "cut_off", "not_there",
                                            "roundabout"]
    assert plan.annotation_rows == len(plan.items) + len(plan.skipped)


def test_poseformat_export_reads_nothing_from_outside_data_root(tmp_path):
    root = _poseformat_tree(tmp_path)
    out = tmp_path / "out"
    entry = export_split(PoseFormatReader(str(root)), "train", ExportOptions(str(out)))
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    names = [s["name"] for s in iter_samples(out / p["file"] for p in entry["parts"])]
    assert names == ["train/84322c38", "train/roundabout"]
    skipped = {s["clip"] for s in entry["skipped"]}
    assert {"up", "abs", "../../outside", "../x", "linked"} <= skipped


# --- How2Sign --------------------------------------------------------------------------------

def test_how2sign_sentence_names_with_paths_are_skipped_as_such(tmp_path):
    root = tmp_path / "How2Sign"
    shutil.copytree(DEMO / "How2Sign", root)
    clips = root / "val" / "openpose_output" / "json"
    good = "_2FBDaOPYig_1-3-rgb_front"
    shutil.copytree(clips / good, tmp_path / "outside")  # a readable clip folder outside the tree
    annotations = root / "how2sign_realigned_val.csv"
    names = ["../../../../outside", str(tmp_path / "outside"), f"../json/{good}", ".."]
    with open(annotations, "a", encoding="utf-8") as f:
        for name in names:
            f.write(f"v\tv-1-rgb_front\tv_1\t{name}\t1.0\t2.0\tA sentence.\n")
    plan = How2SignReader(str(root)).plan("val")
    assert [i.clip for i in plan.items] == [good, "_2FBDaOPYig_1-5-rgb_front", "-fZc293MpJk_7-1-rgb_front"]
    assert [s.row for s in plan.skipped] == [5, 6, 7, 8]
    for skip, name in zip(plan.skipped, names):
        assert skip.reason.startswith(f"{annotations} line {skip.row}: clip name {name!r}: not a plain file name, "
                                      f"would lead outside {clips}"), skip.reason


# --- LSFB-CONT -------------------------------------------------------------------------------

def test_lsfb_video_id_that_escapes_is_a_skip_of_the_plan_with_its_line(tmp_path):
    root = tmp_path / "LSFB-CONT"
    shutil.copytree(DEMO / "LSFB-CONT" / "poses", root / "poses")
    session = "CLSFBI0103A_S001_B"
    (root / "annotations.csv").write_text(
        "id,text,video_id,start,end,split\n"
        f"good,Bonjour,{session},600,2000,train\n"
        f"escape,Phrase,../pose/{session},600,2000,train\n", encoding="utf-8")
    plan = LSFBReader(str(root)).plan("train")
    assert [i.clip for i in plan.items] == ["good"]
    (skip,) = plan.skipped
    assert skip.clip == "escape" and skip.reason.startswith(
        f"{root / 'annotations.csv'} line 3: video_id '../pose/{session}': not a plain file name")


# --- WLASL -----------------------------------------------------------------------------------

def _wlasl_tree(tmp_path):
    """The demo tree, a real video outside it, and val instances of 'drink' whose ids point there."""
    root = tmp_path / "WLASL"
    shutil.copytree(DEMO / "WLASL", root)
    video = root / "videos" / "69302.mp4"
    shutil.copy(video, tmp_path / "outside.mp4")
    (root / "videos" / "sub").mkdir()
    shutil.copy(video, root / "videos" / "sub" / "69302.mp4")
    bad = ["../../outside", str(tmp_path / "outside"), "sub/69302"]
    entries = json.loads((root / "WLASL_v0.3.json").read_text(encoding="utf-8"))
    drink = next(e for e in entries if e["gloss"] == "drink")
    template = next(i for i in drink["instances"] if i["video_id"] == "69302")
    drink["instances"] += [dict(template, video_id=v, instance_id=90 + k) for k, v in enumerate(bad)]
    (root / "WLASL_v0.3.json").write_text(json.dumps(entries), encoding="utf-8")
    return root, bad


def test_wlasl_listing_skips_video_ids_that_are_not_file_names(tmp_path):
    root, bad = _wlasl_tree(tmp_path)
    listing = read_wlasl(root / "WLASL_v0.3.json", root / "wlasl_class_list.txt", split="val")
    assert [v.video_id for v in listing.videos] == ["69302", "12312"]
    assert [(s.video_id, s.split) for s in listing.skipped] == [(v, "val") for v in bad]
    for skip, (k, v) in zip(listing.skipped, enumerate(bad)):
        assert skip.reason.startswith(f"WLASL_v0.3.json: gloss 'drink' instance {3 + k}: video_id {v!r}: "
                                      "not a plain file name"), skip.reason


def test_wlasl_locate_and_output_paths_refuse_an_id_that_escapes(tmp_path):
    root, bad = _wlasl_tree(tmp_path)
    videos = [WlaslVideo(v, "drink", 1, "val") for v in bad + ["69302"]]
    jobs, skipped = locate_videos(videos, root / "videos")
    assert [j.video.video_id for j in jobs] == ["69302"]
    assert [s.video_id for s in skipped] == bad
    assert all(f"would lead outside {root / 'videos'}" in s.reason for s in skipped)
    for v in bad:
        with pytest.raises(ClipError, match="not a plain file name"):
            output_path(tmp_path / "out", "val", v)
        with pytest.raises(ClipError, match="not a plain file name"):
            record_path(tmp_path / "out", "val", v)
    with pytest.raises(ClipError, match="split '..'"):
        output_path(tmp_path / "out", "..", "69302")


def test_wlasl_extraction_reads_and_writes_nothing_outside_its_folders(tmp_path):
    root, bad = _wlasl_tree(tmp_path)
    out = tmp_path / "out"
    report = run_extraction("features", root / "WLASL_v0.3.json", root / "videos", out,
                            class_list=root / "wlasl_class_list.txt", split="val", num_frames=4, embed_dim=8)
    assert report.index["video_id"].tolist() == ["69302", "12312"]
    skipped = pd.read_csv(out / "skipped.csv", dtype={"video_id": str})
    assert skipped["video_id"].tolist() == bad
    for reason, v in zip(skipped["reason"], bad):
        assert f"video_id {v!r}: not a plain file name" in reason
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.npz"))
    assert written == ["out/val/12312.npz", "out/val/69302.npz"]
    assert not list(tmp_path.glob("outside.npz*")) and not list((root / "videos").rglob("*.npz*"))


# --- the training index of an extraction -----------------------------------------------------

def test_training_index_rows_pointing_outside_the_extraction_are_skipped(tmp_path):
    from slt_nb.formats.extraction import read_class_list
    from slt_nb.testing.sign_task import CLASS_LIST, write_sign_task
    from slt_nb.train.data import read_index

    classes = read_class_list(CLASS_LIST)

    task = write_sign_task(tmp_path / "task", num_classes=2, per_class={"train": 2}, feature_dim=8)
    fdir = task["feature_dir"]
    rows = list(csv.DictReader(open(fdir / "index.csv", encoding="utf-8")))
    shutil.copy(fdir / rows[0]["path"], tmp_path / "outside.npz")  # a usable file outside the extraction
    bad = {"up1": "../../outside.npz", "abs1": str(tmp_path / "outside.npz")}
    rows += [dict(rows[0], video_id=vid, path=path) for vid, path in bad.items()]
    with open(fdir / "index.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    records, skipped = read_index(fdir, classes, "features")
    assert [r.video_id for r in records] == [r["video_id"] for r in rows[:4]]
    reasons = {s.video_id: s.reason for s in skipped}
    assert set(reasons) == set(bad)
    assert reasons["up1"].startswith("index.csv line 6: path '../../outside.npz': leads outside")
    assert reasons["abs1"].startswith(f"index.csv line 7: path {bad['abs1']!r}: an absolute path")

    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(DEMO / "WLASL" / "videos" / "69302.mp4", tmp_path / "outside.mp4")
    for r in rows[:4]:
        shutil.copy(DEMO / "WLASL" / "videos" / "69302.mp4", videos / f"{r['video_id']}.mp4")
    rows = rows[:4] + [dict(rows[0], video_id="../outside")]
    with open(fdir / "index.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    records, skipped = read_index(fdir, classes, "video", videos)
    assert len(records) == 4
    (skip,) = skipped
    assert skip.video_id == "../outside" and skip.reason.startswith(
        f"index.csv line 6: video_id '../outside': not a plain file name, would lead outside {videos}")
