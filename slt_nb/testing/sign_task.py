"""Real MediaPipe pose clips in the WLASL extraction format, and a synthetic sign task built from them.

The WLASL extraction (issue 5) writes one `<split>/<video_id>.npz` per video plus an `index.csv`;
this module writes files in exactly that format from real pose sequences, so the trainer, its
tests and its benchmark run on real human motion even where no WLASL extraction exists yet.

A "sign" of the synthetic task is one distinct real pose sequence (a window of a real clip);
its samples are that sequence under random jitter, time-warp and frame drop. A classifier that
cannot separate those cannot learn WLASL either, and one that can proves the pipeline end to end.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.errors import DataFileError, MissingInput, ParameterError
from slt_nb.formats.extraction import read_class_list, save_npz, write_index
from slt_nb.layouts import MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33
from slt_nb.params import REPO_ROOT

# Real clips in the repository: two MediaPipe runs on real signing videos (data/realdata) and
# three MediaPipe Holistic .pose files from pose-format's tests (tests/data/real_pose_clips).
MEDIAPIPE_NPY_DIR = REPO_ROOT / "data" / "realdata" / "mediapipe_npy"
VENDORED_CLIPS_DIR = REPO_ROOT / "tests" / "data" / "real_pose_clips"
CLASS_LIST = REPO_ROOT / "data" / "realdata" / "wlasl_metadata" / "wlasl_class_list.txt"



@dataclass
class PoseClip:
    """One video's MediaPipe output in the extraction contract's arrays; undetected parts are zeros."""

    name: str
    pose: np.ndarray                 # (T, 33, 4) x, y, z, visibility
    pose_detected: np.ndarray        # (T,) bool
    left_hand: np.ndarray            # (T, 21, 3)
    left_hand_detected: np.ndarray   # (T,) bool
    right_hand: np.ndarray           # (T, 21, 3)
    right_hand_detected: np.ndarray  # (T,) bool

    def __len__(self) -> int:
        return len(self.pose)

    def frames(self, indices) -> "PoseClip":
        """The clip at the given frame indices (repeats allowed)."""
        idx = np.asarray(indices, dtype=np.int64)
        return PoseClip(self.name, self.pose[idx], self.pose_detected[idx], self.left_hand[idx],
                        self.left_hand_detected[idx], self.right_hand[idx], self.right_hand_detected[idx])

    def arrays(self, frame_indices) -> dict[str, np.ndarray]:
        """The npz payload of the extraction contract."""
        return {
            "frame_indices": np.asarray(frame_indices, dtype=np.int64),
            "pose": self.pose.astype(np.float32), "pose_detected": self.pose_detected.astype(bool),
            "left_hand": self.left_hand.astype(np.float32),
            "left_hand_detected": self.left_hand_detected.astype(bool),
            "right_hand": self.right_hand.astype(np.float32),
            "right_hand_detected": self.right_hand_detected.astype(bool),
        }


def _part(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN-marked (T, N, D) -> zero-filled points and a per-frame detected flag."""
    detected = ~np.isnan(points).all(axis=(1, 2))
    return np.nan_to_num(points.astype(np.float32), nan=0.0), detected


def load_mediapipe_npy_clip(folder: str | Path) -> PoseClip:
    """A data/realdata/mediapipe_npy folder (pose, pose_visibility, hands; NaN = not detected)."""
    folder = Path(folder)
    pose, pose_detected = _part(np.load(folder / "pose.npy"))
    visibility = np.nan_to_num(np.load(folder / "pose_visibility.npy").astype(np.float32))
    pose = np.concatenate([pose, visibility[..., None]], axis=-1)
    left, left_detected = _part(np.load(folder / "left_hand.npy"))
    right, right_detected = _part(np.load(folder / "right_hand.npy"))
    return PoseClip(folder.name, pose, pose_detected, left, left_detected, right, right_detected)


