"""Run a notebook over a matrix of parameter sets with papermill, and index the reports.

Each run writes `outputs/<notebook>/<dataset>/<split>.ipynb` (papermill writes it even when a
cell fails, with the error in it) and an HTML rendering beside it. After each run its
`RunResult` goes to the run index (`slt_nb.run_index`): `outputs/index.html` lists every run
with its parameters, status, duration, peak memory and links; `outputs/index.json` holds the
same records, so runs made at different times end up in one index.

A run's status is one of:
- ok
- failed: a cell raised; the error names the cell and the exception
- kernel died: the kernel process vanished mid-run, usually killed for running out of memory
- timed out: a cell ran longer than the per-cell timeout

    python -m slt_nb.runner notebooks/inspect.ipynb --datasets How2Sign --splits val test
    slt-nb run notebooks/inspect.ipynb -p max_clips 50
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from slt_nb.atomic import atomic_write_text
from slt_nb.errors import ParameterError, SltNbError
from slt_nb.memory import MemoryMonitor
from slt_nb.params import PARAMS_DIR, REPO_ROOT, load_params, merged_parameters, resolve
from slt_nb.progress import CELLS, ConsoleLine, Event, Listener
from slt_nb.run_index import DEFAULT_INDEX, RunResult, export_variant, write_index

# The index page moved to slt_nb.run_index; importable from here for the test that imports it so.
from slt_nb.run_index import index_html  # noqa: F401  (re-export)

# Set in the environment of every kernel the runner starts: notebooks skip interactive widgets.
BATCH_ENV = "SLT_NB_BATCH"
# Where reports go (<root>/<notebook>/<dataset>/<split>.ipynb) and which Jupyter kernel runs them.
OUTPUT_ROOT = "outputs"
DEFAULT_KERNEL = "python3"
DEAD_KERNEL_HINT = ("the kernel process died without a Python error; usually it was killed for using "
                    "too much memory (out-of-memory killer or a container limit)")


@dataclass
class Run:
    """One notebook execution: what to run, with which parameters, where the report goes."""

    notebook: str
    output: str
    parameters: dict = field(default_factory=dict)
    dataset: str = ""
    split: str = ""


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def label_of(dataset: str) -> str:
    """How a dataset appears in output paths: a params name as it is, an export by its manifest's
    name, a .pami0 set by its stem, a folder (outputs/wlasl/poses) by its last two names."""
    path = Path(dataset)
    if path.name.endswith(".manifest.json"):
        return path.name.replace(".manifest.json", "") or dataset
    if ".pami0." in path.name:  # a .pami0 set made outside slt-nb: its stem (phoenix14t)
        return path.name.split(".pami0.")[0] or dataset
    return "-".join(path.parts[-2:]) if len(path.parts) > 1 else dataset


def dataset_params() -> list[str]:
    """Names of the params files that describe a dataset (they have `dataset` and `splits`)."""
    names = []
    for path in sorted(PARAMS_DIR.glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        if isinstance(doc, dict) and "dataset" in doc and "splits" in doc:
            names.append(path.stem)
    return names


def matrix(notebook: str, datasets: list[str] | None = None, splits: list[str] | None = None,
           parameters: dict | None = None, output_root: str | os.PathLike = OUTPUT_ROOT) -> list[Run]:
    """Runs of `notebook` for every dataset x split.

    A dataset is a params name (its splits come from its params file unless `splits` is given)
    or a path such as an export manifest (then `splits` is needed). Each run gets
    `dataset` and `split` parameters plus `parameters`.
    """
    datasets = datasets or dataset_params()
    stem = Path(notebook).stem
    runs = []
    for dataset in datasets:
        dataset_splits = splits
        if (PARAMS_DIR / f"{dataset}.yaml").exists():
            dataset_splits = splits or load_params(dataset).get("splits")
        if not dataset_splits:
            raise ParameterError(f"{dataset}: no params/{dataset}.yaml to take splits from; give splits")
        label = label_of(dataset)
        for split in dataset_splits:
            output = Path(output_root) / stem / label / f"{split}.ipynb"
            params = {"dataset": dataset, "split": split, **(parameters or {})}
            runs.append(Run(str(notebook), str(output), params, label, str(split)))
    return runs


# Code cells start hidden in the report page; one button shows them (the notebook itself is unchanged).
_CODE_TOGGLE = """<style>
body.slt-hide-code .jp-CodeCell .jp-Cell-inputWrapper, body.slt-hide-code .jp-CodeCell .jp-InputArea {display: none;}
#slt-code-toggle {position: fixed; top: 0.6em; right: 0.8em; z-index: 10; font: 0.85em system-ui, sans-serif;
  padding: 0.3em 0.7em; border: 1px solid #888; border-radius: 4px; background: #fff; cursor: pointer;}
</style>
<button id="slt-code-toggle" type="button"
 onclick="var b=document.body; b.classList.toggle('slt-hide-code');
 this.textContent = b.classList.contains('slt-hide-code') ? 'show code' : 'hide code';">show code</button>"""


