"""Whether exports can be trained together: the parameters that decide what a number means.

Every split entry of a manifest records `parameters` (see `pipeline.export_parameters`): the
layout its columns follow, the normalisation, the frame rate, the confidence threshold, the
reader's coordinates and the feature size. Two exports (or two splits of one) that differ in
any of them hold numbers that mean different things in the same column: a model trained on both
learns the difference between corpora instead of the signs. `validate` and `signformer-config`
refuse such a mix with one error per parameter, naming who has which value.
"""
from __future__ import annotations

# In the order a user should fix them: columns first, then scale, then time.
DECIDING = ("layout", "normalize", "coordinates", "fps", "min_confidence", "feature_size")
WHY = {
    "layout": "the same column holds different joints (export every corpus with feature_layout aligned)",
    "normalize": "the numbers are on different scales",
    "coordinates": "one export is in pixels, the other divided by the frame size",
    "fps": "the same number of frames is a different length of time (export with the same fps)",
    "min_confidence": "points are dropped at different confidences",
    "feature_size": "the rows have different widths",
}


def split_parameters(manifest: dict, split: str) -> dict:
    """A split's deciding parameters; a manifest from before they were recorded was written with the seed options."""
    entry = manifest.get("splits", {}).get(split, {})
    recorded = entry.get("parameters") if isinstance(entry, dict) else None
    layout = (manifest.get("layout") or {}).get("name")
    reader = manifest.get("reader") or {}
    if isinstance(recorded, dict):
        params = dict(recorded)
        params.setdefault("layout", layout)
    else:
        params = {"feature_layout": "seed", "layout": layout, "normalize": "frame", "fps": None,
                  "min_confidence": 0.0, "coordinates": reader.get("coordinates", "normalised"),
                  "feature_size": manifest.get("feature_size")}
    if params.get("fps") is None and reader.get("fps"):
        params["fps"] = float(reader["fps"])  # not resampled: the corpus's own rate is the rate of its rows
    if params.get("normalize") == "shoulders":
        params["coordinates"] = None  # shoulder units undo the frame division: pixels or not, the same numbers
    return {key: params.get(key) for key in DECIDING}


def conflicts(labelled: list[tuple[str, dict]]) -> list[str]:
    """One message per deciding parameter on which the (label, parameters) disagree."""
    messages = []
    for key in DECIDING:
        values: dict[str, list[str]] = {}
        for label, params in labelled:
            if key == "coordinates" and params.get(key) is None:
                continue  # shoulder units: the normalize conflict (if any) already says it
            values.setdefault(_show(key, params.get(key)), []).append(label)
        if len(values) > 1:
            who = "; ".join(f"{value}: {_grouped(labels)}" for value, labels in values.items())
            messages.append(f"exports disagree on {key} ({who}): {WHY[key]}")
    return messages


def manifest_conflicts(items: list[tuple[str, dict]]) -> list[str]:
    """Conflicts among the splits of the given (label, manifest) pairs, each split labelled `label/split`."""
    labelled = [(f"{label}/{split}", split_parameters(manifest, split))
                for label, manifest in items for split in manifest.get("splits", {})]
    return conflicts(labelled)


def parameters_table(items: list[tuple[str, dict]]):
    """One row per export split with its deciding parameters, for reports."""
    import pandas as pd

    rows = [{"export": label, "split": split, **split_parameters(manifest, split)}
            for label, manifest in items for split in manifest.get("splits", {})]
    return pd.DataFrame(rows)


def _show(key: str, value) -> str:
    if value is None:
        return "unknown rate" if key == "fps" else "none"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _grouped(labels: list[str]) -> str:
    """`How2Sign-1024/train`, `How2Sign-1024.pami0.val` ... as `How2Sign-1024 (train, val)`."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        export, sep, split = label.partition(".pami0.") if ".pami0." in label else label.rpartition("/")
        groups.setdefault(export if sep else label, []).append(split if sep else "")
    return ", ".join(f"{export} ({', '.join(s for s in splits if s)})" if any(splits) else export
                     for export, splits in groups.items())
