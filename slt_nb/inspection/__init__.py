"""Inspection (notebooks/inspect.ipynb): clip sources, dataset summaries, the live viewer."""
from slt_nb.inspection.sources import (Clip, ClipRef, ClipSource, ExportSource, ReaderSource, WLASLPoseSource,
                                       open_source, pick_clip)
from slt_nb.inspection.summary import DatasetSummary, detected, hand_swap_frames, summarise
from slt_nb.inspection.viewer import ClipViewer, grid_indices, want_viewer

__all__ = ["Clip", "ClipRef", "ClipSource", "ClipViewer", "DatasetSummary", "ExportSource", "ReaderSource",
           "WLASLPoseSource", "detected", "grid_indices", "hand_swap_frames", "open_source", "pick_clip",
           "summarise", "want_viewer"]
