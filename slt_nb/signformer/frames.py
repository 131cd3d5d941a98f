"""Samples kept at their stored width: frames padded to Signformer's width only inside a batch.

`read_part` unpickles one part, cutting each sample to the width its export manifest's layout
names (once the columns beyond it are checked to be zero); `FrameSequence` is what the sign
field then holds, and `padding_value` is what Signformer's `+ 1e-8` makes of a padding column.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from slt_nb.errors import DataFileError

FRAME_EPSILON = 1e-8  # Signformer adds it to every stored value so that real frames are non-zero


def _torch():
    import torch

    return torch


_PADDING_VALUES: dict = {}


def padding_value(dtype):
    """What Signformer's `+ 1e-8` makes of a zero padding column, as a 0-dim tensor of `dtype`."""
    if dtype not in _PADDING_VALUES:
        torch = _torch()
        _PADDING_VALUES[dtype] = torch.zeros((), dtype=dtype) + FRAME_EPSILON
    return _PADDING_VALUES[dtype]


class FrameSequence:
    """One sample's frames as Signformer sees them, stored at the sample's real width.

    `frames` (T, width) already holds `sign + 1e-8`; columns width..feature_size are the
    export's zero padding, which Signformer would turn into 1e-8. `len()` is the frame count
    (what Signformer's filter and sort keys read); indexing and iteration give full-width
    (feature_size,) frames, exactly Signformer's per-frame tensors.
    """

    __slots__ = ("frames", "feature_size")

    def __init__(self, frames, feature_size: int):
        if frames.shape[1] > feature_size:
            raise DataFileError(f"frames of width {frames.shape[1]} do not fit feature_size {feature_size}")
        self.frames = frames
        self.feature_size = feature_size

    @property
    def width(self) -> int:
        return int(self.frames.shape[1])

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def padded(self):
        """(T, feature_size): the sample exactly as Signformer's loader holds it."""
        if self.width == self.feature_size:
            return self.frames
        torch = _torch()
        full = torch.empty((len(self), self.feature_size), dtype=self.frames.dtype)
        self.write_into(full)
        return full

    def write_into(self, out) -> None:
        """Fill out[:T] (T or more rows, feature_size columns) with this sample's frames."""
        t, w = self.frames.shape
        out[:t, :w] = self.frames
        if w < self.feature_size:
            out[:t, w:self.feature_size].fill_(padding_value(out.dtype))

    def __getitem__(self, index):
        rows = self.padded()[index]
        return list(rows.unbind(0)) if isinstance(index, slice) else rows

    def __iter__(self):
        return iter(self.padded().unbind(0))

    def __repr__(self) -> str:
        return f"FrameSequence({len(self)} frames, {self.width} of {self.feature_size} features stored)"


def manifest_for_part(path: str | os.PathLike) -> dict | None:
    """The export manifest beside a part file `{stem}.pami0.{split}.part{N}`, or None."""
    name = Path(path).name
    stem, sep, _ = name.partition(".pami0.")
    if not sep:
        return None
    candidate = Path(path).with_name(f"{stem}.manifest.json")
    if not candidate.is_file():
        return None
    with open(candidate, encoding="utf-8") as f:
        return json.load(f)


def stored_width(path: str | os.PathLike) -> int | None:
    """The real (unpadded) feature width of a part's samples, from its manifest's layout."""
    manifest = manifest_for_part(path)
    if manifest is None:
        return None
    layout = manifest.get("layout") or {}
    width = layout.get("width")
    return int(width) if width else None


def narrow_sample(sign, width: int | None) -> FrameSequence:
    """`sign + 1e-8` kept at `width` columns when the columns beyond are zeros, else in full."""
    torch = _torch()
    full = int(sign.shape[1])
    # numpy checks the strided tail about 100x faster than torch's any() on a column slice
    if (width is not None and width < full and sign.dtype == torch.float32 and sign.device.type == "cpu"
            and not np.any(sign.numpy()[:, width:])):
        return FrameSequence(sign[:, :width] + FRAME_EPSILON, full)
    return FrameSequence(sign + FRAME_EPSILON, full)


def read_part(path: str | os.PathLike, width: int | None) -> list:
    """A part's sample dicts, Signformer's format; `sign` already narrowed when width is known.

    Read through the restricted unpickler (`slt_nb.formats.safe_pickle`): nothing in a part runs,
    and each sample's frames are narrowed as they are built, so a full-width copy of a sample
    lives only while it is being read, never a whole part.
    """
    from slt_nb.formats.safe_pickle import load_samples

    def narrowed(sign):
        return narrow_sample(sign, width) if width is not None and sign.dim() == 2 else sign

    return load_samples(path, on_sign=narrowed)
