import math

import numpy as np
import pytest

from conftest import DEMO
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.datasets.lsfb import LSFBReader, frame_range, read_lsfb_annotations
from slt_nb.formats.pami import iter_samples

LSFB = DEMO / "LSFB-CONT"


def _samples(out, entry):
    return list(iter_samples(out / p["file"] for p in entry["parts"]))


def test_frame_range_follows_the_official_20ms_mapping():
    assert frame_range(600, 2000) == (30, 100)
    assert frame_range(610, 2001) == (30, 101)  # floor the start, ceil the end
    assert frame_range(600, 2000, fps=25) == (15, 50)


def test_windows_match_the_session_arrays_value_by_value(tmp_path):
    entry = export_split(LSFBReader(str(LSFB)), "train", ExportOptions(str(tmp_path)))
    rows = {r["id"]: r for r in read_lsfb_annotations(str(LSFB / "annotations.csv"))[0]}
    samples = _samples(tmp_path, entry)
    assert len(samples) == 5
    for s in samples:
        r = rows[s["name"].split("/", 1)[1]]
        first, stop = math.floor(float(r["start"]) / 20), math.ceil(float(r["end"]) / 20)
        expected = []
        for part in ("pose", "left_hand", "right_hand"):
            arr = np.load(LSFB / "poses" / part / f"{r['video_id']}.npy")
            assert arr.dtype == np.float16  # as real downloads
            xy = arr[first:stop, :, :2].astype(np.float32)
            expected.append(np.nan_to_num(xy, nan=0.0).reshape(len(xy), -1))
        expected = np.concatenate(expected, axis=1)
        sign = s["sign"].numpy()
        assert sign.shape == (stop - first, 1024)
        np.testing.assert_array_equal(sign[:, :150], expected)
        assert not sign[:, 150:].any()


def test_nan_becomes_zero_and_is_counted(tmp_path):
    entry = export_split(LSFBReader(str(LSFB)), "val", ExportOptions(str(tmp_path)))
    assert entry["counts"]["nan_left_hand_frames"] > 0
    for s in _samples(tmp_path, entry):
        assert np.isfinite(s["sign"].numpy()).all()


def test_awkward_rows_are_clipped_or_skipped_with_reasons(tmp_path):
    reader = LSFBReader(str(LSFB))
    test = export_split(reader, "test", ExportOptions(str(tmp_path)))
    assert test["counts"]["clipped_windows"] == 1
    assert any("runs past the end" in n["note"] and "clipped to 20 frames" in n["note"] for n in test["notes"])
    assert [(s["clip"], "empty window" in s["reason"]) for s in test["skipped"]] == [("CLSFBI0311A_S007_A_3", True)]
    train = export_split(reader, "train", ExportOptions(str(tmp_path)))
    (missing,) = train["skipped"]
    assert missing["clip"] == "CLSFBI0415A_S002_A_0" and "CLSFBI0415A_S002_A.npy: pose file missing" in missing["reason"]
    for e in (test, train):
        assert e["rows_exported"] + e["rows_skipped"] == e["annotation_rows"]


def test_point_count_that_does_not_fit_the_layout_is_a_clear_error(tmp_path):
    root = tmp_path / "lsfb"
    (root / "poses").mkdir(parents=True)
    for part, n in (("pose", 23), ("left_hand", 21), ("right_hand", 21)):
        (root / "poses" / part).mkdir()
        np.save(root / "poses" / part / "v1.npy", np.zeros((100, n, 3), np.float16))
    (root / "annotations.csv").write_text("id,text,video_id,start,end,split\ns1,Bonjour,v1,0,1000,train\n")
    entry = export_split(LSFBReader(str(root)), "train", ExportOptions(str(tmp_path / "out")))
    reason = entry["skipped"][0]["reason"]
    assert "v1.npy: 23 points per frame" in reason and "expects 33 for pose" in reason


def test_a_session_is_opened_once_for_all_its_sentences(tmp_path):
    reader = LSFBReader(str(LSFB), augmented="{data_root}/annotations_train_augmented.csv", variant="aug")
    entry = export_split(reader, "train", ExportOptions(str(tmp_path)))
    assert reader.session_opens == 1  # one session serves 5 sentences and their 14 texts
    assert entry["reads"] == 5 and entry["samples"] == 14


def test_augmented_samples_have_unique_names_and_unknown_ids_are_skipped(tmp_path):
    reader = LSFBReader(str(LSFB), augmented="{data_root}/annotations_train_augmented.csv", variant="aug")
    entry = export_split(reader, "train", ExportOptions(str(tmp_path), chunk_size=4))
    samples = _samples(tmp_path, entry)
    names = [s["name"] for s in samples]
    assert len(names) == len(set(names)) == 14
    assert names[:3] == ["train/CLSFBI0103A_S001_B_0", "train/CLSFBI0103A_S001_B_0_aug1", "train/CLSFBI0103A_S001_B_0_aug2"]
    assert samples[0]["text"] == "Bonjour, je m'appelle Marie." and samples[1]["text"] == "Salut, mon nom est Marie."
    # all texts of one clip carry the same poses
    assert (samples[0]["sign"] == samples[2]["sign"]).all()
    (unknown,) = entry["skipped"]
    assert unknown["clip"] == "CLSFBI9999A_S999_Z_0" and "source clip unknown" in unknown["reason"]
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"] == 15
    assert all(p["file"].startswith("LSFB-CONT-aug-1024.pami0.train.part") for p in entry["parts"])
    # val and test come from the plain annotations
    val = export_split(reader, "val", ExportOptions(str(tmp_path)))
    assert val["annotation_file"].endswith("annotations.csv") and val["samples"] == 2


def test_how2sign_augmented_reads_each_clip_once(tmp_path):
    reader = How2SignReader(str(DEMO / "How2Sign"), augmented="{data_root}/train_aug.tsv", variant="aug")
    entry = export_split(reader, "train", ExportOptions(str(tmp_path)))
    assert entry["reads"] == 6 and entry["samples"] == 18
    names = [s["name"] for s in _samples(tmp_path, entry)]
    assert len(set(names)) == 18 and "train/-g0iPSnQt6w_2-1-rgb_front_aug2" in names
    reasons = {s["clip"]: s["reason"] for s in entry["skipped"]}
    assert "source clip unknown" in reasons["-zzzzzzzzzz_0-1-rgb_front"]


@pytest.mark.slow
@pytest.mark.parametrize("reader", [
    lambda: LSFBReader(str(LSFB), augmented="{data_root}/annotations_train_augmented.csv", variant="aug"),
    lambda: How2SignReader(str(DEMO / "How2Sign")),
])
def test_two_workers_write_the_same_parts_as_one(tmp_path, reader):
    one = export_split(reader(), "train", ExportOptions(str(tmp_path / "w1"), chunk_size=2), workers=1)
    two = export_split(reader(), "train", ExportOptions(str(tmp_path / "w2"), chunk_size=2), workers=2)
    assert len(one["parts"]) >= 3
    strip = lambda e: [(p["file"], p["samples"], p["frames"], p["sha256"]) for p in e["parts"]]  # noqa: E731
    assert strip(one) == strip(two)
    assert one["skipped"] == two["skipped"] and one["clip_frames"] == two["clip_frames"]
