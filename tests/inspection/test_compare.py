"""The compare report on real data: one real video through OpenPose (How2Sign tree) and MediaPipe
(LSFB-CONT tree), and the demo exports through the notebook."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from slt_nb.errors import ParameterError
from slt_nb.export.run import run_export
from slt_nb.inspection import compare
from slt_nb.layouts import ALIGNED_150
from slt_nb.params import load_params
from slt_nb.testing.same_video import FRAMES, how2sign_params, how2sign_same_video, lsfb_params, lsfb_same_video

ALIGNED = {"feature_layout": "aligned", "normalize": "shoulders"}


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("same_video")
    return how2sign_same_video(root / "How2Sign"), lsfb_same_video(root / "LSFB-CONT")


def exported(trees, out: Path, h2s_options: dict, lsfb_options: dict) -> list[Path]:
    h2s, lsfb = trees
    run_export(how2sign_params(h2s, out, **h2s_options))
    run_export(lsfb_params(lsfb, out, **lsfb_options))
    return [out / "How2Sign-1024.manifest.json", out / "LSFB-CONT-1024.manifest.json"]


def test_aligned_exports_of_one_video_compare_as_compatible(trees, tmp_path):
    samples = compare.load_exports(exported(trees, tmp_path, ALIGNED, ALIGNED))
    assert [len(s.clips) for s in samples] == [1, 1] and [len(s.clips[0]) for s in samples] == [FRAMES, FRAMES]
    assert compare.problems(samples) == []
    table = compare.parameters(samples)
    assert list(table["coordinates"]) == ["(shoulder units)"] * 2

    cov = compare.coverage(samples)
    pose = ALIGNED_150.segment("pose")
    eye_inner = 2 * pose.skeleton.index("left_eye_inner")
    shoulder = 2 * pose.skeleton.index("left_shoulder")
    # OpenPose's BODY_25 has no eye corners: How2Sign never fills them, MediaPipe always does.
    assert cov.loc[eye_inner, "How2Sign-1024"] == 0 and cov.loc[eye_inner, "LSFB-CONT-1024"] == 1
    assert cov.loc[shoulder].tolist() == [1.0, 1.0]

    values = compare.joint_values(samples)
    medians = values.groupby(["joint", "axis", "export"])["value"].median()
    for export in ("How2Sign-1024", "LSFB-CONT-1024"):
        assert medians["left shoulder", "x", export] == pytest.approx(0.5, abs=0.01)
        assert medians["right shoulder", "x", export] == pytest.approx(-0.5, abs=0.01)
    # The same wrists through two estimators: within the 0.11 shoulder widths measured in test_feature_options.
    for joint in ("left wrist", "right wrist"):
        for axis in ("x", "y"):
            gap = abs(medians[joint, axis, "How2Sign-1024"] - medians[joint, axis, "LSFB-CONT-1024"])
            assert gap < 0.11, (joint, axis, gap)

    lengths = compare.clip_lengths(samples)
    assert lengths["seconds"].tolist() == pytest.approx([FRAMES / 24] * 2)


def test_seed_beside_aligned_is_flagged_and_still_compared_by_joint_name(trees, tmp_path):
    samples = compare.load_exports(exported(trees, tmp_path, {}, ALIGNED))
    found = compare.problems(samples)
    assert found and found[0].startswith("exports disagree on layout")
    values = compare.joint_values(samples)
    shoulder_x = values[(values["joint"] == "left shoulder") & (values["axis"] == "x")]
    seed = shoulder_x[shoulder_x["export"] == "How2Sign-1024"]["value"]
    assert len(seed) == FRAMES and seed.between(0, 1).all()  # BODY_25's shoulder, a fraction of the frame
    assert compare._unit(samples) == "mixed units"


def test_figures_draw_every_export(trees, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    samples = compare.load_exports(exported(trees, tmp_path, ALIGNED, ALIGNED))
    labels = {s.label for s in samples}
    fig = compare.overlay_figure(samples)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {t.split(":")[0] for t in legend} == labels
    ymax = max(fig.axes[0].get_ylim())
    assert ymax < 3  # legs left out: the view ends below the hands, not at the feet
    fig = compare.joint_boxplots(samples)
    assert {t.get_text() for t in fig.legends[0].get_texts()} == labels
    fig = compare.coverage_figure(samples)
    assert fig.axes[0].get_images()[0].get_array().shape == (2, ALIGNED_150.width)


def test_a_missing_manifest_or_split_names_the_file(tmp_path, trees):
    with pytest.raises(ParameterError, match=r"exports: .*nothing.manifest.json does not exist"):
        compare.load_exports([tmp_path / "nothing.manifest.json"])
    manifests = exported(trees, tmp_path, ALIGNED, ALIGNED)
    with pytest.raises(ParameterError, match=r"How2Sign-1024.manifest.json has no split 'val' \(it has \['train'\]\)"):
        compare.load_exports(manifests, split="val")
    (tmp_path / "bad.manifest.json").write_text("{not json")
    with pytest.raises(ParameterError, match=r"bad.manifest.json is not an slt-nb export manifest"):
        compare.load_exports([tmp_path / "bad.manifest.json"])


def test_augmented_export_counts_each_clip_once(tmp_path):
    run_export(load_params("How2Sign-aug", {"output_dir": str(tmp_path), "splits": ["train"]}))
    manifest = tmp_path / "How2Sign-aug-1024.manifest.json"
    entry = json.loads(manifest.read_text())["splits"]["train"]
    (sample,) = compare.load_exports([manifest])
    assert entry["samples"] > len(sample.clips) == len(entry["clip_frames"])  # texts share their clip's poses
    assert sorted(len(c) for c in sample.clips) == sorted(entry["clip_frames"].values())


@pytest.mark.slow
def test_compare_notebook_reports_a_mix_it_would_refuse(tmp_path):
    import papermill as pm

    for name, options in (("How2Sign", {}), ("LSFB-CONT", {**ALIGNED, "fps": 24})):
        run_export(load_params(name, {"output_dir": str(tmp_path / "exports"), "splits": ["val"], **options}))
    out = tmp_path / "compare.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "compare.ipynb"), str(out), cwd=str(REPO), progress_bar=False,
                        kernel_name="python3", parameters={
                            "exports": sorted(str(p) for p in (tmp_path / "exports").glob("*.manifest.json")),
                            "split": "val"})
    nb = json.loads(out.read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "NOT compatible" in text and "disagree on layout" in text
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 5  # coverage, joints, lengths, overlay, memory
    assert np.all([not o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", [])])
