import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from slt_nb.formats.pami import PartWriter, iter_samples, load_signformer, part_index, part_name, sorted_parts


def _clip(rng, t, width=134):
    return rng.random((t, width), dtype=np.float32)


def test_part_is_a_gzip_pickle_of_a_list_of_dicts_as_signformer_reads_it(tmp_path):
    rng = np.random.default_rng(0)
    clips = [_clip(rng, t) for t in (3, 17, 1, 40)]
    path = tmp_path / part_name("How2Sign", "train", 0)
    with PartWriter(path) as w:
        for i, c in enumerate(clips):
            w.add(f"train/clip{i}", "same text", c)  # repeated strings exercise the pickle memo
    with gzip.open(path, "rb") as f:  # Signformer's own two calls
        data = pickle.load(f)
    assert isinstance(data, list) and len(data) == 4
    for i, (sample, clip) in enumerate(zip(data, clips)):
        assert set(sample) == {"name", "signer", "gloss", "text", "sign"}
        assert sample["name"] == f"train/clip{i}" and sample["gloss"] == "" and sample["text"] == "same text"
        sign = sample["sign"]
        assert isinstance(sign, torch.Tensor) and sign.dtype == torch.float32
        assert tuple(sign.shape) == (clip.shape[0], 1024)
        np.testing.assert_array_equal(sign[:, :134].numpy(), clip)
        assert not sign[:, 134:].any()
        # what Signformer does next must work on our tensor
        assert len(torch.split(sign, 1, dim=0)) == clip.shape[0]


