"""Reading frames out of sign videos: uniform frame sampling, decoding only what is needed.

A clip's frames are numbered in presentation order from 0. `sample_clip` reads the file once,
in order, and converts to RGB only the sampled frames. With H.264 it also tells the decoder to
drop non-reference frames that are not wanted (nothing else depends on them), which is where
most of the saving over "decode every frame, then pick" comes from; see
benchmarks/bench_extract.py. Frames are identified by their presentation timestamp, so the
result is exactly the frames a full decode would give at those indices (tests/test_video.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from slt_nb.atomic import atomic_path
from slt_nb.errors import ParameterError, VideoError


def sample_frame_indices(clip_frames: int, num_frames: int) -> np.ndarray:
    """`num_frames` indices spread uniformly over a clip of `clip_frames`, first and last included.

    A clip shorter than num_frames repeats frames (indices stay sorted, every frame used), so
    every sample has exactly num_frames rows.
    """
    if num_frames < 1:
        raise ParameterError(f"num_frames must be at least 1, got {num_frames}")
    if clip_frames < 1:
        raise ParameterError(f"a clip needs at least one frame to sample from, got {clip_frames}")
    if num_frames == 1:
        return np.array([(clip_frames - 1) // 2], dtype=np.int64)
    return np.rint(np.linspace(0, clip_frames - 1, num_frames)).astype(np.int64)


@dataclass
class SampledClip:
    """The sampled RGB frames of one clip and where they came from."""

    frames: np.ndarray  # (F, H, W, 3) uint8 RGB
    frame_indices: np.ndarray  # (F,) int64, within the clip (0 = the clip's first frame)
    clip_frames: int  # frames in the clip after cutting
    video_frames: int  # frames in the whole file
    fps: float
    width: int
    height: int
    decoded_frames: int  # frames the decoder actually produced (the rest were skipped)


def _rgb(frame) -> np.ndarray:
    """A frame as its own RGB array. PyAV returns a view into the decoder's picture, and we saw
    such views change after later decoding (encoding them again gave different bytes run to run);
    a copy is cheap next to decoding."""
    return np.array(frame.to_ndarray(format="rgb24"), copy=True)


def _open(path: str | Path):
    import av

    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such video file")
    try:
        container = av.open(str(path))
    except Exception as exc:  # av.error.InvalidDataError and friends
        raise VideoError(f"{path}: cannot be opened as a video ({type(exc).__name__}: {exc})") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: has no video stream")
    return container


def _video_packets(container, path) -> list:
    """All non-empty packets of the first video stream, in file (decode) order."""
    stream = container.streams.video[0]
    try:
        packets = [p for p in container.demux(stream) if p.size]
    except Exception as exc:
        raise VideoError(f"{path}: the file is damaged, reading packets failed ({type(exc).__name__}: {exc})") from exc
    # A download cut short keeps its frame table (mp4 'moov' at the front) but loses the frames
    # at the end; without this check it would pass as a shorter clip.
    declared = stream.frames or 0
    if declared > len(packets):
        raise VideoError(f"{path}: truncated file: the container declares {declared} frames "
                         f"but only {len(packets)} are present")
    return packets


def clip_range(video_frames: int, frame_start: int = 1, frame_end: int = -1, path="video") -> tuple[int, int]:
    """[first, stop) 0-based frame range for WLASL's 1-based inclusive frame_start/frame_end (-1 = end)."""
    if frame_start < 1:
        raise VideoError(f"{path}: frame_start {frame_start} is not a 1-based frame number")
    first = frame_start - 1
    stop = video_frames if frame_end is None or frame_end < 0 else min(frame_end, video_frames)
    if first >= video_frames:
        raise VideoError(f"{path}: frame_start {frame_start} is past the end of the video ({video_frames} frames)")
    if stop <= first:
        raise VideoError(f"{path}: frame_end {frame_end} is before frame_start {frame_start}")
    return first, stop


