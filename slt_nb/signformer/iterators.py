"""Signformer's batch iterators over the lean loader's datasets (`make_data_iter`, token batching)."""
from __future__ import annotations

from slt_nb.signformer.fields import torchtext_data


class _TokenBatchState:
    """Running maxima of the batch being filled. Shared by every iterator, as Signformer's
    module globals are: torchtext's pool() interleaves chunk- and batch-level calls of the
    size function, so separate states would cut different batches."""

    sgn = gls = txt = 0


def token_batch_size_fn(new, count: int, sofar: int) -> int:
    """Batch size in tokens (padding included): count x the longest of frames, glosses, text+2."""
    state = _TokenBatchState
    if count == 1:
        state.sgn = state.gls = state.txt = 0
    state.sgn = max(state.sgn, len(new.sgn))
    state.gls = max(state.gls, len(new.gls))
    state.txt = max(state.txt, len(new.txt) + 2)
    return max(count * state.sgn, count * state.gls, count * state.txt)


def make_data_iter(dataset, batch_size: int, batch_type: str = "sentence", train: bool = False,
                   shuffle: bool = False):
    """Signformer's iterator: shuffled, length-sorted batches for training; dataset order otherwise."""
    data = torchtext_data()
    size_fn = token_batch_size_fn if batch_type == "token" else None
    if train:
        return data.BucketIterator(dataset=dataset, batch_size=batch_size, batch_size_fn=size_fn, repeat=False,
                                   sort=False, train=True, sort_within_batch=True,
                                   sort_key=lambda x: len(x.sgn), shuffle=shuffle)
    return data.BucketIterator(dataset=dataset, batch_size=batch_size, batch_size_fn=size_fn, repeat=False,
                               train=False, sort=False)
