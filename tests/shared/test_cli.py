"""The `slt-nb` command: notebook commands with their parameters, delegated tools, --help."""
import json
import subprocess
import sys

import papermill
import pytest

from slt_nb import cli

from conftest import REPO


@pytest.mark.parametrize("command,notebooks", [("export", ["export"]), ("inspect", ["inspect"]), ("train", ["train"]),
                                               ("extract", ["extract_poses", "extract_features"])])
def test_help_lists_every_parameter_of_the_notebook(command, notebooks, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    for stem in notebooks:
        parameters = papermill.inspect_notebook(str(REPO / "notebooks" / f"{stem}.ipynb"))
        assert f"parameters of notebooks/{stem}.ipynb" in shown
        for name, p in parameters.items():
            assert f"  {name} = {p['default']}" in shown, name


def test_a_parameter_the_notebook_lacks_is_refused_naming_the_ones_it_has():
    with pytest.raises(SystemExit, match=r"notebooks/export.ipynb has no parameter 'split' \(did you mean 'splits' "
                                         r"for 'split'\?\); it has dataset, "):
        cli.main(["export", "PoseFormat", "-p", "split", "val"])


def test_output_paths_follow_the_demo_and_runner_layout(tmp_path):
    parser = cli.build_parser()
    manifest = tmp_path / "How2Sign-1024.manifest.json"
    manifest.write_text("{}")
    run = cli.notebook_run(cli.NOTEBOOK_COMMANDS["inspect"],
                           parser.parse_args(["inspect", str(manifest), "-p", "split", "test"]))
    assert run.output == "outputs/inspect/How2Sign-1024/test.ipynb"
    assert run.parameters == {"dataset": str(manifest), "split": "test"}
    run = cli.notebook_run(cli.NOTEBOOK_COMMANDS["extract"], parser.parse_args(["extract", "poses", "-p", "num_frames", "4"]))
    assert (run.notebook, run.output, run.parameters) == ("notebooks/extract_poses.ipynb",
                                                          "outputs/wlasl/extract_poses.ipynb", {"num_frames": 4})
    run = cli.notebook_run(cli.NOTEBOOK_COMMANDS["export"], parser.parse_args(["export"]))
    assert run.output == "outputs/export-How2Sign.ipynb", "the notebook's default dataset names the report"


@pytest.mark.slow
def test_export_runs_the_notebook_and_validate_checks_what_it_wrote(tmp_path, capsys):
    report = tmp_path / "export.ipynb"
    code = cli.main(["export", "PoseFormat", "-p", "output_dir", str(tmp_path / "exports"), "-o", str(report),
                     "--index", str(tmp_path / "index.html")])
    assert code == 0
    executed = json.loads(report.read_text(encoding="utf-8"))
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "dataset = \"PoseFormat\"" in "".join(injected[0]["source"])
    assert (tmp_path / "index.html").exists()
    manifest = tmp_path / "exports" / "PoseFormat-1024.manifest.json"
    assert json.loads(manifest.read_text(encoding="utf-8"))["splits"]["train"]["rows_skipped"] == 4
    capsys.readouterr()
    assert cli.main(["validate", str(manifest)]) == 0
    assert "3 parts, 3 samples, 162 frames" in capsys.readouterr().out  # 47 + 18 + 97 frames


def test_a_delegated_tool_missing_from_this_version_is_said_plainly(monkeypatch, capsys):
    monkeypatch.setitem(cli.DELEGATED, "future-tool", ("slt_nb.no_such_tool", "a tool another branch adds"))
    assert cli.main(["future-tool", "--flag"]) == 2
    assert "has no slt_nb.no_such_tool yet" in capsys.readouterr().err


def test_python_dash_m_slt_nb_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "slt_nb", "--help"], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert done.returncode == 0
    for command in ("run", "demo", "validate", "export", "inspect", "extract", "train", "signformer-config"):
        assert command in done.stdout


