"""What each process of test_runner's "runs finishing at once" test does: one run reaching the index.

In a module of its own so that the spawned processes import only this and slt_nb.runner, not the
test module (whose nbformat import alone costs a second or two a process, eight at once on two cores).
"""
from pathlib import Path


def finish_one(args):
    index, i = args
    from slt_nb.runner import RunResult, write_index

    report = Path(index).parent / f"r{i}.ipynb"
    report.write_text("{}")
    write_index([RunResult("nb.ipynb", str(report), None, {"i": i}, "d", f"s{i}", "ok", "", 1.0, 1.0, "now")], index)
