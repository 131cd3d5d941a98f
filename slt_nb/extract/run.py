"""The WLASL extraction run: poses or CNN embeddings for every listed video, in parallel, resumable.

Output (one folder per run kind, e.g. outputs/wlasl/poses):
- `<split>/<video_id>.npz` per video. Poses: frame_indices (F,) int64, then `<part>` and
  `<part>_detected` per part of the pose `estimator` (formats/extraction.py has the contract).
  Features: features (F, embed_dim) float32 and frame_indices.
- `index.csv`: video_id, gloss, label, split, frames, path (relative to the folder).
- `skipped.csv`: video_id, split, reason, for every listed video that has no output.
- `extraction.json`: the settings the files were made with, counts and timings.

Every file is written to a temporary name and renamed, so a killed run leaves no half-written
video file; a rerun finds the finished ones (same settings) and does only the rest.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from slt_nb.atomic import atomic_write_text, remove_stale_temps
from slt_nb.errors import DataFileError, ParameterError, VideoError
from slt_nb.engine import Engine, EngineSettings, TaskOutcome, is_machine_error
from slt_nb.journal import OutputLock, content_key, explain_write_error, file_sha256, read_record, record_holds, write_record
from slt_nb.formats.extraction import INDEX_COLUMNS, SKIPPED_COLUMNS, pose_keys, save_npz
from slt_nb.extract.estimators import (DEFAULT_ESTIMATOR, build_estimator, clip_arrays, estimator_parts)
from slt_nb.extract.report import ExtractionReport
from slt_nb.paths import plain_name
from slt_nb.datasets.wlasl import SkippedVideo, VideoJob, locate_videos, read_wlasl

KINDS = ("poses", "features")


@dataclass
class ExtractionSettings:
    """What decides the content of an output file; a resumed run must use the same."""

    kind: str
    num_frames: int = 16
    video_layout: str = "trimmed"
    model_complexity: int = 1  # poses
    holistic_mode: str = "tracking"  # poses
    embed_dim: int = 128  # features
    weights: str | None = None  # features: local state_dict file, None = fixed seed
    seed: int = 0  # features
    batch_size: int = 32  # features
    fingerprint: str = ""  # features: sha256 of the network's parameters
    estimator: str = DEFAULT_ESTIMATOR  # poses: a name in ESTIMATORS
    model_path: str | None = None  # poses: model file of estimators that take one
    estimator_settings: dict | None = None  # poses: the estimator's own settings(), set by the run

    def estimator_options(self) -> dict:
        """The options a pose estimator may take (each takes its own `options_taken`)."""
        return {k: getattr(self, k) for k in ("model_complexity", "holistic_mode", "model_path")}

    def identity(self) -> dict:
        """The settings that change output values (batch size and paths do not)."""
        keys = ["kind", "num_frames", "video_layout"] + ([] if self.kind == "poses" else ["embed_dim", "fingerprint"])
        identity = {k: getattr(self, k) for k in keys}
        if self.kind == "poses":  # the default estimator keeps its old keys, so earlier runs still resume
            identity.update({"estimator": self.estimator} if self.estimator != DEFAULT_ESTIMATOR else {})
            identity.update(self.estimator_settings or {})
        return identity


# --- one video -------------------------------------------------------------------------------

_worker_state: dict = {}


def _state(settings: ExtractionSettings) -> dict:
    """The per-process model, built once per process and settings."""
    key = json.dumps(asdict(settings), sort_keys=True)
    if _worker_state.get("key") != key:
        _worker_state.clear()
        _worker_state["key"] = key
        if settings.kind == "poses":
            _worker_state["extractor"] = build_estimator(settings.estimator, settings.estimator_options())
        else:
            from slt_nb.extract.embeddings import build_frame_embedder

            _worker_state["model"] = build_frame_embedder(settings.embed_dim, settings.weights, settings.seed)
    return _worker_state


def extract_video(job: VideoJob, settings: ExtractionSettings, output_dir: str | Path) -> dict:
    """Extract one video, write its file, return a stats row. Raises VideoError if unreadable."""
    started = time.perf_counter()
    state = _state(settings)
    video = job.video
    row = {"video_id": video.video_id, "split": video.split}
    if settings.kind == "poses":
        estimator = state["extractor"]
        poses = estimator.extract(job.path, settings.num_frames, job.frame_start, job.frame_end)
        arrays = clip_arrays(poses, estimator.parts)
        row.update(clip_frames=poses.clip_frames, inferred_frames=poses.inferred_frames,
                   width=poses.width, height=poses.height)
        for part in estimator.parts:
            row[part.flag] = int(arrays[part.flag].sum())
    else:
        from slt_nb.extract.embeddings import embed_frames
        from slt_nb.formats.video import sample_clip

        clip = sample_clip(job.path, settings.num_frames, job.frame_start, job.frame_end)
        features = embed_frames(state["model"], clip.frames, settings.batch_size)
        arrays = {"features": features, "frame_indices": clip.frame_indices.astype(np.int64)}
        row.update(clip_frames=clip.clip_frames, inferred_frames=len(clip.frames),
                   decoded_frames=clip.decoded_frames, width=clip.width, height=clip.height)
    row["frames"] = len(arrays["frame_indices"])
    row["bytes"] = save_npz(output_path(output_dir, video.split, video.video_id), arrays)
    row["seconds"] = time.perf_counter() - started
    return row


def _extract_or_reason(args) -> tuple[dict | None, str | None]:
    job, settings, output_dir = args
    try:
        return extract_video(job, settings, output_dir), None
    except VideoError as exc:
        return None, f"unreadable video: {exc}"
    except OSError as exc:
        if is_machine_error(exc):  # a full disk fails every video after it too: stop the run
            raise
        return None, f"extraction failed: {job.path}: {type(exc).__name__}: {exc}"
    except Exception as exc:  # one bad video must not end the run; the reason is kept
        return None, f"extraction failed: {job.path}: {type(exc).__name__}: {exc}"


def video_key(job: VideoJob, settings: ExtractionSettings) -> str:
    """What decides a video's output file: the settings that change values, and which frames of which file."""
    return content_key(settings.identity(), job.video.video_id, job.video.split, str(job.path),
                       job.frame_start, job.frame_end)


