"""Rebuild data/demo/How2Sign from the real frames in data/realdata (see README.md here).

    python data/demo/build_how2sign.py
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from slt_nb.testing.synth import load_base, make_clip, write_clip  # noqa: E402

REAL = REPO / "data" / "realdata"
OUT = HERE / "How2Sign"
HEADER = ["VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE"]
FPS = 24


def real_rows() -> dict[str, list[str]]:
    path = REAL / "how2sign_metadata" / "how2sign_realigned_test_first40rows.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {r[3]: r for r in rows[1:]}


def bases():
    seq = sorted(str(p) for p in (REAL / "openpose_poseformat_sample" / "json").glob("*.json"))
    h2s = {s: str(next((REAL / "how2sign_openpose_frames" / s).glob("*.json"))) for s in ("train", "val", "test")}
    return [load_base(seq), load_base([h2s["train"]]), load_base([h2s["val"]]), load_base([h2s["test"]])]


# clip name -> (split, base index, special cases). Names and texts of train/test rows are real
# rows of How2Sign's test CSV (the train CSV is not public here); val uses the real val clip and
# its second recording of the same sentence.
TEST = {
    "-fZc293MpJk_0-1-rgb_front": dict(base=0),
    "-fZc293MpJk_3-1-rgb_front": dict(base=3, hands=False),  # OpenPose run without --hand
    "-g0iPSnQt6w_5-1-rgb_front": dict(base=1, naming="frame", drop=(40, 41, 42)),  # quoted text, gap
    "-g0iPSnQt6w_3-1-rgb_front": dict(base=2),
}
TRAIN = {
    "-fZc293MpJk_4-1-rgb_front": dict(base=0),  # 405 frames: over Signformer's 400
    "-g0iPSnQt6w_2-1-rgb_front": dict(base=1, empty=(5, 6)),  # "people": [] frames
    "-g0iPSnQt6w_16-1-rgb_front": dict(base=0, two=(3, 10, 20)),  # a bystander in some frames
    "-g45vqccdzI_4-1-rgb_front": dict(base=3),
    "-g0sqksgyc4_4-2-rgb_front": dict(base=2),
    "-g45vqccdzI_2-1-rgb_front": dict(base=1),
    "-g0sqksgyc4_6-2-rgb_front": dict(missing=True),  # listed, no keypoint folder
}
VAL = [
    # (VIDEO_ID, VIDEO_NAME, SENTENCE_ID, SENTENCE_NAME, start, end, text, spec)
    ("_2FBDaOPYig", "_2FBDaOPYig-3-rgb_front", "_2FBDaOPYig_1", "_2FBDaOPYig_1-3-rgb_front", "4.78", "9.05",
     "Today I am going to be showing you how to make Gourmet French Fries cooked in duck fat.", dict(base=2)),
    ("_2FBDaOPYig", "_2FBDaOPYig-5-rgb_front", "_2FBDaOPYig_1", "_2FBDaOPYig_1-5-rgb_front", "4.80", "9.02",
     "Today I am going to be showing you how to make Gourmet French Fries cooked in duck fat.", dict(base=0)),
    ("-fZc293MpJk", "-fZc293MpJk-1-rgb_front", "-fZc293MpJk_7", "-fZc293MpJk_7-1-rgb_front", "34.10", "38.64",
     None, dict(base=1, corrupt=(17,))),  # a JSON file cut off mid-write
]


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    rows = real_rows()
    base = bases()
    files = 0
    for split, spec in (("train", TRAIN), ("test", TEST)):
        table = []
        for name, opts in spec.items():
            row = rows[name]
            table.append(row)
            if opts.get("missing"):
                continue
            length = round((float(row[5]) - float(row[4])) * FPS)
            clip = make_clip(base[opts["base"]], length, name)
            files += write_clip(OUT / split / "openpose_output" / "json" / name, name, clip,
                                naming=opts.get("naming", "how2sign"), hands=opts.get("hands", True),
                                empty_frames=opts.get("empty", ()), two_person_frames=opts.get("two", ()),
                                drop_frames=opts.get("drop", ()))
        write_tsv(OUT / f"how2sign_realigned_{split}.csv", table)
    table = []
    for vid, vname, sid, name, start, end, text, opts in VAL:
        text = text or rows[name][6]
        table.append([vid, vname, sid, name, start, end, text])
        length = round((float(end) - float(start)) * FPS)
        clip = make_clip(base[opts["base"]], length, name)
        files += write_clip(OUT / "val" / "openpose_output" / "json" / name, name, clip,
                            corrupt_frames=opts.get("corrupt", ()))
    write_tsv(OUT / "how2sign_realigned_val.csv", table)
    print(f"wrote {files} frame files under {OUT}")


def write_tsv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # How2Sign's files are plain tab-joined lines; quotes in sentences are left as they are.
    with open(path, "w", encoding="utf-8", newline="") as f:
        for row in [HEADER, *rows]:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
