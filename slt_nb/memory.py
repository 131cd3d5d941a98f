"""Process memory over a run: RSS of this process and its children, sampled in the background."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


def tree_rss(process: psutil.Process) -> int:
    """RSS in bytes of a process plus all its live descendants."""
    total = 0
    try:
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


@dataclass
class MemoryMonitor:
    """Sample RSS (with children) every `interval` seconds from a daemon thread.

    Use as a context manager or with start()/stop(). `mark(label)` records a named moment
    (a part written, a phase begun); `phase(name)` is a context manager marking start and end.
    """

    interval: float = 0.1
    pid: int | None = None
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes)
    marks: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self):
        self._process = psutil.Process(self.pid)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.perf_counter()

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
        rss = tree_rss(self._process)
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
        """Draw RSS over time with the marks as vertical lines; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2))
        if self.samples:
            t, rss = zip(*self.samples)
            ax.plot(t, [r / MB for r in rss], color="tab:blue", lw=1.5, label="RSS")
        shown = [(t, l) for t, l in self.marks if mark_filter is None or mark_filter(l)]
        for i, (t, label) in enumerate(shown):
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
