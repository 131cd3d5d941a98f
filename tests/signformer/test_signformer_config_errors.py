"""`slt-nb signformer-config` on broken configs and manifests: one `error:` line naming the file, exit 1.

Each case was a raw traceback before (ValueError, UnicodeDecodeError, RecursionError,
JSONDecodeError, TypeError, KeyError, MemoryError on a billion-laughs document).
"""
import json
import os
import resource
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from signformer_fixtures import brief_config, make_demo_exports

MANIFEST = "How2Sign-1024.manifest.json"


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory):
    return make_demo_exports(tmp_path_factory)[0]


def _one_gib_of_memory():
    # a billion-laughs document that got through would be stopped here rather than fill the machine
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def assert_one_error(config, *expected: str):
    run = subprocess.run([sys.executable, "-m", "slt_nb", "signformer-config", str(config)],
                         capture_output=True, text=True, cwd=REPO, timeout=120, preexec_fn=_one_gib_of_memory,
                         env={**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"})
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert run.stdout == ""
    return lines[0]


def brief_yaml(folder, path, **data):
    config = brief_config(folder)
    config["data"].update(data)
    path.write_text(yaml.safe_dump(config))
    return path


def test_feature_size_that_is_not_a_number(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml", feature_size="abc")
    assert_one_error(config, f"error: {config}: data.feature_size is 'abc', expected a whole number")


def test_feature_size_list_with_a_word(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml", feature_size=[512, "half"])
    assert_one_error(config, f"{config}: data.feature_size[1] is 'half'")


def test_feature_size_that_is_a_mapping(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml", feature_size={"a": 1})
    assert_one_error(config, "data.feature_size is {'a': 1}, expected a whole number")


def test_max_sent_length_that_is_not_a_number(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml", max_sent_length="long")
    assert_one_error(config, "data.max_sent_length is 'long', expected a whole number")


def test_train_entry_that_is_a_mapping(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml", train=[{"file": "How2Sign-1024.pami0.train"}])
    assert_one_error(config, "data.train has {'file': 'How2Sign-1024.pami0.train'}, expected an export stem")


def test_config_that_is_not_utf8(demo_exports, tmp_path):
    config = brief_yaml(demo_exports, tmp_path / "c.yaml")
    config.write_bytes(config.read_bytes().replace(b"slt_nb_demo", b"slt_nb_d\xe9mo"))  # Latin-1 e-acute
    assert_one_error(config, f"{config}: not UTF-8 text (byte ")


def test_config_nested_deeper_than_python_can_read(tmp_path):
    config = tmp_path / "deep.yaml"
    config.write_text("data: " + "[" * 20000 + "]" * 20000 + "\n")
    assert_one_error(config, f"{config}: nested more than 100 levels deep at line 1")


def test_config_with_a_syntax_error_is_one_line(tmp_path):
    config = tmp_path / "syntax.yaml"
    config.write_text("data:\n  train: [a, b\n  dev: }\n")
    assert_one_error(config, f"{config}: not valid YAML: line 3 column ")


def test_config_that_is_a_list(tmp_path):
    config = tmp_path / "list.yaml"
    config.write_text("- data\n- train\n")
    assert_one_error(config, "the document is a list, expected a Signformer config with a data: section")


def test_billion_laughs_is_refused_before_it_is_built(demo_exports, tmp_path):
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]" for i in range(1, 10)]
    config = brief_config(demo_exports)["data"]
    lines.append("data:")
    lines += [f"  {key}: {json.dumps(value)}" for key, value in config.items() if key != "train"]
    lines.append("  train: *lol9")  # 10^10 strings once expanded
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert_one_error(path, f"{path}: the document expands to more than 100000 values through its aliases")


def test_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("data: &d {train: [*d], dev: x, test: y}\n")
    assert_one_error(path, "an alias at line 1 refers to a value that contains it")


def test_aliases_a_config_uses_for_sharing_still_work(demo_exports, tmp_path):
    path = tmp_path / "shared.yaml"
    config = brief_config(demo_exports)["data"]
    lines = ["data:"] + [f"  {key}: {json.dumps(value)}" for key, value in config.items() if key not in ("dev", "test")]
    lines += ["  dev: &held_out [How2Sign-1024.pami0.val]", "  test: *held_out"]
    path.write_text("\n".join(lines) + "\n")
    run = subprocess.run([sys.executable, "-m", "slt_nb", "signformer-config", str(path)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert yaml.safe_load(run.stdout)["data"]["test"] == ["How2Sign-1024.pami0.val.part0"]


# --- broken manifests: the error names the manifest ---------------------------------------------

def broken_manifest(demo_exports, tmp_path, change):
    """A copy of the demo exports whose How2Sign manifest is changed by `change(manifest)` (or replaced by bytes)."""
    folder = tmp_path / "exports"
    shutil.copytree(demo_exports, folder)
    path = folder / MANIFEST
    if isinstance(change, bytes):
        path.write_bytes(change)
    else:
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))
    return brief_yaml(folder, tmp_path / "c.yaml"), path


def test_manifest_that_is_not_json(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, b'{"splits": {"train"')
    assert_one_error(config, f"error: {manifest}: not JSON: ")


def test_manifest_that_is_not_utf8(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, b'{"dataset": "How2Sign \xff"}')
    assert_one_error(config, f"error: {manifest}: not UTF-8 text (byte 22)")


def test_manifest_nested_too_deep(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, b"[" * 100000 + b"]" * 100000)
    assert_one_error(config, f"error: {manifest}: not a manifest: JSON nested too deep to read")


def test_manifest_whose_splits_is_a_list(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m.update(splits=list(m["splits"])))
    assert_one_error(config, f"error: {manifest}: splits is a list, expected an object of split entries")


def test_manifest_split_without_parts(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m["splits"]["train"].pop("parts"))
    assert_one_error(config, f"error: {manifest}: splits.train has no 'parts'")


def test_manifest_parts_that_is_a_number(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m["splits"]["train"].update(parts=2))
    assert_one_error(config, f"error: {manifest}: splits.train.parts is a number, expected a list")


def test_manifest_part_without_index(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path,
                                       lambda m: m["splits"]["train"]["parts"][1].pop("index"))
    assert_one_error(config, f"error: {manifest}: splits.train.parts[1].index is missing, expected a whole number")


def test_manifest_part_file_outside_its_folder(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path,
                                       lambda m: m["splits"]["train"]["parts"][0].update(file="../elsewhere.part0"))
    assert_one_error(config, f"{manifest}: splits.train.parts[0].file is '../elsewhere.part0', expected a file name")


def test_manifest_without_feature_size(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m.pop("feature_size"))
    assert_one_error(config, f"error: {manifest}: feature_size is missing, expected a whole number")


def test_manifest_feature_size_that_is_a_word(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m.update(feature_size="wide"))
    assert_one_error(config, f"error: {manifest}: feature_size is 'wide', expected a whole number")


def test_manifest_clip_frames_that_is_a_list(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path,
                                       lambda m: m["splits"]["train"].update(clip_frames=[100, 120]))
    assert_one_error(config, f"error: {manifest}: splits.train.clip_frames is not an object")


def test_manifest_layout_that_is_a_string(demo_exports, tmp_path):
    config, manifest = broken_manifest(demo_exports, tmp_path, lambda m: m.update(layout="aligned"))
    assert_one_error(config, f"error: {manifest}: its parameters for split 'train'")
