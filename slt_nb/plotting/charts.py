"""Plain charts of a clip or a split: wrist trajectories, missing points per part and per point,
clip lengths against Signformer's `max_sent_length`.

Parts keep their colours from style.py (the left hand blue, the right red), so a chart reads with
the skeleton figures beside it.
"""
from __future__ import annotations

import numpy as np

from slt_nb.layouts import WRISTS, FeatureLayout
from slt_nb.plotting.framing import detected
from slt_nb.plotting.style import SEGMENT_COLOURS, literal_text

def point_tracks(layout: FeatureLayout, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Both wrists over time as {name: (T, 2) x,y}, NaN where the point was not detected.

    Wrists come from the body skeleton where the layout has one and from hand point 0 as well,
    so a hand that drifts away from its arm (a swapped or misplaced hand) shows as two tracks
    parting.
    """
    frames = np.asarray(frames, dtype=np.float32)
    tracks: dict[str, np.ndarray] = {}
    segs = {s.name: s for s in layout.segments}
    body = next((s for s in layout.segments if s.skeleton.name in WRISTS), None)
    for hand in ("left_hand", "right_hand"):
        side = hand.split("_")[0]
        if body is not None:
            tracks[f"{side} wrist ({body.name})"] = body.points(frames)[:, WRISTS[body.skeleton.name][hand], :2]
        if hand in segs:
            tracks[f"{side} wrist ({hand.replace('_', ' ')})"] = segs[hand].points(frames)[:, 0, :2]
    for name, xy in tracks.items():
        xy = xy.astype(np.float32).copy()
        xy[~detected(xy)] = np.nan
        tracks[name] = xy
    return tracks


def trajectory_plot(layout: FeatureLayout, frames: np.ndarray, fps: float | None = None,
                    title: str | None = None, tracks: dict[str, np.ndarray] | None = None):
    """x and y of both wrists over time, left blue, right red, gaps where not detected.

    The y panel is drawn with y increasing downwards, as in the image, so a raised hand goes up.
    """
    import matplotlib.pyplot as plt

    tracks = point_tracks(layout, frames) if tracks is None else tracks
    n = len(frames)
    t = np.arange(n) / fps if fps else np.arange(n)
    fig, (ax_x, ax_y) = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    for name, xy in tracks.items():
        colour = SEGMENT_COLOURS["left_hand" if name.startswith("left") else "right_hand"]
        style = "-" if "hand" not in name.split("(")[-1] else "--"
        label = name if np.isfinite(xy).any() else f"{name}: never detected"
        ax_x.plot(t, xy[:, 0], color=colour, ls=style, lw=1.3, label=label)
        ax_y.plot(t, xy[:, 1], color=colour, ls=style, lw=1.3, label=label)
    ax_x.set_ylabel("x")
    ax_y.set_ylabel("y (image, down)")
    if not ax_y.yaxis_inverted():
        ax_y.invert_yaxis()
    ax_y.set_xlabel("seconds" if fps else "frame")
    ax_x.legend(fontsize=7, ncol=2, loc="best")
    for ax in (ax_x, ax_y):
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    ax_x.set_title(literal_text(title or "Wrist trajectories"), fontsize=10)
    fig.tight_layout()
    return fig


def missing_rate_chart(by_part, by_point, title: str = "Missing points"):
    """Two panels: % of in-view points missing per body part (per split), and % missing per point.

    by_part: DataFrame, index = part, columns = splits, values = fraction of in-view points missing.
    by_point: DataFrame with columns part, point, rate (fraction missing over all frames read) and
    optionally out_of_view (the camera never sees the point: drawn hatched, left out of by_part).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, (ax_part, ax_point) = plt.subplots(
        2, 1, figsize=(min(max(9, 0.14 * max(len(by_point), 1)), 30), 7), gridspec_kw={"height_ratios": [1, 1.4]})
    out = by_point["out_of_view"].to_numpy(bool) if "out_of_view" in by_point else np.zeros(len(by_point), bool)
    if len(by_part):
        (by_part * 100).plot.bar(ax=ax_part, rot=0, width=0.75)
        ax_part.legend(title="split", fontsize=7, title_fontsize=8, loc="upper right")
    ax_part.set_ylabel("% of in-view points missing")
    ax_part.set_ylim(0, 105)
    left_out = f" ({int(out.sum())} points out of view left out: hatched below)" if out.any() else ""
    ax_part.set_title(literal_text(title) + left_out, fontsize=10)
    ax_part.grid(axis="y", alpha=0.3)
    if len(by_point):
        colours = [SEGMENT_COLOURS.get(p, "black") for p in by_point["part"]]
        x = np.arange(len(by_point))
        rates = by_point["rate"].to_numpy() * 100
        ax_point.bar(x[~out], rates[~out], color=np.array(colours, dtype=object)[~out].tolist(), width=0.85)
        if out.any():
            ax_point.bar(x[out], rates[out], color="white", edgecolor="grey", hatch="///", width=0.85, lw=0.5)
        # label only every few points of a long part, with the part's name at its start
        ticks, labels = [], []
        sizes = by_point["part"].value_counts()
        for i, (part, point) in enumerate(zip(by_point["part"], by_point["point"])):
            first = i == 0 or by_point["part"].iloc[i - 1] != part
            # every point of a body or hand; every fifth of a 70-point face, fewer of a 453-point mesh
            if first or sizes[part] <= 33 or i % max(5, sizes[part] // 40) == 0:
                ticks.append(i)
                labels.append(f"{part}: {point}" if first else point)
        ax_point.set_xticks(ticks, labels, rotation=90, fontsize=6.5)
        ax_point.set_xlim(-1, len(by_point))
        handles = [Patch(color=SEGMENT_COLOURS.get(p, "black"), label=f"{p.replace('_', ' ')}: missing in some frames")
                   for p in dict.fromkeys(by_point["part"][~out])]
        if out.any():
            handles.append(Patch(facecolor="white", edgecolor="grey", hatch="///",
                                 label="out of view: missing in >= 98% of all frames (the camera does not see it)"))
        ax_point.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.95)
    ax_point.set_ylabel("% of frames missing the point")
    ax_point.set_ylim(0, 118)  # room for the legend above the bars
    ax_point.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def length_histogram(lengths, max_sent_length: int = 400, ax=None, title: str = "Clip lengths",
                     fps: float | None = None):
    """Histogram of clip lengths (frames) with Signformer's max_sent_length marked; seconds on top when fps is known."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    lengths = np.asarray(list(lengths))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    over = int((lengths > max_sent_length).sum())
    if lengths.size:
        # bins from 0 to past the limit, so every split's histogram reads on the same scale
        top = max(int(lengths.max()), max_sent_length) * 1.05
        ax.hist(lengths, bins=np.linspace(0, top, 41), color="tab:blue", alpha=0.8)
    ax.axvline(max_sent_length, color="tab:red", ls="--")
    ax.text(max_sent_length, 0.97, "max_sent_length ", color="tab:red", fontsize=7, ha="right", va="top",
            rotation=90, transform=ax.get_xaxis_transform())
    ax.set_xlabel("frames")
    ax.set_ylabel("clips")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if fps:
        top_axis = ax.secondary_xaxis("top", functions=(lambda f: f / fps, lambda s: s * fps))
        top_axis.set_xlabel(f"seconds at {fps:g} fps", fontsize=8)
        top_axis.tick_params(labelsize=7)
    ax.set_title(literal_text(title) + f"\n{over} of {lengths.size} longer than max_sent_length {max_sent_length}"
                 + (" (dropped in training)" if over else ""), fontsize=9)
    return ax
