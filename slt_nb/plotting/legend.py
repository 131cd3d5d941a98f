"""The legend under a skeleton figure: the parts drawn, then the finger colours.

It sits below the panels, never over a frame, in as many columns as fit the figure's width;
`legend_height` says how much room to leave for it before the panels are laid out.
"""
from __future__ import annotations

import numpy as np

from slt_nb.layouts import FINGERS, FeatureLayout
from slt_nb.plotting.framing import detected
from slt_nb.plotting.style import FINGER_COLOURS, FINGER_LABELS, HAND_STYLES, SEGMENT_COLOURS

_FINGER_TITLE = "fingers (the same colours on both hands; left and right are the signer's own)"


def parts_drawn(layout: FeatureLayout, rows: np.ndarray) -> list[str]:
    """Legend labels of the segments with a detected point in rows (..., D), in layout order."""
    rows = np.asarray(rows, dtype=np.float32)
    return [seg.name.replace("_", " ") for seg in layout.segments
            if detected(seg.points(rows)[..., :2].reshape(-1, 2)).any()]


def legend_entries(labels) -> tuple[list, list[str]]:
    """Legend handles and texts for the parts drawn (the labels draw_frame gives), fingers after the hands."""
    from matplotlib.lines import Line2D

    handles, texts = [], []
    labels = list(dict.fromkeys(labels))
    for label in labels:
        name = label.replace(" ", "_")
        if name in HAND_STYLES:
            style = HAND_STYLES[name]
            handles.append(Line2D([], [], color="0.15", lw=1.4, ls=style["ls"], marker="o", ms=4,
                                  mfc="0.15" if style["filled"] else "white", mec="0.15"))
            texts.append(f"{label}: {'solid, filled' if style['filled'] else 'dashed, open'}")
        else:
            handles.append(Line2D([], [], color=SEGMENT_COLOURS.get(name, "black"), lw=1.4, marker="o", ms=4))
            texts.append(label)
    if any(label.replace(" ", "_") in HAND_STYLES for label in labels):
        for part in FINGERS + ("palm",):
            handles.append(Line2D([], [], color=FINGER_COLOURS[part], lw=3))
            texts.append(FINGER_LABELS[part])
    return handles, texts


def _legend_groups(labels: list[str], width: float) -> list[tuple[list, list[str], str | None, int, float]]:
    """(handles, texts, title, columns, height in inches) of the parts legend and the fingers legend,
    each in as many columns as fit `width` inches at font size 8."""
    handles, texts = legend_entries(labels)
    parts = len(labels)
    groups = [(handles[:parts], texts[:parts], None)]
    if len(handles) > parts:
        groups.append((handles[parts:], texts[parts:], _FINGER_TITLE))
    out = []
    for group_handles, group_texts, title in groups:
        entry = [0.5 + 0.055 * len(text) for text in group_texts]  # handle, spacing and text at 8 pt
        ncols = len(entry)
        while ncols > 1:
            per_column = -(-len(entry) // ncols)
            columns = [max(entry[i: i + per_column]) for i in range(0, len(entry), per_column)]
            if sum(columns) <= width:
                break
            ncols -= 1
        rows = -(-len(entry) // ncols)
        out.append((group_handles, group_texts, title, ncols, 0.2 * rows + (0.2 if title else 0) + 0.05))
    return out


def legend_height(labels: list[str], width: float) -> float:
    """Inches the legend of these labels takes in a figure `width` inches wide (0 with no labels)."""
    return sum(g[-1] for g in _legend_groups(labels, width)) if labels else 0.0


def figure_legend(fig, labels: list[str]) -> None:
    """The parts drawn, then the fingers, below the panels (never over a frame)."""
    if not labels:
        return
    width, height = fig.get_size_inches()
    groups = _legend_groups(labels, width)
    top = 0.05 + sum(g[-1] for g in groups)
    for handles, texts, title, ncols, h in groups:  # parts first, the fingers under them
        fig.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, top / height), ncols=ncols,
                   fontsize=8, frameon=False, title=title, title_fontsize=8, handlelength=2.4,
                   borderaxespad=0, borderpad=0.1, columnspacing=1.2)
        top -= h
