"""Property tests: mutate real frames, annotation files and LSFB arrays, and check that every
export still keeps its promises (see invariants.export_and_check)."""
import gzip
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

from invariants import FRAMES, H2S_CLIPS, LSFB_SESSIONS, export_and_check, how2sign_tree, lsfb_tree, real_rows
from slt_nb.datasets.how2sign import How2SignReader
from slt_nb.datasets.lsfb import PARTS, LSFBReader

KEYS = ["pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"]

numbers = st.one_of(st.floats(allow_nan=False), st.integers(), st.sampled_from([1e39, -1e39, 1e300, 2 ** 70, 0.5, -3]))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=6), st.sampled_from(["0.5", "nan", ""]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(KEYS + ["people", "x"]), inner, max_size=3),
                           max_leaves=10)

# What can happen to one frame file, from the JSON inside it to the file-system entry itself.
frame_mutations = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(KEYS[:3]), st.integers(0, 74), scalars),
    st.tuples(st.just("array"), st.sampled_from(KEYS), json_values),
    st.tuples(st.just("people"), json_values),
    st.tuples(st.just("person"), json_values),  # a second person
    st.tuples(st.just("document"), json_values),
    st.tuples(st.just("bytes"), st.binary(max_size=40)),
    st.tuples(st.just("truncate"), st.integers(0, 4000)),
    st.sampled_from([("folder",), ("dangling",), ("loop",), ("missing",), ("empty",)]),
)


def mutate_frame(path: Path, mutation) -> None:
    kind = mutation[0]
    if kind in ("value", "array", "people", "person", "document"):
        try:
            doc = json.loads(path.read_text())
            person = doc["people"][0]
            assert isinstance(person, dict) and isinstance(person.get(KEYS[0]), list)
        except Exception:
            return  # an earlier mutation already broke this frame's structure
        if kind == "value":
            _, key, i, value = mutation
            if person.get(key):
                person[key][i % len(person[key])] = value
        elif kind == "array":
            doc["people"][0][mutation[1]] = mutation[2]
        elif kind == "people":
            doc["people"] = mutation[1]
        elif kind == "person":
            doc["people"].append(mutation[1])
        else:
            doc = mutation[1]
        path.write_text(json.dumps(doc, allow_nan=True))  # NaN/Infinity literals: not JSON, as in broken files
    elif kind == "bytes":
        path.write_bytes(mutation[1])
    elif kind == "truncate":
        path.write_bytes(path.read_bytes()[: mutation[1]])
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        if kind == "folder":
            path.mkdir()
        elif kind == "dangling":
            os.symlink(path.parent / "nowhere.json", path)
        elif kind == "loop":
            os.symlink(path, path)


@given(st.lists(st.tuples(st.integers(0, len(H2S_CLIPS) - 1), st.integers(0, FRAMES - 1), frame_mutations),
                min_size=1, max_size=3))
def test_mutated_openpose_frames_never_break_a_how2sign_export(mutations):
    with tempfile.TemporaryDirectory() as tmp:
        root = how2sign_tree(Path(tmp) / "How2Sign")
        for clip, frame, mutation in mutations:
            path = sorted((root / "val" / "openpose_output" / "json" / H2S_CLIPS[clip]).iterdir())[frame]
            note(f"{path.name}: {mutation!r}")
            if path.is_symlink() or not path.is_file():
                continue  # already replaced by an earlier mutation
            mutate_frame(path, mutation)
        text = (root / "how2sign_realigned_val.csv").read_text(encoding="utf-8")
        entry = export_and_check(How2SignReader(str(root)), "val", Path(tmp) / "out", real_rows(text))
        assert entry is not None


HOSTILE_CHARS = st.sampled_from(['"', '"', "\t", "\n", "\r", "\r\n", "\x00", "\u2028", "\ufeff", ",", "\\", "é",
                                 "\x85", "\x0c", '""', ' "', '"\t'])
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "gzip"])