def sample_clip(path: str | Path, num_frames: int = 16, frame_start: int = 1, frame_end: int = -1,
                skip_unneeded: bool = True) -> SampledClip:
    """Decode `path` once, in order, and return `num_frames` uniformly sampled RGB frames.

    frame_start/frame_end cut a raw video as WLASL does (1-based, inclusive, -1 = to the end);
    the defaults take the whole file (already-trimmed `videos/<video_id>.mp4`).
    Raises VideoError naming the file when it cannot be opened, has no frames or is damaged.
    """
    container = _open(path)
    try:
        stream = container.streams.video[0]
        packets = _video_packets(container, path)
        if not packets:
            raise VideoError(f"{path}: the video stream holds no frames")
        have_pts = all(p.pts is not None for p in packets)
        # presentation order: the rank of each packet's timestamp
        order = sorted(p.pts for p in packets) if have_pts else list(range(len(packets)))
        if have_pts and len(set(order)) != len(order):
            have_pts, order = False, list(range(len(packets)))
        first, stop = clip_range(len(order), frame_start, frame_end, path)
        indices = sample_frame_indices(stop - first, num_frames)
        wanted_positions = sorted(set((first + indices).tolist()))
        codec = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        width, height = codec.width, codec.height

        rgb: dict[int, np.ndarray] = {}
        decoded = 0
        if have_pts:
            wanted_pts = {order[i]: i for i in wanted_positions}
            skip_allowed = skip_unneeded and codec.name == "h264"
            for packet in packets + [None]:
                if packet is not None and skip_allowed:
                    # Non-reference frames we do not want need not be decoded at all; the flag is
                    # read per packet, so wanted frames are always decoded in full.
                    codec.skip_frame = "DEFAULT" if packet.pts in wanted_pts else "NONREF"
                try:
                    frames = codec.decode(packet)
                except Exception as exc:
                    raise VideoError(f"{path}: decoding failed near frame {len(rgb)} "
                                     f"({type(exc).__name__}: {exc})") from exc
                for frame in frames:
                    decoded += 1
                    pos = wanted_pts.get(frame.pts)
                    if pos is not None:
                        rgb[pos] = _rgb(frame)
                if len(rgb) == len(wanted_pts):
                    break  # the rest of the file is not needed
        if len(rgb) < len(wanted_positions):
            # No usable timestamps, or frames the decoder would not give back when skipping:
            # fall back to counting every decoded frame.
            rgb, decoded = _decode_counting(path, set(wanted_positions))
        missing = [i for i in wanted_positions if i not in rgb]
        if missing:
            raise VideoError(f"{path}: the container lists {len(order)} frames but frame(s) "
                             f"{missing[:5]} could not be decoded (truncated or damaged file)")
        frames = np.stack([rgb[first + int(i)] for i in indices])
        return SampledClip(frames, indices, stop - first, len(order), fps, width, height, decoded)
    finally:
        container.close()


def _decode_counting(path, wanted: set[int]) -> tuple[dict[int, np.ndarray], int]:
    out, decoded = {}, 0
    for i, frame in iter_frames(path):
        decoded += 1
        if i in wanted:
            out[i] = frame
        if len(out) == len(wanted):
            break
    return out, decoded


def iter_frames(path: str | Path, frame_start: int = 1, frame_end: int = -1) -> Iterator[tuple[int, np.ndarray]]:
    """Every frame of the clip in order as (index within the clip, RGB uint8 array)."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        first = frame_start - 1
        stop = None if frame_end is None or frame_end < 0 else frame_end
        i = -1
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i < first:
                    continue
                if stop is not None and i >= stop:
                    break
                yield i - first, _rgb(frame)
        except VideoError:
            raise
        except Exception as exc:
            raise VideoError(f"{path}: decoding failed after frame {i} ({type(exc).__name__}: {exc})") from exc
        if i < first:
            raise VideoError(f"{path}: frame_start {frame_start} is past the end of the video ({i + 1} frames)")
    finally:
        container.close()


def probe_video(path: str | Path) -> dict:
    """Frame count (from the packets, nothing decoded), fps and size of a video."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        packets = _video_packets(container, path)
        return {"frames": len(packets), "fps": float(stream.average_rate or 0.0),
                "width": stream.codec_context.width, "height": stream.codec_context.height}
    finally:
        container.close()


def write_video(path: str | Path, frames, fps: float = 25, codec: str = "libx264",
                options: dict | None = None) -> Path:
    """Encode RGB uint8 frames (an iterable of (H, W, 3)) to an mp4, atomically.

    Used to build demo data, test videos and benchmark clips; single-threaded so the same
    frames give the same bytes.
    """
    from fractions import Fraction

    import av

    path = Path(path)
    with atomic_path(path) as tmp:
        _encode(tmp, path, frames, fps, codec, options, av, Fraction)
    return path


def _encode(tmp, path, frames, fps, codec, options, av, Fraction) -> None:
    container = av.open(str(tmp), "w", format=Path(path).suffix.lstrip(".") or None)
    try:
        stream = None
        for image in frames:
            image = np.ascontiguousarray(image, dtype=np.uint8)
            if stream is None:
                stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.thread_count = 1
                if options:
                    stream.options = dict(options)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        if stream is None:
            raise ParameterError(f"{path}: no frames to write")
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()


def video_frame_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of a video from its stream header: nothing is demuxed or decoded."""
    container = _open(path)
    try:
        context = container.streams.video[0].codec_context
        if not context.width or not context.height:
            raise VideoError(f"{path}: the video header gives no frame size")
        return int(context.width), int(context.height)
    finally:
        container.close()
