"""Skeleton figures: a grid of a clip's frames on one scale, and one frame in its own Figure.

Each frame is drawn by `limbs.draw_frame`; with `hands`, close-ups of the right and the left hand
(hands.py) sit under (grid) or beside (one frame) it. The legend (legend.py) goes below the
panels, with room for it left before they are laid out, so it never hides a face or a hand.
"""
from __future__ import annotations

import io

import numpy as np

from slt_nb.layouts import FeatureLayout
from slt_nb.plotting.framing import (ASPECT_RANGE, MIN_CONFIDENCE, confidence_note, confident, low_confidence_count,
                                     signer_bounds, upper_body)
from slt_nb.plotting.hands import draw_hand, hands_of
from slt_nb.plotting.legend import figure_legend, legend_height, parts_drawn
from slt_nb.plotting.limbs import draw_frame
from slt_nb.plotting.style import literal_text

def skeleton_grid(layout: FeatureLayout, frames: np.ndarray, indices=None, cols: int = 4,
                  title: str | None = None, size: float = 3.0, frame_size: tuple[int, int] | None = None,
                  legs: bool = True, confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE,
                  hands: bool = True):
    """A grid of frames of one clip, all drawn to the same scale; returns the Figure.

    `legs=False` leaves out knees, ankles and feet (out of view in every sign-language corpus).
    With the clip's confidence (T, points), points below min_confidence are not drawn (the title
    says how many). `hands` adds, under each frame, close-ups of the right and the left hand
    (in picture order), each cropped to the hand.
    """
    import matplotlib.pyplot as plt

    raw = np.asarray(frames)
    frames = confident(layout, raw, confidence, min_confidence)
    frames = frames if legs else upper_body(layout, frames)
    if indices is None:
        indices = np.linspace(0, len(frames) - 1, min(cols * 2, len(frames))).round().astype(int)
    indices = list(indices)
    rows = max(1, -(-len(indices) // cols))
    hand_names = hands_of(layout) if hands else []
    bounds = signer_bounds(layout, frames[indices], frame_size)
    ratio = 0.8
    if bounds is not None:  # each panel as tall as the signer's view needs at its width
        (x0, x1), (y0, y1) = bounds
        unit = frame_size if (frame_size and max(abs(x1), abs(y1)) <= 2.0) else (1.0, 1.0)
        ratio = float(np.clip((y1 - y0) * unit[1] / ((x1 - x0) * unit[0]), *ASPECT_RANGE))
    # Inches: every frame takes two grid columns (its body panel spans both, a hand close-up sits
    # in each), so the figure's height follows from the panels' widths with no empty bands.
    left, right, wspace, gap = 0.5, 0.1, 0.4, 0.42
    column = (cols * size - left - right) / (2 * cols + wspace * (2 * cols - 1))
    heights = [ratio * column * (2 + wspace)] + ([column] if hand_names else [])
    heights = heights * rows
    labels = parts_drawn(layout, frames[indices])
    legend_h = legend_height(labels, cols * size) + 0.1
    notes = confidence is not None and bool(min_confidence)
    title_h = 0.32 + 0.2 * (bool(title) + notes)  # the frames' titles, then one line a heading
    height = title_h + sum(heights) + gap * (len(heights) - 1) + legend_h + 0.3
    fig = plt.figure(figsize=(cols * size, height))
    grid = fig.add_gridspec(len(heights), cols * 2, height_ratios=heights,
                            left=left / (cols * size), right=1 - right / (cols * size),
                            bottom=(legend_h + 0.3) / height, top=1 - title_h / height,
                            hspace=gap / (sum(heights) / len(heights)), wspace=wspace)
    per_row = 2 if hand_names else 1
    for k, i in enumerate(indices):
        r, c = divmod(k, cols)
        ax = fig.add_subplot(grid[r * per_row, 2 * c: 2 * c + 2])
        draw_frame(ax, layout, frames[i], title=f"frame {i}", frame_size=frame_size, bounds=bounds)
        for j, hand in enumerate(hand_names):
            draw_hand(fig.add_subplot(grid[r * per_row + 1, 2 * c + j]), layout, frames[i], hand, frame_size)
    heading = [literal_text(title)] if title else []
    if notes:
        shown = upper_body(layout, raw[indices]) if not legs else raw[indices]
        heading.append(confidence_note(*low_confidence_count(layout, shown, frames[indices]), min_confidence))
    if heading:
        fig.suptitle("\n".join(heading), fontsize=10 if len(heading) == 1 else 9,
                     y=1 - 0.08 / fig.get_figheight(), va="top")
    figure_legend(fig, labels)  # every part drawn in some frame, whether or not in the first
    return fig


def frame_figure(layout: FeatureLayout, row: np.ndarray, title: str | None = None,
                 frame_size: tuple[int, int] | None = None, bounds=None, size: tuple[float, float] = (5, 4),
                 confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE, hands: bool = True):
    """One frame in its own Figure, made without pyplot so nothing is shown as a side effect.

    The first axes is the frame; with `hands` the right and the left hand follow as close-ups in
    a column beside it. The legend goes below, so it never hides the face or a hand.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=90)
    hand_names = hands_of(layout) if hands else []
    labels = parts_drawn(layout, confident(layout, row, confidence, min_confidence))
    bottom = (legend_height(labels, size[0]) + 0.35) / size[1]
    top = 1 - (0.3 + 0.17 * (confidence is not None and bool(min_confidence))) / size[1]
    if hand_names:
        grid = fig.add_gridspec(len(hand_names), 2, width_ratios=[3, 1], left=0.5 / size[0], right=0.98, top=top,
                                bottom=bottom, wspace=0.12, hspace=0.25)
        ax = fig.add_subplot(grid[:, 0])
    else:
        grid = None
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.5 / size[0], right=0.98, bottom=bottom, top=top)
    draw_frame(ax, layout, row, title=title, frame_size=frame_size, bounds=bounds, confidence=confidence,
               min_confidence=min_confidence)
    if confidence is not None and min_confidence:
        heading = f"{literal_text(title)}\n" if title else ""
        ax.set_title(heading + f"points with confidence below {min_confidence:g} not drawn", fontsize=8)
    for j, hand in enumerate(hand_names):
        draw_hand(fig.add_subplot(grid[j, 1]), layout, row, hand, frame_size, confidence, min_confidence)
    figure_legend(fig, labels)
    return fig


def figure_png(fig) -> bytes:
    """A Figure rendered to PNG bytes (for an image widget or a file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
