"""The manifest beside an export's parts: where it lives and how to read it.

`{Dataset}[-{variant}]-{feature_size}.manifest.json` records the export's parameters, the
feature layout as named column ranges, per split and part the sample and frame counts and
sha256, and every skipped annotation row with its reason. The export writes it
(`slt_nb.export`); inspection, validation and the Signformer tools read it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def manifest_path(output_dir: str | os.PathLike, dataset: str, feature_size: int = 1024, variant: str = "") -> Path:
    stem = f"{dataset}-{variant}" if variant else dataset
    return Path(output_dir) / f"{stem}-{feature_size}.manifest.json"


def read_manifest(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def skipped_by_reason(entry: dict) -> dict[str, int]:
    """Skipped rows of a split entry grouped by the kind of reason (file names stripped)."""
    kinds: dict[str, int] = {}
    for s in entry["skipped"]:
        kind = s["reason"].split(": ", 1)[-1].split(" (")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds
