"""Contracts every registered reader and pose estimator keeps: a new one is checked here for free.

A corpus module or estimator module only needs its own quirk tests; what all of them must do
(export their demo params accounting for every row, rows as wide as the layout, survive being
sent to a worker process, write the arrays their parts promise) is parametrised over the
registries, so no list in a test can go stale.
"""
import pickle

import numpy as np
import pytest

from slt_nb.datasets import READERS, reader_class, reader_from_params
from slt_nb.errors import ClipError, UnknownName
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.extract import ESTIMATORS, build_estimator, estimator_class, load_estimators
from slt_nb.formats.extraction import PosePart, check_pose_arrays, parts_layout, pose_keys
from slt_nb.params import load_params, resolve
from slt_nb.testing.landmarker_bundle import build_holistic_bundle

from conftest import REAL

load_estimators()
TEST_VIDEO = REAL / "video_signing" / "test_video.mp4"


@pytest.fixture(params=sorted(READERS))
def demo(request):
    """(reader class, its demo params, a reader built from them) for each registered corpus."""
    cls = reader_class(request.param)
    params = load_params(cls.demo_params)
    return cls, params, reader_from_params(params)


def test_reader_demo_params_build_that_reader_with_fps_and_frame_size(demo):
    cls, params, reader = demo
    assert type(reader) is cls
    assert float(reader.fps) > 0
    width, height = reader.frame_size
    assert int(width) > 0 and int(height) > 0
    assert cls.detect(str(resolve(params["data_root"]))), "a reader recognises its own demo tree"


def test_reader_exports_its_demo_params_with_every_row_exported_or_skipped(demo, tmp_path):
    _, params, reader = demo
    exported = 0
    for split in params["splits"]:
        entry = export_split(reader, split, ExportOptions(str(tmp_path), chunk_size=100,
                                                           feature_size=int(params["feature_size"])))
        assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"], split
        assert all(s["reason"] for s in entry["skipped"]), "every skipped row says why"
        exported += entry["rows_exported"]
    assert exported > 0


def test_reader_rows_are_as_wide_as_its_layouts(demo):
    _, params, reader = demo
    read = 0
    for split in params["splits"]:
        for item in reader.plan(split).items:
            try:
                frames = reader.read(item).frames
                inspected = reader.read_for_inspection(item).frames
            except ClipError:
                continue  # the demo's awkward clips; their reasons are tested per corpus
            assert frames.dtype == np.float32 and frames.shape[1] == reader.layout.width, item.clip
            assert inspected.shape == (len(frames), reader.inspection_layout.width), item.clip
            read += 1
    assert read > 0


def test_reader_survives_pickling_for_worker_processes(demo):
    _, params, reader = demo
    split = params["splits"][0]
    item = reader.plan(split).items[0]
    copy = pickle.loads(pickle.dumps(reader))
    assert [i.clip for i in copy.plan(split).items] == [i.clip for i in reader.plan(split).items]
    try:
        expected = reader.read(item).frames
    except ClipError as exc:
        with pytest.raises(ClipError):
            copy.read(item)
        assert str(exc)
    else:
        np.testing.assert_array_equal(copy.read(item).frames, expected)


def test_an_unknown_reader_or_estimator_names_the_known_ones():
    with pytest.raises(UnknownName, match=r"no reader named 'phoenix14t'; known readers: \[.*'how2sign'"):
        reader_class("phoenix14t")
    with pytest.raises(UnknownName, match=r"no pose estimator named 'rtmpose'; known estimators: \[.*'holistic'"):
        estimator_class("rtmpose")


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_parts_define_a_consistent_npz_contract(name):
    cls = estimator_class(name)
    assert cls.name == name
    assert cls.parts and all(isinstance(p, PosePart) for p in cls.parts)
    keys = pose_keys(cls.parts)
    assert len(set(keys)) == len(keys), "array keys must not collide"
    layout = parts_layout(cls.parts)
    assert layout.width == 2 * sum(p.skeleton.size for p in cls.parts)
    assert [s.name for s in layout.segments] == [p.key for p in cls.parts]
    assert all(callable(getattr(cls, m)) for m in ("settings", "extract", "close"))


# How to build each registered estimator here (a new estimator adds its line; the test below
# fails until it does). The landmarker runs on a bundle made from the wheel's legacy models.
RUNNABLE = {
    "holistic": lambda tmp: {"holistic_mode": "sampled"},
    "holistic_landmarker": lambda tmp: {"holistic_mode": "sampled",
                                        "model_path": build_holistic_bundle(tmp / "holistic_landmarker.task")},
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_writes_exactly_the_arrays_its_parts_promise(name, tmp_path):
    assert name in RUNNABLE, f"say in RUNNABLE how to build the {name!r} estimator for this test"
    estimator = build_estimator(name, RUNNABLE[name](tmp_path))
    try:
        poses = estimator.extract(TEST_VIDEO, num_frames=4)
    finally:
        estimator.close()
    assert set(poses.arrays) == set(pose_keys(estimator.parts))
    check_pose_arrays(poses.arrays, TEST_VIDEO, estimator.parts)
    assert all(poses.arrays[p.key].dtype == np.float32 for p in estimator.parts)
    body = estimator.parts[0]
    assert poses.arrays[body.flag].all(), "the signer's body is in every frame of the test video"
