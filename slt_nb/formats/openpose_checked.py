"""OpenPose frames read value by value: the strict path for frames the fast reader does not take.

`openpose.read_openpose_frames` parses well-formed frames with simdjson into buffers of doubles.
A frame with anything unusual in it (null, a string or boolean where a number belongs, a person
that is not an object, an array of the wrong length, an integer beyond 64 bits) is read here
instead, with orjson, so the error names the file, the array, the point and what was found.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import orjson

from slt_nb.errors import ClipError
from slt_nb.layouts import BODY_25, OPENPOSE_134, OPENPOSE_HAND_21

# A keypoint value (pixels or confidence) this large is no detection but a corrupt file: 50 widths
# of a 1920x1080 frame. Such a frame, like one with null, NaN or infinite values, is zeroed.
ABSURD_VALUE = 1e5

# (JSON key, points) in the order of OPENPOSE_134's segments.
PARTS = (
    ("pose_keypoints_2d", BODY_25.size),
    ("hand_left_keypoints_2d", OPENPOSE_HAND_21.size),
    ("hand_right_keypoints_2d", OPENPOSE_HAND_21.size),
)
POINTS = sum(n for _, n in PARTS)
assert POINTS * 2 == OPENPOSE_134.width
PER_FRAME = POINTS * 3  # x, y, confidence


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
    other_people_refused: int = 0  # frames where a person who is not the signer held values the reader refuses
    # What was refused, one line per frame (file, person, array, point, value): nothing refused silently.
    refused: list[str] = field(default_factory=list)

    def add(self, other: "FrameCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "refused"}


def body_confidence(person: dict) -> float:
    """Total body confidence, for picking the signer; values that are not numbers count nothing."""
    pose = person.get("pose_keypoints_2d")
    if not isinstance(pose, list):
        return 0.0
    return float(sum(c for c in pose[2::3] if is_number(c) and abs(c) < ABSURD_VALUE))


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked_frame(path: str, raw: bytes, counts: FrameCounts) -> tuple[np.ndarray, bool]:
    """One frame read value by value (orjson): the signer's 201 values, and whether any face had points.

    Used for the frames the fast path does not take. null becomes NaN (so the frame is zeroed
    later); a string, boolean, list or object where a number belongs, a person that is not an
    object, an empty body or an array of the wrong length is a ClipError naming the file.
    """
    raw, had_face = without_face(raw)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ClipError(f"{path}: unparsable JSON ({exc})") from None
    values: list = []
    frame_values(path, doc, counts, values)
    for j, v in enumerate(values):
        if v is not None and not is_number(v):
            key, point, axis = value_position(j)
            raise ClipError(f"{path}: {key} point {point} {axis} is {json_type(v)} {v!r:.40}; expected a number")
    return np.array([math.nan if v is None else as_float(v) for v in values], dtype=np.float64), had_face


def frame_values(path: str, doc, counts: FrameCounts, values: list) -> None:
    """Append the x,y,c values of the signer's body and hands in one frame (201 values) to values."""
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise ClipError(f"{path}: not an OpenPose frame (no 'people' list)")
    people = doc["people"]
    if not people:
        counts.empty_people += 1
        values += [0.0] * PER_FRAME
        return
    for i, person in enumerate(people):
        if type(person) is not dict:
            raise ClipError(f"{path}: people[{i}] is {json_type(person)}; expected an object of keypoint arrays")
    if len(people) > 1:
        counts.several_people += 1
        person = max(people, key=body_confidence)
        refused = [f"people[{i}] {what}" for i, other in enumerate(people) if other is not person
                   for what in refused_values(other)]
        if refused:
            counts.other_people_refused += 1
            counts.refused.append(f"{path}: {'; '.join(refused[:3])}"
                                  + (f" (and {len(refused) - 3} more)" if len(refused) > 3 else "")
                                  + "; that person is not the signer (lower body confidence) and was left out")
    else:
        person = people[0]
    for key, points in PARTS:
        part = person.get(key)
        if part is None:
            part = []
        if type(part) is not list:
            raise ClipError(f"{path}: '{key}' is {json_type(part)}; expected a list of {points * 3} numbers")
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


def refused_values(person: dict) -> list[str]:
    """What in a person's keypoint arrays the reader would refuse (not a list, wrong length, a value
    that is not a number, null): one line each, empty when the person is well formed."""
    found = []
    for key, points in PARTS:
        part = person.get(key)
        if part is None or part == []:
            continue
        if type(part) is not list:
            found.append(f"'{key}' is {json_type(part)}")
            continue
        if len(part) != points * 3:
            found.append(f"'{key}' has {len(part)} values, not {points * 3}")
        for j, v in enumerate(part[: points * 3]):
            if not is_number(v):
                found.append(f"{key} point {j // 3} {('x', 'y', 'confidence')[j % 3]} is {json_type(v)} {v!r:.40}")
    return found


def json_type(value) -> str:
    """How a JSON value would be described to someone reading the file."""
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number",
             float: "a number"}
    return names.get(type(value), type(value).__name__)


FACE_KEY = b'"face_keypoints_2d":['


def without_face(raw: bytes) -> tuple[bytes, bool]:
    """The frame's JSON with every face array emptied, and whether any face had points.

    The export does not use the 70 face points; the checked path need not look at them. Only
    the face arrays' insides are skipped: the rest of the document is still parsed strictly,
    and a file cut off inside a face array has no closing bracket, so it fails as unparsable.
    """
    i = raw.find(FACE_KEY)
    if i < 0:
        return raw, False
    out, start, had_face = [], 0, False
    while i >= 0:
        body = i + len(FACE_KEY)
        j = raw.find(b"]", body)
        if j < 0:
            return raw, had_face
        # points when the array holds more than whitespace (its first byte says so, but for ' ' ...)
        had_face = had_face or (j > body and (raw[body] not in _BLANK or raw[body:j].strip() != b""))
        out.append(raw[start:body])
        start = j
        i = raw.find(FACE_KEY, j)
    out.append(raw[start:])
    return b"".join(out), had_face


_BLANK = b" \t\r\n"


def corrupt_rows(rows: np.ndarray) -> np.ndarray:
    """Rows holding a NaN (JSON null), an infinity or a value beyond ABSURD_VALUE."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(rows) < ABSURD_VALUE).all(axis=1)


def as_float(v) -> float:
    try:
        return float(v)
    except OverflowError:  # an integer beyond float range: as absurd as inf
        return math.inf


def value_position(index: int) -> tuple[str, int, str]:
    """(JSON key, point, x/y/confidence) of a value's index within one frame's 201 values."""
    for key, points in PARTS:
        if index < points * 3:
            return key, index // 3, ("x", "y", "confidence")[index % 3]
        index -= points * 3
    return "?", index, "?"

