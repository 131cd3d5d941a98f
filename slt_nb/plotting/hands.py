"""Hand close-ups: one hand of a frame cropped to a square around it, drawn larger than the body.

A hand is a few percent of the picture, so its fingers only read in a close-up. Each close-up
axes carries `gid="closeup:<hand>"`; a hand that is not there says "not detected".
"""
from __future__ import annotations

import numpy as np

from slt_nb.layouts import FeatureLayout
from slt_nb.plotting.framing import MIN_CONFIDENCE, confident, detected
from slt_nb.plotting.limbs import draw_segment

HANDS = ("right_hand", "left_hand")  # in picture order for a front view: the signer's right hand is on the left


def hands_of(layout: FeatureLayout) -> list[str]:
    """The hands (HANDS, in picture order) that the layout has."""
    names = {s.name for s in layout.segments}
    return [hand for hand in HANDS if hand in names]


def hand_bounds(points: np.ndarray, frame_size: tuple[int, int] | None = None, margin: float = 0.1):
    """((x0, x1), (y0, y1)) of a square (in the picture) around one hand's detected points (21, 2), or None."""
    points = np.asarray(points, dtype=np.float32)
    points = points[detected(points) & np.all(np.isfinite(points), axis=1)]
    if not len(points):
        return None
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    normalised = float(np.abs(points).max()) <= 2.0
    unit = np.asarray(frame_size if (normalised and frame_size) else (1.0, 1.0), dtype=np.float64)
    extent = (hi - lo) * unit
    side = max(float(extent.max()) * (1 + 2 * margin), 0.02 * float(unit.max()) if normalised else 10.0)
    half = side / 2 / unit
    return ((float(centre[0] - half[0]), float(centre[0] + half[0])),
            (float(centre[1] - half[1]), float(centre[1] + half[1])))


def draw_hand(ax, layout: FeatureLayout, row: np.ndarray, hand: str, frame_size: tuple[int, int] | None = None,
              confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE) -> bool:
    """A close-up of one hand of a row, cropped to the hand; says "not detected" when it is not there.

    Returns whether the hand was drawn. The axes carry `gid=<hand>` (HANDS) for finding them.
    """
    row = confident(layout, row, confidence, min_confidence)
    seg = layout.segment(hand)
    pts = seg.points(row)[:, :2]
    ax.set_gid(f"closeup:{hand}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(hand.replace("_", " "), fontsize=7, pad=2)
    bounds = hand_bounds(pts, frame_size)
    if bounds is None:
        ax.set_xlim(0, 1)
        ax.set_ylim(1, 0)
        ax.set_aspect(1.0, adjustable="box")
        ax.text(0.5, 0.5, "not detected", ha="center", va="center", fontsize=7, color="0.4", transform=ax.transAxes)
        for spine in ax.spines.values():
            spine.set_color("0.75")
        return False
    draw_segment(ax, seg, pts, scale=1.6)
    (x0, x1), (y0, y1) = bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    normalised = max(abs(x1), abs(y1)) <= 2.0
    ax.set_aspect(frame_size[1] / frame_size[0] if (normalised and frame_size) else 1.0, adjustable="box")
    return True
