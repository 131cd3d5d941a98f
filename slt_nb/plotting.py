"""Drawing keypoints: skeletons from any FeatureLayout, in image coordinates (y down).

Everything is drawn from a `FeatureLayout` (layouts.py), so OpenPose BODY_25 + hands (+ face),
MediaPipe Pose 33 + hands and exported 1024-feature rows decoded through a manifest's layout all
go through the same code. A point at exactly (0, 0) is "not detected" and is never drawn, and
where the frames come with the estimator's confidence, points below `min_confidence` are treated
the same way. Hands are drawn a colour per finger, the same for both hands; the signer's left
hand solid with filled dots, the right hand dashed with open dots. Every limb line carries
`gid=<segment name>` so a test (or a curious user) can count them.
"""
from __future__ import annotations

import io

import numpy as np

from slt_nb.layouts import FINGERS, WRISTS, FeatureLayout, Segment, hand_part, limb_part

# Left and right hands in distinct colours where a hand is one line (trajectories, missing
# rates); body in neutral.
SEGMENT_COLOURS = {
    "body": "tab:gray", "pose": "tab:gray", "face": "tab:olive",
    "left_hand": "tab:blue", "right_hand": "tab:red",
}
# One colour per finger, the same on both hands; the palm (wrist to knuckles) dark grey.
FINGER_COLOURS = {"thumb": "tab:red", "index": "tab:orange", "middle": "tab:green", "ring": "tab:blue",
                  "pinky": "tab:purple", "palm": "0.4"}
# Under the legend title "fingers": "little" is the pinky, "palm" the wrist-to-knuckle lines.
FINGER_LABELS = {"thumb": "thumb", "index": "index", "middle": "middle", "ring": "ring", "pinky": "little",
                 "palm": "palm"}
# The hands told apart by line and dot, as their colours are the fingers'.
HAND_STYLES = {"left_hand": {"ls": "-", "filled": True}, "right_hand": {"ls": (0, (2.2, 1.2)), "filled": False}}
# The face has 70 points in a small area: thinner lines and dots keep the hands readable.
_SEGMENT_STYLE = {"face": {"lw": 0.6, "s": 1.5}}
_DEFAULT_STYLE = {"lw": 1.4, "s": 6}
# Below this confidence a point is not drawn: OpenPose renders hands from 0.2 as well, and
# MediaPipe gives legs and hips below the picture a visibility near 0.
MIN_CONFIDENCE = 0.2


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


def draw_segment(ax, segment: Segment, points: np.ndarray, colour: str | None = None, label: str | None = None,
                 scale: float = 1.0) -> int:
    """Draw one body part's limbs and points; returns the number of limb lines drawn.

    A hand is drawn a colour per finger (FINGER_COLOURS) in its side's style (HAND_STYLES) unless
    `colour` is given; `scale` multiplies line widths and dot sizes (hand close-ups).
    """
    style = _SEGMENT_STYLE.get(segment.name, _DEFAULT_STYLE)
    hand = HAND_STYLES.get(segment.name)
    fingers = colour is None and hand_part(segment.skeleton, 0) is not None
    colour = colour or SEGMENT_COLOURS.get(segment.name, "black")
    seen = _detected(points)
    drawn = 0
    for a, b in segment.skeleton.limbs:
        if seen[a] and seen[b]:
            part = limb_part(segment.skeleton, (a, b)) if fingers else None
            c = FINGER_COLOURS[part] if part else colour
            ax.plot(points[[a, b], 0], points[[a, b], 1], color=c, lw=style["lw"] * scale * (0.7 if part == "palm" else 1),
                    ls=hand["ls"] if hand else "-", solid_capstyle="round", dash_capstyle="round",
                    gid=segment.name)
            drawn += 1
    if seen.any():
        if fingers:
            colours = [FINGER_COLOURS[hand_part(segment.skeleton, i)] for i in np.flatnonzero(seen)]
        else:
            colours = [colour] * int(seen.sum())
        if hand and not hand["filled"]:
            ax.scatter(points[seen, 0], points[seen, 1], s=style["s"] * scale * 1.3, facecolors="white",
                       edgecolors=colours, linewidths=0.8 * min(scale, 1.6), zorder=3, label=label)
        else:
            ax.scatter(points[seen, 0], points[seen, 1], s=style["s"] * scale, c=colours, zorder=3, label=label)
    return drawn


