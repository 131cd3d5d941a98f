"""The invariants every export must keep, whatever its input, and small real trees to mutate.

Importing this module sets the Hypothesis profile, bounded so `make test` stays within a minute:
`derandomize` makes every run try the same examples (a red `make test` is reproducible), and
HYPOTHESIS_PROFILE=explore runs 400 examples a property with fresh randomness, for hunting.
(Not a conftest.py: a second module named conftest would shadow `from conftest import REPO`.)
"""
import csv
import io
import math
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, settings

from slt_nb.errors import AnnotationError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.pami import load_signformer

settings.register_profile("slt-nb", max_examples=50, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("explore", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "slt-nb"))

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
REAL = REPO / "data" / "realdata"
H2S_VAL = DEMO / "How2Sign" / "val" / "openpose_output" / "json"
H2S_CLIPS = ["_2FBDaOPYig_1-3-rgb_front", "_2FBDaOPYig_1-5-rgb_front", "-fZc293MpJk_7-1-rgb_front"]
FRAMES = 6  # frames kept per clip: enough for every mutation, cheap to export
LSFB = DEMO / "LSFB-CONT"
LSFB_SESSIONS = ["CLSFBI0103A_S001_B", "CLSFBI0209A_S004_B"]


def real_rows(text: str) -> int:
    """Data rows of an annotation file as a person counts them: non-blank lines after the header."""
    return sum(1 for line in text.split("\n")[1:] if line.strip())


def how2sign_tree(root: Path, extra_rows: int = 8) -> Path:
    """Three real clips (first FRAMES frames each) with their realigned CSV rows, plus real rows
    of the public test CSV whose clips are not downloaded (as in real How2Sign)."""
    clips = root / "val" / "openpose_output" / "json"
    for name in H2S_CLIPS:
        (clips / name).mkdir(parents=True)
        for frame in sorted((H2S_VAL / name).glob("*_keypoints.json"))[:FRAMES]:
            shutil.copy(frame, clips / name / frame.name)
    lines = (DEMO / "How2Sign" / "how2sign_realigned_val.csv").read_text(encoding="utf-8").splitlines()
    real = (REAL / "how2sign_metadata" / "how2sign_realigned_test_first40rows.csv").read_text(encoding="utf-8")
    lines += real.splitlines()[1:1 + extra_rows]
    (root / "how2sign_realigned_val.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def lsfb_tree(root: Path, rows: list[dict]) -> Path:
    """The demo LSFB-CONT sessions (real float16 layout) with the given annotation rows."""
    shutil.copytree(LSFB / "poses", root / "poses", ignore=shutil.ignore_patterns("CLSFBI0311A*"))
    buf = io.StringIO()
    w = csv.DictWriter(buf, ["id", "text", "video_id", "start", "end", "split"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (root / "annotations.csv").write_text(buf.getvalue(), encoding="utf-8")
    return root


def export_and_check(reader, split: str, out: Path, expected_rows: int | None = None) -> dict | None:
    """Export one split and assert the invariants; None when the annotation file is refused as a whole.

    - the export finishes (no exception but a clear AnnotationError for an unreadable file);
    - exported + skipped = annotation rows (= the file's real rows when given);
    - every part loads Signformer's way and every sign is finite, float32, (T > 0, 1024);
    - no skip lacks a reason, and every reason names where the problem is.
    """
    try:
        entry = export_split(reader, split, ExportOptions(str(out)))
    except AnnotationError as exc:
        assert str(exc).startswith(str(reader.annotation_file(split)) if hasattr(reader, "annotation_file")
                                   else str(exc).split(":")[0]), exc
        return None
    assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"]
    if expected_rows is not None:
        assert entry["annotation_rows"] == expected_rows
    for skip in entry["skipped"]:
        assert skip["reason"].strip() and ":" in skip["reason"], skip
    names = set()
    for part in entry["parts"]:
        for sample in load_signformer(out / part["file"]):
            sign = sample["sign"]
            assert isinstance(sign, torch.Tensor) and sign.dtype == torch.float32
            assert sign.ndim == 2 and sign.shape[0] > 0 and sign.shape[1] == 1024
            assert bool(torch.isfinite(sign).all()), sample["name"]
            assert sample["name"] not in names
            names.add(sample["name"])
    assert len(names) == entry["samples"]
    for value in entry["counts"].values():
        assert isinstance(value, int) and value >= 0 and not math.isnan(value)
    return entry


def finite_rows(arr: np.ndarray) -> bool:
    return bool(np.isfinite(arr).all())
