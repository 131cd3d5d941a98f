"""Per-frame model inputs from an extraction's arrays: pose points, augmentation, video frames.

- pose: the points of every part of the pose estimator's layout (`POSE_PARTS`, MediaPipe
  Holistic's: 33 pose + 2 x 21 hand points), x,y,z, optionally centred on the shoulders and
  scaled by shoulder width, undetected parts zeroed, plus one detected flag per part and frame;
  a frame with nothing detected is masked like padding.
- features: the CNN embeddings as stored (checked by `check_feature_arrays`).
- video: RGB frames decoded from the video, sampled to num_frames, resized.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.errors import DataFileError, VideoError
from slt_nb.formats.extraction import HOLISTIC_PARTS

# The parts training reads from a pose extraction: the first is the body, whose shoulders
# normalise the clip. Everything below derives from them.
POSE_PARTS = HOLISTIC_PARTS
POSE_POINTS = sum(p.skeleton.size for p in POSE_PARTS)               # 75 for Holistic
POSE_FLAGS = len(POSE_PARTS)                                         # one detected flag per part


def pose_input_dim(parts=POSE_PARTS) -> int:
    """Width of one frame of pose input: x, y, z of every point plus one detected flag per part."""
    return sum(p.skeleton.size for p in parts) * 3 + len(parts)


POSE_INPUT_DIM = pose_input_dim()                                    # 228 for Holistic


@dataclass
class Augmentation:
    """Pose augmentation (training split only; off unless `enabled`)."""

    enabled: bool = False
    rotation_deg: float = 10.0   # uniform in +-, in the image plane about the body centre
    scale: float = 0.1           # uniform factor in 1 +- scale
    shift: float = 0.05          # uniform offset in +-, in normalised (or shoulder-width) units
    frame_drop: float = 0.1      # probability of dropping each frame (at least 2 frames kept)


# -- pose -> frame tensors ---------------------------------------------------------------------

def pose_points(arrays: dict, parts=POSE_PARTS) -> tuple[np.ndarray, np.ndarray]:
    """Contract arrays -> points (F, POSE_POINTS, 3) x,y,z and detected flags (F, parts), in part order."""
    points = np.concatenate([arrays[p.key][..., :3] for p in parts], axis=1)
    flags = np.stack([arrays[p.flag] for p in parts], axis=1)
    return points.astype(np.float32), flags.astype(bool)


def normalise_to_shoulders(points: np.ndarray, flags: np.ndarray, parts=POSE_PARTS) -> np.ndarray:
    """Centre each frame on the shoulder midpoint and divide by the clip's median shoulder width.

    Per-frame centring removes where the signer stands; one scale per clip (the median over
    frames with a pose) keeps a hand moving towards the camera from being rescaled away. Frames
    without a pose borrow the clip's mean centre. A clip with no pose at all is left as it is.
    x and y are in MediaPipe's width- and height-normalised units, so the scale is only as
    isotropic as the video's aspect ratio allows; the model sees the same convention everywhere.
    """
    has_pose = flags[:, 0]
    if not has_pose.any():
        return points
    body = parts[0].skeleton
    shoulders = points[:, [body.index("left_shoulder"), body.index("right_shoulder")], :2]
    centre = shoulders.mean(axis=1)                                   # (F, 2)
    centre[~has_pose] = centre[has_pose].mean(axis=0)
    width = np.linalg.norm(shoulders[has_pose, 0] - shoulders[has_pose, 1], axis=-1)
    scale = float(np.median(width))
    if not np.isfinite(scale) or scale < 1e-4:
        scale = 1.0
    out = points.copy()
    out[..., :2] -= centre[:, None, :]
    out /= scale
    return out


def augment_points(points: np.ndarray, flags: np.ndarray, aug: Augmentation, rng: np.random.Generator,
                   centre=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Random rotation, scale and shift of the x,y plane about `centre`, then random frame drop."""
    angle = np.deg2rad(rng.uniform(-aug.rotation_deg, aug.rotation_deg))
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]], dtype=np.float32) * rng.uniform(1 - aug.scale, 1 + aug.scale)
    centre = np.asarray(centre, dtype=np.float32)
    out = points.copy()
    out[..., :2] = (points[..., :2] - centre) @ rot.T + centre + rng.uniform(-aug.shift, aug.shift, 2)
    if aug.frame_drop > 0 and len(out) > 2:
        keep = rng.random(len(out)) >= aug.frame_drop
        if keep.sum() < 2:
            keep[rng.choice(len(out), 2, replace=False)] = True
        out, flags = out[keep], flags[keep]
    return out, flags


def pose_frames(arrays: dict, normalise: bool = True, aug: Augmentation | None = None,
                rng: np.random.Generator | None = None, parts=POSE_PARTS) -> tuple[np.ndarray, np.ndarray]:
    """One clip's model input: (F, POSE_INPUT_DIM) float32 frames and (F,) bool "frame has something detected"."""
    points, flags = pose_points(arrays, parts)
    if normalise:
        points = normalise_to_shoulders(points, flags, parts)
    if aug is not None and aug.enabled:
        points, flags = augment_points(points, flags, aug, rng or np.random.default_rng(),
                                       centre=(0.0, 0.0) if normalise else (0.5, 0.5))
    # a part that was not detected stays exactly zero whatever normalisation did to it
    part_of_point = np.repeat(np.arange(len(parts)), [p.skeleton.size for p in parts])
    points = points * flags[:, part_of_point][..., None]
    frames = np.concatenate([points.reshape(len(points), -1), flags.astype(np.float32)], axis=1)
    return frames.astype(np.float32), flags.any(axis=1)


def check_feature_arrays(arrays: dict, path: Path) -> None:
    """Raise DataFileError naming the file if the npz is not a (F, D) float feature file."""
    if "features" not in arrays:
        raise DataFileError(f"{path}: no 'features' array (has {sorted(arrays)})")
    feats = arrays["features"]
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise DataFileError(f"{path}: features has shape {feats.shape}, expected (frames, embed_dim)")
    if not np.isfinite(feats).all():
        raise DataFileError(f"{path}: features contain NaN or inf")


# -- video -------------------------------------------------------------------------------------

def read_video_frames(path: str | Path, num_frames: int = 16, size: int = 64) -> np.ndarray:
    """(num_frames, 3, size, size) uint8 RGB frames spread uniformly over the video.

    The video is read in order and only the wanted frames are kept (seeking is slower on short
    clips); a clip shorter than num_frames repeats frames.
    """
    import cv2

    path = Path(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoError(f"{path}: cannot be opened as a video")
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:
            raise VideoError(f"{path}: video reports no frames")
        wanted = np.linspace(0, total - 1, num_frames).round().astype(int)
        frames: dict[int, np.ndarray] = {}
        last, i = int(wanted.max()), 0
        while i <= last:
            ok, frame = cap.read()
            if not ok:
                break
            if i in set(wanted.tolist()):
                small = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
                frames[i] = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()
    if not frames:
        raise VideoError(f"{path}: no frame could be decoded")
    # containers sometimes over-report the frame count; fall back to the last decoded frame
    decoded = sorted(frames)
    out = [frames[w] if w in frames else frames[decoded[min(np.searchsorted(decoded, w), len(decoded) - 1)]]
           for w in wanted]
    return np.stack(out).transpose(0, 3, 1, 2).copy()
