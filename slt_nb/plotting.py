"""Drawing keypoints: skeletons from any FeatureLayout, in image coordinates (y down).

Everything is drawn from a `FeatureLayout` (layouts.py), so OpenPose BODY_25 + hands (+ face),
MediaPipe Pose 33 + hands and exported 1024-feature rows decoded through a manifest's layout all
go through the same code. A point at exactly (0, 0) is "not detected" and is never drawn.
Every limb line carries `gid=<segment name>` so a test (or a curious user) can count them.
"""
from __future__ import annotations

import io

import numpy as np

from slt_nb.layouts import WRISTS, FeatureLayout, Segment

# Left and right hands always in distinct colours, body in neutral.
SEGMENT_COLOURS = {
    "body": "tab:gray", "pose": "tab:gray", "face": "tab:olive",
    "left_hand": "tab:blue", "right_hand": "tab:red",
}
# The face has 70 points in a small area: thinner lines and dots keep the hands readable.
_SEGMENT_STYLE = {"face": {"lw": 0.6, "s": 1.5}}
_DEFAULT_STYLE = {"lw": 1.4, "s": 6}


def literal_text(text) -> str:
    """`text` as matplotlib should draw it, character for character.

    Matplotlib reads any text with two unescaped `$` as mathtext: a clip name or sentence like
    `costs $5 or $6` is drawn garbled, and `$\\frac$` makes saving the figure raise. Escaping every
    `$` keeps it literal (matplotlib drops the escape when drawing).
    """
    return str(text).replace("$", r"\$")


def _detected(points: np.ndarray) -> np.ndarray:
    """A point at exactly (0, 0) was not detected (OpenPose and our zero fill alike)."""
    return ~np.all(points == 0, axis=-1)


def draw_segment(ax, segment: Segment, points: np.ndarray, colour: str | None = None, label: str | None = None) -> int:
    """Draw one body part's limbs and points; returns the number of limb lines drawn."""
    colour = colour or SEGMENT_COLOURS.get(segment.name, "black")
    style = _SEGMENT_STYLE.get(segment.name, _DEFAULT_STYLE)
    seen = _detected(points)
    drawn = 0
    for a, b in segment.skeleton.limbs:
        if seen[a] and seen[b]:
            ax.plot(points[[a, b], 0], points[[a, b], 1], color=colour, lw=style["lw"],
                    solid_capstyle="round", gid=segment.name)
            drawn += 1
    if seen.any():
        ax.scatter(points[seen, 0], points[seen, 1], s=style["s"], color=colour, zorder=3, label=label)
    return drawn


def draw_frame(ax, layout: FeatureLayout, row: np.ndarray, title: str | None = None,
               frame_size: tuple[int, int] | None = None, bounds=None) -> int:
    """Draw one feature row (padding ignored) decoded through its layout; returns limb count."""
    row = np.asarray(row, dtype=np.float32)
    drawn = 0
    segs = {s.name: s for s in layout.segments}
    for seg in layout.segments:
        pts = seg.points(row)[:, :2]
        drawn += draw_segment(ax, seg, pts, label=seg.name.replace("_", " "))
    # arm to hand: body wrist meets hand point 0
    body = next((s for s in layout.segments if s.skeleton.name in WRISTS), None)
    if body is not None:
        bpts = body.points(row)[:, :2]
        for hand, wrist in WRISTS[body.skeleton.name].items():
            if hand in segs:
                hpts = segs[hand].points(row)[:, :2]
                if _detected(bpts[wrist]) and _detected(hpts[0]):
                    ax.plot([bpts[wrist, 0], hpts[0, 0]], [bpts[wrist, 1], hpts[0, 1]],
                            color=SEGMENT_COLOURS[hand], lw=1.0, ls=":", gid=f"{hand}_wrist_join")
    finish_axes(ax, row[: layout.width], frame_size, bounds)
    if title:
        ax.set_title(literal_text(title), fontsize=9)
    return drawn


def finish_axes(ax, values: np.ndarray, frame_size: tuple[int, int] | None = None, bounds=None) -> None:
    """Image coordinates (y down), the view fitted to the detected points with a margin.

    frame_size (width, height) sets the aspect for normalised coordinates, so a 16:9 frame
    is not drawn stretched; pixel coordinates are drawn 1:1.
    """
    if bounds is None:
        bounds = point_bounds(values)
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)
    elif not ax.yaxis_inverted():
        ax.invert_yaxis()
    normalised = bounds is None or max(abs(bounds[0][1]), abs(bounds[1][1])) <= 2.0
    aspect = frame_size[1] / frame_size[0] if (normalised and frame_size) else 1.0
    ax.set_aspect(aspect, adjustable="box")
    ax.tick_params(labelsize=7)


# Normalised points this far outside [0, 1] are guesses (MediaPipe places legs below the image).
_FRAME_SLACK = 0.1


