"""A memory-lean drop-in for Signformer's `load_data`: part files, real-width frames.

Signformer (`main/data.py`, inherited from neccam/slt) loads every listed file whole, keeps one
Python tensor view per frame, and copies each sample (`sign + 1e-8`) while the originals are
still held: about twice the padded tensors at peak (about 44 GB for How2Sign train at 1024
features, of which 890 columns are zeros). This loader gives the model the same batches, bit
for bit, from a fraction of that:

- parts are read one at a time, and each sample is kept at the width its export manifest's
  layout names (134 for How2Sign, 150 for LSFB-CONT) once the columns beyond it are checked to
  be zero; files without a manifest (PHOENIX CNN features) or with data there stay full width;
- `+ 1e-8` is applied to the stored columns as Signformer does, and the padding columns of real
  frames get the same value (0 + 1e-8 in float32) when a batch is built; sequence padding stays
  exactly 0, because Signformer's mask is `frame[0] != 0`;
- the fields, the train filter (`max_sent_length` on frames and text tokens), the vocabularies
  (Signformer's own classes when importable), the random subsets and the iterators are
  Signformer's, on the same torchtext 0.5 classes.

In Signformer's `training.py` and `prediction.py`, replace
`from main.data import load_data, make_data_iter` with
`from slt_nb.signformer.loader import load_data, make_data_iter`.
"""
from __future__ import annotations

import functools
import os
import random
import sys

from slt_nb.errors import ConfigError, ConfigTypeError, DataFileError, MissingInput
from slt_nb.signformer.fields import build_fields, signformer_vocabulary, torchtext_data
from slt_nb.signformer.frames import FrameSequence, narrow_sample, read_part, stored_width
# Part of this module's interface: Signformer's `from main.data import load_data, make_data_iter`
# becomes one import from here (FrameSequence too, for code that inspects a loaded sample).
from slt_nb.signformer.iterators import make_data_iter  # noqa: F401


def _torch():
    import torch

    return torch


def interleave_sort_key(example):
    data = torchtext_data()
    return data.interleave_keys(len(example.sgn), len(example.txt))


@functools.cache  # one class, so that datasets of one run share their type (and pickle)
def _dataset_class():
    data = torchtext_data()

    class PartsDataset(data.Dataset):
        """Signformer's SignTranslationDataset built part by part; `filtered_out` lists the
        samples the filter dropped as (name, frames, text tokens)."""

        sort_key = staticmethod(interleave_sort_key)

        def __init__(self, examples, fields, filter_pred=None):
            self.filtered_out: list[tuple[str, int, int]] = []
            if filter_pred is not None:
                kept = []
                for example in examples:
                    if filter_pred(example):
                        kept.append(example)
                    else:
                        self.filtered_out.append((example.sequence, len(example.sgn), len(example.txt)))
                examples = kept
            super().__init__(examples, fields)

    return PartsDataset


def read_split(paths, fields, filter_pred=None, feature_size: int | None = None):
    """A dataset of the samples in `paths`, merged by name as Signformer merges them.

    A name met again in a later file is Signformer's multi-stream case: the two samples must
    agree on signer, gloss and text, and their frames are joined along the feature axis.
    """
    data = torchtext_data()
    torch = _torch()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records: dict[str, list] = {}
    origin: dict[str, str] = {}
    for path in paths:
        path = str(path)
        if not os.path.isfile(path):
            raise MissingInput(
                f"{path}: no such data file. A dataset stem such as How2Sign-1024.pami0.train must be "
                "expanded to its part files first: slt-nb signformer-config IN.yaml > OUT.yaml"
            )
        width = stored_width(path)
        samples = read_part(path, width)
        if not isinstance(samples, list):
            raise DataFileError(f"{path}: unpickled a {type(samples).__name__}, expected a list of sample dicts")
        samples.reverse()
        narrowed: dict[int, tuple] = {}  # augmented samples share one tensor: narrow it once
        while samples:
            sample = samples.pop()
            sign = sample["sign"]
            key = id(sign)
            if isinstance(sign, FrameSequence):  # narrowed while unpickling
                narrowed.setdefault(key, (sign, sign))
            elif not isinstance(sign, torch.Tensor) or sign.dim() != 2:
                raise DataFileError(f"{path}: sample {sample.get('name')!r}: sign must be a (T, D) torch tensor")
            elif key not in narrowed:
                narrowed[key] = (sign, narrow_sample(sign, width))
            frames = narrowed[key][1]
            name = sample["name"]
            if name not in records:
                records[name] = [sample["signer"], sample["gloss"], sample["text"], frames]
                origin[name] = path
                continue
            signer, gloss, text, earlier = records[name]
            if (signer, gloss, text) != (sample["signer"], sample["gloss"], sample["text"]):
                raise ConfigError(
                    f"sample {name!r} is in {origin[name]} and {path} with different signer, gloss or text; "
                    "Signformer joins same-named samples as streams of one sample and requires them equal"
                )
            if len(earlier) != len(frames):
                raise ConfigError(
                    f"sample {name!r}: {len(earlier)} frames in {origin[name]} but {len(frames)} in {path}; "
                    "streams of one sample must have the same frame count"
                )
            joined = torch.cat([earlier.padded(), frames.padded()], dim=1)
            records[name][3] = FrameSequence(joined, joined.shape[1])
        del narrowed
    examples = []
    for name in list(records):
        signer, gloss, text, frames = records.pop(name)
        if feature_size is not None and frames.feature_size != feature_size:
            raise ConfigError(
                f"sample {name!r} in {origin[name]}: {frames.feature_size} features, but the config's "
                f"feature_size sums to {feature_size}"
            )
        examples.append(data.Example.fromlist([name, signer, frames, gloss.strip(), text.strip()], fields))
    return _dataset_class()(examples, fields, filter_pred)


