"""Dataset-agnostic export to Signformer `.pami0` parts, with a manifest beside them.

Data flow: a dataset reader turns a split's annotations into `ExportItem`s (one clip to read,
with the one or more samples it yields) and `Skipped` rows, from the annotation files alone.
`plan_parts` cuts the items, in annotation order, into parts of at most `chunk_size` samples.
`export_shard` writes the parts `k, k+n, k+2n, ...` of that plan: it reads each clip once,
writes each of its samples, and returns a manifest fragment. `export_split` makes every part
a task (`export_part`: `export_shard` for that one part, plus a resume record) for the engine
(`slt_nb.engine`: inline, a local Dask cluster or one given by address), merges the fragments
in part order and publishes parts and manifest together (`slt_nb.journal`). Because the plan
does not depend on what reading finds, the parts are identical whatever the number of workers.

Parts are the unit of scheduling: `chunk_size` samples (default 100, about 20k frames of
How2Sign) is a few seconds of work, so a split has hundreds of tasks to balance over workers
and a killed run loses at most one part per worker.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable


from slt_nb import __version__
from slt_nb.atomic import atomic_write_text
from slt_nb.datasets.base import DatasetReader, ExportItem, Skipped, SplitPlan
from slt_nb.engine import Engine, TaskOutcome, is_machine_error
from slt_nb.export.features import FeatureOptions, FeatureTransform
from slt_nb.errors import ClipError, ParameterError
from slt_nb.journal import (OutputLock, OutputWriteError, Staging, content_key, explain_write_error, input_fingerprint,
                            write_record)
from slt_nb.formats.manifest import manifest_path, read_manifest
from slt_nb.formats.pami import PART_INDEX, SIGNFORMER_MIN_FRAMES, PartWriter, part_name


def plan_parts(items: list[ExportItem], chunk_size: int) -> list[list[ExportItem]]:
    """Cut items, in order, into parts of at most chunk_size samples (a clip is never split)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
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


@dataclass
class ExportOptions:
    output_dir: str
    chunk_size: int = 100
    feature_size: int = 1024
    compresslevel: int = 1
    min_frames: int = SIGNFORMER_MIN_FRAMES  # shorter clips become NaN in Signformer's encoder
    features: FeatureOptions = field(default_factory=FeatureOptions)  # layout, scale, rate (export.features)

    def __post_init__(self):
        if self.min_frames < SIGNFORMER_MIN_FRAMES:
            # a 1-frame clip let through is a NaN loss in Signformer, not a skipped clip
            raise ParameterError(f"parameter 'min_frames': {self.min_frames} is below {SIGNFORMER_MIN_FRAMES}: "
                                 f"Signformer's encoder gives NaN for clips under {SIGNFORMER_MIN_FRAMES} frames, "
                                 f"so they must be skipped; use {SIGNFORMER_MIN_FRAMES} or more")


