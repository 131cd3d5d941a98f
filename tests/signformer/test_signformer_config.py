import shutil
import subprocess
import sys

import pytest
import yaml

from slt_nb.export.run import run_export
from slt_nb.params import load_params
from slt_nb.signformer.config import ConfigError, resolve_config
from conftest import REPO
from signformer_fixtures import brief_config, make_demo_exports


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory):
    return make_demo_exports(tmp_path_factory)


def test_brief_config_becomes_part_lists_signformer_accepts(demo_exports):
    folder, manifests = demo_exports
    resolved, notes = resolve_config(brief_config(folder))
    data = resolved["data"]
    h2s_train = [p["file"] for p in manifests["How2Sign"]["splits"]["train"]["parts"]]
    lsfb_train = [p["file"] for p in manifests["LSFB-CONT"]["splits"]["train"]["parts"]]
    assert len(h2s_train) >= 2 and len(lsfb_train) >= 2
    assert data["train"] == h2s_train + lsfb_train  # part order, dataset order kept
    assert data["dev"][0] == "How2Sign-1024.pami0.val.part0"
    assert all(isinstance(data[k], list) for k in ("train", "dev", "test"))
    assert data["feature_size"] == [1024]
    assert data["multimodal"] == 0.0
    assert "stream_train_parts" not in data
    assert any("removed stream_train_parts" in n for n in notes)
    assert resolved["training"] == {"batch_size": 4}
    for key in ("train", "dev", "test"):
        assert all((folder / p).is_file() for p in data[key])


def test_dev_stem_finds_the_exports_val_split(demo_exports):
    folder, _ = demo_exports
    config = brief_config(folder)
    config["data"]["dev"] = ["How2Sign-1024.pami0.dev"]
    resolved, _ = resolve_config(config)
    assert resolved["data"]["dev"] == ["How2Sign-1024.pami0.val.part0"]


def test_stem_without_parts_is_rejected(demo_exports):
    folder, _ = demo_exports
    config = brief_config(folder)
    config["data"]["train"] = ["WLASL-1024.pami0.train"]
    with pytest.raises(ConfigError, match="WLASL-1024.pami0.train: no part files"):
        resolve_config(config)


def test_part_missing_from_manifest_is_rejected(demo_exports, tmp_path):
    folder, _ = demo_exports
    copy = tmp_path / "exports"
    shutil.copytree(folder, copy)
    shutil.copy(copy / "How2Sign-1024.pami0.train.part0", copy / "How2Sign-1024.pami0.train.part9")
    with pytest.raises(ConfigError, match=r"\['How2Sign-1024.pami0.train.part9'\].*missing from How2Sign-1024"):
        resolve_config(brief_config(copy))


def test_listed_part_file_that_is_gone_is_rejected(demo_exports, tmp_path):
    folder, _ = demo_exports
    copy = tmp_path / "exports"
    shutil.copytree(folder, copy)
    (copy / "LSFB-CONT-1024.pami0.test.part0").unlink()
    with pytest.raises(ConfigError, match="LSFB-CONT-1024.pami0.test.part0 is listed in .* but missing"):
        resolve_config(brief_config(copy))


def test_changed_part_fails_its_sha256(demo_exports, tmp_path):
    folder, _ = demo_exports
    copy = tmp_path / "exports"
    shutil.copytree(folder, copy)
    part = copy / "How2Sign-1024.pami0.val.part0"
    data = bytearray(part.read_bytes())
    data[-12] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="val.part0 differs from the sha256"):
        resolve_config(brief_config(copy))
    resolved, _ = resolve_config(brief_config(copy), verify_sha256=False)
    assert resolved["data"]["dev"][0] == "How2Sign-1024.pami0.val.part0"


