"""What a corpus reader gives the export: clips to read, the samples each yields, skipped rows.

A reader (one module per corpus in this package) turns a split's annotation files into a
`SplitPlan`: `ExportItem`s in annotation order (one clip to read, with the one or more samples
it yields) and `Skipped` rows with their reasons, from the annotation files alone. `read(item)`
then loads one clip's frames as rows of the reader's `FeatureLayout`.

`Reader` is the contract every corpus reader keeps: its abstract members are what the export,
the inspection and the contract tests ask of a reader, each with a docstring saying what it
must do, and defaults where one is honest. `READERS` registers readers by name and refuses a
class that leaves a member undefined; `detect_reader(root)` asks every registered reader
whether a folder is its corpus.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from slt_nb.errors import ClipError, ParameterError
from slt_nb.formats.annotations import Skipped, TextRow
from slt_nb.layouts import FeatureLayout
from slt_nb.registry import READERS, AbstractAttribute, detect_reader  # noqa: F401  (detect_reader re-exported)


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


class Reader(ABC):
    """The contract of a corpus reader: what the export, the inspection and the tests ask of one.

    A reader is built from a params dict (`from_params`), plans a split from its annotation
    files alone (`plan`) and reads one clip's frames (`read`); everything else has a default
    or is a class attribute saying a fact of the corpus. Readers are sent to worker processes,
    so they must pickle (drop open files in `__getstate__`).
    """

    layout: FeatureLayout = AbstractAttribute(
        "The FeatureLayout of the rows `read` returns (their width is the export's feature width).")
    fps = AbstractAttribute("The corpus's frame rate (frames per second) of the rows `read` returns.")
    frame_size = AbstractAttribute(
        "(width, height) in pixels that normalised coordinates are fractions of (for plots and pixel "
        "features); None where the reader keeps pixel coordinates.")
    demo_params = AbstractAttribute(
        "The name of the params file (params/<name>.yaml) whose run exports this reader's demo tree.")
    dataset = AbstractAttribute("The corpus name written into part names and the manifest (How2Sign).")
    variant = ""  # a suffix of part names telling exports of one corpus apart ("" for none)
    point_confidence: str | None = None  # what the per-point confidence of `ClipData` is; None: there is none
    reader_name = ""  # the name the reader is registered under (set by READERS)

    @classmethod
    @abstractmethod
    def from_params(cls, params: dict) -> "Reader":
        """A reader configured from a params dict (`common_params(params)` gives the shared arguments).

        Raise ParameterError for a value this corpus cannot use (e.g. pixels where its poses are
        normalised already).
        """

    @staticmethod
    @abstractmethod
    def detect(root: str) -> bool:
        """Whether the folder `root` looks like this corpus (in any of its layouts), from listings only.

        Cheap and never raising: `detect_reader` asks every registered reader, and a reader
        must not claim another corpus's tree.
        """

    @abstractmethod
    def plan(self, split: str) -> SplitPlan:
        """The clips of a split and its skipped rows, from the annotation files alone.

        Every annotation row of the split is in `annotation_rows` and ends up exported or in
        `skipped` with a reason naming the file and line; raise AnnotationError only when the
        split cannot be read at all.
        """

    @abstractmethod
    def read(self, item: ExportItem) -> ClipData:
        """One planned clip's frames, (T, layout.width) float32, undetected points (0, 0).

        Raise ClipError naming the file for a clip that cannot be exported (the export lists it
        as skipped and goes on); things worth a look that do not stop it go in `notes`.
        """

    @abstractmethod
    def describe(self) -> dict:
        """The reader's settings as JSON-ready values: the manifest's `reader` entry and part of
        every resume key, so it must change when anything that changes the rows changes.

        Holds at least "name" (`reader_name`), "fps", "coordinates" and "frame_size".
        """

    @property
    def inspection_layout(self) -> FeatureLayout:
        """The layout of `read_for_inspection`'s rows (by default the export's `layout`)."""
        return self.layout

    def read_for_inspection(self, item: ExportItem) -> ClipData:
        """A clip as the inspection draws it, in `inspection_layout` (by default what `read` gives)."""
        return self.read(item)

    def splits_present(self) -> list[str] | None:
        """The splits the tree on disk has, for users who download one split at a time; None when
        the reader cannot tell without reading annotations (its splits are rows of one file)."""
        return None

    def require_splits(self, splits: list[str]) -> None:
        """Raise AnnotationError, naming where it looked, if a split asked for is not there.

        The export calls it before writing anything; by default there is nothing to check
        before `plan` (which raises for a missing split itself).
        """
        return None

    def source_files(self, item: ExportItem) -> list[str]:
        """The files or folders a clip is read from (the export's resume key covers them):
        by default the item's locator when that is a path."""
        return [os.fspath(item.locator)] if isinstance(item.locator, (str, os.PathLike)) else []

    def source_fingerprints(self, item: ExportItem) -> list:
        """What the resume key covers for a clip: fingerprints (size, mtime) of its `source_files`."""
        from slt_nb.journal import input_fingerprint

        return [input_fingerprint(path) for path in self.source_files(item)]


# The reader contract is Reader's; the old name stays for type hints written against it.
DatasetReader = Reader

def register_reader(name: str):
    """Class decorator: register a corpus reader (a `Reader` subclass) under `name` (any case)."""
    return READERS.register(name, attribute="reader_name")


def reader_class(name: str) -> type[Reader]:
    """The reader registered as `name` (any case), or UnknownName listing the known ones."""
    return READERS.lookup(name)


def reader_from_params(params: dict) -> Reader:
    """The reader named by params['reader'] (default: the dataset's name), configured from params."""
    coordinates = params.get("coordinates", "normalised")
    if coordinates not in ("normalised", "pixels"):
        raise ParameterError(f"coordinates must be 'normalised' or 'pixels', got {coordinates!r}")
    return reader_class(params.get("reader", params["dataset"])).from_params(params)


def common_params(params: dict) -> dict:
    """The constructor arguments every reader takes, from a params dict."""
    from slt_nb.params import resolve

    return dict(
        data_root=str(resolve(params["data_root"])),
        dataset=params.get("name", params["dataset"]),
        variant=params.get("variant", "") or "",
        augmented=params.get("augmented"),
        augmented_splits=tuple(params.get("augmented_splits", ["train"])),
    )
