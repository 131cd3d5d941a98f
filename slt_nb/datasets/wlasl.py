"""WLASL (isolated ASL signs): metadata, class labels, subsets, and where each video lives.

`WLASL_v0.3.json` is a list of glosses, each with its instances (one video each). The label of a
video is its gloss's index in `wlasl_class_list.txt`. `nslt_{100,300,1000,2000}.json` name the
videos of the WLASL100/300/... subsets. Videos made by the official preprocessing,
`videos/<video_id>.mp4`, are already trimmed to the sign; raw downloads are cut with the
instance's frame_start/frame_end (1-based, inclusive, -1 = to the end). See docs/FORMATS.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from slt_nb.errors import AnnotationError, ClipError, MissingInput, ParameterError
from slt_nb.paths import plain_name

SPLITS = ("train", "val", "test")
VIDEO_LAYOUTS = ("trimmed", "raw")


from slt_nb.formats.extraction import SkippedVideo, read_class_list  # noqa: E402,F401  (re-exported)

WLASL_FPS = 25.0  # the official preprocessing's frame rate (docs/FORMATS.md)


@dataclass(frozen=True)
class WlaslVideo:
    """One WLASL instance: a video of one sign."""

    video_id: str
    gloss: str
    label: int  # index of the gloss in wlasl_class_list.txt
    split: str
    frame_start: int = 1  # 1-based, in the raw video
    frame_end: int = -1  # inclusive, -1 = to the end
    fps: float = 25.0
    signer_id: int = -1
    source: str = ""
    instance_id: int = -1


@dataclass
class WlaslListing:
    """The videos one run will extract, what was skipped before reading any video, and counts."""

    videos: list[WlaslVideo]
    skipped: list[SkippedVideo]
    counts: dict  # instances in the file, kept by the split/subset filters, cut by max_videos


@dataclass(frozen=True)
class VideoJob:
    """A video to read: the file and the part of it that is the sign."""

    video: WlaslVideo
    path: Path
    frame_start: int = 1
    frame_end: int = -1


def read_nslt_subset(path: str | Path) -> dict[str, dict]:
    """`nslt_N.json`: {video_id: {"subset": split, "action": [class, start, end]}}."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise AnnotationError(f"{path}: expected a JSON object {{video_id: {{subset, action}}}}, found {type(data).__name__}")
    for video_id, entry in data.items():
        if not isinstance(entry, dict) or "subset" not in entry:
            raise AnnotationError(f"{path}: entry {video_id!r} has no 'subset' (found {entry!r:.80})")
    return data


def parse_splits(split) -> tuple[str, ...]:
    """'train' | 'val' | 'test' | 'all' | a list of those -> the splits to keep."""
    if split is None or split == "all":
        return SPLITS
    names = [split] if isinstance(split, str) else list(split)
    names = [s.strip() for n in names for s in str(n).split(",") if s.strip()]
    if "all" in names:
        return SPLITS
    bad = [s for s in names if s not in SPLITS]
    if bad or not names:
        raise ParameterError(f"split must be one of {SPLITS + ('all',)} or a list of them, got {split!r}")
    return tuple(s for s in SPLITS if s in names)


