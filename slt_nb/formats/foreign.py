"""A Signformer `.pami0` set made outside slt-nb: which files it is, and what its samples hold.

Signformer's users write a split as one file, `gzip.open(path, "wb")` + `pickle.dump(samples, f)`
(PHOENIX-2014T's `phoenix14t.pami0.dev`), and list several files one after another in a config's
`train:` when a split is large; slt-nb writes `.part{N}` files. A *set* here is the files of one
stem, split by split:

- a whole file `NAME.pami0.SPLIT`: that split, that file;
- a part `NAME.pami0.SPLIT.partN`, or the stem `NAME.pami0.SPLIT` whose parts lie beside it: every
  part of that split, in part order;
- a folder: every `.pami0` file of its one stem, split by split (a folder holding several stems
  must be given one of them by name).

Nothing here unpickles with `pickle.load`: `scan_file` reads a file through the restricted
unpickler (`safe_pickle`), keeping each sample's name, text and the shape of its `sign`, not the
tensor, so a file's listing costs one tensor of memory. A part with a code payload is refused
unrun (`UnsafeFile`), as in every other read of a part.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from slt_nb.errors import MissingInput, ParameterError

PAMI_NAME = re.compile(r"^(?P<stem>.+?)\.pami0\.(?P<split>[^./]+?)(?:\.part(?P<part>\d+))?$")


@dataclass(frozen=True)
class PamiSet:
    """The files of one stem: split -> files in part order (a whole file alone)."""

    stem: str
    folder: Path
    files: dict[str, tuple[Path, ...]]
    given: str  # what the user named, for messages
    notes: tuple[str, ...] = ()

    @property
    def manifest(self) -> Path | None:
        """slt-nb's manifest beside the files, when they are an slt-nb export."""
        path = self.folder / f"{self.stem}.manifest.json"
        return path if path.is_file() else None

    def all_files(self) -> list[Path]:
        return [p for files in self.files.values() for p in files]


def _listing(folder: Path) -> list[tuple[str, str, int | None, Path]]:
    """(stem, split, part or None, path) of every .pami0 file name in a folder."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise MissingInput(f"{folder}: cannot be listed ({exc.strerror or exc})") from None
    found = []
    for name in names:
        m = PAMI_NAME.match(name)
        if m and (folder / name).is_file():
            found.append((m["stem"], m["split"], None if m["part"] is None else int(m["part"]), folder / name))
    return found


def _split_files(stem: str, split: str, entries, given: str) -> tuple[tuple[Path, ...], list[str]]:
    """One split's files in part order; a whole file and parts of the same split are ambiguous."""
    whole = [p for s, sp, part, p in entries if s == stem and sp == split and part is None]
    parts = sorted(((part, p) for s, sp, part, p in entries if s == stem and sp == split and part is not None),
                   key=lambda t: t[0])
    if whole and parts:
        raise ParameterError(f"{given}: {whole[0].name} and {len(parts)} part files {stem}.pami0.{split}.part* "
                             "are both there; which of them is the split? name the file or the parts")
    notes = []
    numbers = [n for n, _ in parts]
    if parts and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        notes.append(f"{stem}.pami0.{split}: parts {missing} are missing between part{numbers[0]} and "
                     f"part{numbers[-1]}; the parts there are read in order")
    return tuple(whole) or tuple(p for _, p in parts), notes


