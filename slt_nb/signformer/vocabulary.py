"""Gloss and text vocabularies with the API and ordering of Signformer's own.

Used when Signformer's `main.vocabulary` (or slt's `signjoey.vocabulary`) cannot be imported,
e.g. in this project's tests; inside a Signformer checkout the loader uses Signformer's classes,
so checkpoints and vocabulary files stay exactly Signformer's. The ordering rule matters: ids
are decided by frequency (descending), ties by token string (code point order), after the
specials; a token already present (a literal `<unk>` in the data) keeps its first id.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from slt_nb.errors import DataFileError, ParameterError

SIL_TOKEN = "<si>"
UNK_TOKEN = "<unk>"
PAD_TOKEN = "<pad>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"


def _unk_text() -> int:
    return 0


def _unk_gloss() -> int:
    return 1


class Vocabulary:
    """Token <-> id. `stoi` answers unknown tokens with the unknown id (and, like Signformer's
    defaultdict, remembers them there); `itos` and `len()` are the vocabulary proper."""

    specials: list[str] = []
    unk_id = 0

    def __init__(self, tokens: list[str] | None = None, file: str | None = None):
        self.specials = list(type(self).specials)
        self.itos: list[str] = []
        self.stoi = defaultdict(_unk_gloss if self.unk_id == 1 else _unk_text)
        if tokens is None and file is not None:
            with open(file, encoding="utf-8") as f:
                tokens = [line.strip("\n") for line in f]
        if tokens is not None:
            self.add_tokens(self.specials + list(tokens))

    def DEFAULT_UNK_ID(self) -> int:  # noqa: N802 - Signformer's name, called by its code
        return self.unk_id

    def add_tokens(self, tokens: list[str]) -> None:
        present = set(self.itos)
        for token in tokens:
            if token not in present:
                present.add(token)
                self.stoi[token] = len(self.itos)
                self.itos.append(token)

    def is_unk(self, token: str) -> bool:
        return self.stoi[token] == self.unk_id

    def to_file(self, file: str) -> None:
        from slt_nb.atomic import atomic_write_text

        atomic_write_text(file, "".join(f"{t}\n" for t in self.itos))

    def __len__(self) -> int:
        return len(self.itos)

    def __str__(self) -> str:
        return str(self.stoi)


class TextVocabulary(Vocabulary):
    specials = [UNK_TOKEN, PAD_TOKEN, BOS_TOKEN, EOS_TOKEN]
    unk_id = 0

    def array_to_sentence(self, array, cut_at_eos: bool = True) -> list[str]:
        sentence = []
        for i in array:
            token = self.itos[i]
            if cut_at_eos and token == EOS_TOKEN:
                break
            sentence.append(token)
        return sentence

    def arrays_to_sentences(self, arrays, cut_at_eos: bool = True) -> list[list[str]]:
        return [self.array_to_sentence(a, cut_at_eos) for a in arrays]


class GlossVocabulary(Vocabulary):
    specials = [SIL_TOKEN, UNK_TOKEN, PAD_TOKEN]
    unk_id = 1

    def __init__(self, tokens: list[str] | None = None, file: str | None = None):
        super().__init__(tokens, file)
        if self.stoi[SIL_TOKEN] != 0:  # CTC's blank must be id 0
            raise DataFileError(f"gloss vocabulary: {SIL_TOKEN} must have id 0, has {self.stoi[SIL_TOKEN]}")

    def arrays_to_sentences(self, arrays) -> list[list[str]]:
        return [[self.itos[i] for i in a] for a in arrays]


def frequent_tokens(counts: Counter, limit: int, min_freq: int = 1) -> list[str]:
    """Tokens by frequency (descending), ties by code point, at most `limit`."""
    kept = [(t, n) for t, n in counts.items() if min_freq <= -1 or n >= min_freq]
    kept.sort(key=lambda item: item[0])
    kept.sort(key=lambda item: item[1], reverse=True)
    return [t for t, _ in kept[:limit]]


def build_vocab(field: str, max_size: int, min_freq: int, dataset, vocab_file: str | None = None):
    """The vocabulary of field "gls" or "txt": from `vocab_file` if given, else from the dataset."""
    if field not in ("gls", "txt"):
        raise ParameterError(f"unknown vocabulary field {field!r}: expected 'gls' or 'txt'")
    cls = GlossVocabulary if field == "gls" else TextVocabulary
    if vocab_file is not None:
        return cls(file=vocab_file)
    counts: Counter = Counter()
    for example in dataset.examples:
        counts.update(getattr(example, field))
    return cls(tokens=frequent_tokens(counts, max_size, min_freq))
