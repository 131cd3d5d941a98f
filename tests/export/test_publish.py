"""One run per output folder, and machine errors that stop a run without harming the previous export."""
from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import DEMO, REPO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.manifest import read_manifest
from slt_nb.formats import pami
from slt_nb.journal import LOCK_NAME, OutputLock, OutputLocked, OutputWriteError, file_sha256

MANIFEST = "How2Sign-1024.manifest.json"


def reader():
    return How2SignReader(str(DEMO / "How2Sign"))


def visible(out):
    return {p.name: file_sha256(p) for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}


def test_a_second_export_into_the_same_folder_fails_naming_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from slt_nb.journal import OutputLock\n"
        f"lock = OutputLock({str(tmp_path)!r}, 'export How2Sign train').acquire(); print('held', flush=True); time.sleep(60)"
    )], stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputLocked) as caught:
            export_split(reader(), "test", ExportOptions(str(tmp_path)))
        message = str(caught.value)
        assert f"pid {holder.pid}" in message and socket.gethostname() in message
        assert "export How2Sign train" in message and "started 20" in message
        assert not list(tmp_path.glob("*.part*"))
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                                  "started": "2026-01-01T00:00:00", "purpose": "killed run"}))
    entry = export_split(reader(), "test", ExportOptions(str(tmp_path)))
    assert entry["samples"] > 0 and not (tmp_path / LOCK_NAME).exists()


def _race_for_the_lock(folder, start, tried, results):
    start.wait()
    try:
        OutputLock(folder, "racer").acquire()
        results.put(("won", os.getpid()))
    except OutputLocked as exc:
        results.put(("refused", str(exc)))
    tried.wait()  # a winner holds the lock until every racer has tried


def test_runs_taking_over_one_stale_lock_at_once_leave_exactly_one_holder(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "started": "2026-01-01T00:00:00",
                        "purpose": "killed run"})
    racers = 6
    for trial in range(20):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        (folder / LOCK_NAME).write_text(stale)
        start, tried, results = context.Barrier(racers), context.Barrier(racers), context.Queue()
        procs = [context.Process(target=_race_for_the_lock, args=(folder, start, tried, results))
                 for _ in range(racers)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(60)
        winners = [value for kind, value in outcomes if kind == "won"]
        assert len(winners) == 1, f"trial {trial}: {len(winners)} runs hold the lock: {outcomes}"
        assert json.loads((folder / LOCK_NAME).read_text())["pid"] == winners[0]
        for kind, message in outcomes:
            assert kind == "won" or f"pid {winners[0]}" in message, message


def test_the_lock_is_taken_on_a_filesystem_without_hard_links(tmp_path, monkeypatch):
    import slt_nb.journal as journal

    def no_links(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(journal.os, "link", no_links)
    lock = OutputLock(tmp_path, "export on exFAT").acquire()
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # no temp file left
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_held_on_another_host_is_respected(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "node-17", "started": "2026-01-01T00:00:00",
                                                  "purpose": "export on the cluster"}))
    with pytest.raises(OutputLocked, match="node-17"):
        OutputLock(tmp_path).acquire()


def full_disk_from_part(monkeypatch, index: int):
    """Make the bytes of part `index` and later fail to reach the disk with ENOSPC, as a full disk would."""
    original = pami._HashingFile.write

    def write(self, data):
        if pami.part_index(self.raw.name.split(".tmp-")[0]) >= index:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(pami._HashingFile, "write", write)


def test_full_disk_during_a_part_stops_the_run_and_keeps_the_previous_export(tmp_path, monkeypatch):
    export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=1))
    before = visible(tmp_path)
    full_disk_from_part(monkeypatch, 1)
    with pytest.raises(OutputWriteError) as caught:
        export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=2), resume=False)
    message = str(caught.value)
    assert "no space left" in message and "MB free" in message and "How2Sign-1024.pami0.train.part" in message
    assert caught.value.errno == errno.ENOSPC
    assert visible(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name], "temp files left behind"
    monkeypatch.undo()
    entry = export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=2))
    assert entry["resumed_parts"] == 1  # the part finished before the disk filled is kept


