"""The run index: `outputs/index.json` (every run's record) and `outputs/index.html` (its page).

The runner hands each finished run's `RunResult` to `write_index`, which merges it into the
records already in `index.json` (a rerun of the same report replaces its old record; records
whose report file is gone are dropped) and renders the page from the merged records. So runs
made at different times, by `make demo`, `slt-nb run` or one `slt-nb export`, end up in one index.

Several `slt-nb` commands may finish at once: the merge runs under an exclusive lock on a hidden
file beside the records (`.index.json.lock`), so none of their records is lost. Both files are
written atomically, so a reader never sees half a page.

An export run's row says, under the dataset's name, what tells it apart from another export of
the same dataset: its feature layout, normalisation and fps (`export_variant`). They are read
from what the export wrote (its manifest's per-split `parameters`) when the run found a manifest,
else from what was asked (the run's parameters over the params file over the export's defaults),
marked "asked". Records written before the index kept them show no such line.

Every string the page shows (errors quote dataset text, parameters hold paths) is HTML-escaped.
"""
from __future__ import annotations

import fcntl
import html
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from slt_nb.atomic import atomic_write_text
from slt_nb.errors import SltNbError
from slt_nb.formats.manifest import read_manifest
from slt_nb.params import load_params, resolve

# Where the runner, `make demo` and the notebook commands keep the index unless told otherwise.
DEFAULT_INDEX = "outputs/index.html"


