"""Resolve a Signformer config written with export stems into one Signformer can load.

    slt-nb signformer-config IN.yaml > OUT.yaml
    python -m slt_nb.signformer.config IN.yaml [-o OUT.yaml] [--root DIR] [--skip-sha256] [--allow-mixed-layouts]

A config written the short way (`train: How2Sign-1024.pami0.train`,
`feature_size: 1024`, `stream_train_parts: true`) cannot run: Signformer has no part-file or
streaming option, and with a list for `train` it needs lists for dev and test and a list
`feature_size`. The resolver rewrites only the `data:` section:

- every stem `{export}.pami0.{split}` becomes its part files in part order, taken from the
  manifest beside them and checked against the files on disk (present, none extra, sha256);
  a path that is a whole file (a PHOENIX `.pami0.train`) is kept as it is, read through the
  restricted unpickler first (a code payload is refused unrun) and sized; a set made outside
  slt-nb is checked against the exports through what `data.foreign` declares of it
  (`foreign_sets`: `{layout: holistic-512, fps: 25, normalize: frame}`), and a declared stem
  with parts and no manifest becomes its parts;
- `feature_size` becomes a list, checked against every manifest; `multimodal: 0.0`, because
  Signformer's default turns its two-stream image+skeleton model on;
- keys Signformer does not read are removed, each with a note (as YAML comments on top and
  on stderr); required keys it lacks get Signformer's shipped values, also with a note;
- exports that disagree on what their columns mean (layout, normalisation, coordinates, fps,
  min_confidence) are refused (IncompatibleExports) unless `--allow-mixed-layouts` says the mix
  is meant: then each disagreement is a warning on stderr and a comment on top of the config.
  Different feature sizes are refused always: Signformer cannot stack rows of different widths.

Reading the YAML safely is `safe_yaml`; checking a manifest's split entry field by field is
`split_parts`. Every refusal is a ConfigError, printed as one `error:` line naming the file.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

from slt_nb.errors import ConfigError, IncompatibleExports
from slt_nb.formats.manifest import ALLOW_MIXED_HINT, MIXABLE, UNMIXABLE, conflicts, split_parameters
from slt_nb.formats.pami import PART_INDEX, SIGNFORMER_MIN_FRAMES, SIGNFORMER_SPLIT, file_sha256
from slt_nb.datasets.declaration import Foreign
from slt_nb.signformer.foreign_sets import expand_foreign, foreign_declarations, is_foreign_entry
from slt_nb.signformer.safe_yaml import load_config_file
from slt_nb.signformer.split_parts import read_split_parts, value_kind, whole_number

# Every data: key some part of Signformer reads (load_data, TrainManager, test, Batch).
SIGNFORMER_DATA_KEYS = (
    "data_path", "version", "sgn", "txt", "gls", "train", "dev", "test", "feature_size", "multimodal",
    "level", "txt_lowercase", "max_sent_length", "random_train_subset", "random_dev_subset",
    "gls_voc_limit", "gls_voc_min_freq", "txt_voc_limit", "txt_voc_min_freq", "gls_vocab", "txt_vocab",
    "frame_subsampling_ratio", "random_frame_subsampling", "random_frame_masking_ratio",
)
# Required by Signformer's load_data, with the values its shipped configs use.
REQUIRED_DEFAULTS = {"level": "word", "txt_lowercase": True, "max_sent_length": 400}
STEM = re.compile(r"^(?P<export>.+)\.pami0\.(?P<split>[^./]+)$")


class MixedExports(str):
    """A note that the exports disagree on a deciding parameter and are trained together anyway
    (`allow_mixed_layouts`): `config_yaml` puts these on top, `main` prints them as warnings."""


def expand_stem(entry: str, root: Path, verify_sha256: bool = True,
                foreign: Foreign | None = None) -> tuple[list[str], int | None, dict]:
    """Part files (as paths relative like `entry`), the export's feature size and the split's
    manifest entry, for one entry.

    An existing file is returned as is, read through the restricted unpickler and sized (a set
    made outside slt-nb, `foreign_sets`; its parameters where `foreign` declares them), and so is
    a declared stem whose parts lie beside it with no manifest. Any other stem must have a manifest
    listing its parts, every listed part must exist with its recorded sha256, and no part file on
    disk may be missing from the manifest.
    """
    path = root / entry
    foreign = foreign or Foreign()
    if is_foreign_entry(entry, root, foreign) and not (path.parent / f"{Path(entry).name.split('.pami0.')[0]}"
                                                       ".manifest.json").is_file():
        return expand_foreign(entry, root, foreign)
    if path.is_file():
        return [entry], None, {}
    m = STEM.match(Path(entry).name)
    if not m:
        raise ConfigError(f"{entry}: no such file under {root}, and not an export stem "
                          "(expected {Dataset}-{feature_size}.pami0.{split})")
    export, split = m.group("export"), m.group("split")
    folder = path.parent
    on_disk = sorted(p.name for p in folder.glob(f"{path.name}.part*") if PART_INDEX.search(p.name))
    manifest_file = folder / f"{export}.manifest.json"
    if not manifest_file.is_file():
        if not on_disk:
            raise ConfigError(f"{entry}: no part files {path.name}.part* and no manifest {manifest_file.name} "
                              f"in {folder}: was this split exported?")
        raise ConfigError(f"{entry}: {len(on_disk)} part files in {folder} but no manifest {manifest_file.name} "
                          "to check them against; re-export, list the part files yourself, or declare the set "
                          f"under data.foreign ({export}: {{layout: ..., fps: ..., normalize: ...}})")
    manifest, _, _ = read_split_parts(manifest_file, split)
    splits = manifest.get("splits", {})
    # the split as named, then the export's name for the same Signformer split (dev <-> val)
    same = [s for s, key in SIGNFORMER_SPLIT.items() if s != split and key == SIGNFORMER_SPLIT.get(split)]
    found = next((s for s in [split, *same] if s in splits), None)
    if found is None:
        raise ConfigError(f"{entry}: {manifest_file} has no split {split!r} (it has {sorted(splits)})")
    _, split_entry, parts = read_split_parts(manifest_file, found)
    feature_size = whole_number(manifest.get("feature_size"), "feature_size", manifest_file)
    try:
        parameters = split_parameters(manifest, found)
    except (AttributeError, TypeError, ValueError) as exc:
        raise ConfigError(f"its parameters for split {found!r} (layout, reader) cannot be read: {exc}; "
                          "re-export to write it again", manifest_file) from None
    if not parts:
        raise ConfigError(f"{entry}: {manifest_file} lists no parts for split {found!r}")
    indices = [p["index"] for p in parts]
    if indices != list(range(len(parts))):
        raise ConfigError(f"{entry}: {manifest_file} lists parts {indices} for {found!r}; expected 0..{len(parts) - 1}")
    listed = {p["file"] for p in parts}
    expected_prefix = f"{export}.pami0.{found}.part"
    on_disk = sorted(p.name for p in folder.glob(f"{expected_prefix}*") if PART_INDEX.search(p.name))
    unlisted = [name for name in on_disk if name not in listed]
    if unlisted:
        raise ConfigError(f"{entry}: part files {unlisted} in {folder} are missing from {manifest_file.name}; "
                          "they belong to another export run: re-export or delete them")
    relative_folder = Path(entry).parent
    files = []
    for part in parts:
        part_path = folder / part["file"]
        if not part_path.is_file():
            raise ConfigError(f"{entry}: {part_path} is listed in {manifest_file.name} but missing")
        if verify_sha256 and file_sha256(part_path) != part["sha256"]:
            raise ConfigError(f"{entry}: {part_path} differs from the sha256 in {manifest_file.name} "
                              "(changed or truncated since the export)")
        files.append(str(relative_folder / part["file"]) if str(relative_folder) != "." else part["file"])
    return files, feature_size, {**split_entry, "parameters": parameters}


def _entries(value, key: str) -> list[str]:
    if value is None:
        raise ConfigError(f"data.{key} is missing: Signformer's load_data needs train, dev and test")
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if not isinstance(entry, str) or not entry:
            raise ConfigError(f"data.{key} has {entry!r}, expected an export stem or a data file path "
                              "(or a list of them)")
    return entries


def _length_notes(key: str, entry: str, split_entry: dict, max_sent_length: int) -> list[str]:
    """What Signformer will do with the clips of one export that are too long or too short."""
    notes = []
    lengths = list(split_entry.get("clip_frames", {}).values())
    too_long = sum(1 for n in lengths if n > max_sent_length)
    if key == "train" and too_long:
        notes.append(f"train: {too_long} of {len(lengths)} clips of {entry} have more than max_sent_length "
                     f"{max_sent_length} frames; Signformer drops them from training")
    too_short = sum(1 for n in lengths if n < SIGNFORMER_MIN_FRAMES)
    if too_short:
        notes.append(f"{key}: {too_short} clips of {entry} have fewer than {SIGNFORMER_MIN_FRAMES} frames; Signformer's encoder "
                     "turns them into NaN")
    return notes


def _expand_splits(data: dict, data_root: Path, verify_sha256: bool, notes: list[str]):
    """train, dev and test as part-file lists, with the feature size of every export stem and
    the (entry, parameters) that decide whether the exports can be trained together."""
    max_sent_length = whole_number(data.get("max_sent_length", REQUIRED_DEFAULTS["max_sent_length"]),
                                   "data.max_sent_length")
    resolved: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    deciding: list[tuple[str, dict]] = []
    foreign = foreign_declarations(data)
    for key in ("train", "dev", "test"):
        files = []
        for entry in _entries(data.get(key), key):
            parts, size, split_entry = expand_stem(entry, data_root, verify_sha256, foreign)
            if len(parts) > 1 or parts[0] != entry:
                notes.append(f"{key}: {entry} -> {len(parts)} part files")
            notes += _length_notes(key, entry, split_entry, max_sent_length)
            if size is not None:
                sizes[str(entry)] = size
            if split_entry.get("parameters"):
                deciding.append((str(entry), split_entry["parameters"]))
            files += parts
        resolved[key] = files
    return resolved, sizes, deciding


def _feature_size(configured, sizes: dict[str, int]) -> int | None:
    """The total feature size: the config's, checked against the manifests', or theirs."""
    if isinstance(configured, list):
        total = sum(whole_number(x, f"data.feature_size[{i}]") for i, x in enumerate(configured))
    elif configured is not None:
        total = whole_number(configured, "data.feature_size")
    else:
        total = None
    distinct = sorted(set(sizes.values()))
    if len(distinct) > 1:
        detail = ", ".join(f"{e}: {s}" for e, s in sizes.items())
        raise ConfigError(f"datasets with different feature sizes cannot be trained together ({detail}); "
                          "export them with the same feature_size")
    if distinct and total is not None and distinct[0] != total:
        raise ConfigError(f"data.feature_size is {configured} but the exports have {distinct[0]} features")
    return total if total is not None else distinct[0] if distinct else None


def _signformer_keys(data: dict, resolved: dict[str, list[str]], total: int, notes: list[str]) -> dict:
    """The data: section with the resolved part lists, only keys Signformer reads, and the
    values it needs (a list feature_size, multimodal off, the required keys)."""
    out = {}
    for key, value in data.items():
        if key in ("train", "dev", "test"):
            out[key] = resolved[key]
        elif key == "feature_size":
            out[key] = [total] if not isinstance(value, list) else value
            if not isinstance(value, list):
                notes.append(f"feature_size: {value} -> [{total}] (a list, since train is a list)")
        elif key in SIGNFORMER_DATA_KEYS:
            out[key] = value
        else:
            notes.append(f"removed {key}: {value!r}: Signformer does not read it"
                         + (" (the lean loader reads part files one at a time instead)"
                            if key == "stream_train_parts" else "")
                         + (" (slt-nb's declaration of the sets without a manifest, checked above)"
                            if key == "foreign" else ""))
    out.setdefault("feature_size", [total])
    for key in ("train", "dev", "test"):
        out.setdefault(key, resolved[key])
    if data.get("multimodal", 1.0) != 0.0:
        notes.append(f"multimodal: {data.get('multimodal', '(absent, default 1.0)')} -> 0.0 "
                     "(Signformer's default splits 1124 features into image and skeleton streams)")
    out["multimodal"] = 0.0
    for key, value in REQUIRED_DEFAULTS.items():
        if key not in out:
            out[key] = value
            notes.append(f"{key}: absent, set to Signformer's shipped value {value!r}")
    return out


def _mixed_exports(deciding: list[tuple[str, dict]], allow_mixed_layouts: bool) -> list[MixedExports]:
    """The disagreements allowed by `allow_mixed_layouts`; raises on any other, or on all without it."""
    unmixable = conflicts(deciding, UNMIXABLE)
    if unmixable:  # the feature sizes agree per manifest (checked first), but a split's record may not
        raise ConfigError("these exports cannot be trained together, even with --allow-mixed-layouts: "
                          + "; ".join(unmixable))
    mixed = conflicts(deciding, MIXABLE)
    if mixed and not allow_mixed_layouts:
        raise IncompatibleExports("these exports cannot be trained together: " + "; ".join(mixed)
                                  + "; " + ALLOW_MIXED_HINT)
    return [MixedExports(message) for message in mixed]


def resolve_data_config(data: dict, root: str | os.PathLike = ".", verify_sha256: bool = True,
                        allow_mixed_layouts: bool = False) -> tuple[dict, list[str]]:
    """The resolved `data:` section and the notes on what changed (first the allowed mix, if any)."""
    notes: list[str] = []
    data_root = Path(root) / str(data.get("data_path", "./data"))
    resolved, sizes, deciding = _expand_splits(data, data_root, verify_sha256, notes)
    total = _feature_size(data.get("feature_size"), sizes)
    notes[:0] = _mixed_exports(deciding, allow_mixed_layouts)
    if total is None:
        raise ConfigError("data.feature_size is missing and no export manifest gives it")
    if data.get("feature_size") is None:
        notes.append(f"feature_size: taken from the manifests ({total})")
    return _signformer_keys(data, resolved, total, notes), notes


def resolve_config(config: dict, root: str | os.PathLike = ".", verify_sha256: bool = True,
                   allow_mixed_layouts: bool = False) -> tuple[dict, list[str]]:
    """A whole Signformer config with its `data:` section resolved; other sections unchanged.

    `allow_mixed_layouts` trains exports that disagree on layout, normalisation or fps together
    anyway; each disagreement is then a `MixedExports` note instead of IncompatibleExports.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"the document is {value_kind(config)}, expected a Signformer config with a data: section")
    if not isinstance(config.get("data"), dict):
        raise ConfigError("the config has no data: section" if "data" not in config
                          else f"data: is {value_kind(config['data'])}, expected a section of keys")
    data, notes = resolve_data_config(config["data"], root, verify_sha256, allow_mixed_layouts)
    return {**config, "data": data}, notes


