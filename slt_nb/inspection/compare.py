"""Several exports side by side: can these corpora be trained together?

`load_exports(manifests, split)` reads a bounded number of clips of one split from each export
(parts streamed, only the layout's columns kept), and from `.pami0` sets made outside slt-nb in the
layout, rate and scale the user declares for them (`foreign`); the functions below turn them into
what the compare report shows:

- `parameters` / `problems`: the deciding parameters per export and the conflicts `validate` reports;
- `coverage`: per column, the share of real frames where it is non-zero, per corpus (a column one
  corpus never fills is a joint its estimator does not have);
- `joint_values`: x and y of shoulders, elbows, wrists and hand centres per corpus, found by point
  name in each export's own layout, so even seed-layout exports are compared joint to joint;
- `clip_lengths`: frames and seconds per clip (seconds at each export's own rate);
- `overlay_figure`: one frame of each corpus drawn on the same axes.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slt_nb.datasets.declaration import is_numbered
from slt_nb.errors import ParameterError
from slt_nb.formats.foreign import is_pami_path
from slt_nb.formats.manifest import manifest_conflicts, parameters_table, read_manifest, split_parameters
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH, SIGNFORMER_SPLIT, iter_samples
from slt_nb.layouts import FeatureLayout, find_point
from slt_nb.plotting import draw_segment, finish_axes, upper_body

JOINTS = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
HANDS = ("left_hand", "right_hand")
CORPUS_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


@dataclass
class ExportSample:
    """Up to `max_clips` clips of one split of one export, in its own layout's columns."""

    label: str
    manifest_path: Path
    manifest: dict
    split: str
    layout: FeatureLayout
    fps: float | None
    clips: list[np.ndarray] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    clips_in_split: int = 0

    @property
    def params(self) -> dict:
        return split_parameters(self.manifest, self.split)

    def real_frames(self) -> np.ndarray:
        """Every frame with at least one detected point, stacked (frames, layout width)."""
        if not self.clips:
            return np.zeros((0, self.layout.width), dtype=np.float32)
        rows = np.concatenate(self.clips)
        return rows[np.any(rows != 0, axis=1)]


def load_exports(manifests, split: str = "train", max_clips: int | None = 200, foreign=None) -> list[ExportSample]:
    """Read up to max_clips samples (one per clip) of `split` from each export manifest.

    An entry may also be a `.pami0` set made outside slt-nb (a whole file, its parts, a folder of
    them), read in the layout, rate and scale `foreign` declares for it (`{layout: holistic-512,
    fps: 25, normalize: frame}` for every such set, or `{NAME: {...}}` per set: slt_nb.datasets.declaration).
    """
    if isinstance(manifests, (str, Path)):
        manifests = [manifests]
    if not manifests:
        raise ParameterError("exports: give at least one export manifest (<Dataset>-<size>.manifest.json)")
    samples = []
    for path in map(Path, manifests):
        if not path.name.endswith(".manifest.json") and is_pami_path(path):
            samples.append(_foreign_sample(path, split, max_clips, foreign))
            continue
        if not path.is_file():
            raise ParameterError(f"exports: {path} does not exist (an export manifest, written beside the parts)")
        try:
            manifest = read_manifest(path)
            layout = FeatureLayout.from_manifest(manifest["layout"])  # KeyError: no layout, no export manifest
        except (ValueError, KeyError, TypeError) as exc:
            raise ParameterError(f"exports: {path} is not an slt-nb export manifest ({type(exc).__name__}: {exc})") from exc
        splits = manifest.splits if isinstance(manifest.splits, dict) else {}
        # the split as named, else its Signformer twin: an export's val beside a foreign set's dev
        own = next((s for s in [split, *splits] if SIGNFORMER_SPLIT.get(s, s) == SIGNFORMER_SPLIT.get(split, split)
                    and s in splits), None)
        if own is None:
            raise ParameterError(f"exports: {path} has no split {split!r} (it has {sorted(manifest.get('splits', {}))})")
        entry = splits[own]
        params = split_parameters(manifest, own)
        sample = ExportSample(path.name.removesuffix(".manifest.json"), path, manifest, own, layout, params["fps"],
                              clips_in_split=int(entry.get("samples", 0)))
        seen: set[int] = set()  # augmented exports share one tensor between a clip's texts
        parts = [path.parent / p["file"] for p in entry.get("parts", [])]
        for item in iter_samples(parts):
            sign = item["sign"]
            if id(sign) in seen:
                continue
            seen.add(id(sign))
            sample.clips.append(sign.numpy()[:, : layout.width].copy())
            sample.names.append(item["name"])
            if max_clips is not None and len(sample.clips) >= max_clips:
                break
        samples.append(sample)
    return samples