def confident(layout: FeatureLayout, frames: np.ndarray, confidence: np.ndarray | None,
              min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """A copy of frames (..., D) with the points whose confidence is below min_confidence set undetected (0, 0).

    confidence is (..., points): one value per x,y pair of the layout, in column order (as
    readers give it in ClipData.confidence); None returns the frames unchanged.
    """
    frames = np.array(frames, dtype=np.float32, copy=True)
    if confidence is None or not min_confidence:
        return frames
    confidence = np.asarray(confidence, dtype=np.float32)
    points = layout.width // 2
    if confidence.shape[-1] != points or confidence.shape[:-1] != frames.shape[:-1]:
        raise ValueError(f"layout {layout.name}: confidence of shape {confidence.shape} does not fit frames of shape "
                         f"{frames.shape} ({points} points a frame expected)")
    xy = frames[..., : layout.width].reshape(frames.shape[:-1] + (points, 2))
    xy[confidence < min_confidence] = 0
    frames[..., : layout.width] = xy.reshape(frames.shape[:-1] + (layout.width,))
    return frames


def _low_confidence_count(layout: FeatureLayout, frames: np.ndarray, kept: np.ndarray) -> tuple[int, int]:
    """(points left out for low confidence, points detected) in frames before and after `confident`."""
    before = _detected(np.asarray(frames, np.float32)[..., : layout.width].reshape(-1, 2))
    after = _detected(kept[..., : layout.width].reshape(-1, 2))
    return int(before.sum() - after.sum()), int(before.sum())


def draw_frame(ax, layout: FeatureLayout, row: np.ndarray, title: str | None = None,
               frame_size: tuple[int, int] | None = None, bounds=None, confidence: np.ndarray | None = None,
               min_confidence: float = MIN_CONFIDENCE) -> int:
    """Draw one feature row (padding ignored) decoded through its layout; returns limb count.

    With the row's confidence (points,), points below min_confidence are left out with their limbs.
    """
    row = confident(layout, row, confidence, min_confidence)
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
                            color=FINGER_COLOURS["palm"], lw=1.0, ls=":", gid=f"{hand}_wrist_join")
    if bounds is None:
        bounds = signer_bounds(layout, row, frame_size)
    finish_axes(ax, row[: layout.width], frame_size, bounds)
    if title:
        ax.set_title(literal_text(title), fontsize=9)
    return drawn


HANDS = ("right_hand", "left_hand")  # in picture order for a front view: the signer's right hand is on the left


def hand_bounds(points: np.ndarray, frame_size: tuple[int, int] | None = None, margin: float = 0.1):
    """((x0, x1), (y0, y1)) of a square (in the picture) around one hand's detected points (21, 2), or None."""
    points = np.asarray(points, dtype=np.float32)
    points = points[_detected(points) & np.all(np.isfinite(points), axis=1)]
    if not len(points):
        return None
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    normalised = float(np.abs(points).max()) <= 2.0
    unit = np.asarray(frame_size if (normalised and frame_size) else (1.0, 1.0), dtype=np.float64)
    extent = (hi - lo) * unit
    side = max(float(extent.max()) * (1 + 2 * margin), 0.02 * float(unit.max()) if normalised else 10.0)
    half = side / 2 / unit
    return ((float(centre[0] - half[0]), float(centre[0] + half[0])),
            (float(centre[1] - half[1]), float(centre[1] + half[1])))


