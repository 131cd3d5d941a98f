"""Extraction from videos: pose estimators (the `ESTIMATORS` registry) and CNN frame embeddings.

The notebooks use `slt_nb.extract.run`. Other stages ask `slt_nb.registry` (ESTIMATORS,
estimator_parts) and `slt_nb.formats.extraction` (recorded_estimator), never this package, so
that the shapes of an extraction's files come from the estimator that wrote them without one
stage importing another; the names stay importable from here too.
"""
from __future__ import annotations

from slt_nb.extract.estimators import (ESTIMATORS, ClipPoses, PoseEstimator, build_estimator, estimator_class,
                                       load_estimators, register_estimator)
# Moved out of this stage (re-exported for code written against it; new code imports the new homes).
from slt_nb.formats.extraction import recorded_estimator
from slt_nb.registry import estimator_parts

__all__ = ["ESTIMATORS", "ClipPoses", "PoseEstimator", "build_estimator", "estimator_class", "estimator_parts",
           "load_estimators", "recorded_estimator", "register_estimator"]
