"""Rebuild data/demo/Signformer: a `.pami0` set made outside slt-nb, from the real MediaPipe arrays.

    python data/demo/build_signformer.py

Written as Signformer's users write theirs (gzip.open + one pickle.dump of a list of sample dicts,
`sign` a float32 torch tensor (T, 1024) in the columns of params/layouts/holistic-512.yaml, at 25
fps): `slt_nb.testing.foreign_pami` says how. The pickled content is the same on every run; the
gzip header's timestamp is not.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from slt_nb.testing.foreign_pami import write_demo_set  # noqa: E402

if __name__ == "__main__":
    for split, files in write_demo_set(HERE / "Signformer").items():
        print(split, ", ".join(p.name for p in files))