def draw_hand(ax, layout: FeatureLayout, row: np.ndarray, hand: str, frame_size: tuple[int, int] | None = None,
              confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE) -> bool:
    """A close-up of one hand of a row, cropped to the hand; says "not detected" when it is not there.

    Returns whether the hand was drawn. The axes carry `gid=<hand>` (HANDS) for finding them.
    """
    row = confident(layout, row, confidence, min_confidence)
    seg = layout.segment(hand)
    pts = seg.points(row)[:, :2]
    ax.set_gid(f"closeup:{hand}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(hand.replace("_", " "), fontsize=7, pad=2)
    bounds = hand_bounds(pts, frame_size)
    if bounds is None:
        ax.set_xlim(0, 1)
        ax.set_ylim(1, 0)
        ax.set_aspect(1.0, adjustable="box")
        ax.text(0.5, 0.5, "not detected", ha="center", va="center", fontsize=7, color="0.4", transform=ax.transAxes)
        for spine in ax.spines.values():
            spine.set_color("0.75")
        return False
    draw_segment(ax, seg, pts, scale=1.6)
    (x0, x1), (y0, y1) = bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    normalised = max(abs(x1), abs(y1)) <= 2.0
    ax.set_aspect(frame_size[1] / frame_size[0] if (normalised and frame_size) else 1.0, adjustable="box")
    return True


def legend_entries(labels) -> tuple[list, list[str]]:
    """Legend handles and texts for the parts drawn (the labels draw_frame gives), fingers after the hands."""
    from matplotlib.lines import Line2D

    handles, texts = [], []
    labels = list(dict.fromkeys(labels))
    for label in labels:
        name = label.replace(" ", "_")
        if name in HAND_STYLES:
            style = HAND_STYLES[name]
            handles.append(Line2D([], [], color="0.15", lw=1.4, ls=style["ls"], marker="o", ms=4,
                                  mfc="0.15" if style["filled"] else "white", mec="0.15"))
            texts.append(f"{label}: {'solid, filled' if style['filled'] else 'dashed, open'}")
        else:
            handles.append(Line2D([], [], color=SEGMENT_COLOURS.get(name, "black"), lw=1.4, marker="o", ms=4))
            texts.append(label)
    if any(label.replace(" ", "_") in HAND_STYLES for label in labels):
        for part in FINGERS + ("palm",):
            handles.append(Line2D([], [], color=FINGER_COLOURS[part], lw=3))
            texts.append(FINGER_LABELS[part])
    return handles, texts


def confidence_note(left_out: int, detected: int, min_confidence: float) -> str:
    """What the confidence threshold left out, for a title."""
    return (f"points with confidence below {min_confidence:g} not drawn "
            f"({left_out} of {detected} detected points here)")


def finish_axes(ax, values: np.ndarray, frame_size: tuple[int, int] | None = None, bounds=None) -> None:
    """Image coordinates (y down), the view fitted to the detected points with a margin.

    frame_size (width, height) sets the aspect for normalised coordinates, so a 16:9 frame
    is not drawn stretched; pixel coordinates are drawn 1:1.
    """
    from matplotlib.ticker import MaxNLocator

    if bounds is None:
        bounds = point_bounds(values, frame_size=frame_size)
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
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))


# Normalised points this far outside [0, 1] are guesses (MediaPipe places legs below the image).
_FRAME_SLACK = 0.1
# A panel of a signer is never a strip: the view is widened or heightened to at least this ratio.
_ASPECT_RANGE = (0.55, 1.6)


