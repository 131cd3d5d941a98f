"""What `validate` is given, turned into the parts it checks: manifests, folders, part files, foreign sets.

A manifest names its parts (each checked to be a bare file name beside it) and whatever is wrong
with it is a finding; a part file on disk beside a manifest that the manifest does not list is
an error (a `*.part*` glob in a training config would pick it up). A bare part file is looked up
in the manifest beside it, for its sha256 and sample count. A `.pami0` set made outside slt-nb (a
stem whose parts lie beside it, a folder of `.pami0` files and no manifest) is its files
(`slt_nb.formats.foreign.pami_set`), checked as bare parts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from slt_nb.errors import DataFileError, MissingInput
from slt_nb.formats.foreign import is_pami_path, pami_set
from slt_nb.formats.manifest import manifest_from_document, read_manifest, read_manifest_json
from slt_nb.formats.pami import PART_INDEX

PART_KEYS = ("file", "samples", "sha256")


@dataclass
class Finding:
    severity: str  # "error" fails validation; "warning" is reported only
    check: str
    file: str
    sample: str
    message: str



def _manifest_parts(path: Path, findings: list[Finding]) -> list[tuple[str, str, Path, dict | None]]:
    """(dataset, split, part path, part entry) listed by one manifest; what is wrong with it as findings."""
    def broken(message):
        findings.append(Finding("error", "manifest", str(path), "", message))
        return []

    try:
        manifest = read_manifest_json(path)
    except UnicodeDecodeError as exc:
        return broken(f"not UTF-8 text ({exc.reason} at byte {exc.start}); expected an export manifest (JSON)")
    except json.JSONDecodeError as exc:
        return broken(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; expected an export "
                      "manifest as the export writes it")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
        what = "an empty object" if manifest == {} else f"a JSON {type(manifest).__name__} without 'splits'"
        return broken(f"{what}; expected an export manifest with 'dataset' and 'splits' "
                      "(an interrupted export? run it again)")
    try:
        manifest = manifest_from_document(manifest, path)
    except DataFileError as exc:
        return broken(str(exc).removeprefix(f"{path}: "))
    if not manifest.splits:
        return broken("lists no splits; expected at least one exported split")
    dataset = manifest.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        return broken("has no 'dataset' name")
    label = dataset + (f"-{manifest.variant}" if manifest.variant else "")
    found = []
    for split, entry in manifest.splits.items():
        parts = entry.get("parts") if isinstance(entry, dict) else None
        if not isinstance(parts, list):
            broken(f"split {split!r} has no list of parts")
            continue
        for i, part in enumerate(parts):
            if not isinstance(part, dict) or any(k not in part for k in PART_KEYS):
                broken(f"split {split!r} part entry {i} needs keys {list(PART_KEYS)}; found {part!r:.80}")
                continue
            name = str(part["file"])
            if Path(name).name != name or not name:  # the manifest names files beside itself, nothing else
                broken(f"split {split!r} part entry {i} names {name!r}; expected a file name beside the manifest")
                continue
            found.append((label, split, path.parent / name, part))
    listed = {p.name for _, _, p, _ in found}
    stem = path.name[: -len(".manifest.json")]
    for extra in sorted(path.parent.glob(f"{stem}.pami0.*.part*")):
        if PART_INDEX.search(extra.name) and extra.name not in listed:
            findings.append(Finding("error", "unlisted part", str(extra), "",
                                    f"on disk beside {path.name} but not listed in it: left by another run? "
                                    "a *.part* glob in a training config would pick it up"))
    return found


def collect(inputs, findings: list[Finding]) -> list[tuple[str, str, Path, dict | None]]:
    """(dataset, split, part path, manifest part entry) for manifests, folders or part files."""
    found = []
    for item in inputs:
        path = Path(item)
        if is_pami_path(path) and (path.is_dir() or not path.is_file()):
            found += collect(pami_set(path).all_files(), findings)  # a foreign set's files, as bare parts
            continue
        if not path.exists():
            raise MissingInput(f"{path}: no such manifest, folder or part file")
        if path.is_dir():
            manifests = sorted(path.glob("*.manifest.json"))
            if not manifests:
                raise MissingInput(f"{path}: no *.manifest.json in this folder")
            found += collect(manifests, findings)
        elif path.name.endswith(".manifest.json"):
            found += _manifest_parts(path, findings)
        else:
            # A bare part file: dataset and split from its name, {stem}-{D}.pami0.{split}.part{N}
            stem, _, rest = path.name.partition(".pami0.")
            found.append((stem.rsplit("-", 1)[0], rest.rsplit(".part", 1)[0], path,
                          _listed_beside(path, f"{stem}.manifest.json")))
    by_dataset: dict[tuple, list] = {}
    for entry in found:
        by_dataset.setdefault((entry[0], entry[1]), []).append(entry)
    ordered = []
    for key in by_dataset:
        paths = {str(e[2]): e for e in by_dataset[key]}
        ordered += [paths[p] for p in sorted(paths, key=part_order)]
    return ordered


def _listed_beside(part: Path, manifest_name: str) -> dict | None:
    """The entry of a part in the manifest beside it (its sha256 and sample count), if that lists it."""
    try:
        manifest = read_manifest(part.parent / manifest_name)
        entries = [e for split in manifest["splits"].values() for e in split["parts"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # no readable manifest: the part is checked on its own (validate the manifest to see why)
    return next((e for e in entries if isinstance(e, dict) and e.get("file") == part.name
                 and all(k in e for k in PART_KEYS)), None)


def part_order(path: str):
    m = PART_INDEX.search(path)
    return (0, int(m.group(1)), path) if m else (1, 0, path)



def readable_manifests(inputs) -> tuple[list[tuple[Path, dict]], list[Path]]:
    """The readable manifests among the inputs (folders looked into), and the bare part files."""
    manifests, bare = [], []
    for item in inputs:
        path = Path(item)
        if is_pami_path(path) and (path.is_dir() or not path.is_file()):
            bare += pami_set(path).all_files()  # a foreign set: a stem with parts, a folder of them
            continue
        paths = sorted(path.glob("*.manifest.json")) if path.is_dir() else [path]
        for p in paths:
            if not p.name.endswith(".manifest.json"):
                bare.append(p)
                continue
            try:
                manifest = read_manifest(p)
            except (OSError, ValueError):
                continue  # reported by the manifest check
            if isinstance(manifest, dict) and isinstance(manifest.get("splits"), dict):
                manifests.append((p, manifest))
    return manifests, bare

