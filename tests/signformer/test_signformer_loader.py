"""The lean loader against a straightforward reimplementation of Signformer's own loading.

Both run on the demo exports of How2Sign and LSFB-CONT together (several parts per split),
through the same torchtext 0.5 iterators; examples, padded batches, vocabularies and the
filtered-out samples must be identical, tensors bit for bit.
"""
import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchtext", reason="the signformer extra: pip install -e '.[signformer]'")

from slt_nb.formats.pami import PartWriter  # noqa: E402
from slt_nb.signformer import vocabulary  # noqa: E402
from slt_nb.signformer.config import resolve_config  # noqa: E402
from slt_nb.signformer.loader import FrameSequence, load_data, make_data_iter  # noqa: E402
from slt_nb.testing.signformer_reference import reference_load_data  # noqa: E402
from signformer_fixtures import brief_config, make_demo_exports  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch.tensor(tensor) in torchtext


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory):
    return make_demo_exports(tmp_path_factory)


def bits(t):
    return t.contiguous().view(torch.int32) if t.dtype == torch.float32 else t


def same_tensor(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(bits(a), bits(b))


def resolved_data(folder, **extra):
    resolved, _ = resolve_config(brief_config(folder, **extra))
    return resolved["data"]


def both_loaders(data_cfg, seed=42):
    random.seed(seed)
    ref = reference_load_data(data_cfg, vocabulary)
    random.seed(seed)
    lean = load_data(data_cfg, vocabulary)
    return ref, lean


def assert_same_examples(ref_ds, lean_ds):
    assert len(ref_ds) == len(lean_ds) > 0
    for r, m in zip(ref_ds.examples, lean_ds.examples):
        assert (r.sequence, r.signer, r.gls, r.txt) == (m.sequence, m.signer, m.gls, m.txt)
        assert len(r.sgn) == len(m.sgn)
        assert same_tensor(torch.stack(r.sgn), m.sgn.padded())
        assert same_tensor(r.sgn[-1], m.sgn[-1])  # frame by frame too, as Signformer's list


def assert_same_batches(ref_iter, lean_iter):
    count = 0
    for rb, mb in zip(ref_iter, lean_iter, strict=True):
        assert rb.sequence == mb.sequence and rb.signer == mb.signer
        for name in ("sgn", "gls", "txt"):
            (r_data, r_len), (m_data, m_len) = getattr(rb, name), getattr(mb, name)
            assert same_tensor(r_data, m_data), name
            assert same_tensor(r_len, m_len), name
        count += 1
    assert count > 0


def test_examples_and_vocabularies_match_signformers_loading(demo_exports):
    folder, _ = demo_exports
    (r_train, r_dev, r_test, r_gls, r_txt), (m_train, m_dev, m_test, m_gls, m_txt) = both_loaders(
        resolved_data(folder))
    for r, m in ((r_train, m_train), (r_dev, m_dev), (r_test, m_test)):
        assert_same_examples(r, m)
    names = {e.sequence for e in m_train.examples}
    assert any(n.startswith("train/CLSFB") for n in names) and any("rgb_front" in n for n in names)
    assert r_gls.itos == m_gls.itos and r_txt.itos == m_txt.itos
    assert len(m_txt) > 20
    # samples stay at the layout's width: 150 for both corpora in the aligned layout
    widths = {e.sequence.split("/")[1][:5]: e.sgn.width for e in m_train.examples}
    assert widths["CLSFB"] == 150 and {w for k, w in widths.items() if k != "CLSFB"} == {150}


def test_train_filter_drops_the_same_samples(demo_exports):
    folder, manifests = demo_exports
    data_cfg = resolved_data(folder, max_sent_length=100)
    (r_train, *_), (m_train, *_) = both_loaders(data_cfg)
    exported = {n for m in manifests.values() for n in
                (f"train/{c}" for c in m["splits"]["train"]["clip_frames"])}
    assert {e.sequence for e in r_train.examples} == {e.sequence for e in m_train.examples}
    dropped = {name for name, frames, tokens in m_train.filtered_out}
    assert dropped and dropped == exported - {e.sequence for e in r_train.examples}
    assert all(frames > 100 or tokens > 100 for _, frames, tokens in m_train.filtered_out)


@pytest.mark.parametrize("batch_type,batch_size", [("sentence", 3), ("token", 300)])
def test_padded_batches_are_bitwise_identical(demo_exports, batch_type, batch_size):
    folder, _ = demo_exports
    (r_train, r_dev, r_test, *_), (m_train, m_dev, m_test, *_) = both_loaders(resolved_data(folder))
    for epoch_seed in (42, 7):
        random.seed(epoch_seed)
        ref_iter = make_data_iter(r_train, batch_size, batch_type, train=True, shuffle=True)
        random.seed(epoch_seed)
        lean_iter = make_data_iter(m_train, batch_size, batch_type, train=True, shuffle=True)
        for _ in range(2):  # two epochs: the shuffler's state carries over
            assert_same_batches(ref_iter, lean_iter)
    for r, m in ((r_dev, m_dev), (r_test, m_test)):
        assert_same_batches(make_data_iter(r, batch_size, batch_type), make_data_iter(m, batch_size, batch_type))


def test_padding_columns_of_real_frames_hold_epsilon_and_padding_rows_are_zero(demo_exports):
    folder, _ = demo_exports
    _, _, test, _, _ = load_data(resolved_data(folder), vocabulary)
    batch = next(iter(make_data_iter(test, 8)))
    sgn, lengths = batch.sgn
    assert sgn.shape[2] == 1024 and lengths.dtype == torch.float32
    epsilon = torch.zeros((), dtype=torch.float32) + 1e-8
    for row, n in zip(sgn, lengths.long()):
        assert bool((row[:n, 150:] == epsilon).all())
        assert bool((row[n:] == 0).all())
        assert bool((row[:n, 0] != 0).all())  # Signformer's mask: frame[0] != 0


def test_random_subsets_are_drawn_the_same_way(demo_exports):
    folder, _ = demo_exports
    data_cfg = resolved_data(folder, random_train_subset=4, random_dev_subset=2)
    (r_train, r_dev, _, r_gls, r_txt), (m_train, m_dev, _, m_gls, m_txt) = both_loaders(data_cfg, seed=3)
    assert len(m_train) == 4 and len(m_dev) == 2
    assert_same_examples(r_train, m_train)
    assert_same_examples(r_dev, m_dev)
    assert r_txt.itos == m_txt.itos  # built before the subset, on the whole filtered train set
    (_, _, _, _, _), (other, *_) = both_loaders(data_cfg, seed=4)
    assert [e.sequence for e in other.examples] != [e.sequence for e in m_train.examples]


def write_part(path, samples, feature_size):
    with PartWriter(path, feature_size) as writer:
        for name, text, sign in samples:
            writer.add(name, text, sign)


def test_full_width_files_without_manifest_pass_through(tmp_path):
    gen = torch.Generator().manual_seed(0)
    samples = [(f"dev/{i}", f"word{i} word{i % 2}", torch.randn(5 + i, 16, generator=gen).numpy())
               for i in range(5)]
    write_part(tmp_path / "phoenix14t.pami0.train", samples, 16)
    data_cfg = {"data_path": str(tmp_path), "train": "phoenix14t.pami0.train", "dev": "phoenix14t.pami0.train",
                "test": "phoenix14t.pami0.train", "feature_size": 16, "level": "word", "txt_lowercase": True,
                "max_sent_length": 7}
    (r_train, r_dev, *_), (m_train, m_dev, *_) = both_loaders(data_cfg)
    assert {e.sgn.width for e in m_dev.examples} == {16}
    assert_same_examples(r_train, m_train)
    assert_same_batches(make_data_iter(r_dev, 2), make_data_iter(m_dev, 2))


def test_data_beyond_the_layout_width_is_kept(demo_exports, tmp_path):
    import shutil

    folder, _ = demo_exports
    shutil.copy(folder / "How2Sign-1024.manifest.json", tmp_path / "How2Sign-1024.manifest.json")
    sign = torch.rand(6, 1024).numpy() * (torch.arange(1024) < 134).numpy()
    sign[2, 700] = 0.5  # the manifest says 134 columns, the file disagrees
    write_part(tmp_path / "How2Sign-1024.pami0.val.part0", [("val/a", "a b", sign)], 1024)
    data_cfg = {"data_path": str(tmp_path), "train": ["How2Sign-1024.pami0.val.part0"],
                "dev": ["How2Sign-1024.pami0.val.part0"], "test": ["How2Sign-1024.pami0.val.part0"],
                "feature_size": [1024], "level": "word", "txt_lowercase": True, "max_sent_length": 400}
    (r_train, *_), (m_train, *_) = both_loaders(data_cfg)
    assert m_train.examples[0].sgn.width == 1024
    assert_same_examples(r_train, m_train)


def test_same_name_in_two_files_is_joined_as_streams(tmp_path):
    gen = torch.Generator().manual_seed(1)
    image = [(f"train/{i}", f"t{i}", torch.randn(4 + i, 8, generator=gen).numpy()) for i in range(3)]
    skeleton = [(n, t, torch.randn(s.shape[0], 4, generator=gen).numpy()) for n, t, s in image]
    write_part(tmp_path / "image.pami0.train", image, 8)
    write_part(tmp_path / "skeleton.pami0.train", skeleton[::-1], 4)
    data_cfg = {"data_path": str(tmp_path), "train": ["image.pami0.train", "skeleton.pami0.train"],
                "dev": ["image.pami0.train", "skeleton.pami0.train"],
                "test": ["image.pami0.train", "skeleton.pami0.train"],
                "feature_size": [8, 4], "level": "char", "txt_lowercase": False, "max_sent_length": 400}
    (r_train, *_), (m_train, *_) = both_loaders(data_cfg)
    assert [e.sgn.feature_size for e in m_train.examples] == [12, 12, 12]
    assert_same_examples(r_train, m_train)


def test_augmented_samples_share_one_narrowed_tensor(tmp_path):
    from slt_nb.export.run import run_export
    from slt_nb.params import load_params

    manifest = run_export(load_params("How2Sign-aug", {"output_dir": str(tmp_path), "splits": ["train"]}))
    stem = f"{manifest['dataset']}-{manifest['variant']}-1024.pami0.train"
    files = [p["file"] for p in manifest["splits"]["train"]["parts"]]
    data_cfg = {"data_path": str(tmp_path), "train": files, "dev": files[:1], "test": files[:1],
                "feature_size": [1024], "level": "word", "txt_lowercase": True, "max_sent_length": 400}
    (r_train, *_), (m_train, *_) = both_loaders(data_cfg)
    assert_same_examples(r_train, m_train)
    tensors = {id(e.sgn.frames) for e in m_train.examples}
    assert len(tensors) < len(m_train.examples), stem


def test_unresolved_stem_and_string_dev_fail_clearly(demo_exports):
    folder, _ = demo_exports
    data_cfg = brief_config(folder)["data"]
    data_cfg["feature_size"] = [1024]
    with pytest.raises(FileNotFoundError, match="How2Sign-1024.pami0.train: no such data file.*signformer-config"):
        load_data(data_cfg, vocabulary)
    data_cfg = resolved_data(folder)
    data_cfg["dev"] = data_cfg["dev"][0]
    with pytest.raises(ValueError, match="data.dev is .*must be lists too"):
        load_data(data_cfg, vocabulary)
    data_cfg = resolved_data(folder)
    data_cfg["feature_size"] = 1024
    with pytest.raises(TypeError, match=r"feature_size is 1024.*e.g. \[1024\]"):
        load_data(data_cfg, vocabulary)


def test_frame_sequence_reads_like_signformers_list_of_frames():
    frames = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) + 1e-8
    seq = FrameSequence(frames, 4)
    eps = torch.zeros((), dtype=torch.float32) + 1e-8
    assert len(seq) == 3
    assert same_tensor(seq[1], torch.stack([frames[1, 0], frames[1, 1], eps, eps]))
    assert [len(f) for f in seq] == [4, 4, 4] and len(seq[:2]) == 2