def test_full_disk_while_writing_the_manifest_leaves_the_previous_export_whole(tmp_path, monkeypatch):
    import slt_nb.journal as journal

    export_split(reader(), "val", ExportOptions(str(tmp_path), chunk_size=1))
    before = visible(tmp_path)
    original = journal.atomic_write_text

    def no_space(path, text):
        if str(path).endswith(".manifest.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return original(path, text)

    monkeypatch.setattr(journal, "atomic_write_text", no_space)
    with pytest.raises(OutputWriteError, match="manifest.json: no space left"):
        export_split(reader(), "val", ExportOptions(str(tmp_path), chunk_size=5))
    assert visible(tmp_path) == before
    assert read_manifest(tmp_path / MANIFEST)["chunk_size"] == 1


# The export run as a user runs it, in its own process, with a file size limit (`ulimit -f`):
# Python ignores SIGXFSZ, so the write that passes the limit fails with EFBIG.
SIZE_LIMITED_EXPORT = """
import resource, signal, sys
from slt_nb.export.run import run_export
from slt_nb.params import load_params
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
run_export(load_params("How2Sign", {"output_dir": sys.argv[1], "splits": ["train"], "chunk_size": 3}))
"""


def test_a_file_size_limit_fails_the_run_and_keeps_the_previous_export(tmp_path):
    from slt_nb.export.run import run_export
    from slt_nb.params import load_params

    run_export(load_params("How2Sign", {"output_dir": str(tmp_path), "splits": ["train"], "chunk_size": 5}))
    before = visible(tmp_path)
    # Below the first new part (3 real clips, over 40 kB), above the manifest, records and lock.
    limit = 30_000
    assert os.path.getsize(tmp_path / MANIFEST) < limit
    run = subprocess.run([sys.executable, "-c", SIZE_LIMITED_EXPORT, str(tmp_path), str(limit)],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode != 0, run.stdout + run.stderr
    error = run.stderr.strip().splitlines()[-1]
    assert "OutputWriteError" in error and os.strerror(errno.EFBIG) in error, error
    assert "How2Sign-1024.pami0.train.part0: writing failed" in error and "ulimit -f" in error
    assert "Nothing was published" in error
    assert visible(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name], "temp files left behind"


@pytest.mark.parametrize("code", [errno.EIO, errno.EFBIG, errno.EROFS])
def test_any_refused_write_of_a_part_stops_the_run_and_keeps_the_previous_export(tmp_path, monkeypatch, code):
    export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=1))
    before = visible(tmp_path)
    original = pami._HashingFile.write

    def refuse(self, data):
        if pami.part_index(self.raw.name.split(".tmp-")[0]) >= 1:
            raise OSError(code, os.strerror(code))
        return original(self, data)

    monkeypatch.setattr(pami._HashingFile, "write", refuse)
    with pytest.raises(OutputWriteError) as caught:
        export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=2), resume=False)
    assert caught.value.errno == code
    assert "How2Sign-1024.pami0.train.part1" in str(caught.value) and os.strerror(code) in str(caught.value)
    assert visible(tmp_path) == before


def test_a_refused_write_of_a_part_record_stops_the_run(tmp_path, monkeypatch):
    import slt_nb.atomic as atomic

    export_split(reader(), "val", ExportOptions(str(tmp_path), chunk_size=1))
    before = visible(tmp_path)
    original = os.fsync

    def failing_fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").split("/")[-1].startswith(".How2Sign-1024.pami0.val.part0.record"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return original(fd)

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OutputWriteError, match=r"part0.record.json: writing failed: Input/output error"):
        export_split(reader(), "val", ExportOptions(str(tmp_path), chunk_size=2), resume=False)
    assert visible(tmp_path) == before


def test_permission_denied_names_the_folder(tmp_path, monkeypatch):
    def refuse(self, data):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(pami._HashingFile, "write", refuse)
    with pytest.raises(OutputWriteError, match=r"How2Sign-1024.pami0.test.part0: permission denied"):
        export_split(reader(), "test", ExportOptions(str(tmp_path)))
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name or ".part" in p.name]


class _KilledClient:
    """An engine whose client dies after handing its tasks to a cluster: the tasks are kept, to run later."""

    def __init__(self):
        self.tasks = []

    def run(self, fn, todo, done, stop_on=None, label=""):
        self.tasks = [(fn, args) for _, args in todo]
        raise KeyboardInterrupt  # the client is killed; its tasks live on, on the workers

    def describe(self):
        return {"kind": "killed client"}


def test_a_killed_runs_task_finishing_during_the_rerun_never_replaces_its_parts(tmp_path):
    """Issue 18.5: run A (coordinates pixels) dies with its tasks still on the cluster; rerun B
    (normalised) is going when A's task for part 0 finishes. B publishes only its own parts."""
    from slt_nb.journal import LOCK_NAME

    pixels = How2SignReader(str(DEMO / "How2Sign"), frame_size=None)
    dead_a = _KilledClient()
    with pytest.raises(KeyboardInterrupt):
        export_split(pixels, "train", ExportOptions(str(tmp_path), chunk_size=2), engine=dead_a, resume=False)
    (tmp_path / LOCK_NAME).unlink(missing_ok=True)  # A's lock: its client is gone
    assert dead_a.tasks

    def late_task_of_run_a(part):
        if part["index"] == 0:
            fn, args = dead_a.tasks[0]
            fn(*args)  # A's task for part 0 finishes now, writing where run A told it to

    entry = export_split(reader(), "train", ExportOptions(str(tmp_path), chunk_size=2), on_part=late_task_of_run_a)
    clean = tmp_path / "clean"
    expected = export_split(reader(), "train", ExportOptions(str(clean), chunk_size=2))
    for ours, theirs in zip(entry["parts"], expected["parts"]):
        assert file_sha256(tmp_path / ours["file"]) == ours["sha256"] == theirs["sha256"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_dir()]  # no staging left
