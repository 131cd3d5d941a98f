"""Run parameters: `params/<name>.yaml` merged with what papermill injected.

Relative paths in a params file are relative to the repository root, so a notebook run from
the repo root (papermill) and one opened in JupyterLab (cwd = notebooks/) see the same files.
"""
from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
PARAMS_DIR = REPO_ROOT / "params"


def load_params(name: str, overrides: dict | None = None, params_dir: str | Path | None = None) -> dict:
    """`params/<name>.yaml`, with every override that is not None applied on top."""
    directory = Path(params_dir) if params_dir else PARAMS_DIR
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise FileNotFoundError(f"{path}: no parameters for {name!r}; known: {known}")
    with open(path, encoding="utf-8") as f:
        params = yaml.safe_load(f) or {}
    for key, value in (overrides or {}).items():
        if value is not None:
            params[key] = value
    return params


def resolve(path: str | Path | None) -> Path | None:
    """A params path made absolute against the repository root (absolute paths unchanged)."""
    if path is None:
        return None
    p = Path(str(path)).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p