def pami_set(path: str | os.PathLike) -> PamiSet:
    """The set a path names (a whole file, a part, a stem with parts beside it, or a folder)."""
    given = str(path)
    p = Path(path)
    if p.is_dir():
        entries = _listing(p)
        stems = sorted({e[0] for e in entries})
        if not stems:
            raise MissingInput(f"{given}: no .pami0 files in this folder (NAME.pami0.SPLIT or "
                               "NAME.pami0.SPLIT.partN)")
        if len(stems) > 1:
            raise ParameterError(f"{given}: .pami0 files of {len(stems)} sets ({', '.join(stems)}); "
                                 f"name one, e.g. {p / (stems[0] + '.pami0.' + entries[0][1])}")
        files, notes = {}, []
        for split in dict.fromkeys(e[1] for e in entries):
            files[split], more = _split_files(stems[0], split, entries, given)
            notes += more
        return PamiSet(stems[0], p, files, given, tuple(notes))
    m = PAMI_NAME.match(p.name)
    if not m:
        raise ParameterError(f"{given}: not a .pami0 file name (expected NAME.pami0.SPLIT, as "
                             "phoenix14t.pami0.dev, or NAME.pami0.SPLIT.partN)")
    stem, split = m["stem"], m["split"]
    if m["part"] is None and p.is_file():
        return PamiSet(stem, p.parent, {split: (p,)}, given)
    if not p.parent.is_dir():
        raise MissingInput(f"{given}: no such file or folder")
    files, notes = _split_files(stem, split, _listing(p.parent), given)
    if not files or (m["part"] is not None and not p.is_file()):
        raise MissingInput(f"{given}: no such file" + ("" if m["part"] is not None else
                                                        f", and no part files {p.name}.part* beside it"))
    return PamiSet(stem, p.parent, {split: files}, given, tuple(notes))


def is_pami_path(path: str | os.PathLike) -> bool:
    """Whether a path names a .pami0 set (cheap, never raising): a .pami0 file or part, a stem with
    parts beside it, or a folder with .pami0 files and no slt-nb manifest (that is an export)."""
    try:
        p = Path(path)
        if p.is_dir():
            return not any(p.glob("*.manifest.json")) and bool(_listing(p))
        m = PAMI_NAME.match(p.name)
        if not m:
            return False
        return p.is_file() or (m["part"] is None and p.parent.is_dir()
                               and any(p.parent.glob(f"{glob_escape(p.name)}.part*")))
    except (OSError, ValueError):
        return False


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


@dataclass
class SampleInfo:
    """One sample of a file as listed: where it is, its texts, the shape of its `sign`."""

    file: Path
    index: int
    name: str
    text: str
    signer: str
    gloss: str
    frames: int
    width: int | None
    problems: list[str] = field(default_factory=list)  # what Signformer would trip over


@dataclass(frozen=True)
class _Shape:
    shape: tuple
    dtype: str


def _shape(tensor) -> _Shape:
    return _Shape(tuple(int(n) for n in tensor.shape), str(tensor.dtype).removeprefix("torch."))


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def scan_file(path: str | os.PathLike) -> list[SampleInfo]:
    """Every sample of one .pami0 file, read through the restricted unpickler, tensors not kept."""
    from slt_nb.formats.safe_pickle import load_samples

    infos = []
    for i, sample in enumerate(load_samples(path, on_sign=_shape)):
        if not isinstance(sample, dict):
            infos.append(SampleInfo(Path(path), i, f"#{i}", "", "", "", 0, None,
                                    [f"sample {i} is a {type(sample).__name__}, not a dict"]))
            continue
        sign, problems = sample.get("sign"), []
        shape = sign.shape if isinstance(sign, _Shape) else tuple(getattr(sign, "shape", ()))
        if isinstance(sign, _Shape) and sign.dtype != "float32":
            problems.append(f"sign is {sign.dtype}; Signformer's configs expect float32")
        elif not isinstance(sign, _Shape):
            problems.append(f"sign is {type(sign).__name__}; Signformer needs a torch.Tensor")
        if len(shape) != 2:
            problems.append(f"sign has shape {shape}; expected (frames, features)")
        for key in ("name", "text"):
            if not isinstance(sample.get(key), str) or not sample.get(key, "").strip():
                problems.append(f"{key} is {sample.get(key)!r}; Signformer needs a non-empty str")
        name = sample["name"] if isinstance(sample.get("name"), str) and sample["name"] else f"#{i}"
        infos.append(SampleInfo(Path(path), i, name, _text(sample.get("text")), _text(sample.get("signer")),
                                _text(sample.get("gloss")), int(shape[0]) if len(shape) == 2 else 0,
                                int(shape[1]) if len(shape) == 2 else None, problems))
    return infos

