"""Extraction from videos: pose estimators (the `ESTIMATORS` registry) and CNN frame embeddings.

The notebooks use `slt_nb.extract.run`; other stages ask this package only for the estimator
registry, so that the shapes of an extraction's files come from the estimator that wrote them.
"""
from __future__ import annotations

from slt_nb.extract.estimators import (ESTIMATORS, ClipPoses, PoseEstimator, build_estimator, estimator_class,
                                       estimator_parts, load_estimators, recorded_estimator, register_estimator)

__all__ = ["ESTIMATORS", "ClipPoses", "PoseEstimator", "build_estimator", "estimator_class", "estimator_parts",
           "load_estimators", "recorded_estimator", "register_estimator"]
