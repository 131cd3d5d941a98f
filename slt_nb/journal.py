"""What makes a run into an output folder safe to kill, resume and run twice at once.

- `OutputLock`: one run per output folder. A second run fails at once with a message naming
  the holder (pid, host, start time, what it runs); a lock left by a process that no longer
  exists on this host is stale and taken over (under a flock, so by one run only).
- Work records: every finished unit of work (an export part, an extracted video) leaves a small
  JSON record beside its file, written atomically after the file, with the file's sha256 and a
  key of everything that decided its content. A resumed run skips work whose record, key and
  file agree, and redoes the rest.
- `Staging` + `publish`: an export writes its parts into a hidden staging folder and moves them
  to their final names together with the manifest at the end. The moves are first written down
  (a publish journal), so a run killed while publishing is finished by the next run before it
  does anything else: readers see the old export or the new one, never a manifest pointing at
  a mix (apart from the few milliseconds the renames take).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import sys
import time
from pathlib import Path

from slt_nb.atomic import atomic_write_text, file_sha256, process_alive, remove_stale_temps, temp_path_for
from slt_nb.errors import OutputLocked, OutputWriteError

LOCK_NAME = ".slt_nb.lock"


_held: dict[str, int] = {}  # lock path -> nesting depth in this process


class OutputLock:
    """An exclusive lock file in an output folder (`.slt_nb.lock`), reentrant within a process."""

    def __init__(self, folder: str | os.PathLike, purpose: str = ""):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.purpose = purpose or " ".join(sys.argv[:3])

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def acquire(self) -> "OutputLock":
        key = str(self.path.resolve())
        if _held.get(key):
            _held[key] += 1
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "purpose": self.purpose}
        for _ in range(3):
            if self._create(me):
                _held[key] = 1
                return self
            # Deciding that the holder is dead and removing its lock happen under one flock, so two
            # runs taking over the same stale lock cannot both remove it: the second one finds the
            # first one's lock, whose holder lives.
            with _takeover_guard(self.path):
                if not self.path.exists():
                    continue  # released meanwhile
                other = self.holder() or {}  # unreadable: a crash (a lock appears whole, see _create)
                stale = other.get("host") == me["host"] and not process_alive(int(other.get("pid", -1)))
                if other and not stale:
                    raise OutputLocked(
                        f"{self.folder} is in use by another run: pid {other.get('pid')} on host "
                        f"{other.get('host')}, started {other.get('started')} ({other.get('purpose')}). "
                        f"Wait for it to finish; if that process no longer exists, delete {self.path}."
                    )
                self.path.unlink(missing_ok=True)
        raise OutputLocked(f"{self.path}: could not take the lock (other runs keep taking it)")

    def _create(self, me: dict) -> bool:
        """Create the lock file with `me` in it, whole, unless it exists; whether this run now holds it."""
        tmp = temp_path_for(self.path)
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(me, f)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, self.path)  # a lock never exists empty: another run reads its holder or nothing
            except FileExistsError:
                return False
            except OSError:  # a filesystem without hard links: create, then write
                try:
                    fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    return False
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(me, f)
                    f.flush()
                    os.fsync(f.fileno())
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def release(self) -> None:
        key = str(self.path.resolve())
        depth = _held.get(key, 0)
        if depth > 1:
            _held[key] = depth - 1
            return
        _held.pop(key, None)
        holder = self.holder()
        if holder and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


@contextlib.contextmanager
def _takeover_guard(lock_path: Path):
    """An exclusive flock on `<lock>.takeover` beside the lock (kept, never deleted, so every run locks the same file)."""
    fd = os.open(lock_path.with_name(lock_path.name + ".takeover"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


# --- work records ------------------------------------------------------------------------------

def content_key(*parts) -> str:
    """A short stable digest of JSON-serialisable parts: what decided a file's content."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def input_fingerprint(path: str | os.PathLike) -> list:
    """[files, bytes, newest mtime_ns] of a file, or of the regular files in a folder (one level,
    the folder's own mtime counted, so a renamed or removed frame shows); ["missing"] if absent.

    Part of a work key, so a resumed run redoes the work whose input files changed since.
    """
    try:
        info = os.stat(path)
    except OSError:
        return ["missing"]
    if not stat.S_ISDIR(info.st_mode):
        return [1, info.st_size, info.st_mtime_ns]
    files, size, newest = 0, 0, info.st_mtime_ns
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    each = entry.stat()
                except OSError:
                    continue  # a broken link: the read reports it
                if stat.S_ISREG(each.st_mode):
                    files, size, newest = files + 1, size + each.st_size, max(newest, each.st_mtime_ns)
    except OSError:
        return ["unreadable"]
    return [files, size, newest]


def write_record(path: str | os.PathLike, record: dict) -> None:
    atomic_write_text(path, json.dumps(record, ensure_ascii=False, sort_keys=True))