def test_datasets_with_different_feature_sizes_are_rejected(demo_exports, tmp_path):
    folder, _ = demo_exports
    run_export(load_params("LSFB-CONT", {"output_dir": str(tmp_path), "feature_size": 512}))
    for name in ("How2Sign-1024.manifest.json",):
        shutil.copy(folder / name, tmp_path / name)
    for part in folder.glob("How2Sign-1024.pami0.*"):
        shutil.copy(part, tmp_path / part.name)
    config = brief_config(tmp_path)
    for key in ("train", "dev", "test"):
        config["data"][key] = [s.replace("LSFB-CONT-1024", "LSFB-CONT-512") for s in config["data"][key]]
    with pytest.raises(ConfigError, match="different feature sizes.*How2Sign-1024.pami0.train: 1024.*: 512"):
        resolve_config(config)


def test_feature_size_that_disagrees_with_the_exports_is_rejected(demo_exports):
    folder, _ = demo_exports
    with pytest.raises(ConfigError, match="feature_size is 512 but the exports have 1024"):
        resolve_config(brief_config(folder, feature_size=512))


def test_whole_data_file_is_kept_as_it_is(demo_exports, tmp_path):
    folder, _ = demo_exports
    shutil.copy(folder / "How2Sign-1024.pami0.test.part0", tmp_path / "phoenix14t.pami0.test")
    config = brief_config(tmp_path)
    config["data"].update(train=["phoenix14t.pami0.test"], dev=["phoenix14t.pami0.test"],
                          test=["phoenix14t.pami0.test"])
    resolved, _ = resolve_config(config)
    assert resolved["data"]["train"] == ["phoenix14t.pami0.test"]


def test_command_writes_the_resolved_yaml_to_stdout(demo_exports, tmp_path):
    folder, _ = demo_exports
    source = tmp_path / "brief.yaml"
    source.write_text(yaml.safe_dump(brief_config(folder)))
    run = subprocess.run([sys.executable, "-m", "slt_nb.signformer.config", str(source)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# Resolved by slt-nb signformer-config")
    assert yaml.safe_load(run.stdout)["data"]["feature_size"] == [1024]
    assert "note: removed stream_train_parts" in run.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(brief_config(tmp_path)))  # no exports there
    run = subprocess.run([sys.executable, "-m", "slt_nb.signformer.config", str(bad)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 1
    assert "How2Sign-1024.pami0.train: no part files" in run.stderr and run.stdout == ""


def test_stems_in_a_subfolder_keep_it_and_long_clips_are_noted(demo_exports):
    folder, manifests = demo_exports
    config = brief_config(folder.parent, max_sent_length=100)
    for key in ("train", "dev", "test"):
        config["data"][key] = [f"{folder.name}/{s}" for s in config["data"][key]]
    resolved, notes = resolve_config(config)
    assert resolved["data"]["train"][0] == f"{folder.name}/How2Sign-1024.pami0.train.part0"
    long_h2s = sum(1 for n in manifests["How2Sign"]["splits"]["train"]["clip_frames"].values() if n > 100)
    assert long_h2s > 0
    assert any(n.startswith(f"train: {long_h2s} of ") and "How2Sign-1024.pami0.train have more than "
               "max_sent_length 100" in n for n in notes)


def test_single_stem_strings_become_lists_and_missing_keys_get_signformers_values(demo_exports):
    folder, manifests = demo_exports
    config = {"data": {"data_path": str(folder), "train": "How2Sign-1024.pami0.train",
                       "dev": "How2Sign-1024.pami0.val", "test": "How2Sign-1024.pami0.test",
                       "feature_size": 1024, "stream_train_parts": True, "multimodal": 1.0}}
    resolved, notes = resolve_config(config)
    data = resolved["data"]
    assert data["train"] == [p["file"] for p in manifests["How2Sign"]["splits"]["train"]["parts"]]
    assert data["dev"] == ["How2Sign-1024.pami0.val.part0"] and isinstance(data["test"], list)
    assert (data["level"], data["txt_lowercase"], data["max_sent_length"]) == ("word", True, 400)
    assert data["multimodal"] == 0.0 and any(n.startswith("multimodal: 1.0 -> 0.0") for n in notes)
