"""A foreign part carrying a code payload is refused unrun by every command that reads parts."""
import gzip
import os
import pickle

import pytest
import torch

from slt_nb.errors import UnsafeFile
from slt_nb.export.validate import validate_exports
from slt_nb.formats.pami import iter_samples, load_signformer
from slt_nb.signformer.frames import read_part


class Payload:
    """What a hostile `.pami0` carries: pickle.load would call os.system while reading it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def hostile_part(tmp_path):
    marker = tmp_path / "PAYLOAD_RAN"
    path = tmp_path / "phoenix14t-1024.pami0.dev.part0"
    sample = {"name": "dev/x", "signer": "s", "gloss": Payload(marker), "text": "t", "sign": torch.ones(3, 1024)}
    with gzip.open(path, "wb") as f:
        pickle.dump([sample], f)
    return path, marker


def test_validate_reports_the_payload_as_an_error_without_running_it(hostile_part):
    path, marker = hostile_part
    report = validate_exports([str(path)])
    assert not report.ok
    unsafe = [f for f in report.findings if f.check == "unsafe"]
    assert unsafe and "refused to unpickle posix.system" in unsafe[0].message
    assert not marker.exists()


@pytest.mark.parametrize("read", [load_signformer, lambda p: list(iter_samples([p])), lambda p: read_part(p, 150)],
                         ids=["inspect-round-trip", "inspect-and-compare-stream", "lean-signformer-loader"])
def test_every_reader_of_parts_refuses_the_payload(hostile_part, read):
    path, marker = hostile_part
    with pytest.raises(UnsafeFile, match=r"phoenix14t-1024\.pami0\.dev\.part0: refused to unpickle posix\.system"):
        read(path)
    assert not marker.exists()


# The same part as a set made outside slt-nb, in every command that reads one: inspect (the source
# API and `slt-nb inspect`), compare, validate with a declaration, signformer-config.
DECLARED = {"layout": "holistic-512", "fps": 25, "normalize": "frame"}
REFUSED = r"phoenix14t-1024\.pami0\.dev\.part0: refused to unpickle posix\.system"


def test_inspect_refuses_the_payload_of_a_foreign_set_declared_or_not(hostile_part):
    from slt_nb.inspection import open_source, summarise

    path, marker = hostile_part
    with pytest.raises(UnsafeFile, match=REFUSED):
        open_source(str(path))  # undeclared: its width is read to number the columns
    source = open_source(str(path), layout="holistic-512", fps=25)
    with pytest.raises(UnsafeFile, match=REFUSED):
        summarise(source)
    assert not marker.exists()


def test_slt_nb_inspect_stops_on_the_payload_without_running_it(hostile_part, tmp_path):
    import json
    import subprocess
    import sys

    from conftest import REPO

    path, marker = hostile_part
    done = subprocess.run([sys.executable, "-m", "slt_nb", "inspect", str(path), "-p", "split", "dev", "-p", "layout",
                           "holistic-512", "-o", str(tmp_path / "inspect.ipynb"), "--index", str(tmp_path / "index.html")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "failed" in done.stdout
    report = (tmp_path / "inspect.failed.ipynb").read_text()
    errors = [o for c in json.loads(report)["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e["ename"] for e in errors] == ["UnsafeFile"] and "refused to unpickle posix.system" in errors[0]["evalue"]
    assert not marker.exists()


def test_compare_refuses_the_payload_of_a_foreign_set(hostile_part):
    from slt_nb.inspection import compare

    path, marker = hostile_part
    with pytest.raises(UnsafeFile, match=REFUSED):
        compare.load_exports([path], split="dev", foreign=DECLARED)
    assert not marker.exists()


def test_validate_with_a_declaration_reports_the_payload_and_nothing_runs(hostile_part):
    path, marker = hostile_part
    report = validate_exports([str(path.parent / "phoenix14t-1024.pami0.dev")], foreign=DECLARED)
    assert [f.check for f in report.findings] == ["unsafe"]
    assert "refused to unpickle posix.system" in report.findings[0].message and not marker.exists()


def test_signformer_config_refuses_to_name_the_payload_in_a_config(hostile_part, capsys):
    import yaml

    from slt_nb.signformer.config import main

    path, marker = hostile_part
    config = path.parent / "sign.yaml"
    data = {"data_path": str(path.parent), "train": [path.name], "dev": [path.name], "test": [path.name],
            "feature_size": 1024, "foreign": DECLARED}
    config.write_text(yaml.safe_dump({"data": data}))
    assert main([str(config)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {config}: {path.name}: {path}: refused to unpickle posix.system")
    assert line.endswith("Signformer's pickle.load would run it; do not train on this file")
    assert not marker.exists()