def point_bounds(values: np.ndarray, margin: float = 0.08):
    """((x0, x1), (y0, y1)) around the non-zero x,y pairs of rows (..., D), or None.

    For normalised coordinates the view keeps to the frame (with a little slack) when most
    points are inside it, so legs guessed far below the image do not shrink the signer; when
    most points are outside (wrong scaling) everything is shown, which makes the problem plain.
    """
    pts = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    pts = pts[~np.all(pts == 0, axis=1) & np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return None
    if np.abs(pts).max() <= 3.0:
        inside = np.all((pts >= -_FRAME_SLACK) & (pts <= 1 + _FRAME_SLACK), axis=1)
        if inside.mean() >= 0.5:
            pts = pts[inside]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


# No sign-language corpus camera frames the legs: drawn, they only shrink the signer.
LOWER_BODY = ("knee", "ankle", "heel", "foot", "toe")


def upper_body(layout: FeatureLayout, frames: np.ndarray) -> np.ndarray:
    """A copy of frames (..., D) with the knees, ankles, heels and feet set undetected (0, 0)."""
    out = np.array(frames, dtype=np.float32, copy=True)
    for seg in layout.segments:
        for i, name in enumerate(seg.skeleton.points):
            if any(word in name for word in LOWER_BODY):
                out[..., seg.start + 2 * i: seg.start + 2 * i + 2] = 0
    return out


def skeleton_animation(layout: FeatureLayout, frames: np.ndarray, fps: float | None = None, title: str | None = None,
                       frame_size: tuple[int, int] | None = None, max_frames: int = 32, size: float = 3.6) -> bytes:
    """A GIF of the clip's skeleton (legs left out), at most max_frames evenly spaced frames; returns its bytes.

    Played at the clip's own rate when it is known (slower when frames were thinned out), so a
    second of signing takes a second.
    """
    import tempfile
    from pathlib import Path

    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    frames = upper_body(layout, np.asarray(frames)[:, : layout.width])
    picked = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    step = (picked[1] - picked[0]) if len(picked) > 1 else 1
    rate = (fps or 25.0) / step
    fig = Figure(figsize=(size, size * 0.9), dpi=72)
    ax = fig.add_subplot()
    bounds = point_bounds(frames[picked])

    def draw(k):
        ax.clear()
        draw_frame(ax, layout, frames[picked[k]], frame_size=frame_size, bounds=bounds)
        seconds = f", {picked[k] / fps:.2f} s" if fps else ""
        ax.set_title(literal_text(f"{title + ': ' if title else ''}frame {picked[k]}{seconds}"), fontsize=8)
        return []

    animation = FuncAnimation(fig, draw, frames=len(picked), blit=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.gif"
        animation.save(path, writer=PillowWriter(fps=max(1.0, rate)))
        return path.read_bytes()


def skeleton_grid(layout: FeatureLayout, frames: np.ndarray, indices=None, cols: int = 4,
                  title: str | None = None, size: float = 2.6, frame_size: tuple[int, int] | None = None,
                  legs: bool = True):
    """A grid of frames of one clip, all drawn to the same scale; returns the Figure.

    `legs=False` leaves out knees, ankles and feet (out of view in every sign-language corpus).
    """
    import matplotlib.pyplot as plt

    frames = np.asarray(frames) if legs else upper_body(layout, frames)
    if indices is None:
        indices = np.linspace(0, len(frames) - 1, min(cols * 2, len(frames))).round().astype(int)
    indices = list(indices)
    rows = max(1, -(-len(indices) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 0.8), squeeze=False)
    for ax in axes.flat[len(indices):]:
        ax.axis("off")
    bounds = point_bounds(frames[indices][:, : layout.width])
    for ax, i in zip(axes.flat, indices):
        draw_frame(ax, layout, frames[i], title=f"frame {i}", frame_size=frame_size, bounds=bounds)
    legend = {}
    for ax in axes.flat:  # a part missing in the first frame may be there in a later one
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    order = [s.name.replace("_", " ") for s in layout.segments]
    labels = [label for label in order if label in legend]
    if title:
        fig.suptitle(literal_text(title), fontsize=10)
    fig.tight_layout()
    if labels:  # below the panels, never over a frame's title
        fig.subplots_adjust(bottom=0.1 + 0.05 / rows)
        fig.legend([legend[label] for label in labels], labels, loc="lower center", ncols=len(labels), fontsize=8,
                   markerscale=2, frameon=False)
    return fig


def frame_figure(layout: FeatureLayout, row: np.ndarray, title: str | None = None,
                 frame_size: tuple[int, int] | None = None, bounds=None, size: tuple[float, float] = (5, 4)):
    """One frame in its own Figure, made without pyplot so nothing is shown as a side effect."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=90)
    ax = fig.add_subplot()
    draw_frame(ax, layout, row, title=title, frame_size=frame_size, bounds=bounds)
    handles, labels = ax.get_legend_handles_labels()
    if handles:  # beside the axes, so it never hides the face or a hand
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, markerscale=2,
                  borderaxespad=0)
    fig.tight_layout()
    return fig


def figure_png(fig) -> bytes:
    """A Figure rendered to PNG bytes (for an image widget or a file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


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
        xy[~_detected(xy)] = np.nan
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
        2, 1, figsize=(max(9, 0.14 * max(len(by_point), 1)), 7), gridspec_kw={"height_ratios": [1, 1.4]})
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
            # every point of a body or hand; every fifth of a 70-point face
            if first or sizes[part] <= 33 or i % 5 == 0:
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
