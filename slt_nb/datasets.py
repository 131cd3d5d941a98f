"""From a params dict to a dataset reader and a finished export."""
from __future__ import annotations

from pathlib import Path

from .export import ExportOptions, export_split, manifest_path, read_manifest, skipped_by_reason
from .params import resolve


def reader_from_params(params: dict):
    """The reader named by params['reader'] (default: the dataset's own), configured from params."""
    kind = params.get("reader", params["dataset"]).lower()
    coordinates = params.get("coordinates", "normalised")
    if coordinates not in ("normalised", "pixels"):
        raise ValueError(f"coordinates must be 'normalised' or 'pixels', got {coordinates!r}")
    common = dict(
        data_root=str(resolve(params["data_root"])),
        dataset=params.get("name", params["dataset"]),
        variant=params.get("variant", "") or "",
        augmented=params.get("augmented"),
        augmented_splits=tuple(params.get("augmented_splits", ["train"])),
    )
    if kind == "how2sign":
        from .how2sign import How2SignReader

        frame_size = tuple(params.get("frame_size", (1280, 720))) if coordinates == "normalised" else None
        return How2SignReader(
            keypoints_dir=params.get("keypoints_dir", "{data_root}/{split}/openpose_output/json"),
            annotations=params.get("annotations", "auto"),
            frame_size=frame_size,
            **common,
        )
    if kind == "lsfb":
        from .lsfb import LSFBReader

        if coordinates != "normalised":
            raise ValueError("LSFB-CONT poses are MediaPipe-normalised already; coordinates must be 'normalised'")
        return LSFBReader(
            annotations=params.get("annotations", "{data_root}/annotations.csv"),
            poses_dir=params.get("poses_dir", "{data_root}/poses"),
            fps=float(params.get("fps", 50)),
            **common,
        )
    raise ValueError(f"no reader {kind!r} for dataset {params['dataset']!r}; known readers: how2sign, lsfb")


def export_options(params: dict) -> ExportOptions:
    return ExportOptions(
        output_dir=str(resolve(params["output_dir"])),
        chunk_size=int(params.get("chunk_size", 100)),
        feature_size=int(params.get("feature_size", 1024)),
    )


def run_export(params: dict, monitor=None, progress=None) -> dict:
    """Export every split in params['splits']; returns the manifest written beside the parts."""
    reader = reader_from_params(params)
    options = export_options(params)
    for split in params["splits"]:
        if monitor is not None:
            monitor.mark(f"{split} start")
        on_part = None
        if monitor is not None:
            on_part = lambda part, split=split: monitor.mark(f"{split} part{part['index']}")  # noqa: E731
        entry = export_split(reader, split, options, workers=int(params.get("workers", 1)), on_part=on_part)
        if progress is not None:
            progress(split, entry)
    return read_manifest(manifest_path(options.output_dir, reader.dataset, options.feature_size, reader.variant))


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
