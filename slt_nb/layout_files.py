"""Layout files: a target layout declared in YAML (`-p feature_layout holistic-512`).

A file names the layout, its `feature_size` and its `segments` in column order, each a segment
role (pose, face, left_hand, right_hand, body), a skeleton slt_nb knows (slt_nb.layouts.SKELETONS)
and which of its points (`all`, or names, indices and ranges like "15-467"). A segment with a
subset of points is a derived Skeleton (slt_nb.layouts.Skeleton.subset); a segment may give its
`start` column, else it follows the one before. The export maps each reader's layout into it by
point name (slt_nb.layouts.point_map), as for `aligned`. A bare name is params/layouts/<name>.yaml;
a path ending .yaml/.yml is taken relative to the repository root (slt_nb.params.resolve).
Every error names the file, the segment and what was wrong (ParameterError).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from slt_nb.errors import ParameterError
from slt_nb.layouts import SKELETONS, FeatureLayout, Segment, Skeleton
from slt_nb.params import REPO_ROOT, resolve

LAYOUTS_DIR = REPO_ROOT / "params" / "layouts"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
KEYS = ("name", "feature_size", "segments")
SEGMENT_KEYS = ("name", "skeleton", "points", "start")


@dataclass(frozen=True)
class LayoutFile:
    """A parsed layout file: the layout, the width it was written for, and where it came from."""

    path: Path
    sha256: str
    feature_size: int
    layout: FeatureLayout

    def to_manifest(self) -> dict:
        try:
            shown = str(self.path.relative_to(REPO_ROOT))
        except ValueError:
            shown = str(self.path)
        return {"path": shown, "sha256": self.sha256, "feature_size": self.feature_size}


def layout_file_path(spec: str) -> Path | None:
    """The file a feature_layout value names, or None when it names no layout file (seed, aligned)."""
    spec = str(spec).strip()
    if spec.lower().endswith((".yaml", ".yml")):
        return resolve(spec)
    if _NAME.match(spec) and (LAYOUTS_DIR / f"{spec}.yaml").is_file():
        return LAYOUTS_DIR / f"{spec}.yaml"
    return None


def shipped_layouts() -> list[str]:
    return sorted(p.stem for p in LAYOUTS_DIR.glob("*.yaml"))


def load_layout_file(spec: str | Path) -> LayoutFile:
    """Read and check a layout file (cached per path, size and mtime: an edited file is read again)."""
    path = layout_file_path(str(spec))
    if path is None:
        raise ParameterError(f"parameter 'feature_layout': {spec!r} is no layout file (a path ending .yaml or "
                             f".yml, or one of {shipped_layouts()} in params/layouts/)")
    try:
        stat = path.stat()
    except OSError as e:
        raise ParameterError(f"parameter 'feature_layout': layout file {path} cannot be read ({e.strerror})") from None
    return _load(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: str, size: int, mtime_ns: int) -> LayoutFile:
    data = Path(path).read_bytes()
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as e:
        raise ParameterError(f"layout file {path}: not YAML ({e})") from None
    if not isinstance(doc, dict):
        raise ParameterError(f"layout file {path}: expected a mapping with {list(KEYS)}, found {type(doc).__name__}")
    unknown = sorted(set(doc) - set(KEYS))
    missing = [k for k in KEYS if k not in doc]
    if unknown or missing:
        raise ParameterError(f"layout file {path}: " + "; ".join(
            ([f"unknown keys {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else []))
            + f" (a layout file has {list(KEYS)})")
    name, feature_size = doc["name"], doc["feature_size"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(f"layout file {path}: name {name!r} is not a plain name (letters, digits, _ . -)")
    if isinstance(feature_size, bool) or not isinstance(feature_size, int) or feature_size < 1:
        raise ParameterError(f"layout file {path}: feature_size {feature_size!r} is not a positive whole number")
    if not isinstance(doc["segments"], list) or not doc["segments"]:
        raise ParameterError(f"layout file {path}: segments must be a non-empty list of "
                             f"{{name, skeleton, points}} in column order")
    segments: list[Segment] = []
    for n, entry in enumerate(doc["segments"]):
        segments.append(_segment(path, n, entry, segments[-1].stop if segments else 0, feature_size))
    names = [s.name for s in segments]
    for seg_name in names:
        if names.count(seg_name) > 1:
            raise ParameterError(f"layout file {path}: segment {seg_name!r} is declared {names.count(seg_name)} times; "
                                 f"each segment role once")
    return LayoutFile(Path(path), hashlib.sha256(data).hexdigest(), feature_size, FeatureLayout(name, tuple(segments)))


def _segment(path: str, n: int, entry, start: int, feature_size: int) -> Segment:
    where = f"layout file {path}: segment {n + 1}"
    if not isinstance(entry, dict):
        raise ParameterError(f"{where}: expected {{name, skeleton, points}}, found {entry!r}")
    where = f"layout file {path}: segment {n + 1} ({entry.get('name')!r})"
    unknown = sorted(set(entry) - set(SEGMENT_KEYS))
    if unknown:
        raise ParameterError(f"{where}: unknown keys {unknown} (a segment has {list(SEGMENT_KEYS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(f"{where}: name {name!r} is not a segment role such as pose, face, left_hand, right_hand")
    base = SKELETONS.get(str(entry.get("skeleton")))
    if base is None:
        raise ParameterError(f"{where}: unknown skeleton {entry.get('skeleton')!r}; slt-nb knows {sorted(SKELETONS)}")
    skeleton = base.subset(_points(where, base, entry.get("points", "all")))
    if "start" in entry:
        given = entry["start"]
        if isinstance(given, bool) or not isinstance(given, int) or given < 0:
            raise ParameterError(f"{where}: start {given!r} is not a column number")
        if given < start:
            raise ParameterError(f"{where}: starts at column {given}, overlapping the segment before, "
                                 f"which ends at {start}")
        start = given
    seg = Segment(name, skeleton, start)
    if seg.stop > feature_size:
        raise ParameterError(f"{where}: columns {seg.start}-{seg.stop - 1} ({skeleton.size} points x,y) go past "
                             f"the file's feature_size {feature_size}")
    return seg


def _points(where: str, skeleton: Skeleton, spec) -> tuple[int, ...]:
    """`all`, or names, indices and "a-b" ranges (inclusive) of the skeleton's points, in that order."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return tuple(range(skeleton.size))
    items = spec if isinstance(spec, list) else str(spec).split(",") if isinstance(spec, str) else [spec]
    kept: list[int] = []
    for item in items:
        kept.extend(_point_item(where, skeleton, item))
    if not kept:
        raise ParameterError(f"{where}: points is empty; give `all` or the points to keep")
    seen: set[int] = set()
    for i in kept:
        if i in seen:
            raise ParameterError(f"{where}: point {skeleton.points[i]!r} (index {i}) is listed twice")
        seen.add(i)
    return tuple(kept)


def _point_item(where: str, skeleton: Skeleton, item) -> range | list[int]:
    hint = f"{skeleton.name} has points 0-{skeleton.size - 1} ({skeleton.points[0]} ... {skeleton.points[-1]})"
    if isinstance(item, int) and not isinstance(item, bool):
        if not 0 <= item < skeleton.size:
            raise ParameterError(f"{where}: point index {item} is out of range; {hint}")
        return [item]
    text = str(item).strip()
    if text.isdigit():
        return _point_item(where, skeleton, int(text))
    match = _RANGE.match(text)
    if match:
        a, b = int(match[1]), int(match[2])
        if not 0 <= a <= b < skeleton.size:
            raise ParameterError(f"{where}: point range {text!r} is not within 0-{skeleton.size - 1}; {hint}")
        return range(a, b + 1)
    if text in skeleton.points:
        return [skeleton.index(text)]
    raise ParameterError(f"{where}: unknown point {text!r}; {hint}")
