"""OpenPose 1.3 per-frame JSON: one file per frame, one clip per folder.

A clip folder holds `<anything>_<frame number>_keypoints.json` files (How2Sign names them
`<clip>_<frame:012d>_keypoints.json`, other tools `frame_000000_keypoints.json`). Frames are
ordered by the number, never by a string sort. Each frame becomes one row of the 134-feature
layout `OPENPOSE_134` (BODY_25 + left hand + right hand, x,y interleaved, confidences dropped).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import orjson
import simdjson

from slt_nb.errors import ClipError
from slt_nb.layouts import BODY_25, OPENPOSE_134, OPENPOSE_HAND_21

# Normalised body coordinates beyond this are not jitter at the edge but a wrong frame size.
OUTSIDE_FRAME = 1.05
# A keypoint value (pixels or confidence) this large is no detection but a corrupt file: 50 widths
# of a 1920x1080 frame. Such a frame, like one with null, NaN or infinite values, is zeroed.
ABSURD_VALUE = 1e5
FRAME_FILE = re.compile(r"(\d+)_keypoints\.json$")

# (JSON key, points) in the order of OPENPOSE_134's segments.
_PARTS = (
    ("pose_keypoints_2d", BODY_25.size),
    ("hand_left_keypoints_2d", OPENPOSE_HAND_21.size),
    ("hand_right_keypoints_2d", OPENPOSE_HAND_21.size),
)
_POINTS = sum(n for _, n in _PARTS)
assert _POINTS * 2 == OPENPOSE_134.width


@dataclass
class FrameCounts:
    """What a clip's frames contained that is worth knowing but is not an error."""

    frames: int = 0
    empty_people: int = 0  # "people": [] -> zero row
    several_people: int = 0  # kept the person with the highest total body confidence
    no_left_hand: int = 0  # hand not estimated (empty list) -> zeros
    no_right_hand: int = 0
    no_face: int = 0
    outside_frame: int = 0  # frames with a body point beyond the frame size (wrong width/height?)
    zeroed_frames: int = 0  # frames holding null, non-finite or absurd values: written as zeros

    def add(self, other: "FrameCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class FrameFiles:
    """A clip folder's frame files in frame order, with any holes in the numbering."""

    directory: str
    paths: list[str]
    numbers: list[int]
    gaps: list[tuple[int, int]] = field(default_factory=list)  # inclusive missing ranges

    def describe_gaps(self) -> str:
        return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.gaps)


def list_frame_files(directory: str) -> FrameFiles:
    """The `*_keypoints.json` files of one clip folder, ordered by frame number."""
    numbered = []
    try:
        entries = os.scandir(directory)
    except FileNotFoundError:
        what = "dangling symbolic link" if os.path.islink(directory) else "keypoint folder not found"
        raise ClipError(f"{directory}: {what}; expected a folder of *_keypoints.json files") from None
    except NotADirectoryError:
        raise ClipError(f"{directory}: expected a folder of *_keypoints.json files, found a file") from None
    except OSError as exc:  # a symlink loop, no permission, an I/O error: this clip only
        raise ClipError(f"{directory}: cannot list the keypoint folder: {exc.strerror or exc}") from None
    with entries:
        for entry in entries:
            m = FRAME_FILE.search(entry.name)
            if m:
                numbered.append((int(m.group(1)), entry.path))
    if not numbered:
        raise ClipError(f"{directory}: no *_keypoints.json frame files")
    numbered.sort()
    numbers = [n for n, _ in numbered]
    for (a, pa), (b, pb) in zip(numbered, numbered[1:]):
        if a == b:
            raise ClipError(f"{directory}: two files claim frame {a}: {os.path.basename(pa)} and {os.path.basename(pb)}")
    gaps = [(a + 1, b - 1) for a, b in zip(numbers, numbers[1:]) if b - a > 1]
    if numbers[0] > 0:
        gaps.insert(0, (0, numbers[0] - 1))
    return FrameFiles(directory, [p for _, p in numbered], numbers, gaps)


def _body_confidence(person: dict) -> float:
    """Total body confidence, for picking the signer; values that are not numbers count nothing."""
    pose = person.get("pose_keypoints_2d")
    if not isinstance(pose, list):
        return 0.0
    return float(sum(c for c in pose[2::3] if _is_number(c) and abs(c) < ABSURD_VALUE))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# zero x,y,c for n points, as doubles: what a missing person or hand contributes
