"""Run parameters: `params/<name>.yaml` merged with what papermill injected, and the readers of
parameter values.

Relative paths in a params file are relative to the repository root, so a notebook run from
the repo root (papermill) and one opened in JupyterLab (cwd = notebooks/) see the same files.

A value reaches a notebook three ways: from a params file (YAML, typed), from `-y 'NAME: VALUE'`
(YAML, typed) and from `-p NAME VALUE` (papermill hands the notebook a string, the `slt-nb`
command reads it as YAML first). `merged_parameters` is the command line's half (-y then -p, as
papermill orders them); `parse_list`, `parse_flag`, `parse_number` and `parse_mapping` are the
notebook's half, accepting every form a value can arrive in. Every mistake is a ParameterError
naming the parameter (or option) and the forms it accepts; the command line prints it as one line.
This module is stage-free and imports neither the command line nor the runner.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from slt_nb.errors import MissingInput, ParameterError

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
        raise MissingInput(f"{path}: no parameters for {name!r}; known: {known}")
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
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    raise ParameterError(f"parameter {name!r}: {value!r} is not a yes/no value; accepted: true/false, yes/no, on/off, 1/0")


def parse_mapping(name: str, value, option: str | None = None) -> dict:
    """A mapping from a dict or from YAML/JSON text; None, "" and text that reads as nothing give {}.

    One reader for both places a mapping comes from:
    - a mapping parameter (the train notebook's `overrides`): `-p overrides '{"model.embed_dim": 64}'`
      hands the notebook a string, `-y` and params files hand it a dict;
    - a command-line option's text (`option="-y"`): `-y 'splits: [val, test]'`, parameter names
      to their values.
    Only the error differs: it names the parameter, or the option with the text given to it.
    Anything that is not a mapping raises ParameterError saying what it reads as.
    """
    if option:
        shown, example = f"{option} {value!r}", f"write it as 'NAME: VALUE', e.g. {option} 'splits: [val, test]'"
        expected = "parameter names with their values"
    else:
        shown, example = f"parameter {name!r}: {value!r}", f"e.g. -p {name} '{{\"model.embed_dim\": 64}}'"
        expected = "a mapping of names to values"
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    found = value
    if isinstance(value, str):
        try:
            found = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ParameterError(f"{shown} is not YAML slt-nb can read ({yaml_problem(exc)}); {example}") from None
        if found is None:  # a comment only: nothing set, as papermill reads it
            return {}
    if not isinstance(found, dict):
        kind = ("a list" if isinstance(found, (list, tuple)) else "text" if isinstance(found, str)
                else "a single value")
        raise ParameterError(f"{shown} reads as {kind}, not as {expected}; {example}")
    return found


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What a YAML parser said was wrong, with the line and column when it knows them."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem


def parse_value(name: str, value: str):
    """A `-p NAME VALUE` value read as YAML, as papermill's command line reads it."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ParameterError(f"-p {name} {value!r} is not a value slt-nb can read ({yaml_problem(exc)}); "
                             "lists are written val,test or '[val, test]'") from None


def merged_parameters(yaml_texts: list[str], pairs: list[tuple[str, str]]) -> dict:
    """`-y` and `-p` values in papermill's order: each -y in turn, then every -p over them.

    A value that cannot be read raises ParameterError naming the option and its text.
    """
    parameters = {}
    for text in yaml_texts:
        parameters.update(parse_mapping("parameters", text, option="-y"))
    parameters.update({name: parse_value(name, value) for name, value in pairs})
    return parameters


def parse_number(name: str, value, default, whole: bool = True, minimum: float | None = None):
    """A numeric parameter (`-p chunk_size 50` arrives as a number or a string); None gives the default.

    A value that is not a number (or not a whole one where `whole`), or below `minimum`, raises
    ParameterError naming the parameter, instead of a bare ValueError from int().
    """
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
