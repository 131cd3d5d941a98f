"""Skeleton plots on real pose data: one line per limb whose two points were detected."""
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402
import pytest  # noqa: E402

from slt_nb.layouts import (BODY_25, MEDIAPIPE_150, MEDIAPIPE_HAND_21, MEDIAPIPE_POSE_33,  # noqa: E402
                            OPENPOSE_134, OPENPOSE_274, OPENPOSE_FACE_70, OPENPOSE_HAND_21, FeatureLayout,
                            limb_part)
from slt_nb.formats.openpose import read_openpose_clip_with_face  # noqa: E402
from slt_nb.plotting import (FINGER_COLOURS, SEGMENT_COLOURS, draw_frame, frame_figure,  # noqa: E402
                             missing_rate_chart, point_bounds, point_tracks, skeleton_grid, trajectory_plot,
                             upper_body)

REPO = Path(__file__).resolve().parents[2]
OPENPOSE_JSON = REPO / "data/realdata/openpose_poseformat_sample/json"
MEDIAPIPE = REPO / "data/realdata/mediapipe_npy"


def lines_by_part(ax) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in ax.get_lines():
        if line.get_gid():
            counts[line.get_gid()] = counts.get(line.get_gid(), 0) + 1
    return counts


def limbs_with_both_ends(skeleton, xyc: np.ndarray) -> int:
    """Expected limb count from the raw file: a point is detected when OpenPose gave it a confidence."""
    seen = xyc[:, 2] > 0
    return sum(1 for a, b in skeleton.limbs if seen[a] and seen[b])


def mediapipe_rows(folder: Path) -> np.ndarray:
    """MEDIAPIPE_150 rows from one of the real MediaPipe Holistic npy folders (NaN = not detected)."""
    parts = []
    for name in ("pose", "left_hand", "right_hand"):
        xy = np.load(folder / f"{name}.npy")[:, :, :2].copy()
        xy[np.isnan(xy).any(axis=-1)] = 0
        parts.append(xy.reshape(len(xy), -1))
    return np.concatenate(parts, axis=1)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_openpose_frame_draws_one_line_per_detected_limb_of_body_hands_and_face():
    path = OPENPOSE_JSON / "video_000000000000_keypoints.json"
    person = orjson.loads(path.read_bytes())["people"][0]
    expected = {
        "body": limbs_with_both_ends(BODY_25, np.reshape(person["pose_keypoints_2d"], (-1, 3))),
        "left_hand": limbs_with_both_ends(OPENPOSE_HAND_21, np.reshape(person["hand_left_keypoints_2d"], (-1, 3))),
        "right_hand": limbs_with_both_ends(OPENPOSE_HAND_21, np.reshape(person["hand_right_keypoints_2d"], (-1, 3))),
        "face": limbs_with_both_ends(OPENPOSE_FACE_70, np.reshape(person["face_keypoints_2d"], (-1, 3))),
    }
    rows, _, files = read_openpose_clip_with_face(str(OPENPOSE_JSON))
    assert files.paths[0].endswith(path.name)
    _, ax = plt.subplots()
    drawn = draw_frame(ax, OPENPOSE_274, rows[0], frame_size=(1280, 720))
    counts = lines_by_part(ax)
    assert {k: counts.get(k, 0) for k in expected} == expected
    assert drawn == sum(expected.values())
    # this signer's upper body and both hands are visible: most limbs are there, not a degenerate 0 = 0
    assert expected["left_hand"] == expected["right_hand"] == len(OPENPOSE_HAND_21.limbs)
    assert expected["face"] > 60


def test_mediapipe_pose_and_both_hands_draw_every_limb_and_join_the_wrists():
    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")  # every part detected in all 9 frames
    _, ax = plt.subplots()
    draw_frame(ax, MEDIAPIPE_150, rows[4], frame_size=(1280, 720))
    counts = lines_by_part(ax)
    assert counts == {
        "pose": len(MEDIAPIPE_POSE_33.limbs),  # 35
        "left_hand": len(MEDIAPIPE_HAND_21.limbs),  # 23, palm edges included
        "right_hand": len(MEDIAPIPE_HAND_21.limbs),
        "left_hand_wrist_join": 1,
        "right_hand_wrist_join": 1,
    }


