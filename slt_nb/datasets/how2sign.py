"""How2Sign: sentence annotations and per-clip OpenPose JSON folders.

Annotations come in two shapes, told apart by their header:
- the official `how2sign_realigned_{split}.csv`, tab-separated despite its name, with
  `SENTENCE_NAME` naming the clip folder and `SENTENCE` its text;
- the brief's `annotations.csv`, comma-separated `id,text,split`. Its id may be a folder name
  or a sentence id (`_2FBDaOPYig_1`) matching several recordings (`_2FBDaOPYig_1-3-rgb_front`,
  `_2FBDaOPYig_1-5-rgb_front`); each recording becomes its own sample.

Keypoints live in `{keypoints_dir}/<clip>/<clip>_<frame:012d>_keypoints.json`.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass

from slt_nb.datasets.registry import common_params, register_reader
from slt_nb.errors import AnnotationError, ClipError
from slt_nb.formats.annotations import open_annotations, parse_lines, read_augmented, well_formed
from slt_nb.datasets.base import ClipData, ExportItem, Skipped, SplitPlan, TextRow, items_from_rows
from slt_nb.formats.openpose import ABSURD_VALUE, read_openpose_clip, read_openpose_clip_with_face
from slt_nb.layouts import OPENPOSE_134, OPENPOSE_274

REALIGNED_COLUMNS = ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME",
                     "START_REALIGNED", "END_REALIGNED", "SENTENCE")
SIMPLE_COLUMNS = ("id", "text", "split")
RECORDING = re.compile(r"^(?P<id>.+)-\d+-rgb_front$")


@dataclass
class AnnotationRow(TextRow):
    split: str = ""


def read_annotations(path: str | os.PathLike, split: str) -> tuple[list[AnnotationRow], list[Skipped]]:
    """Rows of one split from either annotation shape; malformed rows come back as Skipped."""
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
            return _realigned_rows(path, tabbed, parse_lines(f, "\t"), split)
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
    for line, fields in well_formed(path, lines, header, skipped, cols["id"], expected_suffix=f" ({','.join(header)})"):
        if fields[cols["split"]].strip() != split:
            continue
        rows.append(AnnotationRow(line, fields[cols["id"]].strip(), fields[cols["text"]].strip(), split))
    return rows, skipped


@register_reader("how2sign")
@dataclass
class How2SignReader:
    """Plans and reads How2Sign clips for export."""

    data_root: str
    keypoints_dir: str = "{data_root}/{split}/openpose_output/json"
    annotations: str = "auto"  # a path template, or auto: realigned CSV, else annotations.csv
    frame_size: tuple[int, int] | None = (1280, 720)  # None keeps pixel coordinates
    dataset: str = "How2Sign"
    variant: str = ""
    augmented: str | None = None  # e.g. "{data_root}/train_aug.tsv": several texts per clip
    augmented_splits: tuple[str, ...] = ("train",)
    layout = OPENPOSE_134
    inspection_layout = OPENPOSE_274  # inspection also reads the face, which the export leaves out
    fps = 24.0
    demo_params = "How2Sign"

    @classmethod
    def from_params(cls, params: dict) -> "How2SignReader":
        normalised = params.get("coordinates", "normalised") == "normalised"
        return cls(
            keypoints_dir=params.get("keypoints_dir", "{data_root}/{split}/openpose_output/json"),
            annotations=params.get("annotations", "auto"),
            frame_size=tuple(params.get("frame_size", (1280, 720))) if normalised else None,
            **common_params(params),
        )

    @staticmethod
    def detect(root: str) -> bool:
        """Whether `root` looks like a How2Sign tree (annotations or OpenPose folders)."""
        return any(os.path.exists(os.path.join(root, name)) for name in
                   ("annotations.csv", "how2sign_realigned_train.csv", "how2sign_realigned_val.csv",
                    "how2sign_realigned_test.csv", "sentence_level"))

    def read_for_inspection(self, item: ExportItem) -> ClipData:
        """The clip with the face too (OPENPOSE_274), for plots."""
        rows, counts, files = read_openpose_clip_with_face(item.locator, self.frame_size)
        notes = [f"frame numbers missing: {files.describe_gaps()}"] if files.gaps else []
        if counts.zeroed_frames:
            notes.append(f"{counts.zeroed_frames} frames drawn as zeros: their keypoints held null, NaN, infinite "
                         "or absurd values")
        return ClipData(rows, counts.as_dict(), notes)

    def annotation_file(self, split: str) -> str:
        if self.annotations != "auto":
            return self.annotations.format(data_root=self.data_root, split=split)
        candidates = [os.path.join(self.data_root, f"how2sign_realigned_{split}.csv"),
                      os.path.join(self.data_root, "annotations.csv")]
        for c in candidates:
            if os.path.exists(c):
                return c
        raise AnnotationError(f"no How2Sign annotations for split {split!r}: looked for {candidates}")

    def clip_root(self, split: str) -> str:
        return self.keypoints_dir.format(data_root=self.data_root, split=split)

    def plan(self, split: str) -> SplitPlan:
        augmented = bool(self.augmented) and split in self.augmented_splits
        if augmented:
            path = self.augmented.format(data_root=self.data_root, split=split)
            rows, skipped = read_augmented(path)
        else:
            path = self.annotation_file(split)
            rows, skipped = read_annotations(path, split)
        # Counted before planning adds its own skips; rows of other splits are not ours.
        total = len(rows) + len(skipped)
        root = self.clip_root(split)
        folders = _list_folders(root)
        recordings: dict[str, list[str]] = {}
        for folder in sorted(folders):
            m = RECORDING.match(folder)
            if m:
                recordings.setdefault(m.group("id"), []).append(folder)

        def resolve(row: TextRow):
            clips = [row.id] if row.id in folders else recordings.get(row.id, [])
            if not clips:
                what = "source clip unknown" if augmented else "no keypoint folder"
                raise ClipError(f"{os.path.join(root, row.id)}: {what}" + (" (no keypoint folder)" if augmented else ""))
            return [(clip, os.path.join(root, clip), "") for clip in clips]

        items = items_from_rows(split, rows, resolve, path, skipped, augmented)
        return SplitPlan(split, path, total, items, skipped)

    def read(self, item: ExportItem) -> ClipData:
        rows, counts, files = read_openpose_clip(item.locator, self.frame_size)
        notes = []
        if files.gaps:
            notes.append(f"frame numbers missing: {files.describe_gaps()} ({len(rows)} frames found)")
        if counts.zeroed_frames:
            notes.append(f"{counts.zeroed_frames} of {len(rows)} frames written as zeros: their keypoints held "
                         f"null, NaN, infinite or absurd (>= {ABSURD_VALUE:g}) values")
        if counts.outside_frame:
            notes.append(f"{counts.outside_frame} frames have body points beyond the frame size "
                         f"{self.frame_size}: is the video larger?")
        c = counts.as_dict()
        c["frame_gaps"] = len(files.gaps)
        return ClipData(rows, c, notes)

    def describe(self) -> dict:
        return {
            "name": self.reader_name,
            "fps": self.fps,
            "kind": "How2Sign OpenPose JSON",
            "data_root": self.data_root,
            "keypoints_dir": self.keypoints_dir,
            "annotations": self.annotations,
            "augmented": self.augmented,
            "augmented_splits": list(self.augmented_splits) if self.augmented else [],
            "coordinates": "normalised" if self.frame_size else "pixels",
            "frame_size": list(self.frame_size) if self.frame_size else None,
        }


def _list_folders(root: str) -> set[str]:
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
