"""OpenPose 1.3 per-frame JSON: one file per frame, one clip per folder.

Each frame becomes one row of the 134-feature layout `OPENPOSE_134` (BODY_25 + left hand +
right hand, x,y interleaved, confidences dropped). This is the export's hot path: a well-formed
frame takes the fast simdjson path here (`_fast_frame`), anything unusual the checked path of
`formats.openpose_checked`, which names what is wrong. Listing a clip folder (frame numbers,
order, gaps) and reading one file live in `formats.openpose_files`.
"""
from __future__ import annotations

import math
import operator
import os

import numpy as np
import orjson
import simdjson

from slt_nb.errors import ClipError, SltNbError
from slt_nb.formats.openpose_checked import (ABSURD_VALUE, PARTS, PER_FRAME, POINTS, FrameCounts, as_float,
                                             body_confidence, checked_frame, corrupt_rows, is_number,
                                             json_type, without_face)
from slt_nb.formats.openpose_files import FrameFiles, list_frame_files, read_frame, read_frame_file
# Moved to formats.openpose_files; re-exported for code written against this module.
from slt_nb.formats.openpose_files import frame_files_fingerprint, frame_number  # noqa: F401
from slt_nb.layouts import BODY_25

# Normalised body coordinates beyond this are not jitter at the edge but a wrong frame size.
OUTSIDE_FRAME = 1.05

# zero x,y,c for n points, as doubles: what a missing person or hand contributes
_ZERO_DOUBLES = {n: bytes(8 * 3 * n) for n in {POINTS, *(n for _, n in PARTS)}}


_Object, _Array = simdjson.Object, simdjson.Array


class _NotSimple(SltNbError):
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


_LAST_BYTE = operator.itemgetter(-1)
_COLON = {ord(":")}


def _no_nested_arrays(raw: bytes) -> bool:
    """True when every '[' opens the value of a key: no array inside an array, which simdjson's
    as_buffer would flatten ([.., [0.5], ..] read as a number). Exact for the compact JSON OpenPose
    writes; whitespace after a colon or a '[' in a string sends the frame to the checked path,
    which reads it value by value. Split at '[', every piece but the last must end in ':'
    (profiled: 1.6 us a frame, against 3.3 us for counting '[' and ':[')."""
    pieces = raw.split(b"[")
    del pieces[-1]
    try:
        return set(map(_LAST_BYTE, pieces)) <= _COLON
    except IndexError:  # an empty piece: '[' right after '[' (or first), nested
        return False


def _fast_frame(parser, raw: bytes, out: list) -> tuple[dict[str, int] | None, bool]:
    """Append the signer's 201 x,y,c doubles of a well-formed frame to `out`; (counts it adds, had a face).

    simdjson parses the frame and copies each keypoint array out as one buffer of doubles
    (profiled: making a Python float per value and an array from them was half the read time).
    Anything unusual raises _NotSimple before `out` is touched, and `checked_frame` reads the
    frame instead. The face arrays' insides are cut out first, as the checked path does (the
    export never uses the 70 face points: profiled, parsing and checking the rest of the frame
    takes 5.3 us instead of 7.7).
    """
    raw, had_face = without_face(raw)
    try:
        doc = parser.parse(raw)
    except (ValueError, RuntimeError):  # unparsable, or an integer beyond 64 bits
        raise _NotSimple from None
    people = doc.get("people") if type(doc) is _Object else None
    if type(people) is not _Array:
        raise _NotSimple
    n_people = len(people)
    if not _no_nested_arrays(raw):
        raise _NotSimple  # the checked path names the list found where a number belongs
    if n_people == 0:
        out.append(_ZERO_DOUBLES[POINTS])
        return {"empty_people": 1}, had_face
    added = None
    if n_people == 1:  # the common case: no signer to choose
        person = people[0]
        if type(person) is not _Object:
            raise _NotSimple
    else:
        if not all(isinstance(p, simdjson.Object) for p in people):
            raise _NotSimple
        added = {"several_people": 1}
        confidences = []
        for p in people:
            pose = p.get("pose_keypoints_2d")
            usable = isinstance(pose, simdjson.Array) and len(pose)
            confidences.append(_sane_confidence(_doubles(pose, BODY_25.size * 3)) if usable else 0.0)
        chosen = confidences.index(max(confidences))
        person = people[chosen]
        for i, p in enumerate(people):  # the others' hands too: anything refused is named by the checked path
            if i == chosen:
                continue  # the signer's own parts are read (and checked) below
            for key, points in PARTS[1:]:
                part = p.get(key)
                if isinstance(part, simdjson.Array) and len(part):
                    _doubles(part, points * 3)
                elif part is not None and not isinstance(part, simdjson.Array):
                    raise _NotSimple
    chunks = []
    for key, points in PARTS:
        part = person.get(key)
        if type(part) is _Array and len(part) == points * 3:
            # no array nests in this document (checked above), so `points * 3` elements that
            # as_buffer takes are exactly that many doubles
            try:
                chunks.append(part.as_buffer(of_type="d"))
            except (TypeError, AttributeError):  # null, a string, a boolean, an object among the values
                raise _NotSimple from None
        elif part is None or (isinstance(part, simdjson.Array) and len(part) == 0):
            if key == "pose_keypoints_2d":
                raise _NotSimple  # the checked path names the error
            added = added or {}
            added["no_left_hand" if key == "hand_left_keypoints_2d" else "no_right_hand"] = 1
            chunks.append(_ZERO_DOUBLES[points])
        else:
            raise _NotSimple
    out.extend(chunks)
    return added, had_face


