"""One clip's frames as PNGs for the live viewer, redrawn fast enough to play.

`plotting.frame_figure` builds a new Figure for every frame (7 to 8 frames/s for a How2Sign
clip with its face; benchmarks/bench_viewer.py). `FrameRenderer` draws the same picture from a kept figure: the figure is
made once by `frame_figure` itself, for a *template* row in which every point the frame shows is
at a distinct place, so each line and dot set that `draw_frame`, `draw_segment` and `draw_hand`
draw can be traced back to the points it joins. A frame then only moves those artists to the
frame's points, hides the ones whose points were not detected (the rule of plotting/framing.py: a point
at (0, 0) is never drawn), redraws them over the kept background (axes, ticks, legend) and
encodes the canvas's pixels as PNG.

A frame that shows other parts than the template (a hand that appears, a face that is lost)
has its own template, made the same way; a frame the template cannot show as `frame_figure`
would (artists that are not made of the row's points, a clip without a view to keep) is drawn
the old way, so the picture is always `frame_figure`'s.
"""
from __future__ import annotations

import io
from collections import OrderedDict

import numpy as np

from slt_nb.inspection.sources import Clip

# Kept figures per clip, one per set of parts shown; each is ~1 MB of canvas.
_TEMPLATES_KEPT = 8


def png_bytes(rgba: np.ndarray) -> bytes:
    """PNG of an (H, W, 4) uint8 canvas; fast zlib level (the pixels are what matters, not the bytes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgba), "RGBA").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def fresh_png(clip: Clip, index: int, title: str, bounds, size) -> bytes:
    """Frame `index` drawn the plain way: a new frame_figure, saved as PNG."""
    from slt_nb.plotting import figure_png, frame_figure

    fig = frame_figure(clip.layout, clip.frames[index], title=title, frame_size=clip.frame_size, bounds=bounds,
                       size=size)
    return figure_png(fig)


class _Template:
    """A kept frame_figure for one set of parts shown, with its artists traced to points."""

    def __init__(self, fig, moving: list, texts: dict, closeups: dict, order: dict):
        self.fig = fig
        self.moving = moving  # [(artist, point indices, "line" | "dots")]
        self.title = texts  # {"title": Text} the frame's title, rewritten each frame
        self.closeups = closeups  # {hand: (axes, aspect)}
        self.order = order  # {axes: [artists in the order Axes.draw draws them]}
        self.background = None


class FrameRenderer:
    """PNGs of one clip's frames, the same pictures as `frame_figure(...)` gives, drawn from kept figures.

    `bounds` is the view for the whole clip (the viewer's), `size` the figure size in inches.
    `png(index, title)` is the fast path; `fresh_png` the plain one (a new figure per frame).
    """

    def __init__(self, clip: Clip, bounds, size=(5.5, 4.2)):
        self.clip, self.bounds, self.size = clip, bounds, tuple(size)
        layout = clip.layout
        self.layout = layout
        # the x and y columns of every point of the layout, segment by segment
        xs, ys, owner = [], [], []
        for s, seg in enumerate(layout.segments):
            step = len(seg.dims)
            for i in range(seg.skeleton.size):
                xs.append(seg.start + i * step)
                ys.append(seg.start + i * step + 1)
                owner.append(s)
        self._x, self._y = np.asarray(xs, dtype=np.intp), np.asarray(ys, dtype=np.intp)
        self._owner = np.asarray(owner, dtype=np.intp)
        frames = np.asarray(clip.frames, dtype=np.float32)
        self._frames = frames
        # template points in the units of the clip's view (fractions of the frame or pixels, as
        # finish_axes tells them apart), so draw_hand frames the close-ups the same way
        self._normalised = bounds is None or max(abs(bounds[0][1]), abs(bounds[1][1])) <= 2.0
        self._templates: OrderedDict[tuple, _Template | None] = OrderedDict()
        self.fast_frames = 0  # how many frames took the fast path (for tests and the benchmark)
        self.plain_frames = 0

    # -- the picture -------------------------------------------------------------------------------

    def fresh_png(self, index: int, title: str) -> bytes:
        """Frame `index` the plain way, a new frame_figure (what the fast path must equal)."""
        return fresh_png(self.clip, index, title, self.bounds, self.size)

    def png(self, index: int, title: str) -> bytes:
        """Frame `index` as PNG: the kept figure for its parts, its artists moved to the frame's points."""
        from slt_nb.plotting import literal_text, parts_drawn

        row = self._frames[index]
        if self.bounds is None:  # no point anywhere in the clip: every frame sets its own view
            return self._plain(index, title)
        labels = tuple(parts_drawn(self.layout, row))
        template = self._template(labels, title)
        if template is None:
            return self._plain(index, title)
        points = np.stack([row[self._x], row[self._y]], axis=-1).astype(np.float64)
        seen = ~np.all(points == 0, axis=1)
        for hand, (ax, aspect) in template.closeups.items():
            view = self._closeup_view(hand, row)
            if view is None or view[2] != aspect:
                return self._plain(index, title)
            (x0, x1), (y0, y1), _ = view
            ax.set_xlim(x0, x1)
            ax.set_ylim(y1, y0)
        for artist, idx, kind in template.moving:
            xy = points[idx]
            if kind == "line":
                artist.set_data(xy[:, 0], xy[:, 1])
                artist.set_visible(bool(seen[idx].all()))
            else:
                xy = xy.copy()
                xy[~seen[idx]] = np.nan  # not drawn, and every other dot keeps its colour
                artist.set_offsets(xy)
        template.title["title"].set_text(literal_text(title))
        canvas = template.fig.canvas
        canvas.restore_region(template.background)
        for ax, artists in template.order.items():
            for artist in artists:
                ax.draw_artist(artist)
        self.fast_frames += 1
        return png_bytes(np.asarray(canvas.buffer_rgba()))

    def _plain(self, index: int, title: str) -> bytes:
        self.plain_frames += 1
        return self.fresh_png(index, title)

    def _closeup_view(self, hand: str, row: np.ndarray):
        """draw_hand's view of a hand in `row`: ((x0, x1), (y0, y1), aspect), or None when it draws none."""
        from slt_nb.plotting import hand_bounds

        frame_size = self.clip.frame_size
        bounds = hand_bounds(self.layout.segment(hand).points(row)[:, :2], frame_size)
        if bounds is None:
            return None
        (x0, x1), (y0, y1) = bounds
        normalised = max(abs(x1), abs(y1)) <= 2.0
        aspect = frame_size[1] / frame_size[0] if (normalised and frame_size) else 1.0
        return (x0, x1), (y0, y1), float(aspect)

    # -- templates ---------------------------------------------------------------------------------

    def _template(self, labels: tuple, title: str) -> _Template | None:
        if labels in self._templates:
            self._templates.move_to_end(labels)
            return self._templates[labels]
        template = self._build(labels, title)
        self._templates[labels] = template
        while len(self._templates) > _TEMPLATES_KEPT:
            self._templates.popitem(last=False)
        return template

    def _template_row(self, labels: tuple) -> np.ndarray:
        """A row whose points (of the parts in `labels`) all lie at distinct places; the others undetected."""
        n = len(self._x)
        shown = np.array([seg.name.replace("_", " ") in labels for seg in self.layout.segments], dtype=bool)
        k = np.arange(n)
        lo, hi = (0.05, 0.95) if self._normalised else (20.0, 1000.0)
        x = lo + (hi - lo) * (k + 1) / (n + 1)
        y = lo + (hi - lo) * ((k * 37) % n + 1) / (n + 1)
        row = np.zeros(self._frames.shape[1], dtype=np.float32)
        keep = shown[self._owner]
        row[self._x[keep]] = x[keep]
        row[self._y[keep]] = y[keep]
        return row

    def _build(self, labels: tuple, title: str) -> _Template | None:
        """frame_figure of the template row, its artists traced to points; None if some cannot be."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PathCollection
        from matplotlib.lines import Line2D

        from slt_nb.plotting import frame_figure, literal_text

        row = self._template_row(labels)
        fig = frame_figure(self.layout, row, title=title, frame_size=self.clip.frame_size, bounds=self.bounds,
                           size=self.size)
        FigureCanvasAgg(fig)
        where = {(np.float32(x), np.float32(y)): k for k, (x, y) in enumerate(zip(row[self._x], row[self._y]))
                 if x or y}
        moving, order, closeups, title_text = [], {}, {}, None
        for ax in fig.axes:
            gid = ax.get_gid() or ""
            children = ax.get_children()
            traced = []
            for artist in children:
                if isinstance(artist, Line2D):
                    kind, xy = "line", artist.get_xydata()
                elif isinstance(artist, PathCollection):
                    kind, xy = "dots", artist.get_offsets()
                else:
                    continue
                idx = [where.get((np.float32(x), np.float32(y))) for x, y in np.asarray(xy)]
                if not idx or None in idx:
                    return None  # drawn from something other than the row's points: cannot be moved
                moving.append((artist, np.asarray(idx, dtype=np.intp), kind))
                traced.append(artist)
            if ax.title.get_text() == literal_text(title) and title:
                title_text = ax.title
                traced.append(ax.title)
            if gid.startswith("closeup:") and traced:
                closeups[gid.split(":", 1)[1]] = (ax, float(ax.get_aspect()) if ax.get_aspect() != "auto" else None)
            if traced:
                # the moved artists and the spines drawn over them, in Axes.draw's order (by zorder, stably)
                dynamic = set(map(id, traced)) | {id(s) for s in ax.spines.values()}
                ordered = sorted((a for a in children if id(a) in dynamic), key=lambda a: a.get_zorder())
                for artist in ordered:
                    artist.set_animated(True)
                order[ax] = ordered
        if title_text is None:
            return None
        template = _Template(fig, moving, {"title": title_text}, closeups, order)
        fig.canvas.draw()  # every axis, tick and legend once; the animated artists are left out
        template.background = fig.canvas.copy_from_bbox(fig.bbox)
        return template
