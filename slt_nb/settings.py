"""Reader settings checked before any work, and names a notebook does not know refused.

A params file holds what differs per corpus: besides the export's shared parameters, the
reader's own settings (`frame_size`, `source_fps`, `poses_dir`, ...). Each can be given with
`-p`/`-y` as any parameter can, so each is a parameter of the export notebook, and each value
is checked here, once, with one line naming it, before a file is read: a `frame_size` of
`[0, 720]` would otherwise divide every frame into infinities and fail every part, `[1280]`
would end in an IndexError, `["a", "b"]` in a float conversion on every clip.

papermill hands a notebook any name it is given (`-p frame_sise ...` becomes a new variable
that nothing reads), so `check_notebook_namespace(globals(), notebook)` refuses, before the
run starts, every plain value in the kernel that is neither a parameter of the notebook nor a
name the notebook's own cells bind, with the closest parameter name.
"""
from __future__ import annotations

import ast
import difflib
import json
import math
from pathlib import Path

from slt_nb.errors import ParameterError
from slt_nb.params import REPO_ROOT, parse_list

# What IPython itself puts into a kernel's namespace (names starting with "_" are skipped too).
KERNEL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
PLAIN = (str, int, float, bool, list, tuple, dict, type(None))


def parse_frame_size(name: str, value) -> list[int] | None:
    """A (width, height) in pixels: two whole numbers above 0; None stays None."""
    if value is None:
        return None
    forms = f"e.g. -p {name} '[1280, 720]' or -y '{name}: [1280, 720]'"
    try:
        items = parse_list(name, value, item=_as_written)
    except ParameterError as exc:
        raise ParameterError(f"{exc}; {forms}") from None
    if len(items) != 2:
        raise ParameterError(f"parameter {name!r}: {value!r} has {len(items)} values; expected width and height, {forms}")
    sizes = []
    for what, item in zip(("width", "height"), items):
        try:
            number = float(item)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(item, bool) or not math.isfinite(number) or not number.is_integer() or number <= 0:
            raise ParameterError(f"parameter {name!r}: {what} {item!r} is not a whole number of pixels above 0; {forms}")
        sizes.append(int(number))
    return sizes


def _as_written(value):
    return value


def parse_rate(name: str, value) -> float | None:
    """A frame rate: a number in (0, 1000]; None stays None."""
    if value is None:
        return None
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = math.nan
    if isinstance(value, bool) or not math.isfinite(rate) or not 0 < rate <= 1000:
        raise ParameterError(f"parameter {name!r}: {value!r} is not a frame rate (a number above 0, at most 1000)")
    return rate


# Reader settings and how each is checked; the value written back is the parsed one.
READER_SETTINGS = {
    "frame_size": parse_frame_size,
    "source_fps": parse_rate,
    "augmented_splits": parse_list,
}


def check_reader_settings(params: dict) -> dict:
    """`params` with every reader setting it holds parsed (in place), or ParameterError naming the bad one."""
    for name, parse in READER_SETTINGS.items():
        if params.get(name) is not None:
            params[name] = parse(name, params[name])
    for name in ("poses_dir", "keypoints_dir", "annotations", "reader", "variant"):
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"parameter {name!r}: {value!r} is a {type(value).__name__}; expected text")
    return params


def notebook_names(notebook: str | Path) -> tuple[list[str], set[str]]:
    """(the parameters cell's names in order, every name any code cell of the notebook binds)."""
    path = Path(notebook)
    path = path if path.is_absolute() else REPO_ROOT / path
    with open(path, encoding="utf-8") as f:
        cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
    parameters: list[str] = []
    bound: set[str] = set()
    for cell in cells:
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # a cell with IPython magics: it binds nothing a parameter could be mistaken for
        names = _bound_names(tree)
        bound |= set(names)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            parameters += [n for n in names if n not in parameters]
    return parameters, bound


def _bound_names(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
    return names


def check_notebook_namespace(namespace: dict, notebook: str | Path) -> list[str]:
    """Refuse values papermill injected under names the notebook does not have (a typo, `split` for `splits`).

    Returns the notebook's parameter names, in the order of its parameters cell.
    """
    parameters, bound = notebook_names(notebook)
    unknown = sorted(name for name, value in namespace.items()
                     if not name.startswith("_") and name not in KERNEL_NAMES and name not in bound
                     and isinstance(value, PLAIN))
    if not unknown:
        return parameters
    hints = "".join(f" (did you mean {close[0]!r} for {name!r}?)" for name in unknown
                    if (close := difflib.get_close_matches(name, parameters, n=1, cutoff=0.6)))
    raise ParameterError(f"{Path(notebook).name} has no parameter {', '.join(map(repr, unknown))}{hints}; "
                         f"it has {', '.join(parameters)}")


def notebook_values(namespace: dict, notebook: str | Path) -> dict:
    """The notebook's parameters as the kernel holds them, after `check_notebook_namespace`."""
    parameters = check_notebook_namespace(namespace, notebook)
    return {name: namespace[name] for name in parameters if name in namespace}
