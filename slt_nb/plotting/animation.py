"""A clip's skeleton as a GIF (legs left out), played at the clip's own rate.

Each frame is drawn by `limbs.draw_frame` on one kept Figure, all frames to the signer's view of
the frames shown, so the skeleton moves and the axes stay put.
"""
from __future__ import annotations

import numpy as np

from slt_nb.layouts import FeatureLayout
from slt_nb.plotting.framing import MIN_CONFIDENCE, confident, signer_bounds, upper_body
from slt_nb.plotting.limbs import draw_frame
from slt_nb.plotting.style import literal_text

def skeleton_animation(layout: FeatureLayout, frames: np.ndarray, fps: float | None = None, title: str | None = None,
                       frame_size: tuple[int, int] | None = None, max_frames: int = 32, size: float = 3.6,
                       confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE) -> bytes:
    """A GIF of the clip's skeleton (legs left out), at most max_frames evenly spaced frames; returns its bytes.

    Played at the clip's own rate when it is known (slower when frames were thinned out), so a
    second of signing takes a second. With the clip's confidence (T, points), points below
    min_confidence are left out.
    """
    import tempfile
    from pathlib import Path

    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    frames = upper_body(layout, confident(layout, np.asarray(frames)[:, : layout.width], confidence, min_confidence))
    picked = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    step = (picked[1] - picked[0]) if len(picked) > 1 else 1
    rate = (fps or 25.0) / step
    fig = Figure(figsize=(size, size * 0.9), dpi=72)
    ax = fig.add_subplot()
    bounds = signer_bounds(layout, frames[picked], frame_size)

    def draw(k):
        ax.clear()
        draw_frame(ax, layout, frames[picked[k]], frame_size=frame_size, bounds=bounds)
        seconds = f", {picked[k] / fps:.2f} s" if fps else ""
        ax.set_title(literal_text(f"{title + ': ' if title else ''}frame {picked[k]}{seconds}"), fontsize=8)
        return []

    animation = FuncAnimation(fig, draw, frames=len(picked), blit=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.gif"
        animation.save(path, writer=PillowWriter(fps=max(1.0, rate)))
        return path.read_bytes()
