"""Reading a `.pami0` pickle without running it: only the types a sample holds are admitted.

A `.pami0` file is a gzip pickle, and `pickle.load` on a pickle runs whatever callables it
names: a part from anywhere (a shared PHOENIX set, a download) could run code on the machine
that opens it. Every part slt-nb reads goes through `load_samples` instead, whose unpickler
admits only what a sample is made of (Signformer's format: a list of dicts of text, numbers and
a float tensor):

- the containers and scalars pickle builds itself (list, dict, tuple, str, bytes, int, float,
  bool, None) and `collections.OrderedDict` (torch's empty backward-hook table);
- a float16/32/64 array, rebuilt from its raw bytes by this module (numpy's `_reconstruct`,
  `ndarray` and `dtype` names are answered with stand-ins; numpy's own code never runs);
- `torch.Tensor(<array>)`, the form slt-nb writes (`slt_nb.formats.pami`);
- torch's own tensor pickle (`torch._utils._rebuild_tensor_v2` over `_load_from_bytes`), the
  form `pickle.dump` of a tensor gives: the storage bytes are read with torch's weights-only
  loader (never torch's full unpickler, which runs code), then size, stride and offset are
  checked against the storage before the tensor is made.

Anything else (a `__reduce__` payload naming `os.system`, a tensor subclass, `nn.Parameter`,
persistent ids, extension codes, object-building opcodes) is refused by name before it is
called, with `UnsafeFile` naming the file and the refused type. A declared size the file cannot
hold (an object of terabytes, an array whose shape promises more than its bytes) and a
truncated or corrupt stream are `DataFileError`s naming the file. Nothing is allocated for a
size before it is checked.

The unpickler is CPython's pure-Python one with its opcode table narrowed: a sample has a few
dozen opcodes and one large bytes object, so the Python dispatch costs microseconds per sample.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import warnings
import zlib
from typing import Callable

import numpy as np

from slt_nb.errors import DataFileError, UnsafeFile

# The largest single object (a sample's raw rows) a part may declare: 1 hour at 50 fps x 1024
# float32 columns is 0.7 GB; anything above this is a broken or hostile length field.
MAX_OBJECT_BYTES = 2 << 30
FLOAT_DTYPES = {"f2": np.float16, "f4": np.float32, "f8": np.float64}
SAMPLE_KEYS = ("name", "signer", "gloss", "text", "sign")


class _DType:
    """Stand-in for `numpy.dtype(spec, align, copy)`: a float dtype only; BUILD gives its byte order."""

    def __init__(self, spec, *_):
        if not isinstance(spec, str) or spec.lstrip("<>=|") not in FLOAT_DTYPES:
            raise UnsafeFile(f"dtype {spec!r}: only float16/32/64 arrays are admitted")
        self.code = spec.lstrip("<>=|")
        self.order = "<"

    def setstate(self, state) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "=", "|"):
            self.order = "<" if state[1] in ("=", "|") else state[1]

    def numpy(self) -> np.dtype:
        return np.dtype(self.order + self.code)


class _Array:
    """Stand-in for `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`; BUILD fills it."""

    def __init__(self, cls=None, *_):
        if cls is not _NDARRAY:
            raise UnsafeFile(f"array reconstruction of {cls!r}: only numpy.ndarray is admitted")
        self.value: np.ndarray | None = None

    def setstate(self, state) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise UnsafeFile("an array whose state is not numpy's (version, shape, dtype, fortran, data)")
        _, shape, dtype, fortran, data = state
        if not isinstance(dtype, _DType):
            raise UnsafeFile("an array whose dtype is not a float dtype")
        if (not isinstance(shape, tuple) or len(shape) > 3
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
            raise DataFileError(f"an array of shape {shape!r}: expected at most 3 non-negative sizes")
        kind = dtype.numpy()
        if not isinstance(data, (bytes, bytearray)):
            raise UnsafeFile(f"an array whose data is a {type(data).__name__}, not bytes")
        need = int(np.prod(shape, dtype=np.float64)) * kind.itemsize
        if need != len(data):
            raise DataFileError(f"an array declared {shape} {kind} ({need} bytes) holds {len(data)} bytes")
        array = np.frombuffer(data, dtype=kind)
        self.value = array.reshape(shape, order="F" if fortran else "C")


_NDARRAY = object()  # what `numpy.ndarray` unpickles to: only _Array accepts it


def _numpy_scalar(dtype, data):
    if not isinstance(dtype, _DType) or not isinstance(data, (bytes, bytearray)) or len(data) != dtype.numpy().itemsize:
        raise UnsafeFile("a numpy scalar that is not one float")
    return float(np.frombuffer(data, dtype=dtype.numpy())[0])


class SampleUnpickler(pickle._Unpickler):
    """CPython's pure-Python unpickler, admitting only what a `.pami0` sample holds.

    `on_sign(tensor)` (optional) is applied to each tensor as it is built, so a caller can keep
    a narrowed copy and let the full-width one go (the lean Signformer loader does).
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, source: str, on_sign: Callable | None = None):
        self.source = source
        self.on_sign = on_sign
        self._table = self._admitted()
        super().__init__(_CappedReader(file, source))

    # --- globals: a fixed table, nothing imported by name -------------------------------------
    def find_class(self, module, name):
        admitted = self._table.get((module, name))
        if admitted is None:
            raise UnsafeFile(f"{self.source}: refused to unpickle {module}.{name} (a .pami0 part holds only "
                             "lists, dicts, text, numbers and float tensors); nothing in the file was run")
        return admitted

    def _admitted(self) -> dict:
        table = {("collections", "OrderedDict"): _ordered_dict,
                 ("torch", "Tensor"): self._tensor_from_array,
                 ("torch._utils", "_rebuild_tensor_v2"): self._rebuild_tensor,
                 ("torch.storage", "_load_from_bytes"): self._storage_from_bytes}
        for numpy_core in ("numpy.core.multiarray", "numpy._core.multiarray"):
            table[(numpy_core, "_reconstruct")] = _Array
            table[(numpy_core, "scalar")] = _numpy_scalar
        table[("numpy", "ndarray")] = _NDARRAY
        table[("numpy", "dtype")] = _DType
        table[("_codecs", "encode")] = _latin1_bytes  # protocol 2's form of a bytes object
        return table

    def persistent_load(self, pid):
        raise UnsafeFile(f"{self.source}: refused a persistent id {pid!r}; nothing in the file was run")

    # --- what the admitted names build -------------------------------------------------------
    def _sign(self, tensor):
        if not tensor.is_floating_point():
            raise UnsafeFile(f"{self.source}: a {tensor.dtype} tensor; only float tensors are admitted")
        return self.on_sign(tensor) if self.on_sign else tensor

    def _tensor_from_array(self, *args):
        torch = _torch(self.source)
        array = args[0].value if len(args) == 1 and isinstance(args[0], _Array) else args[0] if len(args) == 1 else None
        if not isinstance(array, np.ndarray):
            raise UnsafeFile(f"{self.source}: torch.Tensor{_arg_types(args)}: only torch.Tensor(<float array>) is admitted")
        if not array.flags.writeable:
            array = array.copy()
        return self._sign(torch.from_numpy(array))

    def _storage_from_bytes(self, data):
        torch = _torch(self.source)
        if not isinstance(data, (bytes, bytearray)):
            raise UnsafeFile(f"{self.source}: a tensor storage from a {type(data).__name__}, not bytes")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage deprecation: the format is torch's own
            try:
                storage = torch.load(io.BytesIO(data), weights_only=True)
            except pickle.UnpicklingError as exc:
                raise UnsafeFile(f"{self.source}: a tensor storage torch's weights-only loader refuses ({exc})") from None
            except Exception as exc:
                raise DataFileError(f"{self.source}: a tensor storage that does not load "
                                    f"({type(exc).__name__}: {exc})") from None
        if not isinstance(storage, torch.storage.TypedStorage):
            raise UnsafeFile(f"{self.source}: a tensor storage that loads as {type(storage).__name__}")
        return storage

    def _rebuild_tensor(self, storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
        torch = _torch(self.source)
        if not isinstance(storage, torch.storage.TypedStorage):
            raise UnsafeFile(f"{self.source}: a tensor over a {type(storage).__name__}, not a storage")
        ints = (offset, *size, *stride)
        if (not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride)
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in ints)):
            raise DataFileError(f"{self.source}: a tensor with size {size!r}, stride {stride!r}, offset {offset!r}")
        if requires_grad or hooks:
            raise UnsafeFile(f"{self.source}: a tensor with gradients or hooks; samples hold plain data")
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage deprecation: the format is torch's own
            elements = storage.size()
            if last >= elements:
                raise DataFileError(f"{self.source}: a tensor of size {tuple(size)} reaches element {last} of a "
                                    f"storage of {elements}")
            tensor = torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, _ordered_dict())
        return self._sign(tensor)

    # --- opcodes: BUILD only on the stand-ins, large bytes read without a copy ----------------
    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not isinstance(inst, (_Array, _DType)):
            raise UnsafeFile(f"{self.source}: refused to set the state of a {type(inst).__name__}")
        inst.setstate(state)
        if isinstance(inst, _Array):
            self.stack[-1] = inst.value  # the memo keeps the filled stand-in; `_plain` resolves it

    def _refuse(self):
        raise UnsafeFile(f"{self.source}: refused an object-building or extension opcode; nothing in the file was run")

    def _binbytes(self, size: int):
        if size <= 64:
            self.append(self.read(size))
            return
        _check_size(size, self.source)
        data = bytearray(size)  # read straight into a writable buffer: arrays use it without a copy
        got = self.readinto(data)
        if got != size:
            raise DataFileError(f"{self.source}: truncated: the pickle declares {size:,} more bytes, "
                                f"the file holds {got:,}")
        self.append(data)

    def load_short_binbytes(self):
        self._binbytes(self.read(1)[0])

    def load_binbytes(self):
        self._binbytes(struct.unpack("<I", self.read(4))[0])

    def load_binbytes8(self):
        self._binbytes(struct.unpack("<Q", self.read(8))[0])

    for _op, _method in ((pickle.BUILD, load_build),
                         (pickle.SHORT_BINBYTES, load_short_binbytes), (pickle.BINBYTES, load_binbytes),
                         (pickle.BINBYTES8, load_binbytes8)):
        dispatch[_op[0]] = _method
    for _op in (pickle.INST, pickle.OBJ, pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.EXT1, pickle.EXT2, pickle.EXT4,
                pickle.BYTEARRAY8, pickle.NEXT_BUFFER, pickle.READONLY_BUFFER):
        dispatch[_op[0]] = _refuse
    del _op, _method


