"""Progress made in the kernel reaches the console of the command that runs the notebook (issue 17.1)."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import DEMO, REPO
from slt_nb import progress
from slt_nb.engine import Engine
from slt_nb.extract.run import run_extraction
from slt_nb.progress import CELLS, CHANNEL_ENV, ConsoleLine, Event, Listener
from slt_nb.runner import Run, run_notebook


def by_bar(events: list[Event]) -> dict[str, list[Event]]:
    bars: dict[str, list[Event]] = {}
    for event in events:
        bars.setdefault(event.bar, []).append(event)
    return bars


def assert_counts_up_to_the_total(events: list[Event]) -> None:
    """One bar's events: its label and total fixed, counts never going back, closed at the total."""
    assert len({(e.label, e.total) for e in events}) == 1, events
    counts = [e.done for e in events]
    assert counts == sorted(counts), events
    assert events[-1].closed and events[-1].done == events[-1].total > 0, events
    assert not any(e.closed for e in events[:-1]), events


def double(x):
    return 2 * x


def test_without_a_channel_a_bar_shows_in_the_notebook_as_before_and_writes_nowhere(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(CHANNEL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    engine = Engine(progress=True, label="demo parts")
    outcomes = engine.run(double, [(f"part{i}", (i,)) for i in range(4)])
    assert sorted(o.result for o in outcomes) == [0, 2, 4, 6]
    shown = capsys.readouterr().out
    assert "demo parts" in shown and "4/4" in shown  # the plain text bar on stdout, as a notebook shows it
    with progress.bar(3, "quiet", show=False) as bar:
        bar.update(3)
    assert capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []


def test_engine_parts_reach_a_listener_in_order_and_end_at_the_total():
    events: list[Event] = []
    with Listener(events.append) as listener:
        assert os.environ[CHANNEL_ENV] == str(listener.path)
        Engine(label="train parts").run(double, [(f"part{i}", (i,)) for i in range(25)])
    assert CHANNEL_ENV not in os.environ and not listener.path.parent.exists()
    (bar,) = by_bar(events).values()
    assert bar[0].label == "train parts" and bar[0].total == 25 and bar[0].done == 0
    assert_counts_up_to_the_total(bar)


def test_a_vanished_channel_does_not_stop_the_work(monkeypatch, tmp_path):
    monkeypatch.setenv(CHANNEL_ENV, str(tmp_path / "gone" / "events.jsonl"))
    with progress.bar(5, "parts") as bar:
        for _ in range(5):
            bar.update()
    assert bar.done == 5 and bar.closed


def test_extraction_counts_videos_not_batches(tmp_path):
    events: list[Event] = []
    wlasl = DEMO / "WLASL"
    with Listener(events.append):
        report = run_extraction("features", wlasl / "WLASL_v0.3.json", wlasl / "videos", tmp_path,
                                class_list=wlasl / "wlasl_class_list.txt", embed_dim=16, batch_videos=3)
    (bar,) = by_bar(events).values()
    assert_counts_up_to_the_total(bar)
    # the 9 videos found on disk (one listed video is missing), counted a batch of 3 at a time
    assert bar[0].label == "WLASL videos" and bar[-1].total == report.counts["located"] == 9
    assert {e.done for e in bar} <= {0, 3, 6, 9}


@pytest.mark.slow
def test_the_export_notebook_reports_its_parts_and_cells_to_the_runner(tmp_path):
    events: list[Event] = []
    run = Run("notebooks/export.ipynb", str(tmp_path / "export.ipynb"),
              {"dataset": "How2Sign", "output_dir": str(tmp_path / "exports"), "chunk_size": 2}, "How2Sign", "all")
    result = run_notebook(run, html_report=False, on_progress=events.append)
    assert result.ok, result.error
    bars = by_bar(events)
    cells = bars.pop(CELLS)
    assert [e.done for e in cells] == list(range(1, cells[0].total + 1))  # every cell, the injected one too
    parts = list(bars.values())
    assert [b[0].label for b in parts] == ["train parts", "val parts", "test parts"]  # the splits in turn
    for bar in parts:
        assert_counts_up_to_the_total(bar)
    # 12 exported samples (+2 rows skipped) at 2 per part: the parts the manifest lists
    assert [b[-1].total for b in parts] == [3, 2, 2]
    assert CHANNEL_ENV not in os.environ


@pytest.mark.slow
def test_the_train_notebook_reports_each_epoch(tmp_path):
    from slt_nb.testing.sign_task import write_sign_task

    task = write_sign_task(tmp_path / "task", num_classes=3, per_class={"train": 4, "val": 2, "test": 2})
    events: list[Event] = []
    run = Run("notebooks/train.ipynb", str(tmp_path / "train.ipynb"),
              dict(pose_dir=str(task["pose_dir"]), feature_dir=str(task["feature_dir"]),
                   video_dir=str(tmp_path / "no_videos"), output_dir=str(tmp_path / "run"),
                   epochs=3, batch_size=6, compare_steps=1, compare_seconds=0.2))
    result = run_notebook(run, html_report=False, on_progress=events.append)
    assert result.ok, result.error
    epochs = [b for b in by_bar(events).values() if b[0].label == "epochs"]
    assert len(epochs) == 1
    assert_counts_up_to_the_total(epochs[0])
    assert epochs[0][-1].total == 3


def test_the_console_line_shows_the_open_bar_then_the_cells_and_is_cleared_at_the_end():
    screen = io.StringIO()
    line = ConsoleLine("export How2Sign", file=screen)
    line(Event(CELLS, "cells", 5, 26))
    line(Event("k-1", "train parts", 1, 3))
    assert "export How2Sign: train parts" in screen.getvalue().rsplit("\r", 1)[-1]
    assert "1/3" in screen.getvalue().rsplit("\r", 1)[-1]
    line(Event(CELLS, "cells", 6, 26))  # a cell ending while a bar is open: the bar stays on the line
    assert "train parts" in screen.getvalue().rsplit("\r", 1)[-1]
    line(Event("k-1", "train parts", 3, 3, closed=True))
    line(Event(CELLS, "cells", 7, 26))
    assert "export How2Sign: cells" in screen.getvalue().rsplit("\r", 1)[-1]
    assert "7/26" in screen.getvalue().rsplit("\r", 1)[-1]
    line.close()
    assert screen.getvalue().rsplit("\r", 1)[-1].strip() == ""  # nothing left: the result line goes there


@pytest.mark.slow
@pytest.mark.parametrize("tty", [False, True])
def test_a_log_gets_no_progress_lines_and_a_terminal_one_line_per_notebook(tty, tmp_path):
    """`slt-nb` in a log: the run and result lines only; on a terminal the live line is wiped by the result."""
    nb = tmp_path / "loop.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(
        "from slt_nb import progress\nwith progress.bar(4, 'parts') as bar:\n    for _ in range(4):\n        bar.update()")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), nb)
    code = (f"import sys\nfrom slt_nb import runner\nrunner._terminal = lambda: {tty}\n"
            f"runner.run_all([runner.Run({str(nb)!r}, {str(tmp_path / 'out.ipynb')!r})], {str(tmp_path / 'index.html')!r})")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 2, done.stdout  # "[1/1] ... -> ..." and "    ok in ..."
    if tty:
        assert "loop: parts" in done.stderr and "4/4" in done.stderr
    else:
        assert done.stderr == ""


def test_a_cell_that_fails_mid_loop_closes_its_bar_short_and_the_run_is_recorded_as_failed(tmp_path):
    nb = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(
        "from slt_nb import progress\nwith progress.bar(4, 'parts') as bar:\n    for i in range(4):\n"
        "        if i == 2:\n            raise ValueError('part 2 is broken')\n        bar.update()")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), nb)
    events: list[Event] = []
    result = run_notebook(Run(str(nb), str(tmp_path / "out.ipynb")), html_report=False, on_progress=events.append)
    assert result.status == "failed" and "part 2 is broken" in result.error
    (parts,) = [b for b in by_bar(events).values() if b[0].label == "parts"]
    assert parts[-1].closed and parts[-1].done == 2 and parts[-1].total == 4
    assert CHANNEL_ENV not in os.environ