def test_hand_never_detected_draws_nothing_and_is_not_in_the_legend():
    rows = mediapipe_rows(MEDIAPIPE / "test_video")  # left hand never seen, right hand in 20 frames
    frame = int(np.flatnonzero(rows[:, MEDIAPIPE_150.segment("right_hand").start] != 0)[0])
    _, ax = plt.subplots()
    draw_frame(ax, MEDIAPIPE_150, rows[frame])
    counts = lines_by_part(ax)
    assert "left_hand" not in counts and "left_hand_wrist_join" not in counts
    assert counts["right_hand"] == len(MEDIAPIPE_HAND_21.limbs)
    labels = ax.get_legend_handles_labels()[1]
    assert "right hand" in labels and "left hand" not in labels


def hand_lines(ax, layout, row, hand):
    """{limb: Line2D} of one hand, found by the two points each line joins."""
    seg = layout.segment(hand)
    pts = seg.points(row)
    out = {}
    for line in ax.get_lines():
        if line.get_gid() != hand:
            continue
        xy = np.column_stack(line.get_data())
        for a, b in seg.skeleton.limbs:
            if np.allclose(xy, pts[[a, b]]):
                out[(a, b)] = line
    return out


def test_fingers_have_a_colour_each_the_same_on_both_hands_and_the_hands_differ_in_style():
    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")  # both hands fully detected
    _, ax = plt.subplots()
    draw_frame(ax, MEDIAPIPE_150, rows[0])
    colours = {}
    for hand in ("left_hand", "right_hand"):
        lines = hand_lines(ax, MEDIAPIPE_150, rows[0], hand)
        assert len(lines) == len(MEDIAPIPE_HAND_21.limbs)
        colours[hand] = {limb: line.get_color() for limb, line in lines.items()}
        styles = {line.get_linestyle() for line in lines.values()}
        assert styles == ({"-"} if hand == "left_hand" else {"--"})
    assert colours["left_hand"] == colours["right_hand"]
    thumb, index, palm_edge = (1, 2), (6, 7), (5, 9)  # thumb_cmc-mcp, index pip-dip, index-middle knuckles
    assert colours["left_hand"][thumb] == FINGER_COLOURS["thumb"]
    assert colours["left_hand"][index] == FINGER_COLOURS["index"]
    assert colours["left_hand"][palm_edge] == colours["left_hand"][(0, 17)] == FINGER_COLOURS["palm"]
    assert len(set(colours["left_hand"].values())) == 6  # five fingers and the palm
    assert FINGER_COLOURS["palm"] != SEGMENT_COLOURS["pose"]
    # the dots: filled on the left hand, open (white inside) on the right
    dots = {c.get_label(): c for c in ax.collections}
    assert np.allclose(dots["right hand"].get_facecolors()[:, :3], 1.0)
    assert not np.allclose(dots["left hand"].get_facecolors()[:, :3], 1.0)


def test_every_finger_has_its_limbs():
    fingers = [limb_part(OPENPOSE_HAND_21, limb) for limb in OPENPOSE_HAND_21.limbs]
    assert {f: fingers.count(f) for f in set(fingers)} == {"thumb": 4, "index": 3, "middle": 3, "ring": 3,
                                                           "pinky": 3, "palm": 4}
    assert [limb_part(MEDIAPIPE_HAND_21, limb) for limb in ((5, 9), (9, 13), (13, 17))] == ["palm"] * 3
    assert limb_part(BODY_25, (1, 8)) is None


