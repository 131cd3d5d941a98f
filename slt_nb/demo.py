"""`make demo`: run the notebooks listed in params/demo.yaml through the batch runner.

Each executed notebook lands in outputs/ as a report, with an HTML rendering beside it, and
outputs/index.html lists every run. A failing run is reported and the others still run; the
exit status is non-zero if any failed.

params/demo.yaml:  runs: [{notebook, output, parameters}, ...], run in the order listed.
"""
from __future__ import annotations

import sys

import yaml

from slt_nb.errors import ParameterError
from slt_nb.params import PARAMS_DIR, resolve
from slt_nb.run_index import DEFAULT_INDEX
from slt_nb.runner import Run, run_all


def demo_runs(path=PARAMS_DIR / "demo.yaml") -> list[Run]:
    """The runs listed in params/demo.yaml, with dataset and split labels for the index."""
    with open(path, encoding="utf-8") as f:
        entries = (yaml.safe_load(f) or {}).get("runs") or []
    runs = []
    for i, entry in enumerate(entries, start=1):
        missing = [k for k in ("notebook", "output") if k not in entry]
        if missing:
            raise ParameterError(f"{path}: run {i} has no {missing}; each run needs notebook, output, parameters")
        parameters = dict(entry.get("parameters") or {})
        split = parameters.get("split", parameters.get("splits", ""))
        split = ",".join(map(str, split)) if isinstance(split, (list, tuple)) else str(split)
        runs.append(Run(entry["notebook"], entry["output"], parameters,
                        str(parameters.get("dataset", "")), split))
    return runs


def main(argv: list[str] | None = None) -> int:
    runs = demo_runs()
    results = run_all(runs, DEFAULT_INDEX)
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks ran; index: {resolve(DEFAULT_INDEX)}")
    if failed:
        print("failed: " + ", ".join(f"{r.output} ({r.status})" for r in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
