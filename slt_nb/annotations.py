"""What every annotation reader shares: opening the file and sorting well-formed rows from bad ones."""
from __future__ import annotations

import os
from typing import Iterable, Iterator

from .export import Skipped


class AnnotationError(ValueError):
    """An annotation file that cannot be read at all (as opposed to one bad row)."""


def open_annotations(path: str | os.PathLike, what: str = "annotation file"):
    """The file opened for csv (UTF-8, newline=''), or AnnotationError naming it."""
    try:
        return open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise AnnotationError(f"{path}: {what} not found") from None


def well_formed(path: str, reader: Iterable[list[str]], header: list[str], skipped: list[Skipped],
                id_col: int = 0, fields_word: str = "fields", expected_suffix: str = "") -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each data row with as many fields as the header; blank rows ignored.

    A row with another number of fields is appended to `skipped` with its line number.
    """
    for line, fields in enumerate(reader, start=2):
        if not fields or not any(x.strip() for x in fields):
            continue
        if len(fields) != len(header):
            clip = fields[min(id_col, len(fields) - 1)]
            skipped.append(Skipped(line, clip, f"{path} line {line}: {len(fields)} {fields_word}, "
                                               f"expected {len(header)}{expected_suffix}", path))
            continue
        yield line, fields