def render_html(notebook_path: str | os.PathLike, nb=None) -> Path:
    """The executed notebook as a standalone HTML page beside it (images embedded), written atomically.

    The page has a real title, opens with the notebook's summary box (if it showed one) and hides
    the code behind a "show code" button, so it reads as a report. `nb`: the notebook, when the
    caller has read it already.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from slt_nb.summary_box import box_html, read_summary

    notebook_path = Path(notebook_path)
    if nb is None:
        nb = nbformat.read(notebook_path, as_version=4)
    found = read_summary(nb)
    title = found["title"] if found else notebook_path.stem
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb, resources={"metadata": {"name": title}})
    top = _CODE_TOGGLE + (box_html(found) if found else "")
    body = re.sub(r"<body([^>]*)>", lambda m: _with_class(m.group(0)) + top, body, count=1)
    target = notebook_path.with_suffix(".html")
    atomic_write_text(target, body)
    return target


def _with_class(tag: str) -> str:
    if 'class="' in tag:
        return tag.replace('class="', 'class="slt-hide-code ', 1)
    return tag[:-1] + ' class="slt-hide-code">'


def _describe_failure(exc: BaseException) -> tuple[str, str]:
    """(status, error text) for an exception raised by papermill/nbclient."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        if exc.ename == "DeadKernelError" or "Kernel died" in str(exc.evalue):
            return "kernel died", f"cell {exc.exec_count}: {DEAD_KERNEL_HINT}"
        return "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    if isinstance(exc, DeadKernelError):
        return "kernel died", DEAD_KERNEL_HINT
    if isinstance(exc, (CellTimeoutError, TimeoutError)):
        return "timed out", str(exc).strip().splitlines()[0] if str(exc).strip() else "a cell timed out"
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "failed", text


def failed_path(output: Path) -> Path:
    """Where a failed run's notebook goes: beside the last good report, which it never replaces."""
    return output.with_name(f"{output.stem}.failed{output.suffix}")


def run_notebook(run: Run, kernel_name: str = DEFAULT_KERNEL, cell_timeout: float | None = None,
                 html_report: bool = True, on_progress: Callable[[Event], None] | None = None) -> RunResult:
    """Execute one Run with papermill (cwd = repo root); never raises for a failing notebook.

    `on_progress`: called, from another thread, with each `slt_nb.progress.Event` of the run: the
    bars the notebook's code opens in the kernel and the count of executed cells (bar "cells").
    """
    from slt_nb.summary_box import status_text

    final = resolve(run.output)
    final.parent.mkdir(parents=True, exist_ok=True)
    # Executed under a temporary name: the last good report stays whole until this one succeeds.
    running = final.with_name(f".{final.stem}.running-{os.getpid()}.ipynb")
    started = dt.datetime.now().isoformat(timespec="seconds")
    status, error, seconds, peak_mb = _execute(run, running, kernel_name, cell_timeout, on_progress)
    output = _publish(running, final, status == "ok")
    nb, found = _read_report(output)
    html_path = None
    if html_report and output.exists():
        try:
            html_path = _rel(render_html(output, nb))
        except Exception as exc:  # the run's own status stands; the missing page is said in the error
            error = (error + "; " if error else "") + f"HTML rendering failed: {type(exc).__name__}: {exc}"
    elif not output.exists():
        error = (error + "; " if error else "") + "no output notebook was written"
    return RunResult(run.notebook, _rel(output), html_path, run.parameters, run.dataset, run.split, status,
                     error, round(seconds, 2), round(peak_mb, 1), started,
                     key_result=(found or {}).get("key_result", ""), status_text=status_text(status, found),
                     variant=export_variant(run.notebook, run.parameters, nb, found))


def _execute(run: Run, output: Path, kernel_name: str, cell_timeout: float | None,
             on_progress: Callable[[Event], None] | None) -> tuple[str, str, float, float]:
    """papermill on `run` into `output`, in batch mode: (status, error, seconds, the kernel's peak MB)."""
    import papermill as pm

    from slt_nb.quiet import KERNEL_ARGUMENTS

    # The kernel is our child process: measure it (and whatever it starts), not this process.
    monitor = MemoryMonitor(interval=0.1, children_only=True).start()
    t0 = time.perf_counter()
    status, error = "ok", ""
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_batch_mode())
            engine = {}
            if on_progress is not None:
                stack.enter_context(Listener(on_progress))
                engine = {"engine_name": _register_cell_engine(), "on_cell": on_progress}
            pm.execute_notebook(str(resolve(run.notebook)), str(output), parameters=run.parameters,
                                cwd=str(REPO_ROOT), kernel_name=kernel_name, progress_bar=False,
                                log_output=False, execution_timeout=cell_timeout,
                                extra_arguments=list(KERNEL_ARGUMENTS), **engine)
    except Exception as exc:  # a failing run is recorded; the caller goes on with the others
        status, error = _describe_failure(exc)
    except BaseException:  # Ctrl-C: no half-written report left behind, the good one untouched
        output.unlink(missing_ok=True)
        raise
    finally:
        seconds = time.perf_counter() - t0
        monitor.stop()
    return status, error, seconds, monitor.peak_mb


