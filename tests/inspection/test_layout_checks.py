"""Declared layouts against the numbers: real exports (the demo corpora, one real video through
OpenPose and MediaPipe) pass, and the same exports under a deliberately wrong declaration (hands
swapped, a mirrored pose, an alignment or layout of another corpus, a doubled or halved frame rate,
pixels declared as fractions of the frame) are each flagged by the check meant for it."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from slt_nb.export.run import run_export
from slt_nb.inspection import compare, layout_checks
from slt_nb.layouts import MEDIAPIPE_POSE_33
from slt_nb.params import load_params
from slt_nb.testing.same_video import how2sign_params, how2sign_same_video, lsfb_params, lsfb_same_video

ALIGNED = {"feature_layout": "aligned", "normalize": "shoulders"}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exports")
    for name, options in (("How2Sign", {}), ("LSFB-CONT", {}), ("How2Sign", {"coordinates": "pixels"})):
        folder = out / ("pixels" if options else "seed")
        run_export(load_params(name, {"output_dir": str(folder), "splits": ["train"], **options}))
    root = tmp_path_factory.mktemp("same_video")
    h2s, lsfb = how2sign_same_video(root / "How2Sign"), lsfb_same_video(root / "LSFB-CONT")
    run_export(how2sign_params(h2s, out / "aligned", **ALIGNED))
    run_export(lsfb_params(lsfb, out / "aligned", **ALIGNED))
    return {"How2Sign": out / "seed" / "How2Sign-1024.manifest.json",
            "LSFB-CONT": out / "seed" / "LSFB-CONT-1024.manifest.json",
            "How2Sign pixels": out / "pixels" / "How2Sign-1024.manifest.json",
            "How2Sign aligned": out / "aligned" / "How2Sign-1024.manifest.json",
            "LSFB-CONT aligned": out / "aligned" / "LSFB-CONT-1024.manifest.json"}


def redeclared(manifest: Path, tmp_path: Path, edit) -> Path:
    """The export's parts beside a copy of its manifest that `edit` changed in place."""
    folder = tmp_path / f"redeclared-{len(list(tmp_path.glob('redeclared-*')))}"
    folder.mkdir()
    doc = json.loads(manifest.read_text())
    for entry in doc["splits"].values():
        for part in entry["parts"]:
            shutil.copy(manifest.parent / part["file"], folder / part["file"])
    edit(doc)
    path = folder / manifest.name
    path.write_text(json.dumps(doc))
    return path


def findings(manifest: Path, severity: str | None = None, check: str | None = None):
    (sample,) = compare.load_exports([manifest])
    found = layout_checks.check_export(sample)
    return [f for f in found if (severity is None or f.severity == severity) and (check is None or f.check == check)]


def test_the_exports_as_written_contradict_nothing(exports):
    for name, manifest in exports.items():
        found = findings(manifest)
        assert not [f for f in found if f.severity == "error"], (name, found)
        assert {f.check for f in found if f.severity == "ok"} == {
            "declared empty", "left/right", "frame bounds", "rate vs text"}, (name, found)


@pytest.mark.parametrize("name", ["How2Sign", "LSFB-CONT aligned"])
def test_hands_declared_swapped_are_flagged(exports, tmp_path, name):
    def swap_hands(doc):
        for seg in doc["layout"]["segments"]:
            seg["name"] = {"left_hand": "right_hand", "right_hand": "left_hand"}.get(seg["name"], seg["name"])

    errors = findings(redeclared(exports[name], tmp_path, swap_hands), "error", "left/right")
    assert [f.message.split("'")[1] for f in errors] == ["right_hand", "left_hand"]  # in column order
    assert all("swapped against the body" in f.message for f in errors)


def test_a_mirrored_pose_declaration_is_flagged_by_the_shoulders(exports, tmp_path):
    mirror = {"left": "right", "right": "left"}
    names = MEDIAPIPE_POSE_33.points
    order = [names.index("_".join(mirror.get(w, w) for w in n.split("_"))) for n in names]

    def mirrored(doc):
        pose = next(s for s in doc["layout"]["segments"] if s["name"] == "pose")
        pose["points"] = ",".join(map(str, order))  # column of point k declared to hold its mirror image

    errors = findings(redeclared(exports["LSFB-CONT aligned"], tmp_path, mirrored), "error", "left/right")
    shoulder = [f for f in errors if "shoulder" in f.message]
    assert len(shoulder) == 1 and "left and right are swapped" in shoulder[0].message
    assert "in 9 of 9 frames" in shoulder[0].message