def _ordered_dict(*args):
    from collections import OrderedDict

    if args:
        raise UnsafeFile("an OrderedDict with contents (torch's hook table is empty)")
    return OrderedDict()


def _latin1_bytes(text, encoding="latin1"):
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafeFile("_codecs.encode other than protocol 2's bytes (text, 'latin1')")
    return text.encode("latin1")


def _arg_types(args) -> str:
    return "(" + ", ".join(type(a).__name__ for a in args) + ")"


class _CappedReader:
    """The unpickler's file: a read of more than MAX_OBJECT_BYTES is refused before it is made."""

    def __init__(self, file, source: str):
        self.file = file
        self.source = source

    def read(self, size: int = -1):
        _check_size(size, self.source)
        data = self.file.read(size)
        if len(data) < size:
            raise DataFileError(f"{self.source}: truncated: the pickle declares {size:,} more bytes, "
                                f"the file holds {len(data):,}")
        return data

    def readinto(self, buffer):
        view, done = memoryview(buffer), 0
        while done < len(view):  # gzip's readinto may stop short of a large buffer
            got = self.file.readinto(view[done:])
            if not got:
                break
            done += got
        return done

    def readline(self):
        return self.file.readline()


def _check_size(size: int, source: str) -> None:
    if size > MAX_OBJECT_BYTES or size < 0:
        raise DataFileError(f"{source}: the pickle declares an object of {size:,} bytes; "
                            f"no sample is larger than {MAX_OBJECT_BYTES:,}")


