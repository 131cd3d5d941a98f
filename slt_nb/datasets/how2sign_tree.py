"""Where a How2Sign tree keeps its files: the download layouts, detected under a data_root.

The official download (`data_root` at `How2Sign/` or at `How2Sign/sentence_level/`), the
`annotations-csv` tree (the same with one `annotations.csv` at the top) and the flat tree of the
demo differ only in where keypoints, text and clip videos live; `TREE_LAYOUTS` says where for
each, `detect_tree` finds the first that matches, and `layouts_tried` lists them all for the
error a user sees when none does. Per-clip frame sizes come from a `clip,width,height` CSV.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

from slt_nb.errors import AnnotationError
from slt_nb.formats.annotations import open_annotations


SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class TreeLayout:
    """One way a How2Sign tree can be laid out; paths are templates over {root}, {parent}, {split}."""

    name: str
    description: str
    keypoints: str
    annotations: tuple[str, ...]  # tried in order
    videos: tuple[str, ...]  # clip videos (<clip>.mp4), raw first, then OpenPose's renderings

    def paths(self, root: str, split: str) -> dict[str, object]:
        fill = dict(root=root, parent=os.path.dirname(os.path.normpath(root)), split=split)
        return {"keypoints": os.path.normpath(self.keypoints.format(**fill)),
                "annotations": [os.path.normpath(a.format(**fill)) for a in self.annotations],
                "videos": [os.path.normpath(v.format(**fill)) for v in self.videos]}


_OFFICIAL_TEXT = "text/en/raw_text/re_aligned/how2sign_realigned_{split}.csv"
TREE_LAYOUTS = (
    TreeLayout("official", "How2Sign download, data_root = How2Sign/",
               "{root}/sentence_level/{split}/rgb_front/features/openpose_output/json",
               ("{root}/sentence_level/{split}/" + _OFFICIAL_TEXT, "{root}/how2sign_realigned_{split}.csv",
                "{root}/annotations.csv"),
               ("{root}/sentence_level/{split}/rgb_front/raw_videos",
                "{root}/sentence_level/{split}/rgb_front/features/openpose_output/video")),
    TreeLayout("official-sentence_level", "How2Sign download, data_root = How2Sign/sentence_level/",
               "{root}/{split}/rgb_front/features/openpose_output/json",
               ("{root}/{split}/" + _OFFICIAL_TEXT, "{root}/how2sign_realigned_{split}.csv",
                "{root}/annotations.csv", "{parent}/annotations.csv"),
               ("{root}/{split}/rgb_front/raw_videos", "{root}/{split}/rgb_front/features/openpose_output/video")),
    TreeLayout("flat", "flat tree: <split>/openpose_output/json beside the CSVs (slt-nb demo)",
               "{root}/{split}/openpose_output/json",
               ("{root}/how2sign_realigned_{split}.csv", "{root}/annotations.csv"),
               ("{root}/{split}/raw_videos", "{root}/{split}/openpose_output/video")),
)


@dataclass
class SplitFiles:
    """Where one split's keypoints, text and clip videos were found."""

    keypoints: str
    annotations: str | None
    videos: list[str]
    looked_for_annotations: list[str]


@dataclass
class How2SignTree:
    """The layout detected under a data_root and the files found for each split present."""

    root: str
    layout: str  # official, official-sentence_level, annotations-csv, flat
    description: str
    splits: dict[str, SplitFiles]

    def describe(self) -> dict:
        return {"layout": self.layout, "description": self.description,
                "splits": {s: {"keypoints": f.keypoints, "annotations": f.annotations, "videos": f.videos}
                           for s, f in self.splits.items()}}


def detect_tree(root: str) -> How2SignTree | None:
    """The first layout of TREE_LAYOUTS with a keypoint folder for any split under root, or None."""
    for layout in TREE_LAYOUTS:
        found = {}
        for split in SPLITS:
            paths = layout.paths(root, split)
            if not os.path.isdir(paths["keypoints"]):
                continue
            annotations = next((a for a in paths["annotations"] if os.path.isfile(a)), None)
            found[split] = SplitFiles(paths["keypoints"], annotations,
                                      [v for v in paths["videos"] if os.path.isdir(v)], paths["annotations"])
        if found:
            name = layout.name
            shared = [f.annotations for f in found.values() if f.annotations]
            if name.startswith("official") and shared and all(os.path.basename(a) == "annotations.csv" for a in shared):
                name, description = "annotations-csv", f"{layout.description} with one annotations.csv for all splits"
            else:
                description = layout.description
            return How2SignTree(root, name, description, found)
    return None


def layouts_tried(root: str, split: str = "{split}") -> str:
    """Every layout with the paths it expects, for an error when nothing under root matches."""
    lines = []
    for layout in TREE_LAYOUTS:
        paths = layout.paths(root, split)
        lines.append(f"  {layout.name} ({layout.description}): keypoints {paths['keypoints']}/<clip>/, "
                     f"text {' or '.join(paths['annotations'])}")
        if layout.name == "official":
            lines.append(f"  annotations-csv (one table for all splits): keypoints as official, frames frame_000000_keypoints.json, "
                         f"text {os.path.join(root, 'annotations.csv')} (id,text,split)")
    return "\n".join(lines)


def read_frame_sizes(path: str) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """A `clip,width,height` CSV as ({clip: (width, height)}, {clip: why its row is refused}).

    A row whose width or height is no whole number above 0 is refused for its clip alone (the
    reason names the line), so one bad size costs that clip, not the part it would be written in.
    A wrong header, or a row without a clip name, is an error naming the file (and line).
    """
    sizes, refused = {}, {}
    with open_annotations(path, "frame_sizes file") as f:
        reader = csv.reader(f)
        header = [c.strip() for c in next(reader, [])]
        if header[:3] != ["clip", "width", "height"]:
            raise AnnotationError(f"{path}: header {header}; expected clip,width,height")
        for line, fields in enumerate(reader, start=2):
            if not fields or not any(x.strip() for x in fields):
                continue
            clip = fields[0].strip()
            if not clip:
                raise AnnotationError(f"{path} line {line}: {fields}; no clip name (expected clip,width,height)")
            try:
                width, height = int(fields[1]), int(fields[2])
            except (IndexError, ValueError):
                width = height = 0
            if width <= 0 or height <= 0:
                refused[clip] = (f"{path} line {line}: frame size {fields[1:]} for {clip}; expected a width "
                                 "and a height in pixels, whole numbers above 0")
                sizes.pop(clip, None)
                continue
            sizes[clip] = (width, height)
            refused.pop(clip, None)
    return sizes, refused


@dataclass
class OpenPoseClip:
    """Where a clip's keypoint folder is, and the frame size its pixels are divided by."""

    folder: str
    frame_size: tuple[int, int] | None

    def __fspath__(self) -> str:  # so code that took the folder path keeps working
        return self.folder

    def __str__(self) -> str:
        return self.folder


def list_clip_folders(root: str) -> set[str]:
    """Names of the clip folders under root, with broken links kept so reading can name the fault."""
    try:
        with os.scandir(root) as it:
            return {e.name for e in it if _folder_or_link(e)}
    except FileNotFoundError:
        return set()


def _folder_or_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir() or entry.is_symlink()
    except OSError:  # a symlink loop: reading the clip says so, with its path
        return True
