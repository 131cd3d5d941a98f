"""WLASL metadata: labels from the class list, splits, subsets, max_videos, where the videos are."""
from __future__ import annotations

import json

import pytest

from conftest import DEMO, REAL
from slt_nb.datasets.wlasl import locate_videos, parse_splits, read_class_list, read_wlasl

META = REAL / "wlasl_metadata"
EXCERPT = META / "WLASL_v0.3_first10glosses.json"
CLASSES = META / "wlasl_class_list.txt"
WLASL_DEMO = DEMO / "WLASL"


def _instances(split=None):
    return [(e["gloss"], i) for e in json.loads(EXCERPT.read_text()) for i in e["instances"]
            if split is None or i["split"] == split]


def test_class_list_gives_each_gloss_its_index():
    glosses = read_class_list(CLASSES)
    assert len(glosses) == 2000
    assert glosses[0] == "book" and glosses[2] == "computer" and glosses[1999] == "whistle"


def test_class_list_line_out_of_order_is_named(tmp_path):
    bad = tmp_path / "classes.txt"
    bad.write_text("0\tbook\n2\tdrink\n")
    with pytest.raises(ValueError, match=r"classes\.txt, line 2: class index 2, expected 1"):
        read_class_list(bad)


def test_labels_come_from_the_class_list_and_every_instance_is_listed():
    listing = read_wlasl(EXCERPT, CLASSES)
    assert len(listing.videos) == len(_instances()) == 280 and not listing.skipped
    labels = {v.gloss: v.label for v in listing.videos}
    glosses = read_class_list(CLASSES)
    assert all(glosses[label] == gloss for gloss, label in labels.items())
    assert labels["cousin"] == 9


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_split_filter_keeps_only_that_split(split):
    listing = read_wlasl(EXCERPT, CLASSES, split=split)
    assert {v.split for v in listing.videos} == {split}
    assert len(listing.videos) == len(_instances(split))
    assert listing.counts["other_split"] == 280 - len(_instances(split))


def test_max_videos_keeps_the_first_n_in_file_order():
    listing = read_wlasl(EXCERPT, CLASSES, split="test", max_videos=5)
    assert [v.video_id for v in listing.videos] == [i["video_id"] for _, i in _instances("test")[:5]]
    assert listing.counts["over_max_videos"] == len(_instances("test")) - 5


def test_nslt_subset_keeps_its_videos_with_its_split():
    subset = json.loads((META / "nslt_100.json").read_text())
    listing = read_wlasl(EXCERPT, CLASSES, nslt_json=META / "nslt_100.json")
    assert listing.videos and all(v.video_id in subset for v in listing.videos)
    assert all(v.split == subset[v.video_id]["subset"] for v in listing.videos)
    assert all(v.label == subset[v.video_id]["action"][0] for v in listing.videos)
    assert listing.counts["not_in_subset"] == 280 - len(listing.videos)


def test_gloss_missing_from_the_class_list_is_skipped_with_the_reason(tmp_path):
    short = tmp_path / "classes.txt"
    short.write_text("0\tbook\n1\tdrink\n")
    listing = read_wlasl(WLASL_DEMO / "WLASL_v0.3.json", short)
    assert {v.gloss for v in listing.videos} == {"book", "drink"}
    assert len(listing.skipped) == 4  # 68028, 69054, 12312, 12332
    assert all(s.reason == "gloss 'computer' is not in the class list" for s in listing.skipped)


def test_duplicate_video_id_is_skipped_with_the_first_gloss(tmp_path):
    entries = json.loads((WLASL_DEMO / "WLASL_v0.3.json").read_text())
    entries[1]["instances"].append(dict(entries[0]["instances"][0]))
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(entries))
    listing = read_wlasl(path)
    assert [s.reason for s in listing.skipped] == ["duplicate video_id (already listed under gloss 'book')"]


def test_unknown_split_name_is_rejected():
    with pytest.raises(ValueError, match="split must be one of"):
        parse_splits("dev")
    assert parse_splits("all") == ("train", "val", "test")
    assert parse_splits(["test", "train"]) == ("train", "test")


def test_missing_video_is_skipped_with_the_path_tried():
    listing = read_wlasl(WLASL_DEMO / "WLASL_v0.3.json", WLASL_DEMO / "wlasl_class_list.txt")
    jobs, missing = locate_videos(listing.videos, WLASL_DEMO / "videos")
    assert len(jobs) + len(missing) == len(listing.videos) == 10
    assert [(m.video_id, m.split) for m in missing] == [("69054", "train")]
    assert missing[0].reason.startswith("video file missing:") and missing[0].reason.endswith("videos/69054.mp4")


def test_trimmed_videos_are_read_whole_and_raw_videos_are_cut(tmp_path):
    listing = read_wlasl(EXCERPT, CLASSES)
    cut = [v for v in listing.videos if v.frame_start > 1][:2]
    assert cut, "the real excerpt has instances inside longer videos"
    for v in cut:
        (tmp_path / f"{v.video_id}.mp4").write_bytes(b"")
    trimmed, _ = locate_videos(cut, tmp_path, "trimmed")
    raw, _ = locate_videos(cut, tmp_path, "raw")
    assert all((j.frame_start, j.frame_end) == (1, -1) for j in trimmed)
    assert [(j.frame_start, j.frame_end) for j in raw] == [(v.frame_start, v.frame_end) for v in cut]
    with pytest.raises(ValueError, match="video_layout"):
        locate_videos(cut, tmp_path, "cropped")
