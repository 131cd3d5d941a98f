"""The live clip viewer (ipywidgets in JupyterLab) and frame picking for skeleton grids."""
from __future__ import annotations

import dataclasses
import html
import os
import time

import numpy as np

from slt_nb.errors import ParameterError
from slt_nb.inspection.redraw import FrameRenderer
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
        raise ParameterError(f"interactive must be True, False or 'auto', got {interactive!r}")
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
    """A live skeleton viewer for JupyterLab: split and clip pickers, frame slider, play button.

    The frame is rendered to PNG into an image widget, so it redraws without any matplotlib
    widget backend; `FrameRenderer` keeps the clip's figure and moves its artists, so a How2Sign
    frame with its face takes about 25 ms instead of 130 (benchmarks/bench_viewer.py). Play steps at the clip's own rate, or
    at the rate frames are drawn where that is slower (the label beside the slider says which).
    A clip that cannot be read, or a split without clips, blanks the picture and says why.
    Build it only when `want_viewer()` says a frontend is there.
    """

    def __init__(self, source: ClipSource, split: str, clip: ClipRef | None = None, size=(5.5, 4.2)):
        import ipywidgets as widgets

        self.source, self.split, self.size = source, split, size
        # a split asked for that the source does not list is offered too, and says what is wrong with it
        splits = list(dict.fromkeys([*source.splits(), split]))
        self.split_picker = widgets.Dropdown(options=splits, value=split, description="split",
                                             layout=widgets.Layout(width="200px"))
        self.picker = widgets.Dropdown(options=[], description="clip", layout=widgets.Layout(width="420px"))
        self.slider = widgets.IntSlider(0, 0, 0, description="frame", continuous_update=True,
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(value=0, min=0, max=0, interval=42, description="play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.rate = widgets.HTML()
        # at its own pixel size (Figure dpi 90): the frontend would otherwise stretch it blurry
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(size[0] * 90)}px"))
        self.status = widgets.HTML()
        for w, cls in ((self.slider, "slt-nb-frame-slider"), (self.image, "slt-nb-skeleton"),
                       (self.picker, "slt-nb-clip-picker"), (self.play, "slt-nb-play"),
                       (self.split_picker, "slt-nb-split-picker"), (self.rate, "slt-nb-play-rate"),
                       (self.status, "slt-nb-status")):
            w.add_class(cls)
        self.widget = widgets.VBox([widgets.HBox([self.split_picker, self.picker]),
                                    widgets.HBox([self.play, self.slider, self.rate]), self.image, self.status])
        self.refs: list[ClipRef] = []
        self.clip: Clip | None = None
        self.renderer: FrameRenderer | None = None
        self.bounds = None
        self.draw_seconds: float | None = None  # how long a frame takes to draw, a running average
        self._quiet = False  # set while the viewer itself changes the pickers and the slider
        self.split_picker.observe(lambda change: self._quiet or self.show_split(change["new"]), names="value")
        self.picker.observe(lambda change: self._quiet or change["new"] is None or self.show_clip(change["new"]),
                            names="value")
        self.slider.observe(lambda change: self._quiet or self.draw(change["new"]), names="value")
        self.show_split(split, clip.name if clip is not None else None)

    def show_split(self, split: str, name: str | None = None) -> None:
        """List the clips of `split` in the clip picker and show `name` (default: its first clip)."""
        self.split = split
        problem = None
        try:
            self.refs = list(self.source.clips(split))
        except Exception as exc:
            self.refs, problem = [], f"{self.source.name}: split {split!r}: cannot list its clips: {exc}"
        if not self.refs and problem is None:
            problem = f"{self.source.name}: split {split!r} lists no clips (splits: {self.source.splits()})"
        names = [r.name for r in self.refs]
        self._quiet = True
        try:
            if split not in self.split_picker.options:
                self.split_picker.options = (*self.split_picker.options, split)
            self.split_picker.value = split
            self.picker.options = names
            self.picker.value = name if name in names else (names[0] if names else None)
        finally:
            self._quiet = False
        if problem:
            self.blank(problem)
        else:
            self.show_clip(self.picker.value)

    def show_clip(self, name: str) -> None:
        """Load a clip of the split and show its first frame; one that cannot be read blanks the picture."""
        from slt_nb.plotting import confident, point_bounds

        ref = next((r for r in self.refs if r.name == name), None)
        if ref is None:
            self.blank(f"{self.source.name}: split {self.split!r} has no clip {name!r}")
            return
        try:
            clip = self.source.load(ref)
        except Exception as exc:
            self.blank(f"{ref.name}: cannot read: {exc}")
            return
        if not len(clip.frames):
            self.blank(f"{ref.name}: the clip has no frames")
            return
        if self.picker.value != ref.name:
            self._quiet = True
            try:
                self.picker.value = ref.name
            finally:
                self._quiet = False
        if clip.confidence is not None:  # as the report's grid: points below MIN_CONFIDENCE are not drawn
            clip = dataclasses.replace(clip, frames=confident(clip.layout, clip.frames, clip.confidence),
                                       confidence=None)
        self.clip = clip
        self.bounds = point_bounds(clip.frames[:, : clip.layout.width], frame_size=clip.frame_size)
        self.renderer = FrameRenderer(clip, self.bounds, self.size)
        self.draw_seconds = None
        n = len(clip.frames)
        self._quiet = True
        try:
            self.play.playing = False
            self.slider.max = self.play.max = n - 1
            self.slider.value = self.play.value = 0
            self.slider.disabled = self.play.disabled = False
        finally:
            self._quiet = False
        self.image.layout.visibility = "visible"
        self.draw(0)
        self.draw_seconds = None  # frame 0 also made the clip's figure: not what a frame of play takes
        self._time_drawing()

    def blank(self, reason: str) -> None:
        """No clip to show: the picture cleared, slider and play off, the reason in the status line."""
        self.clip, self.renderer, self.bounds = None, None, None
        self._quiet = True
        try:
            self.play.playing = False
            self.slider.value = self.play.value = 0
            self.slider.max = self.play.max = 0
            self.slider.disabled = self.play.disabled = True
        finally:
            self._quiet = False
        self.image.value = b""
        self.image.layout.visibility = "hidden"
        self.rate.value = ""
        self.play.tooltip = None
        # clip names, texts and error messages come from the dataset: shown as text, never as markup
        self.status.value = f"<b style='color:#b00'>{html.escape(reason)}</b>"

    def draw(self, index: int) -> None:
        """Redraw the skeleton of frame `index` of the current clip."""
        if self.clip is None or self.renderer is None:
            return
        c = self.clip
        started = time.perf_counter()
        self.image.value = self.renderer.png(index, self.title(index))
        self._drawn_in(time.perf_counter() - started)
        seconds = f", {index / c.fps:.2f} s" if c.fps else ""
        self.status.value = status_html(index, len(c.frames), seconds, c.text)

    def title(self, index: int) -> str:
        """The picture's title for frame `index` of the current clip."""
        return f"{self.clip.split}/{self.clip.name}  frame {index}"

    def _time_drawing(self) -> None:
        """Draw the next few frames unseen, to know play's rate before play is pressed."""
        n = len(self.clip.frames)
        for index in range(1, min(n, 4)):
            started = time.perf_counter()
            self.renderer.png(index, self.title(index))
            self._drawn_in(time.perf_counter() - started)

    def _drawn_in(self, seconds: float) -> None:
        """Keep the running drawing time and step play no faster than frames are drawn."""
        first = self.draw_seconds is None
        self.draw_seconds = seconds if first else 0.7 * self.draw_seconds + 0.3 * seconds
        fps = self.clip.fps
        interval, current = play_interval(fps, self.draw_seconds), self.play.interval
        # not every wobble of the drawing time: a tenth of a second of play costs a restart of its timer
        if first or interval == play_interval(fps, 0) or abs(interval - current) > 0.15 * current:
            self.play.interval = interval
        text = rate_text(fps, self.play.interval, self.draw_seconds)
        self.rate.value = html.escape(text)
        self.play.tooltip = text


def play_interval(fps: float | None, draw_seconds: float) -> int:
    """Play's interval in ms for a clip at `fps` whose frames take `draw_seconds` to draw.

    The clip's own rate where frames are drawn fast enough; else one frame per drawing time (with
    some slack for the trip to the browser), so the picture keeps up with the slider.
    """
    own = 1000 / fps if fps else 42
    return int(np.ceil(max(own, draw_seconds * 1000 * 1.15, 20)))


def rate_text(fps: float | None, interval: int, draw_seconds: float) -> str:
    """What play's rate is, for the label beside the slider."""
    rate, ms = 1000 / interval, draw_seconds * 1000
    if not fps:
        return f"plays at {rate:.0f} fps (clip rate unknown; a frame draws in {ms:.0f} ms)"
    if interval <= play_interval(fps, 0):
        return f"plays at {fps:g} fps, the clip's rate (a frame draws in {ms:.0f} ms)"
    return f"plays at {rate:.0f} fps, slower than the clip's {fps:g}: a frame takes {ms:.0f} ms to draw"


def status_html(index: int, frames: int, seconds: str, text: str) -> str:
    """The viewer's status line; the dataset's sentence is escaped, so `<img onerror=...>` is text."""
    line = f"frame {index} of {frames}{seconds}"
    return html.escape(line) + (f" &middot; {html.escape(text)}" if text else "")


def grid_indices(length: int, frames: int | list[int]) -> list[int]:
    """Frame numbers for a grid: `frames` evenly spaced ones, or the listed ones that exist."""
    if isinstance(frames, (list, tuple)):
        bad = [i for i in frames if not -length <= int(i) < length]
        if bad:
            raise ParameterError(f"frames {bad} are outside a clip of {length} frames")
        return [int(i) % length for i in frames]
    count = max(1, min(int(frames), length))
    return [int(i) for i in np.linspace(0, length - 1, count).round()]
