"""What every annotation reader shares: opening the file and sorting well-formed rows from bad ones.

Annotation files are decoded whole, as UTF-8 with or without a byte-order mark; a file in another
encoding, compressed or binary is refused with its name and what it looks like, rather than
half-read. Rows are parsed one physical line at a time: a quote opened and never closed would
otherwise make the csv module read the following lines (real clips among them) into one field,
and the counts would still balance. Such a line is skipped with its line number instead, and
the lines after it are read as the rows they are.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from slt_nb.errors import AnnotationError

ENCODING = "utf-8"  # with or without BOM: utf-8-sig decodes both


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


def _what_it_looks_like(data: bytes) -> str:
    """A guess at what a file that is not UTF-8 text is, for the error message."""
    if data[:2] == b"\x1f\x8b":
        return "it is gzip-compressed (decompress it first)"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "it starts with a UTF-16 byte-order mark (save it as UTF-8)"
    if data[:4] == b"PK\x03\x04":
        return "it is a zip archive (extract it first)"
    if b"\x00" in data[:4096]:
        return "it holds NUL bytes: binary, or UTF-16 without a byte-order mark"
    return "perhaps latin-1 or cp1252 (save it as UTF-8)"


def decode_annotations(path: str, data: bytes) -> str:
    """The file's text, or AnnotationError naming the file, the encoding tried and where it failed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AnnotationError(
            f"{path}: not readable as {ENCODING} (with or without BOM): byte 0x{data[exc.start]:02x} at "
            f"line {line}, byte offset {exc.start} is invalid; {_what_it_looks_like(data)}"
        ) from None
    # UTF-16 without BOM or a binary file is full of NULs; a stray one only costs its line (parse_lines)
    if "\x00" in text.split("\n", 1)[0] or text.count("\x00") * 100 > len(text):
        line = text[: text.index("\x00")].count("\n") + 1
        raise AnnotationError(f"{path}: line {line} holds a NUL character; expected {ENCODING} text; "
                              f"{_what_it_looks_like(data)}")
    return text


def open_annotations(path: str | os.PathLike, what: str = "annotation file") -> io.StringIO:
    """The file's decoded text as a file object, or AnnotationError naming it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise AnnotationError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise AnnotationError(f"{path}: {what} is a folder; expected a file") from None
    except OSError as exc:
        raise AnnotationError(f"{path}: {what} cannot be read: {exc.strerror or exc}") from None
    # newline="\n": readline() ends the header at "\n" only, as parse_lines ends every other line
    return io.StringIO(decode_annotations(str(path), data), newline="\n")


@dataclass
class Line:
    """One physical line of an annotation file: its fields, or why they could not be trusted."""

    number: int  # header = 1
    text: str
    fields: list[str] | None
    problem: str = ""


def parse_lines(f, delimiter: str = ",", first: int = 2) -> Iterator[Line]:
    """Each physical line of `f` (from the current position) parsed on its own as one csv row.

    Lines end at '\\n' only (a sentence may hold U+2028 or a form feed). A quote that is opened
    and not closed on its line is a `problem`; so is a field that holds the delimiter's tab in a
    tab-separated file, which means a quote swallowed separators.
    """
    number = first - 1
    for raw in f.read().split("\n"):
        number += 1
        text = raw[:-1] if raw.endswith("\r") else raw
        if not text.strip():
            yield Line(number, text, [])
            continue
        if "\x00" in text:  # would end a file name early, or make os calls raise
            yield Line(number, text, None, "holds a NUL character")
            continue
        try:
            fields = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                col = _open_quote_field(text, delimiter)
                yield Line(number, text, None, f"a quote opened in field {col} is not closed on this line "
                                               "(it would swallow the following lines)")
                continue
            try:  # quoting csv writers never produce, e.g. `"Hi" there`: read as the csv module does
                fields = next(csv.reader([text], delimiter=delimiter))
            except csv.Error as exc2:
                yield Line(number, text, None, f"unreadable quoting ({exc2})")
                continue
        if delimiter == "\t" and any("\t" in x for x in fields):
            yield Line(number, text, None, "a quoted field holds a tab (a quote swallowed separators)")
            continue
        yield Line(number, text, fields)


def _open_quote_field(text: str, delimiter: str) -> int:
    """1-based number of the field in which an unclosed quote starts (for the message)."""
    in_quote, field_no, at_start = False, 1, True
    for ch in text:
        if in_quote:
            if ch == '"':
                in_quote = False
        elif ch == delimiter:
            field_no, at_start = field_no + 1, True
            continue
        elif ch == '"' and at_start:
            in_quote = True
            start_field = field_no
        at_start = False
    return start_field if in_quote else field_no


def well_formed(path: str, lines: Iterable[Line], header: list[str], skipped: list[Skipped],
                id_col: int = 0, fields_word: str = "fields", expected_suffix: str = "",
                delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each data row with as many fields as the header; whitespace-only lines ignored.

    A line whose quoting is broken or with another number of fields is appended to `skipped`
    with its line number, so every non-blank line is either yielded or listed.
    """
    for line in lines:
        fields = line.fields
        if not line.text.strip():
            continue
        if fields is None:
            clip = guess_clip(line.text, delimiter, id_col)
            skipped.append(Skipped(line.number, clip, f"{path} line {line.number}: {line.problem}", path))
            continue
        if len(fields) != len(header):
            clip = fields[min(id_col, len(fields) - 1)]
            skipped.append(Skipped(line.number, clip, f"{path} line {line.number}: {len(fields)} {fields_word}, "
                                                      f"expected {len(header)}{expected_suffix}", path))
            continue
        yield line.number, fields


def guess_clip(text: str, delimiter: str, col: int = 0) -> str:
    """The id column of a line that could not be parsed, split naively: the best guess at its clip."""
    parts = text.split(delimiter)
    return (parts[col] if col < len(parts) else parts[0]).strip().strip('"')


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
        for line, fields in well_formed(path, parse_lines(f, delimiter), header, skipped, id_col, delimiter=delimiter):
            rows.append(TextRow(line, fields[id_col].strip(), fields[text_col].strip()))
    return rows, skipped


def read_table(path: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[list[dict], list[Skipped]]:
    """Rows of a comma-separated annotation file as dicts of `columns` (+ those `optional` present).

    Each dict has its `line`; a file without a required column raises AnnotationError naming
    the missing and the found columns; malformed rows are returned as Skipped.
    """
    with open_annotations(path) as f:
        header_line = f.readline()
        header = [c.strip() for c in next(csv.reader([header_line]), [])]
        missing = [c for c in columns if c not in header]
        if missing:
            also = f" (and optionally {list(optional)})" if optional else ""
            raise AnnotationError(f"{path}: columns {missing} missing; found {header}, expected {list(columns)}{also}")
        wanted = [c for c in columns + optional if c in header]
        id_col = header.index("id") if "id" in header else 0
        rows, skipped = [], []
        for line, fields in well_formed(path, parse_lines(f, ","), header, skipped, id_col):
            row = {c: fields[header.index(c)].strip() for c in wanted}
            row["line"] = line
            rows.append(row)
    return rows, skipped
