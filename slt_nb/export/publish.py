"""Publishing a split: its entry completed from the fragments, merged into the export's manifest.

`finish_entry` turns the merged fragments into the split's manifest entry (the reader's plan
notes, every skipped row, the counts, the parameters that decide what a number means) and
checks that no annotation row was lost; `manifest_with` merges it into the manifest beside the
parts (other splits kept); `export_split` then hands parts and manifest to the staging folder
to publish together (`slt_nb.journal.Staging.publish`).
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from slt_nb import __version__
from slt_nb.datasets.base import DatasetReader, ExportItem, Skipped, SplitPlan
from slt_nb.errors import RunFailed
from slt_nb.export.parameters import ExportOptions, layout_entry, recorded_parameters
from slt_nb.formats.manifest import MANIFEST_FORMAT, Manifest, manifest_path, read_manifest
from slt_nb.formats.pami import PART_INDEX, part_name


def finish_entry(reader: DatasetReader, split: str, options: ExportOptions, plan: SplitPlan, entry: dict, *,
                 parts: list[list[ExportItem]], names: list[str], failed: dict[int, str], started: float,
                 run: dict, features: dict) -> dict:
    """The split's manifest entry from its merged fragments; `run` adds workers, engine, resumed_parts."""
    entry.update(plan.extra)  # where the reader found the files, reconciliation, frame sizes
    failed_rows = []
    for index, reason in sorted(failed.items()):
        failed_rows += [asdict(Skipped(row, item.clip, f"part {index} not written: {reason}", plan.annotation_file))
                        for item in parts[index] for row in item.rows]
    planned_skips = [asdict(s) for s in plan.skipped]
    entry["skipped"] = sorted(planned_skips + entry["skipped"] + failed_rows, key=lambda s: s["row"])
    entry.update(
        annotation_file=plan.annotation_file,
        annotation_rows=plan.annotation_rows,
        rows_skipped=len(entry["skipped"]),
        samples=sum(p["samples"] for p in entry["parts"]),
        frames=sum(p["frames"] for p in entry["parts"]),
        seconds=round(time.perf_counter() - started, 3),
        **run,
        failed_parts=[{"index": i, "file": names[i], "reason": r} for i, r in sorted(failed.items())],
        parameters=recorded_parameters(reader, options),
        features=features,
    )
    if entry["rows_exported"] + entry["rows_skipped"] != entry["annotation_rows"]:
        raise RunFailed(
            f"{reader.dataset}/{split}: {entry['rows_exported']} exported + {entry['rows_skipped']} "
            f"skipped != {entry['annotation_rows']} annotation rows; a row was lost"
        )
    return entry


def parts_to_remove(reader: DatasetReader, split: str, options: ExportOptions, keep: set[str]) -> list[str]:
    """Parts of an earlier export of this split that this one does not have, so a glob finds only this run's."""
    stem = part_name(reader.dataset, split, 0, options.feature_size, reader.variant)[: -len("0")]
    return sorted(p.name for p in Path(options.output_dir).glob(f"{Path(stem).name}*")
                  if PART_INDEX.search(p.name) and p.name not in keep)


def merged_manifest(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> tuple[Path, Manifest]:
    """The export's manifest path and the manifest with this split's entry merged in (other splits kept)."""
    path = manifest_path(options.output_dir, reader.dataset, options.feature_size, reader.variant)
    manifest = read_manifest(path) if path.exists() else Manifest(splits={})
    manifest.update(
        format=MANIFEST_FORMAT,
        slt_nb_version=__version__,
        dataset=reader.dataset,
        variant=reader.variant,
        feature_size=options.feature_size,
        chunk_size=options.chunk_size,
        reader=reader.describe(),
        layout=layout_entry(reader, options),
    )
    entry["notes"] = entry.get("notes", []) + clips_in_other_splits(manifest, split, entry)
    manifest.set_split(split, entry)
    return path, manifest


def manifest_with(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> tuple[Path, str]:
    """The export's manifest path and its text with this split's entry merged in (other splits kept)."""
    path, manifest = merged_manifest(reader, split, entry, options)
    return path, manifest.to_json()


def clips_in_other_splits(manifest: Manifest, split: str, entry: dict) -> list[dict]:
    """A note per clip of `entry` that another split of the manifest already holds.

    An annotation file listing one clip in train and in val is a mistake the export cannot
    decide for the user, so both stay exported; the note (and validate's warning) says so.
    """
    clips = entry.get("clip_frames") or {}
    notes = []
    splits = manifest.splits if isinstance(manifest.splits, dict) else {}
    for other, other_entry in splits.items():
        theirs = other_entry.get("clip_frames") if isinstance(other_entry, dict) else None
        if other == split or not isinstance(theirs, dict):
            continue
        notes += [{"clip": clip, "note": f"also in split {other!r} of this export: the same clip in two splits "
                                         "(a model evaluated on a clip it was trained on scores too well)"}
                  for clip in clips if clip in theirs]
    return notes


def write_manifest(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> Path:
    """Merge one split's entry into the export's manifest (other splits are kept), written atomically."""
    path, manifest = merged_manifest(reader, split, entry, options)
    return manifest.write(path)
