"""The one engine that runs an export's parts and an extraction's video batches: inline or on Dask.

A run is a list of independent tasks (a pure function and its arguments, each returning a
result the caller merges). `Engine` runs them:

- `workers=1` and no `scheduler`: inline, in this process, one after the other. Small runs stay
  quick (no cluster to start) and a debugger or profiler sees everything.
- `workers=N`: a Dask `LocalCluster` of N single-threaded worker processes on this machine, each
  with `memory_limit_gb` of memory.
- `scheduler="tcp://host:8786"`: an existing Dask cluster, by address. The same code path as the
  local cluster; inputs and outputs must be on a filesystem every worker sees at the same path.

A task that raises is retried (`retries`, default 2) and then reported as failed with its key
(the part or batch it was); the other tasks go on. A task whose worker process dies (killed by
the nanny for going over its memory limit, or a crash in native code) is reported as that.
Worker processes of a local cluster end when this process ends, even by `kill -9` (Dask's
worker processes watch their parent).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from slt_nb import progress
from slt_nb.errors import ParameterError, WriteRefused


@dataclass
class TaskOutcome:
    key: str
    result: Any = None
    error: str | None = None  # why the task failed for good (after its retries)
    exception: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class EngineSettings:
    """The run parameters shared by the export and extraction notebooks."""

    workers: int = 1
    scheduler: str | None = None
    memory_limit_gb: float | None = None
    retries: int = 2
    progress: bool = False

    @classmethod
    def from_params(cls, params: dict, progress: bool = False) -> "EngineSettings":
        workers = params.get("workers")
        workers = 1 if workers is None else workers
        try:
            workers = int(workers)
        except (TypeError, ValueError):
            raise ParameterError(f"workers must be a whole number of worker processes, got {workers!r}") from None
        if workers < 1:
            raise ParameterError(f"workers must be at least 1, got {workers}")
        scheduler = params.get("scheduler") or None
        if scheduler is not None and not isinstance(scheduler, str):
            raise ParameterError(f"scheduler must be an address such as 'tcp://host:8786', got {scheduler!r}")
        from slt_nb.params import parse_number

        limit = parse_number("memory_limit_gb", params.get("memory_limit_gb") or None, None, whole=False, minimum=0.01)
        retries = parse_number("retries", params.get("retries"), 2, minimum=0)
        return cls(workers, scheduler, limit, retries, progress)


def _limit_worker_threads() -> None:
    # One core's worth of work per worker: without this torch (and OpenCV) start a thread per core
    # in every worker process and they fight over the same cores.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _import_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        pass


class Engine:
    """Run independent tasks inline or on a Dask cluster; see the module docstring."""

    def __init__(self, workers: int = 1, scheduler: str | None = None, memory_limit_gb: float | None = None,
                 retries: int = 2, progress: bool = False, label: str = "tasks", cluster: bool = False):
        self.cluster = cluster  # a local cluster even for one worker (benchmarks: the Dask path itself)
        self.workers = max(1, int(workers or 1))
        self.scheduler = scheduler or None
        self.memory_limit_gb = memory_limit_gb
        self.retries = max(0, int(retries))
        self.progress = progress
        self.label = label
        self.client = None
        self._cluster = None

    @classmethod
    def from_settings(cls, settings: EngineSettings, label: str = "tasks") -> "Engine":
        return cls(settings.workers, settings.scheduler, settings.memory_limit_gb, settings.retries,
                   settings.progress, label)

    @property
    def distributed(self) -> bool:
        return self.scheduler is not None or self.workers > 1 or self.cluster

    @property
    def dashboard_link(self) -> str | None:
        import importlib.util

        if self.client is None or importlib.util.find_spec("bokeh") is None:
            return None  # Dask serves its dashboard pages only with bokeh installed
        try:
            return self.client.dashboard_link
        except Exception:  # no dashboard (bokeh not installed): the run itself does not need one
            return None

    def describe(self) -> str:
        if self.scheduler:
            return f"Dask cluster at {self.scheduler}"
        if self.workers > 1 or self.cluster:
            limit = f", {self.memory_limit_gb} GB each" if self.memory_limit_gb else ""
            return f"local Dask cluster of {self.workers} single-threaded worker processes{limit}"
        return "in this process"

    def __enter__(self) -> "Engine":
        if not self.distributed:
            # Tasks write torch tensors: import it now, with the engine, not inside the first
            # task, where its ~1 s was counted in the first split's export time (the workers of a
            # cluster import it below, in _limit_worker_threads).
            _import_torch()
            return self
        import dask
        from distributed import Client, LocalCluster

        # A worker that dies while running a task (memory, native crash) is replaced and the task
        # tried again this many times before it is reported; the same budget as for exceptions.
        # (A cluster given by address keeps its own scheduler's setting, default 3.)
        dask.config.set({"distributed.scheduler.allowed-failures": self.retries})
        if self.scheduler:
            self.client = Client(self.scheduler, set_as_default=False)
        else:
            limit = f"{self.memory_limit_gb}GB" if self.memory_limit_gb else "auto"
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         memory_limit=limit, dashboard_address=":0",
                                         silence_logs=40)
            self.client = Client(self._cluster, set_as_default=False)
        self.client.run(_limit_worker_threads)
        if self.progress:
            print(f"engine: {self.describe()}; dashboard: {self.dashboard_link or 'needs bokeh, not installed (the progress bar below still works)'}",
                  flush=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(self, fn: Callable, tasks: Iterable[tuple[str, tuple]],
            on_done: Callable[[TaskOutcome], None] | None = None,
            stop_on: Callable[[BaseException], bool] | None = None, label: str | None = None,
            size: Callable[[tuple], int] | None = None) -> list[TaskOutcome]:
        """Run fn(*args) for every (key, args); outcomes in completion order.

        `stop_on(exception)` true for a failure means the whole run must stop (a full disk): the
        tasks not yet finished are cancelled and the exception is raised. Progress (`slt_nb.progress`:
        the runner's console line, and a bar in the notebook when `progress`) counts tasks, or
        `size(args)` units per task (the videos of a batch).
        """
        tasks = list(tasks)
        sizes = {key: (size(args) if size else 1) for key, args in tasks}
        outcomes: list[TaskOutcome] = []
        with progress.bar(sum(sizes.values()), label or self.label, show=self.progress) as bar:
            source = self._run_distributed(fn, tasks) if self.distributed else self._run_inline(fn, tasks)
            for outcome in source:
                outcomes.append(outcome)
                bar.update(sizes.get(outcome.key, 1))
                if not outcome.ok and stop_on is not None and outcome.exception is not None \
                        and stop_on(outcome.exception):
                    raise outcome.exception
                if on_done is not None:
                    on_done(outcome)
        return outcomes

    def _run_inline(self, fn, tasks):
        for key, args in tasks:
            started = time.perf_counter()
            for attempt in range(self.retries + 1):
                try:
                    result = fn(*args)
                except Exception as exc:
                    if attempt == self.retries or _is_machine_error(exc):
                        yield TaskOutcome(key, error=f"{key}: {type(exc).__name__}: {exc}", exception=exc,
                                          seconds=time.perf_counter() - started)
                        break
                else:
                    yield TaskOutcome(key, result=result, seconds=time.perf_counter() - started)
                    break

    def _run_distributed(self, fn, tasks):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        started = time.perf_counter()
        futures = {}
        arguments = dict(tasks)
        for key, args in tasks:
            futures[self._submit(fn, key, args, self.retries)] = key
        killed = []
        try:
            for future in as_completed(list(futures), loop=self.client.loop):
                key = futures[future]
                try:
                    # Fetched at once and released: a result left on a worker is lost with it when
                    # another task kills that worker. A result lost between finishing and this fetch
                    # is being recomputed, and result() waits for it rather than reading a status.
                    result = future.result()
                except KilledWorker:
                    killed.append(key)  # perhaps only queued beside the task that killed the worker
                    continue
                except Exception as exc:  # noqa: BLE001  (the task's own error, reported as the part's)
                    yield TaskOutcome(key, error=self._explain(key, exc), exception=exc,
                                      seconds=time.perf_counter() - started)
                    continue
                finally:
                    future.release()
                yield TaskOutcome(key, result=result, seconds=time.perf_counter() - started)
            # A worker takes a second task while it runs one, and both are blamed when it dies.
            # Alone on the cluster, a bystander finishes; the task that kills its worker does so again.
            # Twice: a worker still restarting after the culprit's last try can take a bystander down once more.
            for key in killed:
                for attempt in range(2):
                    future = self._submit(fn, key, arguments[key], 0)
                    futures[future] = key
                    for _ in as_completed([future], loop=self.client.loop):
                        pass
                    seconds = time.perf_counter() - started
                    try:
                        outcome = TaskOutcome(key, result=future.result(), seconds=seconds)
                    except Exception as exc:  # noqa: BLE001  (the task's own error, or its worker's death)
                        outcome = TaskOutcome(key, error=self._explain(key, exc), exception=exc, seconds=seconds)
                        if isinstance(exc, KilledWorker) and attempt == 0:
                            continue
                    finally:
                        future.release()
                    break
                yield outcome
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()

    def _submit(self, fn, key: str, args: tuple, retries: int):
        # pure=False: a rerun of the same part is real work, never a cached result
        return self.client.submit(fn, *args, key=f"{key}-{os.getpid()}-{time.time_ns()}", pure=False,
                                  retries=retries)

    def _explain(self, key: str, exc: BaseException) -> str:
        from distributed.scheduler import KilledWorker

        if not isinstance(exc, KilledWorker):
            return f"{key}: {type(exc).__name__}: {exc}"
        limit = f"{self.memory_limit_gb} GB" if self.memory_limit_gb else "the worker's memory limit"
        if self._memory_kills():
            return (f"{key}: worker killed for memory: it went over {limit} while running this task "
                    f"({self.retries + 1} tries); give workers more memory_limit_gb or make chunk_size smaller")
        return (f"{key}: the worker process died while running this task ({self.retries + 1} tries; "
                f"a crash in native code, or killed for memory above {limit})")

    def _memory_kills(self) -> bool:
        """Whether a nanny of this cluster restarted a worker for going over its memory limit.

        Nannies log a `worker-restart-memory` event on the scheduler when they do; the task that
        was running is the one retried and finally reported.
        """
        try:
            return bool(self.client.get_events("worker-restart-memory"))
        except Exception:
            return False


_MACHINE_ERRNOS = {28, 13, 30, 122}  # ENOSPC, EACCES, EROFS, EDQUOT


def _is_machine_error(exc: BaseException) -> bool:
    return isinstance(exc, WriteRefused) or (isinstance(exc, OSError) and exc.errno in _MACHINE_ERRNOS)


def is_machine_error(exc: BaseException) -> bool:
    """Any refused write (full disk, size limit, I/O error), a read-only or forbidden folder: retrying or going on cannot help."""
    return _is_machine_error(exc)