def read_record(path: str | os.PathLike) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def record_holds(record: dict | None, key: str, file: str | os.PathLike) -> bool:
    """The record is for this key and the file on disk is the one it describes (size and sha256)."""
    if not record or record.get("key") != key:
        return False
    file = Path(file)
    try:
        if file.stat().st_size != record.get("bytes"):
            return False
    except FileNotFoundError:
        return False
    return file_sha256(file) == record.get("sha256")


# --- staging and publishing ----------------------------------------------------------------------

PUBLISH_JOURNAL = "publish.json"


class Staging:
    """A hidden folder inside the output folder where one split's parts are written before publishing."""

    def __init__(self, output_dir: str | os.PathLike, name: str):
        self.output_dir = Path(output_dir)
        self.dir = self.output_dir / f".{name}.staging"

    def prepare(self, resume: bool) -> None:
        """Finish an interrupted publish, drop dead runs' temp files, and start over unless resuming."""
        finish_publish(self.dir)
        remove_stale_temps(self.output_dir)
        if not resume and self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.dir)
        for dead in self.dir.glob("run-*"):  # task folders of runs that ended without moving their parts
            shutil.rmtree(dead, ignore_errors=True)

    def run_dir(self, run_id: str) -> Path:
        """The folder this run's tasks write their parts and records into."""
        folder = self.dir / f"run-{run_id}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def adopt(self, run_dir: Path, file_name: str) -> None:
        """Move a finished task's part, then its record, from this run's folder into the staging folder."""
        _checked(os.replace, run_dir / file_name, self.dir / file_name)
        record = self.record_file(run_dir, file_name)
        _checked(os.replace, record, self.record_file(self.dir, file_name))

    @staticmethod
    def record_file(staging_dir: str | os.PathLike, file_name: str) -> Path:
        """Where the record of a staged file lives (beside it, in the staging folder)."""
        return Path(staging_dir) / f"{file_name}.record.json"

    def finished(self, file_name: str, key: str) -> dict | None:
        """The record of a staged file that a resumed run can keep, or None to redo it."""
        record = read_record(self.record_file(self.dir, file_name))
        return record if record_holds(record, key, self.dir / file_name) else None

    def publish(self, files: list[str], remove: list[str], manifest_path: Path, manifest_text: str) -> None:
        """Move the staged files into the output folder, remove `remove`, put the manifest in place, clean up.

        Everything that needs disk space (the manifest, the journal) is written inside the staging
        folder first; publishing is then renames and deletions only, which a full disk cannot stop
        halfway. A write refused before that leaves the previous export untouched.
        """
        staged_manifest = self.dir / manifest_path.name
        _checked(atomic_write_text, staged_manifest, manifest_text)
        _checked(write_record, self.dir / PUBLISH_JOURNAL,
                 {"files": files + [manifest_path.name], "remove": remove})
        finish_publish(self.dir)


def finish_publish(staging_dir: Path) -> None:
    """Carry out a written publish journal (again, if a run was killed halfway); no-op without one."""
    journal = read_record(staging_dir / PUBLISH_JOURNAL)
    if journal is None:
        return
    out = staging_dir.parent
    for name in journal["remove"]:
        (out / name).unlink(missing_ok=True)
    for name in journal["files"]:  # the manifest last: it appears once every part is in place
        staged = staging_dir / name
        if staged.exists():  # already moved by the interrupted run otherwise
            _checked(os.replace, staged, out / name)
    shutil.rmtree(staging_dir, ignore_errors=True)


def _checked(write, path, *args):
    try:
        return write(path, *args)
    except OSError as exc:
        raise explain_write_error(exc, Path(args[0]) if write is os.replace else Path(path)) from exc


def explain_write_error(exc: OSError, path: Path, needed_bytes: int | None = None) -> OSError:
    """An OSError turned into a message naming the path, what the disk has and what is needed."""
    if isinstance(exc, OutputWriteError):
        return exc
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
        free_text = f"{free / 1e6:.1f} MB free on that filesystem"
    except OSError:
        free_text = "free space unknown"
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        need = f"; about {needed_bytes / 1e6:.1f} MB more are needed" if needed_bytes else ""
        text = f"{path}: no space left on the device ({free_text}{need}). Free some space and run again (resume keeps finished work)."
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        text = f"{path}: permission denied writing there ({exc.strerror}). Choose an output_dir you can write to."
    elif exc.errno == errno.EFBIG:
        text = (f"{path}: writing failed: {exc.strerror} (the file would pass the size limit this process may "
                f"write, `ulimit -f`; {free_text}). Raise the limit, or make chunk_size smaller.")
    else:
        text = f"{path}: writing failed: {exc.strerror or exc} ({free_text})"
    return OutputWriteError(exc.errno, text)
