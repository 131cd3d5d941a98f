"""The summary box every report ends its run with, and the runner puts at the top of the page.

`show_summary(...)` displays a small HTML box (what ran, on what data, the key result) and, in the
same output, the facts as `application/vnd.slt-nb.summary+json`. The batch runner reads that
output from the executed notebook: the HTML page opens with the box, and `outputs/index.html`
shows the key result and "ok, N warnings" / "ok, N rows skipped" instead of a bare ok. The summary
carries the unit of what it skipped (`skipped_unit`: "row" by default, "video" for the WLASL
extractions), so the box and the index say "2 videos skipped" where videos were skipped.
"""
from __future__ import annotations

import html
from pathlib import Path

from slt_nb.errors import ParameterError

MIME = "application/vnd.slt-nb.summary+json"
DEMO_DATA = (Path(__file__).resolve().parents[1] / "data" / "demo").resolve()


def is_demo_data(*paths) -> bool:
    """Whether any of the paths lies in the bundled demo trees (built from small real samples)."""
    for p in paths:
        if not p:
            continue
        try:
            Path(str(p)).resolve().relative_to(DEMO_DATA)
            return True
        except (ValueError, OSError):
            continue
    return False


def summary(title: str, key_result: str, facts: dict | None = None, warnings: int = 0, skipped: int = 0,
            errors: int = 0, demo_data: bool = False, skipped_unit: str = "row") -> dict:
    """The facts of a run; `skipped_unit` names what `skipped` counts (singular: "row", "video")."""
    if not isinstance(skipped_unit, str) or not skipped_unit.strip():
        raise ParameterError(f"skipped_unit must name what was skipped (such as 'row' or 'video'), not {skipped_unit!r}")
    return {"title": title, "key_result": key_result, "facts": {k: str(v) for k, v in (facts or {}).items()},
            "warnings": int(warnings), "skipped": int(skipped), "skipped_unit": skipped_unit.strip(),
            "errors": int(errors), "demo_data": bool(demo_data)}


def box_html(s: dict) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in s["facts"].items())
    flags = []
    if s["demo_data"]:
        flags.append("<span class='slt-demo'>demo data: small real samples laid out as the official downloads, "
                     "some frames made broken on purpose</span>")
    counts = ", ".join(_counted(s))
    return (
        "<div class='slt-summary' style='border:2px solid #2f6f9f;border-radius:6px;padding:0.6em 1em;"
        "margin:0.5em 0 1em 0;background:#f4f8fb;font-family:system-ui,sans-serif;max-width:60em'>"
        f"<div style='font-size:1.15em;font-weight:600'>{html.escape(s['title'])}</div>"
        f"<div style='font-size:1.05em;margin:0.3em 0'>{html.escape(s['key_result'])}"
        + (f" <span style='color:#b35900'>({html.escape(counts)})</span>" if counts else "") + "</div>"
        + "".join(f"<div style='color:#7a4a00;font-size:0.9em'>{f}</div>" for f in flags)
        + (f"<table style='font-size:0.85em;margin-top:0.4em'>{rows}</table>" if rows else "")
        + "</div>"
    )


def show_summary(title: str, key_result: str, facts: dict | None = None, **counts) -> None:
    """Display the box in the notebook (and hand its facts to the runner)."""
    from IPython.display import display

    s = summary(title, key_result, facts, **counts)
    display({"text/html": box_html(s), MIME: s, "text/plain": f"{title}: {key_result}"}, raw=True)


def read_summary(nb) -> dict | None:
    """The last summary a notebook displayed (an nbformat node or its dict), or None."""
    found = None
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME in data and isinstance(data[MIME], dict):
                found = data[MIME]
    return found


def status_text(status: str, s: dict | None) -> str:
    """'ok', 'ok, 3 warnings', 'ok, 1 row skipped', 'ok, 2 videos skipped', ... for the index."""
    if status != "ok" or not s:
        return status
    return ", ".join(["ok", *_counted(s)])


def _counted(s: dict) -> list[str]:
    unit = str(s.get("skipped_unit") or "row")  # summaries written before the unit existed counted rows
    words = (("errors", "error", "errors"), ("warnings", "warning", "warnings"),
             ("skipped", f"{unit} skipped", f"{_plural(unit)} skipped"))
    return [f"{s[k]} {one if s[k] == 1 else many}" for k, one, many in words if s.get(k)]


def _plural(noun: str) -> str:
    return noun if noun.endswith("s") else noun + "s"  # row, video, clip, sample, session
