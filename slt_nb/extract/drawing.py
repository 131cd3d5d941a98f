"""Drawing extracted poses over the video frames they came from (extraction reports).

Shapes and skeletons come from the estimator's parts (MediaPipe Holistic's by default), so
another estimator's files are drawn by passing its `parts`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from slt_nb.errors import DataFileError
from slt_nb.formats.extraction import HOLISTIC_PARTS, PosePart
from slt_nb.formats.video import sample_clip
from slt_nb.layouts import Segment
from slt_nb.plotting import literal_text


def part_segment(part: PosePart) -> Segment:
    """A segment for drawing one part's points with plotting.draw_segment (pixel x, y per point)."""
    return Segment(part.key, part.skeleton, 0)


def pixel_points(arrays: dict[str, np.ndarray], row: int, width: int, height: int, min_visibility: float = 0.5,
                 parts: tuple[PosePart, ...] = HOLISTIC_PARTS) -> dict[str, np.ndarray]:
    """One frame's parts as (N, 2) pixel coordinates; undetected or unseen points are (0, 0)."""
    points = {}
    for part in parts:
        xy = arrays[part.key][row, :, :2] * np.array([width, height], np.float32)
        keep = np.full(len(xy), bool(arrays[part.flag][row]))
        if part.channels == 4:  # x, y, z, visibility: off-screen legs have low visibility
            keep &= arrays[part.key][row, :, 3] >= min_visibility
        points[part.key] = np.where(keep[:, None], xy, 0.0)
    return points


def draw_poses_on_frame(ax, image: np.ndarray, arrays: dict[str, np.ndarray], row: int,
                        title: str | None = None, parts: tuple[PosePart, ...] = HOLISTIC_PARTS) -> int:
    """Show a video frame with its pose and hands drawn over it; returns limb lines drawn."""
    from slt_nb.plotting import draw_segment

    height, width = image.shape[:2]
    ax.imshow(image)
    drawn = 0
    for part in parts:
        pts = pixel_points(arrays, row, width, height, parts=(part,))[part.key]
        drawn += draw_segment(ax, part_segment(part), pts, label=part.key.replace("_", " "))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    if title:
        ax.set_title(literal_text(title), fontsize=8)
    return drawn


def overlay_grid(video_path: str | Path, arrays: dict[str, np.ndarray], frame_start: int = 1, frame_end: int = -1,
                 rows_to_show: int = 8, cols: int = 4, title: str | None = None, size: float = 2.4,
                 parts: tuple[PosePart, ...] = HOLISTIC_PARTS):
    """Sampled video frames with their extracted pose and hands drawn over them; returns the Figure."""
    import matplotlib.pyplot as plt

    indices = arrays["frame_indices"]
    clip = sample_clip(video_path, len(indices), frame_start, frame_end)
    if not np.array_equal(clip.frame_indices, indices):
        raise DataFileError(f"{video_path}: the saved frame_indices {indices.tolist()} are not this video's "
                             f"sampling {clip.frame_indices.tolist()}")
    rows = np.unique(np.linspace(0, len(indices) - 1, min(rows_to_show, len(indices))).round().astype(int))
    n_rows = -(-len(rows) // cols)
    aspect = clip.height / clip.width
    fig, axes = plt.subplots(n_rows, cols, figsize=(cols * size, n_rows * (size * aspect + 0.35) + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows):
        seen = [p.key.replace("left_hand", "LH").replace("right_hand", "RH") for p in parts if arrays[p.flag][row]]
        draw_poses_on_frame(ax, clip.frames[row], arrays, row, parts=parts,
                            title=f"frame {indices[row]}: {', '.join(seen) or 'nothing'}")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower right", fontsize=7, markerscale=2)
    if title:
        fig.suptitle(literal_text(title), fontsize=9)
    fig.tight_layout()
    return fig
