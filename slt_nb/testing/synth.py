"""Realistic How2Sign-layout pose trees made from real OpenPose frames.

No consecutive How2Sign sequence is public, so demo data and benchmark trees are made from real
frames: a clip of T frames is a time-warp of a real base sequence (linear interpolation between
neighbouring frames, only where both frames detected the point), plus a slow deterministic sway
of the arms and hands, plus small Gaussian jitter (about 1.5 px). Undetected points (0, 0, 0)
stay undetected. Everything is seeded by the clip name, so the same call writes the same bytes.
"""
from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import orjson

PARTS = {
    "pose_keypoints_2d": 25,
    "face_keypoints_2d": 70,
    "hand_left_keypoints_2d": 21,
    "hand_right_keypoints_2d": 21,
}
# BODY_25 arm points that sway with the hands
_LEFT_ARM, _RIGHT_ARM = (6, 7), (3, 4)


def load_base(paths: list[str]) -> dict[str, np.ndarray]:
    """Real OpenPose frames as {part: (n, points, 3)} (first person of each frame)."""
    frames = [orjson.loads(Path(p).read_bytes())["people"][0] for p in paths]
    return {k: np.array([f[k] for f in frames], dtype=np.float64).reshape(len(frames), n, 3)
            for k, n in PARTS.items()}


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def make_clip(base: dict[str, np.ndarray], length: int, name: str, jitter_px: float = 1.5) -> dict[str, np.ndarray]:
    """A (length, points, 3) array per part: time-warped, swayed and jittered real frames."""
    rng = np.random.default_rng(seed_of(name))
    n = next(iter(base.values())).shape[0]
    u = np.linspace(0.0, 1.0, length)
    warp = u + rng.uniform(-0.15, 0.15) * np.sin(np.pi * u)  # monotone for |a| < 1/pi
    pos = np.clip(warp, 0, 1) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo)[:, None, None]
    t = np.arange(length)
    period = rng.uniform(30, 70)
    out = {}
    for part, arr in base.items():
        a, b = arr[lo], arr[hi]
        both = (a[..., 2] > 0) & (b[..., 2] > 0)
        xy = np.where(both[..., None], (1 - w) * a[..., :2] + w * b[..., :2], a[..., :2])
        conf = np.where(both, (1 - w[..., 0]) * a[..., 2] + w[..., 0] * b[..., 2], a[..., 2])
        sway = np.zeros_like(xy)
        amp = rng.uniform(15, 40)
        dx = amp * np.sin(2 * np.pi * t / period)[:, None]
        dy = 0.6 * amp * np.cos(2 * np.pi * t / (period * 1.3))[:, None]
        if part == "hand_left_keypoints_2d":
            sway[..., 0], sway[..., 1] = dx, dy
        elif part == "hand_right_keypoints_2d":
            sway[..., 0], sway[..., 1] = -dx, dy
        elif part == "pose_keypoints_2d":
            for idx, sign in ((_LEFT_ARM, 1), (_RIGHT_ARM, -1)):
                for k, i in enumerate(idx):
                    f = 0.5 + 0.5 * k  # elbow moves half as much as the wrist
                    sway[:, i, 0] = sign * dx[:, 0] * f
                    sway[:, i, 1] = dy[:, 0] * f
        xy = xy + sway + rng.normal(0, jitter_px, xy.shape)
        detected = conf > 0
        xy = np.where(detected[..., None], xy, 0.0)
        out[part] = np.concatenate([xy, conf[..., None]], axis=-1)
    return out


def frame_document(clip: dict[str, np.ndarray], i: int, hands: bool = True) -> dict:
    """One frame as OpenPose 1.3 writes it (3 decimals for pixels, 6 for confidences)."""
    person = {"person_id": [-1]}
    for part in PARTS:
        if not hands and part.startswith("hand_"):
            person[part] = []
            continue
        arr = clip[part][i]
        vals = np.empty(arr.shape[0] * 3)
        vals[0::3] = np.round(arr[:, 0], 3)
        vals[1::3] = np.round(arr[:, 1], 3)
        vals[2::3] = np.round(arr[:, 2], 6)
        person[part] = [0 if v == 0 else float(v) for v in vals]
    for part in ("pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d"):
        person[part] = []
    return {"version": 1.3, "people": [person]}


def second_person(doc: dict, shift_px: float = 420.0, confidence: float = 0.35) -> dict:
    """The same frame with a bystander added first: shifted, and less confidently detected."""
    signer = doc["people"][0]
    other = {}
    for key, vals in signer.items():
        if key.endswith("_2d") and vals:
            v = list(vals)
            for j in range(0, len(v), 3):
                if v[j + 2] > 0:
                    v[j] = round(v[j] + shift_px, 3)
                    v[j + 2] = round(v[j + 2] * confidence, 6)
            other[key] = v
        else:
            other[key] = vals
    return {"version": doc["version"], "people": [other, signer]}


def frame_filename(clip: str, i: int, naming: str = "how2sign") -> str:
    if naming == "how2sign":
        return f"{clip}_{i:012d}_keypoints.json"
    return f"frame_{i:06d}_keypoints.json"


def write_clip(directory: str | os.PathLike, clip_name: str, clip: dict[str, np.ndarray], *,
               naming: str = "how2sign", hands: bool = True, empty_frames=(), two_person_frames=(),
               drop_frames=(), corrupt_frames=()) -> int:
    """Write one clip folder of per-frame JSON; returns the number of files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    length = next(iter(clip.values())).shape[0]
    written = 0
    for i in range(length):
        if i in drop_frames:
            continue
        if i in empty_frames:
            doc = {"version": 1.3, "people": []}
        else:
            doc = frame_document(clip, i, hands=hands)
            if i in two_person_frames:
                doc = second_person(doc)
        data = orjson.dumps(doc)
        if i in corrupt_frames:
            data = data[: len(data) // 2]  # a file cut off mid-write
        (directory / frame_filename(clip_name, i, naming)).write_bytes(data)
        written += 1
    return written
