import gzip
import pickle

import numpy as np
import pytest
import torch

from conftest import DEMO
from slt_nb.export.pipeline import ExportOptions, export_split, manifest_path
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.export.validate import main, validate_exports
from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree


def _good(name="train/a", t=5, d=1024, text="hello"):
    return {"name": name, "signer": "", "gloss": "", "text": text, "sign": torch.rand(t, d)}


def _write(path, samples):
    with gzip.open(path, "wb") as f:
        pickle.dump(samples, f)
    return path


def _checks(report):
    return {(f.check, f.severity) for f in report.findings}


def test_a_real_export_validates_clean(tmp_path):
    export_split(How2SignReader(str(DEMO / "How2Sign")), "test", ExportOptions(str(tmp_path)))
    report = validate_exports([manifest_path(tmp_path, "How2Sign")])
    assert report.ok and report.samples == 4 and report.feature_sizes == {"How2Sign": {1024}}


@pytest.mark.parametrize("sample, check", [
    ({**_good(), "sign": np.zeros((5, 1024), np.float32)}, "sign type"),
    ({**_good(), "sign": torch.zeros(5, 1024, dtype=torch.float64)}, "sign dtype"),
    ({**_good(), "sign": torch.zeros(0, 1024)}, "sign shape"),
    ({**_good(), "sign": torch.full((3, 1024), float("nan"))}, "finite"),
    (_good(text="  "), "text"),
    ({k: v for k, v in _good().items() if k != "gloss"}, "keys"),
])
def test_each_defect_is_caught(tmp_path, sample, check):
    part = _write(tmp_path / "D-1024.pami0.train.part0", [_good("train/ok"), sample])
    report = validate_exports([part])
    assert not report.ok and (check, "error") in _checks(report)


def test_duplicate_names_across_parts_are_rejected(tmp_path):
    a = _write(tmp_path / "D-1024.pami0.train.part0", [_good("train/x")])
    b = _write(tmp_path / "D-1024.pami0.train.part1", [_good("train/x")])
    report = validate_exports([a, b])
    (dup,) = [f for f in report.findings if f.check == "unique name"]
    assert dup.sample == "train/x" and str(a) in dup.message


def test_feature_size_mismatch_between_datasets_is_reported_before_training(tmp_path):
    a = _write(tmp_path / "How2Sign-134.pami0.train.part0", [_good("train/a", d=134)])
    b = _write(tmp_path / "LSFB-1024.pami0.train.part0", [_good("train/b", d=1024)])
    report = validate_exports([a, b])
    (f,) = [f for f in report.findings if f.check == "feature size"]
    assert "stack expects each tensor to be equal size" in f.message and "[134]" in f.message and "[1024]" in f.message


def test_unloadable_parts_and_changed_files_are_errors(tmp_path):
    bad_gzip = tmp_path / "D-1024.pami0.train.part0"
    bad_gzip.write_bytes(b"not gzip at all")
    not_list = _write(tmp_path / "D-1024.pami0.train.part1", {"name": "x"})
    report = validate_exports([bad_gzip, not_list])
    assert [f.check for f in report.findings] == ["load", "load"]
    assert "Signformer needs a list" in report.findings[1].message

    out = tmp_path / "export"
    export_split(How2SignReader(str(DEMO / "How2Sign")), "test", ExportOptions(str(out)))
    part = next(out.glob("*.part0"))
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    report = validate_exports([out])
    assert {"sha256", "load"} <= {f.check for f in report.findings}


def test_long_training_samples_are_reported(tmp_path):
    part = _write(tmp_path / "D-1024.pami0.train.part0", [_good("train/long", t=401), _good("train/short", t=400)])
    report = validate_exports([part], max_sent_length=400)
    assert report.ok and report.over_max_length == {"train": 1}
    assert [f.sample for f in report.findings if f.check == "max_sent_length"] == ["train/long"]


def test_command_line_exit_status(tmp_path, capsys):
    good = tmp_path / "good"
    export_split(How2SignReader(str(DEMO / "How2Sign")), "val", ExportOptions(str(good)))
    assert main([str(good)]) == 0
    bad = _write(tmp_path / "D-1024.pami0.train.part0", [_good(text="")])
    assert main([str(good), str(bad)]) == 1
    assert "empty text" in capsys.readouterr().out
    assert main([str(tmp_path / "nothing-here")]) == 2


def test_a_clip_in_train_and_val_is_noted_in_the_manifest_and_warned_by_validate(tmp_path, capsys):
    shared = TreeClip("dup_1-1-rgb_front", "The same sentence twice.")
    root = how2sign_tree(tmp_path / "How2Sign", "official", {
        "train": [TreeClip("a_1-1-rgb_front", "Only in train."), shared],
        "val": [shared, TreeClip("b_1-1-rgb_front", "Only in val.")]})
    out = tmp_path / "out"
    for split in ("train", "val"):  # two runs into one folder, as a user exports one split at a time
        entry = export_split(How2SignReader(str(root)), split, ExportOptions(str(out)))
    assert entry["rows_exported"] == 2  # both stay exported: which split is wrong is the user's call
    assert entry["notes"] == [{"clip": "dup_1-1-rgb_front", "note": "also in split 'train' of this export: the same "
                               "clip in two splits (a model evaluated on a clip it was trained on scores too well)"}]
    report = validate_exports([out])
    (finding,) = [f for f in report.findings if f.check == "clip in two splits"]
    assert finding.severity == "warning" and finding.sample == "dup_1-1-rgb_front"
    assert "dup_1-1-rgb_front is in split 'train' and in split 'val'" in finding.message
    assert main([str(out)]) == 0  # a warning, not a failure
    assert "WARNING  clip in two splits" in capsys.readouterr().out


def test_a_split_exported_again_notes_no_clip_of_its_own_earlier_run(tmp_path):
    root = how2sign_tree(tmp_path / "How2Sign", "official", {"val": [TreeClip("b_1-1-rgb_front", "Only in val.")]})
    for _ in range(2):
        entry = export_split(How2SignReader(str(root)), "val", ExportOptions(str(tmp_path / "out")))
    assert entry["notes"] == [] and validate_exports([tmp_path / "out"]).findings == []
