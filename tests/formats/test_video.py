"""Frame sampling: the requested frames, exactly, decoding no more than needed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slt_nb.params import REPO_ROOT
from slt_nb.formats.video import VideoError, iter_frames, probe_video, sample_clip, sample_frame_indices, write_video

BITS = 8
BLOCK = 32  # px per bit: big enough to survive H.264 at its default quality


def numbered_frame(i: int, width: int = BITS * BLOCK, height: int = 96) -> np.ndarray:
    """A frame whose top band spells its own index in binary (white = 1), over a moving gradient."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = ((np.arange(width)[None, :, None] + 3 * i) % 128 + 64).astype(np.uint8)
    img[:BLOCK] = 0
    for bit in range(BITS):
        if i >> bit & 1:
            img[:BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = 255
    return img


def read_number(img: np.ndarray) -> int:
    band = img[4:BLOCK - 4].mean(axis=(0, 2))
    return sum(1 << bit for bit in range(BITS) if band[bit * BLOCK + 4:(bit + 1) * BLOCK - 4].mean() > 128)


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory) -> Path:
    # libx264's default preset uses B-frames, so presentation and decode order differ
    path = tmp_path_factory.mktemp("video") / "numbered.mp4"
    return write_video(path, (numbered_frame(i) for i in range(120)), fps=25)


def test_sample_frame_indices_spread_uniformly_with_first_and_last():
    idx = sample_frame_indices(100, 16)
    assert idx.dtype == np.int64 and len(idx) == 16
    assert idx[0] == 0 and idx[-1] == 99
    gaps = np.diff(idx)
    assert gaps.min() >= 6 and gaps.max() <= 7


def test_short_clip_repeats_frames_so_every_sample_has_num_frames_rows():
    idx = sample_frame_indices(5, 16)
    assert len(idx) == 16
    assert set(idx.tolist()) == {0, 1, 2, 3, 4}
    assert np.all(np.diff(idx) >= 0)


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="num_frames"):
        sample_frame_indices(10, 0)
    with pytest.raises(ValueError, match="at least one frame"):
        sample_frame_indices(0, 16)


def test_numbered_video_decodes_to_its_own_indices(numbered_video):
    assert [read_number(f) for _, f in iter_frames(numbered_video)] == list(range(120))


@pytest.mark.parametrize("num_frames", [1, 7, 16, 64, 200])
def test_sampling_returns_exactly_the_requested_frames(numbered_video, num_frames):
    clip = sample_clip(numbered_video, num_frames)
    assert clip.frames.shape == (num_frames, 96, BITS * BLOCK, 3)
    assert clip.clip_frames == 120
    assert np.array_equal(clip.frame_indices, sample_frame_indices(120, num_frames))
    assert [read_number(f) for f in clip.frames] == clip.frame_indices.tolist()


def test_sampling_skips_decoding_frames_nothing_needs(numbered_video):
    clip = sample_clip(numbered_video, 16)
    assert clip.decoded_frames < 120
    full = sample_clip(numbered_video, 16, skip_unneeded=False)
    assert full.decoded_frames == 120
    assert np.array_equal(clip.frames, full.frames)


def test_raw_video_is_cut_by_one_based_inclusive_frame_start_and_end(numbered_video):
    clip = sample_clip(numbered_video, 8, frame_start=11, frame_end=50)
    assert clip.clip_frames == 40
    assert [read_number(f) for f in clip.frames] == (10 + clip.frame_indices).tolist()
    assert clip.frame_indices[-1] == 39


def test_frame_end_past_the_end_is_clamped_and_minus_one_means_to_the_end(numbered_video):
    assert sample_clip(numbered_video, 4, frame_start=101, frame_end=500).clip_frames == 20
    assert sample_clip(numbered_video, 4, frame_start=101, frame_end=-1).clip_frames == 20


def test_frame_start_past_the_end_names_the_file(numbered_video):
    with pytest.raises(VideoError, match=r"numbered\.mp4.*frame_start 300 is past the end"):
        sample_clip(numbered_video, 4, frame_start=300)


def test_real_video_sampled_frames_equal_a_full_decode():
    path = REPO_ROOT / "data/realdata/video_signing/test_video.mp4"
    every = [f for _, f in iter_frames(path)]
    clip = sample_clip(path, 16)
    assert len(every) == clip.clip_frames == 58
    for row, i in enumerate(clip.frame_indices):
        assert np.array_equal(clip.frames[row], every[i])


def test_truncated_download_is_reported_as_truncated():
    path = REPO_ROOT / "data/demo/WLASL/videos/12332.mp4"
    with pytest.raises(VideoError, match=r"12332\.mp4: truncated file: the container declares 58 frames"):
        sample_clip(path, 16)
    with pytest.raises(VideoError, match="truncated"):
        probe_video(path)


def test_a_file_that_is_not_a_video_is_reported(tmp_path):
    bad = tmp_path / "00001.mp4"
    bad.write_bytes(b"<html>404 Not Found</html>" * 20)
    with pytest.raises(VideoError, match=r"00001\.mp4: cannot be opened as a video"):
        sample_clip(bad, 16)
    with pytest.raises(VideoError, match="no such video file"):
        sample_clip(tmp_path / "nothing.mp4", 16)
