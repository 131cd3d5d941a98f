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
                            OPENPOSE_134, OPENPOSE_274, OPENPOSE_FACE_70, OPENPOSE_HAND_21, FeatureLayout)
from slt_nb.formats.openpose import read_openpose_clip_with_face  # noqa: E402
from slt_nb.plotting import (SEGMENT_COLOURS, draw_frame, missing_rate_chart, point_tracks,  # noqa: E402
                             skeleton_grid, trajectory_plot)

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


def test_left_and_right_hands_have_distinct_colours():
    rows = mediapipe_rows(MEDIAPIPE / "poseformat_sample_video")
    _, ax = plt.subplots()
    draw_frame(ax, MEDIAPIPE_150, rows[0])
    colour = {line.get_gid(): line.get_color() for line in ax.get_lines()}
    assert colour["left_hand"] == SEGMENT_COLOURS["left_hand"]
    assert colour["right_hand"] == SEGMENT_COLOURS["right_hand"]
    assert colour["left_hand"] != colour["right_hand"] != colour["pose"]


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
    titled = [ax for ax in fig.axes if ax.get_title()]
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
