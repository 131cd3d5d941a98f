"""What a corpus reader gives the export: clips to read, the samples each yields, skipped rows.

A reader (one module per corpus in this package) turns a split's annotation files into a
`SplitPlan`: `ExportItem`s in annotation order (one clip to read, with the one or more samples
it yields) and `Skipped` rows with their reasons, from the annotation files alone. `read(item)`
then loads one clip's frames as rows of the reader's `FeatureLayout`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from slt_nb.errors import ClipError
from slt_nb.formats.annotations import Skipped, TextRow
from slt_nb.layouts import FeatureLayout


@dataclass
class ExportItem:
    """One clip to read and the samples (name, text) written from it."""

    clip: str
    samples: list[tuple[str, str]]
    rows: list[int]
    locator: object  # where the reader finds the clip's poses (a folder, a session window)
    signer: str = ""


@dataclass
class ClipData:
    frames: np.ndarray  # (T, layout.width) float32
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # things worth a look, e.g. frame gaps
    # For the export's feature options (slt_nb.export.features), when the reader knows them:
    confidence: np.ndarray | None = None  # (T, points) the estimator's confidence / visibility per point
    pixel_scale: tuple[float, float] = (1.0, 1.0)  # multiply x, y by this for pixels (undo frame division)
    fps: float | None = None  # the clip's own frame rate (None: the reader's `fps`)
    # The fingerprints of the reader's `source_fingerprints(item)`, when the read gives them for
    # free (the resume key of the clip's part; None: the export takes them by stat).
    inputs: list | None = None


@dataclass
class SplitPlan:
    split: str
    annotation_file: str
    annotation_rows: int
    items: list[ExportItem]
    skipped: list[Skipped]
    # Manifest keys the reader adds to the split's entry: where the files were found
    # ("source"), both directions of reconciliation, split values of a shared file, frame sizes.
    extra: dict = field(default_factory=dict)


# Split names people write for How2Sign's and LSFB's "val" split.
SPLIT_ALIASES = {"dev": "val", "validation": "val", "valid": "val", "val": "val", "train": "train", "test": "test"}


def frame_list(indices, limit: int = 4) -> str:
    """Frame numbers for a note: '7', '3, 9-12', '3, 9-12, 40, 41, ... (26 frames)'."""
    numbers = sorted(int(i) for i in indices)
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return shown + (f", ... ({len(numbers)} frames)" if len(runs) > limit else "")


def canonical_split(value: str) -> str:
    """A split value from an annotation file as the split it means (`dev`, `Validation` -> `val`).

    Values that are no known split come back stripped but unchanged, so they can be reported.
    """
    text = str(value).strip()
    return SPLIT_ALIASES.get(text.lower(), text)


def split_values_entry(path: str, file_rows: int, by_value: dict[str, int], malformed: int) -> dict:
    """The manifest's account of a file shared by several splits (a `split` column).

    `by_value` counts well-formed rows per split value as written; the report adds up, per
    file, rows exported + skipped + rows of splits not requested + malformed = file rows.
    """
    aliases = {v: canonical_split(v) for v in by_value if canonical_split(v) != v}
    known = set(SPLIT_ALIASES.values())
    return {
        "file": path,
        "file_rows": file_rows,
        "rows_by_split_value": dict(by_value),
        "aliases": aliases,
        "unknown_split_values": sorted(v for v in by_value if canonical_split(v) not in known),
        "malformed_rows": malformed,
    }


class DatasetReader(Protocol):
    dataset: str
    variant: str
    layout: FeatureLayout

    def plan(self, split: str) -> SplitPlan: ...

    def read(self, item: ExportItem) -> ClipData: ...

    def describe(self) -> dict: ...


def items_from_rows(split: str, rows: list[TextRow], resolve: Callable[[TextRow], list[tuple[str, object, str]]],
                    path: str, skipped: list[Skipped], augmented: bool = False) -> list[ExportItem]:
    """Group annotation rows into clips to read, in order of first appearance.

    `resolve(row)` returns the recordings a row refers to, as (clip name, locator, signer), or
    raises ClipError with the reason it refers to none. Plain annotations give one sample per
    clip and a repeated clip is skipped; augmented annotations give a clip several texts, named
    `<split>/<clip>`, `<split>/<clip>_aug1`, ... so each clip's poses are read once for all.
    """
    items: dict[str, ExportItem] = {}
    first_line: dict[str, int] = {}
    for row in rows:
        if not row.text:
            skipped.append(Skipped(row.line, row.id, f"{path} line {row.line}: empty text", path))
            continue
        try:
            recordings = resolve(row)
        except ClipError as exc:
            skipped.append(Skipped(row.line, row.id, str(exc), path))
            continue
        if not augmented:
            dup = next((clip for clip, _, _ in recordings if clip in items), None)
            if dup is not None:
                skipped.append(Skipped(row.line, row.id,
                                       f"{path} line {row.line}: clip {dup} already listed on line {first_line[dup]}", path))
                continue
        for i, (clip, locator, signer) in enumerate(recordings):
            item = items.get(clip)
            if item is None:
                item = items[clip] = ExportItem(clip=clip, samples=[], rows=[], locator=locator, signer=signer)
                first_line[clip] = row.line
            k = len(item.samples)
            item.samples.append((f"{split}/{clip}" + (f"_aug{k}" if k else ""), row.text))
            if i == 0:  # a row naming several recordings is accounted for once
                item.rows.append(row.line)
    return list(items.values())
