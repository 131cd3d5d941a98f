"""The one way slt-nb writes a file: into a temp file in the same folder, fsync, then rename.

A reader therefore sees either the old file or the new one, never half of one. Temp files are
hidden (`.<name>.tmp-<pid>-<random>`), so they never match a `*.part*` or `*.npz` glob, and
`remove_stale_temps` can find and delete what a killed run left behind.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import IO, Iterator

from slt_nb.errors import WriteRefused

TEMP_PATTERN = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{8}$")


def temp_path_for(path: str | os.PathLike) -> Path:
    """A fresh hidden temp name beside `path`, unique to this process."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path to write; on success it is fsynced and renamed onto `path`.

    On an exception the temp file is removed and `path` is left as it was; a refused fsync or
    rename raises `WriteRefused` naming `path`.
    """
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        yield tmp
        try:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise refused(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """`open()` for writing, atomically: the file appears at `path` only when the block succeeds.

    The block only writes to the file, so an OSError in it is a refused write: `WriteRefused`.
    """
    binary = "b" in mode
    with atomic_path(path) as tmp:
        try:
            with open(tmp, mode, encoding=None if binary else encoding, newline=None if binary else newline) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise refused(exc, path) from exc


def refused(exc: OSError, path: str | os.PathLike) -> WriteRefused:
    """A write's OSError as `WriteRefused` (errno and text kept) naming the file it was for."""
    if isinstance(exc, WriteRefused):
        return exc
    return WriteRefused(exc.errno, exc.strerror or str(exc), str(path))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Delete temp files left in `folder` by processes that are no longer running."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = TEMP_PATTERN.match(p.name)
        if m and not process_alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (ours always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
