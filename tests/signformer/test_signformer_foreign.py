"""signformer-config with a .pami0 set made outside slt-nb beside holistic-512 exports.

How2Sign, LSFB-CONT and PoseFormat exported into holistic-512 at 25 fps, and the foreign set
(written as Signformer's users write one, gzip.open + pickle.dump, from the real demo videos'
MediaPipe arrays in holistic-512's columns at 25 fps) in the same data_path: a config naming them
all resolves when `data.foreign` declares the set, and is refused naming what differs when not.
"""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from slt_nb.errors import ConfigError, IncompatibleExports
from slt_nb.signformer.config import main, resolve_config
from slt_nb.testing.foreign_pami import DECLARED, holistic_exports, sample, write_demo_set, write_plain

CORPORA = ("How2Sign", "LSFB-CONT", "PoseFormat")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("together")
    holistic_exports(out, CORPORA, fps=25)
    write_demo_set(out)
    return out


def config(folder, foreign=None) -> dict:
    data = {"data_path": str(folder), "version": "phoenix_2014_trans", "sgn": "sign", "txt": "text", "gls": "gloss",
            "train": [f"{c}-1024.pami0.train" for c in CORPORA] + ["demo512.pami0.train"],
            "dev": [f"{c}-1024.pami0.val" for c in CORPORA] + ["demo512.pami0.dev"],
            "test": [f"{c}-1024.pami0.test" for c in CORPORA],
            "feature_size": 1024, "level": "word", "txt_lowercase": True, "max_sent_length": 400}
    if foreign is not None:
        data["foreign"] = foreign
    return {"name": "together", "data": data}


def test_a_config_training_the_exports_and_the_declared_set_together_resolves(folder):
    resolved, notes = resolve_config(config(folder, DECLARED))
    data = resolved["data"]
    assert data["train"][-2:] == ["demo512.pami0.train.part0", "demo512.pami0.train.part1"]
    assert data["dev"][-1] == "demo512.pami0.dev" and data["feature_size"] == [1024]
    assert all((folder / p).is_file() for key in ("train", "dev", "test") for p in data[key])
    assert "foreign" not in data and data["multimodal"] == 0.0
    assert "train: demo512.pami0.train -> 2 part files" in notes
    assert any(n.startswith("removed foreign:") and "checked above" in n for n in notes)
    per_set = resolve_config(config(folder, {"demo512": DECLARED}))[0]
    assert per_set["data"] == data


def test_the_set_declared_at_24_fps_is_refused_naming_the_rates(folder):
    with pytest.raises(IncompatibleExports, match=r"exports disagree on fps \(25: How2Sign-1024 \(train, val, test\), "
                                                  r"LSFB-CONT-1024 \(train, val, test\), PoseFormat-1024 "
                                                  r"\(train, val, test\); 24: demo512 \(train, dev\)\)"):
        resolve_config(config(folder, {"demo512": {**DECLARED, "fps": 24}}))
    resolved, notes = resolve_config(config(folder, {"demo512": {**DECLARED, "fps": 24}}), allow_mixed_layouts=True)
    assert any(str(n).startswith("exports disagree on fps") for n in notes)


def test_an_undeclared_set_of_parts_is_refused_with_the_way_to_declare_it(folder):
    with pytest.raises(ConfigError, match=r"demo512\.pami0\.train: 2 part files .* no manifest demo512\.manifest\.json"
                                          r".* or declare the set under data\.foreign \(demo512: \{layout: "):
        resolve_config(config(folder))


def test_a_whole_file_of_another_width_is_refused_before_signformer_stacks_it(folder, tmp_path):
    write_plain(tmp_path / "narrow.pami0.dev", [sample("dev/x", np.ones((5, 150), np.float32), "a text")])
    for name in CORPORA:
        for p in folder.glob(f"{name}-1024.*"):
            (tmp_path / p.name).symlink_to(p)
    broken = config(tmp_path)
    broken["data"].update(train=["PoseFormat-1024.pami0.train"], dev=["narrow.pami0.dev"], test=["narrow.pami0.dev"])
    with pytest.raises(ConfigError, match=r"different feature sizes cannot be trained together .*narrow\.pami0\.dev: 150"):
        resolve_config(broken)


def test_the_command_writes_the_config_and_names_a_bad_declaration(folder, tmp_path, capsys):
    source = tmp_path / "together.yaml"
    source.write_text(yaml.safe_dump(config(folder, DECLARED)))
    assert main([str(source), "-o", str(tmp_path / "out.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "out.yaml").read_text())["data"]["dev"][-1] == "demo512.pami0.dev"
    assert "note: train: demo512.pami0.train -> 2 part files" in capsys.readouterr().err
    source.write_text(yaml.safe_dump(config(folder, {"layout": "holistic-512", "normalise": "frame"})))
    assert main([str(source)]) == 1
    assert capsys.readouterr().err.strip() == (f"error: {source}: data.foreign: unknown keys ['normalise']; a foreign "
                                               "set declares ['layout', 'fps', 'normalize', 'coordinates', "
                                               "'min_confidence', 'frame_size']")


def test_signformer_s_own_load_data_reads_the_exports_and_the_set_together(folder):
    pytest.importorskip("torchtext", reason="the signformer extra: pip install -e '.[signformer]'")
    from slt_nb.formats.pami import load_signformer
    from slt_nb.signformer import vocabulary
    from slt_nb.testing.signformer_reference import reference_load_data

    resolved, _ = resolve_config(config(folder, DECLARED))
    data = resolved["data"]
    train, dev, test, _, txt_vocab = reference_load_data(data, vocabulary)
    files = {key: [load_signformer(folder / p) for p in data[key]] for key in ("train", "dev", "test")}
    for key, dataset in (("dev", dev), ("test", test)):
        assert len(dataset) == sum(len(samples) for samples in files[key])
    kept = [s for samples in files["train"] for s in samples if len(s["sign"]) <= data["max_sent_length"]]
    assert len(train) == len(kept)
    foreign_names = {s["name"] for p in data["train"] if p.startswith("demo512") for s in load_signformer(folder / p)}
    assert foreign_names and foreign_names <= {e.sequence for e in train.examples}
    assert {len(frame) for example in train.examples for frame in example.sgn} == {1024}
    assert len(txt_vocab) > 4
