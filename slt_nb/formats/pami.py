"""Signformer `.pami0` files: a gzip-compressed pickle of one list of sample dicts.

Signformer (like neccam/slt before it) reads a data file with `gzip.open` and one
`pickle.load`, which must return a list of `{"name", "signer", "gloss", "text", "sign"}` dicts,
`sign` a float32 torch tensor (T, D). `PartWriter` produces exactly that byte stream, but writes
it one sample at a time: the list is opened, each sample is pickled and appended as it arrives,
and the list is closed at the end. So no part, let alone a whole split, is ever held in memory.

Protocol 3 is used on purpose: its memo references carry explicit indices (BINPUT/BINGET), so
samples pickled one by one can be concatenated inside one list; protocol 4's implicit MEMOIZE
numbering would not survive that.
"""
from __future__ import annotations

import copyreg
import gzip
import hashlib
import io
import os
import pickle
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from slt_nb.atomic import temp_path_for

_PROTO = 3
# torch's own tensor pickling names each storage by its memory address, so the same data gave
# different bytes (and sha256) from run to run. float32 tensors are written instead as
# torch.Tensor(<float32 ndarray>): plain bytes, identical every time, and unpickled by any torch
# (with numpy) into the same float32 tensor, without a copy.


def _reduce_tensor(tensor):
    torch = _torch()
    if tensor.dtype != torch.float32:
        return tensor.__reduce_ex__(_PROTO)
    return torch.Tensor, (tensor.detach().cpu().contiguous().numpy(),)


def _dumps(obj) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=_PROTO)
    pickler.dispatch_table = {**copyreg.dispatch_table, _torch().Tensor: _reduce_tensor}
    pickler.dump(obj)
    return buf.getvalue()
_HEADER = pickle.PROTO + bytes([_PROTO]) + pickle.EMPTY_LIST
_BINPUT0 = pickle.BINPUT + b"\x00"
_STOP = pickle.STOP


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a core dependency
        raise ImportError(".pami0 files hold torch tensors: pip install torch==2.13.0") from exc
    return torch


def part_name(dataset: str, split: str, index: int, feature_size: int = 1024, variant: str = "") -> str:
    """`{Dataset}[-variant]-{feature_size}.pami0.{split}.part{N}`."""
    stem = f"{dataset}-{variant}" if variant else dataset
    return f"{stem}-{feature_size}.pami0.{split}.part{index}"


PART_INDEX = re.compile(r"\.part(\d+)$")


def part_index(path: str | os.PathLike) -> int:
    m = PART_INDEX.search(str(path))
    if not m:
        raise ValueError(f"{path}: not a part file (expected a name ending in .part<N>)")
    return int(m.group(1))


