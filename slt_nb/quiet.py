"""Known noise kept off the console, everything else let through.

MediaPipe's C++ code logs through absl straight to file descriptor 2, from its own threads, a
few lines per graph it starts ("Feedback manager requires a model with a single signature
inference", "All log messages before absl::InitializeLog() is called are written to STDERR"),
and no Python setting reaches that logger. `filter_native_stderr()` puts a pipe in front of fd 2
in the process that runs MediaPipe (the kernel, an extraction worker): a thread copies each line
to the real stderr unless it matches one of `KNOWN_NOISE`. Real warnings and errors pass as they are.

The kernel's own "Kernel is running over TCP without encryption" warning (one per notebook run
by papermill, on a connection that never leaves the machine) is silenced where the kernel starts:
see `KERNEL_ARGUMENTS`.
"""
from __future__ import annotations

import atexit
import os
import re
import sys
import threading

KNOWN_NOISE = (
    re.compile(rb"inference_feedback_manager\.cc:\d+\] Feedback manager requires a model with a single signature"),
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"),
    re.compile(rb"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."),
    # Holistic's hand and face sub-graphs, once per graph on a video that is not square: the ROI they
    # project is built by the graph itself, so the warning says nothing about the user's input.
    re.compile(rb"landmark_projection_calculator\.cc:\d+\] Using NORM_RECT without IMAGE_DIMENSIONS is only "
               rb"supported for the square ROI"),
)
# Passed to every kernel papermill starts (slt_nb.runner): the transport warning, and the
# "KeyboardInterrupt caught in kernel" that the client's interrupt at shutdown sometimes leaves, are
# the kernel application's own log. Its level does not touch what the notebook's code prints or
# warns; an error in a cell still fails the run and is shown in the report and the index.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]

_lock = threading.Lock()
_installed: dict[int, int] = {}  # pid -> the real stderr fd


def is_noise(line: bytes) -> bool:
    return any(pattern.search(line) for pattern in KNOWN_NOISE)


def filter_native_stderr() -> bool:
    """Route fd 2 of this process through the noise filter (once per process); False if it cannot."""
    pid = os.getpid()
    with _lock:
        if pid in _installed:
            return True
        try:
            real = os.dup(2)
            read_end, write_end = os.pipe()
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            os.dup2(write_end, 2)
            os.close(write_end)
        except OSError:
            return False
        _installed[pid] = real
    pump = threading.Thread(target=_pump, args=(read_end, real), name="slt-nb-stderr-filter", daemon=True)
    pump.start()
    atexit.register(_drain, real, pump)
    return True


def _drain(real: int, pump: threading.Thread) -> None:
    """At exit (after an uncaught exception's traceback is written): fd 2 back to the real stderr,
    which closes the pipe, so the filter copies what is left before the process ends."""
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        os.dup2(real, 2)
    except OSError:
        return
    pump.join(timeout=2.0)  # a child process still holding the pipe only delays this, never blocks exit


def _pump(read_end: int, real: int) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(read_end, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            if pending and not is_noise(pending):
                _write(real, pending)
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        kept = b"".join(line + b"\n" for line in lines if not is_noise(line))
        if kept:
            _write(real, kept)


def _write(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass
