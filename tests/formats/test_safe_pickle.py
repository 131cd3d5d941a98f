"""The restricted unpickler: a `.pami0` is read as samples, and anything that would run code is refused unrun."""
import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from slt_nb.errors import DataFileError, UnsafeFile
from slt_nb.formats.pami import PartWriter, load_signformer
from slt_nb.formats.safe_pickle import MAX_OBJECT_BYTES, load_samples


def write_plain(path, obj, protocol=4):
    """What a Signformer user does: plain pickle + gzip."""
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


def write_raw(path, stream: bytes):
    """A hand-made (forged) pickle stream, gzipped as a part is."""
    with gzip.open(path, "wb") as f:
        f.write(stream)
    return path


def sample(name="dev/01April_2010_Thursday_heute-6694", frames=5, width=1024, dtype=torch.float32):
    sign = torch.arange(frames * width, dtype=dtype).reshape(frames, width) / 1000
    return {"name": name, "signer": "Signer08", "gloss": "JETZT WETTER", "text": "und nun das wetter", "sign": sign}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_torch_own_tensor_pickles_are_read_as_plain_pickle_reads_them(tmp_path, protocol):
    samples = [sample(), sample("dev/b", frames=1, dtype=torch.float16)]
    path = write_plain(tmp_path / "phoenix14t.pami0.dev", samples, protocol)
    read = load_samples(path)
    assert [s["name"] for s in read] == ["dev/01April_2010_Thursday_heute-6694", "dev/b"]
    for got, want in zip(read, samples):
        assert got["sign"].dtype == want["sign"].dtype
        torch.testing.assert_close(got["sign"], want["sign"])
        assert {k: got[k] for k in ("signer", "gloss", "text")} == {k: want[k] for k in ("signer", "gloss", "text")}


def test_slt_nb_parts_read_the_same_as_signformers_pickle_load(tmp_path):
    path = tmp_path / "X-1024.pami0.dev.part0"
    rows = np.random.default_rng(0).random((7, 150), dtype=np.float32)
    with PartWriter(path, 1024) as writer:
        writer.add_clip([("dev/a", "hallo welt")], rows, signer="s1")
    plain = load_signformer(path)
    safe = load_samples(path)
    assert [s["name"] for s in safe] == [s["name"] for s in plain]
    torch.testing.assert_close(safe[0]["sign"], plain[0]["sign"])
    assert safe[0]["sign"].shape == (7, 1024)


def test_numpy_arrays_as_sign_are_read_as_float_arrays(tmp_path):
    array = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    path = write_plain(tmp_path / "np.pami0.train", [{"name": "a", "sign": array, "text": "x"}])
    got = load_samples(path)[0]["sign"]
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, array)


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_reduce_payload_is_refused_by_name_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_plain(tmp_path / "evil.pami0.train.part0", [dict(sample(), text=Payload())])
    with pytest.raises(UnsafeFile, match=r"evil\.pami0\.train\.part0: refused to unpickle posix\.system"):
        load_samples(path)
    assert not (tmp_path / "PWNED").exists()


def test_torch_storage_bytes_with_a_payload_are_refused_not_run(tmp_path, monkeypatch):
    """`_load_from_bytes` is torch.load(weights_only=False) in torch itself: here it is weights-only."""
    monkeypatch.chdir(tmp_path)
    inner = pickle.dumps(Payload(), protocol=2)
    outer = (pickle.PROTO + b"\x02" + pickle.GLOBAL + b"torch.storage\n_load_from_bytes\n"
             + pickle.BINBYTES + len(inner).to_bytes(4, "little") + inner + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP)
    path = write_raw(tmp_path / "storage.pami0.dev", outer)
    with pytest.raises((UnsafeFile, DataFileError), match=r"storage\.pami0\.dev"):
        load_samples(path)
    assert not (tmp_path / "PWNED").exists()


class Subclass(torch.Tensor):
    pass


def test_a_tensor_subclass_is_refused_by_name(tmp_path):
    sub = torch.zeros(3, 4).as_subclass(Subclass)
    path = write_plain(tmp_path / "sub.pami0.dev", [dict(sample(), sign=sub)])
    with pytest.raises(UnsafeFile, match=r"sub\.pami0\.dev: refused to unpickle torch\._tensor\._rebuild_from_type_v2"):
        load_samples(path)


