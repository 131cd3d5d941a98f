"""The runner's index page shows run errors and parameters, which can quote dataset text: as text."""
from pathlib import Path

from slt_nb.runner import index_html

HOSTILE = '<img src=x onerror="alert(1)">'


def test_index_escapes_every_string_it_shows(tmp_path):
    record = {"notebook": f"notebooks/inspect.ipynb{HOSTILE}", "dataset": HOSTILE, "split": HOSTILE,
              "parameters": {"clip": HOSTILE}, "status": "failed", "started": HOSTILE, "seconds": 1.0,
              "peak_mb": 10.0, "output": str(tmp_path / f"out{HOSTILE}.ipynb"), "html": None,
              "error": f"ClipError: {HOSTILE}: unparsable JSON"}
    page = index_html([record], Path(tmp_path))
    assert "<img" not in page and page.count("&lt;img src=x onerror=") >= 6


def test_an_exports_variant_line_is_escaped_too(tmp_path):
    record = {"notebook": "notebooks/export.ipynb", "dataset": "How2Sign", "split": "", "parameters": {},
              "status": "ok", "started": "now", "seconds": 1.0, "peak_mb": 10.0, "html": None, "error": "",
              "output": str(tmp_path / "out.ipynb"),
              "variant": {"feature_layout": HOSTILE, "normalize": [HOSTILE, "frame"], "fps": HOSTILE,
                          "from": HOSTILE}}
    page = index_html([record], Path(tmp_path))
    assert "<img" not in page and page.count("&lt;img src=x onerror=") == 3
