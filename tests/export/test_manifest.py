"""The manifest is typed, versioned and read and written only through slt_nb.formats.manifest."""
from __future__ import annotations

import json

import pytest

from conftest import DEMO
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.errors import DataFileError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.manifest import (MANIFEST_VERSION, Manifest, SplitEntry, manifest_path, read_manifest,
                                     write_manifest)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("manifest")
    export_split(How2SignReader(str(DEMO / "How2Sign")), "test", ExportOptions(str(out)))
    return manifest_path(out, "How2Sign")


def test_a_new_export_writes_the_version_as_the_first_key(exported):
    document = json.loads(exported.read_text())
    assert list(document)[0] == "version" and document["version"] == MANIFEST_VERSION == 2
    assert list(document)[1:4] == ["splits", "format", "slt_nb_version"]  # the order the export always wrote


def test_typed_fields_and_string_keys_read_the_same_values(exported):
    m = read_manifest(exported)
    assert isinstance(m, Manifest) and isinstance(m, dict) and m.notes == []
    assert m.version == 2 and m.dataset == m["dataset"] == "How2Sign" and m.feature_size == 1024
    entry = m.splits["test"]
    assert isinstance(entry, SplitEntry) and entry is m["splits"]["test"]
    assert entry.samples == entry["samples"] == sum(p["samples"] for p in entry.parts)
    assert entry.rows_exported + entry.rows_skipped == entry.annotation_rows
    assert "splits" in m and "test" in m.get("splits") and list(m)[0] == "version"
    assert json.loads(json.dumps(m.to_dict())) == json.loads(exported.read_text())


def test_an_old_manifest_without_version_reads_as_version_1_with_a_note(exported, tmp_path):
    document = json.loads(exported.read_text())
    del document["version"]
    old = tmp_path / "How2Sign-1024.manifest.json"
    old.write_text(json.dumps(document))
    m = read_manifest(old)
    assert m.version == 1 and "version" not in m
    assert len(m.notes) == 1 and str(old) in m.notes[0] and "version 1" in m.notes[0]
    write_manifest(m, old)
    assert read_manifest(old).version == 2 and read_manifest(old).notes == []


def test_a_newer_manifest_version_is_refused_by_name(exported, tmp_path):
    document = json.loads(exported.read_text())
    document["version"] = 7
    newer = tmp_path / "How2Sign-1024.manifest.json"
    newer.write_text(json.dumps(document))
    with pytest.raises(DataFileError) as caught:
        read_manifest(newer)
    assert str(caught.value) == f"{newer}: manifest version 7 is newer than this slt-nb reads (2); update slt-nb"


@pytest.mark.parametrize("version", ["2", 0, True, 1.5])
def test_a_version_that_is_no_version_number_is_refused(tmp_path, version):
    path = tmp_path / "x.manifest.json"
    path.write_text(json.dumps({"version": version, "splits": {}}))
    with pytest.raises(DataFileError, match="is not a version number"):
        read_manifest(path)


def test_a_document_that_is_not_an_object_is_no_manifest(tmp_path):
    path = tmp_path / "x.manifest.json"
    path.write_text("[]")
    with pytest.raises(DataFileError, match="not a manifest: the document is a list"):
        read_manifest(path)


def test_values_are_read_as_they_are_for_the_validators_to_name(tmp_path):
    path = tmp_path / "x.manifest.json"
    path.write_text(json.dumps({"feature_size": "wide", "splits": {"train": [1, 2]}}))
    m = read_manifest(path)
    assert m.feature_size == "wide" and m.splits["train"] == [1, 2]


def test_an_absent_field_reads_as_its_empty_value_and_is_not_written(tmp_path):
    m = Manifest(splits={"train": {"samples": 3}})
    assert m.splits["train"].parts == [] and m.splits["train"].parameters is None and m.variant == ""
    path = write_manifest(m, tmp_path / "x.manifest.json")
    assert json.loads(path.read_text()) == {"version": 2, "splits": {"train": {"samples": 3}}}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # written atomically, no temp left
