"""Signformer `.pami0` files: a gzip-compressed pickle of one list of sample dicts.

Signformer (like neccam/slt before it) reads a data file with `gzip.open` and one
`pickle.load`, which must return a list of `{"name", "signer", "gloss", "text", "sign"}` dicts,
`sign` a float32 torch tensor (T, D). `PartWriter` produces exactly that byte stream, but writes
it one clip at a time: the list is opened, each clip's samples are pickled and appended as they
arrive, and the list is closed at the end. So no part, let alone a whole split, is ever held in
memory.

Protocol 3 is used on purpose: its memo references carry explicit indices (BINPUT/BINGET), so
samples pickled one by one can be concatenated inside one list; protocol 4's implicit MEMOIZE
numbering would not survive that.

Where the time goes, and why the writer looks the way it does (profiled on How2Sign-format
trees): the gzip container is written by python-isal's `igzip` (standard gzip that `gzip.open`
reads, about 10x faster than zlib at level 1 on these mostly-zero rows); the zero padding to
1024 columns lives in one buffer that is reused from clip to clip, so only the real columns are
copied in; and the pickler streams the clip's one big bytes object straight into the
compressor instead of through a BytesIO, `getvalue()` and a slice (four copies of every frame
before). Compression runs inline: a background thread only competed with the next worker.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from isal import igzip

from slt_nb.atomic import file_sha256, temp_path_for  # noqa: F401  (file_sha256: part checks import it from here)
from slt_nb.errors import DataFileError, MissingDependency, ParameterError, WriteRefused

_PROTO = 3
# Signformer's encoder takes its deformable-attention positions modulo (length - 1): a clip of
# fewer frames becomes NaN, and one such sample in a batch ruins the weights.
SIGNFORMER_MIN_FRAMES = 2
SIGNFORMER_MAX_SENT_LENGTH = 400  # data.max_sent_length: Signformer drops longer training samples
# Signformer calls the validation split "dev"; How2Sign and LSFB-CONT call it "val".
SIGNFORMER_SPLIT = {"train": "train", "val": "dev", "dev": "dev", "test": "test"}

_HEADER = pickle.PROTO + bytes([_PROTO]) + pickle.EMPTY_LIST
_BINPUT0 = pickle.BINPUT + b"\x00"
_STOP = pickle.STOP
# python-isal levels are 0-3; zlib-style 1-9 requests map onto them (1-2 fast, 3 smallest).
_ISAL_LEVEL = {0: 0, 1: 1, 2: 2}


class _Sign:
    """A clip's (T, D) float32 rows, pickled as `torch.Tensor(<float32 ndarray>)`.

    torch's own tensor pickling names each storage by its memory address, so the same data gave
    different bytes (and sha256) from run to run. This form is plain bytes, identical every
    time, and unpickles with any torch (and numpy) into the same float32 tensor, without a copy.
    One instance is shared by all samples of a clip, so the pickle memo stores the rows once.
    """

    __slots__ = ("rows", "tensor_type")

    def __init__(self, rows: np.ndarray, tensor_type):
        self.rows = rows
        self.tensor_type = tensor_type

    def __reduce__(self):
        return self.tensor_type, (self.rows,)


class _ListItems:
    """The file a clip's pickle is written to: it passes on the items and APPEND(S) only.

    `[d1, d2, ...]` pickles as PROTO EMPTY_LIST BINPUT 0, the items, APPEND(S), STOP. Dropping
    the list's opening and the STOP leaves opcodes that extend the part's open list instead;
    memo slot 0 (the dropped list) is never referred to. The pickler hands large bytes (the
    rows) over as they are, so they reach the compressor without being copied here.
    """

    def __init__(self, sink):
        self.sink = sink
        self.opening = bytearray()
        self.held: bytes = b""

    def write(self, data) -> int:
        view = memoryview(data)
        size = len(view)
        need = len(_HEADER) + len(_BINPUT0) - len(self.opening)
        if need:
            self.opening += view[:need]
            view = view[need:]
            if len(self.opening) == len(_HEADER) + len(_BINPUT0) and bytes(self.opening) != _HEADER + _BINPUT0:
                raise DataFileError(f"unexpected pickle opening {bytes(self.opening)!r}")
        if len(view):
            if self.held:
                self.sink.write(self.held)
            self.sink.write(view[:-1])
            self.held = bytes(view[-1:])  # the STOP, if this is the last write
        return size

    def finish(self) -> None:
        if self.held != _STOP:
            raise DataFileError(f"a clip's pickle must end with STOP, got {self.held!r}")


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a core dependency
        raise MissingDependency(".pami0 files hold torch tensors: pip install torch==2.13.0") from exc
    return torch


def part_name(dataset: str, split: str, index: int, feature_size: int = 1024, variant: str = "") -> str:
    """`{Dataset}[-variant]-{feature_size}.pami0.{split}.part{N}`."""
    stem = f"{dataset}-{variant}" if variant else dataset
    return f"{stem}-{feature_size}.pami0.{split}.part{index}"


PART_INDEX = re.compile(r"\.part(\d+)$")


def part_index(path: str | os.PathLike) -> int:
    m = PART_INDEX.search(str(path))
    if not m:
        raise ParameterError(f"{path}: not a part file (expected a name ending in .part<N>)")
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
    """Write one `.pami0` part atomically, clip by clip.

    The data go to a hidden temp name beside `path` and are renamed onto `path` only by
    `close()`; an exception inside a `with` block removes the temp file and leaves no part
    behind. Any refused write (full disk, file size limit, I/O error, no permission) raises
    `WriteRefused` with its errno and the part's path. The bytes depend on the samples alone: the same data give the same sha256.
    """

    def __init__(self, path: str | os.PathLike, feature_size: int = 1024, compresslevel: int = 1):
        self.path = str(path)
        self.feature_size = feature_size
        self._tensor_type = _torch().Tensor
        self._tmp = str(temp_path_for(self.path))
        self._raw = None
        self.samples = 0
        self.frames = 0
        self.info: PartInfo | None = None
        # Padding buffer reused for every clip: columns past the clip's width stay zero, so only
        # the real columns are written; `_dirty` is the widest clip so far (what a narrower one clears).
        self._rows = np.zeros((0, feature_size), dtype=np.float32)
        self._dirty = 0
        try:
            self._raw = open(self._tmp, "wb")
            self._hashing = _HashingFile(self._raw)
            # mtime=0 keeps the bytes (and so the sha256) a function of the content alone.
            self._gz = igzip.IGzipFile(filename="", mode="wb", fileobj=self._hashing,
                                       compresslevel=_ISAL_LEVEL.get(compresslevel, 3), mtime=0)
            self._gz.write(_HEADER)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc

    def _failure(self, err: OSError) -> WriteRefused:
        # Its own type, whatever the errno: a caller stops the run on it instead of skipping the part's clips.
        return WriteRefused(err.errno, err.strerror or str(err), self.path)

    def add(self, name: str, text: str, sign: np.ndarray, signer: str = "", gloss: str = "") -> None:
        """Append one sample; `sign` (T, width <= feature_size) is zero-padded to feature_size."""
        self.add_clip([(name, text)], sign, signer, gloss)

    def _padded(self, sign: np.ndarray) -> np.ndarray:
        frames, width = sign.shape
        if frames > self._rows.shape[0]:
            self._rows = np.zeros((max(frames, 2 * self._rows.shape[0]), self.feature_size), dtype=np.float32)
            self._dirty = 0
        if self._dirty > width:
            self._rows[:, width:self._dirty] = 0.0
        rows = self._rows[:frames]
        rows[:, :width] = sign
        self._dirty = width
        return rows

    def add_clip(self, samples: list[tuple[str, str]], sign: np.ndarray, signer: str = "", gloss: str = "") -> None:
        """Append one sample per (name, text), all with the same poses.

        The texts of one clip are pickled together, so their shared tensor is stored once and
        referenced by the others: an augmented clip costs little more than a plain one, on disk
        and in time. Unpickled, the samples share one tensor, which Signformer only reads.
        """
        first = samples[0][0] if samples else "?"
        sign = np.asarray(sign, dtype=np.float32)
        if sign.ndim != 2 or sign.shape[0] == 0:
            raise DataFileError(f"sample {first!r}: sign must be (T > 0, D), got shape {sign.shape}")
        if not np.isfinite(sign).all():  # the readers zero such frames; this is the last line of defence
            raise DataFileError(f"sample {first!r}: sign holds NaN or infinite values; Signformer's loss would turn "
                                "NaN, so they never go into a part")
        if sign.shape[1] > self.feature_size:
            raise DataFileError(
                f"sample {first!r}: {sign.shape[1]} features do not fit feature_size {self.feature_size}"
            )
        shared = _Sign(self._padded(sign), self._tensor_type)
        dicts = [{"name": n, "signer": signer, "gloss": gloss, "text": t, "sign": shared} for n, t in samples]
        items = _ListItems(self._gz)
        try:
            pickle.Pickler(items, protocol=_PROTO).dump(dicts)
        except OSError as exc:
            raise self._failure(exc) from exc
        items.finish()
        self.samples += len(dicts)
        self.frames += sign.shape[0] * len(dicts)

    def close(self) -> PartInfo:
        if self.info is not None:
            return self.info
        try:
            self._gz.write(_STOP)
            self._gz.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        self.info = PartInfo(self.path, self.samples, self.frames, self._hashing.size,
                             self._hashing.sha256.hexdigest())
        return self.info

    def abort(self) -> None:
        if self.info is None:
            for closer in (getattr(self, "_gz", None), self._raw):
                try:
                    if closer is not None:
                        closer.close()
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
    """Load a `.pami0` file as Signformer does (gzip, then one pickle), through the restricted unpickler.

    The same list of sample dicts `pickle.load` gives, but nothing in the file runs: a type other
    than a sample's is refused with `UnsafeFile` naming the file (`slt_nb.formats.safe_pickle`).
    """
    from slt_nb.formats.safe_pickle import load_samples

    return load_samples(path)


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
