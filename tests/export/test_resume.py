"""Killing an export or an extraction with `kill -9` at chosen moments, then resuming it.

Each run to kill is a real process (tests/export/killable.py) reading a real-format tree; the
test waits for the moment it wants (a clip read while its part is open, a part finished, the
publish halfway), kills it, resumes, and compares every output byte and the manifest with a
clean run, and counts the clip reads to show finished work was not done again.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import DEMO, REAL, REPO
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.manifest import read_manifest
from slt_nb.journal import file_sha256

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from killable import AnnouncingReader, build_how2sign_tree  # noqa: E402

CLIPS = 12
MANIFEST = "How2Sign-1024.manifest.json"
# What differs between two correct runs: timings, the engine, and what this run did itself.
RUN_KEYS = {"seconds", "workers", "engine", "reads", "resumed_parts"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("how2sign")
    build_how2sign_tree(root, REAL, clips=CLIPS)
    return root


@pytest.fixture(scope="module")
def clean(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=2))
    return out


def start(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    return subprocess.Popen([sys.executable, str(HERE / "killable.py"), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 60) -> list[str]:
    """Read the run's lines until ready(lines) holds, then kill -9 it; returns the lines seen."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the run ended before the moment to kill it: {lines}")
        lines.append(line.strip())
        if ready(lines):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return lines
    proc.kill()
    raise AssertionError(f"the moment to kill never came: {lines}")


def export_files(out: Path) -> dict[str, str]:
    """Every file a reader of the folder sees (hidden staging and lock excluded), with its sha256."""
    return {p.name: file_sha256(p) for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}


def part_files(out: Path) -> dict[str, str]:
    """The part files a reader of the folder sees, with their sha256 (the manifest is compared on its own)."""
    return {k: v for k, v in export_files(out).items() if ".part" in k}


def stable(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    for entry in m["splits"].values():
        for key in RUN_KEYS:
            entry.pop(key, None)
        for part in entry["parts"]:
            part.pop("seconds")
    return m


def assert_consistent(out: Path) -> None:
    """What Signformer and our tools would see: a manifest whose parts are exactly the files there."""
    manifest = read_manifest(out / MANIFEST)
    listed = {p["file"]: p["sha256"] for p in manifest["splits"]["train"]["parts"]}
    assert part_files(out) == listed


def reads(lines: list[str]) -> int:
    return sum(1 for line in lines if line.startswith("read "))


@pytest.mark.parametrize("moment, ready", [
    ("inside the first part write", lambda lines: reads(lines) == 1),
    ("inside a later part write", lambda lines: reads(lines) == 5),
    ("between parts", lambda lines: reads(lines) == 8),
])
def test_export_killed_then_resumed_equals_a_clean_run(tree, clean, tmp_path, moment, ready):
    out = tmp_path / "out"
    # An older export with other parts is in the folder: it must stay whole until the new one is published.
    old = export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=1))
    old_files = export_files(out)
    lines = kill_when(start("export", tree, out, "--chunk-size", 2, "--pause", 0.15), ready)
    assert export_files(out) == old_files, f"killed {moment}: the previous export changed"
    assert_consistent(out)
    staged = list((out / ".How2Sign-1024.pami0.train.staging").glob("*.record.json"))

    entry = export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=2))

    assert part_files(out) == part_files(clean)
    assert stable(read_manifest(out / MANIFEST)) == stable(read_manifest(clean / MANIFEST))
    assert entry["resumed_parts"] == len(staged)
    # every clip of a finished part was read once, by the killed run, never again
    assert entry["reads"] == CLIPS - 2 * len(staged)
    assert reads(lines) >= 2 * len(staged)
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name], "temp files left behind"
    assert len(old["parts"]) == CLIPS and not (out / ".How2Sign-1024.pami0.train.staging").exists()


def test_export_killed_while_publishing_is_finished_by_the_next_run(tree, clean, tmp_path):
    out = tmp_path / "out"
    kill_when(start("export", tree, out, "--publish-pause", 0.3),
              lambda lines: sum(line.startswith("publish .How2Sign") or line.startswith("publish How2Sign")
                                for line in lines) == 4)
    assert not (out / MANIFEST).exists()  # killed with some parts moved, the manifest not yet
    export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=2))
    assert part_files(out) == part_files(clean)
    assert stable(read_manifest(out / MANIFEST)) == stable(read_manifest(clean / MANIFEST))


@pytest.mark.slow
def test_killing_a_two_worker_export_stops_its_workers_and_resumes(tree, clean, tmp_path):
    import psutil

    out = tmp_path / "out"
    proc = start("export", tree, out, "--workers", 2, "--pause", 0.3)
    staging = out / ".How2Sign-1024.pami0.train.staging"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(staging.glob("*.record.json"))) < 2:
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(workers) >= 2, "expected Dask worker processes under the run"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, f"worker processes kept running after their parent was killed: {alive}"
    entry = export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=2))
    assert entry["resumed_parts"] >= 2
    assert part_files(out) == part_files(clean)


WLASL = DEMO / "WLASL"


def npz_arrays(folder: Path) -> dict:
    found = {}
    for path in sorted(folder.rglob("*.npz")):
        with np.load(path) as data:
            found[str(path.relative_to(folder))] = {k: data[k] for k in data.files}
    return found


