"""The README's export commands, run as written, on the demo tree and on an official-layout tree.

The commands are parsed out of the README's code blocks, so a command that stops working (or a
README that drifts from the notebook's parameters) fails here. Only paths are substituted:
`/data/How2Sign` becomes a test tree, `/data/exports` and the output notebook a temp folder.
"""
import json
import re
import shlex
import subprocess
import sys

import pytest

from conftest import DEMO, REPO
from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree


def readme_commands(program: str) -> list[str]:
    """Every command in a README code block that runs `program`, continuation lines joined."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith(program):
                commands.append(" ".join(command.split()))
    return commands


EXPORT_COMMANDS = readme_commands(".venv/bin/papermill notebooks/export.ipynb")
CLI_EXPORT_COMMANDS = [c for c in readme_commands(".venv/bin/slt-nb export") if "--help" not in c]


def test_the_readme_documents_the_export_commands():
    assert len(EXPORT_COMMANDS) >= 2
    assert any("-p data_root /data/How2Sign" in c for c in EXPORT_COMMANDS)
    assert any("""-p splits '["train"]'""" in c for c in EXPORT_COMMANDS)


def run_as_written(command: str, data_root, tmp_path) -> dict:
    """Run a README command with only its paths replaced; returns the manifest it wrote."""
    args = shlex.split(command)
    args[0:1] = [sys.executable, "-m", "papermill"]
    args[args.index("notebooks/export.ipynb") + 1] = str(tmp_path / "report.ipynb")
    args = [str(data_root) if a == "/data/How2Sign" else str(tmp_path / "exports") if a == "/data/exports" else a
            for a in args]
    if "output_dir" not in args:
        args += ["-p", "output_dir", str(tmp_path / "exports")]
    done = subprocess.run(args + ["--no-progress-bar"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    nb = json.loads((tmp_path / "report.ipynb").read_text())
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    return json.loads((tmp_path / "exports" / "How2Sign-1024.manifest.json").read_text())


def requested_splits(command: str) -> list[str]:
    args = shlex.split(command)
    if "splits" not in args:
        return ["train", "val", "test"]
    from slt_nb.params import parse_list

    return parse_list("splits", args[args.index("splits") + 1])


@pytest.mark.slow
@pytest.mark.parametrize("command", EXPORT_COMMANDS)
def test_readme_export_command_runs_on_the_demo_tree(command, tmp_path):
    manifest = run_as_written(command, DEMO / "How2Sign", tmp_path)
    assert list(manifest["splits"]) == requested_splits(command)
    assert manifest["reader"]["tree"]["layout"] == "flat"
    assert all(e["samples"] > 0 for e in manifest["splits"].values())


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in EXPORT_COMMANDS if "/data/How2Sign" in c])
def test_readme_export_command_runs_on_an_official_download_of_only_those_splits(command, tmp_path):
    splits = requested_splits(command)
    clips = [TreeClip("_2FBDaOPYig_1-3-rgb_front", "Gourmet fries."), TreeClip("-fZc293MpJk_0-1-rgb_front", "Hi!"),
             TreeClip("-fZc293MpJk_1-1-rgb_front", "No poses for this one.", poses=False)]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {s: clips for s in splits})
    manifest = run_as_written(command, root, tmp_path)
    assert manifest["reader"]["tree"]["layout"] == "official"
    for split in splits:
        entry = manifest["splits"][split]
        assert (entry["rows_exported"], entry["rows_skipped"], entry["samples"]) == (2, 1, 2)
        assert entry["reconciliation"]["rows_without_poses"] == 1


def run_cli_as_written(command: str, data_root, tmp_path) -> dict:
    """A README `slt-nb export` command with only its paths replaced (report and run index in tmp_path)."""
    args = shlex.split(command.split("#")[0])
    args[0:1] = [sys.executable, "-m", "slt_nb"]
    args = [str(data_root) if a == "/data/How2Sign" else str(tmp_path / "exports") if a == "/data/exports" else a
            for a in args]
    if "output_dir" not in args:
        args += ["-p", "output_dir", str(tmp_path / "exports")]
    args += ["-o", str(tmp_path / "report.ipynb"), "--index", str(tmp_path / "index.html")]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return json.loads((tmp_path / "exports" / "How2Sign-1024.manifest.json").read_text())


def test_the_readme_documents_the_slt_nb_export_commands():
    assert any("-p data_root /data/How2Sign" in c for c in CLI_EXPORT_COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in CLI_EXPORT_COMMANDS if "/data/How2Sign" in c])
def test_readme_slt_nb_export_command_runs_on_an_official_download(command, tmp_path):
    splits = requested_splits(command)
    clips = [TreeClip("_2FBDaOPYig_1-3-rgb_front", "Gourmet fries."), TreeClip("-fZc293MpJk_0-1-rgb_front", "Hi!")]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {s: clips for s in splits})
    manifest = run_cli_as_written(command, root, tmp_path)
    assert list(manifest["splits"]) == splits
    assert all(manifest["splits"][s]["samples"] == 2 for s in splits)


ALIGNED_COMMANDS = list(dict.fromkeys(c for c in readme_commands(".venv/bin/slt-nb") if "exports-aligned" in c))


@pytest.mark.slow
def test_readme_aligned_exports_of_two_corpora_validate_together(tmp_path):
    """README "Training on several corpora": the export commands then validate, as written, outputs moved."""
    exports = [c for c in ALIGNED_COMMANDS if " export " in c]
    validate = [c for c in ALIGNED_COMMANDS if " validate " in c]
    assert len(exports) == 2 and len(validate) == 1, ALIGNED_COMMANDS
    out = tmp_path / "exports-aligned"
    for i, command in enumerate(exports + validate):
        args = shlex.split(command.replace("outputs/exports-aligned", str(out)))
        args[0:1] = [sys.executable, "-m", "slt_nb"]
        if " export " in command:
            args += ["-o", str(tmp_path / f"report{i}.ipynb"), "--index", str(tmp_path / "index.html")]
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "0 errors" in done.stdout
    for name in ("How2Sign", "LSFB-CONT"):
        entry = json.loads((out / f"{name}-1024.manifest.json").read_text())["splits"]["train"]
        assert entry["parameters"]["layout"] == "aligned_pose33_hands_xy"
        assert (entry["parameters"]["normalize"], entry["parameters"]["fps"]) == ("shoulders", 25)