_ZERO_DOUBLES = {n: bytes(8 * 3 * n) for n in {_POINTS, *(n for _, n in _PARTS)}}
_PER_FRAME = _POINTS * 3


class _NotSimple(Exception):
    """A frame the fast path does not take; the checked path reads it and names what is wrong."""


def _doubles(array, values: int) -> bytes:
    """A simdjson array of exactly `values` numbers as doubles, without a Python float per value."""
    try:
        buffer = array.as_buffer(of_type="d")
    except (TypeError, AttributeError):  # null, a string, a boolean, an object among the values
        raise _NotSimple from None
    if memoryview(buffer).nbytes != 8 * values:  # as_buffer flattens nested lists: [1, [2, 3]] is not 2 numbers
        raise _NotSimple
    return buffer


def _sane_confidence(pose: bytes) -> float:
    c = np.frombuffer(pose, dtype=np.float64)[2::3]
    return float(c[np.abs(c) < ABSURD_VALUE].sum())  # an absurd value never picks the signer


def _fast_frame(parser, raw: bytes) -> tuple[bytes, dict[str, int], bool]:
    """The signer's 201 x,y,c doubles of a well-formed frame, the counts it adds, whether it had a face.

    simdjson parses the frame and copies each keypoint array out as one buffer of doubles
    (profiled: making a Python float per value and an array from them was half the read time).
    Anything unusual raises _NotSimple, and `_checked_frame` reads the frame instead.
    """
    try:
        doc = parser.parse(raw)
    except (ValueError, RuntimeError):  # unparsable, or an integer beyond 64 bits
        raise _NotSimple from None
    people = doc.get("people") if isinstance(doc, simdjson.Object) else None
    if not isinstance(people, simdjson.Array):
        raise _NotSimple
    if len(people) == 0:
        return _ZERO_DOUBLES[_POINTS], {"empty_people": 1}, False
    if not all(isinstance(p, simdjson.Object) for p in people):
        raise _NotSimple
    added: dict[str, int] = {}
    faces = [p.get("face_keypoints_2d") for p in people]
    had_face = any(f is not None and isinstance(f, simdjson.Array) and len(f) > 0 for f in faces)
    if len(people) > 1:
        added["several_people"] = 1
        poses = []
        for p in people:
            pose = p.get("pose_keypoints_2d")
            poses.append(_doubles(pose, BODY_25.size * 3) if isinstance(pose, simdjson.Array) and len(pose) else None)
        confidences = [_sane_confidence(b) if b is not None else 0.0 for b in poses]
        person = people[confidences.index(max(confidences))]
    else:
        person = people[0]
    chunks = []
    for key, points in _PARTS:
        part = person.get(key)
        if part is None or (isinstance(part, simdjson.Array) and len(part) == 0):
            if key == "pose_keypoints_2d":
                raise _NotSimple  # the checked path names the error
            added["no_left_hand" if key == "hand_left_keypoints_2d" else "no_right_hand"] = 1
            chunks.append(_ZERO_DOUBLES[points])
        elif isinstance(part, simdjson.Array) and len(part) == points * 3:
            chunks.append(_doubles(part, points * 3))
        else:
            raise _NotSimple
    return b"".join(chunks), added, had_face


def _checked_frame(path: str, raw: bytes, counts: FrameCounts) -> tuple[np.ndarray, bool]:
    """One frame read value by value (orjson): the signer's 201 values, and whether any face had points.

    Used for the frames the fast path does not take. null becomes NaN (so the frame is zeroed
    later); a string, boolean, list or object where a number belongs, a person that is not an
    object, an empty body or an array of the wrong length is a ClipError naming the file.
    """
    raw, had_face = _without_face(raw)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ClipError(f"{path}: unparsable JSON ({exc})") from None
    values: list = []
    _frame_values(path, doc, counts, values)
    for j, v in enumerate(values):
        if v is not None and not _is_number(v):
            key, point, axis = _where(j)
            raise ClipError(f"{path}: {key} point {point} {axis} is {_json_type(v)} {v!r:.40}; expected a number")
    return np.array([math.nan if v is None else _as_float(v) for v in values], dtype=np.float64), had_face


def _frame_values(path: str, doc, counts: FrameCounts, values: list) -> None:
    """Append the x,y,c values of the signer's body and hands in one frame (201 values) to values."""
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise ClipError(f"{path}: not an OpenPose frame (no 'people' list)")
    people = doc["people"]
    if not people:
        counts.empty_people += 1
        values += [0.0] * _PER_FRAME
        return
    for i, person in enumerate(people):
        if type(person) is not dict:
            raise ClipError(f"{path}: people[{i}] is {_json_type(person)}; expected an object of keypoint arrays")
    if len(people) > 1:
        counts.several_people += 1
        person = max(people, key=_body_confidence)
    else:
        person = people[0]
    for key, points in _PARTS:
        part = person.get(key)
        if part is None:
            part = []
        if type(part) is not list:
            raise ClipError(f"{path}: '{key}' is {_json_type(part)}; expected a list of {points * 3} numbers")
        if len(part) == points * 3:
            values += part
        elif len(part) == 0:
            # OpenPose run without this part (e.g. no --hand): not estimated, not an error.
            if key == "pose_keypoints_2d":
                raise ClipError(f"{path}: '{key}' is empty; expected {points * 3} values (x,y,c for {points} points)")
            if key == "hand_left_keypoints_2d":
                counts.no_left_hand += 1
            else:
                counts.no_right_hand += 1
            values += [0.0] * (points * 3)
        else:
            raise ClipError(
                f"{path}: '{key}' has {len(part)} values; expected {points * 3} (x,y,c for {points} points)"
            )


def _json_type(value) -> str:
    """How a JSON value would be described to someone reading the file."""
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number",
             float: "a number"}
    return names.get(type(value), type(value).__name__)


_FACE_KEY = b'"face_keypoints_2d":['


def _without_face(raw: bytes) -> tuple[bytes, bool]:
    """The frame's JSON with every face array emptied, and whether any face had points.

    The export does not use the 70 face points; the checked path need not look at them. Only
    the face arrays' insides are skipped: the rest of the document is still parsed strictly,
    and a file cut off inside a face array has no closing bracket, so it fails as unparsable.
    """
    out, start, had_face = [], 0, False
    while (i := raw.find(_FACE_KEY, start)) >= 0:
        body = i + len(_FACE_KEY)
        j = raw.find(b"]", body)
        if j < 0:
            return raw, had_face
        had_face = had_face or raw[body:j].strip() != b""
        out.append(raw[start:body])
        start = j
    if not out:
        return raw, False
    out.append(raw[start:])
    return b"".join(out), had_face


_READ_SIZE = 1 << 16  # a frame is ~3.5 KB; bigger files are read in further calls


def _read_file(path: str) -> bytes:
    """The file's bytes, or ClipError naming it (a folder, a dangling or looping link, no permission)."""
    try:
        return _read_bytes(path)
    except IsADirectoryError:
        raise ClipError(f"{path}: is a folder; expected a frame file") from None
    except FileNotFoundError:
        what = "dangling symbolic link" if os.path.islink(path) else "frame file vanished"
        raise ClipError(f"{path}: {what}; expected a frame file") from None
    except OSError as exc:
        raise ClipError(f"{path}: cannot read the frame file: {exc.strerror or exc}") from None