def _slt_nb(args, cwd):
    return subprocess.run([sys.executable, "-m", "slt_nb", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, line", [
    (["export", "How2Sgn"], "slt-nb export: no dataset 'How2Sgn': did you mean How2Sign? known: How2Sign, "),
    (["export", "How2Sign", "-p", "data_root", "nope"], "slt-nb export: data_root {cwd}/nope does not exist"),
    (["export", "How2Sign", "-p", "splits", "[val"], "slt-nb export: -p splits '[val' is not a value slt-nb can read"),
    (["inspect", "exports/none.manifest.json"], "slt-nb inspect: dataset '{cwd}/exports/none.manifest.json' does not"),
    (["export", "How2Sign", "-y", "splits: [val"], "slt-nb export: -y 'splits: [val' is not YAML slt-nb can read "
                                                  "(expected ',' or ']', but got '<stream end>' at line 1, column 13)"),
    (["export", "How2Sign", "-y", "splits"], "slt-nb export: -y 'splits' reads as text, not as parameter names"),
    (["export", "How2Sign", "-y", "[val, test]"], "slt-nb export: -y '[val, test]' reads as a list, not as"),
    (["export", "How2Sign", "-y", "split: val"], "slt-nb export: notebooks/export.ipynb has no parameter 'split' "
                                                 "(did you mean 'splits' for 'split'?)"),
    (["export", "-y", "dataset: How2Sgn"], "slt-nb export: no dataset 'How2Sgn': did you mean How2Sign?"),
    (["export", "How2Sign", "-y", "data_root: nope"], "slt-nb export: data_root {cwd}/nope does not exist"),
])
def test_mistakes_are_one_line_before_a_kernel_starts(tmp_path, args, line):
    done = _slt_nb(args, tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line, no traceback
    assert done.stderr.startswith(line.format(cwd=tmp_path)), done.stderr
    assert not (REPO / "outputs" / "export-How2Sgn.ipynb").exists()


def test_relative_paths_mean_relative_to_where_the_command_runs(tmp_path):
    parser = cli.build_parser()
    (tmp_path / "mine").mkdir()
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        run = cli.notebook_run(cli.NOTEBOOK_COMMANDS["export"], parser.parse_args(
            ["export", "How2Sign", "-p", "data_root", "mine", "-p", "output_dir", "out",
             "-p", "validate_with", "[a.manifest.json]", "-p", "splits", "val", "-o", "report.ipynb"]))
    finally:
        os.chdir(old)
    assert run.parameters["data_root"] == str(tmp_path / "mine")
    assert run.parameters["output_dir"] == str(tmp_path / "out")
    assert run.parameters["validate_with"] == [str(tmp_path / "a.manifest.json")]
    assert run.parameters["splits"] == "val"  # not a path
    assert run.output == str(tmp_path / "report.ipynb")  # the report too, not the repository's folder


def test_export_help_lists_the_dataset_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "How2Sign, How2Sign-aug, LSFB-CONT, LSFB-CONT-aug, PoseFormat" in shown.replace("LSFB- CONT", "LSFB-CONT")


def test_dash_y_sets_parameters_and_dash_p_wins_over_it_as_in_papermill():
    parser = cli.build_parser()

    def parameters(*argv):
        return cli.notebook_run(cli.NOTEBOOK_COMMANDS["export"], parser.parse_args(["export", *argv])).parameters

    assert parameters("How2Sign", "-y", "splits: [val, test]\nmin_frames: 3") == {
        "splits": ["val", "test"], "min_frames": 3, "dataset": "How2Sign"}
    assert parameters("How2Sign", "-y", "{splits: [val, test], min_frames: 3}", "-p", "splits", "train") == {
        "splits": "train", "min_frames": 3, "dataset": "How2Sign"}  # -p over -y, whatever their order
    assert parameters("-p", "splits", "train", "-y", "splits: [val]") == {"splits": "train"}
    assert parameters("-y", "{splits: [val], fps: 25}", "-y", "splits: [test]") == {"splits": ["test"], "fps": 25}
    assert parameters("-y", "") == {}  # empty YAML: no parameters, as papermill reads it
    assert parameters("-y", "dataset: LSFB-CONT", "How2Sign") == {"dataset": "How2Sign"}  # the positional names it


def test_dash_y_is_in_the_help_of_every_notebook_command(capsys):
    for command in ("export", "inspect", "extract", "train", "compare"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = capsys.readouterr().out
        assert "-y YAML, --parameters-yaml YAML" in shown, command
        assert "(set with -p NAME VALUE or -y 'NAME: VALUE')" in shown, command


def test_slt_nb_run_takes_dash_y_and_dash_p_like_the_notebook_commands(monkeypatch, tmp_path, capsys):
    from slt_nb import runner

    seen = {}

    def fake_matrix(notebook, datasets, splits, extra, output_root):
        seen["extra"] = extra
        return []

    monkeypatch.setattr(runner, "matrix", fake_matrix)
    monkeypatch.setattr(runner, "run_all", lambda runs, *args: [])
    argv = ["run", "notebooks/export.ipynb", "--index", str(tmp_path / "index.html"),
            "-y", "{splits: [val], min_frames: 3}", "-p", "min_frames", "4"]
    assert cli.main(argv) == 0
    assert seen["extra"] == {"splits": ["val"], "min_frames": 4}
    with pytest.raises(SystemExit) as bad:
        cli.main(["run", "notebooks/export.ipynb", "-p", "splits", "[val"])
    assert "slt-nb run: -p splits '[val' is not a value" in str(bad.value)
