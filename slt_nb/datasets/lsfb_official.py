"""LSFB-CONT's lsfb-dataset 2.x layout ("official-2.x"): a split from its session list and subtitles.json.

    annotations/subtitles.json      {"<session id>": [{"start": ms, "end": ms, "value": text}, ...]}
    metadata/splits/<split>.json    a list of session ids
    poses/{pose,left_hand,right_hand}/<session id>.npy

Sentences are named `<session>_<k>` (k-th subtitle of the session by start time). Only the split
file asked for and subtitles.json must be readable; anything wrong with one session (its entry,
a subtitle, its pose file) is a skip of that session's rows by name. The schema of
subtitles.json is not confirmed on a real file, so every window is checked against its session's
length (`lsfb_files.session_poses_problem`), and a session key given twice is read once when
both blocks agree (with a note), else all its rows are skipped: JSON would keep only the last.

Skipped rows have no line in a file, so each subtitle (or refused entry) is numbered in reading
order, and `annotation_rows` counts them all: exported + skipped = rows still adds up.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from slt_nb.datasets.base import ExportItem, Skipped, SplitPlan, TextRow, items_from_rows
from slt_nb.datasets.lsfb_files import (SPLITS_DIR, SUBTITLES, Window, check_subtitle_times, load_session_array,
                                        read_json, session_poses_problem, window_problem)
from slt_nb.errors import AnnotationError, ClipError


def detect_official(root: str) -> bool:
    """Whether `root` has the 2.x layout's subtitles.json."""
    return os.path.isfile(SUBTITLES.format(data_root=root))


def official_splits(data_root: str) -> list[str]:
    """The splits with a file in metadata/splits/, sorted ([] when the folder is not there)."""
    splits_dir = SPLITS_DIR.format(data_root=data_root)
    return sorted(n[:-5] for n in os.listdir(splits_dir) if n.endswith(".json")) if os.path.isdir(splits_dir) else []