def _foreign_sample(path: Path, split: str, max_clips: int | None, foreign) -> ExportSample:
    """A foreign set's split (or its Signformer twin, dev for val) as an ExportSample: its clips in its
    declared layout, and the manifest its declaration amounts to, for the verdict. Every sample of
    the split is read (through the restricted unpickler), to count them; max_clips are kept."""
    from slt_nb.datasets.pami import open_declared

    reader = open_declared(path, foreign)
    own = reader.split_name(split)
    layout, width, count = reader.layout, None, 0
    clips, names = [], []
    for item in iter_samples(reader.found.files[own]):
        count += 1
        sign = item.get("sign") if isinstance(item, dict) else None
        rows = sign.numpy() if hasattr(sign, "numpy") else np.asarray(sign if sign is not None else [])
        width = width or (rows.shape[1] if rows.ndim == 2 else None)
        if (max_clips is None or len(clips) < max_clips) and rows.ndim == 2 and rows.shape[1] >= layout.width:
            clips.append(np.array(rows[:, : layout.width], dtype=np.float32))
            names.append(str(item.get("name")))
    manifest = reader.declared_manifest(width)
    return ExportSample(reader.dataset, path, manifest, own, layout, reader.fps, clips, names, count)


def parameters(samples: list[ExportSample]):
    """One row per export with the parameters that decide what its numbers mean."""
    table = parameters_table([(s.label, s.manifest) for s in samples])
    table = table[table["split"].isin({s.split for s in samples})].reset_index(drop=True)
    shoulders = table["normalize"] == "shoulders"
    table["coordinates"] = table["coordinates"].astype(object).where(~shoulders, "(shoulder units)")
    return table


def problems(samples: list[ExportSample]) -> list[str]:
    """What `validate` would refuse about training these splits together (empty: compatible)."""
    labelled = [(s.label, {**s.manifest, "splits": {s.split: s.manifest["splits"][s.split]}}) for s in samples]
    return manifest_conflicts(labelled)


def coverage(samples: list[ExportSample]):
    """DataFrame: index column number, one column per export: share of its real frames where it is non-zero."""
    import pandas as pd

    width = max(s.layout.width for s in samples)
    table = {}
    for s in samples:
        rows = s.real_frames()
        share = np.full(width, np.nan)
        if len(rows):
            share[: s.layout.width] = (rows != 0).mean(axis=0)
        table[s.label] = share
    frame = pd.DataFrame(table)
    frame.index.name = "column"
    return frame


def coverage_figure(samples: list[ExportSample]):
    """A heat strip per export: how often each column is filled, segment boundaries marked."""
    import matplotlib.pyplot as plt

    cov = coverage(samples)
    fig, ax = plt.subplots(figsize=(12, 0.7 * len(samples) + 1.6), layout="constrained")
    image = ax.imshow(cov.T.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(samples)), [f"{s.label} ({s.layout.name})" for s in samples], fontsize=8)
    ax.set_xlabel("feature column")
    ref = samples[0].layout
    for seg in ref.segments:
        ax.axvline(seg.start - 0.5, color="white", lw=1)
        ax.text(seg.start + 0.5, -0.6, seg.name.replace("_", " "), fontsize=8, va="bottom")
    same = len({s.layout.name for s in samples}) == 1
    ax.set_title("Share of real frames in which each column is non-zero"
                 + ("" if same else f" (segments marked for {ref.name}; the layouts differ)"), fontsize=10, pad=16)
    fig.colorbar(image, ax=ax, label="share of frames", shrink=0.9)
    return fig


