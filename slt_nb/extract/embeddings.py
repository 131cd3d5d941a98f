"""CNN frame embeddings: a small torch CNN backbone and a linear projection to `embed_dim`.

No pretrained weights can be downloaded here. With a local weights file (a state_dict saved by
`save_weights`, e.g. after training this backbone elsewhere) the embeddings are whatever that
training made them. Without one the network is randomly initialised from a fixed seed: the same
frame always gives the same vector, and frames that look alike (same person, same framing) give
nearby vectors, but nothing in it knows about hands or signs. Such embeddings are fine for
testing the pipeline, as a fixed random-feature baseline, or as input to a model that trains
on top of them; they are not semantic features and should not be compared with pretrained ones.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from slt_nb.errors import DataFileError, MissingDependency, MissingInput, ParameterError

IMAGE_SIZE = 112
# ImageNet statistics, the usual input normalisation for image CNNs (kept for weight compatibility).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency("frame embeddings need torch (pip install torch==2.13.0, see requirements.txt)") from exc
    return torch


def build_frame_embedder(embed_dim: int = 128, weights: str | Path | None = None, seed: int = 0,
                         width: int = 32):
    """The backbone + projection, in eval mode; from `weights` if given, else from `seed`."""
    torch = _torch()
    nn = torch.nn
    if embed_dim < 1:
        raise ParameterError(f"embed_dim must be positive, got {embed_dim}")

    class FrameEmbedder(nn.Module):
        """Five stride-2 conv blocks (112 px -> 4 px), global average pool, linear projection."""

        def __init__(self):
            super().__init__()
            chans = [3, width, width * 2, width * 4, width * 4, width * 8]
            blocks = []
            for cin, cout in zip(chans[:-1], chans[1:]):
                # GroupNorm, not BatchNorm: no running statistics, so an untrained network
                # behaves the same in eval mode and per frame as per batch.
                blocks += [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
                           nn.GroupNorm(8, cout), nn.ReLU(inplace=True)]
            self.backbone = nn.Sequential(*blocks)
            self.projection = nn.Linear(chans[-1], embed_dim)

        def forward(self, images):
            x = self.backbone(images)
            return self.projection(x.mean(dim=(2, 3)))

    if weights is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = FrameEmbedder()
    else:
        model = FrameEmbedder()
        path = Path(weights)
        if not path.is_file():
            raise MissingInput(f"{path}: embedding weights file not found")
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise DataFileError(f"{path}: these weights do not fit the frame embedder with embed_dim={embed_dim}, "
                                f"width={width}: {str(exc).splitlines()[0]}") from exc
    return model.eval()


def save_weights(model, path: str | Path) -> Path:
    """Save a frame embedder's state_dict atomically (the file `weights=` loads)."""
    from slt_nb.atomic import atomic_path

    torch = _torch()
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
    return path


def weights_fingerprint(model) -> str:
    """sha256 of the parameters, to tell apart outputs made by different networks."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def preprocess_frames(frames: np.ndarray, image_size: int = IMAGE_SIZE):
    """RGB uint8 (F, H, W, 3) -> normalised float tensor (F, 3, S, S), resized as a whole frame."""
    import cv2

    torch = _torch()
    # Shrink while still uint8 (area averaging, no aliasing): converting full 720p frames to
    # float first costs more than the network itself.
    small = np.stack([cv2.resize(np.ascontiguousarray(f), (image_size, image_size), interpolation=cv2.INTER_AREA)
                      for f in frames])
    x = torch.from_numpy(small).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def embed_frames(model, frames: np.ndarray, batch_size: int = 32, image_size: int = IMAGE_SIZE) -> np.ndarray:
    """(F, embed_dim) float32 embeddings of RGB uint8 frames, in batches of `batch_size`."""
    torch = _torch()
    out = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            batch = preprocess_frames(frames[start:start + batch_size], image_size)
            out.append(model(batch).float().numpy())
    if not out:
        return np.zeros((0, model.projection.out_features), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)
