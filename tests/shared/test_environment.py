"""environment.yml must mirror requirements.txt, and the running environment must match both."""
import re
from importlib.metadata import version

import yaml

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_mirrors_requirements():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == req
    assert "python=3.11" in env["dependencies"]


def test_installed_versions_match_the_pins():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    wrong = {name: (pin, version(name)) for name, pin in req.items() if not version(name).startswith(pin)}
    assert not wrong, f"installed versions differ from requirements.txt: {wrong}"


def test_torch_is_the_cpu_build_pinned():
    import torch

    assert torch.__version__.startswith("2.13.0")
