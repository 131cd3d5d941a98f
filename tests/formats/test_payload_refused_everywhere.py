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
