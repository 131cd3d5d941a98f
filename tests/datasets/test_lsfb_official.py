"""LSFB-CONT as lsfb-dataset 2.x lays it out: subtitles.json, metadata/splits, poses/<part>/<id>.npy."""
import json

import numpy as np
import pytest

from slt_nb.datasets.lsfb import LSFBReader
from slt_nb.errors import AnnotationError
from slt_nb.export import report
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.manifest import manifest_path
from slt_nb.formats.pami import iter_samples
from slt_nb.testing.how2sign_trees import lsfb_official_tree

SESSIONS = {"CLSFBI0103A_S001_B": 1500, "CLSFBI0103A_S002_B": 900, "CLSFBI0209A_S010_B": 600}
SUBTITLES = {
    # unsorted, as the export scripts write them; times in ms at 50 fps (20 ms a frame)
    "CLSFBI0103A_S001_B": [{"start": 12000, "end": 15020, "value": "Deuxième phrase."},
                           {"start": 1000, "end": 4000, "value": "Première phrase."}],
    "CLSFBI0209A_S010_B": [{"start": 2000, "end": 5000, "value": "Une phrase de test."}],
    "CLSFBI0999A_S001_B": [{"start": 0, "end": 1000, "value": "Pas de poses."}],
}
SPLITS = {"train": ["CLSFBI0103A_S001_B", "CLSFBI0103A_S002_B", "CLSFBI0999A_S001_B"], "test": ["CLSFBI0209A_S010_B"]}


def test_official_layout_exports_each_subtitle_as_a_window_of_its_session(tmp_path):
    root = lsfb_official_tree(tmp_path / "lsfb_cont", SESSIONS, SPLITS, SUBTITLES)
    reader = LSFBReader(str(root))
    entry = export_split(reader, "train", ExportOptions(str(tmp_path / "out")))
    manifest = json.loads(manifest_path(tmp_path / "out", "LSFB-CONT").read_text())
    assert manifest["reader"]["tree"]["layout"] == "official-2.x"
    assert entry["source"]["split_file"].endswith("metadata/splits/train.json")
    samples = {s["name"]: s for s in iter_samples(tmp_path / "out" / p["file"] for p in entry["parts"])}
    assert list(samples) == ["train/CLSFBI0103A_S001_B_000", "train/CLSFBI0103A_S001_B_001"]  # by start time
    first = samples["train/CLSFBI0103A_S001_B_000"]
    assert first["text"] == "Première phrase." and first["sign"].shape[0] == 200 - 50  # frames 50..200
    pose = np.load(root / "poses" / "pose" / "CLSFBI0103A_S001_B.npy").astype(np.float32)
    assert np.allclose(first["sign"].numpy()[:, :66], pose[50:200, :, :2].reshape(150, -1), atol=1e-6)
    # both directions: the subtitle whose session has no poses, the session with no subtitles
    rec = entry["reconciliation"]
    assert rec["rows_without_sessions"] == 1 and rec["sessions_missing"] == ["CLSFBI0999A_S001_B"]
    assert rec["sessions_without_rows_list"] == ["CLSFBI0103A_S002_B"]
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"] == 3
    table = report.reconciliation_table(manifest)
    assert table.loc["train", "poses without annotation rows"] == 1


def test_subtitle_times_in_frames_stop_the_plan_naming_the_session(tmp_path):
    in_frames = {"CLSFBI0103A_S001_B": [{"start": 50, "end": 200, "value": "a"}, {"start": 600, "end": 751, "value": "b"},
                                        {"start": 900, "end": 1010, "value": "c"}]}
    root = lsfb_official_tree(tmp_path / "lsfb_cont", SESSIONS, {"train": ["CLSFBI0103A_S001_B"]}, in_frames)
    with pytest.raises(AnnotationError) as err:
        LSFBReader(str(root)).plan("train")
    msg = str(err.value)
    assert "CLSFBI0103A_S001_B" in msg and "frame numbers, not milliseconds" in msg and "subtitles.json" in msg


def test_a_missing_split_file_lists_the_splits_present(tmp_path):
    root = lsfb_official_tree(tmp_path / "lsfb_cont", SESSIONS, SPLITS, SUBTITLES)
    with pytest.raises(AnnotationError) as err:
        LSFBReader(str(root)).plan("val")
    assert "metadata/splits/val.json" in str(err.value) and "['test', 'train']" in str(err.value)


def test_annotations_csv_layout_reads_dev_as_val_and_counts_other_splits(tmp_path):
    from slt_nb.datasets.lsfb import PARTS

    root = tmp_path / "lsfb"
    for part, n in zip(PARTS, (33, 21, 21)):
        (root / "poses" / part).mkdir(parents=True)
        np.save(root / "poses" / part / "s1.npy", np.zeros((300, n, 3), dtype=np.float16))
        np.save(root / "poses" / part / "s2.npy", np.zeros((300, n, 3), dtype=np.float16))
    (root / "annotations.csv").write_text("id,text,video_id,start,end,split\n"
                                          "a,Un.,s1,0,1000,dev\nb,Deux.,s1,1000,2000,train\nc,Trois.,s9,0,500,dev\n")
    entry = export_split(LSFBReader(str(root)), "val", ExportOptions(str(tmp_path / "out")))
    assert entry["rows_exported"] == 1 and entry["rows_skipped"] == 1
    assert entry["split_values"]["aliases"] == {"dev": "val"}
    assert entry["split_values"]["rows_by_split_value"] == {"dev": 2, "train": 1}
    assert entry["reconciliation"]["sessions_missing"] == ["s9"]
    assert entry["reconciliation"]["sessions_without_rows_list"] == ["s2"]


def test_require_splits_names_the_missing_split_files_before_any_export(tmp_path):
    root = lsfb_official_tree(tmp_path / "lsfb_cont", SESSIONS, SPLITS, SUBTITLES)
    reader = LSFBReader(str(root))
    reader.require_splits(["train", "test"])
    with pytest.raises(AnnotationError) as err:
        reader.require_splits(["train", "val"])
    assert "['val']" in str(err.value) and "metadata/splits/val.json" in str(err.value)
