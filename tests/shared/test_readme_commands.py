"""The README's export commands, run as written, on the demo tree and on an official-layout tree.

The commands are parsed out of the README's code blocks, so a command that stops working (or a
README that drifts from the notebook's parameters) fails here. Only paths are substituted:
`/data/How2Sign` becomes a test tree, `/data/exports` and the output notebook a temp folder.
papermill commands run as processes of their own; `slt-nb` commands run through slt_nb.cli.main,
what `python -m slt_nb` and the console script call (test_cli runs that process itself), in this
process at the repository root; the README's `slt-nb extract poses` runs once as a process
(conftest's readme_extract_poses, whose console test_quiet reads).
"""
import json
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import DEMO, REPO
from readme import SLT_NB_COMMANDS, one_command, readme_commands, slt_nb_argv
from slt_nb.testing.how2sign_trees import TreeClip, how2sign_tree


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
    """The splits a README command asks for, from `-p splits V` or `-y 'splits: V'` (-p winning, as in the CLI)."""
    import yaml

    from slt_nb.params import parse_list

    args = shlex.split(command.split("#")[0])
    if "splits" in args:
        return parse_list("splits", args[args.index("splits") + 1])
    for i, arg in enumerate(args[:-1]):
        if arg == "-y" and "splits" in (yaml.safe_load(args[i + 1]) or {}):
            return parse_list("splits", yaml.safe_load(args[i + 1])["splits"])
    return ["train", "val", "test"]


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


def slt_nb_in_process(argv: list[str], capsys, tag: str) -> str:
    """`slt-nb ARGV` through slt_nb.cli.main in this process (cwd: the repository root); returns what it printed."""
    from slt_nb import cli

    capsys.readouterr()
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 0, f"{tag}\n{out[-2000:]}\n{err[-3000:]}"
    return out


@pytest.fixture
def at_repo_root(monkeypatch):
    """The README's commands run from the repository root."""
    monkeypatch.chdir(REPO)


def run_cli_as_written(command: str, data_root, tmp_path, capsys) -> dict:
    """A README `slt-nb export` command with only its paths replaced (report and run index in tmp_path)."""
    args = shlex.split(command.split("#")[0])[1:]
    args = [str(data_root) if a == "/data/How2Sign" else str(tmp_path / "exports") if a == "/data/exports" else a
            for a in args]
    if "output_dir" not in args:
        args += ["-p", "output_dir", str(tmp_path / "exports")]
    args += ["-o", str(tmp_path / "report.ipynb"), "--index", str(tmp_path / "index.html")]
    slt_nb_in_process(args, capsys, command)
    return json.loads((tmp_path / "exports" / "How2Sign-1024.manifest.json").read_text())


def test_the_readme_documents_the_slt_nb_export_commands():
    assert any("-p data_root /data/How2Sign" in c for c in CLI_EXPORT_COMMANDS)
    assert any(" -y 'splits: [val, test]'" in c for c in CLI_EXPORT_COMMANDS), "the -y form the README names"
    assert requested_splits(".venv/bin/slt-nb export How2Sign -y 'splits: [val, test]'") == ["val", "test"]


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in CLI_EXPORT_COMMANDS if "/data/How2Sign" in c])
def test_readme_slt_nb_export_command_runs_on_an_official_download(command, tmp_path, capsys, at_repo_root):
    splits = requested_splits(command)
    clips = [TreeClip("_2FBDaOPYig_1-3-rgb_front", "Gourmet fries."), TreeClip("-fZc293MpJk_0-1-rgb_front", "Hi!")]
    root = how2sign_tree(tmp_path / "How2Sign", "official", {s: clips for s in splits})
    manifest = run_cli_as_written(command, root, tmp_path, capsys)
    assert list(manifest["splits"]) == splits
    assert all(manifest["splits"][s]["samples"] == 2 for s in splits)


ALIGNED_COMMANDS = list(dict.fromkeys(c for c in readme_commands(".venv/bin/slt-nb") if "exports-aligned" in c))


