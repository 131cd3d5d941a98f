"""The same videos through two pose estimators, read and paired clip by clip (slt_nb.inspection.agreement).

- OpenPose: a folder of one clip's `*_keypoints.json` frames, or a folder of such clip folders
  (How2Sign's `openpose_output/json/`); body 25, both hands and the face 70 when present.
- MediaPipe Holistic arrays: a folder with `pose.npy` (T, 33, 3), `left_hand.npy` and
  `right_hand.npy` (T, 21, 3), optionally `face.npy` (T, 468 or 478, 3), `pose_visibility.npy`
  (T, 33) and `meta.json` (`fps`, `width`, `height`); or a folder of such clip folders; or
  LSFB-CONT's layout, `[poses/]{pose,left_hand,right_hand}/<video_id>.npy`. NaN = not detected.

Both come back as `EstimatorClip`s: x,y divided by the frame size (OpenPose's pixels divided here,
MediaPipe's are already), undetected points 0, in the estimator's own layout.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slt_nb.datasets.lsfb_files import load_session_array
from slt_nb.errors import ClipError, ParameterError
from slt_nb.formats.openpose import read_openpose_clip_with_face
from slt_nb.layouts import (MEDIAPIPE_FACE_468, MEDIAPIPE_FACE_478, MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33, OPENPOSE_274,
                            FeatureLayout, consecutive_layout)

PARTS = ("pose", "left_hand", "right_hand")
FACES = {468: MEDIAPIPE_FACE_468, 478: MEDIAPIPE_FACE_478}


@dataclass
class EstimatorClip:
    """One clip through one estimator: (T, layout width) x,y over the frame size, 0 = undetected."""

    estimator: str
    name: str
    source: str
    layout: FeatureLayout
    frames: np.ndarray
    confidence: np.ndarray | None  # (T, points): OpenPose confidence, MediaPipe pose visibility (1 elsewhere)
    frame_size: tuple[int, int]
    fps: float | None = None


@dataclass
class Pairing:
    """Clips found under both roots, by name, and what was found under one only."""

    pairs: list[tuple[str, EstimatorClip, EstimatorClip]]
    only_first: list[str] = field(default_factory=list)
    only_second: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _existing(root, what: str) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise ParameterError(f"{what}: {path} is not a folder ({'it does not exist' if not path.exists() else 'a file'})")
    return path


def read_openpose(root, frame_size) -> dict[str, EstimatorClip]:
    """Every clip under an OpenPose tree, by clip folder name (see the module doc)."""
    root = _existing(root, "openpose")
    folders = [root] if any(root.glob("*_keypoints.json")) else sorted(
        p for p in root.iterdir() if p.is_dir() and any(p.glob("*_keypoints.json")))
    if not folders:
        raise ParameterError(f"openpose: {root} holds no *_keypoints.json frames, nor clip folders of them")
    width, height = (int(v) for v in frame_size)
    clips = {}
    for folder in folders:
        rows, _, _, confidence = read_openpose_clip_with_face(str(folder), (width, height), with_confidence=True)
        clips[folder.name] = EstimatorClip("OpenPose", folder.name, str(folder), OPENPOSE_274, rows, confidence,
                                           (width, height))
    return clips


def _mediapipe_files(root: Path) -> dict[str, dict[str, Path]]:
    """Clip name -> {part: file} for the three layouts of the module doc."""
    if (root / "pose.npy").is_file():
        return {root.name: {p.stem: p for p in root.glob("*.npy")} | _meta(root)}
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "pose.npy").is_file())
    if folders:
        return {p.name: {f.stem: f for f in p.glob("*.npy")} | _meta(p) for p in folders}
    base = root / "poses" if (root / "poses" / "pose").is_dir() else root
    if (base / "pose").is_dir():
        found: dict[str, dict[str, Path]] = {}
        for part in PARTS + ("face",):
            for f in sorted((base / part).glob("*.npy")) if (base / part).is_dir() else []:
                found.setdefault(f.stem, {})[part] = f
        return found
    raise ParameterError(f"mediapipe: {root} holds no pose.npy, no clip folders with one, and no "
                         f"[poses/]pose/<video_id>.npy (LSFB-CONT's layout)")


def _meta(folder: Path) -> dict[str, Path]:
    return {"meta": folder / "meta.json"} if (folder / "meta.json").is_file() else {}


def _part(path: Path, frames: int | None, points: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(load_session_array(str(path)), dtype=np.float32)
    if arr.ndim != 3 or arr.shape[1] not in points or arr.shape[2] < 2:
        raise ClipError(f"{path}: shape {arr.shape}; expected (frames, {' or '.join(map(str, points))}, 3)")
    if frames is not None and len(arr) != frames:
        raise ClipError(f"{path}: {len(arr)} frames, but pose.npy beside it has {frames}")
    xy = arr[:, :, :2]
    return np.where(np.isnan(xy).any(axis=2, keepdims=True), np.float32(0), xy)


def read_mediapipe(root, frame_size, notes: list[str] | None = None) -> dict[str, EstimatorClip]:
    """Every clip under a MediaPipe arrays root, by clip name (see the module doc).

    A `meta.json` whose width and height differ from `frame_size` is said in `notes` (its size
    is the video's; the arrays are already divided by it).
    """
    root = _existing(root, "mediapipe")
    clips = {}
    for name, files in _mediapipe_files(root).items():
        missing = [p for p in PARTS if p not in files]
        if missing:
            raise ClipError(f"{root}: clip {name} has no {', '.join(f'{p}.npy' for p in missing)}")
        pose = _part(files["pose"], None, (33,))
        parts = [("pose", MEDIAPIPE_POSE_33, pose)] + [
            (hand, MEDIAPIPE_HAND_21, _part(files[hand], len(pose), (21,))) for hand in ("left_hand", "right_hand")]
        if "face" in files:
            face = _part(files["face"], len(pose), tuple(FACES))
            parts.append(("face", FACES[face.shape[1]], face))
        layout = consecutive_layout("mediapipe_holistic_xy" + ("_face" if "face" in files else ""),
                                    [(n, s) for n, s, _ in parts])
        confidence = np.ones((len(pose), layout.width // 2), dtype=np.float32)
        if "pose_visibility" in files:
            visibility = np.asarray(load_session_array(str(files["pose_visibility"])), dtype=np.float32)
            if visibility.shape != (len(pose), 33):
                raise ClipError(f"{files['pose_visibility']}: shape {visibility.shape}; expected ({len(pose)}, 33)")
            confidence[:, :33] = np.nan_to_num(visibility, nan=0.0)
        meta = json.loads(files["meta"].read_text(encoding="utf-8")) if "meta" in files else {}
        size = tuple(int(v) for v in frame_size)
        if meta.get("width") and (int(meta["width"]), int(meta.get("height", 0))) != size and notes is not None:
            notes.append(f"{files['meta']}: the video is {meta['width']}x{meta.get('height')}, frame_size says "
                         f"{size[0]}x{size[1]}")
        frames = np.concatenate([xy.reshape(len(xy), -1) for _, _, xy in parts], axis=1)
        clips[name] = EstimatorClip("MediaPipe", name, str(files["pose"].parent), layout, frames, confidence, size,
                                    float(meta["fps"]) if meta.get("fps") else None)
    return clips


def pair_clips(first: dict[str, EstimatorClip], second: dict[str, EstimatorClip]) -> Pairing:
    """Clips of the same name; one clip on each side is one pair whatever the names.

    Clips of different lengths are compared over the frames both have (said in `notes`).
    """
    if len(first) == 1 and len(second) == 1:
        (a,), (b,) = first.values(), second.values()
        pairs = [(a.name if a.name == b.name else f"{a.name} / {b.name}", a, b)]
        only_first, only_second = [], []
    else:
        pairs = [(name, first[name], second[name]) for name in sorted(set(first) & set(second))]
        only_first, only_second = sorted(set(first) - set(second)), sorted(set(second) - set(first))
    pairing = Pairing([], only_first, only_second)
    for name, a, b in pairs:
        if len(a.frames) != len(b.frames):
            n = min(len(a.frames), len(b.frames))
            pairing.notes.append(f"{name}: {a.estimator} has {len(a.frames)} frames, {b.estimator} {len(b.frames)}; "
                                 f"the first {n} of each are compared")
            a, b = _first(a, n), _first(b, n)
        pairing.pairs.append((name, a, b))
    return pairing


def _first(clip: EstimatorClip, n: int) -> EstimatorClip:
    confidence = None if clip.confidence is None else clip.confidence[:n]
    return EstimatorClip(clip.estimator, clip.name, clip.source, clip.layout, clip.frames[:n], confidence,
                         clip.frame_size, clip.fps)


def read_pairs(openpose, mediapipe, frame_size) -> Pairing:
    """Read both roots and pair their clips; a root with no clip in common with the other is refused."""
    notes: list[str] = []
    pairing = pair_clips(read_openpose(openpose, frame_size), read_mediapipe(mediapipe, frame_size, notes))
    pairing.notes[:0] = notes
    if not pairing.pairs:
        raise ParameterError(f"openpose {openpose} and mediapipe {mediapipe} share no clip name "
                             f"(OpenPose: {pairing.only_first[:5]}, MediaPipe: {pairing.only_second[:5]})")
    return pairing