def config_yaml(config: dict, notes: list[str], source: str = "") -> str:
    """The config as YAML under comments: the allowed mix first, then what the resolver changed."""
    mixed = [note for note in notes if isinstance(note, MixedExports)]
    header = ["# allow_mixed_layouts: these exports disagree and are trained together anyway:"] if mixed else []
    header += [f"#   {note}" for note in mixed]
    header += [f"# Resolved by slt-nb signformer-config{' from ' + source if source else ''}."]
    header += [f"# {note}" for note in notes if not isinstance(note, MixedExports)]
    return "\n".join(header) + "\n" + yaml.safe_dump(config, sort_keys=False, width=120, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="slt-nb signformer-config", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", help="Signformer config with export stems (YAML)")
    ap.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    ap.add_argument("--root", default=".",
                    help="the folder Signformer will run from: data.data_path is relative to it (default: .)")
    ap.add_argument("--skip-sha256", action="store_true", help="do not re-hash the part files")
    ap.add_argument("--allow-mixed-layouts", action="store_true",
                    help="train exports that disagree on layout, normalisation or fps together anyway "
                         "(a warning and a comment on top instead of an error; feature sizes must still agree)")
    args = ap.parse_args(argv)
    try:
        config = load_config_file(args.config)
        resolved, notes = resolve_config(config, args.root, verify_sha256=not args.skip_sha256,
                                         allow_mixed_layouts=args.allow_mixed_layouts)
    except ConfigError as exc:
        print(f"error: {exc.file or args.config}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or args.config}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    text = config_yaml(resolved, notes, args.config)
    for note in notes:
        print(f"{'warning' if isinstance(note, MixedExports) else 'note'}: {note}", file=sys.stderr)
    if args.output:
        from slt_nb.atomic import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
