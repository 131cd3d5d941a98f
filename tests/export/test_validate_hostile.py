"""validate on broken manifests, stray parts, a stray feature size and too-short samples."""
import gzip
import json
import pickle
import shutil

import pytest
import torch

from conftest import DEMO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.export.pipeline import ExportOptions, export_split, manifest_path
from slt_nb.export.validate import main, validate_exports


def _sample(name, t=5, d=1024):
    return {"name": name, "signer": "", "gloss": "", "text": "hello", "sign": torch.rand(t, d)}


def _write(path, samples):
    with gzip.open(path, "wb") as f:
        pickle.dump(samples, f)
    return path


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    export_split(How2SignReader(str(DEMO / "How2Sign")), "test", ExportOptions(str(out), chunk_size=2))
    return out


def _copy(export, tmp_path):
    out = tmp_path / "export"
    shutil.copytree(export, out)
    return out, manifest_path(out, "How2Sign")


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    ("{}", "an empty object; expected an export manifest with 'dataset' and 'splits'"),
    ("[]", "a JSON list without 'splits'"),
    ('{"dataset": "How2Sign", "splits": {}}', "lists no splits"),
    ('{"dataset": "How2Sign", "splits": {"test": {"parts": [{"file": "x"}]}}}', "part entry 0 needs keys"),
    ('{"dataset": "How2Sign", "splits": {"test": {"parts": [{"file": "../x", "samples": 1, "sha256": ""}]}}}',
     "expected a file name beside the manifest"),
])
def test_a_broken_or_empty_manifest_is_a_clear_error_not_a_traceback(tmp_path, content, expected, capsys):
    manifest = tmp_path / "How2Sign-1024.manifest.json"
    manifest.write_text(content)
    report = validate_exports([manifest])
    assert not report.ok
    (finding,) = [f for f in report.findings if f.check == "manifest"]
    assert finding.file == str(manifest) and expected in finding.message
    assert main([str(manifest)]) == 1 and expected in capsys.readouterr().out


def test_a_manifest_that_is_not_text_is_named(tmp_path):
    manifest = tmp_path / "How2Sign-1024.manifest.json"
    manifest.write_bytes(gzip.compress(b"{}"))
    report = validate_exports([manifest])
    assert [f.check for f in report.findings] == ["manifest"] and "not UTF-8" in report.findings[0].message


def test_a_part_on_disk_that_the_manifest_does_not_list_is_flagged(export, tmp_path):
    out, manifest = _copy(export, tmp_path)
    assert validate_exports([manifest]).ok
    stray = out / "How2Sign-1024.pami0.test.part7"
    shutil.copy(out / "How2Sign-1024.pami0.test.part0", stray)
    report = validate_exports([manifest])
    (f,) = report.findings
    assert (f.check, f.severity, f.file) == ("unlisted part", "error", str(stray))
    # hidden temp files of a running export are no parts
    (out / ".How2Sign-1024.pami0.test.part0.tmp-123-abcdef01").write_bytes(b"")
    assert len(validate_exports([manifest]).findings) == 1


def test_the_sample_that_differs_from_the_majority_is_blamed(tmp_path):
    part = _write(tmp_path / "D-1024.pami0.train.part0",
                  [_sample("train/odd", d=134)] + [_sample(f"train/ok{i}") for i in range(3)])
    report = validate_exports([part])
    (f,) = [f for f in report.findings if f.check == "feature size"]
    assert f.sample == "train/odd" and "134 features but 3 of 4 samples" in f.message and "[1024]" in f.message


def test_required_feature_size_blames_every_sample_that_lacks_it(tmp_path):
    part = _write(tmp_path / "D-1024.pami0.train.part0", [_sample("train/a", d=134), _sample("train/b", d=134)])
    report = validate_exports([part], feature_size=1024)
    assert sorted(f.sample for f in report.findings if f.check == "feature size") == ["train/a", "train/b"]


def test_samples_under_two_frames_are_errors(tmp_path):
    part = _write(tmp_path / "D-1024.pami0.dev.part0", [_sample("dev/one", t=1), _sample("dev/two", t=2)])
    report = validate_exports([part])
    assert not report.ok
    assert [(f.sample, f.severity) for f in report.findings if f.check == "too short"] == [("dev/one", "error")]
    assert "NaN" in report.findings[0].message


