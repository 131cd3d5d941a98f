"""OpenPose clip folders on disk: frame file names, their order and gaps, reading one file.

A clip folder holds `<anything>_<frame number>_keypoints.json` files (How2Sign names them
`<clip>_<frame:012d>_keypoints.json`, other tools `frame_000000_keypoints.json`). Frames are
ordered by the number, never by a string sort; holes in the numbering are kept as gaps. Reading
a file refuses anything but a regular file before a read could block (a FIFO) and names the
file in a ClipError. `formats.openpose` parses what is read here, frame by frame.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from slt_nb.errors import ClipError
from slt_nb.paths import file_kind

_SUFFIX = "_keypoints.json"
_DIGITS = "0123456789"


def frame_number(name: str) -> int | None:
    """The frame number of `<anything><digits>_keypoints.json`, else None."""
    if not name.endswith(_SUFFIX):
        return None
    stem = name[: -len(_SUFFIX)]
    digits = stem[len(stem.rstrip(_DIGITS)):]
    return int(digits) if digits else None


@dataclass
class FrameFiles:
    """A clip folder's frame files in frame order, with any holes in the numbering."""

    directory: str
    paths: list[str]
    numbers: list[int]
    gaps: list[tuple[int, int]] = field(default_factory=list)  # inclusive missing ranges
    # [files, bytes, newest mtime_ns] of the frame files and the folder, once they are read
    fingerprint: list | None = None
    names: list[str] | None = None  # the files' names in `directory`, in the order of `paths`

    def describe_gaps(self) -> str:
        return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.gaps)


def list_frame_files(directory: str) -> FrameFiles:
    """The `*_keypoints.json` files of one clip folder, ordered by frame number."""
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        what = "dangling symbolic link" if os.path.islink(directory) else "keypoint folder not found"
        raise ClipError(f"{directory}: {what}; expected a folder of *_keypoints.json files") from None
    except NotADirectoryError:
        raise ClipError(f"{directory}: expected a folder of *_keypoints.json files, found a file") from None
    except OSError as exc:  # a symlink loop, no permission, an I/O error: this clip only
        raise ClipError(f"{directory}: cannot list the keypoint folder: {exc.strerror or exc}") from None
    base = os.path.join(directory, "")
    names = [n for n in entries if n.endswith(_SUFFIX)]
    numbers = _fixed_width_numbers(names)  # sorts names
    if numbers is None:  # any other naming: each name's own number
        numbered = sorted((number, name) for name in names if (number := frame_number(name)) is not None)
        if not numbered:
            raise ClipError(f"{directory}: no *_keypoints.json frame files")
        for (a, na), (b, nb) in zip(numbered, numbered[1:]):
            if a == b:
                raise ClipError(f"{directory}: two files claim frame {a}: {na} and {nb}")
        numbers, names = [n for n, _ in numbered], [name for _, name in numbered]
    gaps = [(a + 1, b - 1) for a, b in zip(numbers, numbers[1:]) if b - a > 1]
    if numbers[0] > 0:
        gaps.insert(0, (0, numbers[0] - 1))
    return FrameFiles(directory, [base + n for n in names], numbers, gaps, names=names)


def _fixed_width_numbers(names: list[str]) -> list[int] | None:
    """Frame numbers of names that differ only in a fixed-width run of ASCII digits before the
    suffix, as every OpenPose writer names them (`<video>_000000000012_keypoints.json`); `names`
    sorted, which is then frame order. None for any other set of names (frame_number decides).

    Sorted strings that share a prefix at both ends share it throughout, so one look at the
    first and last name and one at all digit fields together replace a parse per name
    (profiled: 0.3 instead of 1.4 us a frame file)."""
    if not names:
        return None
    names.sort()
    first, last = names[0], names[-1]
    width = len(first)
    end = width - len(_SUFFIX)
    start = len(first[:end].rstrip(_DIGITS))
    if start == end or first[:start] != last[:start] or set(map(len, names)) != {width}:
        return None
    fields = [n[start:end] for n in names]
    digits = "".join(fields)
    if not (digits.isascii() and digits.isdigit()):
        return None
    return list(map(int, fields))


_READ_SIZE = 1 << 16  # a frame is ~3.5 KB; bigger files are read in further calls
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


def read_frame_file(path: str) -> bytes:
    """The file's bytes, or ClipError naming it (a folder, a dangling or looping link, no permission)."""
    return read_frame(path)[0]


def read_frame(path: str, name: str | None = None, dir_fd: int | None = None) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its stat (size and mtime for the resume key, at no extra system call).

    With `dir_fd` (its folder, open) the file is opened by `name` relative to it: the kernel walks
    one name instead of the whole path (profiled: 2.7 instead of 3.4 us an open here).
    """
    try:
        return _read_bytes(path, name, dir_fd)
    except IsADirectoryError:
        raise ClipError(f"{path}: is a folder; expected a frame file") from None
    except FileNotFoundError:
        what = "dangling symbolic link" if os.path.islink(path) else "frame file vanished"
        raise ClipError(f"{path}: {what}; expected a frame file") from None
    except OSError as exc:
        raise ClipError(f"{path}: cannot read the frame file: {exc.strerror or exc}") from None


def _read_bytes(path: str, name: str | None = None, dir_fd: int | None = None) -> tuple[bytes, os.stat_result]:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; the
    # stat of the open file then refuses anything but a regular file before a read can block.
    fd = os.open(path if dir_fd is None else name, _OPEN_FLAGS, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise ClipError(f"{path}: is a folder; expected a frame file")
            raise ClipError(f"{path}: {file_kind(info.st_mode)}, not a regular file; expected a frame file")
        data = os.read(fd, _READ_SIZE)
        if len(data) == _READ_SIZE:
            chunks = [data]
            while chunk := os.read(fd, _READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data, info


def frame_files_fingerprint(directory: str) -> list:
    """[frame files, their bytes, newest mtime_ns of them and the folder] of one clip folder,
    by stat: what a resumed export compares with the fingerprint its read recorded (a renamed,
    added, removed or rewritten frame file changes it). ["missing"] or ["unreadable"] otherwise."""
    try:
        files = list_frame_files(directory)
        newest = os.stat(directory).st_mtime_ns
        size = 0
        for path in files.paths:
            info = os.stat(path)
            size += info.st_size
            newest = max(newest, info.st_mtime_ns)
    except ClipError:
        return ["missing"] if not os.path.isdir(directory) else ["unreadable"]
    except OSError:
        return ["unreadable"]
    return [len(files.paths), size, newest]