def clip_from_pose_file(path: str | Path) -> PoseClip:
    """A MediaPipe Holistic `.pose` file (pose-format), pixels divided back to MediaPipe's [0,1]."""
    from pose_format import Pose

    path = Path(path)
    with open(path, "rb") as f:
        pose_obj = Pose.read(f.read())
    width, height = pose_obj.header.dimensions.width, pose_obj.header.dimensions.height
    scale = np.array([width, height, 1.0], dtype=np.float32)

    def component(name: str, size: int):
        comp = pose_obj.get_components([name])
        if comp.body.data.shape[2] != size:
            raise DataFileError(f"{path}: component {name} has {comp.body.data.shape[2]} points, expected {size}")
        data = np.ma.getdata(comp.body.data)[:, 0].astype(np.float32) / scale
        mask = np.ma.getmaskarray(comp.body.data)[:, 0].all(axis=-1)   # (T, N) point missing
        conf = np.asarray(comp.body.confidence)[:, 0].astype(np.float32)
        detected = ~(mask.all(axis=1) | (conf <= 0).all(axis=1))
        data[~detected] = 0.0
        return data, detected, conf

    pose, pose_detected, visibility = component("POSE_LANDMARKS", MEDIAPIPE_POSE_33.size)
    pose = np.concatenate([pose, visibility[..., None]], axis=-1)
    pose[~pose_detected] = 0.0
    left, left_detected, _ = component("LEFT_HAND_LANDMARKS", MEDIAPIPE_HAND_21.size)
    right, right_detected, _ = component("RIGHT_HAND_LANDMARKS", MEDIAPIPE_HAND_21.size)
    return PoseClip(path.stem, pose, pose_detected, left, left_detected, right, right_detected)


def save_clip(clip: PoseClip, path: str | Path) -> None:
    """A PoseClip as an npz (the vendored fixture format: the contract's arrays, all frames)."""
    save_npz(Path(path), compressed=False, arrays=clip.arrays(np.arange(len(clip))))


def load_clip(path: str | Path) -> PoseClip:
    """An npz in the extraction contract's arrays as a PoseClip (frame_indices dropped)."""
    path = Path(path)
    with np.load(path) as z:
        return PoseClip(path.stem, z["pose"], z["pose_detected"], z["left_hand"], z["left_hand_detected"],
                        z["right_hand"], z["right_hand_detected"])


def real_clips() -> list[PoseClip]:
    """Every real MediaPipe clip in the repository, longest first."""
    clips = [load_mediapipe_npy_clip(d) for d in sorted(MEDIAPIPE_NPY_DIR.iterdir()) if (d / "pose.npy").exists()]
    clips += [load_clip(p) for p in sorted(VENDORED_CLIPS_DIR.glob("*.npz"))]
    if not clips:
        raise MissingInput(f"no real pose clips in {MEDIAPIPE_NPY_DIR} or {VENDORED_CLIPS_DIR}")
    return sorted(clips, key=len, reverse=True)


def sign_sequences(num_classes: int, window: int = 16, clips: list[PoseClip] | None = None) -> list[PoseClip]:
    """`num_classes` distinct real pose sequences: non-overlapping windows of the real clips.

    Windows are taken round-robin across clips (first window of every clip, then the second...),
    so classes come from as many different signers and videos as possible. Short clips give one
    sequence of their own length.
    """
    clips = clips if clips is not None else real_clips()
    per_clip = []
    for clip in clips:
        starts = list(range(0, max(1, len(clip) - window + 1), window)) or [0]
        per_clip.append([(clip, s) for s in starts])
    chosen = []
    for rank in range(max(len(p) for p in per_clip)):
        for windows in per_clip:
            if rank < len(windows) and len(chosen) < num_classes:
                clip, start = windows[rank]
                part = clip.frames(range(start, min(len(clip), start + window)))
                part.name = f"{clip.name}@{start}"
                chosen.append(part)
    if len(chosen) < num_classes:
        raise ParameterError(f"only {len(chosen)} distinct real sequences of {window} frames available, "
                             f"asked for {num_classes}")
    return chosen