@given(st.lists(st.tuples(st.floats(0, 1), HOSTILE_CHARS), min_size=1, max_size=6), ENCODINGS)
def test_mutated_annotation_files_are_read_whole_or_refused_by_name(insertions, encoding):
    with tempfile.TemporaryDirectory() as tmp:
        root = how2sign_tree(Path(tmp) / "How2Sign")
        csv_path = root / "how2sign_realigned_val.csv"
        text = csv_path.read_text(encoding="utf-8")
        header_end = text.index("\n") + 1  # the header stays: a broken header is a refused file, tested elsewhere
        body = text[header_end:]
        for where, chars in sorted(insertions, reverse=True):
            at = int(where * len(body))
            body = body[:at] + chars + body[at:]
        text = text[:header_end] + body
        note(repr(text))
        if encoding == "gzip":
            data = gzip.compress(text.encode("utf-8"))
        else:
            data = text.encode(encoding, errors="replace")
        csv_path.write_bytes(data)
        entry = export_and_check(How2SignReader(str(root)), "val", Path(tmp) / "out")
        try:  # the promise: a file that is UTF-8 (BOM or not) is read, any other is refused by name
            decoded = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            assert entry is None
        else:
            if decoded.count("\x00") * 100 <= len(decoded):  # not a binary file
                assert entry is not None and entry["annotation_rows"] == real_rows(decoded)


ids = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=12)
times = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10 ** 6, 10 ** 7).map(str),
                  st.sampled_from(["", "abc", "1e400", "-0", "600", "2000", "11000"]))
rows = st.fixed_dictionaries({
    "id": ids, "text": ids,
    "video_id": st.one_of(st.sampled_from(LSFB_SESSIONS + ["../pose/" + LSFB_SESSIONS[0], "..", "missing"]), ids),
    "start": times, "end": times, "split": st.just("train")})

DTYPES = ["float16", "float32", "float64", "int16", "uint8", "complex64", "bool", "<U2", "object", "structured"]
array_mutations = st.one_of(
    st.tuples(st.just("dtype"), st.sampled_from(DTYPES)),
    st.tuples(st.just("values"), st.lists(st.tuples(st.floats(0, 1), st.sampled_from(
        [np.nan, np.inf, -np.inf, 1e4, -1e30, 0.0, 65504.0])), min_size=1, max_size=20)),
    st.tuples(st.just("shape"), st.sampled_from([(0, 33, 3), (10, 33), (10, 33, 1), (10, 32, 3), (10, 33, 3, 1), ()])),
    st.tuples(st.just("truncate"), st.integers(0, 3000)),
    st.tuples(st.just("bytes"), st.binary(max_size=64)),
    st.sampled_from([("npz",), ("empty",), ("missing",), ("folder",)]),
)


def mutate_array(path: Path, mutation) -> None:
    kind = mutation[0]
    arr = np.load(path)
    if kind == "dtype":
        if mutation[1] == "structured":
            new = np.zeros(arr.shape[:2], dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")])
        else:
            new = np.nan_to_num(arr.astype(np.float32)).astype(mutation[1])
        np.save(path, new, allow_pickle=True)
    elif kind == "values":
        flat = arr.reshape(-1)
        with np.errstate(over="ignore"):  # 1e30 in a float16 session is inf: also a value to survive
            for where, value in mutation[1]:
                flat[int(where * (flat.size - 1))] = value
        np.save(path, flat.reshape(arr.shape))
    elif kind == "shape":
        np.save(path, np.zeros(mutation[1], dtype=np.float16))
    elif kind == "truncate":
        path.write_bytes(path.read_bytes()[: mutation[1]])
    elif kind == "bytes":
        path.write_bytes(mutation[1])
    elif kind == "npz":
        with open(path, "wb") as f:
            np.savez(f, pose=arr)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        if kind == "folder":
            path.mkdir()


good_rows = [{"id": f"s{i}", "text": "Bonjour", "video_id": LSFB_SESSIONS[i % 2], "start": str(600 + 1000 * i),
              "end": str(1500 + 1000 * i), "split": "train"} for i in range(3)]


@given(st.lists(rows, max_size=4),
       st.lists(st.tuples(st.sampled_from(LSFB_SESSIONS), st.sampled_from(PARTS), array_mutations), max_size=2,
                unique_by=lambda m: m[:2]))
def test_mutated_lsfb_windows_and_arrays_never_break_an_export(extra_rows, mutations):
    with tempfile.TemporaryDirectory() as tmp:
        root = lsfb_tree(Path(tmp) / "LSFB-CONT", good_rows + extra_rows)
        for session, part, mutation in mutations:
            path = root / "poses" / part / f"{session}.npy"
            note(f"{part}/{session}: {mutation!r}")
            if path.is_file():
                mutate_array(path, mutation)
        text = (root / "annotations.csv").read_text(encoding="utf-8")
        entry = export_and_check(LSFBReader(str(root)), "train", Path(tmp) / "out", real_rows(text))
        assert entry is not None
