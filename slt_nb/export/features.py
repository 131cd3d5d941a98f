"""What an exported column means: layout, scale and frame rate, the same for every corpus.

A reader returns a clip's frames in its own layout (How2Sign: OpenPose BODY_25, LSFB-CONT and
PoseFormat: MediaPipe Pose 33), divided by its own frame size, at its own frame rate. With the
default options (`seed` layout, `frame` normalisation, no `fps`, no `min_confidence`) the export
writes them as they are, byte for byte what slt-nb always wrote. The other options make exports
of different corpora mean the same thing, in this order per clip:

1. `min_confidence`: points the estimator was less sure of (OpenPose confidence, MediaPipe
   visibility where the reader has it) become undetected (0, 0).
2. `feature_layout: aligned`: points moved by name into `ALIGNED_150` (MediaPipe Pose 33 + two
   hands); points the estimator does not have stay 0 (the manifest lists which columns a
   corpus can ever fill). `feature_layout: holistic-512` or `FILE.yaml`: the same into the
   layout a layout file declares (slt_nb.layout_files).
3. `fps`: the clip resampled to a common rate. Per point and output frame: linear between the
   two source frames around it when both detect the point, else the nearest source frame (an
   undetected point is never interpolated from; if the nearest frame lacks it, it stays 0).
4. `normalize: shoulders`: in pixels (x and y on one scale whatever the aspect ratio), origin at
   the midpoint of the shoulders and unit = shoulder width, per frame; a frame lacking a
   shoulder uses the clip's median midpoint and width. Undetected points stay exactly 0.

Signformer treats a frame whose column 0 is 0 as padding (`frame[0] != 0`). Whenever the
options change anything, a frame with any detected point whose column 0 would be exactly 0 gets
`COLUMN0_GUARD` (the smallest normal float32) there instead, so it is never masked away.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np

from slt_nb.errors import ClipError, ParameterError
from slt_nb.layout_files import LayoutFile, layout_file_path, load_layout_file, shipped_layouts
from slt_nb.layouts import ALIGNED_150, FeatureLayout, PointMap, find_point, point_map

FEATURE_LAYOUTS = ("seed", "aligned")
NORMALIZATIONS = ("frame", "shoulders")
COLUMN0_GUARD = float(np.finfo(np.float32).tiny)
RESAMPLING = ("linear between the two source frames around an output frame where both detect the point, "
              "else the nearest source frame; never from an undetected point")


@dataclass(frozen=True)
class FeatureOptions:
    """The export parameters that decide what a column means (recorded in the manifest)."""

    feature_layout: str = "seed"
    normalize: str = "frame"
    fps: float | None = None
    min_confidence: float = 0.0
    # a layout file's content, so that editing the file changes the parts' resume key; not a parameter
    layout_sha256: str | None = field(default=None, repr=False)

    @classmethod
    def from_params(cls, params: dict) -> "FeatureOptions":
        layout = str(params.get("feature_layout") or cls.feature_layout).strip()
        digest = None
        if layout not in FEATURE_LAYOUTS:
            if layout_file_path(layout) is None:
                raise ParameterError(f"parameter 'feature_layout': {layout!r} is not one of {list(FEATURE_LAYOUTS)}, "
                                     f"a layout file (.yaml, .yml) or one in params/layouts/ {shipped_layouts()}")
            digest = load_layout_file(layout).sha256  # a bad file is named here, before any clip is read
        normalize = str(params.get("normalize") or cls.normalize).strip()
        if normalize not in NORMALIZATIONS:
            raise ParameterError(f"parameter 'normalize': {normalize!r} is not one of {list(NORMALIZATIONS)}")
        fps = _number(params, "fps", cls.fps)
        if fps is not None and not (0 < fps <= 1000):
            raise ParameterError(f"parameter 'fps': {fps:g} is not a frame rate (0 < fps <= 1000); null keeps each clip's own")
        conf = _number(params, "min_confidence", cls.min_confidence)
        if not 0 <= conf <= 1:
            raise ParameterError(f"parameter 'min_confidence': {conf:g} is not between 0 and 1")
        return cls(layout, normalize, fps, conf, digest)

    @property
    def identity(self) -> bool:
        return self == FeatureOptions()

    @property
    def layout_file(self) -> LayoutFile | None:
        return None if self.feature_layout in FEATURE_LAYOUTS else load_layout_file(self.feature_layout)

    def as_dict(self) -> dict:
        entry = asdict(self)
        del entry["layout_sha256"]
        return entry


def _number(params: dict, name: str, default):
    value = params.get(name)
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name!r}: {value!r} is not a number") from None


def resampled_length(frames: int, source_fps: float, target_fps: float) -> int:
    """Frames at target_fps covering the same span: output k at time k/target <= (frames-1)/source."""
    if frames <= 0:
        return 0
    ratio = Fraction(target_fps).limit_denominator(10**6) / Fraction(source_fps).limit_denominator(10**6)
    return int((frames - 1) * ratio) + 1


def resample(points: np.ndarray, detected: np.ndarray, source_fps: float, target_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, P, 2) points and (T, P) detection at source_fps -> the same at target_fps (see module doc)."""
    n = points.shape[0]
    m = resampled_length(n, source_fps, target_fps)
    ratio = Fraction(source_fps).limit_denominator(10**6) / Fraction(target_fps).limit_denominator(10**6)
    # Output frame k sits at source position k * p / q, exactly: integer part and remainder.
    scaled = np.arange(m, dtype=np.int64) * ratio.numerator
    lo = (scaled // ratio.denominator).astype(np.intp)
    w = ((scaled % ratio.denominator) / ratio.denominator).astype(np.float32)
    hi = np.minimum(lo + 1, n - 1)
    flat = points.reshape(n, -1)  # (T, 2P): x,y pairs side by side; 2-D arithmetic is much faster here
    out = flat[lo]
    out += (flat[hi] - out) * w[:, None]  # linear, kept where both frames detect the point
    both = detected[lo] & detected[hi]
    nearest = np.where(w > 0.5, hi, lo)
    np.copyto(out, flat[nearest], where=_pairs(~both))  # else the nearest frame's point, detected or 0
    out_detected = detected[nearest] | both
    np.copyto(out, 0, where=_pairs(~out_detected))
    return out.reshape(m, -1, points.shape[2]).astype(np.float32, copy=False), out_detected


def _pairs(mask: np.ndarray) -> np.ndarray:
    """(T, P) per point -> (T, 2P) per column (x and y of a point side by side)."""
    return np.repeat(mask, 2, axis=1)


def shoulder_frame(points: np.ndarray, detected: np.ndarray, left: int, right: int, clip: str) -> tuple[np.ndarray, np.ndarray]:
    """Per frame origin (T, 2) and unit (T,): shoulder midpoint and width, the clip's median where missing."""
    both = detected[:, left] & detected[:, right]
    mid = (points[:, left] + points[:, right]) / 2
    width = np.linalg.norm(points[:, left] - points[:, right], axis=1)
    good = both & (width > 0)
    if not good.any():
        raise ClipError(f"{clip}: no frame has both shoulders detected; normalize 'shoulders' needs them "
                        f"(export it with normalize 'frame', or leave it out)")
    origin = np.where(good[:, None], mid, np.median(mid[good], axis=0))
    unit = np.where(good, width, np.median(width[good]))
    return origin.astype(np.float32), unit.astype(np.float32)


def _columns(points: np.ndarray) -> np.ndarray:
    """Point indices -> their x,y column indices, side by side."""
    return (points[:, None] * 2 + np.arange(2)).ravel()


def _gather(values: np.ndarray, src: dict, dst: dict, size: int) -> np.ndarray:
    """(T, P[, 2]) -> (T, size[, 2]): source points src into places dst, the rest 0.

    As (T, P*k) rows with column indices: several times faster than indexing axis 1 of (T, P, k).
    """
    t, k = values.shape[0], (values.shape[2] if values.ndim == 3 else 1)
    out = np.zeros((t, size * k), dtype=values.dtype)
    out[:, dst[k]] = values.reshape(t, values.shape[1] * k)[:, src[k]]
    return out.reshape((t, size) + values.shape[2:])


class FeatureTransform:
    """Turns a reader's frames into exported rows under FeatureOptions (see the module doc)."""

    def __init__(self, options: FeatureOptions, layout: FeatureLayout, target: FeatureLayout | None = None):
        """`target`: map into this layout rather than the one `options` name (any non-seed layout
        option then); slt_nb.inspection.agreement maps two estimators into one with the face."""
        self.options = options
        self.source = layout
        self.file = options.layout_file if target is None else None
        aligned = target or (self.file.layout if self.file is not None else ALIGNED_150)
        self.map: PointMap | None = point_map(layout, aligned) if options.feature_layout != "seed" else None
        self.target = aligned if self.map is not None else layout
        self.shoulders = (find_point(self.target, "left_shoulder"), find_point(self.target, "right_shoulder"))
        if options.normalize == "shoulders" and None in self.shoulders:
            where = f"layout file {self.file.path}" if self.file is not None else f"layout {self.target.name}"
            raise ParameterError(f"normalize 'shoulders': {where} has no left_shoulder and right_shoulder "
                                 f"in a pose segment")
        # Mapped: work on the target points this reader can fill (and the shoulders), placed into the
        # target's columns at the end, so a wide layout (holistic-512) costs its filled points, not its width.
        self.work_shoulders, self._gather, self._place = self.shoulders, None, None
        if self.map is not None:
            shoulders = np.array([p for p in self.shoulders if p is not None], dtype=np.intp)
            kept = np.union1d(self.map.target_points, shoulders)
            src, dst = self.map.source_points, np.searchsorted(kept, self.map.target_points)
            self._gather = ({1: src, 2: _columns(src)}, {1: dst, 2: _columns(dst)}, kept.size)
            self._place = _columns(kept)
            self.work_shoulders = tuple(None if p is None else int(np.searchsorted(kept, p)) for p in self.shoulders)

    def apply(self, frames: np.ndarray, clip: str, source_fps: float | None, pixel_scale=(1.0, 1.0),
              confidence: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
        """(T, source width) -> (T', target width) float32, and counts for the manifest."""
        counts: dict[str, int] = {}
        if self.options.identity:
            return frames, counts
        t = frames.shape[0]
        points = frames.reshape(t, -1, 2).astype(np.float32)
        detected = (points[..., 0] != 0) | (points[..., 1] != 0)  # 5x faster than any(axis=2)
        if self.options.min_confidence > 0 and confidence is not None:
            low = detected & (confidence < self.options.min_confidence)
            counts["points_below_min_confidence"] = int(low.sum())
            detected = detected & ~low
            points = np.where(detected[..., None], points, 0)
        if self._gather is not None:
            points, detected = _gather(points, *self._gather), _gather(detected, *self._gather)
        if self.options.fps is not None and t > 0:
            if not source_fps:
                raise ClipError(f"{clip}: the reader knows no frame rate for this clip; cannot resample to {self.options.fps:g} fps")
            if float(source_fps) != float(self.options.fps):
                points, detected = resample(points, detected, float(source_fps), self.options.fps)
        if self.options.normalize == "shoulders" and points.shape[0]:
            # points is our own copy by now (astype, map, resample); worked on as (T, 2P) rows
            n_points = points.shape[1]
            flat = points.reshape(points.shape[0], -1)
            flat *= np.tile(np.asarray(pixel_scale, dtype=np.float32), n_points)
            origin, unit = shoulder_frame(points, detected, *self.work_shoulders, clip)
            flat -= np.tile(origin, (1, n_points))
            flat /= unit[:, None]
            np.copyto(flat, 0, where=_pairs(~detected))
        rows = np.ascontiguousarray(points.reshape(points.shape[0], -1), dtype=np.float32)
        if self._place is not None:
            placed = np.zeros((rows.shape[0], self.target.width), dtype=np.float32)
            placed[:, self._place] = rows
            rows = placed
        guard = detected.any(axis=1) & (rows[:, 0] == 0) if rows.shape[0] else np.zeros(0, bool)
        if guard.any():
            rows[guard, 0] = COLUMN0_GUARD
            counts["column0_guarded_frames"] = int(guard.sum())
        return rows, counts

    def describe(self, point_confidence: str | None) -> dict:
        o = self.options
        entry = {
            **o.as_dict(),
            "layout": self.target.name,
            "coordinates": ("x,y divided by each clip's frame width and height" if o.normalize == "frame" else
                            "pixels, origin at the shoulders' midpoint, unit = shoulder width (per frame; "
                            "the clip's median where a frame lacks a shoulder)"),
            "resampling": RESAMPLING if o.fps is not None else "none: each clip at its source rate",
            "min_confidence_applies_to": (point_confidence or "nothing: this reader has no per-point confidence")
            if o.min_confidence else None,
        }
        if not o.identity:
            entry["column0_guard"] = (f"a frame with any detected point whose column 0 would be 0 gets "
                                      f"{COLUMN0_GUARD:.8g} there (float32 tiny), so Signformer's frame[0] != 0 "
                                      f"mask keeps it; undetected points are 0")
        return entry
