"""The live clip viewer (ipywidgets in JupyterLab) and frame picking for skeleton grids."""
from __future__ import annotations

import html
import os

import numpy as np

from slt_nb.errors import ClipNotFound
from slt_nb.inspection.sources import Clip, ClipRef, ClipSource


def want_viewer(interactive: bool | str | None = "auto") -> bool:
    """Whether to build the live widget viewer: True/False as given, or "auto".

    auto means: an IPython kernel whose current request comes from a person's frontend.
    papermill (nbclient) sends execute requests with allow_stdin False, JupyterLab with True;
    SLT_NB_BATCH=1 (set by slt_nb.runner) forces batch mode whatever the client.
    """
    if isinstance(interactive, bool):
        return interactive
    if interactive not in (None, "auto"):
        value = str(interactive).strip().lower()
        if value in ("true", "yes", "1", "on"):
            return True
        if value in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"interactive must be True, False or 'auto', got {interactive!r}")
    if os.environ.get("SLT_NB_BATCH") == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:  # plain IPython or python: no widget frontend
        return False
    try:
        parent = kernel.get_parent()
    except Exception:
        parent = getattr(kernel, "_parent_header", None) or {}
    content = (parent or {}).get("content") or {}
    return bool(content.get("allow_stdin", False))


class ClipViewer:
    """A live skeleton viewer for JupyterLab: clip picker, frame slider, play button.

    The frame is rendered to PNG into an image widget, so it redraws without any matplotlib
    widget backend. Build it only when `want_viewer()` says a frontend is there.
    """

    def __init__(self, source: ClipSource, split: str, clip: ClipRef | None = None, size=(5.5, 4.2)):
        import ipywidgets as widgets

        self.source, self.split, self.size = source, split, size
        self.refs = source.clips(split)
        if not self.refs:
            raise ClipNotFound(f"{source.name}: split {split!r} lists no clips")
        start = clip.name if clip is not None else self.refs[0].name
        self.picker = widgets.Dropdown(options=[r.name for r in self.refs], value=start, description="clip",
                                       layout=widgets.Layout(width="420px"))
        self.slider = widgets.IntSlider(0, 0, 0, description="frame", continuous_update=True,
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=0, min=0, max=0, interval=42, description="play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        # at its own pixel size (Figure dpi 90): the frontend would otherwise stretch it blurry
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(size[0] * 90)}px"))
        self.status = widgets.HTML()
        for w, cls in ((self.slider, "slt-nb-frame-slider"), (self.image, "slt-nb-skeleton"),
                       (self.picker, "slt-nb-clip-picker"), (self.play, "slt-nb-play")):
            w.add_class(cls)
        self.widget = widgets.VBox([self.picker, widgets.HBox([self.play, self.slider]), self.image, self.status])
        self.clip: Clip | None = None
        self.bounds = None
        self.picker.observe(lambda change: self.show_clip(change["new"]), names="value")
        self.slider.observe(lambda change: self.draw(change["new"]), names="value")
        self.show_clip(start)

    def show_clip(self, name: str) -> None:
        """Load a clip of the split and show its first frame."""
        from slt_nb.plotting import point_bounds

        ref = next(r for r in self.refs if r.name == name)
        try:
            self.clip = self.source.load(ref)
        except Exception as exc:
            self.clip = None
            # clip names, texts and error messages come from the dataset: shown as text, never as markup
            self.status.value = f"<b style='color:#b00'>{html.escape(f'{ref.name}: cannot read: {exc}')}</b>"
            return
        n = len(self.clip.frames)
        self.bounds = point_bounds(self.clip.frames[:, : self.clip.layout.width])
        if self.clip.fps:
            self.play.interval = max(20, int(1000 / self.clip.fps))
        self.slider.max = self.play.max = max(n - 1, 0)
        self.slider.value = 0
        self.draw(0)

    def draw(self, index: int) -> None:
        """Redraw the skeleton of frame `index` of the current clip."""
        from slt_nb.plotting import figure_png, frame_figure

        if self.clip is None or not len(self.clip.frames):
            return
        c = self.clip
        fig = frame_figure(c.layout, c.frames[index], title=f"{c.split}/{c.name}  frame {index}",
                           frame_size=c.frame_size, bounds=self.bounds, size=self.size)
        self.image.value = figure_png(fig)
        seconds = f", {index / c.fps:.2f} s" if c.fps else ""
        self.status.value = status_html(index, len(c.frames), seconds, c.text)


def status_html(index: int, frames: int, seconds: str, text: str) -> str:
    """The viewer's status line; the dataset's sentence is escaped, so `<img onerror=...>` is text."""
    line = f"frame {index} of {frames}{seconds}"
    return html.escape(line) + (f" &middot; {html.escape(text)}" if text else "")


def grid_indices(length: int, frames: int | list[int]) -> list[int]:
    """Frame numbers for a grid: `frames` evenly spaced ones, or the listed ones that exist."""
    if isinstance(frames, (list, tuple)):
        bad = [i for i in frames if not -length <= int(i) < length]
        if bad:
            raise ValueError(f"frames {bad} are outside a clip of {length} frames")
        return [int(i) % length for i in frames]
    count = max(1, min(int(frames), length))
    return [int(i) for i in np.linspace(0, length - 1, count).round()]