def perturbed(clip: PoseClip, rng: np.random.Generator, num_frames: int = 16, jitter: float = 0.01,
              warp: float = 0.25, drop: float = 0.2) -> tuple[PoseClip, np.ndarray]:
    """One noisy observation of a sign: frame drop, random time-warp, resampled to num_frames, jitter.

    Returns the clip and the source frame indices it was sampled at (the extraction's
    `frame_indices`). Jitter is Gaussian noise in normalised units on detected points only.
    """
    n = len(clip)
    keep = np.flatnonzero(rng.random(n) >= drop)
    if len(keep) < 2:
        keep = np.arange(n)
    # monotone time-warp: cumulative positive steps with random speed, mapped onto the kept frames
    steps = np.clip(1.0 + rng.uniform(-warp, warp, num_frames), 0.05, None)
    pos = np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    pos = pos / pos[-1] if pos[-1] > 0 else pos
    idx = keep[np.round(pos * (len(keep) - 1)).astype(int)]
    out = clip.frames(idx)
    out.pose = out.pose.copy()
    out.left_hand, out.right_hand = out.left_hand.copy(), out.right_hand.copy()
    for points, detected in ((out.pose[..., :3], out.pose_detected), (out.left_hand, out.left_hand_detected),
                             (out.right_hand, out.right_hand_detected)):
        noise = rng.normal(0.0, jitter, points.shape).astype(np.float32)
        points += noise * detected[:, None, None]
    return out, idx


def feature_projection(embed_dim: int, seed: int = 0) -> np.ndarray:
    """A fixed random projection from a frame's pose+hands (75 x 3 values) to `embed_dim` features."""
    rng = np.random.default_rng(seed)
    width = (MEDIAPIPE_POSE_33.size + 2 * MEDIAPIPE_HAND_21.size) * 3
    return (rng.normal(0, 1, (width, embed_dim)) / np.sqrt(width)).astype(np.float32)


def write_sign_task(root: str | Path, num_classes: int = 6, per_class: dict[str, int] | None = None,
                    num_frames: int = 16, seed: int = 0, feature_dim: int | None = 128,
                    class_list: list[str] | None = None, **noise) -> dict:
    """Write the synthetic sign task as a WLASL extraction: `<root>/poses` and `<root>/features`.

    Class k is the k-th real sequence of `sign_sequences` and is given WLASL label k (gloss from
    the class list). Features (when feature_dim) are a fixed random projection of the same noisy
    pose frames, so the features input sees the same observations as the pose input. Returns
    {"pose_dir", "feature_dir", "rows", "classes"}.
    """
    root = Path(root)
    per_class = per_class or {"train": 24, "val": 8, "test": 8}
    class_list = class_list or read_class_list(CLASS_LIST)
    signs = sign_sequences(num_classes, window=num_frames)
    rng = np.random.default_rng(seed)
    projection = feature_projection(feature_dim) if feature_dim else None
    pose_dir, feature_dir = root / "poses", root / "features"
    rows = []
    for split, count in per_class.items():
        for label, sign in enumerate(signs):
            for i in range(count):
                video_id = f"{label:03d}{i:02d}{split[:2]}"
                sample, idx = perturbed(sign, rng, num_frames=num_frames, **noise)
                rel = f"{split}/{video_id}.npz"
                save_npz(pose_dir / rel, compressed=False, arrays=sample.arrays(idx))
                if projection is not None:
                    flat = np.concatenate([sample.pose[..., :3].reshape(len(idx), -1),
                                           sample.left_hand.reshape(len(idx), -1),
                                           sample.right_hand.reshape(len(idx), -1)], axis=1)
                    save_npz(feature_dir / rel, {"features": (flat @ projection).astype(np.float32),
                                                 "frame_indices": idx.astype(np.int64)}, compressed=False)
                rows.append(dict(video_id=video_id, gloss=class_list[label], label=label, split=split,
                                 frames=len(idx), path=rel))
    write_index(pose_dir, rows)
    if projection is not None:
        write_index(feature_dir, rows)
    return {"pose_dir": pose_dir, "feature_dir": feature_dir if projection is not None else None,
            "rows": rows, "classes": [s.name for s in signs]}


def main(argv: list[str] | None = None) -> int:
    """`python -m slt_nb.testing.sign_task ROOT [--classes N]`: write the synthetic task as an extraction."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("root")
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--train", type=int, default=24)
    parser.add_argument("--val", type=int, default=8)
    parser.add_argument("--test", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    task = write_sign_task(args.root, args.classes, {"train": args.train, "val": args.val, "test": args.test},
                           seed=args.seed)
    print(f"{len(task['rows'])} clips of {len(task['classes'])} real sequences -> {task['pose_dir']}, "
          f"{task['feature_dir']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
