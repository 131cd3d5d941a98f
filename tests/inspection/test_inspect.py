"""Clip sources and summaries on the demo How2Sign tree, its export, LSFB-CONT and WLASL poses."""
import csv
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from slt_nb.export.pipeline import ExportOptions, export_split  # noqa: E402
from slt_nb.datasets.how2sign import How2SignReader  # noqa: E402
from slt_nb.errors import ClipNotFound  # noqa: E402
from slt_nb.inspection import (ExportSource, ReaderSource,  # noqa: E402
                               WLASLPoseSource, grid_indices, hand_swap_frames, open_source, pick_clip,
                               summarise, want_viewer)
from slt_nb.layouts import MEDIAPIPE_150, OPENPOSE_134, OPENPOSE_274  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMO_H2S = REPO / "data" / "demo" / "How2Sign"
POSE_CLIPS = REPO / "tests" / "data" / "real_pose_clips"
MEDIAPIPE = REPO / "data" / "realdata" / "mediapipe_npy"


@pytest.fixture(scope="module")
def how2sign():
    return open_source("How2Sign")


@pytest.fixture
def wlasl_dir(tmp_path):
    """Real MediaPipe clips laid out as a WLASL pose extraction, plus two bad index rows."""
    root = tmp_path / "poses"
    rows = []
    for i, (npz, split) in enumerate(zip(sorted(POSE_CLIPS.glob("*.npz")), ["train", "train", "val"])):
        video_id = f"{i:05d}"
        (root / split).mkdir(parents=True, exist_ok=True)
        shutil.copy(npz, root / split / f"{video_id}.npz")
        with np.load(npz) as d:
            frames = len(d["pose"])
        rows.append([video_id, f"gloss{i}", i, split, frames, f"{split}/{video_id}.npz"])
    rows.append(["00099", "ghost", 9, "val", 10, "val/00099.npz"])  # listed, never extracted
    rows.append(["00098", "broken", 8, "val", "many", "val/00098.npz"])
    with open(root / "index.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video_id", "gloss", "label", "split", "frames", "path"])
        w.writerows(rows)
    return root


def test_raw_how2sign_summary_lists_the_broken_clip_and_reads_all_the_others(how2sign):
    assert isinstance(how2sign, ReaderSource) and how2sign.layout is OPENPOSE_274
    summary = summarise(how2sign)
    table = summary.table
    assert table.loc["val", "clips listed"] == 3 and table.loc["val", "clips read"] == 2
    [(split, clip, error)] = summary.errors
    assert (split, clip) == ("val", "-fZc293MpJk_7-1-rgb_front")
    assert "-fZc293MpJk_7-1-rgb_front_000000000017_keypoints.json: unparsable JSON" in error
    assert any("-g0sqksgyc4_6-2-rgb_front: no keypoint folder" in r for r in summary.unlisted["train"])
    assert summary.lengths["train"][0] == 405 and max(table["max length"]) == 405


def test_missing_hand_rate_matches_the_frames_openpose_gave_no_hands(how2sign):
    """Test split: one clip ran without hands; its frames over all test frames is the missing rate."""
    reader = How2SignReader(str(DEMO_H2S))
    no_hand = total = 0
    for item in reader.plan("test").items:
        data = reader.read(item)
        no_hand += data.counts["no_left_hand"]
        total += len(data.frames)
    summary = summarise(how2sign, ["test"])
    assert 0 < no_hand < total
    assert summary.frames_without_part.loc["left_hand", "test"] == pytest.approx(no_hand / total)
    assert summary.missing_by_part.loc["left_hand", "test"] == pytest.approx(no_hand / total)
    # BODY_25's legs are out of the frontal view: the per-point chart data says so
    points = summary.missing_by_point.set_index(["part", "point"])["rate"]
    assert points[("body", "left_big_toe")] == 1.0 and points[("body", "neck")] < 0.01
    # ... so they are out of view, listed, and left out of the body's rate, which asks about the points in view
    assert {("body", p) for p in ("left_big_toe", "right_heel", "left_ankle", "right_knee")} <= set(summary.out_of_view)
    assert ("body", "left_wrist") not in summary.out_of_view and not any(p == "left_hand" for p, _ in summary.out_of_view)
    raw_body_rate = points.loc["body"].mean()
    assert raw_body_rate > 0.4 and summary.missing_by_part.loc["body", "test"] < 0.25