@pytest.mark.slow
def test_readme_aligned_exports_of_two_corpora_validate_together(tmp_path, capsys, at_repo_root):
    """README "Training on several corpora": the export commands then validate, as written, outputs moved."""
    exports = [c for c in ALIGNED_COMMANDS if " export " in c]
    validate = [c for c in ALIGNED_COMMANDS if " validate " in c]
    assert len(exports) == 2 and len(validate) == 1, ALIGNED_COMMANDS
    out = tmp_path / "exports-aligned"
    for i, command in enumerate(exports + validate):
        args = shlex.split(command.replace("outputs/exports-aligned", str(out)))[1:]
        if " export " in command:
            args += ["-o", str(tmp_path / f"report{i}.ipynb"), "--index", str(tmp_path / "index.html")]
        printed = slt_nb_in_process(args, capsys, command)
    assert "0 errors" in printed
    for name in ("How2Sign", "LSFB-CONT"):
        entry = json.loads((out / f"{name}-1024.manifest.json").read_text())["splits"]["train"]
        assert entry["parameters"]["layout"] == "aligned_pose33_hands_xy"
        assert (entry["parameters"]["normalize"], entry["parameters"]["fps"]) == ("shoulders", 25)
    (compare,) = readme_commands(".venv/bin/papermill notebooks/compare.ipynb")  # then drawn side by side
    args = shlex.split(compare.replace("outputs/exports-aligned", str(out))
                       .replace("outputs/compare.ipynb", str(tmp_path / "compare.ipynb")))
    args[0:1] = [sys.executable, "-m", "papermill"]
    done = subprocess.run(args + ["--no-progress-bar"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{compare}\n{done.stderr[-3000:]}"
    from slt_nb.summary_box import read_summary

    found = read_summary(json.loads((tmp_path / "compare.ipynb").read_text()))
    assert found["key_result"] == "compatible: these exports can be trained together", found


@pytest.mark.parametrize("command", [c for c in SLT_NB_COMMANDS if c.split()[1] in ("export", "inspect", "extract",
                                                                                     "train", "compare", "agreement")])
def test_every_readme_notebook_command_passes_the_checks_before_a_kernel(command, tmp_path, capsys):
    """Each notebook command as written parses, names only parameters its notebook has, and reads its values."""
    from slt_nb import cli

    argv = slt_nb_argv(command, tmp_path)
    if "--help" in argv:
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 0
        assert "parameters of notebooks/" in capsys.readouterr().out
        return
    args = cli.build_parser().parse_args(argv)
    run = cli.notebook_run(cli.NOTEBOOK_COMMANDS[args.command], args)  # SystemExit (one line) on any mistake
    notebook_parameters = cli.notebook_parameters(run.notebook)
    assert set(run.parameters) <= set(notebook_parameters)
    if "'splits: [val, test]'" in command:
        assert run.parameters["splits"] == ["val", "test"]


def test_the_readme_shows_every_notebook_command_and_the_viewer():
    shown = {c.split()[1] for c in SLT_NB_COMMANDS}
    assert {"export", "inspect", "extract", "train", "run", "validate"} <= shown
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/jupyter lab notebooks/inspect.ipynb" in text
    assert (REPO / "notebooks" / "inspect.ipynb").exists()
    # `jupyter lab` is a command of the pinned environment (the browser test runs it for real)
    done = subprocess.run([sys.executable, "-m", "jupyterlab", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip()


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)  # '# comments' in code blocks are no headings
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("page", ["README.md", "docs/internals.md"])
def test_every_relative_link_points_to_an_existing_file_and_heading(page):
    source = REPO / page
    text = source.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", text, flags=re.S))
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert relative, f"{page} links to nothing"
    broken = []
    for link in relative:
        path, _, anchor = link.partition("#")
        target = (source.parent / path).resolve() if path else source
        if not target.exists():
            broken.append(f"{link}: no file {target}")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target.read_text(encoding="utf-8")):
            broken.append(f"{link}: {target.name} has no heading #{anchor}")
    assert not broken, f"{page}: " + "; ".join(broken)


def test_the_readme_keeps_internals_in_the_docs_page_and_no_insider_words():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/internals.md" in text
    for internal in ("bench_export.py", "dask scheduler", "allowed-failures", "Measured growth", "KB a frame"):
        assert internal not in text, internal
        assert internal in (REPO / "docs" / "internals.md").read_text(encoding="utf-8"), internal
    for insider in ("the brief", "brief's", "old scripts"):
        assert insider not in text.lower(), insider


@pytest.mark.slow
def test_readme_inspect_and_run_commands_run_as_written(tmp_path, capsys, at_repo_root):
    """`slt-nb inspect LSFB-CONT -p split val` and the `slt-nb run` matrix, reports and index moved to tmp_path."""
    command = one_command(".venv/bin/slt-nb inspect LSFB-CONT ")
    slt_nb_in_process(slt_nb_argv(command, tmp_path) + ["-o", str(tmp_path / "inspect.ipynb"), "--index",
                                                        str(tmp_path / "index.html")], capsys, command)
    assert (tmp_path / "inspect.html").exists()
    command = one_command(".venv/bin/slt-nb run ")
    printed = slt_nb_in_process(slt_nb_argv(command, tmp_path) + ["--output-root", str(tmp_path / "runs"), "--index",
                                                                  str(tmp_path / "index.html")], capsys, command)
    assert "2 of 2 runs ok" in printed
    records = json.loads((tmp_path / "index.json").read_text())["runs"]
    assert sorted((r["dataset"], r["split"]) for r in records) == [("How2Sign", "val"), ("LSFB-CONT", "val"),
                                                                   ("LSFB-CONT", "val")]


@pytest.mark.slow
def test_readme_extract_then_train_commands_run_as_written(readme_extract_poses, tmp_path, capsys, at_repo_root):
    """`slt-nb extract poses ...` (run once, conftest) then `slt-nb train -p epochs 8` on what it wrote."""
    extracted, run = readme_extract_poses
    assert run["returncode"] == 0, f"{run['command']}\n{run['stdout'][-2000:]}\n{run['stderr'][-3000:]}"
    assert (extracted / "poses" / "index.csv").exists()
    shutil.copy(extracted / "index.json", tmp_path / "index.json")  # the train run adds its record to the extract's
    command = one_command(".venv/bin/slt-nb train ")
    slt_nb_in_process(slt_nb_argv(command, tmp_path) + ["-p", "pose_dir", str(extracted / "poses"), "-p", "output_dir",
                                                        str(tmp_path / "train"), "-o", str(tmp_path / "train.ipynb"),
                                                        "--index", str(tmp_path / "index.html")], capsys, command)
    assert (tmp_path / "train" / "best.pt").exists()
    records = json.loads((tmp_path / "index.json").read_text())["runs"]
    assert [r["status"] for r in records] == ["ok", "ok"]


@pytest.mark.slow
def test_readme_foreign_set_commands_run_as_written(tmp_path, capsys, at_repo_root):
    """README "Foreign .pami0 sets": inspect the set, export beside it, validate and compare them,
    the set being the demo's, outputs moved to tmp_path."""
    from slt_nb.summary_box import read_summary

    commands = [c for c in SLT_NB_COMMANDS if "phoenix" in c]
    assert [c.split()[1] for c in commands] == ["inspect", "export", "export", "validate", "compare"], commands
    out = str(tmp_path / "exports-phoenix")
    for i, command in enumerate(commands):
        argv = [a.replace("outputs/exports-phoenix", out) for a in slt_nb_argv(command, tmp_path)]
        if argv[0] != "validate":
            argv += ["-o", str(tmp_path / f"report{i}.ipynb"), "--index", str(tmp_path / "index.html")]
        printed = slt_nb_in_process(argv, capsys, command)
        if argv[0] == "validate":  # How2Sign's 405-frame demo clip is over max_sent_length: a warning only
            assert "0 errors, 1 warnings: OK" in printed and "WARNING  max_sent_length" in printed, printed
    inspected = read_summary(json.loads((tmp_path / "report0.ipynb").read_text()))
    assert inspected["title"] == "Inspect demo512" and inspected["key_result"].startswith("2 clips, 57 frames read")
    compared = read_summary(json.loads((tmp_path / "report4.ipynb").read_text()))
    assert compared["key_result"] == "compatible: these exports can be trained together", compared