def test_many_samples_survive_the_streamed_list(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "x.part0"
    with PartWriter(path, feature_size=256) as w:
        for i in range(300):
            w.add(f"n{i}", ["a", "b", "ü ünïcode"][i % 3], _clip(rng, 1 + i % 7, 100), signer=f"s{i % 2}")
    data = load_signformer(path)
    assert [d["name"] for d in data] == [f"n{i}" for i in range(300)]
    assert [d["signer"] for d in data][:4] == ["s0", "s1", "s0", "s1"]
    assert w.info.samples == 300 and w.info.frames == sum(1 + i % 7 for i in range(300))


def test_sha256_and_bytes_describe_the_file_on_disk(tmp_path):
    import hashlib

    path = tmp_path / "x.part0"
    with PartWriter(path) as w:
        w.add("a", "t", np.ones((2, 10), np.float32))
    assert w.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert w.info.bytes == os.path.getsize(path)


def test_failed_write_leaves_no_part_and_no_temp_file(tmp_path):
    path = tmp_path / "x.part0"
    with pytest.raises(ValueError, match="do not fit feature_size"):
        with PartWriter(path, feature_size=8) as w:
            w.add("a", "t", np.ones((2, 9), np.float32))
    assert os.listdir(tmp_path) == []


def test_empty_sign_is_refused_with_the_sample_name(tmp_path):
    with PartWriter(tmp_path / "x.part0") as w:
        with pytest.raises(ValueError, match="'train/empty'"):
            w.add("train/empty", "t", np.zeros((0, 134), np.float32))


def test_parts_sort_by_number_and_stream_in_order(tmp_path):
    paths = []
    for k in (0, 1, 2, 10):
        p = tmp_path / part_name("D", "test", k)
        with PartWriter(p) as w:
            w.add(f"s{k}", "t", np.full((1, 4), k, np.float32))
        paths.append(p)
    ordered = sorted_parts(reversed(paths))
    assert [part_index(p) for p in ordered] == [0, 1, 2, 10]
    assert [s["name"] for s in iter_samples(ordered)] == ["s0", "s1", "s2", "s10"]


def test_same_samples_give_the_same_bytes_and_only_plain_globals(tmp_path):
    import pickletools

    rng = np.random.default_rng(3)
    clips = [_clip(rng, 4) for _ in range(3)]
    infos = []
    for k in range(2):
        with PartWriter(tmp_path / f"x{k}.part0") as w:
            for i, c in enumerate(clips):
                w.add(f"n{i}", "t", c.copy())  # fresh memory each time
        infos.append(w.info.sha256)
    assert infos[0] == infos[1]
    with gzip.open(tmp_path / "x0.part0", "rb") as f:
        stream = f.read()
    globals_used = {arg for op, arg, _ in pickletools.genops(stream) if op.name == "GLOBAL"}
    assert globals_used == {"torch Tensor", "numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}


def test_texts_of_one_clip_store_its_poses_once(tmp_path):
    rng = np.random.default_rng(4)
    clip = _clip(rng, 50)
    with PartWriter(tmp_path / "one.part0") as one:
        one.add("train/c", "a", clip)
    with PartWriter(tmp_path / "three.part0") as three:
        three.add_clip([("train/c", "a"), ("train/c_aug1", "b"), ("train/c_aug2", "c")], clip)
    data = load_signformer(tmp_path / "three.part0")
    assert [(d["name"], d["text"]) for d in data] == [("train/c", "a"), ("train/c_aug1", "b"), ("train/c_aug2", "c")]
    assert all(torch.equal(d["sign"][:, :134], torch.from_numpy(clip)) for d in data)
    assert three.info.samples == 3 and three.info.frames == 150
    assert three.info.bytes < 1.05 * one.info.bytes


def test_igzip_part_loads_equal_to_a_reference_written_with_gzip_and_pickle(tmp_path):
    """The reference is what the old scripts wrote: gzip.open + pickle.dump of the whole list."""
    rng = np.random.default_rng(7)
    clips = [_clip(rng, t, width) for t, width in ((5, 134), (300, 150), (2, 20), (40, 134))]
    reference = [{"name": f"s{i}", "signer": "p1", "gloss": "", "text": f"text {i}",
                  "sign": torch.tensor(np.pad(c, ((0, 0), (0, 1024 - c.shape[1]))))} for i, c in enumerate(clips)]
    with gzip.open(tmp_path / "reference.pami0", "wb") as f:
        pickle.dump(reference, f)
    with PartWriter(tmp_path / "ours.part0") as w:
        for i, c in enumerate(clips):  # widths shrink and grow: old columns must not leak into padding
            w.add(f"s{i}", f"text {i}", c, signer="p1")
    with open(tmp_path / "ours.part0", "rb") as f:
        assert f.read(2) == b"\x1f\x8b"  # plain gzip, what gzip.open expects
    ours, ref = load_signformer(tmp_path / "ours.part0"), load_signformer(tmp_path / "reference.pami0")
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert {k: v for k, v in a.items() if k != "sign"} == {k: v for k, v in b.items() if k != "sign"}
        assert a["sign"].dtype == b["sign"].dtype and torch.equal(a["sign"], b["sign"])


def test_same_samples_give_the_same_bytes_whatever_was_written_before(tmp_path):
    rng = np.random.default_rng(3)
    clip = _clip(rng, 30, 134)
    with PartWriter(tmp_path / "a.part0") as a:
        a.add("x", "t", clip)
    with PartWriter(tmp_path / "b.part0") as b:  # another writer, its buffer grown by a longer clip first
        b.add("y", "t", _clip(rng, 90, 150))
    with PartWriter(tmp_path / "c.part0") as c:
        c.add("x", "t", clip)
    assert a.info.sha256 == c.info.sha256 and a.info.sha256 != b.info.sha256


def test_non_finite_values_never_reach_a_part(tmp_path):
    path = tmp_path / "D-1024.pami0.train.part0"
    sign = np.ones((4, 134), dtype=np.float32)
    sign[2, 7] = np.nan
    with pytest.raises(ValueError, match="'train/a': sign holds NaN or infinite values"):
        with PartWriter(path) as writer:
            writer.add("train/a", "text", sign)
    assert not path.exists() and list(tmp_path.iterdir()) == []
