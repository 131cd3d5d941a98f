"""The live viewer without a frontend (ipywidgets models only): failing clips, splits, the redraw."""
import io
import shutil

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from slt_nb.inspection import ClipViewer, open_source  # noqa: E402
from slt_nb.inspection.viewer import play_interval, rate_text  # noqa: E402
from slt_nb.params import resolve  # noqa: E402

BROKEN = "-fZc293MpJk_7-1-rgb_front"  # demo val clip whose frame 17 JSON is cut off mid-file
GOOD = "_2FBDaOPYig_1-5-rgb_front"


@pytest.fixture(scope="module")
def how2sign():
    return open_source("How2Sign", with_face=True)


def pixels(png) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"))


def shows_a_picture(viewer) -> bool:
    return bytes(viewer.image.value).startswith(b"\x89PNG") and viewer.image.layout.visibility != "hidden"


def is_blank(viewer) -> bool:
    return (bytes(viewer.image.value) == b"" and viewer.image.layout.visibility == "hidden"
            and viewer.slider.disabled and viewer.play.disabled and viewer.clip is None)


def test_a_clip_that_cannot_be_read_clears_the_picture_and_names_the_reason(how2sign):
    viewer = ClipViewer(how2sign, "val")
    viewer.slider.value = 5
    assert shows_a_picture(viewer) and viewer.slider.max > 0
    viewer.picker.value = BROKEN  # as a person picks it
    assert is_blank(viewer)  # not the previous clip's skeleton
    assert viewer.slider.max == 0 and viewer.slider.value == 0
    status = viewer.status.value
    assert f"{BROKEN}: cannot read:" in status
    assert "000000000017_keypoints.json: unparsable JSON" in status
    assert viewer.rate.value == ""


def test_picking_a_good_clip_after_a_failure_restores_the_viewer(how2sign):
    viewer = ClipViewer(how2sign, "val")
    viewer.picker.value = BROKEN
    assert is_blank(viewer)
    viewer.picker.value = GOOD
    frames = len(how2sign.load(next(r for r in how2sign.clips("val") if r.name == GOOD)).frames)
    assert shows_a_picture(viewer)
    assert viewer.clip.name == GOOD and not viewer.slider.disabled and not viewer.play.disabled
    assert viewer.slider.max == viewer.play.max == frames - 1
    assert viewer.status.value.startswith(f"frame 0 of {frames}, 0.00 s")
    assert "cannot read" not in viewer.status.value
    viewer.slider.value = 3
    assert viewer.status.value.startswith(f"frame 3 of {frames}")


def test_the_split_selector_offers_the_sources_splits_and_switching_lists_the_other_splits_clips(how2sign):
    viewer = ClipViewer(how2sign, "val")
    assert list(viewer.split_picker.options) == how2sign.splits() == ["train", "val", "test"]
    assert viewer.widget.children[0].children[0] is viewer.split_picker  # before the clip picker
    assert viewer.widget.children[0].children[1] is viewer.picker
    val_png = bytes(viewer.image.value)
    viewer.split_picker.value = "test"
    test_clips = [r.name for r in how2sign.clips("test")]
    assert list(viewer.picker.options) == test_clips and viewer.picker.value == test_clips[0]
    assert viewer.split == "test" and viewer.clip.split == "test" and viewer.clip.name == test_clips[0]
    assert shows_a_picture(viewer) and bytes(viewer.image.value) != val_png
    assert viewer.title(0) == f"test/{test_clips[0]}  frame 0"
    assert viewer.status.value.startswith(f"frame 0 of {len(viewer.clip.frames)}")