def point_bounds(values: np.ndarray, margin: float = 0.08, frame_size: tuple[int, int] | None = None):
    """((x0, x1), (y0, y1)) around the non-zero x,y pairs of rows (..., D), or None.

    Coordinates that look like fractions of the frame (most points inside it, next to none left
    of or above it) are shown inside the frame (with a little slack), so legs and hips guessed
    far below the image do not shrink the signer. Anything else (pixels, shoulder widths, a
    wrong scaling) leaves out only points far from the others (beyond three interquartile
    ranges), a wild guess or a foot, so a scaling problem stays plain to see. The view is then widened or heightened
    so that, drawn at the frame's aspect (frame_size for normalised coordinates, else 1:1), its
    height is 0.55 to 1.6 times its width.
    """
    pts = np.asarray(values, dtype=np.float32).reshape(-1, 2)
    pts = pts[~np.all(pts == 0, axis=1) & np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return None
    inside = np.all((pts >= -_FRAME_SLACK) & (pts <= 1 + _FRAME_SLACK), axis=1)
    # Fractions of the frame put nearly nothing left of or above it; shoulder units put the face
    # above the origin and one side of the body left of it.
    negative = np.any(pts < -_FRAME_SLACK, axis=1).mean()
    if inside.mean() >= 0.5 and negative < 0.1:
        pts = pts[inside]
    elif len(pts) >= 8:
        q1, q3 = np.quantile(pts, 0.25, axis=0), np.quantile(pts, 0.75, axis=0)
        fence = 3 * np.maximum(q3 - q1, 1e-6)
        near = np.all((pts >= q1 - fence) & (pts <= q3 + fence), axis=1)
        pts = pts[near] if near.any() else pts
    lo, hi = pts.min(axis=0).astype(np.float64), pts.max(axis=0).astype(np.float64)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    lo, hi = lo - pad, hi + pad
    unit = np.asarray(frame_size if (frame_size and float(np.abs(pts).max()) <= 2.0) else (1.0, 1.0), np.float64)
    width, height = (hi - lo) * unit
    low, high = _ASPECT_RANGE
    centre = (lo + hi) / 2
    if height < low * width:
        half = low * width / unit[1] / 2
        lo[1], hi[1] = centre[1] - half, centre[1] + half
    elif height > high * width:
        half = height / high / unit[0] / 2
        lo[0], hi[0] = centre[0] - half, centre[0] + half
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


# No sign-language corpus camera frames the legs: drawn, they only shrink the signer.
LOWER_BODY = ("knee", "ankle", "heel", "foot", "toe")


# The view is fitted to where signing happens: head, shoulders, arms and hands. Hips are drawn
# but not framed (a seated signer's hips, or MediaPipe's guess below the picture, only add height).
_NOT_FRAMED = LOWER_BODY + ("hip",)


def upper_body(layout: FeatureLayout, frames: np.ndarray, words: tuple[str, ...] = LOWER_BODY) -> np.ndarray:
    """A copy of frames (..., D) with the knees, ankles, heels and feet (points named with `words`) set
    undetected (0, 0)."""
    out = np.array(frames, dtype=np.float32, copy=True)
    for seg in layout.segments:
        for i, name in enumerate(seg.skeleton.points):
            if any(word in name for word in words):
                out[..., seg.start + 2 * i: seg.start + 2 * i + 2] = 0
    return out


def signer_bounds(layout: FeatureLayout, frames: np.ndarray, frame_size: tuple[int, int] | None = None,
                  margin: float = 0.08):
    """point_bounds of the points that frame a signer (all but hips, legs and feet) of rows (..., D).

    Falls back to every point when those are all undetected (a layout without a body, say).
    """
    frames = np.asarray(frames, dtype=np.float32)
    bounds = point_bounds(upper_body(layout, frames, _NOT_FRAMED)[..., : layout.width], margin, frame_size)
    return bounds if bounds is not None else point_bounds(frames[..., : layout.width], margin, frame_size)


def skeleton_animation(layout: FeatureLayout, frames: np.ndarray, fps: float | None = None, title: str | None = None,
                       frame_size: tuple[int, int] | None = None, max_frames: int = 32, size: float = 3.6,
                       confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE) -> bytes:
    """A GIF of the clip's skeleton (legs left out), at most max_frames evenly spaced frames; returns its bytes.

    Played at the clip's own rate when it is known (slower when frames were thinned out), so a
    second of signing takes a second. With the clip's confidence (T, points), points below
    min_confidence are left out.
    """
    import tempfile
    from pathlib import Path

    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    frames = upper_body(layout, confident(layout, np.asarray(frames)[:, : layout.width], confidence, min_confidence))
    picked = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    step = (picked[1] - picked[0]) if len(picked) > 1 else 1
    rate = (fps or 25.0) / step
    fig = Figure(figsize=(size, size * 0.9), dpi=72)
    ax = fig.add_subplot()
    bounds = signer_bounds(layout, frames[picked], frame_size)

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


def _hands_of(layout: FeatureLayout) -> list[str]:
    names = {s.name for s in layout.segments}
    return [hand for hand in HANDS if hand in names]


def parts_drawn(layout: FeatureLayout, rows: np.ndarray) -> list[str]:
    """Legend labels of the segments with a detected point in rows (..., D), in layout order."""
    rows = np.asarray(rows, dtype=np.float32)
    return [seg.name.replace("_", " ") for seg in layout.segments
            if _detected(seg.points(rows)[..., :2].reshape(-1, 2)).any()]


_FINGER_TITLE = "fingers (the same colours on both hands; left and right are the signer's own)"


def _legend_groups(labels: list[str], width: float) -> list[tuple[list, list[str], str | None, int, float]]:
    """(handles, texts, title, columns, height in inches) of the parts legend and the fingers legend,
    each in as many columns as fit `width` inches at font size 8."""
    handles, texts = legend_entries(labels)
    parts = len(labels)
    groups = [(handles[:parts], texts[:parts], None)]
    if len(handles) > parts:
        groups.append((handles[parts:], texts[parts:], _FINGER_TITLE))
    out = []
    for group_handles, group_texts, title in groups:
        entry = [0.5 + 0.055 * len(text) for text in group_texts]  # handle, spacing and text at 8 pt
        ncols = len(entry)
        while ncols > 1:
            per_column = -(-len(entry) // ncols)
            columns = [max(entry[i: i + per_column]) for i in range(0, len(entry), per_column)]
            if sum(columns) <= width:
                break
            ncols -= 1
        rows = -(-len(entry) // ncols)
        out.append((group_handles, group_texts, title, ncols, 0.2 * rows + (0.2 if title else 0) + 0.05))
    return out


def _legend_height(labels: list[str], width: float) -> float:
    return sum(g[-1] for g in _legend_groups(labels, width)) if labels else 0.0


def _figure_legend(fig, labels: list[str]) -> None:
    """The parts drawn, then the fingers, below the panels (never over a frame)."""
    if not labels:
        return
    width, height = fig.get_size_inches()
    groups = _legend_groups(labels, width)
    top = 0.05 + sum(g[-1] for g in groups)
    for handles, texts, title, ncols, h in groups:  # parts first, the fingers under them
        fig.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, top / height), ncols=ncols,
                   fontsize=8, frameon=False, title=title, title_fontsize=8, handlelength=2.4,
                   borderaxespad=0, borderpad=0.1, columnspacing=1.2)
        top -= h


def skeleton_grid(layout: FeatureLayout, frames: np.ndarray, indices=None, cols: int = 4,
                  title: str | None = None, size: float = 3.0, frame_size: tuple[int, int] | None = None,
                  legs: bool = True, confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE,
                  hands: bool = True):
    """A grid of frames of one clip, all drawn to the same scale; returns the Figure.

    `legs=False` leaves out knees, ankles and feet (out of view in every sign-language corpus).
    With the clip's confidence (T, points), points below min_confidence are not drawn (the title
    says how many). `hands` adds, under each frame, close-ups of the right and the left hand
    (in picture order), each cropped to the hand.
    """
    import matplotlib.pyplot as plt

    raw = np.asarray(frames)
    frames = confident(layout, raw, confidence, min_confidence)
    frames = frames if legs else upper_body(layout, frames)
    if indices is None:
        indices = np.linspace(0, len(frames) - 1, min(cols * 2, len(frames))).round().astype(int)
    indices = list(indices)
    rows = max(1, -(-len(indices) // cols))
    hand_names = _hands_of(layout) if hands else []
    bounds = signer_bounds(layout, frames[indices], frame_size)
    ratio = 0.8
    if bounds is not None:  # each panel as tall as the signer's view needs at its width
        (x0, x1), (y0, y1) = bounds
        unit = frame_size if (frame_size and max(abs(x1), abs(y1)) <= 2.0) else (1.0, 1.0)
        ratio = float(np.clip((y1 - y0) * unit[1] / ((x1 - x0) * unit[0]), *_ASPECT_RANGE))
    # Inches: every frame takes two grid columns (its body panel spans both, a hand close-up sits
    # in each), so the figure's height follows from the panels' widths with no empty bands.
    left, right, wspace, gap = 0.5, 0.1, 0.4, 0.42
    column = (cols * size - left - right) / (2 * cols + wspace * (2 * cols - 1))
    heights = [ratio * column * (2 + wspace)] + ([column] if hand_names else [])
    heights = heights * rows
    labels = parts_drawn(layout, frames[indices])
    legend_h = _legend_height(labels, cols * size) + 0.1
    notes = confidence is not None and bool(min_confidence)
    title_h = 0.32 + 0.2 * (bool(title) + notes)  # the frames' titles, then one line a heading
    height = title_h + sum(heights) + gap * (len(heights) - 1) + legend_h + 0.3
    fig = plt.figure(figsize=(cols * size, height))
    grid = fig.add_gridspec(len(heights), cols * 2, height_ratios=heights,
                            left=left / (cols * size), right=1 - right / (cols * size),
                            bottom=(legend_h + 0.3) / height, top=1 - title_h / height,
                            hspace=gap / (sum(heights) / len(heights)), wspace=wspace)
    per_row = 2 if hand_names else 1
    for k, i in enumerate(indices):
        r, c = divmod(k, cols)
        ax = fig.add_subplot(grid[r * per_row, 2 * c: 2 * c + 2])
        draw_frame(ax, layout, frames[i], title=f"frame {i}", frame_size=frame_size, bounds=bounds)
        for j, hand in enumerate(hand_names):
            draw_hand(fig.add_subplot(grid[r * per_row + 1, 2 * c + j]), layout, frames[i], hand, frame_size)
    heading = [literal_text(title)] if title else []
    if notes:
        shown = upper_body(layout, raw[indices]) if not legs else raw[indices]
        heading.append(confidence_note(*_low_confidence_count(layout, shown, frames[indices]), min_confidence))
    if heading:
        fig.suptitle("\n".join(heading), fontsize=10 if len(heading) == 1 else 9,
                     y=1 - 0.08 / fig.get_figheight(), va="top")
    _figure_legend(fig, labels)  # every part drawn in some frame, whether or not in the first
    return fig


def frame_figure(layout: FeatureLayout, row: np.ndarray, title: str | None = None,
                 frame_size: tuple[int, int] | None = None, bounds=None, size: tuple[float, float] = (5, 4),
                 confidence: np.ndarray | None = None, min_confidence: float = MIN_CONFIDENCE, hands: bool = True):
    """One frame in its own Figure, made without pyplot so nothing is shown as a side effect.

    The first axes is the frame; with `hands` the right and the left hand follow as close-ups in
    a column beside it. The legend goes below, so it never hides the face or a hand.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=90)
    hand_names = _hands_of(layout) if hands else []
    labels = parts_drawn(layout, confident(layout, row, confidence, min_confidence))
    bottom = (_legend_height(labels, size[0]) + 0.35) / size[1]
    top = 1 - (0.3 + 0.17 * (confidence is not None and bool(min_confidence))) / size[1]
    if hand_names:
        grid = fig.add_gridspec(len(hand_names), 2, width_ratios=[3, 1], left=0.5 / size[0], right=0.98, top=top,
                                bottom=bottom, wspace=0.12, hspace=0.25)
        ax = fig.add_subplot(grid[:, 0])
    else:
        grid = None
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.5 / size[0], right=0.98, bottom=bottom, top=top)
    draw_frame(ax, layout, row, title=title, frame_size=frame_size, bounds=bounds, confidence=confidence,
               min_confidence=min_confidence)
    if confidence is not None and min_confidence:
        heading = f"{literal_text(title)}\n" if title else ""
        ax.set_title(heading + f"points with confidence below {min_confidence:g} not drawn", fontsize=8)
    for j, hand in enumerate(hand_names):
        draw_hand(fig.add_subplot(grid[j, 1]), layout, row, hand, frame_size, confidence, min_confidence)
    _figure_legend(fig, labels)
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
