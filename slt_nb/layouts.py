"""Keypoint skeletons and feature layouts: the one place that says what each column means.

Readers, padding, plots and tests all ask these objects instead of hard-coding column numbers.
Index pairs follow docs/FORMATS.md (OpenPose BODY_25, 21-point hands, MediaPipe Pose 33);
the face meshes and the OpenPose-face-to-face-mesh table follow docs/layouts.md. Layout files
(`feature_layout: holistic-512`) are read by slt_nb.layout_files into these same objects.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slt_nb.errors import DataFileError, ParameterError, UnknownName


@dataclass(frozen=True)
class Skeleton:
    """A set of named points and the limbs (index pairs) that join them."""

    name: str
    points: tuple[str, ...]
    limbs: tuple[tuple[int, int], ...]
    base: str | None = None  # a subset of another skeleton: its name, and which of its points
    kept: tuple[int, ...] | None = None

    @property
    def size(self) -> int:
        return len(self.points)

    @property
    def family(self) -> str:
        return self.base or self.name

    def index(self, point: str) -> int:
        return self.points.index(point)

    def subset(self, kept: tuple[int, ...]) -> "Skeleton":
        """These points only, in this order; limbs kept where both ends are kept."""
        if list(kept) == list(range(self.size)):
            return self
        new = {old: i for i, old in enumerate(kept)}
        limbs = tuple((new[a], new[b]) for a, b in self.limbs if a in new and b in new)
        return Skeleton(f"{self.name}[{index_ranges(kept)}]", tuple(self.points[i] for i in kept), limbs,
                        self.name, tuple(kept))


def index_ranges(indices, sep: str = ",") -> str:
    """[15, 16, 17, 20] -> "15-17,20": point indices as a layout file and the manifest write them
    (reports: `sep=", "`)."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return sep.join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


BODY_25 = Skeleton(
    "openpose_body25",
    (
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
        "left_elbow", "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
        "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
        "right_heel",
    ),
    (
        (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11),
        (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19),
        (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
    ),
)

_HAND_POINTS = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
_HAND_FINGERS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
    (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19),
    (19, 20),
)
OPENPOSE_HAND_21 = Skeleton("openpose_hand21", _HAND_POINTS, _HAND_FINGERS)

# Hand points are named <finger>_<joint>; the wrist and the edges between knuckles are the palm.
FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def hand_part(skeleton: Skeleton, point: int) -> str | None:
    """The finger a hand point belongs to, "palm" for the wrist; None for a skeleton that is no hand."""
    if "thumb_tip" not in skeleton.points:
        return None
    finger = skeleton.points[point].split("_")[0]
    return finger if finger in FINGERS else "palm"


def limb_part(skeleton: Skeleton, limb: tuple[int, int]) -> str | None:
    """The finger a hand limb draws: both ends on one finger, or wrist to the thumb's base; else "palm".

    Wrist to the other knuckles and knuckle to knuckle are palm, as a hand is usually drawn.
    None for a skeleton that is no hand.
    """
    a, b = (hand_part(skeleton, i) for i in limb)
    if a is None:
        return None
    if a == b:
        return a
    return "thumb" if {a, b} == {"palm", "thumb"} else "palm"

# MediaPipe draws the palm edges between the knuckles as well.
MEDIAPIPE_HAND_21 = Skeleton("mediapipe_hand21", _HAND_POINTS, _HAND_FINGERS + ((5, 9), (9, 13), (13, 17)))

