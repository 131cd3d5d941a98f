"""`make demo`: run the notebooks listed in params/demo.yaml through papermill.

Each executed notebook lands in outputs/ as a report; a failing run is reported and the others
still run; the exit status is non-zero if any failed.
"""
from __future__ import annotations

import sys
import time

import yaml

from .params import PARAMS_DIR, REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    import papermill as pm

    with open(PARAMS_DIR / "demo.yaml", encoding="utf-8") as f:
        runs = yaml.safe_load(f)["runs"]
    failed = []
    for run in runs:
        notebook = REPO_ROOT / run["notebook"]
        output = REPO_ROOT / run["output"]
        output.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        print(f"papermill {run['notebook']} -> {run['output']} {run.get('parameters', {})}", flush=True)
        try:
            pm.execute_notebook(str(notebook), str(output), parameters=run.get("parameters", {}),
                                cwd=str(REPO_ROOT), progress_bar=False, kernel_name="python3")
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell's error
            failed.append(run["output"])
            print(f"  FAILED after {time.perf_counter() - started:.1f}s: {str(exc).strip().splitlines()[-1]}", flush=True)
            continue
        print(f"  ok in {time.perf_counter() - started:.1f}s", flush=True)
    print(f"{len(runs) - len(failed)} of {len(runs)} notebooks ran; reports in {REPO_ROOT / 'outputs'}")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
