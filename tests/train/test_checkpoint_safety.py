"""Checkpoints from elsewhere must not run code: every load is torch.load(weights_only=True)."""
import os
import pickle

import pytest
import torch

from slt_nb.testing.sign_task import write_sign_task
from slt_nb.train.config import load_config
from slt_nb.train.loop import load_classifier, train


class RunsCode:
    """What a hostile checkpoint holds: unpickling it would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_load_classifier_refuses_a_checkpoint_that_would_run_code(tmp_path):
    marker, ckpt = tmp_path / "ran", tmp_path / "best.pt"
    torch.save({"model_config": {}, "payload": RunsCode(marker)}, ckpt)
    with pytest.raises(pickle.UnpicklingError):
        load_classifier(ckpt)
    assert not marker.exists()


def test_resume_refuses_a_checkpoint_that_would_run_code_and_own_checkpoints_load_safely(tmp_path):
    task = write_sign_task(tmp_path / "task", num_classes=2, per_class={"train": 4, "val": 2, "test": 2}, seed=1)
    out = tmp_path / "run"
    cfg = load_config(None, dict(pose_dir=str(task["pose_dir"]), feature_dir=str(task["feature_dir"]),
                                 video_dir=None, output_dir=str(out), patience=0, epochs=1, batch_size=4))
    train(cfg, log=lambda *_: None)
    for name in ("best.pt", "last.pt"):  # what we save loads the safe way, optimizer state included
        assert torch.load(out / name, weights_only=True)["epoch"] == 1
    model, ckpt = load_classifier(out / "best.pt")
    assert ckpt["num_classes"] == 2
    marker = tmp_path / "ran"
    torch.save({"epoch": 1, "payload": RunsCode(marker)}, out / "last.pt")
    cfg["training"]["resume"] = True
    with pytest.raises(pickle.UnpicklingError):
        train(cfg, log=lambda *_: None)
    assert not marker.exists()
