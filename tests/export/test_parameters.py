"""Export parameters are parsed once, with one default per shared parameter (slt_nb.export.parameters)."""
from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from slt_nb.errors import ParameterError
from slt_nb.export.parameters import ExportParameters, export_defaults, load_export_params
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH

CORPORA = ("How2Sign", "How2Sign-aug", "LSFB-CONT", "LSFB-CONT-aug", "PoseFormat")


def shown(value) -> str:
    if isinstance(value, list):
        return ",".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_the_params_files_hold_no_copy_of_a_shared_default():
    # slt-nb run reads splits from the file; feature_size is in the output names (and read by tests/test_contracts.py)
    shared = set(export_defaults()) - {"output_dir", "splits", "feature_size"}
    for name in CORPORA:
        keys = set(yaml.safe_load((REPO / "params" / f"{name}.yaml").read_text()))
        assert not keys & shared, (name, keys & shared)


@pytest.mark.parametrize("name", CORPORA)
def test_every_corpus_gets_the_shared_defaults(name):
    export = ExportParameters.from_params(load_export_params(name))
    assert export.options.chunk_size == 100 and export.options.feature_size == 1024
    assert export.options.min_frames == 2 and export.options.features.feature_layout == "seed"
    assert export.engine.workers == 1 and export.engine.retries == 2 and export.resume is True
    assert export.max_sent_length == SIGNFORMER_MAX_SENT_LENGTH == 400
    assert export.splits == ["train", "val", "test"] and export.output_dir.name == "exports"


def test_the_export_help_names_each_shared_default():
    import papermill

    parameters = papermill.inspect_notebook(str(REPO / "notebooks" / "export.ipynb"))
    defaults = export_defaults()
    for name, p in parameters.items():
        if name in defaults and defaults[name] is not None:
            assert f"default {shown(defaults[name])}" in (p.get("help") or ""), (name, p.get("help"))


def test_a_value_from_the_params_file_or_papermill_overrides_the_default():
    export = ExportParameters.from_params(load_export_params("How2Sign", {"chunk_size": "7", "resume": "no"}))
    assert export.options.chunk_size == 7 and export.resume is False


@pytest.mark.parametrize("name, value", [("max_sent_length", "long"), ("resume", "maybe"), ("splits", "{a}")])
def test_a_bad_value_is_named_before_a_file_is_read(name, value):
    with pytest.raises(ParameterError, match=f"parameter '{name}'"):
        ExportParameters.from_params(load_export_params("How2Sign", {name: value}))
