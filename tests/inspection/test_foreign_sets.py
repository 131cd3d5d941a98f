"""A .pami0 set made outside slt-nb, inspected and compared beside slt-nb's holistic-512 exports.

The set is written as Signformer's users write one (gzip.open + pickle.dump) from the real demo
videos' MediaPipe arrays in holistic-512's columns at 25 fps; the exports are the demo PoseFormat
(25 fps, MediaPipe) and How2Sign (24 fps, OpenPose) corpora through `-p feature_layout holistic-512`.
"""
from __future__ import annotations

import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import REPO  # noqa: E402
from slt_nb.datasets.declaration import is_numbered  # noqa: E402
from slt_nb.errors import ParameterError  # noqa: E402
from slt_nb.inspection import ReaderSource, compare, open_source, pick_clip, summarise  # noqa: E402
from slt_nb.layout_files import load_layout_file  # noqa: E402
from slt_nb.plotting import skeleton_grid  # noqa: E402
from slt_nb.summary_box import read_summary  # noqa: E402
from slt_nb.testing.foreign_pami import DECLARED, holistic_512_rows, holistic_exports, write_demo_set  # noqa: E402

HOLISTIC = load_layout_file("holistic-512").layout


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """(the foreign set's folder, the holistic-512 export manifests of PoseFormat and How2Sign)."""
    folder = tmp_path_factory.mktemp("foreign")
    write_demo_set(folder)
    return folder, holistic_exports(tmp_path_factory.mktemp("exports"))


def test_inspecting_a_foreign_set_reads_it_in_its_declared_layout(sets):
    folder, _ = sets
    source = open_source(str(folder / "demo512.pami0.train"), layout="holistic-512", fps=25)
    assert isinstance(source, ReaderSource) and source.layout == HOLISTIC and source.fps == 25
    summary = summarise(source)
    assert summary.table.loc["train", "clips read"] == 3 and summary.table.loc["train", "frames"] == 48 + 9
    absent = summary.frames_without_part["train"]
    assert absent["pose"] == 0 and absent["face"] == 0  # MediaPipe found both in every frame
    assert absent["left_hand"] == pytest.approx(1 - 9 / 57)  # the first video never shows her left hand
    shown = source.load(pick_clip(source, "train", "test_video_b"))
    half = len(holistic_512_rows("test_video")) // 2
    np.testing.assert_array_equal(shown.frames, holistic_512_rows("test_video")[half:])
    assert shown.text == "she signs with her right hand" and shown.fps == 25
    fig = skeleton_grid(shown.layout, shown.frames, [0, 10], legs=False)
    assert len(fig.axes) >= 2


def test_without_a_layout_the_columns_are_counted_by_number(sets):
    folder, _ = sets
    source = open_source(str(folder / "demo512.pami0.dev"))
    assert is_numbered(source.layout) and source.fps is None
    summary = summarise(source)
    rates = summary.missing_by_point.set_index("point")["rate"]
    face_x = 2 * 17 + 2 * (100 - 15)  # face point 100's x
    assert rates["column 0"] == 0 and rates[f"column {face_x}"] == 0  # the nose and the face, in every frame
    # the left wrist's x: missing in the first video's 48 frames, there in the second's 9
    assert rates["column 940"] == pytest.approx(48 / 57)


def test_compare_finds_the_foreign_set_and_a_25_fps_mediapipe_export_compatible(sets):
    folder, manifests = sets
    samples = compare.load_exports([manifests["PoseFormat"], folder / "demo512.pami0.dev"], split="val",
                                   foreign=DECLARED)
    assert [(s.label, s.split, len(s.clips), s.clips_in_split) for s in samples] == [
        ("PoseFormat-1024", "val", 1, 1), ("demo512", "dev", 2, 2)]
    assert compare.problems(samples) == []
    table = compare.parameters(samples)
    digest = load_layout_file("holistic-512").sha256[:16]
    assert set(table["layout"]) == {f"holistic-512 (file sha256 {digest})"} and set(table["fps"]) == {25.0}
    cov = compare.coverage(samples)
    face = HOLISTIC.segment("face")
    # no slt-nb reader has a face: only the foreign set fills the face mesh's columns
    assert (cov.loc[face.start:face.stop - 1, "PoseFormat-1024"] == 0).all()
    assert (cov.loc[face.start:face.stop - 1, "demo512"] == 1).all()
    lengths = compare.clip_lengths(samples)
    mine = lengths[lengths["export"] == "demo512"]
    assert mine["frames"].tolist() == [48, 9] and mine["seconds"].tolist() == [48 / 25, 9 / 25]
    values = compare.joint_values(samples)
    assert {"PoseFormat-1024", "demo512"} == set(values[values["joint"] == "right wrist"]["export"])
    assert len(compare.overlay_figure(samples).axes[0].lines) > 0


def test_compare_names_what_keeps_a_24_fps_export_from_the_25_fps_set(sets):
    folder, manifests = sets
    samples = compare.load_exports([manifests["How2Sign"], folder], split="val", foreign=DECLARED)
    assert compare.problems(samples) == [
        "exports disagree on fps (24: How2Sign-1024 (val); 25: demo512 (dev)): the same number of frames is a "
        "different length of time (export with the same fps)"]
    undeclared = compare.load_exports([manifests["How2Sign"], folder], split="val")
    assert any(p.startswith("exports disagree on layout (holistic-512") and "unknown layout: demo512 (dev)" in p
               for p in compare.problems(undeclared))
    with pytest.raises(ParameterError, match=r"parameter 'foreign: fps': 'fast' is not a frame rate"):
        compare.load_exports([folder], split="dev", foreign={"fps": "fast"})


def test_slt_nb_inspect_reports_a_set_named_by_the_stem_of_its_parts(sets, tmp_path):
    folder, _ = sets
    command = [sys.executable, "-m", "slt_nb", "inspect", str(folder / "demo512.pami0.train"), "-p", "split", "train",
               "-p", "layout", "holistic-512", "-p", "fps", "25", "-p", "clip", "test_video_a",
               "-o", str(tmp_path / "inspect.ipynb"), "--index", str(tmp_path / "index.html")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "inspect.ipynb").read_text())
    found = read_summary(report)
    assert found["title"] == "Inspect demo512" and found["key_result"].startswith("3 clips, 57 frames read")
    printed = "".join(t for c in report["cells"] for o in c.get("outputs", []) for t in o.get("text", ""))
    assert "demo512: layout holistic-512 (1024 features), splits ['train']" in printed
    assert "train/test_video_a: 24 frames (1.0 s)" in printed
    pictures = sum("image/png" in o.get("data", {}) for c in report["cells"] for o in c.get("outputs", []))
    assert pictures >= 4  # lengths, missing points, the skeleton grid, the wrists
