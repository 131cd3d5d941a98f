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
    """`params/<name>.yaml`, with every override that is not None applied on top.

    List parameters (`splits`, ...) are read with `parse_list`, so `-p splits val,test` works.
    """
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
    for key in ("splits", "validate_with", "augmented_splits"):
        if key in params:
            params[key] = parse_list(key, params[key])
    return params


def resolve(path: str | Path | None) -> Path | None:
    """A params path made absolute against the repository root (absolute paths unchanged)."""
    if path is None:
        return None
    p = Path(str(path)).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p


# Parameters that hold a list. papermill hands `-p` values over as strings, so each of these
# may arrive as `val`, `val,test` or `'["val","test"]'` as well as a real list (`-y`, YAML).
LIST_PARAMS = ("splits", "validate_with", "augmented_splits", "frames")

ACCEPTED_LIST_FORMS = ("-p NAME val", "-p NAME val,test", "-p NAME '[\"val\",\"test\"]'", "-y 'NAME: [val, test]'")


def parse_list(name: str, value, item=str) -> list | None:
    """A list parameter from whatever papermill or a params file handed over; None stays None.

    Accepts a list or tuple, a single value, a comma-separated string and a JSON/YAML list
    written as a string. `item` converts each element (e.g. `int` for frame numbers). A value
    that cannot be read as a list raises ParameterError naming the parameter and the forms.
    """
    from slt_nb.errors import ParameterError

    def bad(why: str) -> ParameterError:
        forms = ", ".join(f.replace("NAME", name) for f in ACCEPTED_LIST_FORMS)
        return ParameterError(f"parameter {name!r}: {why}; accepted forms: {forms}")

    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise bad(f"{value!r} looks like a list but does not parse ({exc.__class__.__name__})") from None
            if not isinstance(value, list):
                raise bad(f"{text!r} is not a list")
        elif text.startswith(("{", "(")):
            raise bad(f"cannot read {value!r} as a list")
        else:
            value = [part.strip() for part in text.split(",")]
            if any(not part for part in value):
                raise bad(f"{text!r} has an empty element")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    elif not isinstance(value, (list, tuple)):
        raise bad(f"cannot read a {type(value).__name__} ({value!r}) as a list")
    out = []
    for element in value:
        if isinstance(element, (list, dict)) or element is None:
            raise bad(f"element {element!r} of {value!r} is not a single value")
        try:
            out.append(item(element) if not isinstance(element, str) or item is str else item(element.strip()))
        except (TypeError, ValueError):
            raise bad(f"element {element!r} is not a {item.__name__}") from None
    return out


FLAG_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def parse_flag(name: str, value, default: bool) -> bool:
    """A yes/no parameter: `-p resume no` is a string, so `bool(value)` would read it as true.

    Accepts booleans, 0/1 and the words true/false, yes/no, on/off (any case); None gives the
    default. Anything else raises ParameterError naming the parameter and the accepted values.
    """
    from slt_nb.errors import ParameterError

    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    raise ParameterError(f"parameter {name!r}: {value!r} is not a yes/no value; accepted: true/false, yes/no, on/off, 1/0")


def parse_mapping(name: str, value) -> dict:
    """A mapping parameter (e.g. the train notebook's `overrides`) from a dict or a JSON/YAML string.

    papermill's `-p overrides '{"model.embed_dim": 64}'` hands the notebook a string; `-y` and
    params files hand it a dict. None and "" give {}. Anything else raises ParameterError.
    """
    from slt_nb.errors import ParameterError

    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ParameterError(f"parameter {name!r}: {value!r} does not parse as a mapping "
                                 f"({exc.__class__.__name__}); e.g. -p {name} '{{\"model.embed_dim\": 64}}'") from None
        value = parsed
    if not isinstance(value, dict):
        raise ParameterError(f"parameter {name!r}: expected a mapping such as {{\"model.embed_dim\": 64}}, "
                             f"got a {type(value).__name__} ({value!r})")
    return value


def parse_number(name: str, value, default, whole: bool = True, minimum: float | None = None):
    """A numeric parameter (`-p chunk_size 50` arrives as a number or a string); None gives the default.

    A value that is not a number (or not a whole one where `whole`), or below `minimum`, raises
    ParameterError naming the parameter, instead of a bare ValueError from int().
    """
    from slt_nb.errors import ParameterError

    if value is None:
        return default
    what = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        raise ParameterError(f"parameter {name!r}: {value!r} is not {what}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name!r}: {value!r} is not {what}") from None
    if whole and not number.is_integer():
        raise ParameterError(f"parameter {name!r}: {value!r} is not {what}")
    if minimum is not None and number < minimum:
        raise ParameterError(f"parameter {name!r}: {value!r} is below {minimum:g}")
    return int(number) if whole else number