def test_grid_legend_names_the_parts_and_fingers_and_sits_below_every_panel():
    rows, _, _, confidence = read_openpose_clip_with_face(str(OPENPOSE_JSON), with_confidence=True)
    fig = skeleton_grid(OPENPOSE_274, rows, cols=3, frame_size=(1280, 720), legs=False, confidence=confidence)
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts[:4] == ["body", "left hand: solid, filled", "right hand: dashed, open", "face"]
    assert texts[4:] == ["thumb", "index", "middle", "ring", "little", "palm"]
    assert any("fingers" in legend.get_title().get_text() for legend in fig.legends)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lowest_panel = min(ax.get_window_extent(renderer).y0 for ax in fig.axes)
    assert max(legend.get_window_extent(renderer).y1 for legend in fig.legends) < lowest_panel


def test_image_coordinates_put_the_nose_above_the_neck():
    rows, _, _ = read_openpose_clip_with_face(str(OPENPOSE_JSON))
    fig, ax = plt.subplots()
    draw_frame(ax, OPENPOSE_134, rows[0][:134])
    assert ax.yaxis_inverted()
    body = OPENPOSE_134.segment("body").points(rows[0])
    nose, neck = body[BODY_25.index("nose")], body[BODY_25.index("neck")]
    assert 0 < nose[1] < neck[1]  # in the data, y grows downwards
    fig.canvas.draw()
    screen_nose, screen_neck = ax.transData.transform([nose, neck])
    assert screen_nose[1] > screen_neck[1]  # on screen the nose is above


def test_exported_rows_decode_through_the_manifest_layout(tmp_path):
    """A 1024-wide row, as written to .pami0, draws exactly like the 134-wide row it came from."""
    manifest_layout = OPENPOSE_134.to_manifest(1024)
    layout = FeatureLayout.from_manifest(manifest_layout)
    rows, _, _ = read_openpose_clip_with_face(str(OPENPOSE_JSON))
    padded = np.zeros((len(rows), 1024), dtype=np.float32)
    padded[:, :134] = rows[:, :134]
    _, (ax_raw, ax_exported) = plt.subplots(1, 2)
    draw_frame(ax_raw, OPENPOSE_134, rows[3][:134])
    draw_frame(ax_exported, layout, padded[3])
    assert lines_by_part(ax_raw) == lines_by_part(ax_exported)
    assert sum(lines_by_part(ax_exported).values()) > 30


def test_skeleton_grid_draws_the_frames_asked_for_on_one_scale():
    rows = mediapipe_rows(MEDIAPIPE / "test_video")
    fig = skeleton_grid(MEDIAPIPE_150, rows, indices=[0, 10, 20, 30, 40, 57], cols=4)
    titled = [ax for ax in fig.axes if ax.get_title().startswith("frame")]
    assert [ax.get_title() for ax in titled] == [f"frame {i}" for i in (0, 10, 20, 30, 40, 57)]
    assert len({ax.get_xlim() for ax in titled}) == 1
    assert all(lines_by_part(ax)["pose"] == len(MEDIAPIPE_POSE_33.limbs) for ax in titled)


def test_wrist_trajectories_follow_the_data_with_gaps_where_undetected():
    rows = mediapipe_rows(MEDIAPIPE / "test_video")
    tracks = point_tracks(MEDIAPIPE_150, rows)
    pose = MEDIAPIPE_150.segment("pose").points(rows)
    np.testing.assert_allclose(tracks["left wrist (pose)"], pose[:, MEDIAPIPE_POSE_33.index("left_wrist")])
    assert np.isnan(tracks["left wrist (left hand)"]).all()
    right = tracks["right wrist (right hand)"]
    assert np.isfinite(right).all(axis=1).sum() == 20  # meta.json: right hand in 20 of 58 frames
    fig = trajectory_plot(MEDIAPIPE_150, rows, fps=29.92)
    ax_x, ax_y = fig.axes
    assert ax_y.yaxis_inverted()
    assert len(ax_x.get_lines()) == 4
    assert any("never detected" in t.get_text() for t in ax_x.get_legend().get_texts())


