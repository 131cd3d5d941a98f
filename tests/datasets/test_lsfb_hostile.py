"""LSFB-CONT inputs a hostile but fair user has: odd windows, broken or strange arrays, ids with
paths in them. Each is a named skip or a note; the split always finishes and every row is counted."""
import shutil
import zipfile

import numpy as np
import pytest

from conftest import DEMO
from slt_nb.datasets.lsfb import LSFBReader
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.pami import iter_samples

LSFB = DEMO / "LSFB-CONT"
HEADER = "id,text,video_id,start,end,split\n"
SESSION = "CLSFBI0103A_S001_B"


def _tree(tmp_path, rows):
    root = tmp_path / "LSFB-CONT"
    shutil.copytree(LSFB / "poses", root / "poses")
    (root / "annotations.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return root


def _export(root, tmp_path, split="train"):
    out = tmp_path / "out"
    entry = export_split(LSFBReader(str(root)), split, ExportOptions(str(out)))
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    samples = list(iter_samples(out / p["file"] for p in entry["parts"]))
    for s in samples:
        assert np.isfinite(s["sign"].numpy()).all(), s["name"]
    return entry, samples


GOOD = f"good,Bonjour,{SESSION},600,2000,train\n"


@pytest.mark.parametrize("start, end, reason", [
    ("-2000", "-1000", "negative time"),
    ("-200", "1000", "negative time"),
    ("nan", "1000", "expected finite times"),
    ("100", "inf", "expected finite times"),
    ("-inf", "inf", "expected finite times"),
    ("3000", "1000", "empty window"),
])
def test_negative_nan_infinite_and_reversed_windows_are_skipped_with_their_reason(tmp_path, start, end, reason):
    root = _tree(tmp_path, [GOOD, f"bad,Phrase,{SESSION},{start},{end},train\n"])
    entry, samples = _export(root, tmp_path)
    assert [s["name"] for s in samples] == ["train/good"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == "bad" and skip["row"] == 3 and reason in skip["reason"] and "line 3" in skip["reason"]


def test_a_negative_window_never_exports_frames_from_the_end_of_the_session(tmp_path):
    root = _tree(tmp_path, [f"wrap,Phrase,{SESSION},-2000,-1000,train\n"])
    entry, samples = _export(root, tmp_path)
    assert samples == [] and entry["rows_skipped"] == 1


def _replace_pose(root, make):
    path = root / "poses" / "pose" / f"{SESSION}.npy"
    original = np.load(path)
    path.unlink()
    make(path, original)
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda p, a: p.write_bytes(b""), "empty file (0 bytes)"),
    (lambda p, a: p.write_bytes(b"\x93NUMPY\x01\x00garbage"), "not a readable .npy array"),
    (lambda p, a: np.save(p, a) or p.write_bytes(p.read_bytes()[:5000]), "not a readable .npy array"),
    (lambda p, a: np.save(p, np.array([[["x"] * 3] * 33] * 10)), "dtype <U1 (string)"),
    (lambda p, a: np.save(p, a.astype(np.complex64)), "dtype complex64 (complex)"),
    (lambda p, a: np.save(p, np.zeros((10, 33, 3), dtype=[("x", "f4")])), "(structured)"),
    (lambda p, a: np.save(p, np.array([[[None] * 3] * 33] * 2, dtype=object), allow_pickle=True),
     "not a readable .npy array"),
    (lambda p, a: np.save(p, a > 0.5), "(boolean)"),
])
def test_broken_or_strange_session_arrays_are_skipped_by_name(tmp_path, make, reason):
    root = _tree(tmp_path, [GOOD, "other,Salut,CLSFBI0209A_S004_B,600,2000,train\n"])
    path = _replace_pose(root, make)
    entry, samples = _export(root, tmp_path)
    assert [s["name"] for s in samples] == ["train/other"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == "good" and skip["reason"].startswith(str(path)) and reason in skip["reason"]


def test_an_npz_saved_as_npy_is_refused_by_name(tmp_path):
    root = _tree(tmp_path, [GOOD])

    def make(path, original):
        tmp = path.with_suffix(".npz")
        np.savez(tmp, pose=original)
        tmp.rename(path)
        assert zipfile.is_zipfile(path)

    path = _replace_pose(root, make)
    entry, samples = _export(root, tmp_path)
    assert samples == [] and entry["skipped"][0]["reason"] == (
        f"{path}: an .npz archive (arrays ['pose']) saved as .npy; expected one (T, N, 3) array")


def test_integer_arrays_are_real_numbers_and_accepted(tmp_path):
    root = _tree(tmp_path, [GOOD])
    _replace_pose(root, lambda p, a: np.save(p, np.nan_to_num(a * 100).astype(np.int16)))
    entry, samples = _export(root, tmp_path)
    assert [s["name"] for s in samples] == ["train/good"]


def test_infinite_or_absurd_coordinates_zero_their_frames_with_a_note(tmp_path):
    root = _tree(tmp_path, [GOOD])

    def make(path, original):
        a = original.astype(np.float32)
        a[40, 0, 0] = np.inf
        a[41, 3, 1] = -1e4
        np.save(path, a)

    _replace_pose(root, make)
    entry, (sample,) = _export(root, tmp_path)
    sign = sample["sign"].numpy()
    assert entry["counts"]["zeroed_frames"] == 2
    assert not sign[40 - 30].any() and not sign[41 - 30].any() and sign[39 - 30].any()
    (note,) = [n["note"] for n in entry["notes"] if "frames written as zeros" in n["note"]]
    assert note.startswith("2 of 70 frames written as zeros") and f"session frames 40-41 of {SESSION}" in note


def test_a_point_with_one_nan_coordinate_is_undetected_and_named(tmp_path):
    root = _tree(tmp_path, [GOOD])

    def make(path, original):
        a = original.astype(np.float32)
        assert np.isfinite(a[45, 11]).all() and np.isfinite(a[52, 12]).all()  # real detected shoulders
        a[45, 11, 0] = np.nan  # x NaN, y a number: not what MediaPipe writes
        a[52, 12, 1] = np.nan
        np.save(path, a)

    path = _replace_pose(root, make)
    entry, (sample,) = _export(root, tmp_path)
    sign = sample["sign"].numpy()
    assert (sign[45 - 30, 22:24] == 0).all() and (sign[52 - 30, 24:26] == 0).all()  # both coordinates, not one
    (note,) = [n["note"] for n in entry["notes"] if "one coordinate NaN" in n["note"]]
    assert note.startswith(f"{path}: 2 points with one coordinate NaN") and note.endswith("session frames 45, 52")


def test_clean_session_arrays_leave_no_note(tmp_path):
    entry, _ = _export(_tree(tmp_path, [GOOD]), tmp_path)
    assert entry["notes"] == []


@pytest.mark.parametrize("video_id", ["../pose/" + SESSION, "../../LSFB-CONT/poses/pose/" + SESSION, "/etc/passwd",
                                      "..", ""])
def test_a_video_id_never_leads_outside_its_poses_folder(tmp_path, video_id):
    root = _tree(tmp_path, [GOOD, f"escape,Phrase,{video_id},600,2000,train\n"])
    # a file the escaping id would reach, so only the check stops it
    for part in ("pose", "left_hand", "right_hand"):
        shutil.copy(root / "poses" / part / f"{SESSION}.npy", root / "poses" / f"{SESSION}.npy")
    entry, samples = _export(root, tmp_path)
    assert [s["name"] for s in samples] == ["train/good"]
    (skip,) = entry["skipped"]
    assert skip["clip"] == "escape" and "would lead outside" in skip["reason"] and "expected the name of a session file" in skip["reason"]
