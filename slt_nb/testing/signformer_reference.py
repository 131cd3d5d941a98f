"""Signformer's data loading the straightforward way, as the baseline for the lean loader.

A reimplementation (not a copy) of what Signformer's `load_data` does, from the behavioural
description in the project's notes: each listed file loaded whole (gzip + one pickle.load),
samples merged by name in file order (same name: frames joined along the feature axis), one
full-width `sign + 1e-8` per sample split into per-frame tensors, Signformer's five torchtext
fields, the train filter on frames and text tokens, vocabularies on the filtered train set,
torchtext's random subsets. Tests compare the lean loader with it bit for bit; the benchmark
measures its memory. The library never imports this module.
"""
from __future__ import annotations

import gzip
import os
import pickle
import random
import sys


def frames_of(sign):
    """Signformer's sgn preprocessing: one (D,) tensor per frame."""
    import torch

    return [frame.squeeze() for frame in torch.split(sign, 1, dim=0)]


def stack_batch(batch, _vocab):
    """Signformer's sgn postprocessing: (B, T_max, D) from padded lists of frames."""
    import torch

    return torch.stack([torch.stack(frames, dim=0) for frames in batch], dim=0)


def _identity(x):
    return x


def reference_fields(feature_size: int, level: str, lowercase: bool):
    import torch
    from torchtext import data

    tokenize = list if level == "char" else str.split
    sequence = data.RawField()
    signer = data.RawField()
    sgn = data.Field(use_vocab=False, init_token=None, dtype=torch.float32, preprocessing=frames_of,
                     tokenize=_identity, batch_first=True, include_lengths=True, postprocessing=stack_batch,
                     pad_token=torch.zeros((feature_size,)))
    gls = data.Field(pad_token="<pad>", tokenize=tokenize, batch_first=True, lower=False, include_lengths=True)
    txt = data.Field(init_token="<s>", eos_token="</s>", pad_token="<pad>", tokenize=tokenize, unk_token="<unk>",
                     batch_first=True, lower=lowercase, include_lengths=True)
    return [("sequence", sequence), ("signer", signer), ("sgn", sgn), ("gls", gls), ("txt", txt)]


def _sort_key(example):
    from torchtext import data

    return data.interleave_keys(len(example.sgn), len(example.txt))


def reference_dataset(paths, fields, filter_pred=None):
    from torchtext import data
    import torch

    merged: dict[str, dict] = {}
    for path in paths:
        with gzip.open(path, "rb") as f:
            samples = pickle.load(f)
        for s in samples:
            name = s["name"]
            if name in merged:
                first = merged[name]
                assert (first["signer"], first["gloss"], first["text"]) == (s["signer"], s["gloss"], s["text"])
                first["sign"] = torch.cat([first["sign"], s["sign"]], axis=1)
            else:
                merged[name] = dict(s)
    examples = [
        data.Example.fromlist([s["name"], s["signer"], s["sign"] + 1e-8, s["gloss"].strip(), s["text"].strip()],
                              [f for f in fields])
        for s in merged.values()
    ]
    dataset = data.Dataset(examples, fields, filter_pred=filter_pred)
    dataset.sort_key = _sort_key
    return dataset


def reference_load_data(data_cfg: dict, vocabulary):
    """(train, dev, test, gls_vocab, txt_vocab) the way Signformer's load_data builds them."""
    root = data_cfg.get("data_path", "./data")
    if isinstance(data_cfg["train"], list):
        paths = {k: [os.path.join(root, x) for x in data_cfg[k]] for k in ("train", "dev", "test")}
        feature_size = sum(data_cfg["feature_size"])
    else:
        paths = {k: [os.path.join(root, data_cfg[k])] for k in ("train", "dev", "test")}
        feature_size = data_cfg["feature_size"]
    fields = reference_fields(feature_size, data_cfg["level"], data_cfg["txt_lowercase"])
    limit = data_cfg["max_sent_length"]
    train = reference_dataset(paths["train"], fields,
                              lambda x: len(vars(x)["sgn"]) <= limit and len(vars(x)["txt"]) <= limit)
    gls_vocab = vocabulary.build_vocab("gls", data_cfg.get("gls_voc_limit", sys.maxsize),
                                       data_cfg.get("gls_voc_min_freq", 1), train, data_cfg.get("gls_vocab"))
    txt_vocab = vocabulary.build_vocab("txt", data_cfg.get("txt_voc_limit", sys.maxsize),
                                       data_cfg.get("txt_voc_min_freq", 1), train, data_cfg.get("txt_vocab"))
    if data_cfg.get("random_train_subset", -1) > -1:
        ratio = data_cfg["random_train_subset"] / len(train)
        train, _ = train.split(split_ratio=[ratio, 1 - ratio], random_state=random.getstate())
    dev = reference_dataset(paths["dev"], fields)
    if data_cfg.get("random_dev_subset", -1) > -1:
        ratio = data_cfg["random_dev_subset"] / len(dev)
        dev, _ = dev.split(split_ratio=[ratio, 1 - ratio], random_state=random.getstate())
    test = reference_dataset(paths["test"], fields)
    dict(fields)["gls"].vocab = gls_vocab
    dict(fields)["txt"].vocab = txt_vocab
    return train, dev, test, gls_vocab, txt_vocab
