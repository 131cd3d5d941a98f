"""Every reader setting can be given like any parameter, is checked before any work, and unknown names are refused."""
import subprocess
import sys

import numpy as np
import pytest

from slt_nb.errors import ParameterError
from slt_nb.export.parameters import load_export_params
from slt_nb.export.run import run_export
from slt_nb.formats.pami import find_parts, load_signformer
from slt_nb.params import REPO_ROOT
from slt_nb.settings import check_notebook_namespace, notebook_names

NOTEBOOK = "notebooks/export.ipynb"


def shoulder_export(tmp_path, frame_size):
    overrides = {"output_dir": str(tmp_path), "splits": ["val"], "normalize": "shoulders",
                 "feature_layout": "aligned", "frame_size": frame_size}
    run_export(load_export_params("LSFB-CONT", overrides))
    parts = find_parts(tmp_path, "LSFB-CONT-1024", "val")
    return np.concatenate([s["sign"].numpy() for p in parts for s in load_signformer(p)])


def test_frame_size_changes_the_shoulder_normalised_values(tmp_path):
    """LSFB-CONT's MediaPipe fractions times the frame size are pixels: the aspect ratio decides y's scale."""
    video = shoulder_export(tmp_path / "576", [720, 576])
    vga = shoulder_export(tmp_path / "480", "[640, 480]")  # as papermill's -p hands it over
    assert video.shape == vga.shape
    assert not np.allclose(video, vga), "the setting reached the reader"
    # shoulder units cancel in y/x of one point: what is left is the aspect ratio the frame size gives
    xv, yv, xg, yg = video[:, 0:150:2], video[:, 1:150:2], vga[:, 0:150:2], vga[:, 1:150:2]
    usable = (np.abs(xv) > 0.05) & (np.abs(xg) > 0.05) & (np.abs(yv) > 0.05)
    ratio = np.median((yg[usable] / xg[usable]) / (yv[usable] / xv[usable]))
    assert ratio == pytest.approx((480 / 640) / (576 / 720), rel=1e-3), "y stretched by the aspect ratios' quotient"


@pytest.mark.parametrize("value, message", [
    ([0, 720], r"parameter 'frame_size': width 0 is not a whole number of pixels above 0"),
    ("[1280]", r"parameter 'frame_size': '\[1280\]' has 1 values; expected width and height"),
    ('["a", "b"]', r"parameter 'frame_size': width 'a' is not a whole number of pixels above 0"),
    ([1280.5, 720], r"width 1280.5 is not a whole number"),
])
def test_a_bad_frame_size_is_one_line_before_any_work(value, message, tmp_path):
    with pytest.raises(ParameterError, match=message):
        load_export_params("LSFB-CONT", {"frame_size": value, "output_dir": str(tmp_path)})
    assert not list(tmp_path.iterdir()), "nothing written"


def test_a_bad_source_fps_is_refused():
    with pytest.raises(ParameterError, match=r"parameter 'source_fps': 'fast' is not a frame rate"):
        load_export_params("LSFB-CONT", {"source_fps": "fast"})


def test_every_setting_of_every_export_params_file_is_a_notebook_parameter():
    parameters, _ = notebook_names(NOTEBOOK)
    for name in ("How2Sign", "How2Sign-aug", "LSFB-CONT", "LSFB-CONT-aug", "PoseFormat"):
        missing = set(load_export_params(name)) - set(parameters)
        assert not missing, f"params/{name}.yaml settings the export notebook cannot take: {sorted(missing)}"


def test_a_name_the_notebook_does_not_have_is_refused_with_the_closest():
    namespace = {"dataset": "LSFB-CONT", "frame_sise": [640, 480], "In": [], "_i1": "", "pd": object()}
    with pytest.raises(ParameterError, match=r"export.ipynb has no parameter 'frame_sise' \(did you mean 'frame_size'"):
        check_notebook_namespace(namespace, NOTEBOOK)
    check_notebook_namespace({"dataset": "x", "frame_size": None, "params": {}, "manifest": {}}, NOTEBOOK)


@pytest.mark.slow
def test_papermill_with_an_unknown_name_fails_before_the_export_starts(tmp_path):
    out = tmp_path / "out.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill", NOTEBOOK, str(out), "-p", "dataset", "LSFB-CONT",
                          "-p", "output_dir", str(tmp_path / "exports"), "-y", "frame_sise: [640, 480]"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode != 0
    assert "has no parameter 'frame_sise' (did you mean 'frame_size'" in run.stdout + run.stderr
    assert not (tmp_path / "exports").exists(), "the export never started"
