"""What the user declares about a `.pami0` set made outside slt-nb: its layout, rate and scale.

A foreign set carries no manifest, so nothing in its files says what a column holds, how fast
its frames run or what its numbers are divided by. The user says it, in the words slt-nb's own
exports record (`slt_nb.formats.manifest.DECIDING`):

- `layout`: a layout file (`holistic-512`, `FILE.yaml`: slt_nb.layout_files) or a layout slt-nb
  writes (`aligned`, `mediapipe_pose33_hands_xy`, ...); none: the columns are shown by number
  (coverage and lengths, no skeletons) and the set cannot be checked against any export;
- `fps`: its frame rate; none: unknown (lengths in frames only);
- `normalize`: `frame` (x, y divided by the frame size, or pixels with `coordinates: pixels`) or
  `shoulders` (shoulder units); none: unknown;
- `coordinates` (`normalised`, the default, or `pixels`), `min_confidence` (default 0: no point
  dropped), `frame_size` (width, height: only for drawing fractions of a frame to scale).

`parse_foreign` reads the `foreign` parameter of compare, the export notebook's `validate_with`
and signformer-config's `data.foreign`: one declaration for every foreign set, or one per set
name (`{phoenix14t: {layout: holistic-512, fps: 25}}`). Every mistake is a ParameterError naming
the key and what it accepts.
"""
from __future__ import annotations

from dataclasses import dataclass

from slt_nb.errors import ParameterError
from slt_nb.layout_files import LayoutFile, layout_file_path, load_layout_file, shipped_layouts
from slt_nb.layouts import ALIGNED_150, LAYOUTS, FeatureLayout, Segment, Skeleton

DECLARATION_KEYS = ("layout", "fps", "normalize", "coordinates", "min_confidence", "frame_size")
NORMALIZATIONS = ("frame", "shoulders")
COORDINATES = ("normalised", "pixels")
UNKNOWN_WORDS = ("", "none", "null", "unknown")
BUILT_IN = {"aligned": ALIGNED_150, ALIGNED_150.name: ALIGNED_150, **LAYOUTS}
NUMBERED = "columns by number"  # the name of the layout of a set whose layout nobody declared


def _unknown(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in UNKNOWN_WORDS)


@dataclass(frozen=True)
class Declaration:
    """One foreign set's declared parameters; None where the user did not say (unknown)."""

    layout: str | None = None
    fps: float | None = None
    normalize: str | None = None
    coordinates: str = "normalised"
    min_confidence: float = 0.0
    frame_size: tuple[int, int] | None = None

    @classmethod
    def from_mapping(cls, mapping: dict, where: str = "foreign") -> "Declaration":
        from slt_nb.settings import parse_frame_size, parse_rate

        if not isinstance(mapping, dict):
            raise ParameterError(f"{where}: {mapping!r} is not a mapping of {list(DECLARATION_KEYS)}")
        unknown = sorted(str(k) for k in mapping if k not in DECLARATION_KEYS)
        if unknown:
            raise ParameterError(f"{where}: unknown keys {unknown}; a foreign set declares {list(DECLARATION_KEYS)}")
        layout = None if _unknown(mapping.get("layout")) else str(mapping["layout"]).strip()
        if layout is not None:
            resolve_layout(layout, where)  # a bad layout is named now, before any file is read
        normalize = None if _unknown(mapping.get("normalize")) else str(mapping["normalize"]).strip()
        if normalize is not None and normalize not in NORMALIZATIONS:
            raise ParameterError(f"{where}: normalize {normalize!r} is not one of {list(NORMALIZATIONS)} "
                                 "(or none: unknown)")
        coordinates = str(mapping.get("coordinates") or "normalised").strip()
        if coordinates not in COORDINATES:
            raise ParameterError(f"{where}: coordinates {coordinates!r} is not one of {list(COORDINATES)}")
        conf = mapping.get("min_confidence") or 0.0
        try:
            conf = float(conf)
        except (TypeError, ValueError):
            conf = -1.0
        if not 0 <= conf <= 1:
            raise ParameterError(f"{where}: min_confidence {mapping.get('min_confidence')!r} is not between 0 and 1")
        fps = None if _unknown(mapping.get("fps")) else parse_rate(f"{where}: fps", mapping["fps"])
        size = parse_frame_size(f"{where}: frame_size", mapping.get("frame_size"))
        return cls(layout, fps, normalize, coordinates, conf, tuple(size) if size else None)

    def unknown(self) -> list[str]:
        """What the user left undeclared that a check against an export needs."""
        return [key for key in ("layout", "fps", "normalize") if getattr(self, key) is None]


def resolve_layout(spec: str, where: str = "layout") -> tuple[FeatureLayout, LayoutFile | None]:
    """A declared layout: a layout file (its layout and the file, for its digest) or a built-in one."""
    if spec in BUILT_IN:
        return BUILT_IN[spec], None
    if layout_file_path(spec) is None:
        raise ParameterError(f"{where}: layout {spec!r} is no layout file (a path ending .yaml or .yml, or one of "
                             f"{shipped_layouts()} in params/layouts/) nor a layout slt-nb writes "
                             f"({sorted(BUILT_IN)}); leave it out to see the columns by number")
    file = load_layout_file(spec)
    return file.layout, file


def numbered_layout(width: int) -> FeatureLayout:
    """The layout of a set whose layout is unknown: one "point" per column, named by its number."""
    skeleton = Skeleton(f"columns{width}", tuple(f"column {i}" for i in range(width)), ())
    return FeatureLayout(NUMBERED, (Segment("columns", skeleton, 0, ("value",)),))


def is_numbered(layout: FeatureLayout) -> bool:
    return layout.name == NUMBERED


@dataclass(frozen=True)
class Foreign:
    """The `foreign` parameter: a declaration for every foreign set, and/or one per set name."""

    every: Declaration | None = None
    by_name: tuple[tuple[str, Declaration], ...] = ()

    def for_set(self, name: str) -> Declaration | None:
        return dict(self.by_name).get(name, self.every)

    def __bool__(self) -> bool:
        return self.every is not None or bool(self.by_name)


def parse_foreign(name: str, value) -> Foreign:
    """`{layout: holistic-512, fps: 25}` (every foreign set) or `{phoenix14t: {...}, gsl: {...}}`."""
    from slt_nb.params import parse_mapping

    if isinstance(value, Foreign):
        return value
    if isinstance(value, Declaration):
        return Foreign(value)
    found = parse_mapping(name, value)
    if not found:
        return Foreign()
    sets = [k for k, v in found.items() if isinstance(v, dict)]  # a set name maps to its declaration
    if not sets:  # one declaration for every set (a misspelt key is named there)
        return Foreign(Declaration.from_mapping(found, name))
    if len(sets) < len(found):
        raise ParameterError(f"{name}: {sorted(set(found) - set(sets))} declare every foreign set and {sorted(sets)} "
                             "name sets; write either {layout: ..., fps: ...} or {SET: {layout: ..., fps: ...}, ...}")
    return Foreign(None, tuple((str(k), Declaration.from_mapping(v, f"{name}.{k}")) for k, v in found.items()))
