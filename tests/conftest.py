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
