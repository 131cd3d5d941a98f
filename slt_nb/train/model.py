"""A small transformer encoder that classifies isolated signs from per-frame inputs.

Three kinds of frame input share one encoder: flattened pose keypoints (`pose`), pre-extracted
CNN embeddings (`features`) and raw RGB frames through a small CNN (`video`). Padded frames,
and frames where nothing was detected, are masked out of attention and pooling, so the
output of a clip does not depend on how much padding its batch needed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from slt_nb.errors import ParameterError

INPUT_TYPES = ("pose", "features", "video")


@dataclass
class ModelConfig:
    """The `model:` section of a training config (defaults: embed 128, 4 heads, 2 layers, MLP 256, dropout 0.1)."""

    embed_dim: int = 128
    num_heads: int = 4
    num_layers: int = 2
    ff_dim: int = 256
    dropout: float = 0.1
    input_type: str = "pose"
    pooling: str = "cls"        # "cls" (a learned class token) or "mean" (masked mean of frames)
    max_frames: int = 256       # longest clip the positional encoding covers

    def __post_init__(self):
        if self.input_type not in INPUT_TYPES:
            raise ParameterError(f"model.input_type must be one of {INPUT_TYPES}, got {self.input_type!r}")
        if self.pooling not in ("cls", "mean"):
            raise ParameterError(f"model.pooling must be 'cls' or 'mean', got {self.pooling!r}")
        if self.embed_dim % self.num_heads:
            raise ParameterError(f"model.embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")

    def to_dict(self) -> dict:
        return asdict(self)


class SinusoidalPositions(nn.Module):
    """Fixed sine/cosine positional encoding (Vaswani et al. 2017), added to frame embeddings."""

    def __init__(self, dim: int, max_len: int):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        freq = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        table = torch.zeros(max_len, dim)
        table[:, 0::2] = torch.sin(position * freq)
        table[:, 1::2] = torch.cos(position * freq[: dim // 2])
        self.register_buffer("table", table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.table.shape[0]:
            raise ParameterError(f"clip of {x.shape[1]} frames is longer than max_frames {self.table.shape[0]}")
        return x + self.table[: x.shape[1]]


class FrameCNN(nn.Module):
    """A small CNN turning each (3, H, W) frame into one embed_dim vector (the `video` input)."""

    def __init__(self, embed_dim: int, width: int = 32):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.layers = nn.Sequential(block(3, width), block(width, width * 2), block(width * 2, width * 4),
                                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width * 4, embed_dim))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        b, t = frames.shape[:2]
        # uint8 frames travel small; scaling to [0,1] happens here, on the batch
        x = frames.reshape(b * t, *frames.shape[2:]).float() / 255.0
        return self.layers(x).reshape(b, t, -1)


class SignClassifier(nn.Module):
    """Transformer encoder classifier over a clip's frames.

    forward(x, padding_mask) with x (B, T, D) for pose/features or (B, T, 3, H, W) uint8 for
    video, and padding_mask (B, T) True where a frame is padding or empty. Returns logits (B, C).
    """

    def __init__(self, config: ModelConfig, input_dim: int, num_classes: int):
        super().__init__()
        self.config, self.input_dim, self.num_classes = config, input_dim, num_classes
        d = config.embed_dim
        if config.input_type == "video":
            self.frame_encoder = FrameCNN(d)
        else:
            self.frame_encoder = nn.Sequential(nn.Linear(input_dim, d), nn.LayerNorm(d))
        self.positions = SinusoidalPositions(d, config.max_frames)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d)) if config.pooling == "cls" else None
        layer = nn.TransformerEncoderLayer(d, config.num_heads, config.ff_dim, config.dropout,
                                           batch_first=True, norm_first=True, activation="gelu")
        # nested tensors only speed up inference and change which kernels run; keep one code path
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(d, num_classes)
        if self.class_token is not None:
            nn.init.normal_(self.class_token, std=0.02)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, t = x.shape[:2]
        if padding_mask is None:
            padding_mask = torch.zeros(b, t, dtype=torch.bool, device=x.device)
        h = self.positions(self.frame_encoder(x))
        # padded frames are zeroed as well as masked, so no value from them reaches the output
        h = h.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        if self.class_token is not None:
            h = torch.cat([self.class_token.expand(b, -1, -1), h], dim=1)
            padding_mask = torch.cat([torch.zeros(b, 1, dtype=torch.bool, device=x.device), padding_mask], dim=1)
        else:
            # a clip with every frame masked would make attention rows all -inf (NaN); let it
            # attend to its (zeroed) first frame instead
            empty = padding_mask.all(dim=1)
            if empty.any():
                padding_mask = padding_mask.clone()
                padding_mask[empty, 0] = False
        h = self.encoder(self.dropout(h), src_key_padding_mask=padding_mask)
        h = self.norm(h)
        if self.class_token is not None:
            pooled = h[:, 0]
        else:
            keep = (~padding_mask).unsqueeze(-1).float()
            pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return self.head(pooled)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
