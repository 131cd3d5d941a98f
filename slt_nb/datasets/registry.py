"""Moved: the reader registry is `READERS` in slt_nb.datasets.base (a `slt_nb.registry.Registry`).

Re-exported here for code written against the old place.
"""
from slt_nb.datasets.base import (READERS, common_params, detect_reader, reader_class,  # noqa: F401
                                  reader_from_params, register_reader)