def test_a_real_manifest_with_its_parts_still_validates_clean(export):
    report = validate_exports([manifest_path(export, "How2Sign")])
    assert report.ok and report.findings == [] and report.parts == 2
    assert json.loads(manifest_path(export, "How2Sign").read_text())["splits"]["test"]["rows_exported"] == 4


def test_a_bare_file_without_a_part_number_is_a_load_finding_not_a_traceback(tmp_path):
    odd = _write(tmp_path / "D-1024.pami0.train", [_sample("train/a")])
    junk = tmp_path / "notes.txt"
    junk.write_text("not a part")
    report = validate_exports([odd, junk])
    assert report.samples == 1 and [f.check for f in report.findings] == ["load"]
    assert report.findings[0].file == str(junk)


@pytest.fixture(scope="module")
def demo_val_part(tmp_path_factory):
    """The val part of the demo How2Sign export, made as a user makes it (params/How2Sign.yaml)."""
    from slt_nb.export.run import run_export
    from slt_nb.params import load_params

    out = tmp_path_factory.mktemp("demo-export")
    run_export(load_params("How2Sign", {"output_dir": str(out), "splits": ["val"]}))
    return out / "How2Sign-1024.pami0.val.part0"


def _flips(size: int) -> list[tuple[int, int]]:
    """(byte, bit): every byte of the gzip header and trailer, and 50 spread over the deflate data."""
    inner = range(10, size - 8, max(1, (size - 18) // 50))
    return [(offset, offset % 8) for offset in [*range(10), *inner, *range(size - 8, size)]]


def _flipped(part, offset: int, bit: int) -> bytes:
    data = bytearray(part.read_bytes())
    data[offset] ^= 1 << bit
    return bytes(data)


def _caught_by_gzip(data: bytes) -> bool:
    try:
        gzip.decompress(data)
    except Exception:
        return True
    return False


def test_a_flipped_bit_in_a_part_alone_is_caught_wherever_gzip_catches_it(demo_val_part, tmp_path, capsys):
    part = tmp_path / demo_val_part.name  # no manifest beside it: only the gzip stream can tell
    part.write_bytes(demo_val_part.read_bytes())
    assert validate_exports([part]).ok
    flips = _flips(part.stat().st_size)
    missed = []
    for offset, bit in flips:
        data = _flipped(demo_val_part, offset, bit)
        if not _caught_by_gzip(data):
            continue  # MTIME, XFL, OS bytes of the header: gzip itself does not check them
        part.write_bytes(data)
        report = validate_exports([part])
        if report.ok or any(f.file != str(part) for f in report.errors()):
            missed.append((offset, bit, [(f.check, f.message) for f in report.findings]))
    assert not missed, f"{len(missed)} flips that gzip catches pass validate: {missed[:3]}"
    assert sum(_caught_by_gzip(_flipped(demo_val_part, o, b)) for o, b in flips) > 50
    capsys.readouterr()
    part.write_bytes(_flipped(demo_val_part, part.stat().st_size // 2, 3))
    assert main([str(part)]) == 1
    out = capsys.readouterr().out
    assert f"{part}: corrupt gzip stream (BadGzipFile: CRC check failed" in out or f"{part}: gzip + pickle.load" in out


@pytest.mark.parametrize("given", ["manifest", "part"])
def test_every_flipped_bit_in_a_part_is_caught_when_its_manifest_lists_it(demo_val_part, tmp_path, given):
    out = tmp_path / "export"
    shutil.copytree(demo_val_part.parent, out)
    part = out / demo_val_part.name
    target = out / "How2Sign-1024.manifest.json" if given == "manifest" else part
    assert validate_exports([target]).ok
    missed = []
    for offset, bit in _flips(part.stat().st_size):
        part.write_bytes(_flipped(demo_val_part, offset, bit))
        report = validate_exports([target])
        sha = [f for f in report.errors() if f.check == "sha256" and f.file == str(part)]
        if not sha:
            missed.append((offset, bit))
    assert not missed, f"flips not caught by the manifest's sha256: {missed}"
