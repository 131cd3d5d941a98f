from collections import Counter
from types import SimpleNamespace

import pytest

from slt_nb.signformer.vocabulary import GlossVocabulary, TextVocabulary, build_vocab


def dataset_of(texts):
    return SimpleNamespace(examples=[SimpleNamespace(txt=t.split(), gls=t.upper().split()) for t in texts])


def test_ids_follow_frequency_then_code_point_after_the_specials():
    data = dataset_of(["b a c", "b a", "b Z", "<unk> z"])
    vocab = build_vocab("txt", max_size=10, min_freq=1, dataset=data)
    # specials 0-3; b (3x), a (2x), then the ties by code point: <unk> is already there, Z < c < z
    assert vocab.itos == ["<unk>", "<pad>", "<s>", "</s>", "b", "a", "Z", "c", "z"]
    assert vocab.stoi["never-seen"] == 0 and vocab.is_unk("never-seen")


def test_limit_and_min_freq_cut_the_rare_tokens():
    data = dataset_of(["x x x y y z", "x y w"])
    assert build_vocab("txt", max_size=2, min_freq=1, dataset=data).itos[4:] == ["x", "y"]
    assert build_vocab("txt", max_size=99, min_freq=2, dataset=data).itos[4:] == ["x", "y"]
    assert Counter(build_vocab("txt", 99, -1, data).itos)["w"] == 1


def test_gloss_vocabulary_keeps_the_ctc_blank_first_and_reads_files(tmp_path):
    data = dataset_of(["hello world", "hello"])
    gls = build_vocab("gls", max_size=99, min_freq=1, dataset=data)
    assert gls.itos == ["<si>", "<unk>", "<pad>", "HELLO", "WORLD"] and gls.stoi["NOPE"] == 1
    gls.to_file(tmp_path / "gls.vocab")
    again = build_vocab("gls", 99, 1, None, str(tmp_path / "gls.vocab"))
    assert again.itos == gls.itos
    assert TextVocabulary(tokens=["a"]).arrays_to_sentences([[4, 3, 4]]) == [["a"]]
    assert GlossVocabulary(tokens=["A"]).arrays_to_sentences([[3, 0]]) == [["A", "<si>"]]
    with pytest.raises(ValueError, match="unknown vocabulary field 'sgn'"):
        build_vocab("sgn", 1, 1, data)
