"""The manifest beside an export's parts: what it holds, how it is read and written.

`{Dataset}[-{variant}]-{feature_size}.manifest.json` records the export's parameters, the
feature layout as named column ranges, per split and part the sample and frame counts and
sha256, and every skipped annotation row with its reason. The export writes it
(`slt_nb.export`); inspection, validation and the Signformer tools read it, all through
`read_manifest` here, and it is written only by `Manifest.write` (atomically).

A `Manifest` is the JSON object itself (a dict, so the validators that check a hostile file's
shapes see exactly what the file holds, and `m["splits"]` keeps working) with typed attributes
for its fields: `m.splits[split].samples`, `m.feature_size`, `m.version`. Values are never
converted on reading: a manifest that says `"feature_size": "wide"` reads as it is, for the
validators to name.

Versions: 2 is the first to say so (`"version": 2`, first key); a manifest without the key was
written before and reads as version 1 with a note (`Manifest.notes`). A newer version is
refused by name: this slt-nb cannot know what it changed.

The second half is the consistency check between exports: the parameters that decide what an
exported number means, and the conflicts between manifests meant to be trained together.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from slt_nb.atomic import atomic_write_text
from slt_nb.errors import DataFileError

MANIFEST_VERSION = 2
MANIFEST_FORMAT = "signformer-pami0"


def manifest_path(output_dir: str | os.PathLike, dataset: str, feature_size: int = 1024, variant: str = "") -> Path:
    stem = f"{dataset}-{variant}" if variant else dataset
    return Path(output_dir) / f"{stem}-{feature_size}.manifest.json"


class _Key:
    """A manifest field as a typed attribute over the JSON key of the same name."""

    def __init__(self, default: type | None = None):
        self.default = default  # a type called for a fresh value when the key is absent (list, dict, int)

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if self.name in obj:
            return obj[self.name]
        return self.default() if self.default is not None else None

    def __set__(self, obj, value):
        obj[self.name] = value


class SplitEntry(dict):
    """One split of an export as the manifest records it (the keys `export_split` writes)."""

    parts: list[dict] = _Key(list)  # {index, file, samples, frames, bytes, sha256, seconds}, in part order
    skipped: list[dict] = _Key(list)  # {row, clip, reason, annotation_file}, by row
    notes: list[dict] = _Key(list)  # {clip, note}
    counts: dict[str, int] = _Key(dict)
    clip_frames: dict[str, int] = _Key(dict)  # frames written per clip (after any resampling)
    source_frames: dict[str, int] = _Key(dict)  # frames read, for clips resampling changed
    rows_exported: int = _Key(int)
    rows_skipped: int = _Key(int)
    annotation_file: str | None = _Key()
    annotation_rows: int = _Key(int)
    samples: int = _Key(int)
    frames: int = _Key(int)
    seconds: float | None = _Key()
    resumed_parts: int = _Key(int)
    failed_parts: list[dict] = _Key(list)
    parameters: dict | None = _Key()  # what decides an exported number's meaning (`split_parameters`)
    features: dict | None = _Key()

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self))


class Manifest(dict):
    """An export's manifest: the JSON object with typed attributes; `splits` holds `SplitEntry`s."""

    splits: dict[str, SplitEntry] = _Key(dict)
    format: str | None = _Key()
    slt_nb_version: str | None = _Key()
    dataset: str | None = _Key()
    variant: str = _Key(str)
    feature_size: int | None = _Key()
    chunk_size: int | None = _Key()
    reader: dict = _Key(dict)  # the reader's describe(): kind, data_root, fps, frame_size, coordinates ...
    layout: dict = _Key(dict)  # FeatureLayout.to_manifest(): name, width, named column ranges

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []  # what the caller may show: e.g. an old manifest read as version 1
        splits = self.get("splits")
        if isinstance(splits, dict):
            self["splits"] = {name: SplitEntry(e) if isinstance(e, dict) else e for name, e in splits.items()}

    @property
    def version(self) -> int:
        return self.get("version", 1)

    def set_split(self, split: str, entry: dict) -> SplitEntry:
        entry = entry if isinstance(entry, SplitEntry) else SplitEntry(entry)
        self.setdefault("splits", {})[split] = entry
        return entry

    def to_dict(self) -> dict:
        """The JSON object as written: `version` first, the other keys in their order."""
        body = {k: v for k, v in self.items() if k != "version"}
        return json.loads(json.dumps({"version": MANIFEST_VERSION, **body}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False)

    def write(self, path: str | os.PathLike) -> Path:
        """Write atomically (a reader sees the old manifest or this one, never half)."""
        return atomic_write_text(path, self.to_json())


def write_manifest(manifest: Manifest | dict, path: str | os.PathLike) -> Path:
    return (manifest if isinstance(manifest, Manifest) else Manifest(manifest)).write(path)


def read_manifest(path: str | os.PathLike) -> Manifest:
    """The manifest at `path`; a version this slt-nb does not know raises DataFileError naming it.

    JSON that does not parse raises ValueError (json's, with its position) as before; a
    document that is not an object is no manifest: DataFileError.
    """
    return manifest_from_document(read_manifest_json(path), path)


def read_manifest_json(path: str | os.PathLike):
    """The manifest file's JSON document as it is, whatever its shape: for the validators that name
    a hostile file's shape (`export.validate`); everything else reads a `Manifest` (`read_manifest`)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest_from_document(document, path: str | os.PathLike) -> Manifest:
    """A parsed manifest document as a `Manifest`, its version checked (DataFileError naming `path`)."""
    if not isinstance(document, dict):
        raise DataFileError(f"{path}: not a manifest: the document is a {type(document).__name__}, expected an object")
    version = document.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DataFileError(f"{path}: manifest version {version!r} is not a version number (1, 2, ...)")
    if version > MANIFEST_VERSION:
        raise DataFileError(f"{path}: manifest version {version} is newer than this slt-nb reads "
                            f"({MANIFEST_VERSION}); update slt-nb")
    manifest = Manifest(document)
    if "version" not in document:
        manifest.notes.append(f"{path}: a manifest without a version, written before slt-nb recorded one: "
                              f"read as version 1; exporting a split again rewrites it as version {MANIFEST_VERSION}")
    return manifest


def skipped_by_reason(entry: dict) -> dict[str, int]:
    """Skipped rows of a split entry grouped by the kind of reason (file names stripped)."""
    kinds: dict[str, int] = {}
    for s in entry["skipped"]:
        kind = s["reason"].split(": ", 1)[-1].split(" (")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


# Whether exports can be trained together: every split entry records `parameters` (see
# `slt_nb.export.parameters.recorded_parameters`). Two exports (or two splits of one) that differ in any
# of them hold numbers that mean different things in the same column: a model trained on both
# learns the difference between corpora instead of the signs. `validate` and `signformer-config`
# refuse such a mix with one error per parameter, naming who has which value, unless the user says
# the mix is meant (`allow_mixed_layouts`): then it is a warning. Rows of different widths are
# refused always: Signformer cannot stack them at all.

# In the order a user should fix them: columns first, then scale, then time.
DECIDING = ("layout", "normalize", "coordinates", "fps", "min_confidence", "feature_size")
WHY = {
    "layout": "the same column holds different joints (export every corpus with feature_layout aligned)",
    "normalize": "the numbers are on different scales",
    "coordinates": "one export is in pixels, the other divided by the frame size",
    "fps": "the same number of frames is a different length of time (export with the same fps)",
    "min_confidence": "points are dropped at different confidences",
    "feature_size": "the rows have different widths",
}
LAYOUT_DIGEST = 16  # hex digits of a layout file's sha256 shown and compared beside its name
MIXABLE = tuple(key for key in DECIDING if key != "feature_size")  # what allow_mixed_layouts lets differ
UNMIXABLE = tuple(key for key in DECIDING if key not in MIXABLE)  # refused even then
ALLOW_MIXED_HINT = ("pass --allow-mixed-layouts (validate: --allow-mixed-layouts, export notebook: "
                    "-p allow_mixed_layouts true) to train them together anyway")


def split_parameters(manifest: dict, split: str) -> dict:
    """A split's deciding parameters; a manifest from before they were recorded was written with the seed options."""
    entry = manifest.get("splits", {}).get(split, {})
    recorded = entry.get("parameters") if isinstance(entry, dict) else None
    layout = (manifest.get("layout") or {}).get("name")
    reader = manifest.get("reader") or {}
    if isinstance(recorded, dict):
        params = dict(recorded)
        params.setdefault("layout", layout)
    else:
        params = {"feature_layout": "seed", "layout": layout, "normalize": "frame", "fps": None,
                  "min_confidence": 0.0, "coordinates": reader.get("coordinates", "normalised"),
                  "feature_size": manifest.get("feature_size")}
    if params.get("fps") is None and reader.get("fps"):
        params["fps"] = float(reader["fps"])  # not resampled: the corpus's own rate is the rate of its rows
    if params.get("normalize") == "shoulders":
        params["coordinates"] = None  # shoulder units undo the frame division: pixels or not, the same numbers
    file = (manifest.get("layout") or {}).get("file")
    if params.get("layout") and isinstance(file, dict) and isinstance(file.get("sha256"), str):
        # a layout file is its name and its content: two files named alike may hold other columns
        params["layout"] = f"{params['layout']} (file sha256 {file['sha256'][:LAYOUT_DIGEST]})"
    return {key: params.get(key) for key in DECIDING}


def conflicts(labelled: list[tuple[str, dict]], keys: tuple[str, ...] = DECIDING) -> list[str]:
    """One message per deciding parameter (of `keys`) on which the (label, parameters) disagree."""
    messages = []
    for key in keys:
        values: dict[str, list[str]] = {}
        for label, params in labelled:
            if key == "coordinates" and params.get(key) is None:
                continue  # shoulder units: the normalize conflict (if any) already says it
            values.setdefault(_show(key, params.get(key)), []).append(label)
        if len(values) > 1:
            who = "; ".join(f"{value}: {_grouped(labels)}" for value, labels in values.items())
            messages.append(f"exports disagree on {key} ({who}): {WHY[key]}")
    return messages


def manifest_conflicts(items: list[tuple[str, dict]], keys: tuple[str, ...] = DECIDING) -> list[str]:
    """Conflicts among the splits of the given (label, manifest) pairs, each split labelled `label/split`."""
    labelled = [(f"{label}/{split}", split_parameters(manifest, split))
                for label, manifest in items for split in manifest.get("splits", {})]
    return conflicts(labelled, keys)


def parameters_table(items: list[tuple[str, dict]]):
    """One row per export split with its deciding parameters, for reports."""
    import pandas as pd

    rows = [{"export": label, "split": split, **split_parameters(manifest, split)}
            for label, manifest in items for split in manifest.get("splits", {})]
    return pd.DataFrame(rows)


def _show(key: str, value) -> str:
    if value is None:  # an export records every value; a foreign set's undeclared ones are unknown
        return {"fps": "unknown rate", "normalize": "unknown normalisation", "layout": "unknown layout"}.get(key, "none")
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _grouped(labels: list[str]) -> str:
    """`How2Sign-1024/train`, `How2Sign-1024.pami0.val` ... as `How2Sign-1024 (train, val)`."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        export, sep, split = label.partition(".pami0.") if ".pami0." in label else label.rpartition("/")
        groups.setdefault(export if sep else label, []).append(split if sep else "")
    return ", ".join(f"{export} ({', '.join(s for s in splits if s)})" if any(splits) else export
                     for export, splits in groups.items())
