"""Corpus readers, one module per corpus, each registered by name in `READERS`.

A reader class (a subclass of `base.Reader`, whose abstract members are the contract, each
with a docstring) carries everything the rest of the workbench needs to know about its corpus:
its feature `layout`, `fps`, default `frame_size` (width, height), the params file its demo runs
from (`demo_params`), `from_params(params)` to build one from a params dict, `detect(root)` to
say whether a folder looks like its corpus, and `plan(split)` / `read(item)` for the export.
Adding a corpus is one module here plus a params file: derive its reader class from `Reader`,
decorate it with `@register_reader("name")` (which refuses it, naming what is missing, if it
leaves a member undefined) and import the module below.
"""
from __future__ import annotations

from slt_nb.datasets.base import (READERS, ClipData, DatasetReader, ExportItem, Reader, Skipped, SplitPlan, TextRow,
                                  detect_reader, items_from_rows, reader_class, reader_from_params, register_reader)

# Importing the corpus modules registers their readers.
from slt_nb.datasets import how2sign as _how2sign  # noqa: E402,F401
from slt_nb.datasets import lsfb as _lsfb  # noqa: E402,F401
from slt_nb.datasets import poseformat as _poseformat  # noqa: E402,F401
from slt_nb.datasets import pami as _pami  # noqa: E402,F401

__all__ = ["READERS", "ClipData", "DatasetReader", "ExportItem", "Reader", "Skipped", "SplitPlan", "TextRow",
           "detect_reader", "items_from_rows", "reader_class", "reader_from_params", "register_reader"]
