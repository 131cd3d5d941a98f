"""Check exports meant to be trained together, before Signformer finds the problem mid-training.

    python -m slt_nb.export.validate outputs/exports/How2Sign-1024.manifest.json outputs/exports/LSFB-CONT-1024.manifest.json
    python -m slt_nb.export.validate path/to/*.part0 ...

Each part must load Signformer's way (gzip + one pickle.load -> list of dicts), its gzip stream must
be whole to its end (CRC and length: a flipped bit can load as changed values that only the CRC
reveals), and it must match the sha256 its manifest lists (a part given alone is looked up in the
manifest beside it, when there is one); every `sign` must be a float32 torch tensor (T > 0, feature_size) with finite values; every text non-empty; names
unique across all parts and datasets (Signformer concatenates same-named samples along the feature
axis); all datasets the same feature size (else `stack expects each tensor to be equal size`),
and a sample that differs from the majority is the one blamed; at least 2 frames a sample
(Signformer's encoder turns a 1-frame sample into NaN, and the NaN spreads to every weight).
A manifest must be JSON with its splits and parts; a part file on disk that its manifest does
not list is an error too (a `*.part*` glob in a training config would pick it up).
Samples longer than max_sent_length are reported (Signformer drops them from training silently).
Exports that disagree on layout, normalisation, coordinates, fps or min_confidence are an error, a
warning with `--allow-mixed-layouts` (the mix is meant); different feature sizes are an error always.
Exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
import numpy as np

from slt_nb.errors import DataFileError, MissingInput, UnsafeFile
from slt_nb.formats.manifest import (ALLOW_MIXED_HINT, MIXABLE, UNMIXABLE, manifest_conflicts, manifest_from_document,
                                    read_manifest, read_manifest_json)
from slt_nb.params import parse_flag
from slt_nb.formats.pami import PART_INDEX, SIGNFORMER_MAX_SENT_LENGTH, SIGNFORMER_MIN_FRAMES, file_sha256
from slt_nb.formats.safe_pickle import unpickle_samples
from slt_nb.signformer.memory import manifests_in, ram_summary_lines

REQUIRED_KEYS = ("name", "signer", "gloss", "text", "sign")
PART_KEYS = ("file", "samples", "sha256")


@dataclass
class Finding:
    severity: str  # "error" fails validation; "warning" is reported only
    check: str
    file: str
    sample: str
    message: str


@dataclass
class ValidationReport:
    parts: int = 0
    samples: int = 0
    frames: int = 0
    feature_sizes: dict[str, set] = field(default_factory=dict)  # dataset -> sizes seen
    over_max_length: dict[str, int] = field(default_factory=dict)  # split group -> count
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def table(self):
        import pandas as pd

        return pd.DataFrame([asdict(f) for f in self.findings],
                            columns=["severity", "check", "file", "sample", "message"])

    def summary(self) -> str:
        sizes = {d: sorted(s) for d, s in self.feature_sizes.items()}
        lines = [f"{self.parts} parts, {self.samples} samples, {self.frames} frames; feature sizes {sizes}"]
        for group, n in self.over_max_length.items():
            lines.append(f"{group}: {n} samples longer than max_sent_length")
        errors = self.errors()
        lines.append(f"{len(errors)} errors, {len(self.findings) - len(errors)} warnings: "
                     + ("OK" if self.ok else "FAILED"))
        return "\n".join(lines)


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


def _collect(inputs, findings: list[Finding]) -> list[tuple[str, str, Path, dict | None]]:
    """(dataset, split, part path, manifest part entry) for manifests, folders or part files."""
    found = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise MissingInput(f"{path}: no such manifest, folder or part file")
        if path.is_dir():
            manifests = sorted(path.glob("*.manifest.json"))
            if not manifests:
                raise MissingInput(f"{path}: no *.manifest.json in this folder")
            found += _collect(manifests, findings)
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
        ordered += [paths[p] for p in sorted(paths, key=_part_order)]
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


def _load_whole(path: Path, add) -> list | None:
    """The samples of a part loaded Signformer's way, then its gzip stream read to the end.

    `pickle.load` stops at the pickle's last opcode, before the gzip trailer, so neither Signformer
    nor a plain load ever checks the CRC: a flipped bit inflates to changed numbers and loads.
    """
    try:
        with gzip.open(path, "rb") as stream:
            samples = unpickle_samples(stream, str(path))  # restricted: nothing in the part runs
            try:
                trailing = 0
                while block := stream.read(1 << 20):
                    trailing += len(block)
            except (OSError, EOFError, zlib.error) as exc:
                add("error", "gzip", f"corrupt gzip stream ({type(exc).__name__}: {exc}): the samples load, but "
                    "with changed values that Signformer would not notice; export this part again")
            else:
                if trailing:
                    add("warning", "gzip", f"{trailing} bytes after the pickled list (Signformer ignores them)")
    except FileNotFoundError:
        add("error", "load", "part file missing")
        return None
    except UnsafeFile as exc:
        add("error", "unsafe", f"{exc}: do not give this file to Signformer (its pickle.load would run it)")
        return None
    except Exception as exc:  # whatever gzip/pickle raise, Signformer would raise too
        add("error", "load", f"gzip + pickle.load failed: {type(exc).__name__}: {exc}")
        return None
    return samples


def _part_order(path: str):
    m = PART_INDEX.search(path)
    return (0, int(m.group(1)), path) if m else (1, 0, path)


def validate_exports(inputs, max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH, feature_size: int | None = None,
                     allow_mixed_layouts: bool = False) -> ValidationReport:
    """Validate every part of the given exports (manifests, export folders or part files).

    `allow_mixed_layouts` (a bool, or a yes/no word as papermill's `-p` passes it) makes exports that
    disagree on layout, normalisation or fps a warning: they are meant to be trained together anyway.
    """
    import torch

    allow_mixed_layouts = parse_flag("allow_mixed_layouts", allow_mixed_layouts, False)
    report = ValidationReport()
    names: dict[str, str] = {}  # sample name -> first part file holding it
    sizes: list[tuple[str, str, str, int]] = []  # (dataset, part file, sample, features), judged at the end
    for dataset, split, path, entry in _collect(inputs, report.findings):
        report.parts += 1
        f = str(path)

        def add(severity, check, message, sample=""):
            report.findings.append(Finding(severity, check, f, sample, message))

        if entry is not None and path.exists() and file_sha256(path) != entry["sha256"]:
            add("error", "sha256", "file differs from the sha256 in its manifest (changed or truncated?)")
        samples = _load_whole(path, add)
        if samples is None:
            continue
        if not isinstance(samples, list):
            add("error", "load", f"unpickled a {type(samples).__name__}, Signformer needs a list")
            continue
        if entry is not None and len(samples) != entry["samples"]:
            add("error", "count", f"{len(samples)} samples, manifest says {entry['samples']}")
        group = "train" if split == "train" else split
        for i, s in enumerate(samples):
            if not isinstance(s, dict) or any(k not in s for k in REQUIRED_KEYS):
                have = sorted(s) if isinstance(s, dict) else type(s).__name__
                add("error", "keys", f"sample {i}: needs keys {list(REQUIRED_KEYS)}, has {have}")
                continue
            name = s["name"]
            report.samples += 1
            if name in names:
                add("error", "unique name", f"also in {names[name]}: Signformer would concatenate the two "
                    "along the feature axis", name)
            else:
                names[name] = f
            if not isinstance(s["text"], str) or not s["text"].strip():
                add("error", "text", "empty text", name)
            if not isinstance(s["gloss"], str):
                add("error", "gloss", f"gloss is {type(s['gloss']).__name__}, must be a str", name)
            sign = s["sign"]
            if not isinstance(sign, torch.Tensor):
                add("error", "sign type", f"sign is {type(sign).__name__}; Signformer needs a torch.Tensor", name)
                continue
            if sign.dtype != torch.float32:
                add("error", "sign dtype", f"sign is {sign.dtype}, expected torch.float32", name)
            if sign.dim() != 2 or sign.shape[0] == 0:
                add("error", "sign shape", f"sign shape {tuple(sign.shape)}, expected (T > 0, D)", name)
                continue
            report.frames += int(sign.shape[0])
            size = int(sign.shape[1])
            report.feature_sizes.setdefault(dataset, set()).add(size)
            sizes.append((dataset, f, name, size))
            if sign.shape[0] < SIGNFORMER_MIN_FRAMES:
                add("error", "too short", f"{sign.shape[0]} frame; Signformer needs at least {SIGNFORMER_MIN_FRAMES} "
                    "(a shorter sample turns the loss, then every weight, into NaN)", name)
            if not np.isfinite(sign.numpy()).all():  # 40x torch.isfinite(...).all() on a (200, 1024) sign
                add("error", "finite", "sign holds NaN or inf", name)
            if sign.shape[0] > max_sent_length:
                report.over_max_length[group] = report.over_max_length.get(group, 0) + 1
                if group == "train":
                    add("warning", "max_sent_length",
                        f"{sign.shape[0]} frames > max_sent_length {max_sent_length}: dropped from training", name)
    report.findings += _feature_size_findings(sizes, feature_size)
    report.findings += _parameter_findings(inputs, allow_mixed_layouts)
    report.findings += _clips_in_two_splits(inputs)
    return report


def _manifests(inputs) -> tuple[list[tuple[Path, dict]], list[Path]]:
    """The readable manifests among the inputs (folders looked into), and the bare part files."""
    manifests, bare = [], []
    for item in inputs:
        path = Path(item)
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


def _clips_in_two_splits(inputs) -> list[Finding]:
    """A warning per clip that two splits of one export both hold (manifest `clip_frames`)."""
    findings = []
    for path, manifest in _manifests(inputs)[0]:
        seen: dict[str, str] = {}  # clip -> first split holding it
        for split, entry in manifest["splits"].items():
            clips = entry.get("clip_frames") if isinstance(entry, dict) else None
            for clip in clips if isinstance(clips, dict) else {}:
                if clip in seen:
                    findings.append(Finding("warning", "clip in two splits", str(path), clip,
                                            f"clip {clip} is in split {seen[clip]!r} and in split {split!r}: "
                                            "a model evaluated on a clip it was trained on scores too well"))
                else:
                    seen[clip] = split
    return findings


def _parameter_findings(inputs, allow_mixed_layouts: bool = False) -> list[Finding]:
    """Errors (warnings, where the mix is allowed) where exports, or splits of one, to be trained
    together disagree on what a number means; different feature sizes are errors always."""
    manifests, bare = _manifests(inputs)
    files, items = ", ".join(str(p) for p, _ in manifests), [(p.name[: -len(".manifest.json")], m) for p, m in manifests]
    findings = [Finding("warning", "parameters", files, "", f"{m}; trained together anyway (allow_mixed_layouts)")
                if allow_mixed_layouts else Finding("error", "parameters", files, "", f"{m}; {ALLOW_MIXED_HINT}")
                for m in manifest_conflicts(items, MIXABLE)]
    findings += [Finding("error", "parameters", files, "", m) for m in manifest_conflicts(items, UNMIXABLE)]
    stems = {p.name[: -len(".manifest.json")] for p, _ in manifests}
    for p in bare:
        if manifests and p.name.split(".pami0.")[0] not in stems:
            findings.append(Finding("warning", "parameters", str(p), "",
                                    "no manifest beside it: its layout, normalisation and frame rate are unknown, "
                                    "so it cannot be checked against the other exports"))
    return findings


def _feature_size_findings(sizes: list[tuple[str, str, str, int]], required: int | None) -> list[Finding]:
    """One finding per sample whose feature size differs from the required one, else from the majority.

    Blaming the first sample seen would blame a good export for one stray bad part; the
    majority (first seen on a tie) is what the other samples will be stacked with.
    """
    if not sizes:
        return []
    counts = Counter(size for *_, size in sizes)
    expected = required if required is not None else counts.most_common(1)[0][0]
    holder = next((d for d, _, _, size in sizes if size == expected), None)
    findings = []
    for _dataset, f, name, size in sizes:
        if size == expected:
            continue
        if required is not None:
            message = f"{size} features, expected {required}"
        else:
            message = (f"{size} features but {counts[expected]} of {len(sizes)} samples ({holder} among them) have "
                       f"{expected}: training would fail with 'stack expects each tensor to be equal size, "
                       f"but got [{expected}] ... and [{size}]'")
        findings.append(Finding("error", "feature size", f, name, message))
    return findings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m slt_nb.export.validate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="export manifests, export folders, or .pami0 part files")
    ap.add_argument("--max-sent-length", type=int, default=SIGNFORMER_MAX_SENT_LENGTH)
    ap.add_argument("--feature-size", type=int, default=None, help="require this feature size")
    ap.add_argument("--allow-mixed-layouts", action="store_true", help="exports that disagree on layout, "
                    "normalisation or fps are trained together anyway: a warning, not an error")
    args = ap.parse_args(argv)
    try:
        report = validate_exports(args.inputs, args.max_sent_length, args.feature_size, args.allow_mixed_layouts)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in report.findings:
        where = f"{finding.file}" + (f" [{finding.sample}]" if finding.sample else "")
        print(f"{finding.severity.upper():8} {finding.check:16} {where}: {finding.message}")
    print(report.summary())
    manifests = manifests_in(args.inputs)
    if manifests:  # what these exports will cost in Signformer's RAM, and in the lean loader's
        try:
            lines = ram_summary_lines(manifests)
        except (KeyError, TypeError, ValueError) as exc:  # an incomplete manifest, already reported above
            lines = [f"not available: a manifest lacks {exc}"]
        print("projected Signformer RAM:\n  " + "\n  ".join(lines))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
