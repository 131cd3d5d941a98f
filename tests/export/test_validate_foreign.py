"""The verdict on a .pami0 set made outside slt-nb beside slt-nb's holistic-512 exports: can they be
trained together? Feature size, layout (by name and layout file sha256), normalisation and fps.

The set is written as Signformer's users write one (gzip.open + pickle.dump) from the real demo
videos' MediaPipe arrays in holistic-512's columns at 25 fps.
"""
from __future__ import annotations

import numpy as np
import pytest

from slt_nb.export.validate import main, validate_exports
from slt_nb.layout_files import LAYOUTS_DIR
from slt_nb.testing.foreign_pami import DECLARED, holistic_exports, sample, write_demo_set, write_plain


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foreign")
    write_demo_set(folder)
    return folder, holistic_exports(tmp_path_factory.mktemp("exports"))


def messages(report, check="parameters", severity="error") -> list[str]:
    return [f.message for f in report.findings if f.check == check and f.severity == severity]


def test_a_25_fps_mediapipe_export_and_the_declared_set_can_be_trained_together(sets):
    folder, manifests = sets
    report = validate_exports([manifests["PoseFormat"], folder / "demo512.pami0.dev", folder / "demo512.pami0.train"],
                              foreign=DECLARED)
    assert report.ok and report.findings == []
    assert report.parts == 3 + 1 + 2 and report.feature_sizes == {"PoseFormat": {1024}, "demo512": {1024}}


def test_a_24_fps_export_beside_the_25_fps_set_is_refused_naming_both(sets):
    folder, manifests = sets
    report = validate_exports([manifests["How2Sign"], folder], foreign=DECLARED)
    assert not report.ok
    (fps,) = messages(report)
    assert fps.startswith("exports disagree on fps (24: How2Sign-1024 (train, val, test); 25: demo512 (dev, train))")
    assert "--allow-mixed-layouts" in fps
    allowed = validate_exports([manifests["How2Sign"], folder], foreign=DECLARED, allow_mixed_layouts=True)
    assert allowed.ok and messages(allowed, severity="warning")[0].startswith("exports disagree on fps")


def test_another_normalisation_is_refused(sets, tmp_path):
    folder, _ = sets
    shoulders = holistic_exports(tmp_path, datasets=("PoseFormat",), normalize="shoulders")["PoseFormat"]
    (normalize,) = messages(validate_exports([shoulders, folder], foreign=DECLARED))
    assert normalize.startswith("exports disagree on normalize (shoulders: PoseFormat-1024 (train, val, test); "
                                "frame: demo512 (dev, train)): the numbers are on different scales")


def test_a_layout_file_of_the_same_name_with_other_columns_is_refused_by_its_digest(sets, tmp_path):
    """LSA-T stores the right hand before the left: a copy of holistic-512 in that order keeps its name."""
    folder, manifests = sets
    text = (LAYOUTS_DIR / "holistic-512.yaml").read_text()
    left, right = "  - {name: left_hand, skeleton: mediapipe_hand21, points: all}\n", \
        "  - {name: right_hand, skeleton: mediapipe_hand21, points: all}\n"
    assert left + right in text
    lsat = tmp_path / "lsat-order.yaml"
    lsat.write_text(text.replace(left + right, right + left))
    report = validate_exports([manifests["PoseFormat"], folder], foreign={**DECLARED, "layout": str(lsat)})
    (layout,) = messages(report)
    assert layout.startswith("exports disagree on layout (holistic-512 (file sha256 ")
    first, second = layout.split("(file sha256 ")[1:3]
    assert first[:16] != second[:16] and "PoseFormat-1024" in first and "demo512" in second


def test_an_undeclared_set_is_a_warning_and_an_undeclared_rate_disagrees_with_every_export(sets):
    folder, manifests = sets
    report = validate_exports([manifests["PoseFormat"], folder])
    assert report.ok and messages(report) == []
    (warning,) = messages(report, severity="warning")
    assert warning.startswith("no manifest beside it: its layout, normalisation and frame rate are unknown")
    assert "declare them (validate: --layout, --fps, --normalize" in warning
    no_rate = validate_exports([manifests["PoseFormat"], folder], foreign={"layout": "holistic-512", "normalize": "frame"})
    assert messages(no_rate)[0].startswith("exports disagree on fps (25: PoseFormat-1024 (train, val, test); "
                                           "unknown rate: demo512 (dev, train))")
    assert messages(no_rate, "declaration", "warning") == [
        "its fps is not declared: unknown, so it disagrees with every export that records one (declare fps)"]


def test_a_set_of_another_width_is_refused_whatever_it_declares(sets, tmp_path):
    _, manifests = sets
    write_plain(tmp_path / "narrow.pami0.dev", [sample("dev/x", np.ones((5, 150), np.float32), "a text")])
    report = validate_exports([manifests["PoseFormat"], tmp_path / "narrow.pami0.dev"],
                              foreign={"layout": "aligned", "fps": 25, "normalize": "frame"}, allow_mixed_layouts=True)
    sizes = [f for f in report.findings if f.check == "feature size"]
    assert sizes and "150 features but" in sizes[0].message
    assert any(m.startswith("exports disagree on feature_size (1024: PoseFormat-1024") for m in messages(report))


def test_slt_nb_validate_takes_the_declaration_as_options(sets, capsys):
    folder, manifests = sets
    declared = ["--layout", "holistic-512", "--fps", "25", "--normalize", "frame"]
    assert main([str(manifests["PoseFormat"]), str(folder / "demo512.pami0.dev"), *declared]) == 0
    assert "0 errors, 0 warnings: OK" in capsys.readouterr().out
    assert main([str(manifests["PoseFormat"]), str(folder / "demo512.pami0.dev"), *declared[:2], "--fps", "24",
                 "--normalize", "frame"]) == 1
    out = capsys.readouterr().out
    assert "ERROR    parameters" in out and "(25: PoseFormat-1024 (train, val, test); 24: demo512 (dev))" in out
    assert main([str(folder / "demo512.pami0.dev"), "--layout", "holistic-513"]) == 1
    assert "layout 'holistic-513' is no layout file" in capsys.readouterr().out
