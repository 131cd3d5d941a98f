"""The training config: `configs/small_config.yaml`, overrides by name, and the data it describes.

The config has Signformer's shape (`model:` and `efficiency:`), plus `data:` and `training:`.
Any key can be overridden by name (`epochs=50`, `batch_size=8`) when exactly one section has
it, or by `section.key`; an unknown key is an error listing the known ones. `model.input_type`
and the efficiency flags (`use_pre_extracted`, `use_pose`) describe the same choice, so they
are made to agree here, once, before anything is loaded.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

from slt_nb.errors import ParameterError, UnknownName
from slt_nb.params import REPO_ROOT, resolve
from slt_nb.train.data import Augmentation, TrainingData, load_training_data
from slt_nb.train.model import INPUT_TYPES, ModelConfig

DEFAULT_CONFIG_PATH = REPO_ROOT / "configs" / "small_config.yaml"
SECTIONS = ("model", "efficiency", "data", "training")


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """The YAML config with overrides applied (None values ignored), checked and made consistent."""
    path = resolve(path) if path else DEFAULT_CONFIG_PATH
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    for section in SECTIONS:
        config.setdefault(section, {})
        if not isinstance(config[section], dict):
            raise ParameterError(f"{path}: section {section!r} must be a mapping, found {config[section]!r}")
    config = apply_overrides(config, overrides or {}, source=str(path))
    config["model"]["input_type"] = resolve_input_type(config)
    ModelConfig(**config["model"])  # raises with the offending key
    return config


def apply_overrides(config: dict, overrides: dict, source: str = "config") -> dict:
    """Set `key` (found in exactly one section) or `section.key`; an unknown key is an error.

    Overriding model.input_type also sets the efficiency flags that describe it, so
    `-p input_type features` does not contradict `use_pose: true` left in the file.
    """
    config = copy.deepcopy(config)
    for key, value in overrides.items():
        if value is None:
            continue
        if "." in key:
            section, name = key.split(".", 1)
            if section not in SECTIONS:
                raise UnknownName(f"override {key!r}: no section {section!r} (sections: {list(SECTIONS)})")
        else:
            holders = [s for s in SECTIONS if key in config[s]]
            if len(holders) != 1:
                known = sorted(k for s in SECTIONS for k in config[s])
                raise UnknownName(f"override {key!r}: " + (f"found in several sections {holders}; use section.key"
                                                           if holders else f"not a key of {source}; known: {known}"))
            section, name = holders[0], key
        config[section][name] = value
        if section == "model" and name == "input_type" and value in INPUT_TYPES:
            config["efficiency"]["use_pre_extracted"] = value != "video"
            config["efficiency"]["use_pose"] = value == "pose"
    return config


def resolve_input_type(config: dict) -> str:
    """model.input_type, or from the efficiency flags when it is "auto"; a contradiction is an error."""
    eff = config["efficiency"]
    pre, use_pose = bool(eff.get("use_pre_extracted", True)), bool(eff.get("use_pose", True))
    implied = ("pose" if use_pose else "features") if pre else "video"
    stated = config["model"].get("input_type", "auto")
    if stated in (None, "auto"):
        return implied
    if stated != implied:
        raise ParameterError(f"model.input_type is {stated!r} but efficiency (use_pre_extracted={pre}, "
                         f"use_pose={use_pose}) describes {implied!r}; make them agree")
    return stated


def training_data(config: dict, input_type: str | None = None) -> TrainingData:
    """The datasets a config describes (optionally for another input type on the same data)."""
    eff, data = config["efficiency"], config["data"]
    aug = Augmentation(enabled=bool(data.get("augment", False)),
                       rotation_deg=float(data.get("rotation_deg", 10)), scale=float(data.get("scale", 0.1)),
                       shift=float(data.get("shift", 0.05)), frame_drop=float(data.get("frame_drop", 0.1)))
    return load_training_data(
        input_type or config["model"]["input_type"], resolve(eff.get("pose_dir")), resolve(eff.get("feature_dir")),
        resolve(data.get("class_list")), resolve(eff.get("video_dir")),
        normalise_pose=bool(eff.get("normalize_pose", True)), augmentation=aug,
        cache=bool(eff.get("cache_in_memory", True)), num_frames=int(data.get("num_frames", 16)),
        video_size=int(data.get("video_size", 64)), seed=int(config["training"].get("seed", 0)))
