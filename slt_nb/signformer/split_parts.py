"""One split's part list read out of an export manifest, every field the resolver uses checked.

The config resolver trusts nothing in a manifest it did not check: a hand-edited or truncated
one must be one ConfigError naming the manifest and the field (`splits.train.parts[3].sha256
is missing, expected a string`), never a KeyError or TypeError from deep inside the resolver.
A part's file name must be a bare name, so that no manifest can point the resolver outside
the folder it sits in.
"""
from __future__ import annotations

import os
from pathlib import Path

from slt_nb.errors import ConfigError
from slt_nb.errors import DataFileError
from slt_nb.formats.manifest import read_manifest


def value_kind(value) -> str:
    """A JSON/YAML value's kind in a user's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def whole_number(value, what: str, file: str | os.PathLike | None = None) -> int:
    """`value` as a number above 0; `what` names it in the ConfigError (and `file` where it was)."""
    if value is None:
        raise ConfigError(f"{what} is missing, expected a whole number", file)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"{what} is {value!r}, expected a whole number", file)
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{what} is {value!r}, expected a whole number", file) from None
    if number <= 0:
        raise ConfigError(f"{what} is {value!r}, expected a number above 0", file)
    return number


def _bad(manifest_file: Path, what: str) -> ConfigError:
    return ConfigError(f"{what}; re-export to write it again", manifest_file)


def _checked_manifest(manifest_file: Path) -> dict:
    try:
        manifest = read_manifest(manifest_file)
    except UnicodeDecodeError as exc:
        raise _bad(manifest_file, f"not UTF-8 text (byte {exc.start})") from None
    except DataFileError as exc:  # a version newer than this slt-nb, a document that is no manifest
        raise ConfigError(str(exc), manifest_file) from None
    except ValueError as exc:
        raise _bad(manifest_file, f"not JSON: {exc}") from None
    except RecursionError:
        raise _bad(manifest_file, "not a manifest: JSON nested too deep to read") from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", manifest_file) from None
    if not isinstance(manifest, dict):
        raise _bad(manifest_file, f"not a manifest: the document is {value_kind(manifest)}, expected an object")
    if not isinstance(manifest.get("splits", {}), dict):
        raise _bad(manifest_file, f"splits is {value_kind(manifest['splits'])}, expected an object of split entries")
    return manifest


def _check_part(manifest_file: Path, where: str, part) -> None:
    if not isinstance(part, dict):
        raise _bad(manifest_file, f"{where} is {value_kind(part)}, expected an object")
    for key, kind in (("index", int), ("file", str), ("sha256", str)):
        if not isinstance(part.get(key), kind) or isinstance(part.get(key), bool):
            found = "missing" if key not in part else f"{part[key]!r}"
            expected = "a whole number" if kind is int else "a string"
            raise _bad(manifest_file, f"{where}.{key} is {found}, expected {expected}")
    name = part["file"]
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        raise _bad(manifest_file, f"{where}.file is {name!r}, expected a file name beside the manifest")


def read_split_parts(manifest_file: Path, split: str) -> tuple[dict, dict, list[dict]]:
    """The manifest, the split's entry and its parts sorted by index ({} and [] for a split it
    does not have), with every field the resolver uses checked."""
    manifest = _checked_manifest(manifest_file)
    splits = manifest.get("splits", {})
    if split not in splits:
        return manifest, {}, []
    entry = splits[split]
    if not isinstance(entry, dict):
        raise _bad(manifest_file, f"splits.{split} is {value_kind(entry)}, expected an object")
    if "parts" not in entry:
        raise _bad(manifest_file, f"splits.{split} has no 'parts'")
    parts = entry["parts"]
    if not isinstance(parts, list):
        raise _bad(manifest_file, f"splits.{split}.parts is {value_kind(parts)}, expected a list")
    for i, part in enumerate(parts):
        _check_part(manifest_file, f"splits.{split}.parts[{i}]", part)
    clip_frames = entry.get("clip_frames", {})
    if not isinstance(clip_frames, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in clip_frames.values()):
        raise _bad(manifest_file, f"splits.{split}.clip_frames is not an object of clip name -> frame count")
    return manifest, entry, sorted(parts, key=lambda p: p["index"])
