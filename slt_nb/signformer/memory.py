"""Projected RAM for loading an export into Signformer: its own loader against the lean one.

From a manifest alone (frames per split, the layout's real width, the padded feature size):

- Signformer's loader holds every frame at the padded width (frames x feature_size x 4 bytes)
  plus one Python tensor view per frame (its `torch.split` preprocessing), and at load peak it
  holds each split's tensors twice (the unpickled originals and the `+ 1e-8` copies).
- The lean loader (`slt_nb.signformer.loader`) holds frames x real width x 4 bytes; a sample
  is at the padded width only while it is being unpickled (counted twice: array and buffer).

Splits are loaded train, dev, test, each kept while the next loads; the "all splits" row's
peak is the largest of (splits already held + this split's peak).
"""
from __future__ import annotations

from slt_nb.formats.pami import SIGNFORMER_SPLIT

GB = 1e9
FLOAT32_BYTES = 4
# One (D,) view per frame from torch.split + squeeze: the Python tensor object, its TensorImpl
# and the list slot. Measured with torch 2.13 on CPU (about 613 bytes: 200k views of 134-wide
# frames); benchmarks/bench_signformer_load.py measures the whole loader.
FRAME_VIEW_BYTES = 600
SPLIT_ORDER = ("train", "dev", "val", "test")


def split_projection(frames: int, feature_size: int, width: int, longest_sample_frames: int = 0) -> dict:
    """Bytes held after loading one split, and at its load peak, both loaders."""
    padded = frames * feature_size * FLOAT32_BYTES
    views = frames * FRAME_VIEW_BYTES
    lean = frames * width * FLOAT32_BYTES
    reading = longest_sample_frames * feature_size * FLOAT32_BYTES
    return {
        "signformer_held": padded + views,
        "signformer_peak": 2 * padded + views,
        "lean_held": lean,
        "lean_peak": lean + 2 * reading,
    }


def projected_ram(manifests, feature_size: int | None = None) -> list[dict]:
    """Rows per (dataset, split) plus an "all splits" row, in bytes; manifests are dicts.

    Datasets are combined the way a resolved config trains them: the splits of every
    manifest are loaded together (train of all datasets, then dev, then test).
    """
    if isinstance(manifests, dict):
        manifests = [manifests]
    rows = []
    for manifest in manifests:
        size = feature_size or int(manifest["feature_size"])
        width = int((manifest.get("layout") or {}).get("width") or size)
        for split, entry in manifest["splits"].items():
            largest = max(entry.get("clip_frames", {}).values(), default=0)
            row = {"dataset": manifest["dataset"], "split": split, "samples": entry["samples"],
                   "frames": entry["frames"], "feature_size": size, "width": width}
            row.update(split_projection(entry["frames"], size, width, largest))
            rows.append(row)
    held = {"signformer": 0, "lean": 0}
    peak = {"signformer": 0, "lean": 0}
    by_split: dict[str, list[dict]] = {}
    for row in rows:
        group = SIGNFORMER_SPLIT.get(row["split"], row["split"])
        by_split.setdefault(group, []).append(row)
    order = [s for s in ("train", "dev", "test") if s in by_split] + [s for s in by_split if s not in SPLIT_ORDER]
    for group in order:
        for loader in ("signformer", "lean"):
            split_held = sum(r[f"{loader}_held"] for r in by_split[group])
            extra = sum(r[f"{loader}_peak"] - r[f"{loader}_held"] for r in by_split[group])
            peak[loader] = max(peak[loader], held[loader] + split_held + extra)
            held[loader] += split_held
    if rows:
        rows.append({"dataset": "all", "split": "all splits", "samples": sum(r["samples"] for r in rows),
                     "frames": sum(r["frames"] for r in rows), "feature_size": rows[0]["feature_size"],
                     "width": max(r["width"] for r in rows),
                     "signformer_held": held["signformer"], "signformer_peak": peak["signformer"],
                     "lean_held": held["lean"], "lean_peak": peak["lean"]})
    return rows


def machine_ram() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def ram_warnings(rows: list[dict], total_ram: int | None = None) -> list[str]:
    """One line per loader whose projected peak for all splits exceeds the machine's RAM."""
    total_ram = total_ram or machine_ram()
    warnings = []
    overall = [r for r in rows if r["split"] == "all splits"] or rows
    for row in overall:
        for loader, label in (("signformer", "Signformer's own loader"), ("lean", "the slt_nb lean loader")):
            if row[f"{loader}_peak"] > total_ram:
                warnings.append(
                    f"{label} needs about {row[f'{loader}_peak'] / GB:.1f} GB at load peak, more than this "
                    f"machine's {total_ram / GB:.1f} GB of RAM"
                )
    return warnings


def ram_table(manifests, feature_size: int | None = None):
    """The projection as a DataFrame in GB (for the export notebook and reports)."""
    import pandas as pd

    rows = projected_ram(manifests, feature_size)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for col in ("signformer_held", "signformer_peak", "lean_held", "lean_peak"):
        table[col] = (table[col] / GB).round(3)
    table = table.rename(columns={
        "signformer_held": "Signformer GB loaded", "signformer_peak": "Signformer GB peak",
        "lean_held": "lean GB loaded", "lean_peak": "lean GB peak"})
    return table.set_index(["dataset", "split"])


def human_bytes(n: float) -> str:
    return f"{n / GB:.1f} GB" if n >= GB else f"{n / 1e6:.1f} MB"


def ram_summary_lines(manifests, feature_size: int | None = None, total_ram: int | None = None) -> list[str]:
    """Short text lines for printed summaries (validate, reports)."""
    rows = projected_ram(manifests, feature_size)
    lines = []
    for r in rows:
        where = "all splits together" if r["split"] == "all splits" else f"{r['dataset']}/{r['split']}"
        lines.append(
            f"{where}: {r['frames']} frames; Signformer's loader {human_bytes(r['signformer_held'])} loaded, "
            f"~{human_bytes(r['signformer_peak'])} at peak ({r['feature_size']} features); lean loader "
            f"{human_bytes(r['lean_held'])}, ~{human_bytes(r['lean_peak'])} at peak ({r['width']} features)"
        )
    lines += [f"WARNING: {w}" for w in ram_warnings(rows, total_ram)]
    return lines


def manifests_in(inputs) -> list[dict]:
    """The export manifests named by validate-style inputs: manifest files and export folders.

    A manifest that is not JSON or lacks its splits is left out: validate reports it as an error.
    """
    import json
    from pathlib import Path

    found = []
    for item in inputs:
        path = Path(item)
        paths = sorted(path.glob("*.manifest.json")) if path.is_dir() else [path]
        for p in paths:
            if not (p.name.endswith(".manifest.json") and p.is_file()):
                continue
            try:
                manifest = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            if isinstance(manifest, dict) and isinstance(manifest.get("splits"), dict) and manifest["splits"]:
                found.append(manifest)
    return found