def test_export_source_decodes_the_frames_the_raw_reader_read(tmp_path, how2sign):
    reader = How2SignReader(str(DEMO_H2S))
    export_split(reader, "val", ExportOptions(str(tmp_path), chunk_size=1))  # one part per clip
    source = open_source(str(tmp_path))
    assert isinstance(source, ExportSource) and source.layout.segments == OPENPOSE_134.segments
    refs = source.clips("val")
    assert [r.name for r in refs] == ["_2FBDaOPYig_1-3-rgb_front", "_2FBDaOPYig_1-5-rgb_front"]
    exported = source.load(pick_clip(source, "val", -1))
    raw = how2sign.load(pick_clip(how2sign, "val", "_2FBDaOPYig_1-5-rgb_front"))
    assert len(exported.frames) == refs[-1].frames == len(raw.frames)
    np.testing.assert_allclose(exported.frames, raw.frames[:, :134], atol=1e-6)
    assert exported.frame_size == (1280, 720) and exported.fps == 24.0 and exported.notes == []
    assert exported.text.startswith("Today I am going to be showing you")


def test_pick_clip_by_name_index_and_clear_errors(how2sign):
    assert pick_clip(how2sign, "test", 0).name == "-fZc293MpJk_0-1-rgb_front"
    assert pick_clip(how2sign, "test", "1").name == pick_clip(how2sign, "test", 1).name
    assert pick_clip(how2sign, "val", "_2FBDaOPYig_1-5-rgb_front").split == "val"
    with pytest.raises(ClipNotFound, match=r"split 'test' has 4 clips; index 9 is out of range"):
        pick_clip(how2sign, "test", 9)
    with pytest.raises(ClipNotFound, match=r"no clip '_2FBDaOPYig_1'.*similar: \['_2FBDaOPYig_1-3-rgb_front'"):
        pick_clip(how2sign, "val", "_2FBDaOPYig_1")


def test_wlasl_poses_zero_undetected_hands_and_report_bad_rows(wlasl_dir):
    source = open_source(str(wlasl_dir))
    assert isinstance(source, WLASLPoseSource) and source.layout is MEDIAPIPE_150
    assert source.splits() == ["train", "val"]
    ref = pick_clip(source, "train", 0)
    clip = source.load(ref)
    with np.load(wlasl_dir / "train" / "00000.npz") as d:
        pose, left, left_seen = d["pose"], d["left_hand"], d["left_hand_detected"]
    assert len(clip.frames) == ref.frames == len(pose)
    np.testing.assert_array_equal(MEDIAPIPE_150.segment("pose").points(clip.frames), pose[:, :, :2])
    decoded_left = MEDIAPIPE_150.segment("left_hand").points(clip.frames)
    np.testing.assert_array_equal(decoded_left[left_seen], left[left_seen][:, :, :2])
    assert not decoded_left[~left_seen].any()
    summary = summarise(source)
    assert summary.table.loc["val", "clips read"] == 1
    assert [(s, c) for s, c, _ in summary.errors] == [("val", "00099")]
    assert "00099.npz: pose file of WLASL video 00099" in summary.errors[0][2]
    assert any("frames 'many' is not a number" in r for r in summary.unlisted["val"])


