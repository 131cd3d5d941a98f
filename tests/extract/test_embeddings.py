"""CNN frame embeddings: fixed-seed network, local weights, shapes."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import REAL
from slt_nb.extract.embeddings import build_frame_embedder, embed_frames, save_weights, weights_fingerprint
from slt_nb.formats.video import sample_clip


@pytest.fixture(scope="module")
def frames():
    return sample_clip(REAL / "video_signing" / "test_video.mp4", 8).frames


def test_embeddings_have_one_row_per_frame_of_embed_dim(frames):
    out = embed_frames(build_frame_embedder(64), frames)
    assert out.shape == (8, 64) and out.dtype == np.float32 and np.isfinite(out).all()
    assert np.abs(out).sum(axis=1).min() > 0


def test_fixed_seed_gives_the_same_network_and_another_seed_another(frames):
    a, b, c = build_frame_embedder(32, seed=0), build_frame_embedder(32, seed=0), build_frame_embedder(32, seed=1)
    assert weights_fingerprint(a) == weights_fingerprint(b) != weights_fingerprint(c)
    assert np.array_equal(embed_frames(a, frames), embed_frames(b, frames))
    assert not np.allclose(embed_frames(a, frames), embed_frames(c, frames))


def test_batch_size_does_not_change_the_embeddings(frames):
    model = build_frame_embedder(32)
    assert np.allclose(embed_frames(model, frames, batch_size=3), embed_frames(model, frames, batch_size=32), atol=1e-5)


def test_local_weights_file_is_loaded(tmp_path, frames):
    trained = build_frame_embedder(32, seed=7)
    path = save_weights(trained, tmp_path / "embedder.pt")
    loaded = build_frame_embedder(32, weights=path)
    assert weights_fingerprint(loaded) == weights_fingerprint(trained)
    assert np.array_equal(embed_frames(loaded, frames), embed_frames(trained, frames))


def test_weights_for_another_embed_dim_are_rejected_naming_the_file(tmp_path):
    path = save_weights(build_frame_embedder(16), tmp_path / "small.pt")
    with pytest.raises(ValueError, match=r"small\.pt: these weights do not fit the frame embedder with embed_dim=128"):
        build_frame_embedder(128, weights=path)
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        build_frame_embedder(128, weights=tmp_path / "absent.pt")