def test_missing_rate_chart_has_one_bar_per_point_coloured_by_part():
    import pandas as pd

    by_part = pd.DataFrame({"train": {"pose": 0.0, "left_hand": 1.0, "right_hand": 0.6}})
    by_point = pd.DataFrame([{"part": s.name, "point": p, "rate": 0.5}
                             for s in MEDIAPIPE_150.segments for p in s.skeleton.points])
    fig = missing_rate_chart(by_part, by_point)
    bars = fig.axes[1].patches
    assert len(bars) == 33 + 21 + 21
    assert bars[40].get_facecolor() != bars[60].get_facecolor()
    assert [round(p.get_height()) for p in fig.axes[0].patches] == [0, 100, 60]


def test_animation_plays_the_clip_at_its_rate_without_legs():
    from PIL import Image

    from slt_nb.plotting import skeleton_animation, upper_body

    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")
    pose = MEDIAPIPE_150.segment("pose")
    knee = pose.start + 2 * MEDIAPIPE_POSE_33.index("left_knee")
    wrist = pose.start + 2 * MEDIAPIPE_POSE_33.index("left_wrist")
    kept = upper_body(MEDIAPIPE_150, rows)
    assert np.all(kept[:, knee:knee + 2] == 0) and np.array_equal(kept[:, wrist:wrist + 2], rows[:, wrist:wrist + 2])
    gif = skeleton_animation(MEDIAPIPE_150, rows, fps=24.0, title="sample")
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.n_frames == len(rows)  # 9 frames: every one shown
    assert abs(image.info["duration"] - 1000 / 24) <= 2  # real time


def body_panels(fig):
    return [ax for ax in fig.axes if ax.get_title().startswith("frame")]


def closeups(fig, hand):
    return [ax for ax in fig.axes if ax.get_gid() == f"closeup:{hand}"]


def test_low_confidence_points_and_their_limbs_are_not_drawn():
    """Frame 4 of the real OpenPose sample has ten right-hand points OpenPose was less than 0.2 sure of."""
    path = OPENPOSE_JSON / "video_000000000004_keypoints.json"
    person = orjson.loads(path.read_bytes())["people"][0]
    right = np.reshape(person["hand_right_keypoints_2d"], (-1, 3))
    low = np.flatnonzero((right[:, 2] > 0) & (right[:, 2] < 0.2))
    assert len(low) == 10
    rows, _, files, confidence = read_openpose_clip_with_face(str(OPENPOSE_JSON), with_confidence=True)
    assert files.paths[4].endswith(path.name)
    np.testing.assert_allclose(confidence[4, 25 + 21: 25 + 42], right[:, 2], rtol=1e-6)  # read as in the file
    _, ax = plt.subplots()
    draw_frame(ax, OPENPOSE_274, rows[4], frame_size=(1280, 720), confidence=confidence[4])
    kept = right.copy()
    kept[low, 2] = 0
    assert lines_by_part(ax)["right_hand"] == limbs_with_both_ends(OPENPOSE_HAND_21, kept) < len(OPENPOSE_HAND_21.limbs)
    drawn = np.concatenate([np.column_stack(line.get_data()) for line in ax.get_lines()]
                           + [c.get_offsets() for c in ax.collections])
    hand = OPENPOSE_274.segment("right_hand").points(rows[4])
    for i in low:
        assert not np.any(np.all(np.isclose(drawn, hand[i]), axis=1)), f"right hand point {i} drawn"
    for i in np.setdiff1d(np.arange(21), low):
        assert np.any(np.all(np.isclose(drawn, hand[i]), axis=1)), f"right hand point {i} missing"
    # without the confidence every point is there, and the grid says what the threshold left out
    _, ax_all = plt.subplots()
    draw_frame(ax_all, OPENPOSE_274, rows[4], frame_size=(1280, 720))
    assert lines_by_part(ax_all)["right_hand"] == len(OPENPOSE_HAND_21.limbs)
    fig = skeleton_grid(OPENPOSE_274, rows, indices=[4], cols=1, frame_size=(1280, 720), confidence=confidence,
                        min_confidence=0.2)
    assert "confidence below 0.2 not drawn (10 of 124 detected points here)" in fig._suptitle.get_text()


