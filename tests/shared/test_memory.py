"""MemoryMonitor against allocations of known size, in this process and in a child."""
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from slt_nb.memory import MB, MemoryMonitor  # noqa: E402

ALLOC_MB = 256


def test_peak_rises_by_a_known_allocation_and_phases_are_labelled():
    with MemoryMonitor(interval=0.02) as monitor:
        time.sleep(0.1)
        baseline = monitor.samples[-1][1] / MB
        with monitor.phase("allocate"):
            block = np.ones(ALLOC_MB * MB // 8)  # ones, not empty: every page is touched
            time.sleep(0.3)
        del block
        time.sleep(0.2)
    rise = monitor.peak_mb - baseline
    assert ALLOC_MB * 0.9 < rise < ALLOC_MB * 1.25
    table = monitor.table()
    assert list(table.columns[:3]) == ["seconds", "rss_bytes", "rss_mb"]
    inside = table[table["phase"] == "allocate start"]
    assert len(inside) >= 5 and inside["rss_mb"].max() - baseline > ALLOC_MB * 0.9
    # after the block is freed, the last samples are back near the baseline
    assert table["rss_mb"].iloc[-1] - baseline < ALLOC_MB * 0.5


def test_children_are_counted_and_children_only_leaves_the_parent_out():
    child_code = (f"import numpy, sys, time; b = numpy.ones({ALLOC_MB} * 1024 * 1024 // 8); "
                  "print('ready', flush=True); time.sleep(1.0)")
    child = subprocess.Popen([sys.executable, "-c", child_code], stdout=subprocess.PIPE, text=True)
    try:
        with MemoryMonitor(interval=0.02, children_only=True) as kids, MemoryMonitor(interval=0.02) as everyone:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.2)
    finally:
        child.wait()
    assert ALLOC_MB * 0.9 < kids.peak_mb < ALLOC_MB + 150  # the child's array plus its python
    assert everyone.peak_mb > kids.peak_mb + 30  # this test process counted too


def test_chart_shows_the_limit_line_and_the_peak():
    monitor = MemoryMonitor(interval=0.02).start()
    with monitor.phase("load"):
        time.sleep(0.1)
    monitor.mark("part0")
    monitor.stop()
    ax = monitor.plot(limit_mb=4096, title="test")
    levels = {line.get_label(): line.get_ydata()[0] for line in ax.get_lines() if line.get_label().startswith(("limit", "peak"))}
    assert levels["limit 4096 MB"] == 4096
    assert abs(levels[f"peak {monitor.peak_mb:.0f} MB"] - monitor.peak_mb) < 1e-6
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > 4096
    assert [t.get_text() for t in ax.texts if t.get_text() in ("load", "part0")] == ["load", "part0"]
