"""OpenPose 1.3 per-frame JSON: one file per frame, one clip per folder.

A clip folder holds `<anything>_<frame number>_keypoints.json` files (How2Sign names them
`<clip>_<frame:012d>_keypoints.json`, other tools `frame_000000_keypoints.json`). Frames are
ordered by the number, never by a string sort. Each frame becomes one row of the 134-feature
layout `OPENPOSE_134` (BODY_25 + left hand + right hand, x,y interleaved, confidences dropped).
"""
from __future__ import annotations

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
        raise ClipError(f"{directory}: keypoint folder not found") from None
    except NotADirectoryError:
        raise ClipError(f"{directory}: expected a folder of *_keypoints.json files, found a file") from None
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
    pose = person.get("pose_keypoints_2d") or ()
    return float(sum(pose[2::3]))


def _doubles(path: str, key: str, array):
    """A JSON array of numbers as a buffer of doubles, without a Python float per value."""
    try:
        return array.as_buffer(of_type="d")
    except (TypeError, AttributeError):
        raise ClipError(f"{path}: '{key}' holds values that are not all numbers") from None


def _body_confidence_of(path: str, person) -> float:
    pose = person.get("pose_keypoints_2d")
    if pose is None or len(pose) == 0:
        return 0.0
    return float(np.frombuffer(_doubles(path, "pose_keypoints_2d", pose), dtype=np.float64)[2::3].sum())


# zero x,y,c for n points, as doubles: what a missing person or hand contributes
_ZERO_DOUBLES = {n: bytes(8 * 3 * n) for n in {_POINTS, *(n for _, n in _PARTS)}}


def _frame_buffers(path: str, doc, counts: FrameCounts, out: list) -> bool:
    """Append the x,y,c doubles of the signer's body and hands in one parsed frame (201) to out.

    A frame with nobody in it gives zeros; with several people, the one with the highest total
    body confidence is kept. Returns whether any person in the frame had face points.
    """
    people = doc.get("people") if isinstance(doc, simdjson.Object) else None
    if not isinstance(people, simdjson.Array):
        raise ClipError(f"{path}: not an OpenPose frame (no 'people' list)")
    if len(people) == 0:
        counts.empty_people += 1
        out.append(_ZERO_DOUBLES[_POINTS])
        return False
    if len(people) > 1:
        counts.several_people += 1
        had_face = any(len(p.get("face_keypoints_2d") or ()) for p in people)
        person = people[int(np.argmax([_body_confidence_of(path, p) for p in people]))]
    else:
        person = people[0]
        face = person.get("face_keypoints_2d")
        had_face = face is not None and len(face) > 0
    for key, points in _PARTS:
        part = person.get(key)
        n = 0 if part is None else len(part)
        if n == points * 3:
            out.append(_doubles(path, key, part))
        elif n == 0:
            # OpenPose run without this part (e.g. no --hand): not estimated, not an error.
            if key == "pose_keypoints_2d":
                raise ClipError(f"{path}: '{key}' is empty; expected {points * 3} values (x,y,c for {points} points)")
            if key == "hand_left_keypoints_2d":
                counts.no_left_hand += 1
            else:
                counts.no_right_hand += 1
            out.append(_ZERO_DOUBLES[points])
        else:
            raise ClipError(
                f"{path}: '{key}' has {n} values; expected {points * 3} (x,y,c for {points} points)"
            )
    return had_face


_READ_SIZE = 1 << 16  # a frame is ~3.5 KB; bigger files are read in further calls


def _read_file(path: str) -> bytes:
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
    points (0, 0) stay 0 either way. Raises ClipError naming the file on unparsable JSON or a
    keypoint array of the wrong length.
    """
    counts = FrameCounts(frames=len(paths))
    # Parsed with simdjson, each keypoint array copied out as one buffer of doubles: no Python
    # float is made per value (profiled: building those and the array from them was half of
    # the reading time). One parser per call: its documents must be gone before it parses again.
    buffers: list = []
    parser = simdjson.Parser()
    for path in paths:
        try:
            doc = parser.parse(_read_file(path))
        except ValueError as exc:
            raise ClipError(f"{path}: unparsable JSON ({exc})") from None
        counts.no_face += not _frame_buffers(path, doc, counts, buffers)
        del doc
    values = np.frombuffer(b"".join(buffers), dtype=np.float64)
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
        with open(path, "rb") as f:
            raw = f.read()
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ClipError(f"{path}: unparsable JSON ({exc})") from None
        people = doc.get("people") if isinstance(doc, dict) else None
        if not people:
            continue
        person = max(people, key=_body_confidence)
        face = person.get("face_keypoints_2d") or []
        if len(face) == 0:
            continue  # OpenPose run without --face
        if len(face) != n * 3:
            raise ClipError(f"{path}: 'face_keypoints_2d' has {len(face)} values; expected {n * 3} (x,y,c for {n} points)")
        xy[i] = np.asarray(face, dtype=np.float32).reshape(n, 3)[:, :2]
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
