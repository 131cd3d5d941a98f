"""Exports meant to be trained together must mean the same thing (issue 18.4, issue 16.4).

Built on the demo trees: two splits of How2Sign exported into one folder with different
`coordinates`, and How2Sign beside LSFB-CONT in the aligned layout with and without a common rate;
then the seed's pair (own layouts, own rates), refused unless `allow_mixed_layouts` says the mix is
meant, and different feature sizes, refused even then (issue 27.1).
"""
from __future__ import annotations

import json

import pytest

from slt_nb.export.parameters import ExportParameters
from slt_nb.export.run import run_export
from slt_nb.export.validate import main as validate_main
from slt_nb.export.validate import validate_exports
from slt_nb.params import load_params
from slt_nb.signformer.config import ConfigError, resolve_config

ALIGNED = {"feature_layout": "aligned", "normalize": "shoulders"}


def errors(report, check="parameters") -> list[str]:
    return [f.message for f in report.findings if f.severity == "error" and f.check == check]


def config(folder, train, dev, test) -> dict:
    return {"data": {"data_path": str(folder), "train": train, "dev": dev, "test": test, "feature_size": 1024,
                     "sgn": "sign", "txt": "text", "gls": "gloss", "level": "word", "max_sent_length": 400}}


def test_two_splits_of_one_folder_with_different_coordinates_are_refused(tmp_path):
    run_export(load_params("How2Sign", {"output_dir": str(tmp_path), "splits": ["train", "test"]}))
    run_export(load_params("How2Sign", {"output_dir": str(tmp_path), "splits": ["val"], "coordinates": "pixels"}))
    manifest_file = tmp_path / "How2Sign-1024.manifest.json"
    manifest = json.loads(manifest_file.read_text())
    assert manifest["splits"]["train"]["parameters"]["coordinates"] == "normalised"
    assert manifest["splits"]["val"]["parameters"]["coordinates"] == "pixels"

    found = errors(validate_exports([manifest_file]))
    assert len(found) == 1, found
    assert "disagree on coordinates" in found[0]
    assert "pixels: How2Sign-1024 (val)" in found[0] and "normalised: How2Sign-1024 (train, test)" in found[0]

    with pytest.raises(ConfigError, match="cannot be trained together.*coordinates"):
        resolve_config(config(tmp_path, ["How2Sign-1024.pami0.train"], ["How2Sign-1024.pami0.val"],
                              ["How2Sign-1024.pami0.test"]))
    # The splits that agree still make a config.
    resolved, _ = resolve_config(config(tmp_path, ["How2Sign-1024.pami0.train"], ["How2Sign-1024.pami0.test"],
                                        ["How2Sign-1024.pami0.test"]))
    assert resolved["data"]["train"] == ["How2Sign-1024.pami0.train.part0"]


def test_aligned_corpora_at_their_own_rates_are_refused_until_resampled(tmp_path):
    own = tmp_path / "own"
    for name in ("How2Sign", "LSFB-CONT"):
        run_export(load_params(name, {"output_dir": str(own), **ALIGNED}))
    found = errors(validate_exports(sorted(own.glob("*.manifest.json"))))
    assert len(found) == 1 and "disagree on fps (24: How2Sign-1024" in found[0] and "50: LSFB-CONT-1024" in found[0]

    common = tmp_path / "common"
    for name in ("How2Sign", "LSFB-CONT"):
        run_export(load_params(name, {"output_dir": str(common), **ALIGNED, "fps": 25}))
    report = validate_exports(sorted(common.glob("*.manifest.json")))
    assert report.errors() == [], [f.message for f in report.findings]


def test_seed_beside_aligned_names_layout_first_and_no_coordinates_noise(tmp_path):
    run_export(load_params("How2Sign", {"output_dir": str(tmp_path)}))
    run_export(load_params("LSFB-CONT", {"output_dir": str(tmp_path), **ALIGNED, "fps": 24}))
    found = errors(validate_exports(sorted(tmp_path.glob("*.manifest.json"))))
    keys = [m.split("disagree on ")[1].split(" ")[0] for m in found]
    assert keys == ["layout", "normalize"], found  # shoulder units have no coordinates to disagree on


MIX_HINT = ("pass --allow-mixed-layouts (validate: --allow-mixed-layouts, export notebook: -p allow_mixed_layouts true) "
            "to train them together anyway")


@pytest.fixture(scope="module")
def seed_pair(tmp_path_factory):
    """The seed's How2Sign (134 columns, 24 fps) and LSFB-CONT (150 columns, 50 fps) exports in one folder."""
    folder = tmp_path_factory.mktemp("seed")
    for name in ("How2Sign", "LSFB-CONT"):
        run_export(load_params(name, {"output_dir": str(folder)}))
    return sorted(folder.glob("*.manifest.json"))


def test_seed_pair_fails_validation_and_the_errors_name_the_option(seed_pair, capsys):
    report = validate_exports(seed_pair)
    found = errors(report)
    assert [m.split(" (")[0] for m in found] == ["exports disagree on layout", "exports disagree on fps"]
    assert all(m.endswith("; " + MIX_HINT) for m in found)
    assert not report.ok
    assert validate_main([str(p) for p in seed_pair]) == 1
    assert "ERROR    parameters" in capsys.readouterr().out


def test_seed_pair_with_allow_mixed_layouts_validates_with_warnings(seed_pair, capsys):
    for allow in (True, "true"):  # the export notebook's `-p allow_mixed_layouts true` arrives as a word
        report = validate_exports(seed_pair, allow_mixed_layouts=allow)
        assert report.ok, [f.message for f in report.errors()]
        warned = [f.message for f in report.findings if f.severity == "warning" and f.check == "parameters"]
        assert [m.split(" (")[0] for m in warned] == ["exports disagree on layout", "exports disagree on fps"]
        assert all(m.endswith("; trained together anyway (allow_mixed_layouts)") for m in warned)
    assert validate_main([*map(str, seed_pair), "--allow-mixed-layouts"]) == 0
    out = capsys.readouterr().out
    assert "WARNING  parameters" in out and "ERROR" not in out


def test_export_parameters_read_allow_mixed_layouts_as_a_flag():
    assert ExportParameters.from_params(load_params("How2Sign")).allow_mixed_layouts is False
    assert ExportParameters.from_params(load_params("How2Sign", {"allow_mixed_layouts": "true"})).allow_mixed_layouts


def test_different_feature_sizes_stay_errors_with_allow_mixed_layouts(seed_pair, tmp_path):
    run_export(load_params("LSFB-CONT", {"output_dir": str(tmp_path), "feature_size": 512}))
    narrow = tmp_path / "LSFB-CONT-512.manifest.json"
    how2sign = next(p for p in seed_pair if p.name.startswith("How2Sign"))
    report = validate_exports([how2sign, narrow], allow_mixed_layouts=True)
    assert not report.ok
    assert any(m.startswith("exports disagree on feature_size (1024: How2Sign-1024") for m in errors(report))
    assert errors(report, "feature size")  # every narrow sample, blamed against the majority
