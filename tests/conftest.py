from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "data" / "realdata"
DEMO = REPO / "data" / "demo"


@pytest.fixture
def real_how2sign_frame():
    return REAL / "how2sign_openpose_frames" / "val" / "_2FBDaOPYig_1-3-rgb_front_000000000000_keypoints.json"


@pytest.fixture
def real_openpose_sequence():
    return REAL / "openpose_poseformat_sample" / "json"


@pytest.fixture
def one_torch_thread():
    """torch on one intra-op thread: on a shared 2-core machine two threads fight other processes (8x slower steps)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