def _read_bytes(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) == _READ_SIZE:
            chunks = [data]
            while chunk := os.read(fd, _READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data


def read_openpose_frames(
    paths: list[str], frame_size: tuple[int, int] | None = (1280, 720)
) -> tuple[np.ndarray, FrameCounts]:
    """Rows of the 134-feature layout for the given frame files, in the given order.

    frame_size (width, height) normalises x and y to [0, 1]; None keeps pixels. Undetected
    points (0, 0) stay 0 either way. A frame holding a null, NaN, infinite or absurd
    (beyond ABSURD_VALUE) value is written as zeros and counted in `zeroed_frames`: one corrupt
    frame should not cost the clip, and Signformer would turn the value into a NaN loss. Raises
    ClipError naming the file on unparsable JSON, a keypoint array of the wrong length or a
    value that is not a number (a string, a boolean, a list).
    """
    counts = FrameCounts(frames=len(paths))
    values = np.empty((len(paths), _PER_FRAME), dtype=np.float64)
    parser = simdjson.Parser()  # one per call: its documents must be gone before it parses again
    for i, path in enumerate(paths):
        raw = _read_file(path)
        try:
            frame, added, had_face = _fast_frame(parser, raw)
            values[i] = np.frombuffer(frame, dtype=np.float64)
            for name, n in added.items():
                setattr(counts, name, getattr(counts, name) + n)
        except _NotSimple:
            values[i], had_face = _checked_frame(path, raw, counts)
        counts.no_face += not had_face
    bad_frames = _corrupt_rows(values)
    if bad_frames.any():
        values[bad_frames] = 0
        counts.zeroed_frames = int(bad_frames.sum())
    xyc = values.astype(np.float32).reshape(len(paths), _POINTS, 3)
    xy = np.ascontiguousarray(xyc[:, :, :2])
    if frame_size is not None:
        width, height = frame_size
        xy /= np.array([width, height], dtype=np.float32)
        # Hand points hanging below the image are normal OpenPose output; body points beyond
        # the frame are not, and usually mean the clip is 1920x1080, not the frame size given.
        body = xy[:, : BODY_25.size]
        counts.outside_frame = int(np.count_nonzero((body > OUTSIDE_FRAME).any(axis=(1, 2))))
    return xy.reshape(len(paths), _POINTS * 2), counts


def _corrupt_rows(rows: np.ndarray) -> np.ndarray:
    """Rows holding a NaN (JSON null), an infinity or a value beyond ABSURD_VALUE."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(rows) < ABSURD_VALUE).all(axis=1)


def _as_float(v) -> float:
    try:
        return float(v)
    except OverflowError:  # an integer beyond float range: as absurd as inf
        return math.inf


def _where(index: int) -> tuple[str, int, str]:
    """(JSON key, point, x/y/confidence) of a value's index within one frame's 201 values."""
    for key, points in _PARTS:
        if index < points * 3:
            return key, index // 3, ("x", "y", "confidence")[index % 3]
        index -= points * 3
    return "?", index, "?"


def read_openpose_clip(
    directory: str, frame_size: tuple[int, int] | None = (1280, 720)
) -> tuple[np.ndarray, FrameCounts, FrameFiles]:
    """All frames of one clip folder: (T, 134) rows, what they contained, and the frame files."""
    files = list_frame_files(directory)
    rows, counts = read_openpose_frames(files.paths, frame_size)
    return rows, counts, files


def read_openpose_faces(paths: list[str], frame_size: tuple[int, int] | None = (1280, 720)) -> np.ndarray:
    """Face x,y (T, 140) of the same person `read_openpose_frames` picks; zeros where no face.

    A frame that cannot be parsed raises ClipError naming the file, as the body reader does.
    """
    from slt_nb.layouts import OPENPOSE_FACE_70

    n = OPENPOSE_FACE_70.size
    xy = np.zeros((len(paths), n, 2), dtype=np.float32)
    for i, path in enumerate(paths):
        raw = _read_file(path)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ClipError(f"{path}: unparsable JSON ({exc})") from None
        people = doc.get("people") if isinstance(doc, dict) else None
        people = [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []
        if not people:
            continue  # the body reader has said what was wrong with this frame
        person = max(people, key=_body_confidence)
        face = person.get("face_keypoints_2d") or []
        if not isinstance(face, list):
            raise ClipError(f"{path}: 'face_keypoints_2d' is {_json_type(face)}; expected a list of {n * 3} numbers")
        if len(face) == 0:
            continue  # OpenPose run without --face
        if len(face) != n * 3:
            raise ClipError(f"{path}: 'face_keypoints_2d' has {len(face)} values; expected {n * 3} (x,y,c for {n} points)")
        bad = next((v for v in face if v is not None and not _is_number(v)), None)
        if bad is not None:
            raise ClipError(f"{path}: 'face_keypoints_2d' holds {_json_type(bad)} {bad!r:.40}; expected numbers")
        values = np.array([math.nan if v is None else _as_float(v) for v in face], dtype=np.float64)
        if _corrupt_rows(values[None])[0]:
            continue  # zeroed, as the body reader zeroes such a frame
        xy[i] = values.astype(np.float32).reshape(n, 3)[:, :2]
    if frame_size is not None:
        xy /= np.array(frame_size, dtype=np.float32)
    return xy.reshape(len(paths), n * 2)


def read_openpose_clip_with_face(
    directory: str, frame_size: tuple[int, int] | None = (1280, 720)
) -> tuple[np.ndarray, FrameCounts, FrameFiles]:
    """One clip folder as (T, 274) rows of OPENPOSE_274: the 134 export columns, then the face."""
    files = list_frame_files(directory)
    rows, counts = read_openpose_frames(files.paths, frame_size)
    faces = read_openpose_faces(files.paths, frame_size)
    return np.concatenate([rows, faces], axis=1), counts, files
