"""One frame's skeleton on one axes: each part's limbs and points, the arms joined to the hands.

Every limb line carries `gid=<segment name>` so a test (or a curious user) can count them, and
the live viewer's redraw (inspection/redraw.py) can trace each artist back to its points.
"""
from __future__ import annotations

import numpy as np

from slt_nb.layouts import WRISTS, FeatureLayout, Segment, hand_part, limb_part
from slt_nb.plotting.framing import MIN_CONFIDENCE, confident, detected, finish_axes, signer_bounds
from slt_nb.plotting.style import (DEFAULT_STYLE, FINGER_COLOURS, HAND_STYLES, SEGMENT_COLOURS, SEGMENT_STYLE,
                                   literal_text)


def draw_segment(ax, segment: Segment, points: np.ndarray, colour: str | None = None, label: str | None = None,
                 scale: float = 1.0) -> int:
    """Draw one body part's limbs and points; returns the number of limb lines drawn.

    A hand is drawn a colour per finger (FINGER_COLOURS) in its side's style (HAND_STYLES) unless
    `colour` is given; `scale` multiplies line widths and dot sizes (hand close-ups).
    """
    style = SEGMENT_STYLE.get(segment.name, DEFAULT_STYLE)
    hand = HAND_STYLES.get(segment.name)
    fingers = colour is None and hand_part(segment.skeleton, 0) is not None
    colour = colour or SEGMENT_COLOURS.get(segment.name, "black")
    seen = detected(points)
    drawn = 0
    for a, b in segment.skeleton.limbs:
        if seen[a] and seen[b]:
            part = limb_part(segment.skeleton, (a, b)) if fingers else None
            c = FINGER_COLOURS[part] if part else colour
            ax.plot(points[[a, b], 0], points[[a, b], 1], color=c, lw=style["lw"] * scale * (0.7 if part == "palm" else 1),
                    ls=hand["ls"] if hand else "-", solid_capstyle="round", dash_capstyle="round",
                    gid=segment.name)
            drawn += 1
    if seen.any():
        if fingers:
            colours = [FINGER_COLOURS[hand_part(segment.skeleton, i)] for i in np.flatnonzero(seen)]
        else:
            colours = [colour] * int(seen.sum())
        if hand and not hand["filled"]:
            ax.scatter(points[seen, 0], points[seen, 1], s=style["s"] * scale * 1.3, facecolors="white",
                       edgecolors=colours, linewidths=0.8 * min(scale, 1.6), zorder=3, label=label)
        else:
            ax.scatter(points[seen, 0], points[seen, 1], s=style["s"] * scale, c=colours, zorder=3, label=label)
    return drawn


def draw_frame(ax, layout: FeatureLayout, row: np.ndarray, title: str | None = None,
               frame_size: tuple[int, int] | None = None, bounds=None, confidence: np.ndarray | None = None,
               min_confidence: float = MIN_CONFIDENCE) -> int:
    """Draw one feature row (padding ignored) decoded through its layout; returns limb count.

    With the row's confidence (points,), points below min_confidence are left out with their limbs.
    """
    row = confident(layout, row, confidence, min_confidence)
    drawn = 0
    segs = {s.name: s for s in layout.segments}
    for seg in layout.segments:
        pts = seg.points(row)[:, :2]
        drawn += draw_segment(ax, seg, pts, label=seg.name.replace("_", " "))
    # arm to hand: body wrist meets hand point 0
    body = next((s for s in layout.segments if s.skeleton.name in WRISTS), None)
    if body is not None:
        bpts = body.points(row)[:, :2]
        for hand, wrist in WRISTS[body.skeleton.name].items():
            if hand in segs:
                hpts = segs[hand].points(row)[:, :2]
                if detected(bpts[wrist]) and detected(hpts[0]):
                    ax.plot([bpts[wrist, 0], hpts[0, 0]], [bpts[wrist, 1], hpts[0, 1]],
                            color=FINGER_COLOURS["palm"], lw=1.0, ls=":", gid=f"{hand}_wrist_join")
    if bounds is None:
        bounds = signer_bounds(layout, row, frame_size)
    finish_axes(ax, row[: layout.width], frame_size, bounds)
    if title:
        ax.set_title(literal_text(title), fontsize=9)
    return drawn
