"""How2Sign: sentence annotations and per-clip OpenPose JSON folders.

Annotations come in two shapes, told apart by their header:
- the official `how2sign_realigned_{split}.csv`, tab-separated despite its name, with
  `SENTENCE_NAME` naming the clip folder and `SENTENCE` its text;
- one `annotations.csv` for all splits, comma-separated `id,text,split`. Its id may be a folder name
  or a sentence id (`_2FBDaOPYig_1`) matching several recordings (`_2FBDaOPYig_1-3-rgb_front`,
  `_2FBDaOPYig_1-5-rgb_front`); each recording becomes its own sample.

Where the files are is detected (`detect_tree`), because every download looks different:
- `official`: the How2Sign download, `data_root` = `How2Sign/`:
  `sentence_level/{split}/rgb_front/features/openpose_output/json/<clip>/`, text in
  `sentence_level/{split}/text/en/raw_text/re_aligned/how2sign_realigned_{split}.csv`;
- `official-sentence_level`: the same with `data_root` = `How2Sign/sentence_level/`;
- `annotations-csv`: the official tree with one `annotations.csv` (id,text,split) at the top;
- `flat`: `{split}/openpose_output/json/<clip>/` beside `how2sign_realigned_{split}.csv` (the demo).
Users download one split at a time, so only the splits asked for must be there. Explicit
`keypoints_dir` / `annotations` templates win over detection.

Keypoints live in `<keypoints dir>/<clip>/<clip>_<frame:012d>_keypoints.json` (or
`frame_000000_keypoints.json`). A few clips are 1920x1080: each clip's frame size comes from its
video header when the videos are in the tree, else from a `frame_sizes` CSV, else the default.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field

from slt_nb.errors import AnnotationError, ClipError, VideoError
from slt_nb.paths import plain_name
from slt_nb.registry import another_reader_hint
from slt_nb.formats.annotations import open_annotations, parse_lines, read_augmented, well_formed
from slt_nb.datasets.base import (ClipData, ExportItem, Reader, Skipped, SplitPlan, TextRow, canonical_split,
                                  common_params, items_from_rows, register_reader, split_values_entry)
from slt_nb.formats.openpose import (ABSURD_VALUE, frame_files_fingerprint, read_openpose_clip,
                                     read_openpose_clip_with_face)
from slt_nb.formats.video import video_frame_size
from slt_nb.datasets.how2sign_tree import (SPLITS, TREE_LAYOUTS, How2SignTree, OpenPoseClip, detect_tree, layouts_tried,
                                           list_clip_folders, read_frame_sizes)
from slt_nb.layouts import OPENPOSE_134, OPENPOSE_274

REALIGNED_COLUMNS = ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME",
                     "START_REALIGNED", "END_REALIGNED", "SENTENCE")
SIMPLE_COLUMNS = ("id", "text", "split")
RECORDING = re.compile(r"^(?P<id>.+)-\d+-rgb_front$")


@dataclass
class AnnotationRow(TextRow):
    split: str = ""


@dataclass
class AnnotationFile:
    """One split's rows of an annotation file, and what the file held for other splits."""

    rows: list[AnnotationRow]
    skipped: list[Skipped]
    split_values: dict | None = None  # for a file shared by splits: split_values_entry(...)
    notes: list[str] = field(default_factory=list)


def read_annotations(path: str | os.PathLike, split: str) -> tuple[list[AnnotationRow], list[Skipped]]:
    """Rows of one split from either annotation shape; malformed rows come back as Skipped."""
    found = read_annotation_file(path, split)
    return found.rows, found.skipped


