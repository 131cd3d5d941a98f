"""Names and paths taken from annotation rows stay inside the folder they are meant for.

A clip id, video id or `file` column comes from a file someone else wrote; `../x`, `/etc/x` or a
name with a separator in it must not make a reader open, or an extraction write, a file outside
its folder. Both checks raise ClipError, which every reader turns into a named skip of the row.
"""
from __future__ import annotations

import os
import stat

from slt_nb.errors import ClipError

# `/` everywhere, and this system's own separators (`\` only where it is one: on Linux it is a
# character of a file name, and real clip names hold it).
SEPARATORS = tuple(dict.fromkeys(("/", os.sep) + ((os.altsep,) if os.altsep else ())))


def plain_name(value: str, folder: str | os.PathLike, what: str,
               expected: str = "the name of a file in that folder") -> str:
    """`value` if it is a plain file name (no separator, not `.`/`..`, not empty), else ClipError.

    `what` says which field it came from ("video_id", "id"); the message names the value and
    the folder it would have led outside of.
    """
    text = str(value)
    if text in ("", ".", "..") or "\x00" in text or any(sep in text for sep in SEPARATORS):
        raise ClipError(f"{what} {text!r}: not a plain file name, would lead outside {folder}; expected {expected}")
    return text


def inside(value: str, root: str | os.PathLike, what: str) -> str:
    """`root/value` if `value` is a relative path that stays inside `root`, else ClipError.

    Checked after resolving `..` and symbolic links (os.path.realpath of both), so neither
    `../x.pose` nor a link inside the tree that points out of it is followed.
    """
    text = str(value)
    root = os.fspath(root)
    if not text or "\x00" in text:
        raise ClipError(f"{what} {text!r}: not a path inside {root}")
    if os.path.isabs(text) or text.startswith("/") or os.path.splitdrive(text)[0]:
        raise ClipError(f"{what} {text!r}: an absolute path, outside {root}; expected a path relative to {root}")
    path = os.path.join(root, text)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise ClipError(f"{what} {text!r}: leads outside {root} (resolves to {real}); "
                        f"expected a path inside {root}")
    return path


def file_kind(mode: int) -> str:
    """What a file that is no regular file is, from its st_mode: `a FIFO`, `a socket`, a device."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"
