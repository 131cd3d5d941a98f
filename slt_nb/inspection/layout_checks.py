"""Declared layouts checked against the numbers (the compare report's "Does the data match its declaration?").

Over what `slt_nb.inspection.compare.load_exports` returns (its public attributes only: label,
manifest, manifest_path, split, layout, fps, clips, names, params), each check returns findings
(`Finding`: severity error / warning / ok, the check, the export, a message naming the columns or
clips):

- `declared_empty`: columns the manifest declares empty hold values: the points its
  `layout.alignment` says the corpus never fills, and the zero padding past the layout's width;
  a declared segment that is empty in every frame read is a warning;
- `left_right`: with the signer facing the camera, the signer's left shoulder is at larger x than
  the right (image x grows to the right, the signer's left is the image's right); each declared hand
  lies nearer its own body wrist than the other one;
- `frame_bounds`: `frame` normalisation with normalised coordinates keeps the nose and shoulders
  in [0, 1]; declared `pixels` that all lie in [0, 1.5] look normalised; `shoulders` puts the
  shoulders' midpoint at 0 and their width at 1;
- `rate_vs_text`: seconds per word of each clip's text at the declared frame rate (`RATE_FACTS`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slt_nb.export.features import COLUMN0_GUARD
from slt_nb.formats.openpose import OUTSIDE_FRAME
from slt_nb.formats.pami import iter_samples
from slt_nb.layouts import find_point, index_ranges

SEVERITIES = ("error", "warning", "ok")
# Public facts behind the rate check (docs/layouts.md, "Frame rate against text"):
# - Bellugi & Fischer (1972): bilinguals told the same story in 4.7 English words/s and 2.3 ASL signs/s,
#   in about the same time: a signed sentence lasts about as long as its spoken translation;
# - Grosjean & Deschamps: interview speech at 176 English words per minute (0.34 s a word);
# - How2Sign's realigned test CSV (its first 40 rows, data/realdata/how2sign_metadata), the 39 sentences
#   of 3 words or more: median 0.345 s per English word, 10th-90th percentile 0.19-0.65, extremes 0.12-1.82.
# An export's median outside the range of 80% of single How2Sign clips, or one clip 2x beyond their
# extremes, contradicts its frame rate. A rate off by 2 is caught both ways for a corpus at How2Sign's pace.
RATE_FACTS = {"seconds_per_word": 0.345, "export_median": (0.19, 0.65), "clip": (0.06, 3.0), "min_words": 3,
              "min_clips": 5}  # the export's median is judged over at least this many clips
SHARE_OUTSIDE = 0.02  # of detected values outside [0, 1] before `frame` coordinates are contradicted
LIST = 8  # clips or points named in one message


@dataclass(frozen=True)
class Finding:
    severity: str  # one of SEVERITIES
    check: str
    export: str
    message: str


def _points_detected(rows: np.ndarray) -> np.ndarray:
    """(frames, points): the point's x or y is not 0 (column 0 may hold the export's guard value for 0)."""
    pts = np.abs(rows.reshape(len(rows), -1, 2))
    return (pts > COLUMN0_GUARD).any(axis=2)


def _column_name(layout, column: int) -> str:
    for seg in layout.segments:
        if seg.start <= column < seg.stop:
            return f"{seg.name}.{seg.skeleton.points[(column - seg.start) // 2]}"
    return f"column {column}"


def _full_rows(sample) -> tuple[list[str], np.ndarray, int]:
    """Texts of the clips read, and per column past the layout's width the frames holding a value
    (re-read from the parts: the sample keeps only the layout's columns)."""
    wanted = {name: i for i, name in enumerate(sample.names)}
    texts = list(getattr(sample, "texts", None) or [""] * len(sample.names))
    width = sample.layout.width
    entry = (sample.manifest.get("splits") or {}).get(sample.split) or {}
    parts = [sample.manifest_path.parent / p["file"] for p in entry.get("parts", []) if "file" in p]
    beyond, frames, found = None, 0, 0
    for item in iter_samples(parts) if wanted else ():
        i = wanted.pop(item["name"], None)
        if i is None:
            continue
        texts[i] = item.get("text") or texts[i]
        rows = item["sign"].numpy()
        extra = rows[:, width:] != 0
        beyond = extra.sum(axis=0) if beyond is None else beyond + extra.sum(axis=0)
        frames += int((rows != 0).any(axis=1).sum())
        found += 1
        if not wanted:
            break
    return texts, (np.zeros(0, dtype=np.int64) if beyond is None else beyond), frames


def declared_empty(sample, beyond: np.ndarray | None = None, frames_beyond: int = 0) -> list[Finding]:
    """Columns declared never filled or padding that hold values; declared segments always empty."""
    out, label, layout = [], sample.label, sample.layout
    rows = sample.real_frames()
    nonzero = (np.abs(rows) > COLUMN0_GUARD)
    alignment = (sample.manifest.get("layout") or {}).get("alignment") or {}
    filled = alignment.get("columns_filled")
    if filled is not None and len(rows):
        empty = np.ones(layout.width, dtype=bool)
        for a, b in filled:
            empty[a:b] = False
        share = nonzero.mean(axis=0)
        bad = np.flatnonzero(empty & (share > 0))
        if bad.size:
            points = list(dict.fromkeys(_column_name(layout, c) for c in bad))
            worst = float(share[bad].max())
            out.append(Finding("error", "declared empty", label,
                               f"{len(points)} points the manifest declares never filled by this corpus "
                               f"(layout.alignment from {alignment.get('from')!r}) hold values, in up to "
                               f"{worst:.0%} of frames: {', '.join(points[:LIST])}{' ...' if len(points) > LIST else ''} "
                               f"(columns {index_ranges(bad, sep=', ')}): the alignment is not this data's"))
    if beyond is not None and beyond.size and beyond.any():
        cols = np.flatnonzero(beyond) + layout.width
        out.append(Finding("error", "declared empty", label,
                           f"columns {index_ranges(cols, sep=', ')}, declared zero padding (the layout {layout.name!r} ends at "
                           f"column {layout.width}), hold values in up to {beyond.max() / max(frames_beyond, 1):.0%} "
                           f"of frames: the data have more columns than the declared layout"))
    if len(rows):
        for seg in layout.segments:
            if not nonzero[:, seg.start:seg.stop].any() and (filled is None or any(
                    a < seg.stop and b > seg.start for a, b in filled)):
                out.append(Finding("warning", "declared empty", label,
                                   f"segment {seg.name!r} (columns {seg.start}-{seg.stop - 1}) is empty in all "
                                   f"{len(rows)} frames read, though declared as filled"))
    if not out:
        out.append(Finding("ok", "declared empty", label, "every column declared empty is empty"
                           + ("" if filled is not None else " (padding only: no layout.alignment declared)")))
    return out


def _xy(rows: np.ndarray, point: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rows[:, 2 * point: 2 * point + 2].astype(np.float64)
    return xy, (np.abs(xy) > COLUMN0_GUARD).any(axis=1)


def _hand_point(rows: np.ndarray, seg) -> tuple[np.ndarray, np.ndarray]:
    """The hand's wrist, else the mean of its detected points; and where it was detected."""
    if "wrist" in seg.skeleton.points:
        return _xy(rows, seg.start // 2 + seg.skeleton.index("wrist"))
    pts = seg.points(rows).astype(np.float64)
    seen = (np.abs(pts) > COLUMN0_GUARD).any(axis=2)
    counts = seen.sum(axis=1)
    centre = (pts * seen[..., None]).sum(axis=1) / np.maximum(counts, 1)[:, None]
    return centre, counts > 0


def left_right(sample) -> list[Finding]:
    """Shoulders: the declared left at larger x; hands: each nearer its own body wrist."""
    out, label, layout = [], sample.label, sample.layout
    rows = sample.real_frames()
    ls, rs = find_point(layout, "left_shoulder"), find_point(layout, "right_shoulder")
    if ls is not None and rs is not None:
        (l_xy, l_ok), (r_xy, r_ok) = _xy(rows, ls), _xy(rows, rs)
        both = l_ok & r_ok
        n, right_way = int(both.sum()), int((l_xy[both, 0] > r_xy[both, 0]).sum())
        if n and right_way < n / 2:
            out.append(Finding("error", "left/right", label,
                               f"the declared left shoulder (columns {2 * ls}-{2 * ls + 1}) is at smaller x than "
                               f"the right (columns {2 * rs}-{2 * rs + 1}) in {n - right_way} of {n} frames; facing "
                               f"the camera the signer's left shoulder is on the image's right: left and right "
                               f"are swapped in the declaration (or the video is mirrored)"))
        elif n:
            out.append(Finding("ok", "left/right", label, f"left shoulder at larger x in {right_way} of {n} frames"))
    wrists = {side: find_point(layout, f"{side}_wrist") for side in ("left", "right")}
    hands = {s.name: s for s in layout.segments if s.name in ("left_hand", "right_hand")}
    if None in wrists.values() or not hands:
        return out
    body = {side: _xy(rows, wrists[side]) for side in wrists}
    for name, seg in hands.items():
        own, other = ("left", "right") if name == "left_hand" else ("right", "left")
        hand, seen = _hand_point(rows, seg)
        ok = seen & body[own][1] & body[other][1]
        n = int(ok.sum())
        if not n:
            continue
        near_own = np.linalg.norm(hand[ok] - body[own][0][ok], axis=1) < np.linalg.norm(hand[ok] - body[other][0][ok], axis=1)
        k = int(near_own.sum())
        if k < n / 2:
            out.append(Finding("error", "left/right", label,
                               f"segment {name!r} (columns {seg.start}-{seg.stop - 1}) lies nearer the {other} body "
                               f"wrist than the {own} one in {n - k} of {n} frames: the hands are swapped against "
                               f"the body in the declaration"))
        else:
            out.append(Finding("ok", "left/right", label, f"{name} nearer the {own} wrist in {k} of {n} frames"))
    return out


ANCHORS = ("nose", "left_shoulder", "right_shoulder")  # in view whenever a signer is


def frame_bounds(sample) -> list[Finding]:
    """`frame` + normalised: the nose and shoulders inside the frame; `pixels` not all in [0, 1.5];
    `shoulders`: shoulders' midpoint at 0 and width 1.

    Only the nose and shoulders are judged: MediaPipe places joints it cannot see (legs, a hand
    out of the picture) outside the frame, and OpenPose hands hang below it, as real output.
    """
    params, label, layout = sample.params, sample.label, sample.layout
    rows = sample.real_frames()
    if not len(rows):
        return []
    if params.get("normalize") == "shoulders":
        return _shoulder_units(sample, rows)
    anchors = [p for p in (find_point(layout, name) for name in ANCHORS) if p is not None]
    if anchors:
        values = np.concatenate([xy[seen].ravel() for xy, seen in (_xy(rows, p) for p in anchors)])
        judged = "nose and shoulder"
    else:
        pts = rows.reshape(len(rows), -1, 2).astype(np.float64)
        values, judged = pts[(np.abs(pts) > COLUMN0_GUARD).any(axis=2)][:, 0], "x"
    if not values.size:
        return []
    if params.get("coordinates") == "pixels":
        if np.percentile(np.abs(values), 99) <= 1.5:
            return [Finding("warning", "frame bounds", label,
                            f"coordinates are declared pixels, but 99% of the {judged} values lie within 0-1.5 "
                            f"(largest {values.max():.3g}): they look divided by the frame size already")]
        return [Finding("ok", "frame bounds", label, f"pixels: {judged} values up to {values.max():.0f}")]
    outside = (values < 1 - OUTSIDE_FRAME) | (values > OUTSIDE_FRAME)
    share = float(outside.mean())
    if share <= SHARE_OUTSIDE:
        return [Finding("ok", "frame bounds", label, f"{1 - share:.1%} of the {judged} values within the frame")]
    why = ("they look like pixels (never divided by the frame size, or `coordinates` is wrong)" if values.max() > 2
           else "clips of a larger frame than the one they were divided by (1920x1080 divided by 1280x720 "
                "puts x up to 1.5), or coordinates of another origin")
    return [Finding("error", "frame bounds", label,
                    f"declared `frame` normalisation (x over the width, y over the height) but {share:.1%} of the "
                    f"{judged} values lie outside [0, 1], from {values.min():.3g} to {values.max():.3g}: {why}")]


def _shoulder_units(sample, rows: np.ndarray) -> list[Finding]:
    ls, rs = find_point(sample.layout, "left_shoulder"), find_point(sample.layout, "right_shoulder")
    if ls is None or rs is None:
        return [Finding("warning", "frame bounds", sample.label,
                        "declared `shoulders` normalisation, but the layout names no left and right shoulder")]
    (l_xy, l_ok), (r_xy, r_ok) = _xy(rows, ls), _xy(rows, rs)
    both = l_ok & r_ok
    if not both.any():
        return []
    mid = np.median((l_xy[both] + r_xy[both]) / 2, axis=0)
    width = float(np.median(np.linalg.norm(l_xy[both] - r_xy[both], axis=1)))
    if np.abs(mid).max() > 0.05 or abs(width - 1) > 0.05:
        return [Finding("error", "frame bounds", sample.label,
                        f"declared `shoulders` normalisation (shoulders' midpoint at 0, their width 1), but the "
                        f"shoulders' midpoint sits at ({mid[0]:.3g}, {mid[1]:.3g}) and their width is {width:.3g}: "
                        f"the data are not in shoulder units (fractions of the frame put the width near 0.1-0.3)")]
    return [Finding("ok", "frame bounds", sample.label, f"shoulder units: midpoint ({mid[0]:.2g}, {mid[1]:.2g}), "
                    f"width {width:.3g}")]


def rate_vs_text(sample, texts: list[str]) -> list[Finding]:
    """Seconds per word of text at the declared frame rate, per clip and the export's median (RATE_FACTS)."""
    label, fps = sample.label, sample.fps
    if not fps:
        return [Finding("warning", "rate vs text", label, "no frame rate declared: clip lengths in seconds unknown")]
    per_word = []
    for name, clip, text in zip(sample.names, sample.clips, texts):
        words = len(str(text or "").split())
        if words >= RATE_FACTS["min_words"]:
            per_word.append((name, len(clip) / fps / words, words, len(clip)))
    if not per_word:
        return [Finding("ok", "rate vs text", label, f"no clip read has a text of {RATE_FACTS['min_words']} words "
                        f"or more: not judged")]
    out = []
    lo, hi = RATE_FACTS["clip"]
    odd = [(n, s, w, f) for n, s, w, f in per_word if not lo <= s <= hi]
    if odd:
        shown = "; ".join(f"{n}: {f} frames = {f / fps:.2f} s for {w} words ({s:.2f} s/word)" for n, s, w, f in odd[:LIST])
        out.append(Finding("warning", "rate vs text", label,
                           f"{len(odd)} of {len(per_word)} clips last implausibly long or short for their text "
                           f"at {fps:g} fps (outside {lo:g}-{hi:g} s per word): {shown}{' ...' if len(odd) > LIST else ''}"))
    median = float(np.median([s for _, s, _, _ in per_word]))
    if len(per_word) < RATE_FACTS["min_clips"]:
        return out + [Finding("ok", "rate vs text", label, f"median {median:.2f} s per word at {fps:g} fps over "
                              f"{len(per_word)} clip{'s' if len(per_word) != 1 else ''}: too few to judge the frame rate (at least "
                              f"{RATE_FACTS['min_clips']})")]
    lo, hi = RATE_FACTS["export_median"]
    typical = RATE_FACTS["seconds_per_word"]
    if not lo <= median <= hi:
        out.append(Finding("error", "rate vs text", label,
                           f"at the declared {fps:g} fps its clips last a median {median:.3f} s per word of text "
                           f"({len(per_word)} clips); signed sentences take about {typical:g} s per word (plausible "
                           f"{lo:g}-{hi:g}), which about {fps * median / typical:.0f} fps would give: is the frame "
                           f"rate right?"))
    else:
        out.append(Finding("ok", "rate vs text", label, f"median {median:.2f} s per word at {fps:g} fps "
                           f"({len(per_word)} clips)"))
    return out


def check_export(sample) -> list[Finding]:
    """Every check on one export sample."""
    texts, beyond, frames = _full_rows(sample)
    return (declared_empty(sample, beyond, frames) + left_right(sample) + frame_bounds(sample)
            + rate_vs_text(sample, texts))


def check_exports(samples) -> list[Finding]:
    return [finding for sample in samples for finding in check_export(sample)]


def findings_table(findings: list[Finding]):
    """Findings as a table, errors first."""
    import pandas as pd

    table = pd.DataFrame([f.__dict__ for f in findings], columns=["severity", "check", "export", "message"])
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return table.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