def read_wlasl(json_path: str | Path, class_list: str | Path | None = None, split="all",
               nslt_json: str | Path | None = None, max_videos: int | None = None) -> WlaslListing:
    """The instances of `WLASL_v0.3.json` to extract, in file order.

    Labels come from `class_list` (a gloss missing from it is skipped with that reason); without
    one, a gloss's label is its position in the JSON, which is how the class list was made.
    `nslt_json` keeps only that subset's videos, with the subset's split. `max_videos` keeps the
    first N after the split filter. A video_id that is not a plain file name (`../x`, `/x`, `a/b`)
    is skipped: it names both the video read and the .npz written.
    """
    json_path = Path(json_path)
    with open(json_path, encoding="utf-8") as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        raise AnnotationError(f"{json_path}: expected a list of {{gloss, instances}}, found {type(entries).__name__}")
    keep_splits = parse_splits(split)
    labels = None
    if class_list is not None:
        labels = {gloss: i for i, gloss in enumerate(read_class_list(class_list))}
    subset = read_nslt_subset(nslt_json) if nslt_json else None

    videos: list[WlaslVideo] = []
    skipped: list[SkippedVideo] = []
    seen: dict[str, str] = {}
    counts = {"instances": 0, "other_split": 0, "not_in_subset": 0, "over_max_videos": 0}
    for gloss_no, entry in enumerate(entries):
        if not isinstance(entry, dict) or "gloss" not in entry or "instances" not in entry:
            raise AnnotationError(f"{json_path}: entry {gloss_no} is not a {{gloss, instances}} object")
        gloss = entry["gloss"]
        for inst_no, inst in enumerate(entry["instances"]):
            counts["instances"] += 1
            video_id = str(inst.get("video_id", "")).strip()
            inst_split = inst.get("split", "")
            where = f"{json_path.name}: gloss {gloss!r} instance {inst_no}"
            if not video_id:
                skipped.append(SkippedVideo("", inst_split, f"{where} has no video_id"))
                continue
            if subset is not None:
                if video_id not in subset:
                    counts["not_in_subset"] += 1
                    continue
                inst_split = subset[video_id]["subset"]
            if inst_split not in SPLITS:
                skipped.append(SkippedVideo(video_id, str(inst_split), f"{where}: unknown split {inst_split!r}"))
                continue
            if inst_split not in keep_splits:
                counts["other_split"] += 1
                continue
            try:
                plain_name(video_id, "the video folder and the output folder", "video_id",
                           "the name of a video file (<video_dir>/<video_id>.mp4, written as <split>/<video_id>.npz)")
            except ClipError as exc:
                skipped.append(SkippedVideo(video_id, inst_split, f"{where}: {exc}"))
                continue
            if video_id in seen:
                skipped.append(SkippedVideo(video_id, inst_split,
                                            f"duplicate video_id (already listed under gloss {seen[video_id]!r})"))
                continue
            if labels is None:
                label = gloss_no
            elif gloss in labels:
                label = labels[gloss]
            else:
                skipped.append(SkippedVideo(video_id, inst_split, f"gloss {gloss!r} is not in the class list"))
                continue
            if max_videos is not None and len(videos) >= max_videos:
                counts["over_max_videos"] += 1
                continue
            seen[video_id] = gloss
            videos.append(WlaslVideo(
                video_id=video_id, gloss=gloss, label=label, split=inst_split,
                frame_start=int(inst.get("frame_start", 1) or 1), frame_end=int(inst.get("frame_end", -1)),
                fps=float(inst.get("fps", 25) or 25), signer_id=int(inst.get("signer_id", -1)),
                source=str(inst.get("source", "")), instance_id=int(inst.get("instance_id", -1)),
            ))
    counts["listed"] = len(videos)
    return WlaslListing(videos, skipped, counts)


def locate_videos(videos: list[WlaslVideo], video_dir: str | Path, video_layout: str = "trimmed",
                  extensions: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".swf")
                  ) -> tuple[list[VideoJob], list[SkippedVideo]]:
    """Find `<video_dir>/<video_id>.<ext>` for each video; missing ones are skipped with the path tried.

    video_layout "trimmed": the file is the sign (official preprocessing output);
    "raw": the file is the source video, cut with frame_start/frame_end.
    """
    if video_layout not in VIDEO_LAYOUTS:
        raise ParameterError(f"video_layout must be one of {VIDEO_LAYOUTS}, got {video_layout!r}")
    video_dir = Path(video_dir)
    if not video_dir.is_dir():
        raise MissingInput(f"{video_dir}: video folder not found")
    jobs, skipped = [], []
    for video in videos:
        try:  # read_wlasl skips these already; a list built otherwise is checked too
            plain_name(video.video_id, video_dir, "video_id", "the name of a video file in that folder")
        except ClipError as exc:
            skipped.append(SkippedVideo(video.video_id, video.split, str(exc)))
            continue
        path = next((video_dir / f"{video.video_id}{ext}" for ext in extensions
                     if (video_dir / f"{video.video_id}{ext}").is_file()), None)
        if path is None:
            skipped.append(SkippedVideo(video.video_id, video.split,
                                        f"video file missing: {video_dir / (video.video_id + '.mp4')}"))
            continue
        if video_layout == "raw":
            jobs.append(VideoJob(video, path, video.frame_start, video.frame_end))
        else:
            jobs.append(VideoJob(video, path))
    return jobs, skipped
