"""Dataset-agnostic export to Signformer `.pami0` parts, with a manifest beside them.

Data flow: a dataset reader turns a split's annotations into `ExportItem`s (one clip to read,
with the one or more samples it yields) and `Skipped` rows, from the annotation files alone.
`plan_parts` cuts the items, in annotation order, into parts of at most `chunk_size` samples.
`export_shard` writes the parts `k, k+n, k+2n, ...` of that plan: it reads each clip once,
writes each of its samples, and returns a manifest fragment. `export_split` runs the shards
(in worker processes or inline) and merges the fragments. Because the plan does not depend on
what reading finds, the parts are identical whatever the number of workers.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable


from slt_nb import __version__
from slt_nb.atomic import atomic_write_text
from slt_nb.datasets.base import DatasetReader, ExportItem, Skipped, SplitPlan
from slt_nb.errors import ClipError
from slt_nb.formats.manifest import manifest_path, read_manifest
from slt_nb.formats.pami import PART_INDEX, PartWriter, part_name


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
    min_frames: int = 2  # Signformer's encoder turns clips under 2 frames into NaN


def export_shard(
    reader: DatasetReader,
    split: str,
    shard: int,
    shards: int,
    options: ExportOptions,
    plan: SplitPlan | None = None,
    on_part: Callable[[dict], None] | None = None,
) -> dict:
    """Export shard `shard` of `shards` of one split: the parts whose number % shards == shard.

    A pure unit of work: its inputs are the reader's configuration and these arguments, its
    outputs its own part files and the manifest fragment it returns. Any engine (a process
    pool, a cluster scheduler) can run the shards and merge the fragments with `merge_fragments`.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    plan = plan or reader.plan(split)
    if reader.layout.width > options.feature_size:
        raise ValueError(
            f"{reader.dataset}: layout {reader.layout.name} has {reader.layout.width} features, "
            f"more than feature_size {options.feature_size}"
        )
    out = Path(options.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fragment = {"parts": [], "skipped": [], "notes": [], "counts": {}, "clip_frames": {},
                "rows_exported": 0, "reads": 0}
    counts = fragment["counts"]
    for index, items in enumerate(plan_parts(plan.items, options.chunk_size)):
        if index % shards != shard:
            continue
        path = out / part_name(reader.dataset, split, index, options.feature_size, reader.variant)
        started = time.perf_counter()
        with PartWriter(path, options.feature_size, options.compresslevel) as writer:
            for item in items:
                try:
                    clip = reader.read(item)
                    fragment["reads"] += 1
                    if clip.frames.ndim != 2 or clip.frames.shape[1] != reader.layout.width:
                        raise ClipError(
                            f"{item.clip}: reader returned shape {clip.frames.shape}, "
                            f"expected (T, {reader.layout.width})"
                        )
                    if clip.frames.shape[0] == 0:
                        raise ClipError(f"{item.clip}: no frames")
                    if clip.frames.shape[0] < options.min_frames:
                        raise ClipError(
                            f"{item.clip}: {clip.frames.shape[0]} frame(s), fewer than min_frames "
                            f"{options.min_frames} (Signformer's encoder gives NaN for clips under 2 frames)"
                        )
                except ClipError as exc:
                    fragment["skipped"].extend(
                        asdict(Skipped(row, item.clip, str(exc), plan.annotation_file)) for row in item.rows
                    )
                    continue
                writer.add_clip(item.samples, clip.frames, signer=item.signer)
                fragment["rows_exported"] += len(item.rows)
                fragment["clip_frames"][item.clip] = int(clip.frames.shape[0])
                for key, value in clip.counts.items():
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
    merged = {"parts": [], "skipped": [], "notes": [], "counts": {}, "clip_frames": {},
              "rows_exported": 0, "reads": 0}
    for frag in fragments:
        merged["parts"].extend(frag["parts"])
        merged["skipped"].extend(frag["skipped"])
        merged["notes"].extend(frag["notes"])
        merged["clip_frames"].update(frag["clip_frames"])
        merged["rows_exported"] += frag["rows_exported"]
        merged["reads"] += frag["reads"]
        for key, value in frag["counts"].items():
            merged["counts"][key] = merged["counts"].get(key, 0) + value
    merged["parts"].sort(key=lambda p: p["index"])
    merged["skipped"].sort(key=lambda s: s["row"])
    return merged


def _run_shard(args):
    reader, split, shard, shards, options, plan = args
    return export_shard(reader, split, shard, shards, options, plan)


def export_split(
    reader: DatasetReader,
    split: str,
    options: ExportOptions,
    workers: int = 1,
    on_part: Callable[[dict], None] | None = None,
) -> dict:
    """Export one split and return its manifest entry (also merged into the manifest file)."""
    started = time.perf_counter()
    plan = reader.plan(split)
    if workers <= 1:
        fragments = [export_shard(reader, split, 0, 1, options, plan, on_part)]
    else:
        # Shard i of n takes parts i, i+n, ...; interleaving keeps the workers evenly loaded.
        jobs = [(reader, split, k, workers, options, plan) for k in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            fragments = []
            for fragment in pool.map(_run_shard, jobs):
                fragments.append(fragment)
                if on_part is not None:
                    for part in fragment["parts"]:
                        on_part(part)
    entry = merge_fragments(fragments)
    entry.update(plan.extra)  # where the reader found the files, reconciliation, frame sizes
    planned_skips = [asdict(s) for s in plan.skipped]
    entry["skipped"] = sorted(planned_skips + entry["skipped"], key=lambda s: s["row"])
    entry.update(
        annotation_file=plan.annotation_file,
        annotation_rows=plan.annotation_rows,
        rows_skipped=len(entry["skipped"]),
        samples=sum(p["samples"] for p in entry["parts"]),
        frames=sum(p["frames"] for p in entry["parts"]),
        seconds=round(time.perf_counter() - started, 3),
        workers=workers,
    )
    if entry["rows_exported"] + entry["rows_skipped"] != entry["annotation_rows"]:
        raise RuntimeError(
            f"{reader.dataset}/{split}: {entry['rows_exported']} exported + {entry['rows_skipped']} "
            f"skipped != {entry['annotation_rows']} annotation rows; a row was lost"
        )
    _remove_stale_parts(reader, split, options, len(entry["parts"]))
    write_manifest(reader, split, entry, options)
    return entry


def _remove_stale_parts(reader: DatasetReader, split: str, options: ExportOptions, count: int) -> None:
    """Delete parts of an earlier, larger export of this split, so a glob finds only this run's."""
    stem = part_name(reader.dataset, split, 0, options.feature_size, reader.variant)[: -len("0")]
    for path in Path(options.output_dir).glob(f"{Path(stem).name}*"):
        m = PART_INDEX.search(path.name)
        if m and int(m.group(1)) >= count:
            path.unlink()


def write_manifest(reader: DatasetReader, split: str, entry: dict, options: ExportOptions) -> Path:
    """Merge one split's entry into the export's manifest (other splits are kept)."""
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
        layout=reader.layout.to_manifest(options.feature_size),
    )
    manifest["splits"][split] = entry
    atomic_write_text(path, json.dumps(manifest, indent=1, ensure_ascii=False))
    return path