def read_openpose_frames(
    paths: list[str], frame_size: tuple[int, int] | None = (1280, 720), with_confidence: bool = False
) -> tuple[np.ndarray, FrameCounts] | tuple[np.ndarray, FrameCounts, np.ndarray]:
    """Rows of the 134-feature layout for the given frame files, in the given order.

    frame_size (width, height) normalises x and y to [0, 1]; None keeps pixels. Undetected
    points (0, 0) stay 0 either way. A frame holding a null, NaN, infinite or absurd
    (beyond ABSURD_VALUE) value is written as zeros and counted in `zeroed_frames`: one corrupt
    frame should not cost the clip, and Signformer would turn the value into a NaN loss. Raises
    ClipError naming the file on unparsable JSON, a keypoint array of the wrong length or a
    value that is not a number (a string, a boolean, a list). `with_confidence` also returns
    each point's confidence, (T, 67) float32 (0 for zeroed frames).
    """
    xy, counts, confidence, _ = _read_frames(paths, frame_size)
    return (xy, counts, confidence) if with_confidence else (xy, counts)


def _read_frames(paths: list[str], frame_size: tuple[int, int] | None, files: FrameFiles | None = None):
    """(T, 134) rows, counts, (T, 67) confidences and the files' (bytes, newest mtime_ns).

    With `files` (a listed folder, whose `paths` these are) each file is opened by name in the
    folder, opened once for the clip.
    """
    dir_fd = None
    if files is not None and files.names is not None:
        try:
            dir_fd = os.open(files.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            raise ClipError(f"{files.directory}: cannot open the keypoint folder: {exc.strerror or exc}") from None
    try:
        return _read_opened(paths, frame_size, files.names if dir_fd is not None else paths, dir_fd)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _read_opened(paths: list[str], frame_size: tuple[int, int] | None, names: list[str], dir_fd: int | None):
    counts = FrameCounts(frames=len(paths))
    chunks: list = []  # every frame's doubles, joined once for the clip
    added_counts: dict[str, int] = {}
    no_face = size = newest = 0
    parser = simdjson.Parser()  # one per call: its documents must be gone before it parses again
    fast, read = _fast_frame, read_frame  # locals: looked up once a clip, not once a frame
    for path, name in zip(paths, names):
        raw, info = read(path, name, dir_fd)
        size += info.st_size
        if info.st_mtime_ns > newest:
            newest = info.st_mtime_ns
        try:
            added, had_face = fast(parser, raw, chunks)
            if added:
                for what, n in added.items():
                    added_counts[what] = added_counts.get(what, 0) + n
        except _NotSimple:
            frame, had_face = checked_frame(path, raw, counts)
            chunks.append(frame.tobytes())
        if not had_face:
            no_face += 1
    for name, n in added_counts.items():
        setattr(counts, name, getattr(counts, name) + n)
    counts.no_face += no_face
    values = np.frombuffer(b"".join(chunks), dtype=np.float64).reshape(len(paths), PER_FRAME)
    # the whole clip at once first (NaN fails both comparisons); rows only when something is off
    clean = values.size == 0 or (values.max() < ABSURD_VALUE and values.min() > -ABSURD_VALUE)
    if not clean and (bad_frames := corrupt_rows(values)).any():
        values = values.copy()  # frombuffer's array is read-only
        values[bad_frames] = 0
        counts.zeroed_frames = int(bad_frames.sum())
    xyc = values.astype(np.float32).reshape(len(paths), POINTS, 3)
    xy = np.ascontiguousarray(xyc[:, :, :2])
    if frame_size is not None:
        width, height = frame_size
        xy /= np.array([width, height], dtype=np.float32)
        # Hand points hanging below the image are normal OpenPose output; body points beyond
        # the frame are not, and usually mean the clip is 1920x1080, not the frame size given.
        body = xy[:, : BODY_25.size]
        counts.outside_frame = int(np.count_nonzero((body > OUTSIDE_FRAME).any(axis=(1, 2))))
    return xy.reshape(len(paths), POINTS * 2), counts, np.ascontiguousarray(xyc[:, :, 2]), (size, newest)


def read_openpose_clip(
    directory: str, frame_size: tuple[int, int] | None = (1280, 720), with_confidence: bool = False
) -> tuple:
    """All frames of one clip folder: (T, 134) rows, what they contained, the frame files
    (and with `with_confidence` the (T, 67) confidences last).

    The frame files' `fingerprint` is set from the reads themselves, equal to
    `frame_files_fingerprint(directory)` while nothing changes.
    """
    files = list_frame_files(directory)
    try:
        folder_mtime = os.stat(directory).st_mtime_ns
    except OSError as exc:
        raise ClipError(f"{directory}: cannot stat the keypoint folder: {exc.strerror or exc}") from None
    xy, counts, confidence, (size, newest) = _read_frames(files.paths, frame_size, files)
    files.fingerprint = [len(files.paths), size, max(newest, folder_mtime)]
    return (xy, counts, files, confidence) if with_confidence else (xy, counts, files)


def read_openpose_faces(paths: list[str], frame_size: tuple[int, int] | None = (1280, 720),
                        with_confidence: bool = False):
    """Face x,y (T, 140) of the same person `read_openpose_frames` picks; zeros where no face.

    A frame that cannot be parsed raises ClipError naming the file, as the body reader does.
    `with_confidence` also returns each face point's confidence, (T, 70) (0 where no face).
    """
    from slt_nb.layouts import OPENPOSE_FACE_70

    n = OPENPOSE_FACE_70.size
    xy = np.zeros((len(paths), n, 2), dtype=np.float32)
    confidence = np.zeros((len(paths), n), dtype=np.float32)
    for i, path in enumerate(paths):
        raw = read_frame_file(path)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ClipError(f"{path}: unparsable JSON ({exc})") from None
        people = doc.get("people") if isinstance(doc, dict) else None
        people = [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []
        if not people:
            continue  # the body reader has said what was wrong with this frame
        person = max(people, key=body_confidence)
        face = person.get("face_keypoints_2d") or []
        if not isinstance(face, list):
            raise ClipError(f"{path}: 'face_keypoints_2d' is {json_type(face)}; expected a list of {n * 3} numbers")
        if len(face) == 0:
            continue  # OpenPose run without --face
        if len(face) != n * 3:
            raise ClipError(f"{path}: 'face_keypoints_2d' has {len(face)} values; expected {n * 3} (x,y,c for {n} points)")
        bad = next((v for v in face if v is not None and not is_number(v)), None)
        if bad is not None:
            raise ClipError(f"{path}: 'face_keypoints_2d' holds {json_type(bad)} {bad!r:.40}; expected numbers")
        values = np.array([math.nan if v is None else as_float(v) for v in face], dtype=np.float64)
        if corrupt_rows(values[None])[0]:
            continue  # zeroed, as the body reader zeroes such a frame
        xyc = values.astype(np.float32).reshape(n, 3)
        xy[i], confidence[i] = xyc[:, :2], xyc[:, 2]
    if frame_size is not None:
        xy /= np.array(frame_size, dtype=np.float32)
    if with_confidence:
        return xy.reshape(len(paths), n * 2), confidence
    return xy.reshape(len(paths), n * 2)


def read_openpose_clip_with_face(
    directory: str, frame_size: tuple[int, int] | None = (1280, 720), with_confidence: bool = False
) -> tuple:
    """One clip folder as (T, 274) rows of OPENPOSE_274: the 134 export columns, then the face
    (and with `with_confidence` the (T, 137) confidences last, in the same point order)."""
    files = list_frame_files(directory)
    if not with_confidence:
        rows, counts = read_openpose_frames(files.paths, frame_size)
        faces = read_openpose_faces(files.paths, frame_size)
        return np.concatenate([rows, faces], axis=1), counts, files
    rows, counts, confidence = read_openpose_frames(files.paths, frame_size, with_confidence=True)
    faces, face_confidence = read_openpose_faces(files.paths, frame_size, with_confidence=True)
    return (np.concatenate([rows, faces], axis=1), counts, files,
            np.concatenate([confidence, face_confidence], axis=1))
