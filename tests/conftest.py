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


@pytest.fixture
def fails_instead_of_hanging():
    """A test that would block forever (a FIFO opened for reading) fails after 60 s instead; no timing is asserted."""
    import signal

    def hung(signum, frame):
        raise TimeoutError("still blocked after 60 s: the code under test waits on something that never comes")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)
