"""The `pami` reader: a Signformer `.pami0` set made outside slt-nb (PHOENIX-2014T, GSL, LSA-T) as a corpus.

Users hold such sets as Signformer's users write them: `gzip.open(path, "wb")` + `pickle.dump` of
a list of `{"name", "signer", "gloss", "text", "sign"}` dicts, `sign` a float tensor (T, D), one
file per split (`phoenix14t.pami0.dev`) or several (`.part{N}`); which files a path names is
`slt_nb.formats.foreign.pami_set`. Nothing in the files says what a column holds, so the user
declares it (`slt_nb.datasets.declaration`): `layout` (holistic-512, FILE.yaml; none: columns by
number), `source_fps`, `source_normalize`, `coordinates`, `frame_size` in a params file
(`params/Signformer.yaml`) or with `-p`; inspect, compare and validate take the same declaration as
`layout`, `fps`, `normalize`.
Where slt-nb's manifest lies beside the files (a part of an slt-nb export), what is not declared
comes from it.

A sample is a clip: `plan(split)` lists the samples of the split's files (names without their
`split/` prefix, the texts, the frame counts) through the restricted unpickler, and a sample that
Signformer would trip over (no text, no 2-D `sign`, a name given twice: Signformer would join
the two along the feature axis) is a skipped row saying why. `read(item)` gives the sample's rows
in the declared layout's columns; columns past the layout that are not zero are noted.
`declared_manifest()` is the set as a manifest would record it, so compare, validate and
signformer-config check it against exports with the same code as two exports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slt_nb.datasets.base import (ClipData, ExportItem, Reader, Skipped, SplitPlan, common_params, frame_list,
                                  register_reader)
from slt_nb.datasets.declaration import Declaration, is_numbered, numbered_layout, resolve_layout
from slt_nb.errors import AnnotationError, ClipError, DataFileError, ParameterError
from slt_nb.formats.foreign import PamiSet, is_pami_path, pami_set, scan_file
from slt_nb.formats.manifest import Manifest, read_manifest, split_parameters
from slt_nb.formats.pami import SIGNFORMER_SPLIT
from slt_nb.layouts import FeatureLayout

KIND = "Signformer .pami0 set (gzip pickle of sample dicts), made outside slt-nb"


@dataclass(frozen=True)
class SampleRef:
    """Where a planned sample is: its file, its place in the file's list, its frame count."""

    file: str
    index: int
    frames: int


