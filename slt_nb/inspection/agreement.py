"""How well two pose estimators agree, joint by joint, once mapped by name (notebooks/agreement.ipynb).

Each clip of a pair (slt_nb.inspection.estimator_pairs) is mapped into one layout, `TARGET`
(MediaPipe Pose 33, both hands, Face Mesh 478), by `slt_nb.layouts.point_map` (OpenPose BODY_25
into the pose by name, its face 70 into the mesh by the table in docs/layouts.md), and normalised
by the export's own code, `slt_nb.export.features.FeatureTransform`, with `min_confidence` as the
export applies it (OpenPose confidence, MediaPipe pose visibility):

- `frame`: x over the frame width, y over its height; a distance is the pixel distance divided by
  the mean of the two estimators' shoulder widths in that frame (`shoulder_frame`: the clip's
  median where a frame lacks a shoulder);
- `shoulders`: each estimator's own shoulder midpoint at 0 and its own shoulder width 1, per frame;
  a distance is already in shoulder widths. The shoulders themselves then differ only by the angle
  of the shoulder line, by construction.

A joint is compared in the frames where both estimators detected it. PCK@t is the share of those
frames where the two are within t shoulder widths. A hand counts as detected in a frame when any
of its points is (after `min_confidence`); `lost_hands` lists the frames where one has it and the
other not.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slt_nb.errors import ClipError
from slt_nb.export.features import COLUMN0_GUARD, FeatureOptions, FeatureTransform, shoulder_frame
from slt_nb.inspection.estimator_pairs import EstimatorClip, Pairing
from slt_nb.layouts import MEDIAPIPE_FACE_478, MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33, consecutive_layout, point_map

TARGET = consecutive_layout("agreement_pose33_hands_face478_xy", [
    ("pose", MEDIAPIPE_POSE_33), ("left_hand", MEDIAPIPE_HAND_21), ("right_hand", MEDIAPIPE_HAND_21),
    ("face", MEDIAPIPE_FACE_478)])
THRESHOLDS = (0.1, 0.2)
NORMALIZATIONS = ("frame", "shoulders")
HANDS = ("left_hand", "right_hand")
_LS, _RS = (TARGET.segment("pose").skeleton.index(n) for n in ("left_shoulder", "right_shoulder"))


@dataclass
class ClipAgreement:
    """One clip pair under one normalisation: per frame and TARGET point, the distance of the two."""

    clip: str
    normalize: str
    estimators: tuple[str, str]
    distance: np.ndarray  # (T, points) shoulder widths; NaN where not both detected
    pixels: np.ndarray | None  # (T, points) pixels (`frame` only)
    detected: tuple[np.ndarray, np.ndarray]  # (T, points) each
    mapped: np.ndarray  # (points,) True where both estimators have a source point
    source_names: dict[int, tuple[str, str]]  # TARGET point -> (first's name, second's name)


def mapped_points(a: EstimatorClip, b: EstimatorClip) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
    """TARGET points both estimators fill, and each one's own name for them (`body.left_big_toe`)."""
    names: list[dict[int, str]] = []
    for clip in (a, b):
        pmap = point_map(clip.layout, TARGET)
        names.append({int(t): f"{seg}.{point}" for t, (_, _, seg, point) in zip(pmap.target_points, pmap.pairs)})
    both = sorted(set(names[0]) & set(names[1]))
    mask = np.zeros(TARGET.width // 2, dtype=bool)
    mask[both] = True
    return mask, {t: (names[0][t], names[1][t]) for t in both}


def normalised_points(clip: EstimatorClip, normalize: str, min_confidence: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(T, TARGET points, 2) as the export writes them under these options, and (T, points) detected."""
    options = FeatureOptions.from_params({"feature_layout": "aligned", "normalize": normalize,
                                          "min_confidence": min_confidence})
    transform = FeatureTransform(options, clip.layout, target=TARGET)
    rows, _ = transform.apply(clip.frames, f"{clip.estimator} {clip.name}", None, pixel_scale=clip.frame_size,
                              confidence=clip.confidence)
    points = rows.reshape(len(rows), -1, 2)
    # undetected points are 0; column 0 may hold the export's guard value instead of a 0
    return points, (np.abs(points) > COLUMN0_GUARD).any(axis=2)


def _shoulder_width_px(points: np.ndarray, detected: np.ndarray, size, who: str) -> np.ndarray:
    try:
        return shoulder_frame(points * np.asarray(size, np.float32), detected, _LS, _RS, who)[1]
    except ClipError:
        raise ClipError(f"{who}: no frame has both shoulders detected; distances in shoulder widths need "
                        f"them") from None


def agree(name: str, a: EstimatorClip, b: EstimatorClip, normalize: str, min_confidence: float = 0.0) -> ClipAgreement:
    """The distances of one clip pair under one normalisation (see the module doc)."""
    (pa, da), (pb, db) = (normalised_points(c, normalize, min_confidence) for c in (a, b))
    mapped, names = mapped_points(a, b)
    both = da & db & mapped
    pixels = None
    if normalize == "frame":
        pixels = np.linalg.norm((pa - pb) * np.asarray(a.frame_size, np.float32), axis=2)
        width = (_shoulder_width_px(pa, da, a.frame_size, f"{a.estimator} {a.name}")
                 + _shoulder_width_px(pb, db, b.frame_size, f"{b.estimator} {b.name}")) / 2
        distance = pixels / width[:, None]
        pixels = np.where(both, pixels, np.nan)
    else:
        distance = np.linalg.norm(pa - pb, axis=2)
    return ClipAgreement(name, normalize, (a.estimator, b.estimator), np.where(both, distance, np.nan), pixels,
                         (da, db), mapped, names)


def agreements(pairing: Pairing, normalizations=NORMALIZATIONS, min_confidence: float = 0.0) -> list[ClipAgreement]:
    """Every pair under every normalisation (normalisation first, then clip)."""
    return [agree(name, a, b, normalize, min_confidence) for normalize in normalizations
            for name, a, b in pairing.pairs]


def _point_name(index: int) -> tuple[str, str]:
    for seg in TARGET.segments:
        if seg.start // 2 <= index < seg.stop // 2:
            return seg.name, seg.skeleton.points[index - seg.start // 2]
    raise ClipError(f"point {index} is outside {TARGET.name}")


def joint_table(results: list[ClipAgreement], thresholds=THRESHOLDS):
    """One row per mapped joint and normalisation, every clip pooled: frames compared, median and
    mean distance in shoulder widths, PCK at each threshold, and (frame) the median in pixels."""
    import pandas as pd

    rows = []
    for normalize in dict.fromkeys(r.normalize for r in results):
        mine = [r for r in results if r.normalize == normalize]
        first, second = mine[0].estimators
        names = {t: n for r in mine for t, n in r.source_names.items()}
        for t in sorted(names):
            d = np.concatenate([r.distance[:, t] for r in mine])
            d = d[~np.isnan(d)]
            segment, joint = _point_name(t)
            row = {"normalize": normalize, "segment": segment, "joint": joint, f"{first} point": names[t][0],
                   f"{second} point": names[t][1], "frames": int(d.size),
                   "median": float(np.median(d)) if d.size else np.nan, "mean": float(d.mean()) if d.size else np.nan}
            for th in thresholds:
                row[f"PCK@{th:g}"] = float((d <= th).mean()) if d.size else np.nan
            if normalize == "frame":
                px = np.concatenate([r.pixels[:, t] for r in mine])
                px = px[~np.isnan(px)]
                row["median px"] = float(np.median(px)) if px.size else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def segment_summary(table):
    """Per normalisation and segment: joints compared, the median of their medians, mean PCK."""
    compared = table[table["frames"] > 0]
    pck = [c for c in table.columns if c.startswith("PCK@")]
    grouped = compared.groupby(["normalize", "segment"], sort=False)
    out = grouped.agg(joints=("joint", "size"), median=("median", "median"), worst=("median", "max"),
                      **{c: (c, "mean") for c in pck})
    never = table[table["frames"] == 0].groupby(["normalize", "segment"], sort=False)["joint"].size()
    out["never both detected"] = never.reindex(out.index).fillna(0).astype(int)
    return out


def per_joint(table, segments=("pose",) + HANDS, thresholds=THRESHOLDS):
    """The joint table side by side per normalisation (rows: segment, joint), for `segments`."""
    mine = table[table["segment"].isin(segments)]
    keys = ["segment", "joint", next(c for c in table.columns if c.endswith(" point"))]
    values = ["frames", "median"] + [f"PCK@{t:g}" for t in thresholds]
    wide = mine.pivot(index=keys, columns="normalize", values=values)
    wide = wide.swaplevel(axis=1)[list(dict.fromkeys(mine["normalize"]))]
    for normalize in dict.fromkeys(mine["normalize"]):
        wide[(normalize, "frames")] = wide[(normalize, "frames")].astype(int)
    if "median px" in mine:
        px = mine[mine["normalize"] == "frame"].set_index(keys)["median px"]
        if len(px):
            wide[("frame", "median px")] = px
    order = list(dict.fromkeys(zip(*(mine[k] for k in keys))))
    return wide.reindex(order).sort_index(axis=1, level=0, sort_remaining=False)


def lost_hands(results: list[ClipAgreement]):
    """Frames where one estimator detected a hand (any point) and the other did not, per clip."""
    import pandas as pd

    rows, seen = [], set()
    for r in results:
        if r.clip in seen:  # the same detections under every normalisation
            continue
        seen.add(r.clip)
        for hand in HANDS:
            seg = TARGET.segment(hand)
            points = slice(seg.start // 2, seg.stop // 2)
            has = [d[:, points][:, r.mapped[points]].any(axis=1) for d in r.detected]
            for frame in np.flatnonzero(has[0] != has[1]):
                found = 0 if has[0][frame] else 1
                rows.append({"clip": r.clip, "frame": int(frame), "hand": hand.replace("_", " "),
                             "found by": r.estimators[found], "lost by": r.estimators[1 - found]})
    return pd.DataFrame(rows, columns=["clip", "frame", "hand", "found by", "lost by"])


def hand_detection(results: list[ClipAgreement]):
    """Per hand: frames both estimators detect it, only the first, only the second, neither."""
    import pandas as pd

    counts: dict[str, dict[str, int]] = {}
    seen = set()
    for r in results:
        if r.clip in seen:
            continue
        seen.add(r.clip)
        first, second = r.estimators
        for hand in HANDS:
            seg = TARGET.segment(hand)
            points = slice(seg.start // 2, seg.stop // 2)
            a, b = (d[:, points][:, r.mapped[points]].any(axis=1) for d in r.detected)
            c = counts.setdefault(hand.replace("_", " "), {"both": 0, f"{first} only": 0, f"{second} only": 0,
                                                            "neither": 0})
            c["both"] += int((a & b).sum())
            c[f"{first} only"] += int((a & ~b).sum())
            c[f"{second} only"] += int((~a & b).sum())
            c["neither"] += int((~a & ~b).sum())
    return pd.DataFrame(counts).T


def frame_offsets(a: EstimatorClip, b: EstimatorClip, max_lag: int = 2, segments=("pose", "left_hand", "right_hand")):
    """Median pixel distance of the mapped body and hand points when the second's frame k + lag is
    set against the first's frame k: the smallest at lag 0 says frame k is the same instant in both."""
    import pandas as pd

    (pa, da), (pb, db) = (normalised_points(c, "frame") for c in (a, b))
    mapped, _ = mapped_points(a, b)
    keep = np.zeros_like(mapped)
    for name in segments:
        seg = TARGET.segment(name)
        keep[seg.start // 2: seg.stop // 2] = True
    keep &= mapped
    size = np.asarray(a.frame_size, np.float32)
    rows, n = [], min(len(pa), len(pb))
    for lag in range(-max_lag, max_lag + 1):
        k = np.arange(max(0, -lag), min(n, n - lag))
        both = da[k][:, keep] & db[k + lag][:, keep]
        d = np.linalg.norm((pa[k][:, keep] - pb[k + lag][:, keep]) * size, axis=2)[both]
        rows.append({"lag": lag, "frames": int(k.size), "points": int(d.size),
                     "median px": float(np.median(d)) if d.size else np.nan})
    return pd.DataFrame(rows)


def agreement_figure(table, thresholds=THRESHOLDS):
    """Median distance per mapped joint (bars, one colour per normalisation), PCK thresholds dashed:
    pose joints, hand points (left and right side by side), face points."""
    import matplotlib.pyplot as plt

    compared = table[table["frames"] > 0]
    norms = list(dict.fromkeys(compared["normalize"]))
    panels = [("pose", ("pose",)), ("hands", HANDS), ("face", ("face",))]
    panels = [(title, segs) for title, segs in panels if compared["segment"].isin(segs).any()]
    widths = [max(4.0, 0.28 * len(compared[compared["segment"].isin(segs)]) / max(1, len(norms)))
              for _, segs in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(min(16, max(widths) + 2), 3.2 * len(panels)),
                             layout="constrained", squeeze=False)
    colours = ("tab:blue", "tab:orange")
    for ax, (title, segs) in zip(axes[:, 0], panels):
        labels: list[str] = []
        for seg in segs:
            for joint in dict.fromkeys(compared[compared["segment"] == seg]["joint"]):
                labels.append(f"{'L ' if seg == 'left_hand' else 'R ' if seg == 'right_hand' else ''}{joint}")
        bar = 0.8 / max(1, len(norms))
        for k, normalize in enumerate(norms):
            mine = compared[(compared["normalize"] == normalize) & compared["segment"].isin(segs)]
            x = np.arange(len(mine))
            ax.bar(x - 0.4 + bar * (k + 0.5), mine["median"], width=bar, color=colours[k % 2],
                   label=f"normalize {normalize}")
        for th in thresholds:
            ax.axhline(th, color="grey", ls="--", lw=0.8)
            ax.text(len(labels) - 0.5, th, f" {th:g}", va="center", fontsize=7, color="grey")
        ax.set_xticks(range(len(labels)), [lab.replace("face_", "") for lab in labels], rotation=90, fontsize=6)
        ax.set_xlim(-0.7, len(labels) - 0.3)
        ax.set_ylabel("median distance\n(shoulder widths)", fontsize=8)
        ax.set_title(title + (" (MediaPipe Face Mesh point numbers)" if title == "face" else ""), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    first, second = (c.removesuffix(" point") for c in table.columns if c.endswith(" point"))
    fig.suptitle(f"{first} against {second} on the same frames: median distance per mapped joint "
                 f"(PCK thresholds {', '.join(f'{t:g}' for t in thresholds)} dashed)", fontsize=10)
    return fig
