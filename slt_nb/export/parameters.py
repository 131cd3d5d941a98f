"""The export's parameters: parsed once from the merged params dict, with their defaults here.

`params/<Dataset>.yaml` holds what differs per corpus (where the files are, the reader and its
coordinates, frame size, frame rate); every parameter the export shares across corpora has its
default in one place: the dataclasses below (`ExportOptions`, `FeatureOptions` in
`export.features`, `EngineSettings` in `slt_nb.engine`), listed by `export_defaults()`.
`ExportParameters.from_params` reads the merged dict (params file + papermill's values) once,
names any bad value (`ParameterError`) before a file is read, and the stages below it get typed
values; `load_export_params` is `load_params` with the shared defaults filled in, so a report's
parameter table shows every value the run used.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from slt_nb.engine import EngineSettings
from slt_nb.errors import ParameterError
from slt_nb.export.features import FeatureOptions, FeatureTransform
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH, SIGNFORMER_MIN_FRAMES
from slt_nb.settings import check_reader_settings
from slt_nb.params import load_params, parse_flag, parse_list, parse_number, resolve

DEFAULT_OUTPUT_DIR = "outputs/exports"  # relative to the repository root
DEFAULT_SPLITS = ("train", "val", "test")
DEFAULT_RESUME = True  # keep the parts a killed run finished


@dataclass
class ExportOptions:
    """What decides the bytes of the parts (all but `output_dir` go into a part's resume key)."""

    output_dir: str
    chunk_size: int = 100  # samples per .part file: a few seconds of work, the unit a killed run loses
    feature_size: int = 1024  # zero-padded width, Signformer's feature_size
    compresslevel: int = 1
    min_frames: int = SIGNFORMER_MIN_FRAMES  # shorter clips become NaN in Signformer's encoder
    features: FeatureOptions = field(default_factory=FeatureOptions)  # layout, scale, rate (export.features)

    def __post_init__(self):
        if self.min_frames < SIGNFORMER_MIN_FRAMES:
            # a 1-frame clip let through is a NaN loss in Signformer, not a skipped clip
            raise ParameterError(f"parameter 'min_frames': {self.min_frames} is below {SIGNFORMER_MIN_FRAMES}: "
                                 f"Signformer's encoder gives NaN for clips under {SIGNFORMER_MIN_FRAMES} frames, "
                                 f"so they must be skipped; use {SIGNFORMER_MIN_FRAMES} or more")


def export_defaults() -> dict:
    """Every export parameter shared by the corpora, with its default, as a params file writes it."""
    options, engine = ExportOptions(DEFAULT_OUTPUT_DIR), EngineSettings()
    return {"output_dir": DEFAULT_OUTPUT_DIR, "splits": list(DEFAULT_SPLITS), "chunk_size": options.chunk_size,
            "feature_size": options.feature_size, "min_frames": options.min_frames, **options.features.as_dict(),
            "workers": engine.workers, "scheduler": engine.scheduler, "memory_limit_gb": engine.memory_limit_gb,
            "retries": engine.retries, "resume": DEFAULT_RESUME, "max_sent_length": SIGNFORMER_MAX_SENT_LENGTH}


def load_export_params(name: str, overrides: dict | None = None) -> dict:
    """`load_params(name, overrides)` with every shared export parameter it lacks set to its default."""
    params = load_params(name, overrides)
    for key, value in export_defaults().items():
        params.setdefault(key, value)
    return check_reader_settings(params)


@dataclass(frozen=True)
class ExportParameters:
    """One export run's parameters, parsed: the reader's stay in `params` for `reader_from_params`."""

    params: dict
    options: ExportOptions
    engine: EngineSettings
    splits: list[str]
    resume: bool = DEFAULT_RESUME
    max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH
    # validate_with exports that disagree on layout, normalisation or fps: a warning, not an error
    allow_mixed_layouts: bool = False

    @classmethod
    def from_params(cls, params: "dict | ExportParameters", progress: bool = False) -> "ExportParameters":
        if isinstance(params, ExportParameters):
            return params if params.engine.progress == progress else replace(
                params, engine=replace(params.engine, progress=progress))
        options = ExportOptions(
            output_dir=str(resolve(params.get("output_dir") or DEFAULT_OUTPUT_DIR)),
            chunk_size=parse_number("chunk_size", params.get("chunk_size"), ExportOptions.chunk_size, minimum=1),
            feature_size=parse_number("feature_size", params.get("feature_size"), ExportOptions.feature_size,
                                      minimum=1),
            min_frames=_min_frames(params.get("min_frames")),
            features=FeatureOptions.from_params(params),
        )
        return cls(
            params=params,
            options=options,
            engine=EngineSettings.from_params(params, progress=progress),
            splits=parse_list("splits", params.get("splits")) or list(DEFAULT_SPLITS),
            resume=parse_flag("resume", params.get("resume"), DEFAULT_RESUME),
            max_sent_length=parse_number("max_sent_length", params.get("max_sent_length"),
                                         SIGNFORMER_MAX_SENT_LENGTH, minimum=1),
            allow_mixed_layouts=parse_flag("allow_mixed_layouts", params.get("allow_mixed_layouts"), False),
        )

    @property
    def output_dir(self) -> Path:
        return Path(self.options.output_dir)


def _min_frames(value) -> int:
    """min_frames as a whole number; the range is checked by ExportOptions."""
    if value is None:
        return SIGNFORMER_MIN_FRAMES
    if not isinstance(value, bool) and isinstance(value, (int, str)):
        try:
            return int(value)
        except ValueError:
            pass
    raise ParameterError(f"parameter 'min_frames': {value!r} is not a whole number of frames "
                         f"({SIGNFORMER_MIN_FRAMES} or more)")


def feature_transform(reader, options: ExportOptions) -> FeatureTransform:
    """The reader's frames to the export's columns, refused when the layout is wider than feature_size."""
    transform = FeatureTransform(options.features, reader.layout)
    if transform.file is not None and transform.file.feature_size > options.feature_size:
        raise ParameterError(
            f"layout file {transform.file.path}: written for feature_size {transform.file.feature_size}, more than "
            f"the export's feature_size {options.feature_size} (set -p feature_size {transform.file.feature_size})"
        )
    if transform.target.width > options.feature_size:
        raise ParameterError(
            f"{reader.dataset}: layout {transform.target.name} has {transform.target.width} features, "
            f"more than feature_size {options.feature_size}"
        )
    return transform


def recorded_parameters(reader, options: ExportOptions) -> dict:
    """The parameters that decide what an exported number means, recorded per split.

    Exports meant to be trained together must agree on all of them (`validate` refuses a mix).
    """
    return {**options.features.as_dict(), "layout": FeatureTransform(options.features, reader.layout).target.name,
            "coordinates": reader.describe().get("coordinates", "normalised"), "feature_size": options.feature_size}


def layout_entry(reader, options: ExportOptions) -> dict:
    """The manifest's `layout`: the export's columns by name, the layout file it came from, and the
    map from the reader's layout when aligned or from a file (its `points_never_filled` and
    `columns_filled`: what this corpus can never fill stays exactly 0)."""
    transform = FeatureTransform(options.features, reader.layout)
    entry = transform.target.to_manifest(options.feature_size)
    if transform.file is not None:
        entry["file"] = transform.file.to_manifest()
    if transform.map is not None:
        entry["alignment"] = transform.map.to_manifest()
    return entry