MEDIAPIPE_POSE_33 = Skeleton(
    "mediapipe_pose33",
    (
        "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb",
        "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    (
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
        (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16),
        (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25),
        (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
    ),
)

OPENPOSE_FACE_70 = Skeleton(
    "openpose_face70",
    tuple(f"face_{i}" for i in range(70)),
    # jaw line, brows, nose bridge, nose base, eyes and lips as OpenPose draws them
    tuple((i, i + 1) for i in range(0, 16))
    + tuple((i, i + 1) for i in range(17, 21))
    + tuple((i, i + 1) for i in range(22, 26))
    + tuple((i, i + 1) for i in range(27, 30))
    + tuple((i, i + 1) for i in range(31, 35))
    + tuple((i, i + 1) for i in range(36, 41)) + ((41, 36),)
    + tuple((i, i + 1) for i in range(42, 47)) + ((47, 42),)
    + tuple((i, i + 1) for i in range(48, 59)) + ((59, 48),)
    + tuple((i, i + 1) for i in range(60, 67)) + ((67, 60),),
)

# MediaPipe Face Mesh: 468 points, 478 with the iris refinement (468-472 the right iris, centre
# first, 473-477 the left). Named by index only and drawn without limbs: the mesh's tesselation
# is no skeleton, and its contours are not needed to map or export (see docs/layouts.md).
MEDIAPIPE_FACE_468 = Skeleton("mediapipe_face468", tuple(f"face_{i}" for i in range(468)), ())
MEDIAPIPE_FACE_478 = Skeleton(
    "mediapipe_face478", tuple(f"face_{i}" for i in range(478)),
    tuple((a, b) for c in (468, 473) for a, b in ((c + 1, c + 2), (c + 2, c + 3), (c + 3, c + 4), (c + 4, c + 1))),
)

SKELETONS = {s.name: s for s in (BODY_25, OPENPOSE_HAND_21, MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33, OPENPOSE_FACE_70,
                                  MEDIAPIPE_FACE_468, MEDIAPIPE_FACE_478)}

# Where a body skeleton's wrists meet hand point 0, for drawing arms into hands.
WRISTS = {
    "openpose_body25": {"left_hand": BODY_25.index("left_wrist"), "right_hand": BODY_25.index("right_wrist")},
    "mediapipe_pose33": {
        "left_hand": MEDIAPIPE_POSE_33.index("left_wrist"),
        "right_hand": MEDIAPIPE_POSE_33.index("right_wrist"),
    },
}


@dataclass(frozen=True)
class Segment:
    """A run of columns in a feature row holding one body part's points, dims interleaved."""

    name: str
    skeleton: Skeleton
    start: int
    dims: tuple[str, ...] = ("x", "y")

    @property
    def stop(self) -> int:
        return self.start + self.skeleton.size * len(self.dims)

    def points(self, rows: np.ndarray) -> np.ndarray:
        """Columns of this segment from rows (..., D) as (..., points, dims)."""
        part = rows[..., self.start : self.stop]
        return part.reshape(part.shape[:-1] + (self.skeleton.size, len(self.dims)))


@dataclass(frozen=True)
class FeatureLayout:
    """The named segments of one exported feature row, in column order."""

    name: str
    segments: tuple[Segment, ...]

    @property
    def width(self) -> int:
        return self.segments[-1].stop if self.segments else 0

    def segment(self, name: str) -> Segment:
        for seg in self.segments:
            if seg.name == name:
                return seg
        raise UnknownName(f"layout {self.name!r} has no segment {name!r}; it has {[s.name for s in self.segments]}")

    def column_ranges(self, feature_size: int | None = None) -> dict[str, list[int]]:
        """Named [start, stop) column ranges, with the zero padding up to feature_size last."""
        ranges = {s.name: [s.start, s.stop] for s in self.segments}
        if feature_size is not None and feature_size > self.width:
            ranges["padding"] = [self.width, feature_size]
        return ranges

    def to_manifest(self, feature_size: int | None = None) -> dict:
        return {
            "name": self.name,
            "width": self.width,
            "feature_size": feature_size,
            "columns": self.column_ranges(feature_size),
            "segments": [
                {"name": s.name, "skeleton": s.skeleton.family, "start": s.start, "stop": s.stop,
                 "dims": list(s.dims),
                 **({"points": index_ranges(s.skeleton.kept)} if s.skeleton.kept is not None else {})}
                for s in self.segments
            ],
        }

    @classmethod
    def from_manifest(cls, entry: dict) -> "FeatureLayout":
        """Rebuild a layout from an export manifest's `layout` entry (`points`: a subset, layout files)."""
        segments = tuple(
            Segment(s["name"], _manifest_skeleton(entry["name"], s), s["start"], tuple(s["dims"]))
            for s in entry["segments"]
        )
        layout = cls(entry["name"], segments)
        for seg, s in zip(layout.segments, entry["segments"]):
            if seg.stop != s["stop"]:
                raise DataFileError(
                    f"layout {entry['name']!r}: segment {s['name']!r} ends at {s['stop']} in the "
                    f"manifest but its skeleton {s['skeleton']!r} implies {seg.stop}"
                )
        return layout


def _manifest_skeleton(layout: str, s: dict) -> Skeleton:
    skeleton = SKELETONS[s["skeleton"]]
    if "points" not in s:
        return skeleton
    try:
        kept = tuple(i for part in str(s["points"]).split(",") for a, _, b in [part.partition("-")]
                     for i in range(int(a), int(b or a) + 1))
        if kept and max(kept) < skeleton.size:
            return skeleton.subset(kept)
    except ValueError:
        pass
    raise DataFileError(f"layout {layout!r}: segment {s['name']!r} has points {s['points']!r}, "
                        f"not index ranges of {s['skeleton']!r} ({skeleton.size} points)")


def consecutive_layout(name: str, parts: list[tuple[str, Skeleton]]) -> FeatureLayout:
    """A layout of x,y segments one after another, in the order given."""
    segments, start = [], 0
    for seg_name, skeleton in parts:
        seg = Segment(seg_name, skeleton, start)
        segments.append(seg)
        start = seg.stop
    return FeatureLayout(name, tuple(segments))


# How2Sign seed layout: BODY_25 x,y (50) + left hand (42) + right hand (42) = 134.
OPENPOSE_134 = consecutive_layout("openpose_body25_hands_xy", [("body", BODY_25), ("left_hand", OPENPOSE_HAND_21),
                                                               ("right_hand", OPENPOSE_HAND_21)])
# LSFB-CONT seed layout: pose 33 x,y (66) + left hand (42) + right hand (42) = 150.
MEDIAPIPE_150 = consecutive_layout("mediapipe_pose33_hands_xy", [("pose", MEDIAPIPE_POSE_33),
                                   ("left_hand", MEDIAPIPE_HAND_21), ("right_hand", MEDIAPIPE_HAND_21)])
LAYOUTS = {layout.name: layout for layout in (OPENPOSE_134, MEDIAPIPE_150)}

# How2Sign as inspected, face included: the 134 export columns unchanged, then face 70 x,y = 274.
OPENPOSE_274 = consecutive_layout(
    "openpose_body25_hands_face_xy",
    [("body", BODY_25), ("left_hand", OPENPOSE_HAND_21), ("right_hand", OPENPOSE_HAND_21),
     ("face", OPENPOSE_FACE_70)],
)
LAYOUTS[OPENPOSE_274.name] = OPENPOSE_274


# --- One layout for every corpus -------------------------------------------------------------
#
# `aligned`: MediaPipe Pose 33 x,y (66) + left hand 21 x,y (42) + right hand 21 x,y (42) = 150,
# whatever estimator made the poses. A reader's own layout is mapped into it by point name, so a
# corpus with a new skeleton declares its points and gets the aligned layout for free. Both
# OpenPose and MediaPipe name points by the signer's own left and right (the person's left
# shoulder is on the image's right in a front view); tests check this on the same video
# through both estimators.
ALIGNED_150 = consecutive_layout("aligned_pose33_hands_xy", [("pose", MEDIAPIPE_POSE_33),
                                 ("left_hand", MEDIAPIPE_HAND_21), ("right_hand", MEDIAPIPE_HAND_21)])
LAYOUTS[ALIGNED_150.name] = ALIGNED_150

# Which segment of a reader's layout holds the points of a target segment (layout files too).
SEGMENT_ROLES = {"pose": ("pose", "body"), "body": ("body", "pose"), "left_hand": ("left_hand",),
                 "right_hand": ("right_hand",), "face": ("face",)}
# The same joint under another name: MediaPipe's foot index is OpenPose's big toe.
POINT_CORRESPONDENCES = {"left_foot_index": ("left_big_toe",), "right_foot_index": ("right_big_toe",),
                         "left_big_toe": ("left_foot_index",), "right_big_toe": ("right_foot_index",)}
# OpenPose face 70 (iBUG 68 order) point -> the one MediaPipe Face Mesh point at the same place,
# from PeizhiYan/Mediapipe_2_Dlib_Landmarks (docs/layouts.md). Points it averages (3, 4, 12, 27,
# 28) and the pupils 68/69 are left out: they stay unfilled rather than guessed.
_IBUG_TO_FACE_MESH = {int(o): int(m) for o, m in (pair.split(":") for pair in (
    "0:127 1:234 2:93 5:136 6:150 7:176 8:152 9:400 10:379 11:365 13:361 14:323 15:454 16:356 17:70 18:63 "
    "19:105 20:66 21:107 22:336 23:296 24:334 25:293 26:300 29:5 30:4 31:75 32:97 33:2 34:326 35:305 36:33 "
    "37:160 38:158 39:133 40:153 41:144 42:362 43:385 44:387 45:263 46:373 47:380 48:61 49:39 50:37 51:0 "
    "52:267 53:269 54:291 55:321 56:314 57:17 58:84 59:91 60:78 61:82 62:13 63:312 64:308 65:317 66:14 67:87"
).split())}
# (source skeleton, target skeleton) -> {target point: source point}, where names do not say it.
SKELETON_CORRESPONDENCES = {}
for _mesh in ("mediapipe_face468", "mediapipe_face478"):
    SKELETON_CORRESPONDENCES[("openpose_face70", _mesh)] = {f"face_{m}": f"face_{o}" for o, m in _IBUG_TO_FACE_MESH.items()}
    SKELETON_CORRESPONDENCES[(_mesh, "openpose_face70")] = {f"face_{o}": f"face_{m}" for o, m in _IBUG_TO_FACE_MESH.items()}


@dataclass(frozen=True)
class PointMap:
    """Where each point of a target layout comes from in a source layout (point indices, x,y each)."""

    source: FeatureLayout
    target: FeatureLayout
    source_points: np.ndarray  # index of the point in the source row (column // 2)
    target_points: np.ndarray
    pairs: tuple[tuple[str, str, str, str], ...]  # (target segment, point, source segment, point)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(T, source points[, k]) -> (T, target points[, k]); target points with no source are 0."""
        t, k = points.shape[0], int(np.prod(points.shape[2:], dtype=np.intp))
        out = np.zeros((t, self.target.width // 2 * k), dtype=points.dtype)
        # as (T, P*k) rows with column indices: several times faster than indexing axis 1 of (T, P, k)
        src = (self.source_points[:, None] * k + np.arange(k)).ravel()
        dst = (self.target_points[:, None] * k + np.arange(k)).ravel()
        out[:, dst] = points.reshape(t, -1)[:, src]
        return out.reshape((t, self.target.width // 2) + points.shape[2:])

    def filled_columns(self) -> list[list[int]]:
        """[start, stop) column ranges of the target this source can ever fill."""
        cols = sorted(int(c) for p in self.target_points for c in (2 * p, 2 * p + 1))
        ranges: list[list[int]] = []
        for c in cols:
            if ranges and ranges[-1][1] == c:
                ranges[-1][1] = c + 1
            else:
                ranges.append([c, c + 1])
        return ranges

    def to_manifest(self) -> dict:
        missing = [f"{seg.name}.{name}" for seg in self.target.segments for name in seg.skeleton.points
                   if (seg.name, name) not in {(a, b) for a, b, _, _ in self.pairs}]
        return {
            "from": self.source.name,
            "by": "point name (signer's own left/right)",
            "points_filled": len(self.pairs),
            "points_never_filled": missing,
            "columns_filled": self.filled_columns(),
            "renamed": {f"{t}.{tp}": f"{s}.{sp}" for t, tp, s, sp in self.pairs if tp != sp},
        }


def _point_offset(layout: FeatureLayout, segment: Segment) -> int:
    if len(segment.dims) != 2:
        raise ParameterError(f"layout {layout.name}: segment {segment.name} has dims {segment.dims}; x,y expected")
    return segment.start // 2


def point_map(source: FeatureLayout, target: FeatureLayout = ALIGNED_150) -> PointMap:
    """Map `source` into `target` by segment role and point name (see SEGMENT_ROLES, POINT_CORRESPONDENCES)."""
    src, dst, pairs = [], [], []
    by_name = {s.name: s for s in source.segments}
    for seg in target.segments:
        candidates = [by_name[n] for n in SEGMENT_ROLES.get(seg.name, (seg.name,)) if n in by_name]
        if not candidates:
            continue
        from_seg = candidates[0]
        table = SKELETON_CORRESPONDENCES.get((from_seg.skeleton.family, seg.skeleton.family))
        for i, name in enumerate(seg.skeleton.points):
            aliases = (table[name],) if table and name in table else () if table else (name,)
            for alias in aliases + POINT_CORRESPONDENCES.get(name, ()):
                if alias in from_seg.skeleton.points:
                    src.append(_point_offset(source, from_seg) + from_seg.skeleton.index(alias))
                    dst.append(_point_offset(target, seg) + i)
                    pairs.append((seg.name, name, from_seg.name, alias))
                    break
    return PointMap(source, target, np.array(src, dtype=np.intp), np.array(dst, dtype=np.intp), tuple(pairs))


def find_point(layout: FeatureLayout, name: str) -> int | None:
    """Index (column // 2) of a named point in a body segment of the layout, or None."""
    for seg in layout.segments:
        if seg.name in SEGMENT_ROLES["pose"] and name in seg.skeleton.points:
            return _point_offset(layout, seg) + seg.skeleton.index(name)
    return None