def test_lsfb_plugs_in_through_its_reader(tmp_path):
    lsfb = pytest.importorskip("slt_nb.datasets.lsfb", reason="slt_nb.datasets.lsfb not in this checkout")
    poses = tmp_path / "poses"
    for part in ("pose", "left_hand", "right_hand"):
        (poses / part).mkdir(parents=True)
        np.save(poses / part / "session1.npy", np.load(MEDIAPIPE / "test_video" / f"{part}.npy").astype(np.float16))
    (tmp_path / "annotations.csv").write_text(
        "id,text,video_id,start,end,split\n"
        "s1_a,Bonjour,session1,0,400,val\n"
        "s1_b,Merci,session1,400,1000,val\n"
        "s2_a,Au revoir,session2,0,500,val\n")
    source = ReaderSource(lsfb.LSFBReader(str(tmp_path)), ["val"])
    assert source.layout is MEDIAPIPE_150 and source.fps == 50.0 and source.frame_size == (720, 576)
    summary = summarise(source)
    assert summary.lengths["val"] == [20, 30]  # floor(0/20)..ceil(400/20), 20..50
    assert [c for _, c, _ in summary.errors] == ["s2_a"]
    # the real video never shows the left hand
    assert summary.frames_without_part.loc["left_hand", "val"] == 1.0
    clip = source.load(pick_clip(source, "val", "s1_b"))
    pose = np.load(MEDIAPIPE / "test_video" / "pose.npy").astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(MEDIAPIPE_150.segment("pose").points(clip.frames), pose[20:50, :, :2])


def test_swapped_hands_are_found_and_a_clean_clip_has_none(how2sign):
    clip = how2sign.load(pick_clip(how2sign, "val", 0))
    assert len(hand_swap_frames(clip.layout, clip.frames)) == 0
    swapped = clip.frames.copy()
    left, right = clip.layout.segment("left_hand"), clip.layout.segment("right_hand")
    swapped[:, left.start:left.stop], swapped[:, right.start:right.stop] = (
        clip.frames[:, right.start:right.stop], clip.frames[:, left.start:left.stop])
    assert len(hand_swap_frames(clip.layout, swapped)) == len(clip.frames)


def test_grid_indices_spread_frames_and_reject_missing_ones():
    assert grid_indices(102, 8) == [0, 14, 29, 43, 58, 72, 87, 101]
    assert grid_indices(3, 8) == [0, 1, 2]
    assert grid_indices(10, [0, -1]) == [0, 9]
    with pytest.raises(ValueError, match=r"frames \[10\] are outside a clip of 10 frames"):
        grid_indices(10, [0, 10])


def test_viewer_is_only_built_for_a_person(monkeypatch):
    assert want_viewer(True) is True and want_viewer("false") is False
    monkeypatch.delenv("SLT_NB_BATCH", raising=False)
    assert want_viewer("auto") is False  # plain python under pytest: no kernel, no frontend
    monkeypatch.setenv("SLT_NB_BATCH", "1")
    assert want_viewer("auto") is False
    with pytest.raises(ValueError, match="interactive must be True, False or 'auto'"):
        want_viewer("sometimes")


def test_unknown_paths_say_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an export manifest, export folder or WLASL pose folder"):
        open_source(str(tmp_path / "nothing-here"))
    with pytest.raises(ValueError, match=r"no \*\.manifest\.json.*no index\.csv"):
        open_source(str(tmp_path))


@pytest.mark.slow
def test_inspect_notebook_runs_headless_on_wlasl_poses(wlasl_dir, tmp_path):
    """papermill, as the runner does: every cell runs, the viewer is skipped, the figures are drawn."""
    import nbformat

    from slt_nb.runner import Run, run_notebook

    result = run_notebook(Run("notebooks/inspect.ipynb", str(tmp_path / "wlasl.ipynb"),
                              {"dataset": str(wlasl_dir), "split": "train", "clip": 1, "frames": 4}),
                          html_report=False)
    assert result.status == "ok", result.error
    # every split is summarised whichever is shown, and the key result says how many clips each gave
    assert result.key_result.startswith("3 clips (train 2, val 1), "), result.key_result
    nb = nbformat.read(result.output, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert "viewer skipped" in text and "train/00001: " in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 5  # lengths, missing, grid, wrists, memory
