"""The checks across exports meant to be trained together: parameters, feature sizes, shared clips.

Exports (or splits of one) that disagree on what a number means (layout, by name and layout file
digest; normalisation, coordinates, fps, min_confidence) are an error, a warning where the mix is
meant (`allow_mixed_layouts`); different feature sizes are an error always. A `.pami0` set made
outside slt-nb is checked against the exports through what the user declares of it (`foreign`:
`slt_nb.datasets.declaration`); without a declaration it is a warning that it cannot be checked.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from slt_nb.errors import SltNbError
from slt_nb.export.validate_inputs import Finding, readable_manifests
from slt_nb.formats.manifest import ALLOW_MIXED_HINT, MIXABLE, UNMIXABLE, manifest_conflicts


def clips_in_two_splits(inputs) -> list[Finding]:
    """A warning per clip that two splits of one export both hold (manifest `clip_frames`)."""
    findings = []
    for path, manifest in readable_manifests(inputs)[0]:
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


def parameter_findings(inputs, allow_mixed_layouts: bool = False, foreign=None,
                       widths: dict[str, int] | None = None) -> list[Finding]:
    """Errors (warnings, where the mix is allowed) where exports, or splits of one, to be trained
    together disagree on what a number means; different feature sizes are errors always.

    Bare `.pami0` files with no manifest are grouped by stem; a stem `foreign` declares takes part
    as the manifest its declaration amounts to, at the width `widths` measured for it.
    """
    manifests, bare = readable_manifests(inputs)
    items = [(p.name[: -len(".manifest.json")], m) for p, m in manifests]
    stems = {label for label, _ in items}
    declared, shown, findings = _declared_sets([p for p in bare if p.name.split(".pami0.")[0] not in stems],
                                               foreign, widths or {}, bool(manifests))
    items += declared
    files = ", ".join([str(p) for p, _ in manifests] + shown)
    findings += [Finding("warning", "parameters", files, "", f"{m}; trained together anyway (allow_mixed_layouts)")
                 if allow_mixed_layouts else Finding("error", "parameters", files, "", f"{m}; {ALLOW_MIXED_HINT}")
                 for m in manifest_conflicts(items, MIXABLE)]
    findings += [Finding("error", "parameters", files, "", m) for m in manifest_conflicts(items, UNMIXABLE)]
    return findings


UNDECLARED = ("no manifest beside it: its layout, normalisation and frame rate are unknown, so it cannot be checked "
              "against the other exports; declare them (validate: --layout, --fps, --normalize; compare and the "
              "export notebook: -p foreign '{layout: ..., fps: ..., normalize: ...}')")


def _declared_sets(bare: list[Path], foreign, widths: dict[str, int], beside_exports: bool):
    """(label, declared manifest) per declared foreign stem, the files they name, and the findings:
    an undeclared stem beside exports, a declaration that does not fit, a key left unknown."""
    from slt_nb.datasets.declaration import parse_foreign
    from slt_nb.datasets.pami import PamiReader
    from slt_nb.export.validate_inputs import part_order
    from slt_nb.formats.foreign import PAMI_NAME

    foreign = parse_foreign("foreign", foreign)
    groups: dict[str, dict[str, list[Path]]] = {}
    for p in bare:
        m = PAMI_NAME.match(p.name)
        if m:
            groups.setdefault(m["stem"], {}).setdefault(m["split"], []).append(p)
    items, shown, findings = [], [], []
    for stem, splits in groups.items():
        where = ", ".join(str(p) for ps in splits.values() for p in ps)
        declaration = foreign.for_set(stem)
        if declaration is None:
            if beside_exports:
                findings.append(Finding("warning", "parameters", where, "", UNDECLARED))
            continue
        if stem not in widths:
            continue  # no sample of it could be read: its own errors say why
        try:
            given = {split: sorted(ps, key=lambda q: part_order(str(q))) for split, ps in splits.items()}
            items.append((stem, PamiReader(where, declaration, given_files=given).declared_manifest(widths[stem])))
        except SltNbError as exc:
            findings.append(Finding("error", "declaration", where, "", str(exc)))
            continue
        shown.append(where)
        findings += [Finding("warning", "declaration", where, "", f"its {key} is not declared: unknown, so it "
                             f"disagrees with every export that records one (declare {key})")
                     for key in declaration.unknown()]
    return items, shown, findings


def feature_size_findings(sizes: list[tuple[str, str, str, int]], required: int | None) -> list[Finding]:
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