def read_annotation_file(path: str | os.PathLike, split: str) -> AnnotationFile:
    """Rows of one split from either annotation shape, with an account of the other splits' rows.

    In `annotations.csv` the split values `dev`, `validation`, `Val` mean `val` (noted); rows of
    other or unknown splits are counted by value, never silently dropped.
    """
    path = str(path)
    with open_annotations(path) as f:
        header_line = f.readline()
        if not header_line.strip():
            raise AnnotationError(f"{path}: empty file; expected a header line")
        tabbed = [c.strip() for c in header_line.rstrip("\r\n").split("\t")]
        comma = next(csv.reader([header_line]))
        comma = [c.strip() for c in comma]
        if all(c in tabbed for c in ("SENTENCE_NAME", "SENTENCE")):
            # Written by pandas: a sentence with quotes is itself quoted, inner quotes doubled.
            return AnnotationFile(*_realigned_rows(path, tabbed, parse_lines(f, "\t"), split))
        if all(c in comma for c in SIMPLE_COLUMNS):
            return _simple_rows(path, comma, parse_lines(f, ","), split)
        found = tabbed if len(tabbed) > len(comma) else comma
        raise AnnotationError(
            f"{path}: unrecognised annotation header; found columns {found}; expected the How2Sign "
            f"realigned TSV columns {list(REALIGNED_COLUMNS)} (tab-separated) or {list(SIMPLE_COLUMNS)} "
            f"(comma-separated)"
        )


def _realigned_rows(path, header, lines, split):
    name_col, text_col = header.index("SENTENCE_NAME"), header.index("SENTENCE")
    rows, skipped = [], []
    for line, fields in well_formed(path, lines, header, skipped, name_col, "tab-separated fields", delimiter="\t"):
        rows.append(AnnotationRow(line, fields[name_col].strip(), fields[text_col].strip(), split))
    return rows, skipped


def _simple_rows(path, header, lines, split):
    cols = {c: header.index(c) for c in SIMPLE_COLUMNS}
    rows, skipped = [], []
    by_value: dict[str, int] = {}
    for line, fields in well_formed(path, lines, header, skipped, cols["id"], expected_suffix=f" ({','.join(header)})"):
        value = fields[cols["split"]].strip()
        by_value[value] = by_value.get(value, 0) + 1
        if canonical_split(value) != split:
            continue
        rows.append(AnnotationRow(line, fields[cols["id"]].strip(), fields[cols["text"]].strip(), split))
    values = split_values_entry(path, sum(by_value.values()) + len(skipped), by_value, len(skipped))
    notes = [f"{path}: {by_value[v]} rows with split {v!r} read as {a!r}" for v, a in values["aliases"].items()]
    if values["unknown_split_values"]:
        notes.append(f"{path}: rows with unknown split values, not exported: "
                     + ", ".join(f"{v!r} ({by_value[v]})" for v in values["unknown_split_values"]))
    return AnnotationFile(rows, skipped, values, notes)