@dataclass
class RunResult:
    """What happened to one run, as the index lists it (one record of index.json)."""

    notebook: str
    output: str
    html: str | None
    parameters: dict
    dataset: str
    split: str
    status: str  # ok | failed | kernel died | timed out
    error: str
    seconds: float
    peak_mb: float
    started: str
    key_result: str = ""  # from the notebook's summary box (slt_nb.summary_box)
    status_text: str = ""  # "ok, 3 warnings", "ok, 12 rows skipped", or the status
    variant: dict = field(default_factory=dict)  # an export's layout, normalize, fps (`export_variant`)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def write_index(results: list[RunResult], index: str | os.PathLike = DEFAULT_INDEX) -> Path:
    """Merge results into `index.json` beside the page (a rerun replaces its old entry) and
    render the page. Entries whose report file is gone are dropped."""
    index = resolve(index)
    json_path = index.with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    # Runs finishing at once (several `slt-nb` commands) merge one after another, none lost;
    # the lock file is hidden (.index.json.lock): it is no output a user opens.
    with open(json_path.with_name("." + json_path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _merge_index(results, index, json_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _load_records(json_path: Path) -> list[dict]:
    """The records in `index.json`; none when it is missing or unreadable (the page is rebuilt)."""
    try:
        with open(json_path, encoding="utf-8") as f:
            return json.load(f)["runs"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError, TypeError):
        return []


def _merge_index(results: list[RunResult], index: Path, json_path: Path) -> Path:
    records = [r for r in _load_records(json_path) if resolve(r["output"]).exists()]
    by_output = {r["output"]: i for i, r in enumerate(records)}
    for result in results:
        record = asdict(result)
        if result.output in by_output:
            records[by_output[result.output]] = record
        else:
            by_output[result.output] = len(records)
            records.append(record)
    # one notebook's runs together, then by dataset and split, whenever each was made
    records.sort(key=lambda r: (r["notebook"], r["dataset"], r["split"], r["output"]))
    atomic_write_text(json_path, json.dumps({"runs": records}, indent=1, ensure_ascii=False))
    atomic_write_text(index, index_html(records, index.parent))
    return index


_STATUS_STYLE = {"ok": "#1a7f37", "failed": "#b00020", "kernel died": "#8a2be2", "timed out": "#b35900"}

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>slt-nb runs</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }}
th {{ background: #f3f3f3; }}
td.num {{ text-align: right; white-space: nowrap; }}
td.error {{ max-width: 40em; font-family: monospace; font-size: 0.85em; }}
td.result {{ min-width: 16em; }}
td.status, td.links {{ white-space: nowrap; }}
td.params {{ min-width: 22em; max-width: 32em; font-size: 0.85em; overflow-wrap: anywhere; }}
td.error pre {{ white-space: pre-wrap; }}
div.variant {{ font-size: 0.8em; color: #555; white-space: nowrap; }}
</style></head><body>
<h1>slt-nb runs</h1>
<p>{count}: {summary}. Peak memory is the kernel's RSS with its
child processes. Executed notebooks are the reports.</p>
<table>
<thead><tr><th>notebook</th><th>dataset</th><th>split</th><th>status</th><th>result</th><th>report</th><th>error</th>
<th>parameters</th><th>started</th><th>duration</th><th>peak memory</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def index_html(records: list[dict], base: Path) -> str:
    """The index page: one row per run, links relative to the page's folder."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return _PAGE.format(count=f"{len(records)} run{'' if len(records) == 1 else 's'}",
                        summary=html.escape(summary) or "none yet",
                        rows="\n".join(_index_row(r, base) for r in records))


def _index_row(r: dict, base: Path) -> str:
    """One run's table row; every string in it escaped."""
    colour = _STATUS_STYLE.get(r["status"], "black")
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in r["parameters"].items())
    return ("<tr>"
            f"<td>{html.escape(r['notebook'])}</td><td>{html.escape(r['dataset'])}{_variant_line(r.get('variant'))}</td>"
            f"<td>{html.escape(r['split'] or _splits_text(r['parameters'].get('splits')))}</td>"
            f"<td class='status' style='color:{colour}'><b>{html.escape(r.get('status_text') or r['status'])}</b></td>"
            f"<td class='result'>{html.escape(r.get('key_result', ''))}</td>"
            f"<td class='links'>{_link(r.get('html'), 'report', base)} {_link(r['output'], 'ipynb', base)}</td>"
            f"<td class='error'>{_error_cell(r['error'])}</td>"
            f"<td class='params'><code>{html.escape(params)}</code></td>"
            f"<td class='num'>{html.escape(r['started'].replace('T', ' '))}</td><td class='num'>{r['seconds']:.1f} s</td>"
            f"<td class='num'>{r['peak_mb']:.0f} MB</td>"
            "</tr>")


def _link(path: str | None, text: str, base: Path) -> str:
    """A link to a report file, relative to the page's folder; nothing when there is no file."""
    if not path:
        return ""
    href = os.path.relpath(resolve(path), base)
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _splits_text(splits) -> str:
    """An export's `splits` parameter for the index's split column: 'val', 'train, val'."""
    if isinstance(splits, (list, tuple)):
        return ", ".join(str(x) for x in splits)
    return str(splits).strip("[]").replace("'", "").replace('"', "") if splits else ""


def _error_cell(error: str) -> str:
    """A failed run's error as one line, the full text one click away."""
    if not error:
        return ""
    first = error.strip().splitlines()[0]
    if len(first) > 160:
        first = first[:157] + "..."
    if first == error.strip():
        return html.escape(first)
    return f"<details><summary>{html.escape(first)}</summary><pre>{html.escape(error)}</pre></details>"


# --- what tells two exports of one dataset apart -------------------------------------------

# The export parameters shown under the dataset's name; the others are in the parameters column.
VARIANT_KEYS = ("feature_layout", "normalize", "fps")
# A manifest from before the export recorded its parameters was written with the seed options
# (as `formats.manifest.split_parameters` reads it).
_BEFORE_RECORDED = {"feature_layout": "seed", "normalize": "frame", "fps": None}
# The line the export notebook prints once its manifest is written: `print("manifest:", path)`.
_MANIFEST_LINE = re.compile(r"^manifest: (\S.*\.manifest\.json)\s*$", re.MULTILINE)


def export_variant(notebook: str, parameters: dict, nb=None, summary: dict | None = None) -> dict:
    """An export run's (notebooks/export.ipynb) feature layout, normalize and fps for its index
    row; {} for other runs.

    From what the export wrote when the executed notebook `nb` names its manifest (for the
    splits this run exported, by its summary box's `splits` or the `splits` parameter), with
    `"from": "manifest"`; else from what was asked, with `"from": "parameters"`: a failed run
    may have written nothing, and its row should still say which export it tried.
    """
    if Path(notebook).stem != "export":
        return {}
    path = _printed_manifest(nb)
    parameters = parameters if isinstance(parameters, dict) else {}
    splits = ((summary or {}).get("facts") or {}).get("splits") or parameters.get("splits")
    run_splits = [s.strip() for s in _splits_text(splits).split(",")]
    recorded = _recorded_variant(path, run_splits) if path is not None else {}
    return recorded or _asked_variant(parameters)


def _printed_manifest(nb) -> Path | None:
    """The manifest path the executed export notebook printed (the last one), or None."""
    found = None
    for cell in (nb or {}).get("cells", []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                matches = _MANIFEST_LINE.findall("".join(text) if isinstance(text, list) else str(text))
                found = matches[-1] if matches else found
    return resolve(found.strip()) if found else None


def _recorded_variant(path: Path, run_splits: list[str]) -> dict:
    """The variant the manifest at `path` records for the run's splits (all its splits when none of
    them is listed there); {} when it cannot be read."""
    try:
        manifest = read_manifest(path)
    except (OSError, ValueError, SltNbError):
        return {}
    splits = manifest.splits if isinstance(manifest.splits, dict) else {}
    names = [s for s in splits if s in run_splits] or list(splits)
    if not names:
        return {}
    values: dict[str, list] = {key: [] for key in VARIANT_KEYS}
    for name in names:
        entry = splits[name]
        recorded = entry.get("parameters") if isinstance(entry, dict) else None
        recorded = recorded if isinstance(recorded, dict) else _BEFORE_RECORDED
        for key in VARIANT_KEYS:
            if recorded.get(key) not in values[key]:
                values[key].append(recorded.get(key))
    # splits that disagree (an older split left in the manifest) show every value, not the first
    variant = {key: found[0] if len(found) == 1 else found for key, found in values.items()}
    return {**variant, "from": "manifest"}


def _asked_variant(parameters: dict) -> dict:
    """The variant as asked: the run's value, else the params file's, else the export's default."""
    # a lazy import: the export's defaults live with the export, and only export runs need them
    from slt_nb.export.parameters import export_defaults

    defaults = export_defaults()
    dataset = parameters.get("dataset")
    try:
        from_file = load_params(str(dataset)) if isinstance(dataset, str) and dataset else {}
    except (SltNbError, OSError, ValueError, yaml.YAMLError):
        from_file = {}  # a path (an export to inspect) or an unreadable params file: defaults only
    variant = {}
    for key in VARIANT_KEYS:
        value = parameters.get(key)
        value = from_file.get(key) if value is None and isinstance(from_file, dict) else value
        variant[key] = defaults.get(key) if value is None else value
    return {**variant, "from": "parameters"}


def _variant_line(variant) -> str:
    """The second line of an export's dataset cell: `aligned · shoulders · fps 25`; "" without one."""
    if not isinstance(variant, dict) or not any(key in variant for key in VARIANT_KEYS):
        return ""
    layout = _variant_value(variant.get("feature_layout"), name_only=True)
    text = f"{layout} · {_variant_value(variant.get('normalize'))} · fps {_fps_text(variant.get('fps'))}"
    if variant.get("from") == "manifest":
        title = "as the export's manifest records it"
    else:
        text += " (asked)"
        title = "as asked (run parameters, params file, export defaults): the run left no manifest to read"
    title = f"feature_layout, normalize, fps {title}"
    return f"<div class='variant' title='{html.escape(title)}'>{html.escape(text)}</div>"


def _variant_value(value, name_only: bool = False) -> str:
    """A variant value as text; a layout file given by its path shows by its file name."""
    if isinstance(value, list):
        return " / ".join(_variant_value(v, name_only) for v in value)
    text = "" if value is None else str(value)
    return Path(text).name if name_only and ("/" in text or os.sep in text) else text


def _fps_text(fps) -> str:
    """`source` for no resampling (null), else the rate: 25, 29.97."""
    if isinstance(fps, list):
        return " / ".join(_fps_text(f) for f in fps)
    if fps is None:
        return "source"
    if isinstance(fps, (int, float)) and not isinstance(fps, bool):
        return f"{fps:g}"
    return str(fps)