def _data_paths(data_cfg: dict):
    """Train, dev and test file lists and the padded feature size, read as Signformer reads them."""
    data_path = data_cfg.get("data_path", "./data")
    if isinstance(data_cfg["train"], list):
        lists = []
        for key in ("train", "dev", "test"):
            value = data_cfg[key]
            if not isinstance(value, list):
                raise ConfigError(
                    f"data.{key} is {value!r}: when data.train is a list, dev and test must be lists too "
                    "(Signformer would read a string character by character)"
                )
            lists.append([os.path.join(data_path, x) for x in value])
        sizes = data_cfg["feature_size"]
        if not isinstance(sizes, list):
            raise ConfigTypeError(
                f"data.feature_size is {sizes!r}: with a list of train files Signformer needs a list, e.g. [{sizes}]"
            )
        return lists[0], lists[1], lists[2], sum(sizes)
    paths = [[os.path.join(data_path, data_cfg[k])] for k in ("train", "dev", "test")]
    return paths[0], paths[1], paths[2], data_cfg["feature_size"]


def _random_subset(dataset, size: int):
    """Signformer's random subset: torchtext's split, seeded by the global random state."""
    keep_ratio = size / len(dataset)
    keep, _ = dataset.split(split_ratio=[keep_ratio, 1 - keep_ratio], random_state=random.getstate())
    return keep


def load_data(data_cfg: dict, vocabulary=None):
    """Signformer's `load_data(data_cfg) -> (train, dev, test, gls_vocab, txt_vocab)`, lean.

    `vocabulary` is the module providing build_vocab (default: Signformer's own if importable).
    """
    vocabulary = vocabulary or signformer_vocabulary()
    train_paths, dev_paths, test_paths, feature_size = _data_paths(data_cfg)
    level = data_cfg["level"]
    max_sent_length = data_cfg["max_sent_length"]
    fields = build_fields(feature_size, level, data_cfg["txt_lowercase"], vocabulary)
    sequence_field, signer_field, sgn_field, gls_field, txt_field = fields
    named = [("sequence", sequence_field), ("signer", signer_field), ("sgn", sgn_field),
             ("gls", gls_field), ("txt", txt_field)]

    def short_enough(example) -> bool:
        return len(example.sgn) <= max_sent_length and len(example.txt) <= max_sent_length

    train_data = read_split(train_paths, named, short_enough, feature_size)
    gls_vocab = vocabulary.build_vocab(field="gls", min_freq=data_cfg.get("gls_voc_min_freq", 1),
                                       max_size=data_cfg.get("gls_voc_limit", sys.maxsize),
                                       dataset=train_data, vocab_file=data_cfg.get("gls_vocab", None))
    txt_vocab = vocabulary.build_vocab(field="txt", min_freq=data_cfg.get("txt_voc_min_freq", 1),
                                       max_size=data_cfg.get("txt_voc_limit", sys.maxsize),
                                       dataset=train_data, vocab_file=data_cfg.get("txt_vocab", None))
    random_train_subset = data_cfg.get("random_train_subset", -1)
    if random_train_subset > -1:
        train_data = _random_subset(train_data, random_train_subset)
    dev_data = read_split(dev_paths, named, None, feature_size)
    random_dev_subset = data_cfg.get("random_dev_subset", -1)
    if random_dev_subset > -1:
        dev_data = _random_subset(dev_data, random_dev_subset)
    test_data = read_split(test_paths, named, None, feature_size)
    gls_field.vocab = gls_vocab
    txt_field.vocab = txt_vocab
    return train_data, dev_data, test_data, gls_vocab, txt_vocab
