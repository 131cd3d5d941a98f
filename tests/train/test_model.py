"""The sign classifier's shapes and masks, and the pose input it is fed (on real MediaPipe clips)."""
import numpy as np
import pytest
import torch

from slt_nb.train.model import ModelConfig, SignClassifier, parameter_count
from slt_nb.testing.sign_task import MEDIAPIPE_NPY_DIR, load_mediapipe_npy_clip, real_clips
from slt_nb.train.data import collate_clips
from slt_nb.train.inputs import POSE_INPUT_DIM, Augmentation, normalise_to_shoulders, pose_frames, pose_points


def _model(input_type="pose", pooling="cls", input_dim=POSE_INPUT_DIM, classes=7):
    torch.manual_seed(0)
    return SignClassifier(ModelConfig(input_type=input_type, pooling=pooling), input_dim, classes).eval()


def _real_pose_batch():
    """Two real clips as model input: 16 and 9 frames."""
    clips = [c for c in real_clips() if c.name in ("test_video", "poseformat_sample_video")]
    items = []
    for clip in clips:
        frames, valid = pose_frames(clip.frames(range(min(16, len(clip)))).arrays(range(min(16, len(clip)))))
        items.append((torch.from_numpy(frames), torch.from_numpy(valid), 0))
    return items


@pytest.mark.parametrize("input_type,shape", [("pose", (POSE_INPUT_DIM,)), ("features", (128,)),
                                              ("video", (3, 32, 32))])
def test_logits_have_one_row_per_clip_and_one_column_per_class(input_type, shape):
    model = _model(input_type, input_dim=shape[0] if input_type != "video" else 0)
    x = torch.rand((3, 12) + shape)
    if input_type == "video":
        x = (x * 255).to(torch.uint8)
    assert model(x).shape == (3, 7)
    assert model(x, torch.zeros(3, 12, dtype=torch.bool)).shape == (3, 7)


def test_defaults_are_the_briefs_small_model():
    cfg = ModelConfig()
    assert (cfg.embed_dim, cfg.num_heads, cfg.num_layers, cfg.ff_dim, cfg.dropout) == (128, 4, 2, 256, 0.1)
    # 2 layers of a 128-wide encoder: roughly 0.3 M parameters, a laptop-sized model
    assert 200_000 < parameter_count(_model()) < 400_000


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_padding_frames_do_not_change_the_output(pooling):
    model = _model(pooling=pooling)
    short, long = _real_pose_batch()[1], _real_pose_batch()[0]
    alone = model(short[0].unsqueeze(0), ~short[1].unsqueeze(0))
    # batched with a longer clip: the short one is padded with 7 zero frames
    x, mask, _ = collate_clips([long, short])
    assert mask[1, 9:].all() and not mask[1, :9].any()
    batched = model(x, mask)[1:]
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)
    # whatever the padded frames hold, the output is the same
    x_garbage = x.clone()
    x_garbage[1, 9:] = torch.randn_like(x_garbage[1, 9:]) * 100
    torch.testing.assert_close(model(x_garbage, mask)[1:], alone, atol=1e-5, rtol=1e-5)
    # and without the mask the padding does change it (so the check above means something)
    assert not torch.allclose(model(x_garbage, torch.zeros_like(mask))[1:], alone, atol=1e-3)


def test_frames_with_nothing_detected_are_masked_like_padding():
    clip = load_mediapipe_npy_clip(MEDIAPIPE_NPY_DIR / "test_video").frames(range(16))
    arrays = clip.arrays(range(16))
    for part in ("pose", "left_hand", "right_hand"):
        arrays[f"{part}_detected"] = arrays[f"{part}_detected"].copy()
        arrays[f"{part}_detected"][[3, 8]] = False
    frames, valid = pose_frames(arrays)
    assert not valid[[3, 8]].any() and valid.sum() == 14
    assert not frames[[3, 8]].any()  # all zeros: points and flags
    model = _model()
    x = torch.from_numpy(frames).unsqueeze(0)
    mask = torch.from_numpy(~valid).unsqueeze(0)
    other = x.clone()
    other[0, [3, 8]] = 5.0
    torch.testing.assert_close(model(x, mask), model(other, mask))


def test_mean_pooling_survives_a_clip_with_every_frame_masked():
    model = _model(pooling="mean")
    out = model(torch.randn(2, 5, POSE_INPUT_DIM), torch.ones(2, 5, dtype=torch.bool))
    assert torch.isfinite(out).all()


def test_a_clip_longer_than_the_positional_table_is_rejected():
    model = SignClassifier(ModelConfig(max_frames=8), POSE_INPUT_DIM, 3)
    with pytest.raises(ValueError, match="longer than max_frames 8"):
        model(torch.randn(1, 9, POSE_INPUT_DIM))


def test_bad_model_settings_are_named():
    with pytest.raises(ValueError, match="input_type"):
        ModelConfig(input_type="audio")
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        ModelConfig(embed_dim=130, num_heads=4)


def test_pose_is_centred_on_the_shoulders_and_scaled_by_shoulder_width():
    clip = load_mediapipe_npy_clip(MEDIAPIPE_NPY_DIR / "test_video")
    points, flags = pose_points(clip.arrays(range(len(clip))))
    norm = normalise_to_shoulders(points, flags)
    shoulders = norm[:, 11:13, :2]
    np.testing.assert_allclose(shoulders.mean(axis=1), 0.0, atol=1e-5)
    width = np.linalg.norm(shoulders[:, 0] - shoulders[:, 1], axis=-1)
    assert abs(np.median(width) - 1.0) < 1e-5
    # the real clip never detects the left hand: its 63 values stay zero and its flag says so
    frames, valid = pose_frames(clip.arrays(range(len(clip))))
    left = frames[:, 99:162]
    assert not left.any() and (frames[:, -2] == 0).all()
    assert (frames[:, -3] == 1).all() and valid.all()
    right_seen = clip.right_hand_detected
    assert right_seen.sum() == 20 and (frames[right_seen, -1] == 1).all() and frames[right_seen, 162:225].any()


def test_augmentation_is_off_by_default_and_moves_points_when_on():
    clip = load_mediapipe_npy_clip(MEDIAPIPE_NPY_DIR / "test_video").frames(range(16))
    arrays = clip.arrays(range(16))
    plain, _ = pose_frames(arrays)
    again, _ = pose_frames(arrays, aug=Augmentation())
    np.testing.assert_array_equal(plain, again)
    aug = Augmentation(enabled=True, frame_drop=0.3)
    moved, valid = pose_frames(arrays, aug=aug, rng=np.random.default_rng(1))
    assert 2 <= len(moved) < 16 and len(valid) == len(moved)
    assert not np.allclose(moved[:, :99], plain[: len(moved), :99])
    assert not moved[:, 99:162].any()  # an undetected hand stays zero under rotation and shift