def test_columns_declared_never_filled_that_hold_values_are_named(exports, tmp_path):
    openpose_alignment = json.loads(exports["How2Sign aligned"].read_text())["layout"]["alignment"]

    def borrowed(doc):  # MediaPipe data under OpenPose's alignment, as a copied manifest would have it
        doc["layout"]["alignment"] = openpose_alignment

    (error,) = findings(redeclared(exports["LSFB-CONT aligned"], tmp_path, borrowed), "error", "declared empty")
    assert error.message.startswith("12 points the manifest declares never filled")  # OpenPose's 12 missing
    for point in ("pose.left_eye_inner", "pose.mouth_left", "pose.right_pinky"):
        assert point in error.message
    assert "'openpose_body25_hands_xy'" in error.message and "100% of frames" in error.message


def test_data_wider_than_the_declared_layout_fill_its_padding(exports, tmp_path):
    how2sign_layout = json.loads(exports["How2Sign"].read_text())["layout"]

    def narrower(doc):  # LSFB-CONT's 150 columns declared as How2Sign's 134
        doc["layout"] = how2sign_layout

    errors = findings(redeclared(exports["LSFB-CONT"], tmp_path, narrower), "error", "declared empty")
    (padding,) = [f for f in errors if "padding" in f.message]
    assert "columns 134-149" in padding.message and "ends at column 134" in padding.message


def test_a_frame_rate_off_by_two_is_flagged_both_ways(exports, tmp_path):
    def rate(fps):
        def edit(doc):
            doc["splits"]["train"]["parameters"]["fps"] = fps
        return edit

    (error,) = findings(redeclared(exports["How2Sign"], tmp_path, rate(48)), "error", "rate vs text")
    assert "at the declared 48 fps" in error.message and "is the frame rate right?" in error.message
    implied = int(error.message.split("which about ")[1].split(" fps")[0])
    assert 16 <= implied <= 32  # How2Sign's real 24
    (error,) = findings(redeclared(exports["LSFB-CONT"], tmp_path, rate(25)), "error", "rate vs text")
    assert "at the declared 25 fps" in error.message  # LSFB-CONT's poses are 50 fps
    assert not findings(exports["LSFB-CONT"], "error", "rate vs text")


def test_texts_shifted_against_their_clips_name_the_clip(tmp_path):
    """One annotation row off: every clip gets the next clip's sentence."""
    tree = tmp_path / "How2Sign"
    shutil.copytree(REPO / "data" / "demo" / "How2Sign", tree)
    table = tree / "how2sign_realigned_train.csv"
    with open(table, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    sentences = [r[-1] for r in rows[1:]]
    for r, text in zip(rows[1:], sentences[1:] + sentences[:1]):
        r[-1] = text
    with open(table, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter="\t").writerows(rows)
    run_export(load_params("How2Sign", {"data_root": str(tree), "output_dir": str(tmp_path / "out"),
                                        "splits": ["train"]}))
    (warning,) = findings(tmp_path / "out" / "How2Sign-1024.manifest.json", "warning", "rate vs text")
    # the 405-frame clip (16.9 s) now carries a 5-word sentence
    assert "train/-fZc293MpJk_4-1-rgb_front: 405 frames = 16.88 s for 5 words" in warning.message


def test_pixels_declared_as_fractions_of_the_frame_are_flagged(exports, tmp_path):
    def normalised(doc):
        doc["splits"]["train"]["parameters"]["coordinates"] = "normalised"

    (error,) = findings(redeclared(exports["How2Sign pixels"], tmp_path, normalised), "error", "frame bounds")
    assert "they look like pixels" in error.message

    def pixels(doc):
        doc["splits"]["train"]["parameters"]["coordinates"] = "pixels"

    (warning,) = findings(redeclared(exports["How2Sign"], tmp_path, pixels), "warning", "frame bounds")
    assert "declared pixels" in warning.message and "look divided by the frame size" in warning.message


def test_frame_fractions_declared_as_shoulder_units_are_flagged(exports, tmp_path):
    def shoulders(doc):
        doc["splits"]["train"]["parameters"]["normalize"] = "shoulders"

    (error,) = findings(redeclared(exports["How2Sign"], tmp_path, shoulders), "error", "frame bounds")
    assert "not in shoulder units" in error.message
    width = float(error.message.split("their width is ")[1].split(":")[0])
    assert 0.05 < width < 0.4  # a shoulder width in fractions of a 1280-pixel-wide frame


def test_findings_table_lists_errors_first(exports, tmp_path):
    def swap(doc):
        doc["splits"]["train"]["parameters"]["fps"] = 48

    samples = compare.load_exports([exports["LSFB-CONT"], redeclared(exports["How2Sign"], tmp_path, swap)])
    table = layout_checks.findings_table(layout_checks.check_exports(samples))
    assert table["severity"].iloc[0] == "error" and table["export"].iloc[0] == "How2Sign-1024"
    assert set(table["export"]) == {"How2Sign-1024", "LSFB-CONT-1024"}