def _torch(source: str):
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        from slt_nb.errors import MissingDependency

        raise MissingDependency(f"{source}: .pami0 files hold torch tensors: pip install torch==2.13.0") from None
    return torch


def unpickle_samples(stream, source: str, on_sign: Callable | None = None):
    """One restricted `pickle.load` from an open binary stream (errors name `source`)."""
    try:
        return _plain(SampleUnpickler(stream, source, on_sign).load())
    except (UnsafeFile, DataFileError) as exc:
        if str(exc).startswith(source):
            raise
        raise type(exc)(f"{source}: {exc}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataFileError(f"{source}: truncated or corrupt gzip stream ({type(exc).__name__}: {exc})") from None
    except (pickle.UnpicklingError, struct.error, IndexError, KeyError, TypeError, ValueError) as exc:
        raise DataFileError(f"{source}: not a readable .pami0 pickle ({type(exc).__name__}: {exc})") from None


def _plain(obj):
    """The loaded list with any array stand-in reached through the memo replaced by its array."""
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            if isinstance(item, dict):
                for key, value in item.items():
                    if isinstance(value, _Array):
                        item[key] = value.value
            elif isinstance(item, _Array):
                obj[i] = item.value
    return obj


def load_samples(path: str | os.PathLike, on_sign: Callable | None = None) -> list:
    """A `.pami0` file's samples, read as Signformer does (gzip, one pickle) but without running code.

    Returns the pickled list as it is. Refuses anything but a list with `DataFileError`; a
    refused type with `UnsafeFile`; both name the file.
    """
    source = str(path)
    try:
        stream = gzip.open(path, "rb")
    except OSError as exc:
        raise DataFileError(f"{source}: cannot be opened ({exc.strerror or exc})") from None
    with stream:
        samples = unpickle_samples(stream, source, on_sign)
    if not isinstance(samples, list):
        raise DataFileError(f"{source}: holds a {type(samples).__name__}, not the list of samples Signformer loads")
    return samples