def _hand_centres(s: ExportSample, rows: np.ndarray, hand: str) -> np.ndarray:
    seg = next((g for g in s.layout.segments if g.name == hand), None)
    if seg is None:
        return np.full((len(rows), 2), np.nan)
    points = seg.points(rows)[..., :2].astype(np.float64)
    seen = ~np.all(points == 0, axis=-1)
    points[~seen] = np.nan
    with warnings.catch_warnings():  # a frame without any hand point has a NaN centre, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(points, axis=1)


def joint_values(samples: list[ExportSample], joints=JOINTS, hands=HANDS):
    """Long table (export, joint, axis, value) of every detected joint in every real frame read."""
    import pandas as pd

    parts = []
    for s in samples:
        rows = s.real_frames()
        named = {}
        for joint in joints:
            index = find_point(s.layout, joint)
            if index is None:
                continue
            xy = rows[:, 2 * index: 2 * index + 2].astype(np.float64)
            xy[np.all(xy == 0, axis=1)] = np.nan
            named[joint.replace("_", " ")] = xy
        for hand in hands:
            named[f"{hand.replace('_', ' ')} centre"] = _hand_centres(s, rows, hand)
        for joint, xy in named.items():
            for axis, values in (("x", xy[:, 0]), ("y", xy[:, 1])):
                values = values[~np.isnan(values)]
                parts.append(pd.DataFrame({"export": s.label, "joint": joint, "axis": axis, "value": values}))
    if not parts:
        return pd.DataFrame(columns=["export", "joint", "axis", "value"])
    return pd.concat(parts, ignore_index=True)


def joint_summary(values):
    """Median and spread per export, joint and axis (the numbers behind the box plots)."""
    grouped = values.groupby(["joint", "axis", "export"], sort=False)["value"]
    table = grouped.describe(percentiles=[0.25, 0.5, 0.75])[["count", "25%", "50%", "75%"]]
    return table.rename(columns={"50%": "median"})