def test_a_parameter_with_gradients_is_refused(tmp_path):
    path = write_plain(tmp_path / "param.pami0.dev", [dict(sample(), sign=torch.nn.Parameter(torch.zeros(2, 3)))])
    with pytest.raises(UnsafeFile, match="refused to unpickle torch._utils._rebuild_parameter"):
        load_samples(path)


def test_a_huge_declared_object_is_refused_before_anything_is_allocated(tmp_path):
    huge = MAX_OBJECT_BYTES * 1000
    stream = (pickle.PROTO + b"\x04" + pickle.EMPTY_LIST + pickle.BINBYTES8 + huge.to_bytes(8, "little") + b"abc")
    path = write_raw(tmp_path / "huge.pami0.dev", stream)
    with pytest.raises(DataFileError, match=r"huge\.pami0\.dev: the pickle declares an object of 2,147,483,648,000 bytes"):
        load_samples(path)


def test_an_array_whose_shape_promises_more_than_its_bytes_is_refused(tmp_path):
    data = np.zeros((2, 3), dtype=np.float32)
    blob = pickle.dumps([{"name": "a", "sign": data}], protocol=3)
    forged = blob.replace(pickle.BININT1 + b"\x02" + pickle.BININT1 + b"\x03", pickle.BININT + (10**9).to_bytes(4, "little") + pickle.BININT1 + b"\x03")
    assert forged != blob
    path = write_raw(tmp_path / "shape.pami0.dev", forged)
    with pytest.raises(DataFileError, match=r"shape\.pami0\.dev: an array declared \(1000000000, 3\) float32 \(12000000000 bytes\) holds 24 bytes"):
        load_samples(path)


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
    blob = pickle.dumps([sample(frames=2, width=3)], protocol=2)
    # the size tuple (2, 3) becomes (200, 3): 600 elements over a storage of 6
    forged = blob.replace(pickle.BININT1 + b"\x02" + pickle.BININT1 + b"\x03" + pickle.TUPLE2,
                          pickle.BININT1 + b"\xc8" + pickle.BININT1 + b"\x03" + pickle.TUPLE2, 1)
    assert forged != blob
    path = write_raw(tmp_path / "stride.pami0.dev", forged)
    with pytest.raises(DataFileError, match=r"stride\.pami0\.dev: a tensor of size \(200, 3\) reaches element 599 of a storage of 6"):
        load_samples(path)


def test_a_truncated_stream_names_the_file(tmp_path):
    whole = write_plain(tmp_path / "whole.pami0.dev", [sample(), sample("b")])
    raw = gzip.decompress(whole.read_bytes())
    cut = write_raw(tmp_path / "cut.pami0.dev", raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match=r"cut\.pami0\.dev: truncated"):
        load_samples(cut)
    half_gzip = tmp_path / "halfgz.pami0.dev"
    half_gzip.write_bytes(whole.read_bytes()[:200])
    with pytest.raises(DataFileError, match=r"halfgz\.pami0\.dev: truncated"):
        load_samples(half_gzip)


def test_a_file_that_is_not_a_list_of_samples_is_refused(tmp_path):
    path = write_plain(tmp_path / "dict.pami0.dev", {"name": "a"})
    with pytest.raises(DataFileError, match=r"dict\.pami0\.dev: holds a dict, not the list"):
        load_samples(path)
    not_gzip = tmp_path / "plain.pami0.dev"
    not_gzip.write_bytes(pickle.dumps([sample()]))
    with pytest.raises(DataFileError, match=r"plain\.pami0\.dev"):
        load_samples(not_gzip)


def test_integer_tensors_and_other_dtypes_are_refused(tmp_path):
    path = write_plain(tmp_path / "int.pami0.dev", [dict(sample(), sign=torch.zeros(2, 3, dtype=torch.int64))])
    with pytest.raises(UnsafeFile, match="only float tensors"):
        load_samples(path)
    path = write_plain(tmp_path / "obj.pami0.dev", [{"name": "a", "sign": np.array(["a"], dtype=object)}])
    with pytest.raises(UnsafeFile, match=r"obj\.pami0\.dev"):
        load_samples(path)


def test_on_sign_sees_every_tensor_as_it_is_built(tmp_path):
    path = write_plain(tmp_path / "n.pami0.dev", [sample(frames=3, width=8), sample("b", frames=2, width=8)])
    got = load_samples(path, on_sign=lambda t: t[:, :2].clone())
    assert [tuple(s["sign"].shape) for s in got] == [(3, 2), (2, 2)]