@pytest.mark.slow
def test_extraction_killed_then_resumed_equals_a_clean_run(tmp_path):
    clean_out, out = tmp_path / "clean", tmp_path / "out"
    done = start("extract", WLASL, clean_out)
    assert done.wait(120) == 0
    lines = kill_when(start("extract", WLASL, out, "--pause", 0.3),
                      lambda lines: sum(line.startswith("extracted") for line in lines) == 4)
    # killed after the 4th video's file was written but before its record: that one is redone
    finished = [line.split()[1] for line in lines if line.startswith("extracted")][:3]
    proc = start("extract", WLASL, out)
    assert proc.wait(120) == 0
    counts = json.loads(proc.stdout.read().strip().splitlines()[-1][len("done "):])
    assert counts["resumed"] == len(finished) == 3
    assert counts["extracted"] + counts["resumed"] == counts["in_index"]
    for name in ("index.csv", "skipped.csv"):
        assert (out / name).read_bytes() == (clean_out / name).read_bytes()
    got, want = npz_arrays(out), npz_arrays(clean_out)
    assert got.keys() == want.keys()
    for path in want:
        for key in want[path]:
            assert np.array_equal(got[path][key], want[path][key]), (path, key)
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


# --- resuming after the inputs changed ---------------------------------------------------------

class Interrupted(KeyboardInterrupt):
    """Ctrl-C after a number of parts, raised from the run's own progress callback."""


def interrupted_export(reader, split, out, chunk_size, after_parts):
    """Export until `after_parts` parts are staged, then stop as Ctrl-C would; the staged parts stay for a resume."""
    finished = []

    def on_part(part):
        finished.append(part["index"])
        if len(finished) == after_parts:
            raise Interrupted
    with pytest.raises(Interrupted):
        export_split(reader, split, ExportOptions(str(out), chunk_size=chunk_size), on_part=on_part)
    return finished


def shift_first_person(frame: Path, dx: float) -> None:
    """Move the first person's body points `dx` pixels right: a frame file re-estimated or repaired."""
    doc = json.loads(frame.read_text())
    pose = doc["people"][0]["pose_keypoints_2d"]
    for i in range(0, len(pose), 3):
        if pose[i + 2] > 0:
            pose[i] += dx
    frame.write_text(json.dumps(doc))


@pytest.mark.parametrize("change", ["values changed", "only touched", "a frame removed"])
def test_resume_redoes_the_part_whose_keypoint_files_changed(tmp_path, change):
    tree = tmp_path / "how2sign"
    build_how2sign_tree(tree, REAL, clips=8)
    out = tmp_path / "out"
    # parts of 2 clips: part 1 holds kill002 and kill003
    assert interrupted_export(AnnouncingReader(str(tree)), "train", out, 2, after_parts=3) == [0, 1, 2]
    before = export_files(out / ".How2Sign-1024.pami0.train.staging")["How2Sign-1024.pami0.train.part1"]
    clip = tree / "train" / "openpose_output" / "json" / "kill003_0-1-rgb_front"
    frame = sorted(clip.glob("*.json"))[4]
    if change == "values changed":
        shift_first_person(frame, 40.0)
    elif change == "only touched":
        os.utime(frame, ns=(frame.stat().st_atime_ns, frame.stat().st_mtime_ns + 1_000_000_000))
    else:
        frame.unlink()

    entry = export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(out), chunk_size=2))

    assert entry["resumed_parts"] == 2  # parts 0 and 2; part 1 was read again
    assert entry["reads"] == 2 + 2  # part 1's two clips and part 3's
    clean = tmp_path / "clean"
    export_split(AnnouncingReader(str(tree)), "train", ExportOptions(str(clean), chunk_size=2))
    assert part_files(out) == part_files(clean)  # every part as the changed tree gives it
    after = export_files(out)["How2Sign-1024.pami0.train.part1"]
    assert (after != before) == (change != "only touched")


def test_resume_redoes_the_lsfb_parts_of_a_changed_session_file(tmp_path):
    import shutil

    from slt_nb.datasets.lsfb import LSFBReader

    root = tmp_path / "LSFB-CONT"
    shutil.copytree(DEMO / "LSFB-CONT", root)
    annotations = root / "annotations.csv"  # the demo's val session joins train: two sessions in one split
    annotations.write_text(annotations.read_text().replace(",val\n", ",train\n"))

    out = tmp_path / "out"
    plan = LSFBReader(str(root)).plan("train")
    sessions = [item.locator.video_id for item in plan.items]  # part i holds window i (chunk_size 1)
    assert len(set(sessions)) >= 2
    staged = interrupted_export(LSFBReader(str(root)), "train", out, 1, after_parts=len(sessions) - 1)
    session = "CLSFBI0209A_S004_B"  # the val session now in train: its windows' parts must be redone, those of the other sessions kept
    path = root / "poses" / "pose" / f"{session}.npy"
    arr = np.load(path)
    arr[..., 0] = np.clip(arr[..., 0] + 0.01, 0, 1)
    np.save(path, arr)

    entry = export_split(LSFBReader(str(root)), "train", ExportOptions(str(out), chunk_size=1))

    assert entry["resumed_parts"] == sum(1 for i in staged if sessions[i] != session) > 0
    clean = tmp_path / "clean"
    export_split(LSFBReader(str(root)), "train", ExportOptions(str(clean), chunk_size=1))
    assert part_files(out) == part_files(clean)