@contextlib.contextmanager
def _batch_mode():
    """BATCH_ENV set while a kernel starts (it inherits it), restored afterwards."""
    previous = os.environ.get(BATCH_ENV)
    os.environ[BATCH_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(BATCH_ENV, None)
        else:
            os.environ[BATCH_ENV] = previous


def _publish(running: Path, final: Path, ok: bool) -> Path:
    """Move the executed notebook into place; returns where the run's report is (or would be).

    ok: it replaces the report and clears an older failure beside it; not ok: it goes beside the
    good report (`failed_path`), which stays.
    """
    target = final if ok else failed_path(final)
    if running.exists():
        os.replace(running, target)
        if ok:
            for stale in (failed_path(final), failed_path(final).with_suffix(".html")):
                stale.unlink(missing_ok=True)
    return target


def _read_report(output: Path):
    """(notebook, summary box) of an executed report, read once for the index and the page;
    (None, None) when there is none or it cannot be read (the page rendering then says why)."""
    import nbformat

    from slt_nb.summary_box import read_summary

    if not output.exists():
        return None, None
    try:
        nb = nbformat.read(output, as_version=4)
        return nb, read_summary(nb)
    except Exception:  # noqa: BLE001
        return None, None


_CELL_ENGINE = "slt-nb-cells"


@functools.cache
def _register_cell_engine() -> str:
    """A papermill engine that also reports each executed cell to an `on_cell` callback."""
    from papermill.engines import NBClientEngine, papermill_engines

    class CellReportingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, on_cell=None, **kwargs):
            if on_cell is not None:
                complete = nb_man.cell_complete
                total = len(nb_man.nb.cells)

                def cell_complete(cell, cell_index=None, **kw):
                    complete(cell, cell_index=cell_index, **kw)
                    on_cell(Event(CELLS, "cells", (cell_index or 0) + 1, total))

                nb_man.cell_complete = cell_complete
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(_CELL_ENGINE, CellReportingEngine)
    return _CELL_ENGINE


def console_name(run: Run) -> str:
    """How the console line names a run: the notebook and its dataset ("export How2Sign")."""
    dataset = Path(run.dataset).name.removesuffix(".manifest.json") if run.dataset else ""
    return f"{Path(run.notebook).stem} {dataset}".strip()


def run_all(runs: list[Run], index: str | os.PathLike = DEFAULT_INDEX, kernel_name: str = DEFAULT_KERNEL,
            cell_timeout: float | None = None, echo=print) -> list[RunResult]:
    """Run every Run in order, updating the index after each one; returns the results.

    On a terminal each run shows one live line (its cells, or the notebook's current progress bar:
    export parts, extracted videos, epochs) that the result line replaces; in a log, just the two lines.
    """
    results = []
    index = resolve(index)
    for i, run in enumerate(runs, start=1):
        if echo:
            echo(f"[{i}/{len(runs)}] {run.notebook} -> {run.output} {json.dumps(run.parameters)}")
        line = ConsoleLine(console_name(run)) if echo and _terminal() else None
        try:
            result = run_notebook(run, kernel_name, cell_timeout, on_progress=line)
        finally:
            if line is not None:
                line.close()
        results.append(result)
        write_index(results, index)
        if echo:
            echo(f"    {result.status_text or result.status} in {result.seconds:.1f} s, peak {result.peak_mb:.0f} MB"
                 + (f": {result.key_result}" if result.key_result and result.ok else "")
                 + (f": {result.error}" if result.error else ""))
    return results


def _terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of `python -m slt_nb.runner` (and `slt-nb run`)."""
    parser = parser or argparse.ArgumentParser(prog="python -m slt_nb.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", help="notebook to run, e.g. notebooks/inspect.ipynb")
    parser.add_argument("--datasets", nargs="+", help="params names or paths (default: every params/*.yaml with dataset and splits)")
    parser.add_argument("--splits", nargs="+", help="splits (default: each dataset's own)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="extra parameter for every run (VALUE is read as YAML)")
    parser.add_argument("-y", "--parameters-yaml", action="append", default=[], metavar="YAML",
                        help="extra parameters as a YAML mapping, e.g. -y 'splits: [val, test]'; "
                             "-p wins over -y, as in papermill")
    parser.add_argument("--output-root", default=OUTPUT_ROOT, help="reports go to <root>/<notebook>/<dataset>/<split>.ipynb")
    parser.add_argument("--index", default=DEFAULT_INDEX)
    parser.add_argument("--cell-timeout", type=float, default=None, help="seconds a cell may run")
    parser.add_argument("--kernel", default=DEFAULT_KERNEL)
    return parser


def main_with_args(args: argparse.Namespace) -> int:
    """`slt-nb run` (and `python -m slt_nb.runner`); a mistake in the arguments is one line."""
    try:
        extra = merged_parameters(args.parameters_yaml, args.parameter)
        runs = matrix(args.notebook, args.datasets, args.splits, extra, args.output_root)
    except SltNbError as exc:
        raise SystemExit(f"slt-nb run: {exc}") from None
    results = run_all(runs, args.index, args.kernel, args.cell_timeout)
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} runs ok; index: {resolve(args.index)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return main_with_args(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
