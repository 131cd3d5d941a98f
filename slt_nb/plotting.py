"""Drawing keypoints: skeletons from any FeatureLayout, in image coordinates (y down)."""
from __future__ import annotations

import numpy as np

from .layouts import WRISTS, FeatureLayout, Segment

# Left and right hands always in distinct colours, body in neutral.
SEGMENT_COLOURS = {
    "body": "tab:gray", "pose": "tab:gray", "face": "tab:olive",
    "left_hand": "tab:blue", "right_hand": "tab:red",
}


def _detected(points: np.ndarray) -> np.ndarray:
    """A point at exactly (0, 0) was not detected (OpenPose and our zero fill alike)."""
    return ~np.all(points == 0, axis=-1)


def draw_segment(ax, segment: Segment, points: np.ndarray, colour: str | None = None, label: str | None = None) -> int:
    """Draw one body part's limbs and points; returns the number of limb lines drawn."""
    colour = colour or SEGMENT_COLOURS.get(segment.name, "black")
    seen = _detected(points)
    drawn = 0
    for a, b in segment.skeleton.limbs:
        if seen[a] and seen[b]:
            ax.plot(points[[a, b], 0], points[[a, b], 1], color=colour, lw=1.4, solid_capstyle="round")
            drawn += 1
    if seen.any():
        ax.scatter(points[seen, 0], points[seen, 1], s=6, color=colour, zorder=3, label=label)
    return drawn


def draw_frame(ax, layout: FeatureLayout, row: np.ndarray, title: str | None = None,
               frame_size: tuple[int, int] | None = None, bounds=None) -> int:
    """Draw one feature row (padding ignored) decoded through its layout; returns limb count."""
    row = np.asarray(row, dtype=np.float32)
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
                if _detected(bpts[wrist]) and _detected(hpts[0]):
                    ax.plot([bpts[wrist, 0], hpts[0, 0]], [bpts[wrist, 1], hpts[0, 1]],
                            color=SEGMENT_COLOURS[hand], lw=1.0, ls=":")
    finish_axes(ax, row[: layout.width], frame_size, bounds)
    if title:
        ax.set_title(title, fontsize=9)
    return drawn


def finish_axes(ax, values: np.ndarray, frame_size: tuple[int, int] | None = None, bounds=None) -> None:
    """Image coordinates (y down), the view fitted to the detected points with a margin.

    frame_size (width, height) sets the aspect for normalised coordinates, so a 16:9 frame
    is not drawn stretched; pixel coordinates are drawn 1:1.
    """
    if bounds is None:
        bounds = point_bounds(values)
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)
    elif not ax.yaxis_inverted():
        ax.invert_yaxis()
    normalised = bounds is None or max(abs(bounds[0][1]), abs(bounds[1][1])) <= 2.0
    aspect = frame_size[1] / frame_size[0] if (normalised and frame_size) else 1.0
    ax.set_aspect(aspect, adjustable="box")
    ax.tick_params(labelsize=7)


def point_bounds(values: np.ndarray, margin: float = 0.08):
    """((x0, x1), (y0, y1)) around the non-zero x,y pairs of rows (..., D), or None."""
    pts = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    pts = pts[~np.all(pts == 0, axis=1)]
    if not len(pts):
        return None
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def skeleton_grid(layout: FeatureLayout, frames: np.ndarray, indices=None, cols: int = 4,
                  title: str | None = None, size: float = 2.6, frame_size: tuple[int, int] | None = None):
    """A grid of frames of one clip, all drawn to the same scale; returns the Figure."""
    import matplotlib.pyplot as plt

    frames = np.asarray(frames)
    if indices is None:
        indices = np.linspace(0, len(frames) - 1, min(cols * 2, len(frames))).round().astype(int)
    indices = list(indices)
    rows = max(1, -(-len(indices) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 0.8), squeeze=False)
    for ax in axes.flat[len(indices):]:
        ax.axis("off")
    bounds = point_bounds(frames[indices][:, : layout.width])
    for ax, i in zip(axes.flat, indices):
        draw_frame(ax, layout, frames[i], title=f"frame {i}", frame_size=frame_size, bounds=bounds)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8, markerscale=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def length_histogram(lengths, max_sent_length: int = 400, ax=None, title: str = "Clip lengths"):
    """Histogram of clip lengths (frames) with Signformer's max_sent_length marked."""
    import matplotlib.pyplot as plt

    lengths = np.asarray(list(lengths))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    over = int((lengths > max_sent_length).sum())
    if lengths.size:
        ax.hist(lengths, bins=min(40, max(5, lengths.size)), color="tab:blue", alpha=0.8)
    ax.axvline(max_sent_length, color="tab:red", ls="--",
               label=f"max_sent_length {max_sent_length}: {over} of {lengths.size} longer (dropped in training)")
    ax.set_xlabel("frames")
    ax.set_ylabel("clips")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