class _HashingFile:
    """A write-only file that feeds every byte to sha256 on its way to disk."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


@dataclass
class PartInfo:
    path: str
    samples: int
    frames: int
    bytes: int
    sha256: str


class PartWriter:
    """Write one `.pami0` part atomically, sample by sample.

    The data go to `<path>.tmp-<pid>` and are renamed onto `path` only by `close()`; an
    exception inside a `with` block removes the temp file and leaves no part behind.
    Compression, hashing and disk writes run on a background thread (zlib and hashlib release
    the GIL), overlapping with the caller reading the next clip; at most `queue_size` pickled
    samples wait in between, so memory stays bounded.
    """

    def __init__(self, path: str | os.PathLike, feature_size: int = 1024, compresslevel: int = 1,
                 queue_size: int = 4):
        self.path = str(path)
        self.feature_size = feature_size
        self._torch = _torch()
        self._tmp = str(temp_path_for(self.path))
        self._raw = open(self._tmp, "wb")
        self._hashing = _HashingFile(self._raw)
        # mtime=0 keeps the bytes (and so the sha256) a function of the content alone.
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._hashing,
                                 compresslevel=compresslevel, mtime=0)
        self._pending: queue.Queue = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="slt_nb-part-writer", daemon=True)
        self._thread.start()
        self._put(_HEADER)
        self.samples = 0
        self.frames = 0
        self.info: PartInfo | None = None

    def _drain(self) -> None:
        while True:
            blob = self._pending.get()
            if blob is None:
                return
            if self._error is None:
                try:
                    self._gz.write(blob)
                except BaseException as exc:  # surfaced to the caller by _put/close
                    self._error = exc

    def _put(self, blob: bytes | None) -> None:
        if self._error is not None:
            raise OSError(f"{self._tmp}: writing the part failed: {self._error}") from self._error
        self._pending.put(blob)

    def _finish_thread(self) -> None:
        if self._thread.is_alive():
            self._pending.put(None)
            self._thread.join()

    def add(self, name: str, text: str, sign: np.ndarray, signer: str = "", gloss: str = "") -> None:
        """Append one sample; `sign` (T, width <= feature_size) is zero-padded to feature_size."""
        self.add_clip([(name, text)], sign, signer, gloss)

    def add_clip(self, samples: list[tuple[str, str]], sign: np.ndarray, signer: str = "", gloss: str = "") -> None:
        """Append one sample per (name, text), all with the same poses.

        The texts of one clip are pickled together, so their shared tensor is stored once and
        referenced by the others: an augmented clip costs little more than a plain one, on disk
        and in time. Unpickled, the samples share one tensor, which Signformer only reads.
        """
        first = samples[0][0] if samples else "?"
        sign = np.asarray(sign, dtype=np.float32)
        if sign.ndim != 2 or sign.shape[0] == 0:
            raise ValueError(f"sample {first!r}: sign must be (T > 0, D), got shape {sign.shape}")
        if not np.isfinite(sign).all():  # the readers zero such frames; this is the last line of defence
            raise ValueError(f"sample {first!r}: sign holds NaN or infinite values; Signformer's loss would turn "
                             "NaN, so they never go into a part")
        if sign.shape[1] > self.feature_size:
            raise ValueError(
                f"sample {first!r}: {sign.shape[1]} features do not fit feature_size {self.feature_size}"
            )
        if sign.shape[1] < self.feature_size:
            padded = np.zeros((sign.shape[0], self.feature_size), dtype=np.float32)
            padded[:, : sign.shape[1]] = sign
            sign = padded
        tensor = self._torch.from_numpy(np.ascontiguousarray(sign))
        dicts = [{"name": n, "signer": signer, "gloss": gloss, "text": t, "sign": tensor} for n, t in samples]
        blob = _dumps(dicts)
        # `[d1, d2, ...]` pickles as EMPTY_LIST BINPUT 0, the items, APPEND(S), STOP. Dropping the
        # list's own opening and the STOP leaves items + APPEND(S), which extend the part's open
        # list instead; memo slot 0 (the dropped list) is never referred to.
        assert blob.startswith(_HEADER + _BINPUT0) and blob.endswith(_STOP)
        self._put(blob[len(_HEADER) + len(_BINPUT0):-1])
        self.samples += len(dicts)
        self.frames += sign.shape[0] * len(dicts)

    def close(self) -> PartInfo:
        if self.info is not None:
            return self.info
        self._put(_STOP)
        self._finish_thread()
        if self._error is not None:
            self.abort()
            raise OSError(f"{self._tmp}: writing the part failed: {self._error}") from self._error
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self._tmp, self.path)
        self.info = PartInfo(self.path, self.samples, self.frames, self._hashing.size,
                             self._hashing.sha256.hexdigest())
        return self.info

    def abort(self) -> None:
        if self.info is None:
            self._finish_thread()
            for closer in (self._gz.close, self._raw.close):
                try:
                    closer()
                except Exception:
                    pass
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass

    def __enter__(self) -> "PartWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def load_signformer(path: str | os.PathLike) -> list[dict]:
    """Load a `.pami0` file exactly as Signformer does: gzip, then one pickle.load."""
    _torch()
    with gzip.open(path, "rb") as f:
        return pickle.load(f)


def sorted_parts(paths) -> list[str]:
    """Part files ordered by their part number (part10 after part9)."""
    return sorted((str(p) for p in paths), key=part_index)


def find_parts(directory: str | os.PathLike, dataset_stem: str, split: str) -> list[str]:
    """The part files of one split of one export, in part order."""
    pattern = f"{dataset_stem}.pami0.{split}.part*"
    return sorted_parts(p for p in Path(directory).glob(pattern) if PART_INDEX.search(p.name))


def iter_samples(parts) -> Iterator[dict]:
    """Stream samples from part files in order; only one part is in memory at a time."""
    for path in parts:
        samples = load_signformer(path)
        samples.reverse()
        while samples:  # hand samples out in order, dropping our reference to each
            yield samples.pop()


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
