"""Looking at a dataset before training on it: clip sources, summaries, missing-point rates.

A *clip source* lists the clips of each split and loads one clip's frames as rows of a
`FeatureLayout`, with undetected points as (0, 0). Three kinds plug in:

- `ReaderSource`: any export reader with `plan(split)` / `read(item)` (How2Sign, LSFB-CONT, a
  foreign `.pami0` set through `Pami` in its declared layout); a reader may read more points for
  inspection than it exports (How2Sign's face);
- `ExportSource`: the `.pami0` parts of an export, found through its manifest;
- `WLASLPoseSource`: extracted WLASL poses, `<dir>/<split>/<video_id>.npz` plus `index.csv`.

`open_source(dataset)` picks one from a params name or a path. A clip that cannot be read is
counted and listed with its error; it never stops a summary.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from slt_nb.datasets import READERS
from slt_nb.datasets.wlasl import WLASL_FPS
from slt_nb.errors import ClipNotFound, DataFileError, MissingInput, ParameterError
from slt_nb.formats.extraction import INDEX_COLUMNS, parts_layout, pose_rows
from slt_nb.formats.manifest import read_manifest
from slt_nb.layouts import FeatureLayout

@dataclass
class ClipRef:
    """One clip of a split, as listed before reading it."""

    split: str
    name: str
    text: str = ""
    frames: int | None = None  # known without reading for exports and WLASL
    locator: object = None


@dataclass
class Clip:
    """One clip's frames (T, layout.width) float32, undetected points (0, 0)."""

    split: str
    name: str
    frames: np.ndarray
    layout: FeatureLayout
    text: str = ""
    frame_size: tuple[int, int] | None = None  # (width, height) that normalised coordinates came from
    fps: float | None = None
    notes: list[str] = field(default_factory=list)
    # (T, layout.width // 2) the estimator's confidence per point where the source keeps it (How2Sign's
    # OpenPose JSON, pose-format files); None for exports and LSFB-CONT's x,y,z arrays
    confidence: np.ndarray | None = None


class ClipSource(Protocol):
    name: str
    layout: FeatureLayout

    def splits(self) -> list[str]: ...

    def clips(self, split: str) -> list[ClipRef]: ...

    def load(self, ref: ClipRef) -> Clip: ...

    def unlisted(self, split: str) -> list[str]: ...


class ReaderSource:
    """Clips from a registered corpus reader (plan(split) -> items, read(item) -> ClipData).

    The reader says its own fps and frame size. With `with_face` (the default) clips are read
    with `read_for_inspection` in the reader's `inspection_layout`, which may hold more points
    than the export writes (How2Sign adds the face).
    """

    def __init__(self, reader, splits: list[str], fps: float | None = None,
                 frame_size: tuple[int, int] | None = None, with_face: bool = True):
        self.reader = reader
        self.name = reader.dataset
        self.with_face = with_face
        self.layout = reader.inspection_layout if with_face else reader.layout
        self._splits = list(splits)
        self.fps = float(fps) if fps is not None else reader.fps
        self.frame_size = tuple(frame_size) if frame_size is not None else reader.frame_size
        self._plans: dict[str, object] = {}

    def _plan(self, split: str):
        if split not in self._plans:
            self._plans[split] = self.reader.plan(split)
        return self._plans[split]

    def splits(self) -> list[str]:
        return list(self._splits)

    def clips(self, split: str) -> list[ClipRef]:
        return [ClipRef(split, item.clip, item.samples[0][1] if item.samples else "", None, item)
                for item in self._plan(split).items]

    def unlisted(self, split: str) -> list[str]:
        """Annotation rows of the split that name no readable clip, with the reason."""
        return [s.reason for s in self._plan(split).skipped]

    def load(self, ref: ClipRef) -> Clip:
        read = self.reader.read_for_inspection if self.with_face else self.reader.read
        data = read(ref.locator)
        frames = np.asarray(data.frames, dtype=np.float32)
        # A reader may know a clip's own frame size (a 1920x1080 How2Sign clip among 1280x720 ones, a
        # pose-format file's header), which it divided normalised coordinates by.
        size = (getattr(ref.locator.locator, "frame_size", None)
                or (data.pixel_scale if tuple(data.pixel_scale) != (1.0, 1.0) else None) or self.frame_size)
        confidence = data.confidence
        if confidence is not None and np.shape(confidence) != (len(frames), self.layout.width // 2):
            confidence = None  # read for the export's layout, not this one: drawn without
        return Clip(ref.split, ref.name, frames, self.layout, ref.text,
                    tuple(int(v) for v in size) if size else None, self.fps, list(data.notes),
                    None if confidence is None else np.asarray(confidence, dtype=np.float32))

    def iter_clips(self, split: str, limit: int | None = None) -> Iterator[Clip | tuple[ClipRef, Exception]]:
        """Load the split's clips in order (at most limit); a clip that fails comes as (ref, error)."""
        for ref in self.clips(split)[:limit]:
            try:
                yield self.load(ref)
            except Exception as exc:  # one bad clip is reported, never fatal to a summary
                yield ref, exc


class ExportSource:
    """Clips decoded back from an export's `.pami0` parts through the manifest's layout."""

    def __init__(self, manifest_file: str | os.PathLike):
        self.manifest_file = Path(manifest_file)
        self.manifest = read_manifest(self.manifest_file)
        self.notes = list(self.manifest.notes)  # e.g. a manifest from before versions were recorded
        self.name = f"{self.manifest['dataset']} export ({self.manifest_file.name})"  # KeyError: no export manifest
        self.layout = FeatureLayout.from_manifest(self.manifest.layout)
        reader = self.manifest.reader or {}
        normalised = reader.get("coordinates", "normalised") == "normalised"
        corpus = READERS.get(str(reader.get("name", "")).lower())
        size = (reader.get("frame_size") or getattr(corpus, "frame_size", None)) if normalised else None
        self.frame_size = tuple(size) if size else None
        self.fps = reader.get("fps") or getattr(corpus, "fps", None)
        entries = [e for e in self.manifest.splits.values() if isinstance(e, dict)]
        resampled = {(e.parameters or {}).get("fps") for e in entries} - {None}
        if len(resampled) == 1:  # exported with -p fps: the rows are at that rate, not the corpus's own
            self.fps = float(resampled.pop())
        if "shoulders" in {(e.parameters or {}).get("normalize") for e in entries}:
            self.frame_size = None  # shoulder units, not fractions of a frame: drawn 1:1

    def splits(self) -> list[str]:
        return list(self.manifest.splits)

    def _entry(self, split: str) -> dict:
        try:
            return self.manifest.splits[split]
        except KeyError:
            raise ClipNotFound(f"{self.manifest_file}: no split {split!r}; it has {self.splits()}") from None

    def clips(self, split: str) -> list[ClipRef]:
        return [ClipRef(split, name, "", frames) for name, frames in self._entry(split)["clip_frames"].items()]

    def unlisted(self, split: str) -> list[str]:
        return [s["reason"] for s in self._entry(split)["skipped"]]

    def _parts(self, split: str) -> list[Path]:
        return [self.manifest_file.parent / p["file"] for p in self._entry(split)["parts"]]

    def _clip(self, split: str, sample: dict) -> Clip:
        sign = sample["sign"].numpy()
        name = sample["name"].split("/", 1)[1] if sample["name"].startswith(f"{split}/") else sample["name"]
        frames = np.ascontiguousarray(sign[:, : self.layout.width], dtype=np.float32)
        notes = []
        if sign.shape[1] > self.layout.width and sign[:, self.layout.width:].any():
            notes.append(f"padding columns {self.layout.width}..{sign.shape[1]} are not all zero")
        return Clip(split, name, frames, self.layout, sample.get("text", ""), self.frame_size, self.fps, notes)

    def iter_clips(self, split: str, limit: int | None = None):
        """Stream the split's samples part by part (one part in memory at a time)."""
        from slt_nb.formats.pami import iter_samples

        for i, sample in enumerate(iter_samples(self._parts(split))):
            if limit is not None and i >= limit:
                return
            yield self._clip(split, sample)

    def load(self, ref: ClipRef) -> Clip:
        from slt_nb.formats.pami import iter_samples

        wanted = {ref.name, f"{ref.split}/{ref.name}"}
        for sample in iter_samples(self._parts(ref.split)):
            if sample["name"] in wanted:
                return self._clip(ref.split, sample)
        raise ClipNotFound(f"{self.manifest_file}: no sample named {ref.split}/{ref.name} in the {ref.split} parts")


class WLASLPoseSource:
    """Extracted WLASL poses: `<dir>/<split>/<video_id>.npz` and `<dir>/index.csv`.

    Each npz holds, per part of the pose estimator that made it (named in the folder's
    extraction.json), `<part>` (F, points, channels) and `<part>_detected`, plus frame_indices;
    the layout is those parts' x,y. Coordinates are normalised, so a part not detected in a
    frame becomes (0, 0) here, as in every other source.
    """

    INDEX_COLUMNS = INDEX_COLUMNS

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.index_file = self.directory / "index.csv"
        self.name = f"WLASL poses ({self.directory})"
        from slt_nb.formats.extraction import recorded_estimator
        from slt_nb.registry import estimator_parts

        self.parts = estimator_parts(recorded_estimator(self.directory))
        self.layout = parts_layout(self.parts)
        self.fps = WLASL_FPS
        self.frame_size = None  # WLASL videos differ in size; normalised coordinates drawn 1:1
        self._rows: dict[str, list[ClipRef]] = {}
        self._bad_rows: list[str] = []
        self._read_index()

    def _read_index(self) -> None:
        with open(self.index_file, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in self.INDEX_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataFileError(f"{self.index_file}: missing columns {missing}; found {reader.fieldnames}")
            for line, row in enumerate(reader, start=2):
                try:
                    frames = int(row["frames"])
                except (TypeError, ValueError):
                    self._bad_rows.append(f"{self.index_file} line {line}: frames {row['frames']!r} is not a number")
                    continue
                ref = ClipRef(row["split"], row["video_id"], row["gloss"], frames, row["path"])
                self._rows.setdefault(row["split"], []).append(ref)

    def splits(self) -> list[str]:
        order = ["train", "val", "test"]
        return sorted(self._rows, key=lambda s: (order.index(s) if s in order else len(order), s))

    def clips(self, split: str) -> list[ClipRef]:
        return list(self._rows.get(split, []))

    def unlisted(self, split: str) -> list[str]:
        return list(self._bad_rows)

    def _path(self, ref: ClipRef) -> Path:
        path = Path(str(ref.locator))
        if path.is_absolute():
            return path
        for base in (self.directory, self.directory.parent):
            if (base / path).exists():
                return base / path
        from slt_nb.params import resolve

        return resolve(path)

    def load(self, ref: ClipRef) -> Clip:
        path = self._path(ref)
        try:
            with np.load(path) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise MissingInput(f"{path}: pose file of WLASL video {ref.name} ({self.index_file}) not found") from None
        frames = pose_rows(arrays, str(path), self.parts)
        size = None
        if "width" in arrays and "height" in arrays:
            size = (int(arrays["width"]), int(arrays["height"]))
        return Clip(ref.split, ref.name, frames, self.layout, ref.text, size, self.fps)

    def iter_clips(self, split: str, limit: int | None = None):
        for ref in self.clips(split)[:limit]:
            try:
                yield self.load(ref)
            except Exception as exc:
                yield ref, exc


def open_source(dataset: str, data_root: str | None = None, splits: list[str] | None = None,
                with_face: bool = True, layout: str | None = None, fps: float | None = None,
                normalize: str | None = None) -> ClipSource:
    """A clip source from a params name (`How2Sign`, `LSFB-CONT`) or a path.

    A path may be an export manifest (`*.manifest.json`), a folder holding exactly one, a
    WLASL pose folder with `index.csv`, or a `.pami0` set made outside slt-nb (a whole file, a
    part, a stem with parts, a folder of them: `slt_nb.datasets.pami`), whose `layout`, `fps`
    and `normalize` the user declares (the `Signformer` params, reader `pami`, take them as well).
    """
    from slt_nb.formats.foreign import is_pami_path
    from slt_nb.params import PARAMS_DIR, load_params, resolve

    text = str(dataset)
    is_name = (PARAMS_DIR / f"{text}.yaml").exists() and "/" not in text
    declared = {"layout": layout, "source_fps": fps, "source_normalize": normalize}
    if not is_name and is_pami_path(resolve(text)):
        from slt_nb.datasets.declaration import Declaration
        from slt_nb.datasets.pami import open_pami

        reader = open_pami(resolve(text), Declaration.from_mapping(
            {"layout": layout, "fps": fps, "normalize": normalize}, str(text)))
        return ReaderSource(reader, list(splits or reader.splits_present()), with_face=with_face)
    if not is_name:
        path = resolve(text)
        if path.is_file() and path.name.endswith(".manifest.json"):
            return ExportSource(path)
        if path.is_dir():
            if (path / "index.csv").exists():
                return WLASLPoseSource(path)
            manifests = sorted(path.glob("*.manifest.json"))
            if len(manifests) == 1:
                return ExportSource(manifests[0])
            if manifests:
                raise ParameterError(f"{path}: several export manifests, name one: {[m.name for m in manifests]}")
            raise ParameterError(f"{path}: neither an export (no *.manifest.json) nor WLASL poses (no index.csv)")
        if path.exists() or "/" in text or text.endswith(".json"):
            raise MissingInput(f"{path}: not an export manifest, export folder or WLASL pose folder (nor a .pami0 "
                               "set: NAME.pami0.SPLIT, its .partN files, or a folder of them)")
    params = load_params(text, {"data_root": data_root})
    if str(params.get("reader", "")).lower() == "pami":  # reader pami (params/Signformer.yaml): declared here too
        params.update({k: v for k, v in declared.items() if v is not None})
    from slt_nb.datasets import reader_from_params

    reader = reader_from_params(params)
    split_list = list(splits or params.get("splits") or ["train", "val", "test"])
    present = reader.splits_present() if hasattr(reader, "splits_present") else None
    if not splits and present is not None:
        # Users download one split at a time: summarise the splits the tree has.
        split_list = [s for s in split_list if s in present] or present
    size = params.get("frame_size")
    return ReaderSource(reader, split_list, fps=params.get("source_fps"), frame_size=tuple(size) if size else None,
                        with_face=with_face)


def pick_clip(source: ClipSource, split: str, clip: int | str) -> ClipRef:
    """The clip of a split named `clip`, or its `clip`-th entry (0-based; -1 = last)."""
    refs = source.clips(split)
    if not refs:
        raise ClipNotFound(f"{source.name}: split {split!r} lists no clips (splits: {source.splits()})")
    if isinstance(clip, str) and not clip.lstrip("-").isdigit():
        for ref in refs:
            if ref.name == clip:
                return ref
        close = [r.name for r in refs if clip in r.name][:5]
        raise ClipNotFound(f"{source.name}: split {split!r} has no clip {clip!r}"
                           + (f"; similar: {close}" if close else f"; first clips: {[r.name for r in refs[:5]]}"))
    i = int(clip)
    if not -len(refs) <= i < len(refs):
        raise ClipNotFound(f"{source.name}: split {split!r} has {len(refs)} clips; index {i} is out of range")
    return refs[i]
