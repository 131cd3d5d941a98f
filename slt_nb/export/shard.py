"""One shard's work: the plan cut into parts, each clip read once, its samples written, a fragment back.

`plan_parts` cuts a split's items, in annotation order, into parts of at most `chunk_size`
samples. `export_shard` writes the parts `k, k+n, k+2n, ...` of that plan and returns a
manifest fragment (parts, skipped rows, notes, counts, frames per clip); `export_part` is the
task an engine runs: `export_shard` for one part into a staging folder, plus its resume record
keyed by `part_key`. Because the plan does not depend on what reading finds, the parts are
identical whatever the number of workers.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from slt_nb import __version__
from slt_nb.datasets.base import DatasetReader, ExportItem, Skipped, SplitPlan
from slt_nb.errors import ClipError, ParameterError
from slt_nb.export.features import FeatureTransform
from slt_nb.export.parameters import ExportOptions, feature_transform
from slt_nb.formats.pami import PartWriter, part_name
from slt_nb.journal import Staging, content_key, write_record


def plan_parts(items: list[ExportItem], chunk_size: int) -> list[list[ExportItem]]:
    """Cut items, in order, into parts of at most chunk_size samples (a clip is never split)."""
    if chunk_size < 1:
        raise ParameterError(f"chunk_size must be at least 1, got {chunk_size}")
    parts: list[list[ExportItem]] = []
    current: list[ExportItem] = []
    count = 0
    for item in items:
        n = len(item.samples)
        if current and count + n > chunk_size:
            parts.append(current)
            current, count = [], 0
        current.append(item)
        count += n
    if current or not parts:
        parts.append(current)
    return parts


def export_shard(
    reader: DatasetReader,
    split: str,
    shard: int,
    shards: int,
    options: ExportOptions,
    plan: SplitPlan | None = None,
    on_part: Callable[[dict], None] | None = None,
    parts: dict[int, list[ExportItem]] | None = None,
    directory: str | None = None,
    inputs: list | None = None,
) -> dict:
    """Export shard `shard` of `shards` of one split: the parts whose number % shards == shard.

    A pure unit of work: its inputs are the reader's configuration and these arguments, its
    outputs its own part files and the manifest fragment it returns. Any engine (a process
    pool, a cluster scheduler) can run the shards and merge the fragments with `merge_fragments`.
    `parts` ({part number: its items}, from `plan_parts`) names the parts to write instead, so a
    task can carry just its own clips; `directory` is where the files go (default output_dir).
    `inputs`, a list, gets each clip's source fingerprints in order (for the part's resume key).
    """
    if not 0 <= shard < shards:
        raise ParameterError(f"shard {shard} is not in 0..{shards - 1}")
    plan = plan or reader.plan(split)
    if parts is None:
        parts = dict(enumerate(plan_parts(plan.items, options.chunk_size)))
    transform = feature_transform(reader, options)
    out = Path(directory or options.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fragment = _empty_fragment()
    for index, items in sorted(parts.items()):
        if index % shards != shard:
            continue
        path = out / part_name(reader.dataset, split, index, options.feature_size, reader.variant)
        started = time.perf_counter()
        with PartWriter(path, options.feature_size, options.compresslevel) as writer:
            for item in items:
                _write_clip(reader, item, transform, options, plan, writer, fragment, inputs)
        info = writer.info
        part = {"index": index, "file": path.name, "samples": info.samples, "frames": info.frames,
                "bytes": info.bytes, "sha256": info.sha256,
                "seconds": round(time.perf_counter() - started, 3)}
        fragment["parts"].append(part)
        if on_part is not None:
            on_part(part)
    return fragment


def _write_clip(reader: DatasetReader, item: ExportItem, transform: FeatureTransform, options: ExportOptions,
                plan: SplitPlan, writer: PartWriter, fragment: dict, inputs: list | None) -> None:
    """Read one clip, write its samples and add what it gave to the fragment; a ClipError skips its rows."""
    clip = None
    try:
        clip = reader.read(item)
        fragment["reads"] += 1
        if inputs is not None:
            inputs.append(clip.inputs if clip.inputs is not None else source_fingerprints(reader, item))
        frames, feature_counts = _checked_frames(reader, item, clip, transform, options)
    except ClipError as exc:
        if inputs is not None and clip is None:
            inputs.append(source_fingerprints(reader, item))
        fragment["skipped"].extend(
            asdict(Skipped(row, item.clip, str(exc), plan.annotation_file)) for row in item.rows
        )
        return
    writer.add_clip(item.samples, frames, signer=item.signer)
    fragment["rows_exported"] += len(item.rows)
    fragment["clip_frames"][item.clip] = int(frames.shape[0])
    if frames.shape[0] != clip.frames.shape[0]:
        fragment.setdefault("source_frames", {})[item.clip] = int(clip.frames.shape[0])
    counts = fragment["counts"]
    for key, value in {**clip.counts, **feature_counts}.items():
        counts[key] = counts.get(key, 0) + int(value)
    fragment["notes"].extend({"clip": item.clip, "note": n} for n in clip.notes)


def _checked_frames(reader: DatasetReader, item: ExportItem, clip, transform: FeatureTransform,
                    options: ExportOptions):
    """The clip's frames in the export's columns, or a ClipError saying why they cannot be exported."""
    if clip.frames.ndim != 2 or clip.frames.shape[1] != reader.layout.width:
        raise ClipError(f"{item.clip}: reader returned shape {clip.frames.shape}, expected (T, {reader.layout.width})")
    if clip.frames.shape[0] == 0:
        raise ClipError(f"{item.clip}: no frames")
    frames, feature_counts = transform.apply(
        clip.frames, item.clip, clip.fps or reader.fps, clip.pixel_scale, clip.confidence)
    if frames.shape[0] < options.min_frames:
        resampled = (f" after resampling {clip.frames.shape[0]} to {options.features.fps:g} fps"
                     if frames.shape[0] != clip.frames.shape[0] else "")
        raise ClipError(
            f"{item.clip}: {frames.shape[0]} frame(s){resampled}, fewer than min_frames "
            f"{options.min_frames} (Signformer's encoder gives NaN for clips under 2 frames)"
        )
    return frames, feature_counts


def merge_fragments(fragments: list[dict]) -> dict:
    """Combine shard fragments into one split entry, parts in part order."""
    merged = _empty_fragment()
    for frag in fragments:
        merged["parts"].extend(frag["parts"])
        merged["skipped"].extend(frag["skipped"])
        merged["notes"].extend(frag["notes"])
        merged["clip_frames"].update(frag["clip_frames"])
        if frag.get("source_frames"):
            merged.setdefault("source_frames", {}).update(frag["source_frames"])
        merged["rows_exported"] += frag["rows_exported"]
        merged["reads"] += frag["reads"]
        for key, value in frag["counts"].items():
            merged["counts"][key] = merged["counts"].get(key, 0) + value
    merged["parts"].sort(key=lambda p: p["index"])
    merged["skipped"].sort(key=lambda s: s["row"])
    return merged


def _empty_fragment() -> dict:
    return {"parts": [], "skipped": [], "notes": [], "counts": {}, "clip_frames": {}, "rows_exported": 0, "reads": 0}


def part_key(reader: DatasetReader, split: str, options: ExportOptions, index: int, items: list[ExportItem],
             inputs: list[list] | None = None) -> str:
    """Everything that decides a part's bytes: reader settings, options, and its clips and samples.

    A resumed run keeps a staged part only if its record carries the same key, so changing any
    export option (but the output folder), the reader's settings, the annotations or a clip's
    input files (their count, sizes and mtimes) redoes the parts affected. `inputs` are the
    clips' fingerprints as the task that read them took them; None takes them by stat.
    """
    if inputs is None:
        inputs = [source_fingerprints(reader, item) for item in items]
    clips = [(item.clip, item.samples, item.rows, repr(item.locator), item.signer, fingerprints)
             for item, fingerprints in zip(items, inputs, strict=True)]
    settings = {k: v for k, v in asdict(options).items() if k != "output_dir"}
    return content_key(__version__, reader.describe(), split, settings, index, clips)


def source_fingerprints(reader: DatasetReader, item: ExportItem) -> list:
    """The fingerprints (slt_nb.journal.input_fingerprint) of what the reader reads for a clip (the
    `Reader` base's default fingerprints its `source_files`)."""
    return reader.source_fingerprints(item)


def source_files(reader: DatasetReader, item: ExportItem) -> list[str]:
    """The files or folders the reader reads for a clip (the base's default: the locator, when a path)."""
    return reader.source_files(item)


def export_part(reader: DatasetReader, split: str, index: int, items: list[ExportItem], options: ExportOptions,
                plan: SplitPlan, staging_dir: str, key: str | None = None) -> dict:
    """The task an engine runs: write part `index` into the staging folder, then its record.

    The record (written after the part, atomically) holds the part's sha256 and its manifest
    fragment, so a resumed run can take the part as finished without reading a clip again. Its
    key is `key`, else `part_key` over the fingerprints the reads took (no stat pass of its own).
    """
    inputs: list[list] = []
    fragment = export_shard(reader, split, 0, 1, options, plan, parts={index: items}, directory=staging_dir,
                            inputs=inputs)
    if key is None:
        key = part_key(reader, split, options, index, items, inputs)
    part = fragment["parts"][0]
    write_record(Staging.record_file(staging_dir, part["file"]),
                 {"key": key, "bytes": part["bytes"], "sha256": part["sha256"], "fragment": fragment})
    return fragment