@register_reader("how2sign")
@dataclass
class How2SignReader(Reader):
    """Plans and reads How2Sign clips for export."""

    data_root: str
    keypoints_dir: str = "auto"  # auto: detected (see TREE_LAYOUTS), or a template over {data_root}, {split}
    annotations: str = "auto"  # auto: detected, or a path template
    frame_size: tuple[int, int] | None = (1280, 720)  # None keeps pixel coordinates
    dataset: str = "How2Sign"
    variant: str = ""
    augmented: str | None = None  # e.g. "{data_root}/train_aug.tsv": several texts per clip
    augmented_splits: tuple[str, ...] = ("train",)
    frame_sizes: str | None = None  # a clip,width,height CSV for clips whose video is not in the tree
    layout = OPENPOSE_134
    inspection_layout = OPENPOSE_274  # inspection also reads the face, which the export leaves out
    point_confidence = "OpenPose confidence"
    fps = 24.0
    demo_params = "How2Sign"

    @classmethod
    def from_params(cls, params: dict) -> "How2SignReader":
        normalised = params.get("coordinates", "normalised") == "normalised"
        frame_sizes = params.get("frame_sizes")
        return cls(
            keypoints_dir=params.get("keypoints_dir", "auto") or "auto",
            annotations=params.get("annotations", "auto") or "auto",
            frame_size=tuple(params.get("frame_size", (1280, 720))) if normalised else None,
            frame_sizes=str(frame_sizes) if frame_sizes else None,
            **common_params(params),
        )

    @staticmethod
    def detect(root: str) -> bool:
        """Whether `root` looks like a How2Sign tree in any of TREE_LAYOUTS."""
        return detect_tree(root) is not None

    def tree(self) -> How2SignTree | None:
        if "_tree" not in self.__dict__:  # detected once, on first use
            self._tree = detect_tree(self.data_root)
        return self._tree

    def splits_present(self) -> list[str]:
        """Splits with keypoints in the tree (all asked-for ones with an explicit keypoints_dir)."""
        if self.keypoints_dir != "auto":
            return [s for s in SPLITS if os.path.isdir(self.clip_root(s))]
        tree = self.tree()
        return list(tree.splits) if tree else []

    def read_for_inspection(self, item: ExportItem) -> ClipData:
        """The clip with the face too (OPENPOSE_274), for plots."""
        folder, size = self._where(item)
        rows, counts, files, confidence = read_openpose_clip_with_face(folder, size, with_confidence=True)
        notes = [f"frame numbers missing: {files.describe_gaps()}"] if files.gaps else []
        if counts.zeroed_frames:
            notes.append(f"{counts.zeroed_frames} frames drawn as zeros: their keypoints held null, NaN, infinite "
                         "or absurd values")
        return ClipData(rows, counts.as_dict(), notes, confidence=confidence)

    def _no_tree_error(self, split: str = "{split}") -> AnnotationError:
        return AnnotationError(f"{self.data_root}: no How2Sign layout matches; tried:\n{layouts_tried(self.data_root, split)}\n"
                               f"or set keypoints_dir and annotations explicitly (templates over {{data_root}}, {{split}})"
                               + another_reader_hint(self.data_root, self.reader_name))

    def _missing_split_error(self, split: str, looked: str) -> AnnotationError:
        present = self.splits_present()
        return AnnotationError(f"How2Sign split {split!r} not found: looked for {looked}; splits present under "
                               f"{self.data_root}: {present or 'none'}"
                               + (f" (pass -p splits {','.join(present)})" if present else ""))

    def annotation_file(self, split: str) -> str:
        if self.annotations != "auto":
            return self.annotations.format(data_root=self.data_root, split=split)
        tree = self.tree()
        if tree is not None and split in tree.splits:
            files = tree.splits[split]
            if files.annotations:
                return files.annotations
            raise AnnotationError(f"no How2Sign annotations for split {split!r} ({tree.layout} layout): "
                                  f"looked for {files.looked_for_annotations}")
        candidates = [p for layout in TREE_LAYOUTS for p in layout.paths(self.data_root, split)["annotations"]]
        for c in dict.fromkeys(candidates):
            if os.path.isfile(c):
                return c
        raise AnnotationError(f"no How2Sign annotations for split {split!r}: looked for {list(dict.fromkeys(candidates))}")

    def clip_root(self, split: str) -> str:
        if self.keypoints_dir != "auto":
            return self.keypoints_dir.format(data_root=self.data_root, split=split)
        tree = self.tree()
        if tree is None:
            raise self._no_tree_error(split)
        if split not in tree.splits:
            looked = [layout.paths(self.data_root, split)["keypoints"] for layout in TREE_LAYOUTS]
            raise self._missing_split_error(split, looked)
        return tree.splits[split].keypoints

    def require_splits(self, splits: list[str]) -> None:
        """Raise, naming where it looked, if any split asked for has no keypoints or no text."""
        for split in splits:
            root = self.clip_root(split)
            if self.keypoints_dir != "auto" and not os.path.isdir(root):
                raise self._missing_split_error(split, [root])
            if not (self.augmented and split in self.augmented_splits):
                self.annotation_file(split)

    def video_dirs(self, split: str) -> list[str]:
        tree = self.tree() if self.keypoints_dir == "auto" else None
        if tree is not None and split in tree.splits:
            return tree.splits[split].videos
        dirs = [v for layout in TREE_LAYOUTS for v in layout.paths(self.data_root, split)["videos"]]
        return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]

    def plan(self, split: str) -> SplitPlan:
        root = self.clip_root(split)  # first: a missing split is named before any annotation file
        if self.keypoints_dir != "auto" and not os.path.isdir(root):
            raise self._missing_split_error(split, [root])
        augmented = bool(self.augmented) and split in self.augmented_splits
        split_values, notes = None, []
        if augmented:
            path = self.augmented.format(data_root=self.data_root, split=split)
            rows, skipped = read_augmented(path)
        else:
            path = self.annotation_file(split)
            found = read_annotation_file(path, split)
            rows, skipped, split_values, notes = found.rows, found.skipped, found.split_values, found.notes
        # Counted before planning adds its own skips; rows of other splits are not ours.
        total = len(rows) + len(skipped)
        folders = list_clip_folders(root)
        recordings: dict[str, list[str]] = {}
        for folder in sorted(folders):
            m = RECORDING.match(folder)
            if m:
                recordings.setdefault(m.group("id"), []).append(folder)

        def resolve(row: TextRow):
            # Clips are only ever looked up among the folders listed under root, so a name with
            # `/` or `..` cannot reach outside it; it is named as what it is, not as a missing folder.
            try:
                plain_name(row.id, root, "clip name", "the name of a clip folder in that folder")
            except ClipError as exc:
                raise ClipError(f"{path} line {row.line}: {exc}") from None
            clips = [row.id] if row.id in folders else recordings.get(row.id, [])
            if not clips:
                what = "source clip unknown" if augmented else "no keypoint folder"
                raise ClipError(f"{os.path.join(root, row.id)}: {what}" + (" (no keypoint folder)" if augmented else ""))
            return [(clip, os.path.join(root, clip), "") for clip in clips]

        items = items_from_rows(split, rows, resolve, path, skipped, augmented)
        sizes, refused = self._frame_sizes(split, items)
        for item in (i for i in items if i.clip in refused):
            skipped.extend(Skipped(row, item.clip, refused[item.clip], path) for row in item.rows)
        named = {item.clip for item in items}  # a refused clip has its row: it is no pose folder without one
        items = [item for item in items if item.clip not in refused]
        without_rows = sorted(folders - named)
        extra = {
            "source": {"layout": self.tree().layout if self.keypoints_dir == "auto" and self.tree() else "explicit",
                       "keypoints": root, "text": path, "videos": self.video_dirs(split)},
            "reconciliation": {
                "rows_without_poses": sum(1 for s in skipped if "no keypoint folder" in s.reason),
                "poses_without_rows": len(without_rows),
                "poses_without_rows_list": without_rows,
            },
            "frame_sizes": sizes,
        }
        if split_values is not None:
            extra["split_values"] = split_values
        if notes:
            extra["annotation_notes"] = notes
        return SplitPlan(split, path, total, items, skipped, extra)

    def _frame_sizes(self, split: str, items: list[ExportItem]) -> tuple[dict, dict[str, str]]:
        """Give each item's locator its clip's frame size; returns the manifest's account of them
        and the clips whose frame_sizes row is refused, with the reason (each a skip of its clip).

        Order of trust: the clip's video header (raw video, else OpenPose's rendering), then the
        frame_sizes CSV, then the configured size (clips beyond it are noted when read).
        """
        if self.frame_size is None:
            for item in items:
                item.locator = OpenPoseClip(item.locator, None)
            return {"configured": None, "note": "pixel coordinates: no frame size used"}, {}
        videos = {}
        for directory in reversed(self.video_dirs(split)):  # raw videos win: read last
            with os.scandir(directory) as it:
                videos.update({e.name[:-4]: e.path for e in it if e.name.endswith(".mp4")})
        table, bad_rows = (read_frame_sizes(self.frame_sizes.format(data_root=self.data_root)) if self.frame_sizes
                           else ({}, {}))
        source_counts = {"video header": 0, "frame_sizes csv": 0, "configured": 0}
        other_sizes, unreadable, refused = {}, [], {}
        for item in items:
            size, source = tuple(self.frame_size), "configured"
            if item.clip in videos:
                try:
                    size, source = video_frame_size(videos[item.clip]), "video header"
                except VideoError as exc:
                    unreadable.append(str(exc))
            if source == "configured" and item.clip in bad_rows:
                refused[item.clip] = bad_rows[item.clip]
                continue
            if source == "configured" and item.clip in table:
                size, source = table[item.clip], "frame_sizes csv"
            source_counts[source] += 1
            if size != tuple(self.frame_size):
                other_sizes[item.clip] = {"size": list(size), "from": source}
            item.locator = OpenPoseClip(item.locator, size)
        account = {"configured": list(self.frame_size), "clips_by_source": source_counts,
                   "clips_not_configured_size": other_sizes}
        if unreadable:
            account["unreadable_videos"] = unreadable
        if bad_rows:
            account["refused_rows"] = sorted(bad_rows.values())
        if not other_sizes:
            account["note"] = f"one size, {self.frame_size[0]}x{self.frame_size[1]}, used for every clip"
        return account, refused

    def _where(self, item: ExportItem) -> tuple[str, tuple[int, int] | None]:
        loc = item.locator
        if isinstance(loc, OpenPoseClip):
            return loc.folder, loc.frame_size
        return str(loc), self.frame_size

    def read(self, item: ExportItem) -> ClipData:
        folder, size = self._where(item)
        rows, counts, files, confidence = read_openpose_clip(folder, size, with_confidence=True)
        notes = []
        if files.gaps:
            notes.append(f"frame numbers missing: {files.describe_gaps()} ({len(rows)} frames found)")
        if counts.zeroed_frames:
            notes.append(f"{counts.zeroed_frames} of {len(rows)} frames written as zeros: their keypoints held "
                         f"null, NaN, infinite or absurd (>= {ABSURD_VALUE:g}) values")
        if counts.refused:
            notes.append(f"{len(counts.refused)} frames had another person holding values the reader refuses: "
                         + " | ".join(counts.refused[:3]) + (" | ..." if len(counts.refused) > 3 else ""))
        if counts.outside_frame:
            notes.append(f"{counts.outside_frame} frames have body points beyond the frame size "
                         f"{size}: is the video larger?")
        c = counts.as_dict()
        c["frame_gaps"] = len(files.gaps)
        return ClipData(rows, c, notes, confidence=confidence,
                        pixel_scale=(float(size[0]), float(size[1])) if size else (1.0, 1.0), fps=self.fps,
                        inputs=[files.fingerprint])

    def source_fingerprints(self, item: ExportItem) -> list:
        """What the resume key covers: the clip folder's frame files (count, bytes, newest mtime)."""
        return [frame_files_fingerprint(self._where(item)[0])]

    def describe(self) -> dict:
        tree = self.tree() if self.keypoints_dir == "auto" else None
        return {
            "name": self.reader_name,
            "fps": self.fps,
            "kind": "How2Sign OpenPose JSON",
            "data_root": self.data_root,
            "keypoints_dir": self.keypoints_dir,
            "annotations": self.annotations,
            "tree": tree.describe() if tree else {"layout": "explicit" if self.keypoints_dir != "auto" else "none"},
            "augmented": self.augmented,
            "augmented_splits": list(self.augmented_splits) if self.augmented else [],
            "coordinates": "normalised" if self.frame_size else "pixels",
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "frame_sizes": self.frame_sizes,
        }