def _check_width(reader: DatasetReader, options: ExportOptions) -> FeatureTransform:
    transform = FeatureTransform(options.features, reader.layout)
    if transform.target.width > options.feature_size:
        raise ValueError(
            f"{reader.dataset}: layout {transform.target.name} has {transform.target.width} features, "
            f"more than feature_size {options.feature_size}"
        )
    return transform


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
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    plan = plan or reader.plan(split)
    if parts is None:
        parts = dict(enumerate(plan_parts(plan.items, options.chunk_size)))
    transform = _check_width(reader, options)
    out = Path(directory or options.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fragment = _empty_fragment()
    counts = fragment["counts"]
    for index, items in sorted(parts.items()):
        if index % shards != shard:
            continue
        path = out / part_name(reader.dataset, split, index, options.feature_size, reader.variant)
        started = time.perf_counter()
        with PartWriter(path, options.feature_size, options.compresslevel) as writer:
            for item in items:
                clip = None
                try:
                    clip = reader.read(item)
                    fragment["reads"] += 1
                    if inputs is not None:
                        inputs.append(clip.inputs if clip.inputs is not None else source_fingerprints(reader, item))
                    if clip.frames.ndim != 2 or clip.frames.shape[1] != reader.layout.width:
                        raise ClipError(
                            f"{item.clip}: reader returned shape {clip.frames.shape}, "
                            f"expected (T, {reader.layout.width})"
                        )
                    if clip.frames.shape[0] == 0:
                        raise ClipError(f"{item.clip}: no frames")
                    frames, feature_counts = transform.apply(
                        clip.frames, item.clip, clip.fps or getattr(reader, "fps", None), clip.pixel_scale,
                        clip.confidence)
                    if frames.shape[0] < options.min_frames:
                        resampled = (f" after resampling {clip.frames.shape[0]} to {options.features.fps:g} fps"
                                     if frames.shape[0] != clip.frames.shape[0] else "")
                        raise ClipError(
                            f"{item.clip}: {frames.shape[0]} frame(s){resampled}, fewer than min_frames "
                            f"{options.min_frames} (Signformer's encoder gives NaN for clips under 2 frames)"
                        )
                except ClipError as exc:
                    if inputs is not None and clip is None:
                        inputs.append(source_fingerprints(reader, item))
                    fragment["skipped"].extend(
                        asdict(Skipped(row, item.clip, str(exc), plan.annotation_file)) for row in item.rows
                    )
                    continue
                writer.add_clip(item.samples, frames, signer=item.signer)
                fragment["rows_exported"] += len(item.rows)
                fragment["clip_frames"][item.clip] = int(frames.shape[0])
                if frames.shape[0] != clip.frames.shape[0]:
                    fragment.setdefault("source_frames", {})[item.clip] = int(clip.frames.shape[0])
                for key, value in {**clip.counts, **feature_counts}.items():
                    counts[key] = counts.get(key, 0) + int(value)
                fragment["notes"].extend({"clip": item.clip, "note": n} for n in clip.notes)
        info = writer.info
        part = {"index": index, "file": path.name, "samples": info.samples, "frames": info.frames,
                "bytes": info.bytes, "sha256": info.sha256,
                "seconds": round(time.perf_counter() - started, 3)}
        fragment["parts"].append(part)
        if on_part is not None:
            on_part(part)
    return fragment


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
    """The fingerprints (slt_nb.journal.input_fingerprint) of what the reader reads for a clip:
    the reader's own `source_fingerprints`, else those of its `source_files`."""
    if hasattr(reader, "source_fingerprints"):
        return reader.source_fingerprints(item)
    return [input_fingerprint(path) for path in source_files(reader, item)]


def source_files(reader: DatasetReader, item: ExportItem) -> list[str]:
    """The files or folders the reader reads for a clip: its own `source_files`, else the locator
    when that is a path (a How2Sign keypoint folder, a .pose file)."""
    if hasattr(reader, "source_files"):
        return reader.source_files(item)
    return [os.fspath(item.locator)] if isinstance(item.locator, (str, os.PathLike)) else []


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


def _empty_fragment() -> dict:
    return {"parts": [], "skipped": [], "notes": [], "counts": {}, "clip_frames": {}, "rows_exported": 0, "reads": 0}


def export_split(
    reader: DatasetReader,
    split: str,
    options: ExportOptions,
    workers: int = 1,
    on_part: Callable[[dict], None] | None = None,
    *,
    scheduler: str | None = None,
    memory_limit_gb: float | None = None,
    retries: int = 2,
    resume: bool = True,
    progress: bool = False,
    engine: Engine | None = None,
) -> dict:
    """Export one split and return its manifest entry (also merged into the manifest file).

    Parts are tasks for an `Engine` (inline for workers=1, else Dask), written into a hidden
    staging folder with a record each; at the end all parts and the manifest are published
    together. With `resume`, parts a killed run finished (record, key and file agree) are kept.
    One run at a time per output folder (`OutputLock`). A part whose task fails for good (after
    `retries`, or a worker killed for memory) has its rows listed as skipped with the reason; any
    refused write (full disk, size limit, I/O error, no permission) stops the run and leaves the
    previous export as it was.
    """
    started = time.perf_counter()
    plan = reader.plan(split)
    transform = _check_width(reader, options)
    parts = plan_parts(plan.items, options.chunk_size)
    names = [part_name(reader.dataset, split, i, options.feature_size, reader.variant) for i in range(len(parts))]
    # Tasks carry their own clips, not the whole plan: a small plan stands in for the annotations.
    task_plan = SplitPlan(plan.split, plan.annotation_file, plan.annotation_rows, [], [])
    out = Path(options.output_dir)
    with OutputLock(out, f"export {reader.dataset} {split} -> {out}"):
        staging = Staging(out, f"{Path(names[0]).name.rsplit('.part', 1)[0]}")
        staging.prepare(resume)
        # Tasks write into this run's own folder; only this client moves their parts into the staging
        # folder, so a killed run's task still running on a cluster can never replace one of ours.
        task_dir = staging.run_dir(uuid.uuid4().hex[:12])
        fragments: dict[int, dict] = {}
        # Keys by stat only for parts a killed run staged; a task keys its part from its own reads.
        keys: list[str | None] = [None] * len(parts)
        for i, name in enumerate(names):
            if not (resume and Staging.record_file(staging.dir, name).exists()):
                continue
            keys[i] = part_key(reader, split, options, i, parts[i])
            record = staging.finished(name, keys[i])
            if record is not None:
                fragment = record["fragment"]
                fragment["reads"] = 0  # read by the run that wrote it, not by this one
                fragments[i] = fragment
        resumed = sorted(fragments)
        failed: dict[int, str] = {}

        def done(outcome: TaskOutcome) -> None:
            index = int(outcome.key.rsplit("part", 1)[1])
            if outcome.ok:
                staging.adopt(task_dir, names[index])
                fragments[index] = outcome.result
                if on_part is not None:
                    on_part(outcome.result["parts"][0])
            else:
                failed[index] = outcome.error

        todo = [(f"{split} part{i}", (reader, split, i, parts[i], options, task_plan, str(task_dir), keys[i]))
                for i in range(len(parts)) if i not in fragments]
        runner = engine or Engine(workers, scheduler, memory_limit_gb, retries, progress,
                                  label=f"{reader.dataset} {split} parts")
        try:
            if engine is not None:
                runner.run(export_part, todo, done, stop_on=is_machine_error, label=f"{split} parts")
            else:
                with runner:
                    runner.run(export_part, todo, done, stop_on=is_machine_error, label=f"{split} parts")
        except OSError as exc:
            finished = [f["parts"][0]["bytes"] for f in fragments.values() if f["parts"]]
            average = sum(finished) / len(finished) if finished else None
            needed = int(average * (len(parts) - len(finished))) if average else None
            refusal = explain_write_error(exc, Path(exc.filename or staging.dir), needed)
            raise OutputWriteError(refusal.errno, f"{refusal.strerror} Nothing was published: the previous "
                                   f"{split} export in {out} is as it was.") from exc

        entry = merge_fragments([fragments[i] for i in sorted(fragments)])
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
            workers=workers,
            engine=runner.describe(),
            resumed_parts=len(resumed),
            failed_parts=[{"index": i, "file": names[i], "reason": r} for i, r in sorted(failed.items())],
            parameters=export_parameters(reader, options),
            features=transform.describe(getattr(reader, "point_confidence", None)),
        )
        if entry["rows_exported"] + entry["rows_skipped"] != entry["annotation_rows"]:
            raise RuntimeError(
                f"{reader.dataset}/{split}: {entry['rows_exported']} exported + {entry['rows_skipped']} "
                f"skipped != {entry['annotation_rows']} annotation rows; a row was lost"
            )
        written = [p["file"] for p in entry["parts"]]
        path, text = manifest_with(reader, split, entry, options)
        staging.publish(written, _parts_to_remove(reader, split, options, set(written)), path, text)
    return entry


