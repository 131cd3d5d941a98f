"""The engine: a Dask cluster started elsewhere and passed by address, retries, a dying worker reported."""
from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import DEMO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.engine import Engine, EngineSettings
from slt_nb.errors import ParameterError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.extract.run import run_extraction

WLASL = DEMO / "WLASL"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def fresh_cluster():
    """A cluster of its own: a test that kills workers must not start with workers an earlier test left busy
    or restarting (in the full suite the shared one blamed bystander parts; alone it never did).

    Its scheduler tries a task whose worker died once (allowed-failures 0), as the test's retries=0
    asks: a cluster given by address keeps its own setting, and this process's dask config holds
    whatever an earlier Engine of this test worker set (Engine sets it for its own clusters), so
    the number of worker deaths (1 or 4 per submission, each a worker restart) was left to test order."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        c.wait_for_workers(2)
        yield c


def strip(entry):
    return [(p["file"], p["samples"], p["frames"], p["sha256"]) for p in entry["parts"]]


def test_export_on_a_cluster_given_by_address_writes_the_same_parts(cluster, tmp_path):
    reader = How2SignReader(str(DEMO / "How2Sign"))
    inline = export_split(reader, "train", ExportOptions(str(tmp_path / "inline"), chunk_size=2))
    remote = export_split(reader, "train", ExportOptions(str(tmp_path / "remote"), chunk_size=2),
                          scheduler=cluster.scheduler_address)
    assert len(inline["parts"]) >= 3 and strip(inline) == strip(remote)
    assert remote["engine"] == f"Dask cluster at {cluster.scheduler_address}"
    assert inline["skipped"] == remote["skipped"]


def test_extraction_on_a_cluster_given_by_address(cluster, tmp_path):
    kw = dict(class_list=WLASL / "wlasl_class_list.txt", embed_dim=16, split="test")
    inline = run_extraction("features", WLASL / "WLASL_v0.3.json", WLASL / "videos", tmp_path / "a", **kw)
    remote = run_extraction("features", WLASL / "WLASL_v0.3.json", WLASL / "videos", tmp_path / "b",
                            scheduler=cluster.scheduler_address, **kw)
    assert inline.index.equals(remote.index) and inline.skipped.equals(remote.skipped)
    for path in inline.index["path"]:
        with np.load(tmp_path / "a" / path) as a, np.load(tmp_path / "b" / path) as b:
            assert np.allclose(a["features"], b["features"], atol=1e-5)


class DyingReader(How2SignReader):
    """Kills its worker process when it reaches one clip, as the kernel's OOM killer would."""

    def __init__(self, root, clip):
        super().__init__(root)
        self.clip = clip

    def read(self, item):
        if item.clip == self.clip:
            os._exit(9)
        return super().read(item)


@pytest.mark.slow
def test_a_part_whose_worker_dies_is_reported_and_the_others_go_on(fresh_cluster, tmp_path):
    cluster = fresh_cluster
    reader = How2SignReader(str(DEMO / "How2Sign"))
    plan = reader.plan("train")
    victim = plan.items[-1]
    entry = export_split(DyingReader(str(DEMO / "How2Sign"), victim.clip), "train",
                         ExportOptions(str(tmp_path), chunk_size=1), scheduler=cluster.scheduler_address, retries=0)
    failed = entry["failed_parts"]
    assert [f["index"] for f in failed] == [len(plan.items) - 1], failed
    assert "the worker process died while running this task" in failed[0]["reason"]
    assert failed[0]["reason"].startswith("train part")
    reasons = {s["clip"]: s["reason"] for s in entry["skipped"]}
    assert reasons[victim.clip].startswith(f"part {failed[0]['index']} not written")
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    assert len(entry["parts"]) == len(plan.items) - 1


def grow_memory(step_mb: int = 50, steps: int = 60) -> int:
    """Allocate and touch memory bit by bit, as a clip far too large for its worker would."""
    import time

    blocks = []
    for _ in range(steps):
        blocks.append(np.ones(step_mb * 1024 * 1024 // 8))
        time.sleep(0.05)
    return len(blocks)


@pytest.mark.slow
def test_a_task_over_the_memory_limit_is_reported_as_killed_for_memory():
    with Engine(workers=1, cluster=True, memory_limit_gb=0.5, retries=0) as engine:
        outcomes = engine.run(grow_memory, [("train part7", ())])
        after = engine.run(int, [("train part8", ("8",))])  # the replaced worker goes on
    assert not outcomes[0].ok
    assert outcomes[0].error.startswith("train part7: worker killed for memory: it went over 0.5 GB")
    assert after[0].ok and after[0].result == 8


def test_a_failing_task_is_retried_inline():
    calls = []

    def flaky(n):
        calls.append(n)
        if len(calls) < 3:
            raise RuntimeError("transient")
        return n * 2

    with Engine(retries=2) as engine:
        outcomes = engine.run(flaky, [("only", (21,))])
    assert outcomes[0].ok and outcomes[0].result == 42 and len(calls) == 3
    with Engine(retries=0) as engine:
        calls.clear()
        outcomes = engine.run(flaky, [("only", (1,))])
    assert outcomes[0].error == "only: RuntimeError: transient"


@pytest.mark.parametrize("params, message", [
    ({"workers": 0}, "workers must be at least 1"),
    ({"workers": "two"}, "workers must be a whole number"),
    ({"scheduler": 8786}, "scheduler must be an address"),
])
def test_engine_parameters_are_checked(params, message):
    with pytest.raises(ParameterError, match=message):
        EngineSettings.from_params(params)


@pytest.mark.slow
@pytest.mark.parametrize("notebook, parameters, manifest", [
    ("export.ipynb", {"dataset": "How2Sign", "chunk_size": 2}, "How2Sign-1024.manifest.json"),
    ("extract_features.ipynb", {"embed_dim": 16, "split": "test"}, "index.csv"),
])
def test_notebooks_run_on_a_cluster_given_by_address(cluster, tmp_path, notebook, parameters, manifest):
    import json

    import papermill as pm

    from conftest import REPO

    out_nb = tmp_path / notebook
    pm.execute_notebook(str(REPO / "notebooks" / notebook), str(out_nb), cwd=str(REPO), progress_bar=False,
                        parameters={**parameters, "output_dir": str(tmp_path / "out"),
                                    "scheduler": cluster.scheduler_address}, kernel_name="python3")
    assert (tmp_path / "out" / manifest).exists()
    text = "".join("".join(o.get("text", "")) for c in json.loads(out_nb.read_text())["cells"]
                   if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert f"engine: Dask cluster at {cluster.scheduler_address}" in text
    assert "100%" in text  # the progress bar reached the end, in the notebook's own output
