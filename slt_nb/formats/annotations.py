"""What every annotation reader shares: opening the file and sorting well-formed rows from bad ones."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from slt_nb.errors import AnnotationError


@dataclass
class Skipped:
    """An annotation row that was not exported, and why."""

    row: int  # line number in the annotation file (header = line 1)
    clip: str
    reason: str
    file: str = ""


@dataclass
class TextRow:
    """One annotation row: a clip id, its text, and where it was read."""

    line: int  # line number in the annotation file, header = 1
    id: str
    text: str


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


def read_augmented(path: str | os.PathLike) -> tuple[list[TextRow], list[Skipped]]:
    """An augmented text file (`train_aug.tsv`): `id` and `text` columns, tab- or comma-separated."""
    path = str(path)
    with open_annotations(path, "augmented annotation file") as f:
        header_line = f.readline()
        delimiter = "\t" if "\t" in header_line else ","
        header = [c.strip() for c in next(csv.reader([header_line], delimiter=delimiter))] if header_line.strip() else []
        if "id" not in header or "text" not in header:
            raise AnnotationError(f"{path}: augmented annotations need columns 'id' and 'text'; found {header}")
        id_col, text_col = header.index("id"), header.index("text")
        rows, skipped = [], []
        for line, fields in well_formed(path, csv.reader(f, delimiter=delimiter), header, skipped):
            rows.append(TextRow(line, fields[id_col].strip(), fields[text_col].strip()))
    return rows, skipped


def read_table(path: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[list[dict], list[Skipped]]:
    """Rows of a comma-separated annotation file as dicts of `columns` (+ those `optional` present).

    Each dict has its `line`; a file without a required column raises AnnotationError naming
    the missing and the found columns; malformed rows are returned as Skipped.
    """
    with open_annotations(path) as f:
        reader = csv.reader(f)
        header = [c.strip() for c in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            also = f" (and optionally {list(optional)})" if optional else ""
            raise AnnotationError(f"{path}: columns {missing} missing; found {header}, expected {list(columns)}{also}")
        wanted = [c for c in columns + optional if c in header]
        rows, skipped = [], []
        for line, fields in well_formed(path, reader, header, skipped):
            row = {c: fields[header.index(c)].strip() for c in wanted}
            row["line"] = line
            rows.append(row)
    return rows, skipped
