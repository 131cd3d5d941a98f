"""Which points are drawn, and the view fitted around them.

A point at exactly (0, 0) is "not detected" and is never drawn; where the frames come with the
estimator's confidence, points below `min_confidence` are set to (0, 0) first (`confident`), so
every drawing function needs only the one rule. Legs are left out of view (`upper_body`), and the
view is fitted to the signer (`signer_bounds`, `point_bounds`) at the frame's aspect
(`finish_axes`), so a 16:9 frame is not drawn stretched and a guessed foot does not shrink it.
"""
from __future__ import annotations

import numpy as np

from slt_nb.errors import ParameterError
from slt_nb.layouts import FeatureLayout

# Below this confidence a point is not drawn: OpenPose renders hands from 0.2 as well, and
# MediaPipe gives legs and hips below the picture a visibility near 0.
MIN_CONFIDENCE = 0.2
# No sign-language corpus camera frames the legs: drawn, they only shrink the signer.
LOWER_BODY = ("knee", "ankle", "heel", "foot", "toe")
# The view is fitted to where signing happens: head, shoulders, arms and hands. Hips are drawn
# but not framed (a seated signer's hips, or MediaPipe's guess below the picture, only add height).
_NOT_FRAMED = LOWER_BODY + ("hip",)
# Normalised points this far outside [0, 1] are guesses (MediaPipe places legs below the image).
_FRAME_SLACK = 0.1
# A panel of a signer is never a strip: the view is widened or heightened to at least this ratio.
ASPECT_RANGE = (0.55, 1.6)


def detected(points: np.ndarray) -> np.ndarray:
    """A point at exactly (0, 0) was not detected (OpenPose and our zero fill alike)."""
    return ~np.all(points == 0, axis=-1)


def confident(layout: FeatureLayout, frames: np.ndarray, confidence: np.ndarray | None,
              min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """A copy of frames (..., D) with the points whose confidence is below min_confidence set undetected (0, 0).

    confidence is (..., points): one value per x,y pair of the layout, in column order (as
    readers give it in ClipData.confidence); None returns the frames unchanged.
    """
    frames = np.array(frames, dtype=np.float32, copy=True)
    if confidence is None or not min_confidence:
        return frames
    confidence = np.asarray(confidence, dtype=np.float32)
    points = layout.width // 2
    if confidence.shape[-1] != points or confidence.shape[:-1] != frames.shape[:-1]:
        raise ParameterError(f"layout {layout.name}: confidence of shape {confidence.shape} does not fit frames "
                             f"of shape {frames.shape} ({points} points a frame expected)")
    xy = frames[..., : layout.width].reshape(frames.shape[:-1] + (points, 2))
    xy[confidence < min_confidence] = 0
    frames[..., : layout.width] = xy.reshape(frames.shape[:-1] + (layout.width,))
    return frames


def low_confidence_count(layout: FeatureLayout, frames: np.ndarray, kept: np.ndarray) -> tuple[int, int]:
    """(points left out for low confidence, points detected) in frames before and after `confident`."""
    before = detected(np.asarray(frames, np.float32)[..., : layout.width].reshape(-1, 2))
    after = detected(kept[..., : layout.width].reshape(-1, 2))
    return int(before.sum() - after.sum()), int(before.sum())


def confidence_note(left_out: int, detected: int, min_confidence: float) -> str:
    """What the confidence threshold left out, for a title."""
    return (f"points with confidence below {min_confidence:g} not drawn "
            f"({left_out} of {detected} detected points here)")


def upper_body(layout: FeatureLayout, frames: np.ndarray, words: tuple[str, ...] = LOWER_BODY) -> np.ndarray:
    """A copy of frames (..., D) with the knees, ankles, heels and feet (points named with `words`) set
    undetected (0, 0)."""
    out = np.array(frames, dtype=np.float32, copy=True)
    for seg in layout.segments:
        for i, name in enumerate(seg.skeleton.points):
            if any(word in name for word in words):
                out[..., seg.start + 2 * i: seg.start + 2 * i + 2] = 0
    return out


def point_bounds(values: np.ndarray, margin: float = 0.08, frame_size: tuple[int, int] | None = None):
    """((x0, x1), (y0, y1)) around the non-zero x,y pairs of rows (..., D), or None.

    Coordinates that look like fractions of the frame (most points inside it, next to none left
    of or above it) are shown inside the frame (with a little slack), so legs and hips guessed
    far below the image do not shrink the signer. Anything else (pixels, shoulder widths, a
    wrong scaling) leaves out only points far from the others (beyond three interquartile
    ranges), a wild guess or a foot, so a scaling problem stays plain to see. The view is then widened or heightened
    so that, drawn at the frame's aspect (frame_size for normalised coordinates, else 1:1), its
    height is 0.55 to 1.6 times its width.
    """
    pts = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    pts = pts[~np.all(pts == 0, axis=1) & np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return None
    inside = np.all((pts >= -_FRAME_SLACK) & (pts <= 1 + _FRAME_SLACK), axis=1)
    # Fractions of the frame put nearly nothing left of or above it; shoulder units put the face
    # above the origin and one side of the body left of it.
    negative = np.any(pts < -_FRAME_SLACK, axis=1).mean()
    if inside.mean() >= 0.5 and negative < 0.1:
        pts = pts[inside]
    elif len(pts) >= 8:
        q1, q3 = np.quantile(pts, 0.25, axis=0), np.quantile(pts, 0.75, axis=0)
        fence = 3 * np.maximum(q3 - q1, 1e-6)
        near = np.all((pts >= q1 - fence) & (pts <= q3 + fence), axis=1)
        pts = pts[near] if near.any() else pts
    lo, hi = pts.min(axis=0).astype(np.float64), pts.max(axis=0).astype(np.float64)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    lo, hi = lo - pad, hi + pad
    unit = np.asarray(frame_size if (frame_size and float(np.abs(pts).max()) <= 2.0) else (1.0, 1.0), np.float64)
    width, height = (hi - lo) * unit
    low, high = ASPECT_RANGE
    centre = (lo + hi) / 2
    if height < low * width:
        half = low * width / unit[1] / 2
        lo[1], hi[1] = centre[1] - half, centre[1] + half
    elif height > high * width:
        half = height / high / unit[0] / 2
        lo[0], hi[0] = centre[0] - half, centre[0] + half
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def signer_bounds(layout: FeatureLayout, frames: np.ndarray, frame_size: tuple[int, int] | None = None,
                  margin: float = 0.08):
    """point_bounds of the points that frame a signer (all but hips, legs and feet) of rows (..., D).

    Falls back to every point when those are all undetected (a layout without a body, say).
    """
    frames = np.asarray(frames, dtype=np.float32)
    bounds = point_bounds(upper_body(layout, frames, _NOT_FRAMED)[..., : layout.width], margin, frame_size)
    return bounds if bounds is not None else point_bounds(frames[..., : layout.width], margin, frame_size)


def finish_axes(ax, values: np.ndarray, frame_size: tuple[int, int] | None = None, bounds=None) -> None:
    """Image coordinates (y down), the view fitted to the detected points with a margin.

    frame_size (width, height) sets the aspect for normalised coordinates, so a 16:9 frame
    is not drawn stretched; pixel coordinates are drawn 1:1.
    """
    from matplotlib.ticker import MaxNLocator

    if bounds is None:
        bounds = point_bounds(values, frame_size=frame_size)
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
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
