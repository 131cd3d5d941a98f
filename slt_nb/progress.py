"""Progress of long work in a notebook, shown on the console of the command that runs the notebook.

A notebook run by `slt-nb` executes in a kernel, another process: a tqdm bar made there lands in
the notebook's output, never on the user's terminal. So the runner opens a channel, a file in a
private temporary folder named by `SLT_NB_PROGRESS` in the kernel's environment (`Listener`);
`bar()` appends one JSON line to it per change, and the runner tails the file and draws one
console line per notebook (`ConsoleLine`: "export How2Sign: train parts 3/8"). Without a
channel (a notebook opened in Jupyter, a script, a test) `bar()` does what a bar did before: a
plain text tqdm bar on stdout when `show`, else nothing.

    with progress.bar(len(epochs), "epochs") as epochs_bar:
        for epoch in epochs:
            ...
            epochs_bar.update()
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CHANNEL_ENV = "SLT_NB_PROGRESS"
# A loop that reports every item still writes at most this often (plus its first and last count).
MIN_INTERVAL = 0.1
CELLS = "cells"  # the bar id of the runner's own count of executed cells

_ids = itertools.count(1)


@dataclass(frozen=True)
class Event:
    """One change of a bar: `done` of `total` for `label`; `closed` when the work ended."""

    bar: str
    label: str
    done: int
    total: int
    closed: bool = False

    def line(self) -> bytes:
        return (json.dumps({"bar": self.bar, "label": self.label, "done": self.done, "total": self.total,
                            "closed": self.closed}) + "\n").encode()


class Bar:
    """Counts work done; reports it to the runner's channel when there is one, and shows a tqdm bar
    in the notebook when `show`. Never raises for a channel it cannot write: progress is not the work."""

    def __init__(self, total: int, label: str, show: bool = False, initial: int = 0):
        self.total, self.label, self.done = int(total), label, int(initial)
        self.closed = False
        self._id = f"{os.getpid()}-{next(_ids)}"
        self._channel = os.environ.get(CHANNEL_ENV) or None
        self._sent = 0.0
        self._tqdm = None
        if show and self.total > 0:
            from tqdm import tqdm

            # Plain text on stdout: readable in a terminal, a notebook and a papermill log alike.
            self._tqdm = tqdm(total=self.total, initial=self.done, desc=label, file=sys.stdout, ascii=True,
                              mininterval=1.0, dynamic_ncols=False, ncols=90)
        self._send(force=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._tqdm is not None:
            self._tqdm.update(n)
        self._send(force=self.done >= self.total)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._tqdm is not None:
            self._tqdm.close()
        self._send(force=True)

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, force: bool = False) -> None:
        if self._channel is None or self.total <= 0:
            return
        now = time.monotonic()
        if not force and now - self._sent < MIN_INTERVAL:
            return
        self._sent = now
        line = Event(self._id, self.label, self.done, self.total, self.closed).line()
        try:  # one append per event: whole lines, however the runner reads
            fd = os.open(self._channel, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError:
            self._channel = None  # the runner went away (its folder is gone): the work goes on


def bar(total: int, label: str, show: bool = False, initial: int = 0) -> Bar:
    """A progress bar for `total` steps of `label` (see the module docstring); use it in a `with`."""
    return Bar(total, label, show, initial)


class Listener:
    """The runner's end of the channel: while open, kernels started from this process report to a
    file in a private temporary folder, and a thread hands each event to `on_event` in order."""

    def __init__(self, on_event: Callable[[Event], None], interval: float = 0.05):
        self.on_event = on_event
        self.interval = interval
        self._folder: Path | None = None
        self._previous: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = b""
        self._offset = 0

    @property
    def path(self) -> Path | None:
        return self._folder / "events.jsonl" if self._folder else None

    def __enter__(self) -> "Listener":
        self._folder = Path(tempfile.mkdtemp(prefix="slt-nb-progress-"))
        self.path.touch()
        self._previous = os.environ.get(CHANNEL_ENV)
        os.environ[CHANNEL_ENV] = str(self.path)  # inherited by the kernel jupyter_client starts
        self._thread = threading.Thread(target=self._tail, name="slt-nb-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._read()  # what the kernel wrote last
        if self._previous is None:
            os.environ.pop(CHANNEL_ENV, None)
        else:
            os.environ[CHANNEL_ENV] = self._previous
        shutil.rmtree(self._folder, ignore_errors=True)

    def _tail(self) -> None:
        while not self._stop.wait(self.interval):
            self._read()

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        self._offset += len(chunk)
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            try:
                d = json.loads(line)
                event = Event(str(d["bar"]), str(d["label"]), int(d["done"]), int(d["total"]), bool(d["closed"]))
            except (ValueError, KeyError, TypeError):
                continue  # not ours to fail on: a progress line is never worth a run
            try:
                self.on_event(event)
            except Exception:  # noqa: BLE001  (a display error must not stop the tail or the run)
                pass


class ConsoleLine:
    """One tqdm line on stderr for a running notebook: its latest open bar, else its cell count.

    "export How2Sign: train parts 2/3 |#####     | 00:04", the time since the notebook started. The
    line is cleared when closed, so the notebook's result line takes its place.
    """

    COUNTED = "{desc} {n_fmt}/{total_fmt} |{bar:20}| {elapsed}"

    def __init__(self, name: str, file=None):
        from tqdm import tqdm

        self.name = name
        self._open: dict[str, Event] = {}  # in the order bars were opened
        self._cells: Event | None = None
        self._lock = threading.Lock()
        # The line fits 80 columns; a terminal that reports no size (0 x 0, where tqdm would draw
        # nothing) counts as 100 x 24. Until a first count the line shows the name.
        columns, rows = shutil.get_terminal_size((100, 24))
        self._tqdm = tqdm(total=None, desc=name, file=file or sys.stderr, leave=False, mininterval=0,
                          ncols=columns, nrows=rows, bar_format="{desc} {elapsed}")

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event.bar == CELLS:
                self._cells = event
            elif event.closed:
                self._open.pop(event.bar, None)
            else:
                self._open[event.bar] = event
            self._render()

    def _render(self) -> None:
        current = next(reversed(self._open.values()), None) or self._cells
        if current is None:
            return
        t = self._tqdm
        t.bar_format = self.COUNTED
        t.set_description_str(f"{self.name}: {current.label}"[:48], refresh=False)
        t.total, t.n = current.total, current.done
        t.refresh()

    def close(self) -> None:
        with self._lock:
            self._tqdm.close()
