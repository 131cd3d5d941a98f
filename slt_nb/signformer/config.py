"""Resolve a Signformer config written with export stems into one Signformer can load.

    slt-nb signformer-config IN.yaml > OUT.yaml
    python -m slt_nb.signformer.config IN.yaml [-o OUT.yaml] [--data-root DIR] [--skip-sha256]

A config written the short way (`train: How2Sign-1024.pami0.train`,
`feature_size: 1024`, `stream_train_parts: true`) cannot run: Signformer has no part-file or
streaming option, and with a list for `train` it needs lists for dev and test and a list
`feature_size`. The resolver rewrites only the `data:` section:

- every stem `{export}.pami0.{split}` becomes its part files in part order, taken from the
  manifest beside them and checked against the files on disk (present, none extra, sha256);
  a path that is a whole file (a PHOENIX `.pami0.train`) is kept as it is;
- `feature_size` becomes a list, checked against every manifest; `multimodal: 0.0`, because
  Signformer's default turns its two-stream image+skeleton model on;
- keys Signformer does not read are removed, each with a note (as YAML comments on top and
  on stderr); required keys it lacks get Signformer's shipped values, also with a note.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

from slt_nb.export.consistency import conflicts, split_parameters
from slt_nb.formats.manifest import read_manifest
from slt_nb.formats.pami import PART_INDEX, SIGNFORMER_MIN_FRAMES, SIGNFORMER_SPLIT, file_sha256
from slt_nb.errors import ConfigError

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
# A Signformer config is a few dozen values, a few hundred with long part lists. Past these
# limits a document is refused before it is built: nested aliases ("billion laughs") expand
# exponentially when printed or walked, and deep nesting overflows Python's recursion.
MAX_VALUES = 100_000
MAX_DEPTH = 100


class ConfigLoader(yaml.SafeLoader):
    """yaml's SafeLoader, refusing documents nested deeper than MAX_DEPTH or whose aliases
    expand to more than MAX_VALUES values, before constructing any of it."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise ConfigError(f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1}")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)