@register_reader("pami")
@dataclass
class PamiReader(Reader):
    """Plans and reads the samples of a foreign `.pami0` set in its declared layout."""

    data_root: str
    declared: Declaration = field(default_factory=Declaration)
    dataset: str = ""  # the set's name; default its stem (phoenix14t)
    variant: str = ""
    augmented: str | None = None  # kept for common_params; a set's texts are its samples'
    augmented_splits: tuple[str, ...] = ()
    given_files: dict | None = None  # split -> files, when given one by one (validate's bare parts)
    fps: float | None = field(default=None, init=False)
    frame_size: tuple[int, int] | None = field(default=None, init=False)
    demo_params = "Signformer"

    def __post_init__(self):
        if self.given_files:
            files = {s: tuple(Path(p) for p in ps) for s, ps in self.given_files.items()}
            first = next(iter(files.values()))[0]
            self.found = PamiSet(first.name.split(".pami0.")[0], first.parent, files, str(first))
        else:
            self.found = pami_set(self.data_root)
        self.dataset = self.dataset or self.found.stem
        self._from_manifest = _manifest_defaults(self.found)
        decl = self.declared
        self.fps = decl.fps if decl.fps is not None else self._from_manifest.get("fps")
        self.frame_size = decl.frame_size or self._from_manifest.get("frame_size")
        self._layout: tuple[FeatureLayout, dict | None] | None = None
        self._scans: dict[str, list] = {}
        self._loaded: tuple[str, list] | None = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_loaded"] = None  # a whole file of tensors stays behind; a worker loads its own
        return state

    @classmethod
    def from_params(cls, params: dict) -> "PamiReader":
        mapping = {"layout": params.get("layout"), "fps": params.get("source_fps"),
                   "normalize": params.get("source_normalize"), "coordinates": params.get("coordinates"),
                   "frame_size": params.get("frame_size")}
        common = common_params(params)
        common["dataset"] = params.get("name") or ""
        return cls(declared=Declaration.from_mapping(mapping, f"{params.get('dataset')} (reader pami)"), **common)

    @staticmethod
    def detect(root: str) -> bool:
        """A .pami0 file or part, or a folder of them without slt-nb's manifest."""
        return is_pami_path(root)

    # --- what the set is -------------------------------------------------------------------
    @property
    def coordinates(self) -> str:
        return self._from_manifest.get("coordinates") if self._undeclared("coordinates") else self.declared.coordinates

    @property
    def normalize(self) -> str | None:
        return self.declared.normalize or self._from_manifest.get("normalize")

    def _undeclared(self, key: str) -> bool:
        return key in self._from_manifest and getattr(self.declared, key) == getattr(Declaration(), key)

    @property
    def layout(self) -> FeatureLayout:
        return self._resolved_layout()[0]

    @property
    def layout_file(self) -> dict | None:
        """The layout file as a manifest records it (path, sha256, feature_size), if there is one."""
        return self._resolved_layout()[1]

    def _resolved_layout(self) -> tuple[FeatureLayout, dict | None]:
        if self._layout is None:
            if self.declared.layout is not None:
                layout, file = resolve_layout(self.declared.layout, f"{self.dataset}: layout")
                self._layout = (layout, file.to_manifest() if file else None)
            elif "layout" in self._from_manifest:
                self._layout = self._from_manifest["layout"]
            else:
                self._layout = (numbered_layout(self.feature_size), None)
        return self._layout

    @property
    def feature_size(self) -> int:
        """The width of the set's first sample (what Signformer's feature_size must be)."""
        for path in self.found.all_files():
            for info in self._scan(path):
                if info.width:
                    return info.width
        raise DataFileError(f"{self.found.given}: no sample with a (frames, features) sign to take the width from")

    def splits_present(self) -> list[str]:
        return list(self.found.files)

    def split_name(self, split: str) -> str:
        """The set's name for a split: as asked, else its Signformer twin (val <-> dev)."""
        if split in self.found.files:
            return split
        twin = [s for s in self.found.files if SIGNFORMER_SPLIT.get(s, s) == SIGNFORMER_SPLIT.get(split, split)]
        if not twin:
            raise AnnotationError(f"{self.found.given}: no split {split!r}; the set has {self.splits_present()} "
                                  f"({', '.join(p.name for p in self.found.all_files()[:4])})")
        return twin[0]

    def require_splits(self, splits: list[str]) -> None:
        """Before an export writes anything: the splits are there, and the rows' meaning is declared
        (the manifest records layout, rate and scale; a guess would be recorded as a fact)."""
        for split in splits:
            self.split_name(split)
        missing = [f"{key} ({param})" for key, param in (("layout", "-p layout"), ("fps", "-p source_fps"))
                   if getattr(self.declared, key) is None and key not in self._from_manifest]
        if self.normalize != "frame":
            missing.append("normalize frame (-p source_normalize frame; the export scales frame coordinates)")
        if missing:
            raise ParameterError(f"{self.found.given}: exporting a foreign set needs its {', '.join(missing)} declared")

    def _scan(self, path: Path) -> list:
        key = str(path)
        if key not in self._scans:
            self._scans[key] = scan_file(path)
        return self._scans[key]

    # --- the Reader contract ---------------------------------------------------------------
    def plan(self, split: str) -> SplitPlan:
        own = self.split_name(split)
        files = self.found.files[own]
        items, skipped, seen = [], [], {}
        row = 0
        for path in files:
            for info in self._scan(path):
                row += 1
                clip = info.name.split("/", 1)[1] if info.name.startswith(f"{own}/") else info.name
                where = f"{path} sample {info.index} ({info.name})"
                reason = "; ".join(info.problems) or ("no frames" if info.frames == 0 else "")
                if not reason and clip in seen:
                    reason = (f"named like sample {seen[clip]}: Signformer would join the two along the feature axis "
                              "(every name must be unique within a split)")
                if reason:
                    skipped.append(Skipped(row, clip, f"{where}: {reason}", str(path)))
                    continue
                seen[clip] = f"{info.index} of {path.name}"
                items.append(ExportItem(clip, [(f"{split}/{clip}", info.text)], [row],
                                        SampleRef(str(path), info.index, info.frames), info.signer))
        annotation = str(files[0]) if len(files) == 1 else f"{files[0].parent}/{files[0].name.rsplit('.part', 1)[0]}.part*"
        return SplitPlan(split, annotation, row, items, skipped,
                         {"source": {"files": [str(p) for p in files], "split_in_files": own},
                          **({"notes": list(self.found.notes)} if self.found.notes else {})})

    def _samples(self, path: str) -> list:
        if self._loaded is None or self._loaded[0] != path:
            from slt_nb.formats.safe_pickle import load_samples

            self._loaded = (path, load_samples(path))
        return self._loaded[1]

    def read(self, item: ExportItem) -> ClipData:
        ref: SampleRef = item.locator
        where = f"{ref.file} sample {ref.index} ({item.clip})"
        try:
            sign = self._samples(ref.file)[ref.index]["sign"]
        except (IndexError, KeyError, TypeError):
            raise ClipError(f"{where}: not in the file any more (changed since it was listed?)") from None
        rows = np.asarray(sign.numpy() if hasattr(sign, "numpy") else sign, dtype=np.float32)
        width = self.layout.width
        if rows.ndim != 2 or rows.shape[0] == 0:
            raise ClipError(f"{where}: sign has shape {rows.shape}; expected (frames, features)")
        if rows.shape[1] < width:
            raise ClipError(f"{where}: {rows.shape[1]} features, but the declared layout {self.layout.name} "
                            f"needs {width}")
        frames = np.array(rows[:, :width], dtype=np.float32)
        counts, notes = {"frames": len(frames)}, []
        if rows.shape[1] > width and rows[:, width:].any():
            notes.append(f"{where}: columns {width}-{rows.shape[1] - 1} are not all zero; the layout "
                         f"{self.layout.name} does not say what they hold")
        bad = ~np.isfinite(frames).all(axis=1)
        if bad.any():
            frames[bad] = 0
            counts["zeroed_frames"] = int(bad.sum())
            notes.append(f"{where}: {int(bad.sum())} frames hold NaN or infinity, written as zeros")
        masked = (frames[:, 0] == 0) & frames.any(axis=1)
        if masked.any():  # Signformer's padding mask is frame[0] != 0: these real frames are dropped as padding
            counts["column0_zero_frames"] = int(masked.sum())
            notes.append(f"{where}: {int(masked.sum())} frames with points have column 0 exactly 0; Signformer "
                         f"takes them for padding (its mask is frame[0] != 0): frames {frame_list(np.flatnonzero(masked))}")
        scale = tuple(float(v) for v in self.frame_size) if self.frame_size and self.coordinates == "normalised" else (1.0, 1.0)
        return ClipData(frames, counts, notes, pixel_scale=scale, fps=self.fps)

    def source_files(self, item: ExportItem) -> list[str]:
        return [item.locator.file]

    def describe(self) -> dict:
        return {
            "name": self.reader_name,
            "kind": KIND,
            "data_root": str(self.data_root),
            "files": {s: [str(p) for p in ps] for s, ps in self.found.files.items()},
            "fps": self.fps,
            "coordinates": self.coordinates,
            "normalize": self.normalize,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "layout": self.declared.layout or ("from its manifest" if "layout" in self._from_manifest else None),
            "layout_file": self.layout_file,
        }

    def declared_manifest(self, feature_size: int | None = None) -> Manifest:
        """The set as slt-nb's manifest would record it: what compare, validate and signformer-config
        check against exports. Its parts are the set's files (absolute paths)."""
        size = feature_size or self.feature_size
        if self._layout is None and self.declared.layout is None and "layout" not in self._from_manifest:
            self._layout = (numbered_layout(size), None)  # the width is known: no file read for it
        layout = self.layout.to_manifest(size)
        if self.layout_file:
            layout["file"] = self.layout_file
        parameters = {"feature_layout": self.declared.layout, "layout": None if is_numbered(self.layout)
                      else self.layout.name, "normalize": self.normalize, "coordinates": self.coordinates,
                      "fps": self.fps, "min_confidence": self.declared.min_confidence, "feature_size": size}
        splits = {split: {"parameters": dict(parameters), "declared": True,
                          "parts": [{"index": i, "file": str(p.resolve())} for i, p in enumerate(files)]}
                  for split, files in self.found.files.items()}
        return Manifest({"dataset": self.dataset, "format": KIND, "feature_size": size, "reader": self.describe(),
                         "layout": layout, "splits": splits})


