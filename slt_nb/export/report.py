"""Tables for the export report: where the files were found, what matched, what was left out.

Everything here reads the manifest only, so the same tables can be made again later from an
export folder. Every table works on an export that wrote nothing (it says so instead).
"""
from __future__ import annotations

from pathlib import Path

from slt_nb.datasets.base import canonical_split
from slt_nb.formats.manifest import Manifest, SplitEntry, read_manifest

EXAMPLES = 5  # names shown per cell; the manifest lists them all


def _splits(manifest: Manifest | dict) -> dict[str, SplitEntry]:
    """The split entries, typed, of a manifest read by `read_manifest` or a plain dict of one."""
    return (manifest if isinstance(manifest, Manifest) else Manifest(manifest)).splits


def _examples(names: list[str]) -> str:
    if not names:
        return "-"
    more = f" ... (+{len(names) - EXAMPLES})" if len(names) > EXAMPLES else ""
    return ", ".join(names[:EXAMPLES]) + more


def source_table(manifest: Manifest | dict):
    """Per split: the layout detected and where keypoints (or poses), text and videos were found."""
    import pandas as pd

    tree = (manifest.get("reader") or {}).get("tree") or {}
    rows = []
    for split, e in _splits(manifest).items():
        source = e.get("source") or {}
        rows.append({
            "split": split,
            "layout": source.get("layout", tree.get("layout", "-")),
            "keypoints / poses": source.get("keypoints") or source.get("poses") or "-",
            "text": source.get("text") or e.get("annotation_file", "-"),
            "videos": ", ".join(source.get("videos") or []) or "-",
        })
    if not rows:
        return "no split exported"
    table = pd.DataFrame(rows).set_index("split")
    if tree.get("description"):
        table.attrs["description"] = tree["description"]
    return table


def reconciliation_table(manifest: Manifest | dict):
    """Both directions per split: rows with no poses (skipped) and poses no row names (not exported)."""
    import pandas as pd

    rows = []
    for split, e in _splits(manifest).items():
        r = e.get("reconciliation")
        if not r:
            continue
        if "poses_without_rows" in r:  # keypoint folders (How2Sign)
            no_poses = [s["clip"] for s in e.skipped if "no keypoint folder" in s["reason"]]
            rows.append({"split": split, "annotation rows without poses": r["rows_without_poses"],
                         "examples (rows)": _examples(no_poses),
                         "poses without annotation rows": r["poses_without_rows"],
                         "examples (poses, not exported)": _examples(r["poses_without_rows_list"])})
        else:  # session arrays (LSFB-CONT)
            rows.append({"split": split, "annotation rows without poses": r["rows_without_sessions"],
                         "examples (rows)": _examples(r.get("sessions_missing", [])),
                         "poses without annotation rows": r["sessions_without_rows"],
                         "examples (poses, not exported)": _examples(r["sessions_without_rows_list"])})
    return pd.DataFrame(rows).set_index("split") if rows else "no reconciliation recorded"


def split_accounting_table(manifest: Manifest | dict):
    """Per annotation file shared by splits: exported + skipped + other splits' rows = file rows.

    Rows whose split was not asked for (or is no known split) are counted here, so no row of
    the file goes unaccounted for.
    """
    import pandas as pd

    files: dict[str, dict] = {}
    for split, e in _splits(manifest).items():
        values = e.get("split_values")
        if not values:
            continue
        f = files.setdefault(values["file"], {"values": values, "splits": {}})
        f["splits"][split] = e
    rows = []
    for path, f in files.items():
        values = f["values"]
        done = set(f["splits"])
        exported = sum(e.rows_exported for e in f["splits"].values())
        # Malformed rows are listed as skipped in every split read from the file: count them once.
        skipped = sum(e.rows_skipped - values["malformed_rows"] for e in f["splits"].values())
        other = {v: n for v, n in values["rows_by_split_value"].items() if canonical_split(v) not in done}
        accounted = exported + skipped + values["malformed_rows"] + sum(other.values())
        rows.append({
            "annotation file": path,
            "file rows": values["file_rows"],
            "exported": exported,
            "skipped": skipped,
            "malformed": values["malformed_rows"],
            "rows for splits not requested / unknown split": "; ".join(
                f"{v}: {n}" + (" (unknown split)" if v in values["unknown_split_values"] else "")
                for v, n in other.items()) or "-",
            "read as": "; ".join(f"{v} -> {a}" for v, a in values["aliases"].items()) or "-",
            "all rows accounted for": accounted == values["file_rows"],
        })
    return pd.DataFrame(rows).set_index("annotation file") if rows else "each split has its own annotation file"


def frame_size_table(manifest: Manifest | dict):
    """Per split: how many clips took their frame size from a video header, the CSV, or the default."""
    import pandas as pd

    rows = []
    for split, e in _splits(manifest).items():
        sizes = e.get("frame_sizes")
        if not sizes or not sizes.get("configured"):
            continue
        other = sizes.get("clips_not_configured_size", {})
        row = {"split": split, "configured": "x".join(map(str, sizes["configured"]))}
        row.update({f"from {k}": v for k, v in sizes.get("clips_by_source", {}).items()})
        row["clips of another size"] = _examples([f"{c} {'x'.join(map(str, o['size']))}" for c, o in other.items()])
        rows.append(row)
    return pd.DataFrame(rows).set_index("split") if rows else "no per-clip frame sizes (pixel coordinates or another corpus)"


def skipped_table(manifest: Manifest | dict):
    """Every skipped row of every split with its reason, or a sentence when none was skipped."""
    import pandas as pd

    rows = [dict(split=s, **r) for s, e in _splits(manifest).items() for r in e.skipped]
    return pd.DataFrame(rows) if rows else "no rows skipped"


def empty_splits(manifest: Manifest | dict) -> list[str]:
    """Splits that exported no sample, each with why (every row skipped, or no rows at all)."""
    lines = []
    for split, e in _splits(manifest).items():
        if e.samples:
            continue
        why = (f"all {e.rows_skipped} annotation rows were skipped (see the skipped table)"
               if e.annotation_rows else f"{e.annotation_file} has no rows for this split")
        lines.append(f"{split}: nothing exported: {why}")
    return lines


def first_exported_part(manifest: Manifest | dict, out_dir: str | Path) -> Path | None:
    """The first part file that holds a sample, or None when the export wrote nothing."""
    for e in _splits(manifest).values():
        for part in e.parts:
            if part["samples"]:
                return Path(out_dir) / part["file"]
    return None


def report_from_file(path: str | Path) -> dict:
    """The tables above for a manifest on disk."""
    manifest = read_manifest(path)
    return {"source": source_table(manifest), "reconciliation": reconciliation_table(manifest),
            "split accounting": split_accounting_table(manifest), "frame sizes": frame_size_table(manifest)}
