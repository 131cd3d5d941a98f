"""A config entry that is a `.pami0` set made outside slt-nb: read safely, sized, and declared.

Signformer will `pickle.load` every file a config lists, so before a config names one that has no
manifest (PHOENIX-2014T's `phoenix14t.pami0.train`, or a user's `.part{N}` files), the resolver
reads it through the restricted unpickler (`slt_nb.formats.foreign.scan_file`): a file with a
code payload is refused unrun, and one whose samples Signformer would trip over (no 2-D `sign`,
no text, two widths, a name given twice) is refused naming the file. Its width is measured, so
it is checked against the exports' feature size like an export.

What the files cannot say (layout, fps, normalisation) comes from the config's `data.foreign`,
the same declaration compare and validate take: `{layout: holistic-512, fps: 25, normalize:
frame}` for every such set, or `{phoenix14t: {...}}` per set. A declared set takes part in the
check that the entries can be trained together; a declared stem whose parts lie beside it
becomes its part files in part order.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from slt_nb.errors import ConfigError, SltNbError, UnsafeFile
from slt_nb.datasets.declaration import Declaration, Foreign, parse_foreign
from slt_nb.formats.foreign import PAMI_NAME, is_pami_path, pami_set, scan_file
from slt_nb.formats.manifest import split_parameters

SHOWN = 3  # examples named in a refusal


def foreign_declarations(data: dict) -> Foreign:
    """`data.foreign` read, as a ConfigError naming it when it does not parse."""
    try:
        return parse_foreign("data.foreign", data.get("foreign"))
    except SltNbError as exc:
        raise ConfigError(str(exc)) from None


def declaration_for(entry: str, foreign: Foreign) -> Declaration | None:
    m = PAMI_NAME.match(Path(entry).name)
    return foreign.for_set(m["stem"]) if m else None


def is_foreign_entry(entry: str, root: Path, foreign: Foreign) -> bool:
    """A whole file, or a declared stem whose parts (and no manifest) lie beside it."""
    path = root / entry
    if path.is_file():
        return True
    return declaration_for(entry, foreign) is not None and is_pami_path(path)


def _scanned(entry: str, files: list[Path]) -> list:
    infos = []
    for path in files:
        try:
            infos += scan_file(path)
        except UnsafeFile as exc:
            raise ConfigError(f"{entry}: {exc}: Signformer's pickle.load would run it; do not train on this file") from None
        except SltNbError as exc:
            raise ConfigError(f"{entry}: {exc}") from None
    return infos


def _width(entry: str, infos: list) -> int:
    """The one width of the entry's samples, or a ConfigError naming what Signformer would trip over."""
    broken = [f"{i.file.name} sample {i.index} ({i.name}): {'; '.join(i.problems)}" for i in infos if i.problems]
    if broken:
        raise ConfigError(f"{entry}: {len(broken)} samples Signformer cannot load as they are: "
                          + "; ".join(broken[:SHOWN]) + ("; ..." if len(broken) > SHOWN else "")
                          + " (slt-nb validate lists them all)")
    widths = Counter(i.width for i in infos)
    if not widths:
        raise ConfigError(f"{entry}: holds no samples")
    if len(widths) > 1:
        raise ConfigError(f"{entry}: samples of {len(widths)} widths ({dict(widths)}); Signformer stacks rows of one "
                          "width only")
    names = Counter(i.name for i in infos)
    twice = [n for n, k in names.items() if k > 1]
    if twice:
        raise ConfigError(f"{entry}: sample names given twice ({', '.join(twice[:SHOWN])}): Signformer would join "
                          "them along the feature axis")
    return next(iter(widths))


def expand_foreign(entry: str, root: Path, foreign: Foreign) -> tuple[list[str], int, dict]:
    """(files relative like `entry`, width, split entry with `clip_frames` and, where declared,
    `parameters`) for a whole file or a declared stem with parts."""
    from slt_nb.datasets.pami import PamiReader

    try:
        found = pami_set(root / entry)
    except SltNbError as exc:
        raise ConfigError(f"{entry}: {exc}") from None
    ((split, files),) = found.files.items()
    infos = _scanned(entry, list(files))
    width = _width(entry, infos)
    relative = Path(entry).parent
    listed = [entry] if (root / entry).is_file() else [
        str(relative / p.name) if str(relative) != "." else p.name for p in files]
    split_entry: dict = {"clip_frames": {i.name: i.frames for i in infos}}
    declaration = declaration_for(entry, foreign)
    if declaration is not None:
        try:
            manifest = PamiReader(str(root / entry), declaration, given_files={split: files}).declared_manifest(width)
        except SltNbError as exc:
            raise ConfigError(f"{entry}: data.foreign: {exc}") from None
        split_entry["parameters"] = split_parameters(manifest, split)
    return listed, width, split_entry
