"""Dataset-agnostic export to Signformer `.pami0` parts, with a manifest beside them.

Data flow: a dataset reader turns a split's annotations into `ExportItem`s (one clip to read,
with the one or more samples it yields) and `Skipped` rows, from the annotation files alone.
Planning (`export.shard.plan_parts`) cuts the items, in annotation order, into parts of at most
`chunk_size` samples. One shard's work (`export.shard.export_shard`) writes the parts `k, k+n,
k+2n, ...` of that plan: it reads each clip once, writes each of its samples, and returns a
manifest fragment. `export_split` (here) makes every part a task (`export_part`: `export_shard`
for that one part, plus a resume record) for the engine (`slt_nb.engine`: inline, a local Dask
cluster or one given by address), merges the fragments in part order, and publishing
(`export.publish`) completes the split's entry, merges it into the manifest and moves parts and
manifest into place together (`slt_nb.journal`). Because the plan does not depend on what
reading finds, the parts are identical whatever the number of workers.

Parts are the unit of scheduling: `chunk_size` samples (default 100, about 20k frames of
How2Sign) is a few seconds of work, so a split has hundreds of tasks to balance over workers
and a killed run loses at most one part per worker.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Callable

from slt_nb.datasets.base import DatasetReader, ExportItem, SplitPlan
from slt_nb.engine import Engine, TaskOutcome, is_machine_error
from slt_nb.export.parameters import ExportOptions, feature_transform
from slt_nb.export.publish import finish_entry, manifest_with, parts_to_remove
from slt_nb.journal import OutputLock, OutputWriteError, Staging, explain_write_error
from slt_nb.formats.pami import part_name
from slt_nb.export.shard import export_part, merge_fragments, part_key

# Names that lived here before the cut into parameters / shard / publish; other modules and
# tests import them from here. Remove once they import from the new places.
from slt_nb.export.parameters import recorded_parameters as export_parameters  # noqa: F401,E402  re-export
from slt_nb.export.publish import clips_in_other_splits, write_manifest  # noqa: F401,E402  re-export
from slt_nb.export.shard import (export_shard, plan_parts, source_files,  # noqa: F401,E402  re-export
                                 source_fingerprints)
from slt_nb.formats.manifest import manifest_path, read_manifest  # noqa: F401,E402  re-export


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
    transform = feature_transform(reader, options)
    parts = plan_parts(plan.items, options.chunk_size)
    names = [part_name(reader.dataset, split, i, options.feature_size, reader.variant) for i in range(len(parts))]
    out = Path(options.output_dir)
    with OutputLock(out, f"export {reader.dataset} {split} -> {out}"):
        staging = Staging(out, f"{Path(names[0]).name.rsplit('.part', 1)[0]}")
        staging.prepare(resume)
        keys, fragments = _resumed(reader, split, options, parts, names, staging, resume)
        resumed = len(fragments)
        runner = engine or Engine(workers, scheduler, memory_limit_gb, retries, progress,
                                  label=f"{reader.dataset} {split} parts")
        failed = _run_parts(runner, engine is None, reader, split, options, plan, parts, names, staging, keys,
                            fragments, on_part)
        entry = finish_entry(reader, split, options, plan, merge_fragments([fragments[i] for i in sorted(fragments)]),
                             parts=parts, names=names, failed=failed, started=started,
                             run={"workers": workers, "engine": runner.describe(), "resumed_parts": resumed},
                             features=transform.describe(reader.point_confidence))
        written = [p["file"] for p in entry["parts"]]
        path, text = manifest_with(reader, split, entry, options)
        staging.publish(written, parts_to_remove(reader, split, options, set(written)), path, text)
    return entry


def _resumed(reader: DatasetReader, split: str, options: ExportOptions, parts: list[list[ExportItem]],
             names: list[str], staging: Staging, resume: bool) -> tuple[list[str | None], dict[int, dict]]:
    """The keys of parts a killed run staged and the fragments of those it finished (record, key and file agree)."""
    # Keys by stat only for parts a killed run staged; a task keys its part from its own reads.
    keys: list[str | None] = [None] * len(parts)
    fragments: dict[int, dict] = {}
    for i, name in enumerate(names):
        if not (resume and Staging.record_file(staging.dir, name).exists()):
            continue
        keys[i] = part_key(reader, split, options, i, parts[i])
        record = staging.finished(name, keys[i])
        if record is not None:
            fragment = record["fragment"]
            fragment["reads"] = 0  # read by the run that wrote it, not by this one
            fragments[i] = fragment
    return keys, fragments


def _run_parts(runner: Engine, own_engine: bool, reader: DatasetReader, split: str, options: ExportOptions,
               plan: SplitPlan, parts: list[list[ExportItem]], names: list[str], staging: Staging,
               keys: list[str | None], fragments: dict[int, dict], on_part) -> dict[int, str]:
    """Run the parts not yet in `fragments` as engine tasks, adding theirs; returns {part: reason} of failed ones."""
    # Tasks write into this run's own folder; only this client moves their parts into the staging
    # folder, so a killed run's task still running on a cluster can never replace one of ours.
    task_dir = staging.run_dir(uuid.uuid4().hex[:12])
    # Tasks carry their own clips, not the whole plan: a small plan stands in for the annotations.
    task_plan = SplitPlan(plan.split, plan.annotation_file, plan.annotation_rows, [], [])
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
    try:
        if own_engine:
            with runner:
                runner.run(export_part, todo, done, stop_on=is_machine_error, label=f"{split} parts")
        else:
            runner.run(export_part, todo, done, stop_on=is_machine_error, label=f"{split} parts")
    except OSError as exc:
        finished = [f["parts"][0]["bytes"] for f in fragments.values() if f["parts"]]
        average = sum(finished) / len(finished) if finished else None
        needed = int(average * (len(parts) - len(finished))) if average else None
        refusal = explain_write_error(exc, Path(exc.filename or staging.dir), needed)
        raise OutputWriteError(refusal.errno, f"{refusal.strerror} Nothing was published: the previous "
                               f"{split} export in {Path(options.output_dir)} is as it was.") from exc
    return failed
