"""Rebuild data/demo/LSFB-CONT from the real MediaPipe arrays in data/realdata/mediapipe_npy.

    python data/demo/build_lsfb.py
"""
from __future__ import annotations

import csv
import shutil
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REAL = HERE.parents[1] / "data" / "realdata" / "mediapipe_npy"
OUT = HERE / "LSFB-CONT"
FPS = 50
PARTS = ("pose", "left_hand", "right_hand")


def source(name: str, fps: float) -> dict:
    return {"fps": fps, **{p: np.load(REAL / name / f"{p}.npy") for p in PARTS}}


def resample(src: dict, seconds: float, seed: str) -> dict[str, np.ndarray]:
    """The source clip time-warped to `seconds` at 50 fps, jittered; NaN (not detected) kept."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    n = src["pose"].shape[0]
    length = max(2, round(seconds * FPS))
    u = np.linspace(0, 1, length)
    pos = np.clip(u + rng.uniform(-0.12, 0.12) * np.sin(np.pi * u), 0, 1) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo)[:, None, None]
    out = {}
    for p in PARTS:
        a = src[p]
        v = (1 - w) * a[lo] + w * a[hi]  # NaN if either neighbour was not detected
        v[..., :2] += rng.normal(0, 0.003, v[..., :2].shape)
        out[p] = v
    return out


def rest(seconds: float, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A pause between sentences: the last pose held, hands not detected."""
    length = round(seconds * FPS)
    out = {p: np.repeat(like[p][-1:], length, axis=0) for p in PARTS}
    out["left_hand"][:] = np.nan
    out["right_hand"][:] = np.nan
    return out


SESSIONS = {
    # video_id: [(sentence id, split, text, source, seconds)]
    "CLSFBI0103A_S001_B": [
        ("CLSFBI0103A_S001_B_0", "train", "Bonjour, je m'appelle Marie.", "poseformat", 1.4),
        ("CLSFBI0103A_S001_B_1", "train", "J'habite à Namur depuis dix ans.", "test_video", 2.1),
        ("CLSFBI0103A_S001_B_2", "train", "Mon frère est sourd aussi.", "poseformat", 1.1),
        ("CLSFBI0103A_S001_B_3", "train", "Nous allons au marché le samedi.", "test_video", 2.6),
        ("CLSFBI0103A_S001_B_4", "train", "Il fait beau aujourd'hui.", "poseformat", 0.9),
    ],
    "CLSFBI0209A_S004_B": [
        ("CLSFBI0209A_S004_B_0", "val", "Tu veux un café ?", "test_video", 1.8),
        ("CLSFBI0209A_S004_B_1", "val", "Je travaille dans une école.", "poseformat", 1.5),
    ],
    "CLSFBI0311A_S007_A": [
        ("CLSFBI0311A_S007_A_0", "test", "La réunion commence à neuf heures.", "poseformat", 1.6),
        ("CLSFBI0311A_S007_A_1", "test", "On se voit demain.", "test_video", 2.0),
    ],
}
MISSING_SESSION = ("CLSFBI0415A_S002_A", "CLSFBI0415A_S002_A_0", "train", "Cette vidéo n'a pas de poses.")
AUGMENTED = {
    "CLSFBI0103A_S001_B_0": ["Salut, mon nom est Marie.", "Bonjour, moi c'est Marie."],
    "CLSFBI0103A_S001_B_1": ["Je vis à Namur depuis dix ans.", "Depuis dix ans, j'habite à Namur."],
    "CLSFBI0103A_S001_B_2": ["Mon frère aussi est sourd."],
    "CLSFBI0103A_S001_B_3": ["Le samedi, nous allons au marché.", "Chaque samedi on va au marché."],
    "CLSFBI0103A_S001_B_4": ["Aujourd'hui il fait beau.", "Le temps est beau aujourd'hui."],
}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    sources = {"test_video": source("test_video", 29.92), "poseformat": source("poseformat_sample_video", 24)}
    rows = []
    for video_id, sentences in SESSIONS.items():
        pieces = []
        t_ms = 0.0
        first = resample(sources["poseformat"], 0.1, video_id)
        pieces.append(rest(0.6, first))
        t_ms += 600
        for sid, split, text, src, seconds in sentences:
            clip = resample(sources[src], seconds, sid)
            n = clip["pose"].shape[0]
            start, end = t_ms, t_ms + n * 1000 / FPS
            rows.append([sid, text, video_id, f"{start:.0f}", f"{end:.0f}", split])
            pieces += [clip, rest(0.5, clip)]
            t_ms = end + 500
        session = {p: np.concatenate([x[p] for x in pieces]).astype(np.float16) for p in PARTS}
        for p, arr in session.items():
            (OUT / "poses" / p).mkdir(parents=True, exist_ok=True)
            np.save(OUT / "poses" / p / f"{video_id}.npy", arr)
    # awkward rows: a window running past the end of its session, an empty window, a missing session
    test_total_ms = np.load(OUT / "poses" / "pose" / "CLSFBI0311A_S007_A.npy", mmap_mode="r").shape[0] * 1000 / FPS
    rows.append(["CLSFBI0311A_S007_A_2", "Au revoir et à bientôt.", "CLSFBI0311A_S007_A",
                 f"{test_total_ms - 400:.0f}", f"{test_total_ms + 600:.0f}", "test"])
    rows.append(["CLSFBI0311A_S007_A_3", "Merci.", "CLSFBI0311A_S007_A", "1200", "1200", "test"])
    vid, sid, split, text = MISSING_SESSION
    rows.append([sid, text, vid, "0", "1500", split])
    with open(OUT / "annotations.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "text", "video_id", "start", "end", "split"])
        w.writerows(rows)
    with open(OUT / "annotations_train_augmented.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "text"])
        texts = {r[0]: r[1] for r in rows}
        for sid, extra in AUGMENTED.items():
            for t in [texts[sid], *extra]:
                w.writerow([sid, t])
        w.writerow(["CLSFBI9999A_S999_Z_0", "Une phrase dont la vidéo n'existe pas."])
    print(f"wrote {len(rows)} annotation rows and {len(SESSIONS)} sessions under {OUT}")


if __name__ == "__main__":
    main()
