"""The Signformer `data:` config for exports (what to paste into a Signformer config).

It lists the part files of the given manifests directly. For a config written with export
stems (`How2Sign-1024.pami0.train`), `slt_nb.signformer.config` expands and checks them; for
loading without Signformer's padded-width RAM, see `slt_nb.signformer.loader`.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from slt_nb.errors import IncompatibleExports
from slt_nb.formats.manifest import Manifest
from slt_nb.formats.pami import SIGNFORMER_MAX_SENT_LENGTH, SIGNFORMER_SPLIT


def data_config(manifests: list[Manifest | dict], directory: str | Path | None = None, max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH) -> dict:
    """A `data:` section listing every part of the given exports.

    Lists everywhere, because with a list for `train` Signformer needs lists for dev and test
    and a list `feature_size` (`[1024]`, not `1024`); `multimodal: 0.0` because Signformer's
    default turns its multi-stream mode on.
    """
    manifests = [m if isinstance(m, Manifest) else Manifest(m) for m in manifests]
    sizes = {m.feature_size for m in manifests}
    if len(sizes) != 1:
        raise IncompatibleExports(f"exports with different feature sizes cannot be trained together: {sorted(sizes)}")
    lists: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for manifest in manifests:
        for split, entry in manifest.splits.items():
            key = SIGNFORMER_SPLIT.get(split, split)
            for part in entry.parts:
                if not part["samples"]:
                    continue  # a split that exported nothing leaves one empty part: nothing to train on
                path = Path(directory, part["file"]) if directory else Path(part["file"])
                lists.setdefault(key, []).append(str(path))
    return {
        "data": {
            "data_path": "./",
            "version": "phoenix_2014_trans",
            "sgn": "sign",
            "txt": "text",
            "gls": "gloss",
            "train": lists["train"],
            "dev": lists["dev"],
            "test": lists["test"],
            "feature_size": [sizes.pop()],
            "multimodal": 0.0,
            "level": "word",
            "txt_lowercase": True,
            "max_sent_length": max_sent_length,
            "random_train_subset": -1,
            "random_dev_subset": -1,
        }
    }


def data_config_yaml(manifests: list[Manifest | dict], directory: str | Path | None = None, max_sent_length: int = SIGNFORMER_MAX_SENT_LENGTH) -> str:
    return yaml.safe_dump(data_config(manifests, directory, max_sent_length), sort_keys=False, width=120)