def test_a_split_without_clips_says_so_instead_of_raising(tmp_path):
    tree = tmp_path / "How2Sign"
    shutil.copytree(resolve("data/demo/How2Sign"), tree)
    csv = tree / "how2sign_realigned_test.csv"
    csv.write_text(csv.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")  # the header only
    source = open_source("How2Sign", data_root=str(tree), with_face=True)
    viewer = ClipViewer(source, "test")
    assert is_blank(viewer) and list(viewer.picker.options) == []
    assert "split &#x27;test&#x27; lists no clips" in viewer.status.value
    viewer.split_picker.value = "val"
    assert shows_a_picture(viewer) and viewer.clip.split == "val"
    viewer.split_picker.value = "test"
    assert is_blank(viewer) and "lists no clips" in viewer.status.value


def test_a_split_the_source_does_not_have_is_offered_and_says_why_it_shows_nothing(how2sign):
    viewer = ClipViewer(how2sign, "dev")
    assert "dev" in viewer.split_picker.options and is_blank(viewer)
    assert "split &#x27;dev&#x27;: cannot list its clips: How2Sign split &#x27;dev&#x27; not found" in viewer.status.value


@pytest.mark.parametrize("dataset, split, clip, frames", [
    ("How2Sign", "val", "_2FBDaOPYig_1-3-rgb_front", [0, 10, 57, -1]),
    ("How2Sign", "train", "-g0iPSnQt6w_2-1-rgb_front", [4, 5, 6, 7]),  # frames 5 and 6: nobody detected
    ("LSFB-CONT", "val", "CLSFBI0209A_S004_B_0", [0, 30, -1]),
])
def test_a_drawn_frame_changes_with_the_frame_and_is_the_picture_a_fresh_figure_gives(dataset, split, clip, frames):
    source = open_source(dataset, with_face=True)
    ref = next(r for r in source.clips(split) if r.name == clip)
    viewer = ClipViewer(source, split, ref)
    drawn = {}
    for i in frames:
        i %= len(viewer.clip.frames)
        viewer.slider.value = i
        drawn[i] = bytes(viewer.image.value)
        fresh = pixels(viewer.renderer.fresh_png(i, viewer.title(i)))  # frame_figure + figure_png, as before
        assert pixels(drawn[i]).shape == fresh.shape
        assert np.array_equal(pixels(drawn[i]), fresh), f"{clip} frame {i} is not drawn as frame_figure draws it"
    shown = [pixels(png) for png in drawn.values()]
    assert all(not np.array_equal(a, b) for k, a in enumerate(shown) for b in shown[k + 1:])
    assert viewer.renderer.plain_frames == 0  # every frame took the kept-figure path
    assert viewer.renderer.fast_frames >= len(frames)


def test_parts_coming_and_going_get_their_own_kept_figure(how2sign):
    ref = next(r for r in how2sign.clips("train") if r.name == "-g0iPSnQt6w_2-1-rgb_front")
    viewer = ClipViewer(how2sign, "train", ref)
    for i in (4, 5, 6, 7, 4):
        viewer.slider.value = i
    assert len(viewer.renderer._templates) == 2  # everyone, and nobody (frames 5 and 6)


def test_play_is_set_no_faster_than_frames_are_drawn():
    assert play_interval(24, 0.010) == 42  # fast enough: the clip's own rate
    assert play_interval(50, 0.010) == 20
    assert play_interval(50, 0.030) == 35  # 30 ms a frame, with slack for the browser
    assert play_interval(None, 0.001) == 42
    assert rate_text(24, 42, 0.010) == "plays at 24 fps, the clip's rate (a frame draws in 10 ms)"
    assert rate_text(50, 35, 0.030) == "plays at 29 fps, slower than the clip's 50: a frame takes 30 ms to draw"


def test_the_viewer_states_the_rate_it_plays_at(how2sign):
    viewer = ClipViewer(how2sign, "val")
    assert viewer.draw_seconds is not None and viewer.draw_seconds > 0
    assert viewer.play.interval >= play_interval(24, 0) and viewer.play.interval >= viewer.draw_seconds * 1000
    assert "plays at" in viewer.rate.value and viewer.play.tooltip.startswith("plays at")