@dataclass
class OfficialRows:
    """A split's subtitle rows as they are read: kept rows and their windows, skips, notes."""

    rows: list[TextRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    line: int = 0  # rows numbered in reading order, skipped or not

    def skip(self, name: str, reason: str, path: str, line: int | None = None) -> None:
        if line is None:
            self.line += 1
            line = self.line
        self.skipped.append(Skipped(line, name, reason, path))


def plan_official(reader, split: str) -> SplitPlan:
    """A split of the 2.x layout for `reader` (an `LSFBReader`): its sessions, their subtitle
    windows, the rows skipped with their reasons, and the reconciliation the manifest reports."""
    split_file, sessions = read_split_file(reader.data_root, split)
    path = SUBTITLES.format(data_root=reader.data_root)
    subtitles = read_json(path, "subtitles file")
    if not isinstance(subtitles, dict):
        raise AnnotationError(f"{path}: expected an object {{session id: [{{start, end, value}}, ...]}}, "
                              f"found a {type(subtitles).__name__}")
    found = OfficialRows()
    on_disk = reader.sessions_on_disk()
    ids = []
    for i, session in enumerate(sessions):
        if isinstance(session, str):
            ids.append(session)
            continue
        found.skip(f"{split_file}[{i}]", f"{split_file}: entry {i} is {shown(session)}; expected a session id "
                   "(a string)", split_file)
    blocks_given = getattr(subtitles, "duplicates", {})
    for session in dict.fromkeys(ids):
        read_session(reader, session, subtitles, blocks_given.get(session), path, on_disk, found)
    total = len(found.rows) + len(found.skipped)

    def resolve(row: TextRow):
        window = found.windows[row.id]
        if window.video_id not in on_disk:
            raise ClipError(f"{reader.pose_file('pose', window.video_id)}: pose file missing")
        return [(row.id, window, "")]

    items: list[ExportItem] = items_from_rows(split, found.rows, resolve, path, found.skipped)
    without_rows = sorted(x for x in set(ids) if subtitles.get(x, []) == [])
    extra = {
        "source": {"layout": "official-2.x", "text": path, "split_file": split_file, "poses": reader.poses_root()},
        "reconciliation": {
            "rows_without_sessions": sum(1 for s in found.skipped if "pose file missing" in s.reason),
            "sessions_missing": sorted({w.video_id for w in found.windows.values()} - on_disk),
            "sessions_without_rows": len(without_rows),
            "sessions_without_rows_list": without_rows,
            "subtitle_rows_in_other_split_files": rows_in_other_splits(reader.data_root, split, set(ids), subtitles,
                                                                       found.notes),
        },
    }
    if found.notes:
        extra["annotation_notes"] = found.notes
    return SplitPlan(split, path, total, items, found.skipped, extra)


def read_split_file(data_root: str, split: str) -> tuple[str, list]:
    """The split file's path and its entries (a JSON list); AnnotationError naming the splits present."""
    split_file = os.path.join(SPLITS_DIR.format(data_root=data_root), f"{split}.json")
    if not os.path.isfile(split_file):
        raise AnnotationError(f"LSFB-CONT split {split!r} not found: looked for {split_file}; "
                              f"splits present: {official_splits(data_root) or 'none'}")
    sessions = read_json(split_file, "split file")
    if not isinstance(sessions, list):
        raise AnnotationError(f"{split_file}: expected a JSON list of session ids, found a {type(sessions).__name__}")
    return split_file, sessions


def read_session(reader, session: str, subtitles: dict, blocks: list | None, path: str, on_disk: set[str],
                 found: OfficialRows) -> None:
    """Add one session's subtitles to `found`: as rows with their windows, or as skips saying why."""
    if blocks and any(b != blocks[0] for b in blocks):
        # json keeps the last block only; which one the file means is not ours to guess
        sizes = ", ".join(str(count(x)) for x in blocks)
        for b, block in enumerate(blocks):
            for k in range(count(block)):
                found.skip(f"{session}[{k}]", f"{path}: session {session} is given {len(blocks)} times with "
                           f"different subtitles (blocks of {sizes}); this is block {b + 1}; expected each session "
                           "once", path)
        return
    if blocks:
        found.notes.append(f"{path}: session {session} is given {len(blocks)} times with the same subtitles; read once")
    entries = subtitles.get(session, [])
    if not isinstance(entries, list):
        found.skip(session, f"{path}: session {session} is {shown(entries)}; expected a list of subtitles "
                   "[{start, end, value}, ...]", path)
        return
    good = []
    for k, entry in enumerate(entries):
        found.line += 1
        problem = subtitle_problem(entry) or window_problem(Window(session, float(entry["start"]),
                                                                   float(entry["end"])))
        if problem:
            found.skip(f"{session}[{k}]", f"{path}: session {session} subtitle {k}: {problem}", path, found.line)
            continue
        good.append((float(entry["start"]), float(entry["end"]), entry["value"].strip(), found.line))
    good.sort(key=lambda g: (g[0], g[1]))
    problem = session_problem(reader, session, path, [(a, b) for a, b, _, _ in good]) if session in on_disk else ""
    for k, (start, end, text, at) in enumerate(good):
        clip = f"{session}_{k:03d}"
        if problem:
            found.skip(clip, problem, path, at)
            continue
        found.rows.append(TextRow(at, clip, text))
        found.windows[clip] = Window(session, start, end)


def session_problem(reader, session: str, path: str, times: list[tuple[float, float]]) -> str:
    """Why a session's pose file cannot serve its subtitle windows ("" when it can).

    Times that read as frame numbers rather than milliseconds stop the plan (AnnotationError):
    every session of the file would be wrong the same way.
    """
    if not times:
        return ""
    pose_path = reader.pose_file("pose", session)
    try:
        arr = load_session_array(pose_path)
    except ClipError as exc:
        return str(exc)
    if arr.ndim != 3:
        return f"{pose_path}: shape {arr.shape} ({arr.ndim}-d); expected (T, N, 3)"
    problem = session_poses_problem(pose_path, times, arr.shape[0], reader.fps)
    if not problem:
        check_subtitle_times(path, session, times, arr.shape[0], reader.fps)
    return problem


def rows_in_other_splits(data_root: str, split: str, in_split: set[str], subtitles: dict,
                         notes: list[str]) -> dict[str, int | None]:
    """Subtitle rows of the sessions each other split file lists (and this one does not); None,
    with a note, for a split file that cannot be read."""
    splits_dir = SPLITS_DIR.format(data_root=data_root)
    in_other: dict[str, int | None] = {s: 0 for s in official_splits(data_root) if s != split}
    for name in in_other:
        other_file = os.path.join(splits_dir, f"{name}.json")
        try:
            if not os.path.isfile(other_file):  # a FIFO would block the read forever
                raise AnnotationError(f"{other_file}: split file is not a regular file")
            other = read_json(other_file, "split file")
            if not isinstance(other, list):
                raise AnnotationError(f"{other_file}: expected a JSON list of session ids, found a "
                                      f"{type(other).__name__}")
        except AnnotationError as exc:
            in_other[name] = None
            notes.append(f"{exc}; not counted in subtitle_rows_in_other_split_files")
            continue
        in_other[name] = sum(count(subtitles[x]) for x in {x for x in other if isinstance(x, str)} - in_split
                             if x in subtitles)
    return in_other


def count(block) -> int:
    """How many rows a session's subtitles account for: one per subtitle, one for a block that is no list."""
    return len(block) if isinstance(block, list) else 1


def shown(value) -> str:
    """A JSON value as the file has it, with its JSON kind: `null`, `a number 42`, `a list ["a"]`."""
    if value is None:
        return "null"
    kind = ("a boolean" if isinstance(value, bool) else "a number" if isinstance(value, (int, float))
            else "a string" if isinstance(value, str) else "a list" if isinstance(value, list) else "an object")
    text = json.dumps(value, ensure_ascii=False)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_time(value) -> bool:
    """Whether a JSON value is a number of milliseconds (a boolean is not, though float() takes it)."""
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def subtitle_problem(entry) -> str:
    """Why one subtitles.json entry is no {start, end, value} subtitle ("" when it is one)."""
    if not isinstance(entry, dict):
        return f"{shown(entry)}; expected {{start, end, value}}"
    given_twice = sorted(getattr(entry, "duplicates", {}))
    if given_twice:
        return f"keys {given_twice} given twice in one subtitle; expected each once"
    missing = [k for k in ("start", "end", "value") if k not in entry]
    if missing:
        return f"{entry!r:.120} has no {', '.join(missing)}; expected start, end (ms) and value"
    for key in ("start", "end"):
        if not _is_time(entry[key]):
            return f"{key} is {shown(entry[key])}; expected a time in milliseconds (a number)"
    if not isinstance(entry["value"], str):
        return f"value is {shown(entry['value'])}; expected the subtitle text (a string)"
    return ""