def joint_boxplots(samples: list[ExportSample], values=None):
    """Box plots of x (top) and y (bottom) per joint, one box per export side by side."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    values = joint_values(samples) if values is None else values
    joints = list(dict.fromkeys(values["joint"]))
    labels = [s.label for s in samples]
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.3 * len(joints) * max(1, len(labels)) / 2 + 2), 7),
                             layout="constrained", sharex=True)
    width = 0.8 / max(1, len(labels))
    for ax, axis in zip(axes, ("x", "y")):
        for k, label in enumerate(labels):
            data, positions = [], []
            for j, joint in enumerate(joints):
                v = values[(values["export"] == label) & (values["joint"] == joint) & (values["axis"] == axis)]["value"]
                if len(v):
                    data.append(v.to_numpy())
                    positions.append(j - 0.4 + width * (k + 0.5))
            if data:
                colour = CORPUS_COLOURS[k % len(CORPUS_COLOURS)]
                ax.boxplot(data, positions=positions, widths=width * 0.85, patch_artist=True, showfliers=False,
                           boxprops={"facecolor": colour, "alpha": 0.6}, medianprops={"color": "black"})
        ax.set_ylabel(f"{axis} ({_unit(samples)})")
        ax.grid(axis="y", alpha=0.3)
        ax.set_xticks(range(len(joints)), joints, rotation=20, ha="right", fontsize=8)
    axes[0].set_title("Where each joint sits, per export (boxes: quartiles; whiskers: 1.5 IQR; outliers hidden)",
                      fontsize=10)
    handles = [Patch(facecolor=CORPUS_COLOURS[k % len(CORPUS_COLOURS)], alpha=0.6, label=label)
               for k, label in enumerate(labels)]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(labels)), fontsize=8)
    return fig


def _unit(samples: list[ExportSample]) -> str:
    kinds = {s.params.get("normalize") for s in samples}
    if kinds == {"shoulders"}:
        return "shoulder widths from mid-shoulders"
    if kinds == {"frame"}:
        coords = {s.params.get("coordinates") for s in samples}
        return "pixels" if coords == {"pixels"} else "fraction of the frame"
    return "mixed units"


def clip_lengths(samples: list[ExportSample]):
    """One row per clip read: export, clip, frames, seconds (at the export's own rate; NaN if unknown)."""
    import pandas as pd

    rows = [{"export": s.label, "clip": name, "frames": len(clip),
             "seconds": len(clip) / s.fps if s.fps else float("nan")}
            for s in samples for name, clip in zip(s.names, s.clips)]
    return pd.DataFrame(rows, columns=["export", "clip", "frames", "seconds"])


def length_figure(samples: list[ExportSample], lengths=None, max_sent_length: int | None = SIGNFORMER_MAX_SENT_LENGTH):
    """Clip lengths in frames (left, with Signformer's max_sent_length) and in seconds (right)."""
    import matplotlib.pyplot as plt

    lengths = clip_lengths(samples) if lengths is None else lengths
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    frame_bins = np.histogram_bin_edges(lengths["frames"], bins=20) if len(lengths) else 20
    seconds = lengths["seconds"].dropna()
    second_bins = np.histogram_bin_edges(seconds, bins=20) if len(seconds) else 20
    for k, s in enumerate(samples):
        mine = lengths[lengths["export"] == s.label]
        colour = CORPUS_COLOURS[k % len(CORPUS_COLOURS)]
        fps = f"{s.fps:g} fps" if s.fps else "rate unknown"
        left.hist(mine["frames"], bins=frame_bins, alpha=0.55, color=colour, label=f"{s.label} ({fps})")
        if mine["seconds"].notna().any():
            right.hist(mine["seconds"].dropna(), bins=second_bins, alpha=0.55, color=colour, label=s.label)
    if max_sent_length:
        left.axvline(max_sent_length, color="black", ls="--", lw=1)
        left.text(max_sent_length, left.get_ylim()[1] * 0.95, f" max_sent_length {max_sent_length}",
                  fontsize=8, va="top")
    left.set(xlabel="frames per clip", ylabel="clips", title="Clip length in frames (what max_sent_length cuts)")
    right.set(xlabel="seconds per clip", ylabel="clips", title="Clip length in seconds")
    from matplotlib.ticker import MaxNLocator

    for ax in (left, right):
        ax.title.set_fontsize(10)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return fig


def representative_frame(s: ExportSample) -> tuple[str, int, np.ndarray] | None:
    """(clip, frame index, row) of the frame with the most detected points in the clips read."""
    best = None
    for name, clip in zip(s.names, s.clips):
        if not len(clip):
            continue
        counts = np.count_nonzero(clip.reshape(len(clip), -1, 2).any(axis=2), axis=1)
        i = int(np.argmax(counts))
        if best is None or counts[i] > best[0]:
            best = (int(counts[i]), name, i, clip[i])
    return None if best is None else best[1:]


def _bounds(values: np.ndarray, margin: float = 0.08):
    """Bounds around the detected points whatever their unit (1st to 99th percentile, so one far guess
    does not shrink the signers)."""
    pts = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    pts = pts[~np.all(pts == 0, axis=1) & np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return None
    lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def overlay_figure(samples: list[ExportSample], skip_segments=("face",)):
    """One frame of each export drawn on the same axes, one colour per export."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6.5, 6.5), layout="constrained")
    handles, drawn_rows = [], []
    for k, s in enumerate(samples):
        picked = None if is_numbered(s.layout) else representative_frame(s)
        if picked is None:  # nothing read, or columns whose joints nobody declared
            continue
        clip, index, row = picked
        colour = CORPUS_COLOURS[k % len(CORPUS_COLOURS)]
        row = upper_body(s.layout, row)
        for seg in s.layout.segments:
            if seg.name in skip_segments:
                row[seg.start: seg.stop] = 0
                continue
            draw_segment(ax, seg, seg.points(row)[:, :2], colour=colour)
        drawn_rows.append(row[: s.layout.width])
        handles.append(Line2D([], [], color=colour, marker="o", ms=4, label=f"{s.label}: {clip}, frame {index}"))
    if drawn_rows:
        finish_axes(ax, np.concatenate(drawn_rows), bounds=_bounds(np.concatenate(drawn_rows)))
    ax.set_xlabel(f"x ({_unit(samples)})")
    ax.set_ylabel(f"y ({_unit(samples)}, down)")
    ax.set_title("One frame of each export on the same axes (legs left out)", fontsize=10)
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=1)
    return fig
