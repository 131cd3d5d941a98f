"""notebooks/train.ipynb runs under papermill on an extraction written from real pose clips."""
import json
import re

import nbformat
import pytest

from slt_nb.params import REPO_ROOT
from slt_nb.testing.sign_task import write_sign_task

NOTEBOOK = REPO_ROOT / "notebooks" / "train.ipynb"


def test_notebook_is_committed_clean_with_one_parameters_cell():
    nb = nbformat.read(NOTEBOOK, 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.slow
def test_train_notebook_reports_a_short_run(tmp_path):
    pm = pytest.importorskip("papermill")
    task = write_sign_task(tmp_path / "task", num_classes=3, per_class={"train": 6, "val": 3, "test": 3})
    out = tmp_path / "train.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), cwd=str(REPO_ROOT), progress_bar=False, kernel_name="python3",
                        parameters=dict(pose_dir=str(task["pose_dir"]), feature_dir=str(task["feature_dir"]),
                                        video_dir=str(tmp_path / "no_videos"), output_dir=str(tmp_path / "run"),
                                        epochs=2, batch_size=6, compare_steps=1, compare_seconds=0.2,
                                        # as `-p overrides '{...}'` hands it over: a string
                                        overrides='{"model.ff_dim": 64}'))
    nb = nbformat.read(out, 4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    images = text.count("image/png")
    assert images >= 3, "curves, confusion matrix and memory chart"
    assert re.search(r"ff_dim</th>[\\n ]*<td>64<", text), "the -p overrides string was applied"
    assert "test (best checkpoint)" in text and "book" in text
    assert "not measured: no usable training clips" in text   # no videos here: said, not hidden
    assert "samples_per_s" in text and "disk_kb_per_video" in text
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "last.pt").exists()
