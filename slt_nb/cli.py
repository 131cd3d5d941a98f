"""The `slt-nb` command (also `python -m slt_nb`): one entry for every notebook and tool.

    slt-nb export How2Sign -p workers 2            # notebooks/export.ipynb -> outputs/export-How2Sign.ipynb
    slt-nb inspect LSFB-CONT -p split val          # -> outputs/inspect/LSFB-CONT/val.ipynb
    slt-nb extract poses -p holistic_mode sampled  # -> outputs/wlasl/extract_poses.ipynb
    slt-nb train -p epochs 8                       # -> outputs/train.ipynb
    slt-nb export --help                           # lists the notebook's parameters
    slt-nb run notebooks/inspect.ipynb --datasets How2Sign --splits val   # a matrix of runs
    slt-nb demo                                    # what `make demo` runs
    slt-nb validate outputs/exports/*.manifest.json
    slt-nb signformer-config ...

The notebook commands run through the batch runner, as `make demo` does: the executed notebook
is the report (written even when a cell fails), with an HTML page beside it and a line in
outputs/index.html. `-p NAME VALUE` sets a notebook parameter (VALUE read as YAML), `-y 'NAME: VALUE'`
sets any number of them from a YAML mapping; as in papermill, -p wins over -y and a later -y over an
earlier one. A name the notebook does not have is refused, listing the ones it has.

Reading -y and -p values is `slt_nb.params.merged_parameters`, shared with `slt-nb run`; a
mistake anywhere before the kernel starts is an SltNbError that `main` prints as one line
(`slt-nb export: ...`), without a traceback.
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from slt_nb.errors import MissingInput, ParameterError, SltNbError, UnknownName
from slt_nb.params import PARAMS_DIR, REPO_ROOT, merged_parameters, resolve

# Moved to slt_nb.params (the runner reads them too, and params imports no command line);
# importable from here as before.
from slt_nb.params import parse_mapping, parse_value  # noqa: F401  (re-export)


@dataclass(frozen=True)
class NotebookCommand:
    """A subcommand that runs one notebook; `output` is a template over its parameters."""

    name: str
    notebook: str
    output: str
    summary: str
    positional: str | None = None  # the parameter given without -p (dataset), if any


NOTEBOOK_COMMANDS = {
    c.name: c for c in (
        NotebookCommand("export", "notebooks/export.ipynb", "outputs/export-{label}.ipynb",
                        "export a dataset to Signformer .pami0 parts (params/<DATASET>.yaml)", "dataset"),
        NotebookCommand("inspect", "notebooks/inspect.ipynb", "outputs/inspect/{label}/{split}.ipynb",
                        "look at a dataset, an export or extracted WLASL poses", "dataset"),
        NotebookCommand("extract", "notebooks/extract_{kind}.ipynb", "outputs/wlasl/extract_{kind}.ipynb",
                        "extract WLASL poses or CNN frame features (params/WLASL.yaml)"),
        NotebookCommand("train", "notebooks/train.ipynb", "outputs/train.ipynb",
                        "train the small sign classifier on extracted WLASL data"),
        NotebookCommand("compare", "notebooks/compare.ipynb", "outputs/compare.ipynb",
                        "several exports side by side: can they be trained together? (-p exports '[...]')"),
        NotebookCommand("agreement", "notebooks/agreement.ipynb", "outputs/agreement.ipynb",
                        "OpenPose and MediaPipe on the same videos, joint by joint (-p openpose DIR -p mediapipe DIR)"),
    )
}
EXTRACT_KINDS = ("poses", "features")
DELEGATED = {
    "validate": ("slt_nb.export.validate", "check that exports can be trained together (manifests, .pami0 sets)"),
    "signformer-config": ("slt_nb.signformer.config", "write a Signformer config for an export"),
}


def notebook_parameters(notebook: str) -> dict[str, dict]:
    """The notebook's parameters as papermill reads them: name -> {default, help, ...}."""
    import papermill

    return papermill.inspect_notebook(str(REPO_ROOT / notebook))


