"""Known noise stays off the console, real warnings reach it (issue 17.1)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO
from slt_nb.quiet import KNOWN_NOISE, is_noise

# Lines as MediaPipe 0.10.21 and ipykernel print them (copied from a `make demo` console).
FEEDBACK = (b"W0000 00:00:1796559774.411712   29297 inference_feedback_manager.cc:114] Feedback manager requires "
            b"a model with a single signature inference. Disabling support for feedback tensors.")
ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
XNNPACK = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
NORM_RECT = (b"W0000 00:00:1796562653.496060   23715 landmark_projection_calculator.cc:186] Using NORM_RECT without "
             b"IMAGE_DIMENSIONS is only supported for the square ROI. Provide IMAGE_DIMENSIONS or use PROJECTION_MATRIX.")
TCP = "Kernel is running over TCP without encryption"


def test_the_known_lines_are_noise_and_real_warnings_are_not():
    assert all(is_noise(line) for line in (FEEDBACK, ABSL, XNNPACK, NORM_RECT))
    assert len(KNOWN_NOISE) == 4
    for real in (b"E0000 00:00:1796559774.4 29297 calculator_graph.cc:887] INVALID_ARGUMENT: image is empty",
                 b"W0000 00:00:17965 1 inference_feedback_manager.cc:114] something else entirely",
                 b"UserWarning: frame 12 has no hands", b"Traceback (most recent call last):"):
        assert not is_noise(real), real


CHILD = r"""
import os, sys, threading
from slt_nb.quiet import filter_native_stderr
assert filter_native_stderr() and filter_native_stderr()  # once per process, then a no-op
def native(line):  # as C++ does: straight to fd 2, from another thread, no newline flush games
    os.write(2, line + b"\n")
t = threading.Thread(target=native, args=(FEEDBACK,)); t.start(); t.join()
native(ABSL)
native(b"E0000 real error from a calculator")
print("python stderr line", file=sys.stderr, flush=True)
os.write(2, b"last line without newline")
"""


def test_filter_drops_noise_written_to_fd2_and_passes_the_rest():
    code = f"FEEDBACK = {FEEDBACK!r}\nABSL = {ABSL!r}\n" + CHILD
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode()
    assert "Feedback manager" not in err and "absl::InitializeLog" not in err
    assert "E0000 real error from a calculator" in err
    assert "python stderr line" in err
    assert "last line without newline" in err


@pytest.mark.slow
def test_a_mediapipe_notebook_run_by_slt_nb_prints_no_known_noise(readme_extract_poses):
    """The README's `slt-nb extract poses -p holistic_mode sampled`, a process of its own on fresh output
    folders (conftest: shared with test_readme_commands). Sampled mode's MediaPipe graphs print each of
    the four known lines to fd 2 as tracking mode does, so an unfiltered line would show here."""
    _, run = readme_extract_poses
    console = run["stdout"] + run["stderr"]
    assert run["returncode"] == 0, console[-3000:]
    assert re.search(r"^    ok(, [^\n]*)? in \d", console, flags=re.M), console
    noisy = [line for line in console.splitlines()
             if is_noise(line.encode()) or TCP in line or "KeyboardInterrupt caught" in line]
    assert noisy == [], noisy
    assert len(console.strip().splitlines()) <= 4, console  # the run, its result, the report


def test_an_uncaught_exception_after_the_filter_still_reaches_the_console():
    code = "from slt_nb.quiet import filter_native_stderr\nfilter_native_stderr()\nraise SystemError('worker died here')\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, timeout=60)
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "Traceback (most recent call last)" in err and "SystemError: worker died here" in err