def _manifest_defaults(found: PamiSet) -> dict:
    """What slt-nb's manifest beside a set says of it (an slt-nb export named by a part): its layout,
    rate, scale and frame size, for whatever the user does not declare; {} without one."""
    path = found.manifest
    if path is None:
        return {}
    try:
        manifest = read_manifest(path)
        split = next(s for s in found.files if s in manifest.splits)
        params = split_parameters(manifest, split)
        layout = (FeatureLayout.from_manifest(manifest.layout), manifest.layout.get("file"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return {}  # unreadable or not this set's: the user's declaration alone
    size = (manifest.reader or {}).get("frame_size")
    return {"layout": layout, "fps": params.get("fps"), "normalize": params.get("normalize"),
            "coordinates": params.get("coordinates") or "normalised", "frame_size": tuple(size) if size else None}


def open_pami(path, declared: Declaration | None = None, name: str = "") -> PamiReader:
    """The reader of the set a path names, with what the user declared of it."""
    return PamiReader(str(path), declared or Declaration(), dataset=name)


def open_declared(path, foreign=None) -> PamiReader:
    """The reader of the set a path names, with the declaration `foreign` (a `Foreign`, or what
    `parse_foreign` reads) holds for its name; undeclared: everything unknown."""
    from slt_nb.datasets.declaration import parse_foreign

    found = pami_set(path)
    declared = parse_foreign("foreign", foreign).for_set(found.stem)
    return PamiReader(str(path), declared or Declaration())