def parameters_help(notebook: str) -> str:
    """Lines `name = default  # help` for a command's --help."""
    lines = [f"parameters of {notebook} (set with -p NAME VALUE or -y 'NAME: VALUE'):"]
    for name, p in notebook_parameters(notebook).items():
        lines.append(f"  {name} = {p['default']}" + (f"  # {p['help']}" if p.get("help") else ""))
    return "\n".join(lines)


class NotebookHelp(argparse.Action):
    """-h/--help that also lists the notebook's parameters (read only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        command = NOTEBOOK_COMMANDS[parser.prog.split()[-1]]
        kinds = EXTRACT_KINDS if command.name == "extract" else (None,)
        parser.print_help()
        for kind in kinds:
            print()
            print(parameters_help(command.notebook.format(kind=kind)))
        parser.exit()


def notebook_run(command: NotebookCommand, args: argparse.Namespace):
    """The runner's Run for a notebook command, parameters checked against the notebook.

    A parameter the notebook lacks, a value that cannot be read, a dataset or folder that is not
    there: an SltNbError naming it, before any kernel starts.
    """
    import yaml

    from slt_nb.runner import Run, label_of

    notebook = command.notebook.format(kind=getattr(args, "kind", None))
    parameters = merged_parameters(getattr(args, "parameters_yaml", None) or [], args.parameter)
    if command.positional and getattr(args, command.positional, None) is not None:
        parameters[command.positional] = getattr(args, command.positional)
    known = notebook_parameters(notebook)
    unknown = [name for name in parameters if name not in known]
    if unknown:
        hints = "".join(f" (did you mean {close[0]!r} for {name!r}?)" for name in unknown
                        if (close := difflib.get_close_matches(name, known, n=1, cutoff=0.6)))
        raise ParameterError(f"{notebook} has no parameter {', '.join(map(repr, unknown))}"
                             f"{hints}; it has {', '.join(known)}")
    parameters = resolve_paths(parameters)
    check_before_kernel(parameters)

    def default(name):
        value = parameters.get(name, yaml.safe_load(known[name]["default"]) if name in known else None)
        return str(value if value is not None else "")

    dataset = default("dataset")
    output = _absolute(args.output) if args.output and not _at_repo_root() else args.output
    output = output or command.output.format(label=label_of(dataset), split=default("split"),
                                                  kind=getattr(args, "kind", ""))
    return Run(notebook, output, parameters, dataset, default("split"))


# Parameters that name files or folders: a relative path means relative to where the command runs,
# as for any command-line tool (the notebooks themselves run from the repository root).
PATH_PARAMETERS = {"data_root", "output_dir", "keypoints_dir", "annotations", "frame_sizes", "validate_with",
                   "json_path", "video_dir", "class_list", "nslt_json", "model_path", "weights", "config",
                   "pose_dir", "feature_dir", "exports", "openpose", "mediapipe"}


def _absolute(value):
    if isinstance(value, str) and value and "{" not in value and "://" not in value and not os.path.isabs(value):
        return os.path.abspath(value)
    if isinstance(value, list):
        return [_absolute(v) for v in value]
    return value


def _at_repo_root() -> bool:
    return Path.cwd().resolve() == REPO_ROOT.resolve()


def resolve_paths(parameters: dict) -> dict:
    """Relative paths in path parameters made absolute against the current directory (no-op at the repo root)."""
    if _at_repo_root():
        return parameters
    out = dict(parameters)
    for name, value in parameters.items():
        if name in PATH_PARAMETERS:
            out[name] = _absolute(value)
        elif name == "dataset" and isinstance(value, str) and (os.sep in value or value.endswith(".json")):
            out[name] = _absolute(value)
    return out


def dataset_names() -> list[str]:
    """The params names a dataset argument may be (every params/*.yaml but demo's)."""
    return sorted(p.stem for p in Path(PARAMS_DIR).glob("*.yaml") if p.stem != "demo")


def check_before_kernel(parameters: dict) -> None:
    """The mistakes a user makes most, said in one line before a kernel starts."""
    from slt_nb.formats.foreign import is_pami_path

    dataset = parameters.get("dataset")
    if isinstance(dataset, str):
        looks_like_path = os.sep in dataset or dataset.endswith(".json") or Path(dataset).exists()
        # a .pami0 set may be named by the stem of its parts (phoenix14t.pami0.train), no file of that name
        if looks_like_path and not Path(dataset).exists() and not is_pami_path(dataset):
            raise MissingInput(f"dataset {dataset!r} does not exist (a params name such as "
                               f"{', '.join(dataset_names()[:3])}, or the path of an export, a pose folder "
                               "or a .pami0 set)")
        if not looks_like_path and dataset not in dataset_names():
            close = difflib.get_close_matches(dataset, dataset_names(), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UnknownName(f"no dataset {dataset!r}: {hint}"
                              f"known: {', '.join(dataset_names())} (params/<name>.yaml)")
    for name in ("data_root", "video_dir", "json_path"):
        value = parameters.get(name)
        if (isinstance(value, str) and value and "{" not in value and not Path(value).exists()
                and not (name == "data_root" and is_pami_path(value))):
            raise MissingInput(f"{name} {value} does not exist")
    from slt_nb.settings import check_reader_settings

    check_reader_settings(dict(parameters))  # frame_size, source_fps, ...: a bad value is one line now


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slt-nb", description="sign-language pose workbench: "
                                     "every notebook through papermill, plus the command-line tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from slt_nb import runner

    runner.build_parser(commands.add_parser("run", help="run a notebook over datasets x splits, "
                                                        "index in outputs/index.html"))
    commands.add_parser("demo", help="run params/demo.yaml's notebooks on the demo data (make demo)")
    for command in NOTEBOOK_COMMANDS.values():
        sub = commands.add_parser(command.name, help=command.summary, add_help=False,
                                  description=f"{command.summary}: runs {command.notebook} into {command.output}")
        sub.add_argument("-h", "--help", action=NotebookHelp, help="show this help and the notebook's parameters")
        if command.name == "extract":
            sub.add_argument("kind", choices=EXTRACT_KINDS, help="poses (MediaPipe) or features (CNN embeddings)")
        if command.positional:
            sub.add_argument(command.positional, nargs="?",
                             help=f"params name ({', '.join(dataset_names())}: params/<NAME>.yaml) or a path")
        sub.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                         help="notebook parameter (VALUE read as YAML); repeat for several")
        sub.add_argument("-y", "--parameters-yaml", action="append", default=[], metavar="YAML",
                         help="notebook parameters as a YAML mapping, e.g. -y 'splits: [val, test]'; "
                              "-p wins over -y, as in papermill")
        sub.add_argument("-o", "--output", help="where the executed notebook goes")
        sub.add_argument("--cell-timeout", type=float, default=None, help="seconds a cell may run")
        sub.add_argument("--index", default=None, help="the run index to add this run to (default outputs/index.html)")
    for name, (_, summary) in DELEGATED.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def delegate(name: str, argv: list[str]) -> int:
    """Hand the rest of the command line to the tool's own main(argv)."""
    import importlib

    module_name = DELEGATED[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            print(f"slt-nb {name}: this version of slt-nb has no {module_name} yet, so `slt-nb {name}` "
                  "cannot run here", file=sys.stderr)
            return 2
        raise
    return int(module.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `slt-nb` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from slt_nb import runner

        return runner.main_with_args(args)
    if args.command == "demo":
        from slt_nb import demo

        return demo.main()
    from slt_nb import runner
    from slt_nb.run_index import DEFAULT_INDEX

    try:
        run = notebook_run(NOTEBOOK_COMMANDS[args.command], args)
    except SltNbError as exc:
        raise SystemExit(f"slt-nb {args.command}: {exc}") from None
    index = args.index or DEFAULT_INDEX  # given: relative to where the command runs; default: the repo's
    result, = runner.run_all([run], _absolute(index) if args.index and not _at_repo_root() else index,
                             cell_timeout=args.cell_timeout)
    print(f"{run.notebook}: {result.status}; report {resolve(result.output)}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
