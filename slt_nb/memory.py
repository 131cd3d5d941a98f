"""Process memory over a run: RSS of this process and its children, sampled in the background."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


def tree_rss(process: psutil.Process, include_self: bool = True) -> int:
    """RSS in bytes of a process plus all its live descendants (only the descendants if not include_self)."""
    total = 0
    try:
        if include_self:
            total += process.memory_info().rss
        children = process.children(recursive=True)
    except psutil.Error:
        return total
    for child in children:
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass  # exited between listing and reading
    return total


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0  # exited since it was listed


@dataclass
class MemoryMonitor:
    """Sample RSS (with children) every `interval` seconds from a daemon thread.

    Use as a context manager or with start()/stop(). `mark(label)` records a named moment
    (a part written, a phase begun); `phase(name)` is a context manager marking start and end.
    With `children_only`, the process itself is left out: a runner watching the kernel it
    started measures the kernel, not its own imports.
    """

    interval: float = 0.1
    pid: int | None = None
    children_only: bool = False
    rescan: float = 1.0  # seconds between listings of the descendants (workers starting or ending)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes)
    marks: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self):
        self._process = psutil.Process(self.pid)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.perf_counter()
        self._listed: list | None = None
        self._listed_at = 0.0

    def start(self) -> "MemoryMonitor":
        if self._thread is not None:
            return self
        self._t0 = time.perf_counter()
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="slt_nb-memory", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> int:
        now = time.perf_counter()
        if self._listed is None or now - self._t0 < 1.0 or now - self._listed_at >= self.rescan:
            # Listing descendants scans every process of the machine (about 6 ms here); reading a
            # known process's RSS is one small /proc read. So the list is refreshed once a second,
            # not at every sample: at 20 samples a second the scan alone held a tenth of a core
            # (and the GIL) in the kernel whose export it was measuring. Every sample rescans during
            # the first second, so a process started just after the monitor (a kernel) is seen.
            try:
                self._listed = self._process.children(recursive=True)
            except psutil.Error:
                self._listed = []
            self._listed_at = now
        rss = 0 if self.children_only else _rss(self._process)
        rss += sum(_rss(child) for child in self._listed)
        self.samples.append((time.perf_counter() - self._t0, rss))
        return rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> "MemoryMonitor":
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self._sample()
        return self

    def mark(self, label: str) -> None:
        self.marks.append((time.perf_counter() - self._t0, label))
        self._sample()

    class _Phase:
        def __init__(self, monitor, name):
            self.monitor, self.name = monitor, name

        def __enter__(self):
            self.monitor.mark(f"{self.name} start")

        def __exit__(self, *exc):
            self.monitor.mark(f"{self.name} end")

    def phase(self, name: str):
        return MemoryMonitor._Phase(self, name)

    def __enter__(self) -> "MemoryMonitor":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def peak_bytes(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / MB

    def table(self):
        """Samples as a pandas DataFrame: seconds, rss_mb, and the last mark at or before each."""
        import pandas as pd

        df = pd.DataFrame(self.samples, columns=["seconds", "rss_bytes"])
        df["rss_mb"] = df["rss_bytes"] / MB
        labels = []
        marks = sorted(self.marks)
        j, current = 0, ""
        for t in df["seconds"]:
            while j < len(marks) and marks[j][0] <= t:
                current = marks[j][1]
                j += 1
            labels.append(current)
        df["phase"] = labels
        return df

    def plot(self, ax=None, limit_mb: float | None = None, title: str = "Process memory (RSS, with children)",
             mark_filter=None):
        """Draw RSS over time: phases shaded, other marks as lines, peak and limit as levels; returns the Axes.

        `phase(name)` pairs become shaded spans; a "<name> start" with no end lasts until the
        next start. mark_filter(label) -> bool picks which single marks are drawn.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2))
        # from zero, so the height of the curve is honest against the limit
        ax.set_ylim(0, max(self.peak_mb, limit_mb or 0) * 1.15 or 1.0)
        if self.samples:
            t, rss = zip(*self.samples)
            ax.plot(t, [r / MB for r in rss], color="tab:blue", lw=1.5, label="RSS")
        end = self.samples[-1][0] if self.samples else 0.0
        spans, points = _phase_spans(self.marks, end)
        for i, (name, t0, t1) in enumerate(spans):
            ax.axvspan(t0, t1, color=f"C{(i % 7) + 2}", alpha=0.13, lw=0)
            ax.annotate(name, (t0, 0.03), xycoords=("data", "axes fraction"), fontsize=7, ha="left",
                        va="bottom", rotation=90, color="dimgray")
        shown = [(t, mark) for t, mark in points if mark_filter is None or mark_filter(mark)]
        for i, (t, _mark) in enumerate(shown):
            ax.axvline(t, color="tab:orange", lw=0.8, alpha=0.7, label="marks" if i == 0 else None)
        if len(shown) <= 12:
            for t, label in shown:
                ax.annotate(label, (t, ax.get_ylim()[1]), rotation=90, fontsize=7, va="top", ha="right",
                            color="tab:orange")
        if limit_mb is not None:
            ax.axhline(limit_mb, color="tab:red", ls="--", lw=1, label=f"limit {limit_mb:.0f} MB")
        ax.axhline(self.peak_mb, color="grey", ls=":", lw=1, label=f"peak {self.peak_mb:.0f} MB")
        ax.set_xlabel("seconds")
        ax.set_ylabel("MB")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
        return ax


def _phase_spans(marks, end: float):
    """(name, start, end) spans from "<name> start"/"<name> end" marks, and the other marks.

    A start never closed lasts until the next start, or the end of the run.
    """
    spans, points, open_ = [], [], []
    for t, label in sorted(marks):
        if label.endswith(" start"):
            for name, t0 in open_:
                spans.append((name, t0, t))
            open_ = [(label[: -len(" start")], t)]
        elif label.endswith(" end") and any(n == label[: -len(" end")] for n, _ in open_):
            name = label[: -len(" end")]
            spans += [(n, t0, t) for n, t0 in open_ if n == name]
            open_ = [(n, t0) for n, t0 in open_ if n != name]
        else:
            points.append((t, label))
    spans += [(name, t0, end) for name, t0 in open_]
    return sorted(spans, key=lambda s: s[1]), points
