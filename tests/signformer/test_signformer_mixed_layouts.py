"""The seed's purpose: How2Sign (134 columns) and LSFB-CONT (150) zero-padded to 1024, trained together.

Their seed exports disagree on layout and fps, so `signformer-config` refuses them by default and
names the option that lets a user who means the mix go on; with `--allow-mixed-layouts` the config
resolves, says on top what differs, and Signformer's own loading reads it. Rows of different widths
stay refused: Signformer cannot stack them at all.
"""
import shutil
import subprocess
import sys

import pytest
import yaml

from slt_nb.errors import ConfigError, IncompatibleExports
from slt_nb.export.run import run_export
from slt_nb.params import load_params
from slt_nb.signformer.config import config_yaml, main, resolve_config
from conftest import REPO
from signformer_fixtures import brief_config, make_demo_exports

SEED = {"feature_layout": "seed"}  # the seed's options: each corpus in its own columns, at its own rate
HINT = ("pass --allow-mixed-layouts (validate: --allow-mixed-layouts, export notebook: -p allow_mixed_layouts true) "
        "to train them together anyway")


@pytest.fixture(scope="module")
def seed_exports(tmp_path_factory):
    return make_demo_exports(tmp_path_factory, **SEED)


def test_seed_how2sign_beside_seed_lsfb_is_refused_and_the_option_is_named(seed_exports):
    folder, _ = seed_exports
    with pytest.raises(IncompatibleExports) as refused:
        resolve_config(brief_config(folder))
    message = str(refused.value)
    assert message.startswith("these exports cannot be trained together: exports disagree on layout (")
    assert "; exports disagree on fps (24: How2Sign-1024 (train, val, test); 50: LSFB-CONT-1024" in message
    assert message.endswith("; " + HINT)


def test_allowed_mix_resolves_with_a_comment_block_naming_layout_and_fps(seed_exports):
    folder, manifests = seed_exports
    resolved, notes = resolve_config(brief_config(folder), allow_mixed_layouts=True)
    h2s_train = [p["file"] for p in manifests["How2Sign"]["splits"]["train"]["parts"]]
    lsfb_train = [p["file"] for p in manifests["LSFB-CONT"]["splits"]["train"]["parts"]]
    assert resolved["data"]["train"] == h2s_train + lsfb_train
    assert resolved["data"]["feature_size"] == [1024]

    lines = config_yaml(resolved, notes, "brief.yaml").splitlines()
    assert lines[0] == "# allow_mixed_layouts: these exports disagree and are trained together anyway:"
    assert lines[1].startswith("#   exports disagree on layout (openpose_body25_hands_xy: How2Sign-1024")
    assert lines[2].startswith("#   exports disagree on fps (24: How2Sign-1024")
    assert lines[3] == "# Resolved by slt-nb signformer-config from brief.yaml."
    assert not any("exports disagree" in line for line in lines[3:])


def test_signformers_loading_reads_the_allowed_mix(seed_exports):
    pytest.importorskip("torch")
    pytest.importorskip("torchtext", reason="the signformer extra: pip install -e '.[signformer]'")
    from slt_nb.signformer import vocabulary
    from slt_nb.testing.signformer_reference import reference_load_data

    folder, manifests = seed_exports
    resolved, _ = resolve_config(brief_config(folder, max_sent_length=400), allow_mixed_layouts=True)
    train, dev, test, _, txt_vocab = reference_load_data(resolved["data"], vocabulary)
    for split, dataset in (("val", dev), ("test", test)):
        expected = sum(m["splits"][split]["samples"] for m in manifests.values())
        assert len(dataset) == expected
    long = sum(1 for m in manifests.values() for n in m["splits"]["train"]["clip_frames"].values() if n > 400)
    assert len(train) == sum(m["splits"]["train"]["samples"] for m in manifests.values()) - long
    assert {len(frame) for example in train.examples for frame in example.sgn} == {1024}
    assert len(txt_vocab) > 4  # the special tokens and the train texts' words


def test_command_warns_once_per_differing_parameter_and_writes_the_block(seed_exports, tmp_path):
    folder, _ = seed_exports
    source = tmp_path / "brief.yaml"
    source.write_text(yaml.safe_dump(brief_config(folder)))
    command = [sys.executable, "-m", "slt_nb.signformer.config", str(source)]
    refused = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"error: {source}: these exports cannot be trained together: ")
    assert refused.stderr.rstrip().endswith(HINT)

    allowed = subprocess.run([*command, "--allow-mixed-layouts"], capture_output=True, text=True, cwd=REPO,
                             timeout=120)
    assert allowed.returncode == 0, allowed.stderr
    warnings = [line for line in allowed.stderr.splitlines() if line.startswith("warning: ")]
    assert [w.split(" (")[0] for w in warnings] == ["warning: exports disagree on layout",
                                                    "warning: exports disagree on fps"]
    assert allowed.stdout.startswith("# allow_mixed_layouts: these exports disagree and are trained together anyway:\n"
                                     "#   exports disagree on layout (")
    assert yaml.safe_load(allowed.stdout)["data"]["multimodal"] == 0.0


def test_slt_nb_command_takes_the_option_and_writes_the_output_file(seed_exports, tmp_path, capsys):
    from slt_nb import cli

    folder, _ = seed_exports
    source, output = tmp_path / "brief.yaml", tmp_path / "sign_slt.yaml"
    source.write_text(yaml.safe_dump(brief_config(folder)))
    assert cli.main(["signformer-config", str(source), "-o", str(output), "--allow-mixed-layouts"]) == 0
    assert output.read_text().startswith("# allow_mixed_layouts:")
    assert main([str(source)]) == 1 and "--allow-mixed-layouts" in capsys.readouterr().err


def test_different_feature_sizes_stay_refused_with_the_option(seed_exports, tmp_path):
    folder, _ = seed_exports
    run_export(load_params("LSFB-CONT", {"output_dir": str(tmp_path), "feature_size": 512, **SEED}))
    for path in folder.glob("How2Sign-1024.*"):
        shutil.copy(path, tmp_path / path.name)
    config = brief_config(tmp_path)
    for key in ("train", "dev", "test"):
        config["data"][key] = [s.replace("LSFB-CONT-1024", "LSFB-CONT-512") for s in config["data"][key]]
    with pytest.raises(ConfigError, match="different feature sizes.*How2Sign-1024.pami0.train: 1024.*: 512") as refused:
        resolve_config(config, allow_mixed_layouts=True)
    assert not isinstance(refused.value, IncompatibleExports)  # nothing to allow: the rows cannot be stacked
