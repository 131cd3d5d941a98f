"""Build the tiny WLASL-layout demo dataset from the real videos and metadata in data/realdata.

    .venv/bin/python data/demo/WLASL/build_wlasl.py

Writes WLASL_v0.3.json, nslt_100.json, wlasl_class_list.txt and videos/<video_id>.mp4 next to
this file. See README.md here for what each video is and why.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from slt_nb.formats.video import iter_frames, write_video  # noqa: E402

REAL = REPO / "data" / "realdata"
WOMAN = REAL / "video_signing" / "test_video.mp4"  # 540x720, 58 frames, right hand signs
MAN = REAL / "openpose_poseformat_sample" / "video.mp4"  # 1280x720, 9 frames, both hands

# video_id (real WLASL ids of the first three glosses, all in nslt_100) -> how its video is made
VIDEOS = {
    # train
    "69241": ("book", "copy", WOMAN),
    "65539": ("drink", "copy", MAN),
    "68028": ("computer", "mirror frames 10-49", WOMAN),
    "65225": ("book", "frames 0-39", WOMAN),
    "69054": ("computer", "missing", None),
    # val
    "69302": ("drink", "ping-pong 0-8-0", MAN),
    "12312": ("computer", "frames 20-57", WOMAN),
    # test
    "07092": ("book", "reverse frames 57-18", WOMAN),
    "17730": ("drink", "mirror ping-pong 0-8-0", MAN),
    "12332": ("computer", "truncated download", WOMAN),
}
# Re-encoded clips: H.264 like the real files, quality a little lower to keep the repo small.
X264 = {"crf": "27", "preset": "medium", "threads": "1"}


def frames_of(path: Path) -> list[np.ndarray]:
    return [rgb for _, rgb in iter_frames(path)]


def make_video(video_id: str, how: str, source: Path, out_dir: Path) -> None:
    out = out_dir / f"{video_id}.mp4"
    if how == "missing":
        out.unlink(missing_ok=True)
        return
    if how == "copy":
        shutil.copyfile(source, out)
        return
    if how == "truncated download":
        # the first 120 kB: the frame table says 58 frames, the file holds 18
        out.write_bytes(source.read_bytes()[:120_000])
        return
    frames = frames_of(source)
    mirror = how.startswith("mirror")
    if "ping-pong" in how:
        frames = frames + frames[-2::-1]
    elif "reverse" in how:
        frames = frames[18:][::-1]
    elif "frames" in how:
        first, last = (int(v) for v in how.split("frames ")[1].split("-"))
        frames = frames[first:last + 1]
    if mirror:
        frames = [f[:, ::-1] for f in frames]
    fps = 29.916666666666668 if source == WOMAN else 24
    write_video(out, frames, fps=fps, options=X264)


def main() -> None:
    meta = json.loads((REAL / "wlasl_metadata" / "WLASL_v0.3_first10glosses.json").read_text())
    nslt = json.loads((REAL / "wlasl_metadata" / "nslt_100.json").read_text())
    wanted = set(VIDEOS)
    demo = []
    for entry in meta:
        instances = [inst for inst in entry["instances"] if inst["video_id"] in wanted]
        if instances:
            demo.append({"gloss": entry["gloss"], "instances": instances})
    found = {inst["video_id"]: entry["gloss"] for entry in demo for inst in entry["instances"]}
    for video_id, (gloss, _, _) in VIDEOS.items():
        assert found.get(video_id) == gloss, f"{video_id} is not a {gloss!r} instance in the real metadata"
    (HERE / "WLASL_v0.3.json").write_text(json.dumps(demo, indent=1) + "\n")
    (HERE / "nslt_100.json").write_text(json.dumps({v: nslt[v] for v in VIDEOS}, indent=1) + "\n")
    shutil.copyfile(REAL / "wlasl_metadata" / "wlasl_class_list.txt", HERE / "wlasl_class_list.txt")
    out_dir = HERE / "videos"
    out_dir.mkdir(exist_ok=True)
    for video_id, (_, how, source) in VIDEOS.items():
        make_video(video_id, how, source, out_dir)
    for path in sorted(out_dir.glob("*.mp4")):
        print(f"{path.relative_to(REPO)}  {path.stat().st_size:>8,} bytes")


if __name__ == "__main__":
    main()
