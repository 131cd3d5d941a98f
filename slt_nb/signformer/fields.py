"""Signformer's torchtext fields, with the sign field made lean (samples padded per batch).

The fields are Signformer's (`main/data.py`): sequence and signer raw, gloss and text tokenized
with Signformer's special tokens, on the torchtext 0.5 classes it pins. Only `sgn` differs: it
holds `FrameSequence`s at their stored width and pads them to `feature_size` while building a
batch, with what Signformer's `+ 1e-8` makes of a padding column. The loader and the
iterators both import torchtext through `torchtext_data`, so a missing torchtext is one error
saying what to install.
"""
from __future__ import annotations

import functools
import importlib

from slt_nb.errors import MissingDependency


def _torch():
    import torch

    return torch


def torchtext_data():
    try:
        from torchtext import data
    except ImportError as exc:
        raise MissingDependency(
            "the Signformer loader needs torchtext 0.5 (Signformer's own pin): pip install -e '.[signformer]'"
        ) from exc
    return data


def signformer_vocabulary():
    """Signformer's vocabulary module when running inside Signformer (or slt), else slt_nb's."""
    for name in ("main.vocabulary", "signjoey.vocabulary"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if all(hasattr(module, a) for a in ("build_vocab", "GlossVocabulary", "TextVocabulary")):
            return module
    from slt_nb.signformer import vocabulary

    return vocabulary


@functools.cache
def _sign_field_class():
    data = torchtext_data()
    torch = _torch()

    class LeanSignField(data.Field):
        """Signformer's sgn field, padding real-width samples to feature_size per batch."""

        def __init__(self, feature_size: int):
            super().__init__(use_vocab=False, init_token=None, dtype=torch.float32, preprocessing=None,
                             tokenize=_keep, batch_first=True, include_lengths=True,
                             pad_token=torch.zeros((feature_size,)))
            self.feature_size = feature_size

        def process(self, batch, device=None):
            batch = list(batch)
            lengths = [len(x) for x in batch]
            out = torch.zeros((len(batch), max(lengths), self.feature_size), dtype=self.dtype)
            for row, frames in zip(out, batch):
                frames.write_into(row)
            return out.to(device) if device is not None else out, torch.tensor(lengths, dtype=self.dtype,
                                                                                 device=device)

    return LeanSignField


def _keep(x):
    return x


def text_tokenizer(level: str):
    """Signformer's tokenization: characters for level "char", else whitespace words."""
    if level == "char":
        return list
    return str.split


def build_fields(feature_size: int, level: str, txt_lowercase: bool, vocabulary=None):
    """(sequence, signer, sgn, gls, txt) fields as Signformer defines them, sgn made lean."""
    data = torchtext_data()
    vocab = vocabulary or signformer_vocabulary()
    pad, unk = vocab.PAD_TOKEN, vocab.UNK_TOKEN
    bos, eos = vocab.BOS_TOKEN, vocab.EOS_TOKEN
    tokenize = text_tokenizer(level)
    sequence_field = data.RawField()
    signer_field = data.RawField()
    sgn_field = _sign_field_class()(feature_size)
    gls_field = data.Field(pad_token=pad, tokenize=tokenize, batch_first=True, lower=False,
                           include_lengths=True)
    txt_field = data.Field(init_token=bos, eos_token=eos, pad_token=pad, tokenize=tokenize, unk_token=unk,
                           batch_first=True, lower=txt_lowercase, include_lengths=True)
    return sequence_field, signer_field, sgn_field, gls_field, txt_field
