"""Training takes the pose input's shape from the estimator that wrote the extraction."""
import json

import pytest

from slt_nb.extract import ESTIMATORS
from slt_nb.formats.extraction import HOLISTIC_PARTS
from slt_nb.testing.sign_task import CLASS_LIST, write_sign_task
from slt_nb.train.data import load_training_data
from slt_nb.train.inputs import POSE_INPUT_DIM


class BodyOnlyEstimator:
    """An estimator that writes only MediaPipe's 33 body points (no hands)."""

    name = "body_only"
    parts = HOLISTIC_PARTS[:1]
    options_taken = ()


@pytest.fixture
def task(tmp_path):
    return write_sign_task(tmp_path / "task", num_classes=3, per_class={"train": 2, "val": 1, "test": 1},
                           feature_dim=None)


def test_an_extraction_without_a_record_is_read_as_holistic(task):
    data = load_training_data("pose", task["pose_dir"], None, CLASS_LIST)
    x, valid, _ = data.datasets["train"][0]
    assert data.input_dim == POSE_INPUT_DIM == 75 * 3 + 3 and x.shape[1] == POSE_INPUT_DIM


def test_the_recorded_estimators_parts_set_the_input_width(task, monkeypatch):
    monkeypatch.setitem(ESTIMATORS, BodyOnlyEstimator.name, BodyOnlyEstimator)
    record = {"status": "finished", "settings": {"kind": "poses", "estimator": "body_only"}}
    (task["pose_dir"] / "extraction.json").write_text(json.dumps(record), encoding="utf-8")
    data = load_training_data("pose", task["pose_dir"], None, CLASS_LIST)
    x, valid, _ = data.datasets["val"][0]
    assert data.input_dim == 33 * 3 + 1 and x.shape[1] == data.input_dim
    assert not data.skipped, "the hand arrays in the files are simply not read"
