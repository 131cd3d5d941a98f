"""Check exports meant to be trained together, before Signformer finds the problem mid-training.

    python -m slt_nb.export.validate outputs/exports/How2Sign-1024.manifest.json outputs/exports/LSFB-CONT-1024.manifest.json
    python -m slt_nb.export.validate path/to/*.part0 ...
    slt-nb validate outputs/exports-holistic/How2Sign-1024.manifest.json /data/phoenix14t.pami0.dev \
        --layout holistic-512 --fps 25 --normalize frame

Each part must load Signformer's way (gzip + one pickle.load -> list of dicts), its gzip stream must
be whole to its end (CRC and length: a flipped bit can load as changed values that only the CRC
reveals), and it must match the sha256 its manifest lists (a part given alone is looked up in the
manifest beside it, when there is one); every `sign` must
be a float32 torch tensor (T > 0, feature_size) with finite values; every text non-empty; names
unique across all parts and datasets (Signformer concatenates same-named samples along the feature
axis); all datasets the same feature size (else `stack expects each tensor to be equal size`),
and a sample that differs from the majority is the one blamed; at least 2 frames a sample
(Signformer's encoder turns a 1-frame sample into NaN, and the NaN spreads to every weight).
A manifest must be JSON with its splits and parts; a part file on disk that its manifest does
not list is an error too (a `*.part*` glob in a training config would pick it up).
Samples longer than max_sent_length are reported (Signformer drops them from training silently).
Exports that disagree on layout (by name and layout file sha256), normalisation, coordinates, fps or
min_confidence are an error, a warning with `--allow-mixed-layouts` (the mix is meant); different
feature sizes are an error always. A `.pami0` set made outside slt-nb (a whole file, its parts, a
folder of them) is checked part by part like any part, and against the exports through what
`--layout`, `--fps`, `--normalize` declare of it (`export.validate_mix`); undeclared, it is a warning.
Exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
import gzip
import sys
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from slt_nb.errors import SltNbError, UnsafeFile
from slt_nb.export.validate_inputs import PART_KEYS, Finding, collect  # noqa: F401  (PART_KEYS, Finding: re-exported)
from slt_nb.export.validate_mix import clips_in_two_splits, feature_size_findings, parameter_findings
from slt_nb.params import parse_flag
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH, SIGNFORMER_MIN_FRAMES, file_sha256
from slt_nb.formats.safe_pickle import unpickle_samples
from slt_nb.signformer.memory import manifests_in, ram_summary_lines

REQUIRED_KEYS = ("name", "signer", "gloss", "text", "sign")


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


def validate_exports(inputs, max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH, feature_size: int | None = None,
                     allow_mixed_layouts: bool = False, foreign=None) -> ValidationReport:
    """Validate every part of the given exports (manifests, export folders, part files, foreign sets).

    `allow_mixed_layouts` (a bool, or a yes/no word as papermill's `-p` passes it) makes exports that
    disagree on layout, normalisation or fps a warning: they are meant to be trained together anyway.
    `foreign` declares the layout, fps and normalisation of `.pami0` sets made outside slt-nb among
    the inputs (`{layout: holistic-512, fps: 25, normalize: frame}`, or `{NAME: {...}}` per set), so
    they are checked against the exports as an export would be.
    """
    allow_mixed_layouts = parse_flag("allow_mixed_layouts", allow_mixed_layouts, False)
    report = ValidationReport()
    names: dict[str, str] = {}  # sample name -> first part file holding it
    sizes: list[tuple[str, str, str, int]] = []  # (dataset, part file, sample, features), judged at the end
    for dataset, split, path, entry in collect(inputs, report.findings):
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
        for i, s in enumerate(samples):
            size = _check_sample(report, i, s, "train" if split == "train" else split, names, f, add, max_sent_length)
            if size is not None:
                report.feature_sizes.setdefault(dataset, set()).add(size)
                sizes.append((dataset, f, s["name"], size))
    report.findings += feature_size_findings(sizes, feature_size)
    try:
        report.findings += parameter_findings(inputs, allow_mixed_layouts, foreign, _widths(sizes))
    except SltNbError as exc:  # a declaration that cannot be read (a layout file that is not there)
        report.findings.append(Finding("error", "declaration", ", ".join(map(str, inputs)), "", str(exc)))
    report.findings += clips_in_two_splits(inputs)
    return report


def _widths(sizes: list[tuple[str, str, str, int]]) -> dict[str, int]:
    """The feature size most samples of each file stem have (the width a foreign set is declared at)."""
    counts: dict[str, Counter] = {}
    for _dataset, f, _name, size in sizes:
        counts.setdefault(Path(f).name.split(".pami0.")[0], Counter())[size] += 1
    return {stem: c.most_common(1)[0][0] for stem, c in counts.items()}


def _check_sample(report: ValidationReport, i: int, s, group: str, names: dict[str, str], f: str, add,
                  max_sent_length: int) -> int | None:
    """One sample's checks (keys, unique name, text, gloss, sign); its feature size when it has rows."""
    import torch

    if not isinstance(s, dict) or any(k not in s for k in REQUIRED_KEYS):
        have = sorted(s) if isinstance(s, dict) else type(s).__name__
        add("error", "keys", f"sample {i}: needs keys {list(REQUIRED_KEYS)}, has {have}")
        return None
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
        return None
    if sign.dtype != torch.float32:
        add("error", "sign dtype", f"sign is {sign.dtype}, expected torch.float32", name)
    if sign.dim() != 2 or sign.shape[0] == 0:
        add("error", "sign shape", f"sign shape {tuple(sign.shape)}, expected (T > 0, D)", name)
        return None
    report.frames += int(sign.shape[0])
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
    return int(sign.shape[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m slt_nb.export.validate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="export manifests, export folders, or .pami0 part files")
    ap.add_argument("--max-sent-length", type=int, default=SIGNFORMER_MAX_SENT_LENGTH)
    ap.add_argument("--feature-size", type=int, default=None, help="require this feature size")
    ap.add_argument("--allow-mixed-layouts", action="store_true", help="exports that disagree on layout, "
                    "normalisation or fps are trained together anyway: a warning, not an error")
    foreign = ap.add_argument_group("a .pami0 set made outside slt-nb among the inputs (no manifest) declares")
    foreign.add_argument("--layout", help="its columns: a layout file (holistic-512, FILE.yaml)")
    foreign.add_argument("--fps", help="its frame rate, e.g. 25")
    foreign.add_argument("--normalize", help="its scale: frame (fractions of the frame, or pixels) or shoulders")
    foreign.add_argument("--coordinates", help="normalised (default) or pixels")
    args = ap.parse_args(argv)
    declared = {k: getattr(args, k) for k in ("layout", "fps", "normalize", "coordinates") if getattr(args, k)}
    try:
        report = validate_exports(args.inputs, args.max_sent_length, args.feature_size, args.allow_mixed_layouts,
                                  foreign=declared or None)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SltNbError as exc:  # a declaration that does not parse, a folder of several sets
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