def _check_expansion(root: yaml.Node) -> None:
    """Count the values of the document as if every alias were copied out, without copying."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()  # the node being counted and its ancestors: an alias to one of them is a loop
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted = stack.pop()
        children = [] if isinstance(node, yaml.ScalarNode) else (
            [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else list(node.value))
        if counted:
            open_nodes.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            if size[id(node)] > MAX_VALUES:
                raise ConfigError(f"the document expands to more than {MAX_VALUES} values through its aliases "
                                  f"(the one at line {node.start_mark.line + 1}); refused before building it")
            continue
        if id(node) in size:
            continue  # an alias to a node already counted
        if id(node) in open_nodes:
            raise ConfigError(f"an alias at line {node.start_mark.line + 1} refers to a value that contains it")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children)


def load_config_file(path: str | os.PathLike):
    """The YAML document in `path`; every way it can be unreadable is a ConfigError."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})") from None
    try:
        return yaml.load(text, Loader=ConfigLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        what = "; ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise ConfigError(f"not valid YAML: {where}{what}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("not valid YAML: " + " ".join(str(exc).split())) from None


def _kind(value) -> str:
    """A JSON/YAML value's kind in a user's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _whole_number(value, what: str, file: str | os.PathLike | None = None) -> int:
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


def _read_split_parts(manifest_file: Path, split: str) -> tuple[dict, dict, list[dict]]:
    """The manifest, the split's entry and its parts sorted by index, with every field this
    resolver uses checked: a broken manifest is one ConfigError naming it, not a traceback."""
    def bad(what: str) -> ConfigError:
        return ConfigError(f"{what}; re-export to write it again", manifest_file)

    try:
        manifest = read_manifest(manifest_file)
    except UnicodeDecodeError as exc:
        raise bad(f"not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:
        raise bad(f"not JSON: {exc}") from None
    except RecursionError:
        raise bad("not a manifest: JSON nested too deep to read") from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror or exc}", manifest_file) from None
    if not isinstance(manifest, dict):
        raise bad(f"not a manifest: the document is {_kind(manifest)}, expected an object")
    splits = manifest.get("splits", {})
    if not isinstance(splits, dict):
        raise bad(f"splits is {_kind(splits)}, expected an object of split entries")
    if split not in splits:
        return manifest, {}, []
    entry = splits[split]
    if not isinstance(entry, dict):
        raise bad(f"splits.{split} is {_kind(entry)}, expected an object")
    if "parts" not in entry:
        raise bad(f"splits.{split} has no 'parts'")
    parts = entry["parts"]
    if not isinstance(parts, list):
        raise bad(f"splits.{split}.parts is {_kind(parts)}, expected a list")
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise bad(f"splits.{split}.parts[{i}] is {_kind(part)}, expected an object")
        for key, kind in (("index", int), ("file", str), ("sha256", str)):
            if not isinstance(part.get(key), kind) or isinstance(part.get(key), bool):
                found = "missing" if key not in part else f"{part[key]!r}"
                raise bad(f"splits.{split}.parts[{i}].{key} is {found}, expected {'a whole number' if kind is int else 'a string'}")
        if part["file"] in ("", ".", "..") or Path(part["file"]).name != part["file"] or "\\" in part["file"]:
            raise bad(f"splits.{split}.parts[{i}].file is {part['file']!r}, expected a file name beside the manifest")
    clip_frames = entry.get("clip_frames", {})
    if not isinstance(clip_frames, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in clip_frames.values()):
        raise bad(f"splits.{split}.clip_frames is not an object of clip name -> frame count")
    return manifest, entry, sorted(parts, key=lambda p: p["index"])


def expand_stem(entry: str, root: Path, verify_sha256: bool = True) -> tuple[list[str], int | None, dict]:
    """Part files (as paths relative like `entry`), the export's feature size and the split's
    manifest entry, for one entry.

    An existing file is returned as is (feature size unknown). A stem must have a manifest
    listing its parts, every listed part must exist with its recorded sha256, and no part
    file on disk may be missing from the manifest.
    """
    path = root / entry
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
                          "to check them against; re-export, or list the part files yourself")
    manifest, _, _ = _read_split_parts(manifest_file, split)
    splits = manifest.get("splits", {})
    # the split as named, then the export's name for the same Signformer split (dev <-> val)
    same = [s for s, key in SIGNFORMER_SPLIT.items() if s != split and key == SIGNFORMER_SPLIT.get(split)]
    found = next((s for s in [split, *same] if s in splits), None)
    if found is None:
        raise ConfigError(f"{entry}: {manifest_file} has no split {split!r} (it has {sorted(splits)})")
    _, split_entry, parts = _read_split_parts(manifest_file, found)
    feature_size = _whole_number(manifest.get("feature_size"), "feature_size", manifest_file)
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


def resolve_data_config(data: dict, root: str | os.PathLike = ".", verify_sha256: bool = True) -> tuple[dict, list[str]]:
    """The resolved `data:` section and the notes on what changed."""
    notes: list[str] = []
    data_root = Path(root) / str(data.get("data_path", "./data"))
    resolved = {}
    sizes: dict[str, int] = {}
    deciding: list[tuple[str, dict]] = []  # (entry, parameters) of every export stem
    max_sent_length = _whole_number(data.get("max_sent_length", REQUIRED_DEFAULTS["max_sent_length"]),
                                    "data.max_sent_length")
    for key in ("train", "dev", "test"):
        files = []
        for entry in _entries(data.get(key), key):
            parts, size, split_entry = expand_stem(entry, data_root, verify_sha256)
            if len(parts) > 1 or parts[0] != entry:
                notes.append(f"{key}: {entry} -> {len(parts)} part files")
            lengths = list(split_entry.get("clip_frames", {}).values())
            too_long = sum(1 for n in lengths if n > max_sent_length)
            if key == "train" and too_long:
                notes.append(f"train: {too_long} of {len(lengths)} clips of {entry} have more than max_sent_length "
                             f"{max_sent_length} frames; Signformer drops them from training")
            too_short = sum(1 for n in lengths if n < SIGNFORMER_MIN_FRAMES)
            if too_short:
                notes.append(f"{key}: {too_short} clips of {entry} have fewer than {SIGNFORMER_MIN_FRAMES} frames; Signformer's encoder "
                             "turns them into NaN")
            if size is not None:
                sizes[str(entry)] = size
            if split_entry.get("parameters"):
                deciding.append((str(entry), split_entry["parameters"]))
            files += parts
        resolved[key] = files
    configured = data.get("feature_size")
    if isinstance(configured, list):
        total = sum(_whole_number(x, f"data.feature_size[{i}]") for i, x in enumerate(configured))
    elif configured is not None:
        total = _whole_number(configured, "data.feature_size")
    else:
        total = None
    distinct = sorted(set(sizes.values()))
    if len(distinct) > 1:
        detail = ", ".join(f"{e}: {s}" for e, s in sizes.items())
        raise ConfigError(f"datasets with different feature sizes cannot be trained together ({detail}); "
                          "export them with the same feature_size")
    if distinct and total is not None and distinct[0] != total:
        raise ConfigError(f"data.feature_size is {configured} but the exports have {distinct[0]} features")
    mixed = conflicts(deciding)
    if mixed:
        raise ConfigError("these exports cannot be trained together: " + "; ".join(mixed))
    if total is None:
        if not distinct:
            raise ConfigError("data.feature_size is missing and no export manifest gives it")
        total = distinct[0]
        notes.append(f"feature_size: taken from the manifests ({total})")
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
                            if key == "stream_train_parts" else ""))
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
    return out, notes


def resolve_config(config: dict, root: str | os.PathLike = ".", verify_sha256: bool = True) -> tuple[dict, list[str]]:
    """A whole Signformer config with its `data:` section resolved; other sections unchanged."""
    if not isinstance(config, dict):
        raise ConfigError(f"the document is {_kind(config)}, expected a Signformer config with a data: section")
    if not isinstance(config.get("data"), dict):
        raise ConfigError("the config has no data: section" if "data" not in config
                          else f"data: is {_kind(config['data'])}, expected a section of keys")
    data, notes = resolve_data_config(config["data"], root, verify_sha256)
    return {**config, "data": data}, notes


def config_yaml(config: dict, notes: list[str], source: str = "") -> str:
    header = [f"# Resolved by slt-nb signformer-config{' from ' + source if source else ''}."]
    header += [f"# {note}" for note in notes]
    return "\n".join(header) + "\n" + yaml.safe_dump(config, sort_keys=False, width=120, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="slt-nb signformer-config", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", help="Signformer config with export stems (YAML)")
    ap.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    ap.add_argument("--root", default=".",
                    help="the folder Signformer will run from: data.data_path is relative to it (default: .)")
    ap.add_argument("--skip-sha256", action="store_true", help="do not re-hash the part files")
    args = ap.parse_args(argv)
    try:
        config = load_config_file(args.config)
        resolved, notes = resolve_config(config, args.root, verify_sha256=not args.skip_sha256)
    except ConfigError as exc:
        print(f"error: {exc.file or args.config}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or args.config}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    text = config_yaml(resolved, notes, args.config)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        from slt_nb.atomic import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
