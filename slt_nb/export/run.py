"""From a params dict to a finished export: the reader from the registry, every split, the summary table."""
from __future__ import annotations

from pathlib import Path

from slt_nb.datasets import reader_from_params
from slt_nb.engine import Engine
from slt_nb.export.parameters import ExportOptions, ExportParameters
from slt_nb.export.pipeline import export_split
from slt_nb.formats.manifest import Manifest, manifest_path, read_manifest, skipped_by_reason
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH


def export_options(params: "dict | ExportParameters") -> ExportOptions:
    """The options that decide the parts' bytes, from the merged params (every parameter checked)."""
    return ExportParameters.from_params(params).options


def run_export(params: "dict | ExportParameters", monitor=None, progress=None, show_progress: bool = False) -> Manifest:
    """Export every split in params['splits']; returns the manifest written beside the parts.

    `params` is the merged params dict or its parsed `ExportParameters`. `workers`,
    `scheduler`, `memory_limit_gb` and `retries` choose the engine (one for all splits, so a
    local cluster starts once); `resume` (default true) keeps the parts a killed run finished.
    `show_progress` prints a progress bar per split and the dashboard link.
    """
    export = ExportParameters.from_params(params, progress=show_progress)
    reader = reader_from_params(export.params)
    options = export.options
    reader.require_splits(export.splits)  # a missing split stops the run before any split is written
    settings = export.engine
    with Engine.from_settings(settings, label=f"{reader.dataset} parts") as engine:
        for split in export.splits:
            _export_one(reader, split, options, settings, engine, export.resume, monitor, progress)
    return read_manifest(manifest_path(options.output_dir, reader.dataset, options.feature_size, reader.variant))


def _export_one(reader, split, options, settings, engine, resume, monitor, progress) -> None:
    on_part = None
    if monitor is not None:
        monitor.mark(f"{split} start")
        on_part = lambda part: monitor.mark(f"{split} part{part['index']}")  # noqa: E731
    entry = export_split(reader, split, options, workers=settings.workers, on_part=on_part, resume=resume,
                         engine=engine)
    if progress is not None:
        progress(split, entry)


def export_manifest_path(params: "dict | ExportParameters") -> Path:
    export = ExportParameters.from_params(params)
    reader = reader_from_params(export.params)
    return manifest_path(export.options.output_dir, reader.dataset, export.options.feature_size, reader.variant)


def summary_table(manifest: Manifest | dict, max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH):
    """One row per split: rows listed, exported and skipped (by reason), samples, frames, parts."""
    import pandas as pd

    manifest = manifest if isinstance(manifest, Manifest) else Manifest(manifest)
    rows = []
    for split, e in manifest.splits.items():
        lengths = list(e.clip_frames.values())
        rows.append({
            "split": split,
            "rows listed": e.annotation_rows,
            "rows exported": e.rows_exported,
            "rows skipped": e.rows_skipped,
            "skipped by reason": "; ".join(f"{k}: {v}" for k, v in skipped_by_reason(e).items()) or "-",
            "samples": e.samples,
            "frames": e.frames,
            f"clips > {max_sent_length} frames": sum(1 for n in lengths if n > max_sent_length),
            "parts": len(e.parts),
            "seconds": e.seconds,
        })
    return pd.DataFrame(rows).set_index("split")