def record_path(output_dir: str | Path, split: str, video_id: str) -> Path:
    """The resume record beside a video's file (hidden, so no `*.npz` glob finds it)."""
    return output_path(output_dir, split, video_id).with_name(f".{video_id}.npz.record.json")


def extract_batch(jobs: list[VideoJob], settings: ExtractionSettings, output_dir: str) -> list[tuple[str, dict | None, str | None]]:
    """The task an engine runs: extract a batch of videos, each followed by its resume record.

    Returns (video_id, stats row or None, reason or None) per video; a bad video is a reason,
    not an exception, so it never costs the rest of the batch.
    """
    results = []
    for job in jobs:
        row, reason = _extract_or_reason((job, settings, output_dir))
        if row is not None:
            path = output_path(output_dir, job.video.split, job.video.video_id)
            write_record(record_path(output_dir, job.video.split, job.video.video_id),
                         {"key": video_key(job, settings), "bytes": path.stat().st_size,
                          "sha256": file_sha256(path), "row": row})
        results.append((job.video.video_id, row, reason))
    return results


def video_batches(jobs: list, workers: int, per_batch: int | None = None) -> list[list]:
    """Cut the videos into batches: a few per worker at least, so the last ones finish together."""
    if per_batch is None:
        per_batch = max(1, min(16, len(jobs) // max(1, workers * 4)))
    return [jobs[i:i + per_batch] for i in range(0, len(jobs), per_batch)]


# --- the run ---------------------------------------------------------------------------------

def output_path(output_dir: str | Path, split: str, video_id: str) -> Path:
    """`<output_dir>/<split>/<video_id>.npz`; ClipError for a split or video_id that would lead outside."""
    folder = Path(output_dir)
    return folder / plain_name(split, folder, "split") / f"{plain_name(video_id, folder / split, 'video_id')}.npz"


def is_complete(path: Path, settings: ExtractionSettings) -> bool:
    """A finished output file for these settings (loads, right keys, right shapes)."""
    if not path.is_file():
        return False
    try:
        with np.load(path) as data:
            if len(data["frame_indices"]) != settings.num_frames:
                return False
            if settings.kind == "poses":
                return all(k in data.files for k in pose_keys(estimator_parts(settings.estimator)))
            return data["features"].shape == (settings.num_frames, settings.embed_dim)
    except Exception:
        return False  # damaged: extract again


def _check_resumable(output_dir: Path, settings: ExtractionSettings, overwrite: bool) -> None:
    record = output_dir / "extraction.json"
    if not record.is_file() or overwrite:
        return
    try:
        before = json.loads(record.read_text(encoding="utf-8"))["settings_identity"]
    except Exception as exc:
        raise DataFileError(f"{record}: cannot be read ({exc}); delete it or pass overwrite=True") from exc
    now = settings.identity()
    differ = {k: (before.get(k), v) for k, v in now.items() if before.get(k) != v}
    if differ:
        raise ParameterError(
            f"{output_dir} holds files made with other settings {differ} (before, now); resuming would mix "
            "them. Use another output_dir or pass overwrite=True to extract everything again."
        )


def run_extraction(kind: str, json_path, video_dir, output_dir, class_list=None, split="all",
                   num_frames: int = 16, max_videos: int | None = None, workers: int = 1,
                   nslt_json=None, video_layout: str = "trimmed", embed_dim: int = 128,
                   weights=None, seed: int = 0, batch_size: int = 32, holistic_mode: str = "tracking",
                   model_complexity: int = 1, estimator: str = DEFAULT_ESTIMATOR, model_path=None,
                   overwrite: bool = False,
                   progress: Callable[[int, int, dict], None] | None = None, monitor=None,
                   scheduler: str | None = None, memory_limit_gb: float | None = None, retries: int = 2,
                   resume: bool = True, batch_videos: int | None = None,
                   show_progress: bool = False, engine: Engine | None = None) -> ExtractionReport:
    """Extract poses (kind="poses") or CNN frame embeddings (kind="features") for WLASL videos.

    Videos listed but missing, unreadable or failing are listed in skipped.csv with the reason;
    the others are extracted. Batches of videos are tasks for the engine (`slt_nb.engine`:
    inline for workers=1, a local Dask cluster of `workers` processes, or the cluster at
    `scheduler`); the model is built once per worker process. Every finished video leaves a
    record with its file's sha256; with `resume` (and not `overwrite`) a video whose record and
    file agree is kept. One run at a time per output folder. `engine`: one already started
    (several runs on one cluster); its settings then replace workers/scheduler/memory_limit_gb.
    """
    if kind not in KINDS:
        raise ParameterError(f"kind must be one of {KINDS}, got {kind!r}")
    if num_frames is None or int(num_frames) < 1:
        raise ParameterError(f"num_frames must be a positive integer, got {num_frames!r}")
    workers = max(1, int(workers or 1))
    settings = ExtractionSettings(kind, int(num_frames), video_layout, model_complexity, holistic_mode,
                                  int(embed_dim), str(weights) if weights else None, int(seed), int(batch_size),
                                  estimator=estimator or DEFAULT_ESTIMATOR, model_path=model_path and str(model_path))
    if kind == "poses":
        # Built here once so that a bad option or a missing model file stops the run before any video.
        settings.estimator_settings = build_estimator(settings.estimator, settings.estimator_options()).settings()
    else:
        from slt_nb.extract.embeddings import build_frame_embedder, weights_fingerprint

        settings.fingerprint = weights_fingerprint(build_frame_embedder(settings.embed_dim, weights, seed))
    started = time.perf_counter()
    output_dir = Path(output_dir)
    listing = read_wlasl(json_path, class_list, split, nslt_json, max_videos)
    jobs, missing = locate_videos(listing.videos, video_dir, video_layout)
    output_dir.mkdir(parents=True, exist_ok=True)
    lock = OutputLock(output_dir, f"extract {kind} -> {output_dir}").acquire()
    try:
        return _run_locked(kind, settings, listing, jobs, missing, output_dir, workers, overwrite, resume, progress,
                           monitor, engine, batch_videos, started, scheduler, memory_limit_gb, retries,
                           show_progress)
    finally:
        lock.release()


def _split_resumable(jobs: list[VideoJob], settings: ExtractionSettings, output_dir: Path,
                     keep_finished: bool) -> tuple[set[str], list[VideoJob]]:
    """The ids of videos whose record and file already agree (kept when resuming), and the rest."""
    done_ids: set[str] = set()
    pending = []
    for job in jobs:
        vid, split = job.video.video_id, job.video.split
        keep = keep_finished and record_holds(
            read_record(record_path(output_dir, split, vid)), video_key(job, settings), output_path(output_dir, split, vid))
        if keep:
            done_ids.add(vid)
        else:
            pending.append(job)
    return done_ids, pending


def _run_locked(kind, settings, listing, jobs, missing, output_dir: Path, workers, overwrite, resume, progress,
                monitor, engine: Engine | None, batch_videos, started, scheduler, memory_limit_gb, retries,
                show_progress) -> ExtractionReport:
    _check_resumable(output_dir, settings, overwrite)
    for split in {job.video.split for job in jobs}:
        remove_stale_temps(output_dir / split)
    remove_stale_temps(output_dir)
    done_ids, pending = _split_resumable(jobs, settings, output_dir, resume and not overwrite)
    # Record the settings before writing any video file, so a killed run can be resumed safely.
    _write_record(output_dir, settings, listing.counts, {}, 0.0, workers, status="running")

    rows, failed = [], []
    total = len(pending)

    def collect(job, result):
        row, reason = result
        if row is None:
            failed.append(SkippedVideo(job.video.video_id, job.video.split, reason))
            row = {"video_id": job.video.video_id, "split": job.video.split, "error": reason}
        else:
            rows.append(row)
            done_ids.add(job.video.video_id)
        if monitor is not None:
            monitor.mark(f"video {job.video.video_id}")
        if progress is not None:
            progress(len(rows) + len(failed), total, row)

    by_id = {job.video.video_id: job for job in pending}

    def batch_done(outcome: TaskOutcome) -> None:
        batch = batches[int(outcome.key.rsplit(" ", 1)[1])]
        results = outcome.result if outcome.ok else [
            (job.video.video_id, None, f"extraction failed: {outcome.error}") for job in batch]
        for vid, row, reason in results:
            collect(by_id[vid], (row, reason))

    batches = video_batches(pending, workers, batch_videos)
    tasks = [(f"videos {i}", (batch, settings, str(output_dir))) for i, batch in enumerate(batches)]
    label = "WLASL videos"

    def videos(args: tuple) -> int:  # the bar counts videos, a batch at a time
        return len(args[0])

    try:
        if engine is not None:
            engine.run(extract_batch, tasks, batch_done, stop_on=is_machine_error, label=label, size=videos)
        else:
            with Engine(workers, scheduler, memory_limit_gb, retries, show_progress, label) as own:
                own.run(extract_batch, tasks, batch_done, stop_on=is_machine_error, size=videos)
    except OSError as exc:
        raise explain_write_error(exc, Path(exc.filename or output_dir)) from exc
    seconds = time.perf_counter() - started
    return _publish(output_dir, settings, listing, jobs, missing, done_ids, rows, failed, len(pending), seconds,
                    workers)


def _publish(output_dir: Path, settings: ExtractionSettings, listing, jobs: list[VideoJob], missing: list,
             done_ids: set[str], rows: list[dict], failed: list, pending: int, seconds: float,
             workers: int) -> ExtractionReport:
    """Write index.csv, skipped.csv and the finished extraction.json; the run's report."""
    import pandas as pd

    index = pd.DataFrame(
        [{"video_id": j.video.video_id, "gloss": j.video.gloss, "label": j.video.label, "split": j.video.split,
          "frames": settings.num_frames, "path": f"{j.video.split}/{j.video.video_id}.npz"}
         for j in jobs if j.video.video_id in done_ids],
        columns=list(INDEX_COLUMNS),
    )
    skipped = pd.DataFrame([asdict(s) for s in listing.skipped + missing + failed], columns=list(SKIPPED_COLUMNS))
    atomic_write_text(output_dir / "index.csv", index.to_csv(index=False))
    atomic_write_text(output_dir / "skipped.csv", skipped.to_csv(index=False))
    order = {j.video.video_id: i for i, j in enumerate(jobs)}
    videos = pd.DataFrame(sorted(rows, key=lambda r: order[r["video_id"]]))
    if videos.empty:
        videos = pd.DataFrame(columns=["video_id", "split", "frames", "clip_frames", "bytes", "seconds"])
    counts = dict(listing.counts)
    counts.update(located=len(jobs), missing=len(missing), resumed=len(jobs) - pending,
                  extracted=len(rows), failed=len(failed), in_index=len(index), skipped=len(skipped))
    _write_record(output_dir, settings, counts, {"seconds": round(seconds, 3)}, seconds, workers, status="finished")
    return ExtractionReport(output_dir, settings, index, skipped, videos, counts, seconds, workers)


def _write_record(output_dir: Path, settings, counts, timings, seconds, workers, status) -> None:
    record = {"status": status, "settings": asdict(settings), "settings_identity": settings.identity(),
              "counts": counts, "workers": workers, **timings}
    atomic_write_text(output_dir / "extraction.json", json.dumps(record, indent=1))


def read_index(output_dir: str | Path):
    """index.csv of an extraction folder, video ids kept as strings."""
    import pandas as pd

    return pd.read_csv(Path(output_dir) / "index.csv", dtype={"video_id": str})


def load_poses(output_dir: str | Path, split: str, video_id: str) -> dict[str, np.ndarray]:
    """The arrays of one extracted video."""
    with np.load(output_path(output_dir, split, video_id)) as data:
        return {k: data[k] for k in data.files}


def run_from_params(kind: str, params: dict, progress=None, monitor=None) -> ExtractionReport:
    """run_extraction with a params dict (params/WLASL.yaml plus notebook overrides), paths resolved."""
    from slt_nb.params import parse_flag, resolve

    output_dir = params.get("output_dir") or params[f"{kind}_dir"]
    engine = EngineSettings.from_params(params)
    return run_extraction(
        kind, resolve(params["json_path"]), resolve(params["video_dir"]), resolve(output_dir),
        class_list=resolve(params.get("class_list")), split=params.get("split", "all"),
        num_frames=params.get("num_frames", 16), max_videos=params.get("max_videos"),
        workers=engine.workers, nslt_json=resolve(params.get("nslt_json")),
        video_layout=params.get("video_layout", "trimmed"), embed_dim=params.get("embed_dim", 128),
        weights=resolve(params.get("weights")), seed=params.get("seed", 0),
        holistic_mode=params.get("holistic_mode", "tracking"),
        model_complexity=params.get("model_complexity", 1), estimator=params.get("estimator") or DEFAULT_ESTIMATOR,
        model_path=resolve(params.get("model_path")), overwrite=parse_flag("overwrite", params.get("overwrite"), False),
        progress=progress, monitor=monitor, scheduler=engine.scheduler,
        memory_limit_gb=engine.memory_limit_gb, retries=engine.retries,
        resume=parse_flag("resume", params.get("resume"), True), show_progress=bool(params.get("show_progress", False)),
    )
