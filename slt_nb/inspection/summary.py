"""Dataset summaries: clips read per split, frames, missing-point rates, hand swaps.

`summarise(source)` reads up to `max_clips` clips of each split from any clip source; a clip
that cannot be read is counted and listed with its error, never fatal to the summary.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from slt_nb.inspection.sources import ClipSource
from slt_nb.layouts import FeatureLayout


# A point missing in this share of all frames read is out of view for the corpus, not "sometimes lost".
OUT_OF_VIEW = 0.98


def detected(layout: FeatureLayout, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per segment, (T, points) True where the point was detected (not (0, 0))."""
    frames = np.asarray(frames)
    return {seg.name: ~np.all(seg.points(frames)[..., :2] == 0, axis=-1) for seg in layout.segments}


@dataclass
class DatasetSummary:
    """What `summarise` found: per-split counts, lengths and missing-point rates."""

    source: str
    table: object  # DataFrame, one row per split
    lengths: dict[str, list[int]]
    missing_by_part: object  # DataFrame: index part, columns split, fraction of in-view points missing
    frames_without_part: object  # DataFrame: index part, columns split, fraction of frames with none
    missing_by_point: object  # DataFrame: part, point, rate (over every frame read)
    errors: list[tuple[str, str, str]]  # (split, clip, error) for clips that could not be read
    unlisted: dict[str, list[str]]
    # (part, point) missing in at least OUT_OF_VIEW of every frame read: the camera never sees them
    # (How2Sign's legs). Left out of missing_by_part, which asks "are the points in view there?".
    out_of_view: list[tuple[str, str]] = field(default_factory=list)


def summarise(source: ClipSource, splits: list[str] | None = None, max_clips: int | None = 200) -> DatasetSummary:
    """Clips per split, length distribution and missing-point rates, reading at most max_clips per split."""
    import pandas as pd

    layout = source.layout
    rows, lengths, errors, unlisted = [], {}, [], {}
    missing_points, missing_frames = {}, {}
    point_missing = {seg.name: np.zeros(seg.skeleton.size) for seg in layout.segments}
    frames_total = 0
    for split in splits or source.splits():
        refs = source.clips(split)
        unlisted[split] = source.unlisted(split)
        split_lengths, seen_frames = [], 0
        part_missing = {seg.name: np.zeros(seg.skeleton.size) for seg in layout.segments}
        part_absent = {seg.name: 0 for seg in layout.segments}
        for item in source.iter_clips(split, max_clips):
            if isinstance(item, tuple):
                ref, exc = item
                errors.append((split, ref.name, f"{type(exc).__name__}: {exc}"))
                continue
            split_lengths.append(len(item.frames))
            seen_frames += len(item.frames)
            for name, seen in detected(layout, item.frames).items():
                part_missing[name] += (~seen).sum(axis=0)
                part_absent[name] += int((~seen).all(axis=1).sum())
                point_missing[name] += (~seen).sum(axis=0)
        frames_total += seen_frames
        lengths[split] = split_lengths
        missing_points[split] = part_missing  # per point counts; rates once out-of-view points are known
        missing_frames[split] = {k: v / max(seen_frames, 1) for k, v in part_absent.items()}
        n = np.array(split_lengths) if split_lengths else np.zeros(0)
        rows.append({
            "split": split,
            "clips listed": len(refs),
            "rows without a clip": len(unlisted[split]),
            "clips read": len(split_lengths),
            "clips unreadable": sum(1 for e in errors if e[0] == split),
            "frames": seen_frames,
            "median length": float(np.median(n)) if n.size else None,
            "min length": int(n.min()) if n.size else None,
            "max length": int(n.max()) if n.size else None,
        })
    by_point = pd.DataFrame([
        {"part": seg.name, "point": point, "rate": point_missing[seg.name][i] / max(frames_total, 1)}
        for seg in layout.segments for i, point in enumerate(seg.skeleton.points)
    ])
    in_view = {seg.name: point_missing[seg.name] / max(frames_total, 1) < OUT_OF_VIEW for seg in layout.segments}
    out_of_view = [(seg.name, point) for seg in layout.segments for i, point in enumerate(seg.skeleton.points)
                   if frames_total and not in_view[seg.name][i]]
    if len(by_point):
        by_point["out_of_view"] = [(part, point) in set(out_of_view) for part, point in
                                   zip(by_point["part"], by_point["point"])]
    by_part_rates = {}
    for split, counts in missing_points.items():
        frames = sum(lengths[split])
        by_part_rates[split] = {name: (float(c[in_view[name]].sum()) / (frames * int(in_view[name].sum())))
                                if frames and in_view[name].any() else float("nan")
                                for name, c in counts.items()}
    return DatasetSummary(
        source.name,
        pd.DataFrame(rows).set_index("split") if rows else pd.DataFrame(),
        lengths,
        pd.DataFrame(by_part_rates),
        pd.DataFrame(missing_frames),
        by_point,
        errors,
        unlisted,
        out_of_view,
    )


def hand_swap_frames(layout: FeatureLayout, frames: np.ndarray) -> np.ndarray:
    """Frame indices where each hand's point 0 is nearer the *other* body wrist: swapped hands.

    Only frames where both body wrists and both hands were detected are judged.
    """
    from slt_nb.layouts import WRISTS

    body = next((s for s in layout.segments if s.skeleton.name in WRISTS), None)
    names = {s.name for s in layout.segments}
    if body is None or not {"left_hand", "right_hand"} <= names:
        return np.zeros(0, dtype=int)
    frames = np.asarray(frames, dtype=np.float32)
    wrist = WRISTS[body.skeleton.name]
    bl = body.points(frames)[:, wrist["left_hand"], :2]
    br = body.points(frames)[:, wrist["right_hand"], :2]
    hl = layout.segment("left_hand").points(frames)[:, 0, :2]
    hr = layout.segment("right_hand").points(frames)[:, 0, :2]
    ok = np.all([~np.all(p == 0, axis=1) for p in (bl, br, hl, hr)], axis=0)
    d = lambda a, b: np.linalg.norm(a - b, axis=1)  # noqa: E731
    swapped = ok & (d(hl, br) < d(hl, bl)) & (d(hr, bl) < d(hr, br))
    return np.flatnonzero(swapped)