def test_hand_closeups_crop_to_the_hand_at_a_larger_scale_than_the_body():
    rows, _, _ = read_openpose_clip_with_face(str(OPENPOSE_JSON))  # 1280x720, both hands in every frame
    fig = skeleton_grid(OPENPOSE_274, rows, indices=[2, 6], cols=2, frame_size=(1280, 720))
    body = body_panels(fig)
    fig.canvas.draw()
    for k, frame in enumerate((2, 6)):
        for hand in ("left_hand", "right_hand"):
            ax = closeups(fig, hand)[k]
            pts = OPENPOSE_274.segment(hand).points(rows[frame])
            (x0, x1), (y1, y0) = ax.get_xlim(), ax.get_ylim()  # y inverted: image coordinates
            assert x0 < pts[:, 0].min() and pts[:, 0].max() < x1 and y0 < pts[:, 1].min() and pts[:, 1].max() < y1
            assert (x1 - x0) < 0.3 * np.ptp(body[k].get_xlim())
            box = ax.get_window_extent()
            assert abs(box.width / box.height - 1) < 0.05  # square in the picture
            # 1280 wide and 720 high: a pixel is as wide as it is high, so the hand is not stretched
            assert abs((x1 - x0) * 1280 - (y1 - y0) * 720) < 1e-3 * (x1 - x0) * 1280
            # drawn at a larger scale than in the body panel (1.6 to 1.8 times here)
            assert box.width / (x1 - x0) > 1.5 * body[k].get_window_extent().width / np.ptp(body[k].get_xlim())
            assert lines_by_part(ax) == {hand: len(OPENPOSE_HAND_21.limbs)}


def test_a_hand_closeup_says_not_detected_when_the_hand_is_not_there():
    rows = mediapipe_rows(MEDIAPIPE / "test_video")  # left hand never seen, right hand in 20 frames
    seen = np.flatnonzero(rows[:, MEDIAPIPE_150.segment("right_hand").start] != 0)
    unseen = np.setdiff1d(np.arange(len(rows)), seen)
    fig = skeleton_grid(MEDIAPIPE_150, rows, indices=[int(seen[5]), int(unseen[0])], cols=2, frame_size=(540, 720))
    right, left = closeups(fig, "right_hand"), closeups(fig, "left_hand")
    assert len(body_panels(fig)) == len(right) == len(left) == 2
    for ax in (left[0], left[1], right[1]):
        assert [t.get_text() for t in ax.texts] == ["not detected"] and not ax.get_lines()
    assert not right[0].texts and lines_by_part(right[0]) == {"right_hand": len(MEDIAPIPE_HAND_21.limbs)}


def test_frame_figure_has_the_frame_first_then_both_hands_and_the_legend_below():
    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")
    fig = frame_figure(MEDIAPIPE_150, rows[4], title="sample", frame_size=(1280, 720), size=(5.5, 4.2))
    assert fig.axes[0].get_title() == "sample"
    assert [ax.get_gid() for ax in fig.axes[1:]] == ["closeup:right_hand", "closeup:left_hand"]
    fig.canvas.draw()
    legend_top = max(legend.get_window_extent().y1 for legend in fig.legends)
    assert legend_top < min(ax.get_window_extent().y0 for ax in fig.axes)
    assert max(legend.get_window_extent().x1 for legend in fig.legends) <= fig.bbox.width  # nothing cut off


def demo_clips():
    from slt_nb.inspection.sources import open_source, pick_clip

    for dataset, split in (("How2Sign", "train"), ("LSFB-CONT", "train"), ("PoseFormat", "train"),
                           ("PoseFormat", "val"), ("PoseFormat", "test")):
        source = open_source(dataset)
        yield dataset, source.load(pick_clip(source, split, 0))