def _parts_to_remove(reader: DatasetReader, split: str, options: ExportOptions, keep: set[str]) -> list[str]:
    """Parts of an earlier export of this split that this one does not have, so a glob finds only this run's."""
    stem = part_name(reader.dataset, split, 0, options.feature_size, reader.variant)[: -len("0")]
    return sorted(p.name for p in Path(options.output_dir).glob(f"{Path(stem).name}*")
                  if PART_INDEX.search(p.name) and p.name not in keep)


def manifest_with(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> tuple[Path, str]:
    """The export's manifest path and its text with this split's entry merged in (other splits kept)."""
    path = manifest_path(options.output_dir, reader.dataset, options.feature_size, reader.variant)
    manifest = read_manifest(path) if path.exists() else {"splits": {}}
    manifest.update(
        format="signformer-pami0",
        slt_nb_version=__version__,
        dataset=reader.dataset,
        variant=reader.variant,
        feature_size=options.feature_size,
        chunk_size=options.chunk_size,
        reader=reader.describe(),
        layout=_layout_entry(reader, options),
    )
    entry["notes"] = entry.get("notes", []) + clips_in_other_splits(manifest, split, entry)
    manifest["splits"][split] = entry
    return path, json.dumps(manifest, indent=1, ensure_ascii=False)


def clips_in_other_splits(manifest: dict, split: str, entry: dict) -> list[dict]:
    """A note per clip of `entry` that another split of the manifest already holds.

    An annotation file listing one clip in train and in val is a mistake the export cannot
    decide for the user, so both stay exported; the note (and validate's warning) says so.
    """
    clips = entry.get("clip_frames") or {}
    notes = []
    for other, other_entry in manifest.get("splits", {}).items():
        theirs = other_entry.get("clip_frames") if isinstance(other_entry, dict) else None
        if other == split or not isinstance(theirs, dict):
            continue
        notes += [{"clip": clip, "note": f"also in split {other!r} of this export: the same clip in two splits "
                                         "(a model evaluated on a clip it was trained on scores too well)"}
                  for clip in clips if clip in theirs]
    return notes


def export_parameters(reader: DatasetReader, options: ExportOptions) -> dict:
    """The parameters that decide what an exported number means, recorded per split.

    Exports meant to be trained together must agree on all of them (`validate` refuses a mix).
    """
    return {**options.features.as_dict(), "layout": FeatureTransform(options.features, reader.layout).target.name,
            "coordinates": reader.describe().get("coordinates", "normalised"), "feature_size": options.feature_size}


def _layout_entry(reader: DatasetReader, options: ExportOptions) -> dict:
    transform = FeatureTransform(options.features, reader.layout)
    entry = transform.target.to_manifest(options.feature_size)
    if transform.map is not None:
        entry["alignment"] = transform.map.to_manifest()
    return entry


def write_manifest(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> Path:
    """Merge one split's entry into the export's manifest (other splits are kept)."""
    path, text = manifest_with(reader, split, entry, options)
    atomic_write_text(path, text)
    return path
