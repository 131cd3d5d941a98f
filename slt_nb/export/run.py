"""From a params dict to a finished export: the reader from the registry, every split, the summary table."""
from __future__ import annotations

from pathlib import Path

from slt_nb.datasets import reader_from_params
from slt_nb.engine import Engine, EngineSettings
from slt_nb.errors import ParameterError
from slt_nb.export.features import FeatureOptions
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.pami import SIGNFORMER_MIN_FRAMES
from slt_nb.formats.manifest import manifest_path, read_manifest, skipped_by_reason
from slt_nb.params import parse_flag, parse_number, resolve


def export_options(params: dict) -> ExportOptions:
    return ExportOptions(
        output_dir=str(resolve(params["output_dir"])),
        chunk_size=parse_number("chunk_size", params.get("chunk_size"), 100, minimum=1),
        feature_size=parse_number("feature_size", params.get("feature_size"), 1024, minimum=1),
        min_frames=_min_frames(params.get("min_frames", SIGNFORMER_MIN_FRAMES)),
        features=FeatureOptions.from_params(params),
    )


def _min_frames(value) -> int:
    """min_frames as a whole number; the range is checked by ExportOptions."""
    if value is None:
        return SIGNFORMER_MIN_FRAMES
    if not isinstance(value, bool) and isinstance(value, (int, str)):
        try:
            return int(value)
        except ValueError:
            pass
    raise ParameterError(f"parameter 'min_frames': {value!r} is not a whole number of frames "
                         f"({SIGNFORMER_MIN_FRAMES} or more)")


def run_export(params: dict, monitor=None, progress=None, show_progress: bool = False) -> dict:
    """Export every split in params['splits']; returns the manifest written beside the parts.

    `workers`, `scheduler`, `memory_limit_gb` and `retries` choose the engine (one for all
    splits, so a local cluster starts once); `resume` (default true) keeps the parts a killed
    run finished. `show_progress` prints a progress bar per split and the dashboard link.
    """
    reader = reader_from_params(params)
    options = export_options(params)
    if hasattr(reader, "require_splits"):
        reader.require_splits(params["splits"])  # a missing split stops the run before any split is written
    settings = EngineSettings.from_params(params, progress=show_progress)
    with Engine.from_settings(settings, label=f"{reader.dataset} parts") as engine:
        for split in params["splits"]:
            _export_one(reader, split, options, settings, engine, parse_flag("resume", params.get("resume"), True), monitor, progress)
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


def export_manifest_path(params: dict) -> Path:
    reader = reader_from_params(params)
    options = export_options(params)
    return manifest_path(options.output_dir, reader.dataset, options.feature_size, reader.variant)


def summary_table(manifest: dict, max_sent_length: int = 400):
    """One row per split: rows listed, exported and skipped (by reason), samples, frames, parts."""
    import pandas as pd

    rows = []
    for split, e in manifest["splits"].items():
        lengths = list(e["clip_frames"].values())
        rows.append({
            "split": split,
            "rows listed": e["annotation_rows"],
            "rows exported": e["rows_exported"],
            "rows skipped": e["rows_skipped"],
            "skipped by reason": "; ".join(f"{k}: {v}" for k, v in skipped_by_reason(e).items()) or "-",
            "samples": e["samples"],
            "frames": e["frames"],
            f"clips > {max_sent_length} frames": sum(1 for n in lengths if n > max_sent_length),
            "parts": len(e["parts"]),
            "seconds": e["seconds"],
        })
    return pd.DataFrame(rows).set_index("split")