def panel_ratios(fig) -> list[float]:
    fig.canvas.draw()
    return [ax.get_window_extent().height / ax.get_window_extent().width for ax in body_panels(fig)]


def test_every_demo_corpus_grid_frames_the_signer_in_panels_of_sane_aspect():
    from slt_nb.inspection.viewer import grid_indices

    for dataset, clip in demo_clips():
        # legs drawn too (MediaPipe guesses them far below the picture): they must not stretch the view
        legs = skeleton_grid(clip.layout, clip.frames, grid_indices(len(clip.frames), 4), cols=4,
                             frame_size=clip.frame_size)
        assert all(0.5 <= r <= 1.7 for r in panel_ratios(legs)), (dataset, clip.name, panel_ratios(legs))
        plt.close(legs)
        fig = skeleton_grid(clip.layout, clip.frames, grid_indices(len(clip.frames), 8), cols=4, legs=False,
                            frame_size=clip.frame_size, confidence=clip.confidence)
        ratios = panel_ratios(fig)
        assert len(ratios) == 8 and all(0.5 <= r <= 1.7 for r in ratios), (dataset, clip.name, ratios)
        # the shoulders and the nose of every frame are in view
        body = clip.layout.segments[0]
        names = body.skeleton.points
        ax = body_panels(fig)[0]
        (x0, x1), (y1, y0) = ax.get_xlim(), ax.get_ylim()
        pts = body.points(clip.frames)[:, [names.index("nose"), names.index("left_shoulder"),
                                           names.index("right_shoulder")]].reshape(-1, 2)
        pts = pts[pts.any(axis=1)]
        assert np.all((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)), dataset
        plt.close(fig)


def test_poseformat_clips_are_drawn_at_their_own_frame_size_with_their_confidence():
    clips = dict((clip.name, clip) for _, clip in demo_clips())
    assert clips["pose_viewer_example"].frame_size == (320, 240)  # the file's header, not params' 640x360
    assert clips["84322c38"].frame_size == (640, 360)
    for name in ("84322c38", "pose_viewer_example", "-fZc293MpJk_4-1-rgb_front"):
        clip = clips[name]
        assert clip.confidence is not None and clip.confidence.shape == (len(clip.frames), clip.layout.width // 2)
    assert clips["CLSFBI0103A_S001_B_0"].confidence is None  # LSFB-CONT's x,y,z arrays carry none


def test_shoulder_units_are_framed_around_the_signer_not_cut_to_the_unit_square():
    """The export's `shoulders` normalisation: origin between the shoulders, one shoulder width a unit."""
    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")
    pose = MEDIAPIPE_150.segment("pose").points(rows)
    left, right = pose[:, MEDIAPIPE_POSE_33.index("left_shoulder")], pose[:, MEDIAPIPE_POSE_33.index("right_shoulder")]
    centre = (left + right) / 2
    width = np.linalg.norm((left - right) * [1280, 720], axis=1) / 1280
    xy = rows.reshape(len(rows), -1, 2)
    units = np.where(xy.any(axis=2, keepdims=True), (xy - centre[:, None]) / width[:, None, None], 0)
    units = upper_body(MEDIAPIPE_150, units.reshape(len(rows), -1))  # as the export's round-trip grid draws them
    (x0, x1), (y0, y1) = point_bounds(units)
    assert x0 < units[:, 2 * MEDIAPIPE_POSE_33.index("right_shoulder")].min() < 0  # image left of the origin
    assert y0 < units[:, 2 * MEDIAPIPE_POSE_33.index("nose") + 1].min() < 0  # the face above it
    fig = skeleton_grid(MEDIAPIPE_150, units, cols=3, legs=False)
    assert all(0.5 <= r <= 1.7 for r in panel_ratios(fig))
