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


def built_once(tmp_path_factory, name: str, build) -> tuple:
    """(folder, what build(folder) returned): a read-only product made once for the whole run.

    Under pytest-xdist every worker is a process of its own, so a session fixture alone would
    build the product once per worker. The first worker to ask builds it in the run's shared temp
    folder under a file lock; the others wait for it and read it there. build's return value must
    be JSON (it is stored beside the product); a build that fails leaves nothing behind, so the
    next test to ask builds it again and fails the same way. Tests must not change the product:
    copy it to tmp_path first.
    """
    import fcntl
    import json
    import os
    import shutil

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # .../pytest-N/popen-gwK -> .../pytest-N, shared by this run's workers
    folder, done = root / f"built-{name}", root / f"built-{name}.json"
    with open(root / f"built-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                result = build(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            done.write_text(json.dumps(result))
        return folder, json.loads(done.read_text())


@pytest.fixture(scope="session")
def readme_extract_poses(tmp_path_factory):
    """(folder, run): the README's `slt-nb extract poses ...` run once as written, a process of its own.

    Its poses, report and run index are in folder (poses/, extract.ipynb, index.json); run holds
    the command, its exit status and its console (stdout, stderr). test_quiet reads the console
    (a MediaPipe notebook run by slt-nb), test_readme_commands trains on the poses: the one
    MediaPipe run serves both.
    """
    import subprocess
    import sys

    from readme import one_command, slt_nb_argv

    def build(folder):
        command = one_command(".venv/bin/slt-nb extract ")
        argv = slt_nb_argv(command, folder) + ["-p", "output_dir", str(folder / "poses"),  # fresh: real work
                                               "-o", str(folder / "extract.ipynb"), "--index", str(folder / "index.html")]
        done = subprocess.run([sys.executable, "-m", "slt_nb", *argv], cwd=REPO, capture_output=True, timeout=600)
        return {"command": command, "returncode": done.returncode, "stdout": done.stdout.decode(),
                "stderr": done.stderr.decode()}

    return built_once(tmp_path_factory, "readme-extract-poses", build)
