"""LSFB-CONT 2.x trees a hostile but fair user has: subtitles.json with a session given twice or
values that are no text, a session entry or split entry that is no list or id, a broken split
file that was not asked for, session pose files that are empty, archives, folders, 0-d, without
frames or shorter than their subtitles. Each is a named skip of that session's rows (or a note);
only the split file asked for and subtitles.json themselves stop a run, naming the file."""
import csv
import json
import os
import shutil

import numpy as np
import pytest

from conftest import DEMO
from slt_nb.datasets.lsfb import LSFBReader
from slt_nb.errors import AnnotationError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.pami import iter_samples

LSFB = DEMO / "LSFB-CONT"
S001, S004, S007 = "CLSFBI0103A_S001_B", "CLSFBI0209A_S004_B", "CLSFBI0311A_S007_A"
SPLITS = {"train": [S001, S004], "test": [S007]}


def _demo_subtitles() -> dict[str, list[dict]]:
    """The demo's sentences as the export scripts write subtitles.json: ms windows per session."""
    subtitles: dict[str, list[dict]] = {}
    with open(LSFB / "annotations.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if (LSFB / "poses" / "pose" / f"{row['video_id']}.npy").exists() and float(row["end"]) > float(row["start"]):
                subtitles.setdefault(row["video_id"], []).append(
                    {"start": int(row["start"]), "end": int(row["end"]), "value": row["text"]})
    return subtitles


def _tree(tmp_path, subtitles_text: str | None = None):
    """The lsfb-dataset 2.x layout around the demo's real MediaPipe session arrays."""
    root = tmp_path / "LSFB-CONT"
    shutil.copytree(LSFB / "poses", root / "poses")
    (root / "metadata" / "splits").mkdir(parents=True)
    for split, ids in SPLITS.items():
        (root / "metadata" / "splits" / f"{split}.json").write_text(json.dumps(ids))
    (root / "annotations").mkdir()
    text = subtitles_text if subtitles_text is not None else json.dumps(_demo_subtitles(), ensure_ascii=False)
    (root / "annotations" / "subtitles.json").write_text(text, encoding="utf-8")
    return root


def _export(root, tmp_path, split="train"):
    out = tmp_path / "out"
    entry = export_split(LSFBReader(str(root)), split, ExportOptions(str(out)))
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    samples = list(iter_samples(out / p["file"] for p in entry["parts"]))
    return entry, samples


def _names(samples):
    return [s["name"] for s in samples]


S004_SAMPLES = ["train/CLSFBI0209A_S004_B_000", "train/CLSFBI0209A_S004_B_001"]
S001_SAMPLES = [f"train/{S001}_{k:03d}" for k in range(5)]


def test_the_demo_as_an_official_tree_exports_every_subtitle(tmp_path):
    entry, samples = _export(_tree(tmp_path), tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES and entry["rows_skipped"] == 0


def test_a_session_given_twice_with_different_subtitles_skips_both_blocks_by_name(tmp_path):
    subs = _demo_subtitles()
    first = json.dumps({S001: subs[S001][:2]}, ensure_ascii=False)[1:-1]
    rest = json.dumps(subs, ensure_ascii=False)[1:-1]
    root = _tree(tmp_path, "{" + first + ", " + rest + "}")
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S004_SAMPLES
    skips = [s for s in entry["skipped"] if s["clip"].startswith(S001)]
    assert len(skips) == 2 + 5 and entry["rows_skipped"] == 7
    reason = skips[0]["reason"]
    assert reason.startswith(str(root / "annotations" / "subtitles.json"))
    assert f"session {S001} is given 2 times with different subtitles (blocks of 2, 5)" in reason


def test_a_session_given_twice_with_the_same_subtitles_is_read_once_with_a_note(tmp_path):
    subs = _demo_subtitles()
    again = json.dumps({S004: subs[S004]}, ensure_ascii=False)[1:-1]
    root = _tree(tmp_path, "{" + again + ", " + json.dumps(subs, ensure_ascii=False)[1:-1] + "}")
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES
    assert entry["annotation_notes"] == [f"{root / 'annotations' / 'subtitles.json'}: session {S004} is given 2 times "
                                         "with the same subtitles; read once"]


@pytest.mark.parametrize("value, shown", [(None, "null"), (42, "a number 42"), (["a", "list"], 'a list ["a", "list"]'),
                                          ({"fr": "Bonjour"}, 'an object {"fr": "Bonjour"}'), (True, "a boolean true")])
def test_a_subtitle_value_that_is_no_text_is_skipped_not_written_as_its_repr(tmp_path, value, shown):
    subs = _demo_subtitles()
    subs[S004][1]["value"] = value
    entry, samples = _export(_tree(tmp_path, json.dumps(subs, ensure_ascii=False)), tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES[:1]
    assert all(s["text"] not in ("None", "42", "True") and not s["text"].startswith(("[", "{")) for s in samples)
    (skip,) = entry["skipped"]
    assert skip["clip"] == f"{S004}[1]" and skip["reason"] == (
        f"{tmp_path / 'LSFB-CONT' / 'annotations' / 'subtitles.json'}: session {S004} subtitle 1: "
        f"value is {shown}; expected the subtitle text (a string)")


@pytest.mark.parametrize("entry_value, shown", [(7, "a number 7"), ("Bonjour", 'a string "Bonjour"'), (None, "null"),
                                                ({"start": 0}, 'an object {"start": 0}')])
def test_a_session_entry_that_is_no_list_is_a_named_skip(tmp_path, entry_value, shown):
    subs = _demo_subtitles()
    subs[S001] = entry_value
    entry, samples = _export(_tree(tmp_path, json.dumps(subs, ensure_ascii=False)), tmp_path)
    assert _names(samples) == S004_SAMPLES
    (skip,) = entry["skipped"]
    assert skip["clip"] == S001 and f"session {S001} is {shown}; expected a list of subtitles" in skip["reason"]


def test_a_split_file_entry_that_is_no_session_id_is_a_named_skip(tmp_path):
    root = _tree(tmp_path)
    split_file = root / "metadata" / "splits" / "train.json"
    split_file.write_text(json.dumps([S001, 17, S004]))
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES
    (skip,) = entry["skipped"]
    assert skip["reason"] == f"{split_file}: entry 1 is a number 17; expected a session id (a string)"


@pytest.mark.parametrize("broken, what", [("[\"CLSFBI0311A_S007_A\"", "is not valid JSON"),
                                          ('{"CLSFBI0311A_S007_A": 1}', "expected a JSON list of session ids"),
                                          ("[[1, 2]]", None)])
def test_a_broken_split_file_that_was_not_asked_for_is_a_note(tmp_path, broken, what):
    root = _tree(tmp_path)
    other = root / "metadata" / "splits" / "test.json"
    other.write_text(broken)
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES and entry["rows_skipped"] == 0
    counted = entry["reconciliation"]["subtitle_rows_in_other_split_files"]
    if what is None:  # readable, but no session ids in it: nothing to count
        assert counted == {"test": 0}
        return
    assert counted == {"test": None}
    (note,) = entry["annotation_notes"]
    assert note.startswith(f"{other}: ") and what in note and "not counted" in note


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir])
def test_a_split_file_not_asked_for_that_is_a_fifo_or_folder_is_a_note_not_a_hang(tmp_path, make,
                                                                                   fails_instead_of_hanging):
    root = _tree(tmp_path)
    other = root / "metadata" / "splits" / "test.json"
    other.unlink()
    make(other)
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S001_SAMPLES + S004_SAMPLES
    assert entry["annotation_notes"] == [f"{other}: split file is not a regular file; not counted in "
                                         "subtitle_rows_in_other_split_files"]


def test_the_split_file_asked_for_unreadable_stops_the_run_naming_it(tmp_path):
    root = _tree(tmp_path)
    split_file = root / "metadata" / "splits" / "train.json"
    split_file.write_text('["CLSFBI0103A_S001_B",')
    with pytest.raises(AnnotationError) as err:
        LSFBReader(str(root)).plan("train")
    assert str(err.value).startswith(f"{split_file}: split file is not valid JSON")


def _break_pose(root, session, make):
    path = root / "poses" / "pose" / f"{session}.npy"
    original = np.load(path)
    path.unlink()
    make(path, original)
    return path


def _npz(path, original):
    np.savez(path.with_suffix(".npz"), pose=original)
    path.with_suffix(".npz").rename(path)


@pytest.mark.parametrize("make, reason", [
    (lambda p, a: p.write_bytes(b""), "empty file (0 bytes); expected a .npy array"),
    (_npz, "an .npz archive (arrays ['pose']) saved as .npy; expected one (T, N, 3) array"),
    (lambda p, a: p.mkdir(), "a folder; expected a .npy file"),
    (lambda p, a: np.save(p, np.float16(0.5)), "shape () (0-d); expected (T, N, 3)"),
    (lambda p, a: os.mkfifo(p), "not a regular file (a FIFO); expected a .npy file"),
])
def test_a_broken_session_pose_file_skips_that_sessions_rows_by_name(tmp_path, make, reason, fails_instead_of_hanging):
    root = _tree(tmp_path)
    path = _break_pose(root, S001, make)
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S004_SAMPLES
    assert [s["clip"] for s in entry["skipped"]] == [f"{S001}_{k:03d}" for k in range(5)]
    assert {s["reason"] for s in entry["skipped"]} == {f"{path}: {reason}"}


def test_a_session_with_no_frames_is_skipped_as_such_not_as_wrong_units(tmp_path):
    root = _tree(tmp_path)
    path = _break_pose(root, S004, lambda p, a: np.save(p, a[:0]))
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S001_SAMPLES
    assert [s["clip"] for s in entry["skipped"]] == [f"{S004}_000", f"{S004}_001"]
    reason = entry["skipped"][0]["reason"]
    assert reason == f"{path}: 0 frames (T = 0); the session has no poses for its 2 subtitle(s)"
    assert "milliseconds" not in reason


def test_poses_shorter_than_their_subtitles_skip_that_session_naming_both_lengths(tmp_path):
    root = _tree(tmp_path)
    path = _break_pose(root, S001, lambda p, a: np.save(p, a[:200]))  # 4 s of an 11.2 s session
    entry, samples = _export(root, tmp_path)
    assert _names(samples) == S004_SAMPLES
    assert len(entry["skipped"]) == 5
    assert entry["skipped"][0]["reason"] == (
        f"{path}: poses shorter than the session's subtitles: a subtitle ends at 10700 ms but the poses have "
        "200 frames = 4000 ms at 50 fps (expected every end <= 5000 ms)")
