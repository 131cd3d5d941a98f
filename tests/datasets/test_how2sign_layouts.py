"""How2Sign trees as users download them: each layout detected, each split found where it lives."""
import json

import numpy as np
import pytest

from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.datasets.how2sign_tree import detect_tree
from slt_nb.errors import AnnotationError, ParameterError
from slt_nb.export import report
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.export.run import run_export
from slt_nb.params import load_params
from slt_nb.formats.manifest import manifest_path
from slt_nb.formats.pami import iter_samples
from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree

VAL = [TreeClip("_2FBDaOPYig_1-3-rgb_front", "Today I am going to show you fries."),
       TreeClip("_2FBDaOPYig_1-5-rgb_front", "Today I am going to show you fries.", naming="frame"),
       TreeClip("-fZc293MpJk_7-1-rgb_front", "Hi!", poses=False),
       TreeClip("-fZc293MpJk_9-1-rgb_front", "A folder no row names.", row=False)]


def export(reader, split, out, **options):
    entry = export_split(reader, split, ExportOptions(str(out), **options))
    manifest = json.loads(manifest_path(out, reader.dataset).read_text())
    return entry, manifest


def test_official_download_with_only_val_exports_val_and_names_the_layout(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": VAL})
    entry, manifest = export(How2SignReader(str(root)), "val", tmp_path / "out")
    assert manifest["reader"]["tree"]["layout"] == "official"
    assert entry["source"]["keypoints"] == str(root / "sentence_level/val/rgb_front/features/openpose_output/json")
    assert entry["source"]["text"].endswith("sentence_level/val/text/en/raw_text/re_aligned/how2sign_realigned_val.csv")
    assert entry["rows_exported"] == 2 and entry["rows_skipped"] == 1 and entry["annotation_rows"] == 3
    # both directions: the row without poses is skipped, the folder without a row is listed
    assert entry["reconciliation"]["rows_without_poses"] == 1
    assert entry["reconciliation"]["poses_without_rows_list"] == ["-fZc293MpJk_9-1-rgb_front"]
    names = [s["name"] for s in iter_samples(tmp_path / "out" / p["file"] for p in entry["parts"])]
    assert names == ["val/_2FBDaOPYig_1-3-rgb_front", "val/_2FBDaOPYig_1-5-rgb_front"]


def test_a_missing_requested_split_names_where_it_looked_and_what_is_there(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": VAL})
    with pytest.raises(AnnotationError) as err:
        How2SignReader(str(root)).plan("train")
    msg = str(err.value)
    assert "'train' not found" in msg and "sentence_level/train/rgb_front/features/openpose_output/json" in msg
    assert "['val']" in msg and "-p splits val" in msg


def test_data_root_at_sentence_level_is_the_same_download(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"test": VAL[:2]})
    entry, manifest = export(How2SignReader(str(root / "sentence_level")), "test", tmp_path / "out")
    assert manifest["reader"]["tree"]["layout"] == "official-sentence_level"
    assert entry["rows_exported"] == 2


def test_annotations_csv_tree_maps_split_aliases_and_accounts_for_every_row(tmp_path):
    root = how2sign_tree(tmp_path / "h2s", "annotations-csv", {"val": VAL, "train": [TreeClip("-g0iPSnQt6w_2-1-rgb_front", "Train.")]})
    ann = root / "annotations.csv"
    lines = ann.read_text().splitlines()
    # as people write them: dev and Validation mean val; holdout is no split at all
    lines[1] = lines[1].replace(",val", ",dev")
    lines[2] = lines[2].replace(",val", ",Validation")
    lines.append("_zz_1-1-rgb_front,Kept aside.,holdout")
    ann.write_text("\n".join(lines) + "\n")
    assert detect_tree(str(root)).layout == "annotations-csv"
    entry, manifest = export(How2SignReader(str(root)), "val", tmp_path / "out")
    assert entry["rows_exported"] == 2 and entry["annotation_rows"] == 3
    values = entry["split_values"]
    assert values["aliases"] == {"dev": "val", "Validation": "val"}
    assert values["unknown_split_values"] == ["holdout"] and values["file_rows"] == 5
    table = report.split_accounting_table(manifest)
    row = table.iloc[0]
    assert row["file rows"] == 5 and row["exported"] == 2 and row["skipped"] == 1
    assert "train: 1" in row["rows for splits not requested / unknown split"]
    assert "holdout: 1 (unknown split)" in row["rows for splits not requested / unknown split"]
    assert bool(row["all rows accounted for"])


def test_flat_tree_is_still_read_and_both_frame_namings_give_their_frame_counts(tmp_path):
    clips = [TreeClip("a_1-1-rgb_front", "One.", frames=9), TreeClip("b_1-1-rgb_front", "Two.", frames=11, naming="frame")]
    root = how2sign_tree(tmp_path / "h2s", "flat", {"train": clips})
    entry, manifest = export(How2SignReader(str(root)), "train", tmp_path / "out")
    assert manifest["reader"]["tree"]["layout"] == "flat"
    assert entry["clip_frames"] == {"a_1-1-rgb_front": 9, "b_1-1-rgb_front": 11}


def test_a_one_frame_clip_is_skipped_because_signformer_gives_nan(tmp_path):
    clips = [TreeClip("a_1-1-rgb_front", "One frame.", frames=1), TreeClip("b_1-1-rgb_front", "Two frames.", frames=2)]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": clips})
    entry, _ = export(How2SignReader(str(root)), "val", tmp_path / "out")
    assert list(entry["clip_frames"]) == ["b_1-1-rgb_front"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == "a_1-1-rgb_front" and "fewer than min_frames 2" in skip["reason"]
    assert "NaN" in skip["reason"]
    entry, _ = export(How2SignReader(str(root)), "val", tmp_path / "out3", min_frames=3)
    assert entry["rows_exported"] == 0 and entry["samples"] == 0


def test_a_1920x1080_clip_takes_its_size_from_its_video_header(tmp_path):
    clips = [TreeClip("big_1-1-rgb_front", "Large video.", scale=1.5, video_size=(1920, 1080)),
             TreeClip("big_2-1-rgb_front", "Large, no video.", scale=1.5),
             TreeClip("std_1-1-rgb_front", "Usual size.", video_size=(1280, 720))]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": clips})
    entry, _ = export(How2SignReader(str(root)), "val", tmp_path / "out")
    sizes = entry["frame_sizes"]
    assert sizes["clips_by_source"] == {"video header": 2, "frame_sizes csv": 0, "configured": 1}
    assert sizes["clips_not_configured_size"] == {"big_1-1-rgb_front": {"size": [1920, 1080], "from": "video header"}}
    noted = {n["clip"] for n in entry["notes"] if "beyond the frame size" in n["note"]}
    assert noted == {"big_2-1-rgb_front"}  # without a video, the clip beyond 1280x720 is listed
    samples = {s["name"]: s["sign"].numpy()[:, :134] for s in iter_samples(tmp_path / "out" / p["file"] for p in entry["parts"])}
    big, std = samples["val/big_1-1-rgb_front"], samples["val/std_1-1-rgb_front"]
    assert big.max() <= 1.05 and std.max() <= 1.05  # each divided by its own frame size


def test_a_frame_sizes_csv_covers_clips_without_a_video(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": [TreeClip("big_2-1-rgb_front", "Large.", scale=1.5)]})
    (root / "sizes.csv").write_text("clip,width,height\nbig_2-1-rgb_front,1920,1080\n")
    reader = How2SignReader(str(root), frame_sizes="{data_root}/sizes.csv")
    entry, _ = export(reader, "val", tmp_path / "out")
    assert entry["frame_sizes"]["clips_not_configured_size"]["big_2-1-rgb_front"] == {"size": [1920, 1080], "from": "frame_sizes csv"}
    assert not entry["notes"]


def test_nothing_matching_lists_every_layout_with_its_paths(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnnotationError) as err:
        How2SignReader(str(tmp_path / "empty")).plan("val")
    msg = str(err.value)
    for expected in ("official", "official-sentence_level", "flat", "sentence_level/val/rgb_front/features/openpose_output/json",
                     "val/openpose_output/json", "how2sign_realigned_val.csv", "annotations.csv"):
        assert expected in msg


def test_explicit_keypoints_dir_and_annotations_win_over_detection(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": VAL})
    moved = tmp_path / "elsewhere"
    (root / "sentence_level/val/rgb_front/features/openpose_output/json").rename(moved)
    csv_file = root / "sentence_level/val/text/en/raw_text/re_aligned/how2sign_realigned_val.csv"
    reader = How2SignReader(str(root), keypoints_dir=str(moved), annotations=str(csv_file))
    entry, manifest = export(reader, "val", tmp_path / "out")
    assert entry["source"]["layout"] == "explicit" and entry["rows_exported"] == 2


def test_report_tables_work_on_an_export_that_wrote_nothing(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": [TreeClip("a_1-1-rgb_front", "Gone.", poses=False),
                                                                     TreeClip("b_1-1-rgb_front", "Other.", row=False)]})
    entry, manifest = export(How2SignReader(str(root)), "val", tmp_path / "out")
    assert entry["samples"] == 0 and entry["rows_skipped"] == 1
    assert report.empty_splits(manifest) == ["val: nothing exported: all 1 annotation rows were skipped (see the skipped table)"]
    assert report.first_exported_part(manifest, tmp_path / "out") is None
    assert len(report.skipped_table(manifest)) == 1
    assert report.reconciliation_table(manifest).loc["val", "poses without annotation rows"] == 1
    assert report.source_table(manifest).loc["val", "layout"] == "official"


def test_inspection_on_a_val_only_download_summarises_val(tmp_path):
    from slt_nb.inspection import open_source

    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": VAL})
    source = open_source("How2Sign", data_root=str(root))
    assert source.splits() == ["val"]
    assert [c.name for c in source.clips("val")] == ["_2FBDaOPYig_1-3-rgb_front", "_2FBDaOPYig_1-5-rgb_front"]
    assert np.asarray(source.load(source.clips("val")[1]).frames).shape == (12, 274 // 2 * 2)


def test_detect_recognises_every_layout_and_nothing_else(tmp_path):
    from slt_nb.datasets.lsfb import LSFBReader

    for layout in ("official", "annotations-csv", "flat"):
        root = how2sign_tree(tmp_path / layout, layout, {"test": VAL[:1]})
        assert How2SignReader.detect(str(root)), layout
        assert not LSFBReader.detect(str(root)), layout
    assert How2SignReader.detect(str(tmp_path / "official" / "sentence_level"))
    (tmp_path / "other" / "val").mkdir(parents=True)
    assert not How2SignReader.detect(str(tmp_path / "other"))


def test_inspection_draws_a_large_clip_with_its_own_frame_size(tmp_path):
    from slt_nb.inspection import open_source

    clips = [TreeClip("big_1-1-rgb_front", "Large video.", scale=1.5, video_size=(1920, 1080)), VAL[0]]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": clips})
    source = open_source("How2Sign", data_root=str(root))
    big, usual = (source.load(ref) for ref in source.clips("val"))
    assert big.frame_size == (1920, 1080) and usual.frame_size == (1280, 720)


def test_an_export_asking_for_a_missing_split_writes_nothing(tmp_path):
    from slt_nb.export.run import run_export

    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": VAL})
    params = {"dataset": "How2Sign", "data_root": str(root), "output_dir": str(tmp_path / "out"),
              "splits": ["val", "test"], "keypoints_dir": "auto", "annotations": "auto"}
    with pytest.raises(AnnotationError, match="'test' not found"):
        run_export(params)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())



@pytest.mark.parametrize("min_frames", [-1, 0, 1, "1", "two"])
def test_min_frames_below_two_or_not_a_number_is_refused_naming_it(tmp_path, min_frames):
    clips = [TreeClip("a_1-1-rgb_front", "One frame.", frames=1), TreeClip("b_1-1-rgb_front", "Two frames.", frames=2)]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": clips})
    params = load_params("How2Sign", {"data_root": str(root), "output_dir": str(tmp_path / "out"),
                                      "splits": ["val"], "min_frames": min_frames})
    with pytest.raises(ParameterError, match=r"parameter 'min_frames': .*(below 2: Signformer's encoder gives NaN"
                                             r"|not a whole number)"):
        run_export(params)
    assert not list(tmp_path.glob("out/*.part*"))  # the 1-frame clip was not exported


@pytest.mark.parametrize("min_frames", [-1, 0, 1])
def test_export_options_below_two_frames_are_refused(tmp_path, min_frames):
    with pytest.raises(ParameterError, match=f"parameter 'min_frames': {min_frames} is below 2"):
        ExportOptions(str(tmp_path / "out"), min_frames=min_frames)
