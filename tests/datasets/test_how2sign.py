import json
import shutil

import pytest

from conftest import DEMO, REAL, REPO
from slt_nb.export.pipeline import ExportOptions, export_split, manifest_path, plan_parts
from slt_nb.datasets.how2sign import AnnotationError, How2SignReader, read_annotations
from slt_nb.formats.pami import file_sha256, iter_samples, load_signformer


def test_realigned_tsv_is_read_with_its_quoted_sentences():
    rows, skipped = read_annotations(REAL / "how2sign_metadata" / "how2sign_realigned_test_first40rows.csv", "test")
    assert len(rows) == 40 and not skipped
    by_id = {r.id: r for r in rows}
    assert by_id["-fZc293MpJk_0-1-rgb_front"].text == "Hi!"
    # pandas wrote this sentence CSV-quoted with doubled inner quotes
    assert by_id["-g0iPSnQt6w_5-1-rgb_front"].text.startswith("You can't get into the middle of the dive")
    assert by_id["-g0iPSnQt6w_5-1-rgb_front"].text.endswith('decide, "You know what?')
    assert by_id["-g0iPSnQt6w_5-1-rgb_front"].line == 21


def test_simple_annotation_file_is_filtered_by_split(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_text('id,text,split\na,"Hello, world",train\nb,Bye,test\n')
    rows, _ = read_annotations(f, "train")
    assert [(r.id, r.text, r.line) for r in rows] == [("a", "Hello, world", 2)]


def test_unknown_header_names_the_file_and_both_column_sets(tmp_path):
    f = tmp_path / "weird.csv"
    f.write_text("clip,sentence\nx,y\n")
    with pytest.raises(AnnotationError) as err:
        read_annotations(f, "train")
    msg = str(err.value)
    assert str(f) in msg and "['clip', 'sentence']" in msg and "SENTENCE_NAME" in msg and "'split'" in msg


def test_simple_id_matching_several_recordings_exports_each(tmp_path):
    root = tmp_path / "h2s"
    src = DEMO / "How2Sign" / "val" / "openpose_output" / "json"
    dst = root / "val" / "openpose_output" / "json"
    for name in ("_2FBDaOPYig_1-3-rgb_front", "_2FBDaOPYig_1-5-rgb_front"):
        shutil.copytree(src / name, dst / name)
    (root / "annotations.csv").write_text("id,text,split\n_2FBDaOPYig_1,Gourmet fries,val\nnope,Missing,val\n")
    entry = export_split(How2SignReader(str(root)), "val", ExportOptions(str(tmp_path / "out")))
    names = [s["name"] for s in iter_samples(tmp_path / "out" / p["file"] for p in entry["parts"])]
    assert names == ["val/_2FBDaOPYig_1-3-rgb_front", "val/_2FBDaOPYig_1-5-rgb_front"]
    assert entry["annotation_rows"] == 2 and entry["rows_exported"] == 1 and entry["rows_skipped"] == 1
    assert "no keypoint folder" in entry["skipped"][0]["reason"]


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    reader = How2SignReader(str(DEMO / "How2Sign"))
    entries = {s: export_split(reader, s, ExportOptions(str(out), chunk_size=2)) for s in ("train", "val", "test")}
    manifest = json.loads(manifest_path(out, "How2Sign").read_text())
    return out, entries, manifest


def test_every_annotation_row_is_exported_or_skipped_with_a_reason(demo_export):
    out, entries, manifest = demo_export
    for split, entry in manifest["splits"].items():
        assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"], split
    train, val = manifest["splits"]["train"], manifest["splits"]["val"]
    assert [(s["clip"], s["row"]) for s in train["skipped"]] == [("-g0sqksgyc4_6-2-rgb_front", 8)]
    assert "no keypoint folder" in train["skipped"][0]["reason"]
    corrupt = val["skipped"][0]
    assert corrupt["clip"] == "-fZc293MpJk_7-1-rgb_front" and "unparsable JSON" in corrupt["reason"]
    assert "-fZc293MpJk_7-1-rgb_front_000000000017_keypoints.json" in corrupt["reason"]


def test_awkward_frames_are_counted_not_fatal(demo_export):
    _, _, manifest = demo_export
    train, test = manifest["splits"]["train"]["counts"], manifest["splits"]["test"]["counts"]
    assert train["empty_people"] == 2 and train["several_people"] == 3
    assert test["no_left_hand"] == test["no_right_hand"] == 102  # the clip OpenPose ran without hands
    assert test["frame_gaps"] == 1
    notes = [n["note"] for n in manifest["splits"]["test"]["notes"]]
    assert any("frame numbers missing: 40-42" in n for n in notes)


def test_parts_hold_chunk_size_samples_with_unique_names_and_true_hashes(demo_export):
    out, _, manifest = demo_export
    for split, entry in manifest["splits"].items():
        assert all(p["samples"] <= 2 for p in entry["parts"])
        assert [p["index"] for p in entry["parts"]] == list(range(len(entry["parts"])))
        names = []
        for part in entry["parts"]:
            path = out / part["file"]
            assert part["file"] == f"How2Sign-1024.pami0.{split}.part{part['index']}"
            assert file_sha256(path) == part["sha256"]
            samples = load_signformer(path)
            assert len(samples) == part["samples"]
            assert sum(s["sign"].shape[0] for s in samples) == part["frames"]
            names += [s["name"] for s in samples]
        assert len(names) == len(set(names)) == entry["samples"]
        assert all(n.startswith(f"{split}/") for n in names)


def test_manifest_describes_layout_and_coordinates(demo_export):
    _, _, manifest = demo_export
    cols = manifest["layout"]["columns"]
    assert cols == {"body": [0, 50], "left_hand": [50, 92], "right_hand": [92, 134], "padding": [134, 1024]}
    assert manifest["reader"]["coordinates"] == "normalised" and manifest["reader"]["frame_size"] == [1280, 720]
    assert manifest["splits"]["train"]["clip_frames"]["-fZc293MpJk_4-1-rgb_front"] == 405


def test_frame_count_is_the_number_of_files_found(demo_export):
    out, _, manifest = demo_export
    clip = DEMO / "How2Sign" / "test" / "openpose_output" / "json" / "-g0iPSnQt6w_5-1-rgb_front"
    assert manifest["splits"]["test"]["clip_frames"]["-g0iPSnQt6w_5-1-rgb_front"] == len(list(clip.glob("*.json")))


def test_rerun_with_bigger_chunks_removes_stale_parts(tmp_path):
    reader = How2SignReader(str(DEMO / "How2Sign"))
    export_split(reader, "test", ExportOptions(str(tmp_path), chunk_size=1))
    assert len(list(tmp_path.glob("*.pami0.test.part*"))) == 4
    export_split(reader, "test", ExportOptions(str(tmp_path), chunk_size=100))
    assert [p.name for p in tmp_path.glob("*.pami0.test.part*")] == ["How2Sign-1024.pami0.test.part0"]
    assert not list(tmp_path.glob("*.tmp-*"))


def test_plan_never_splits_a_clip_across_parts():
    from slt_nb.datasets.base import ExportItem

    items = [ExportItem(f"c{i}", [(f"n{i}_{k}", "t") for k in range(n)], [i], None) for i, n in enumerate([1, 3, 2, 1])]
    assert [[it.clip for it in part] for part in plan_parts(items, 3)] == [["c0"], ["c1"], ["c2", "c3"]]


@pytest.mark.slow
def test_export_notebook_runs_under_papermill(tmp_path):
    import papermill as pm

    out_nb = tmp_path / "export.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "export.ipynb"), str(out_nb), cwd=str(REPO),
                        parameters={"dataset": "How2Sign", "output_dir": str(tmp_path / "exports"), "chunk_size": 3},
                        progress_bar=False, kernel_name="python3")
    manifest = json.loads((tmp_path / "exports" / "How2Sign-1024.manifest.json").read_text())
    assert manifest["chunk_size"] == 3
    assert {s: e["samples"] for s, e in manifest["splits"].items()} == {"train": 6, "val": 2, "test": 4}
    assert len(list((tmp_path / "exports").glob("How2Sign-1024.pami0.train.part*"))) == 2
    nb = json.loads(out_nb.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # histogram, skeletons, memory
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "multimodal: 0.0" in text and "- 1024" in text


def test_rows_with_the_wrong_number_of_fields_are_skipped_with_their_line(tmp_path):
    simple = tmp_path / "annotations.csv"
    simple.write_text("id,text,split\na,Hi,train\nb,Bye,train,extra\n\n")
    rows, skipped = read_annotations(simple, "train")
    assert [r.id for r in rows] == ["a"]
    assert [(s.row, s.clip) for s in skipped] == [(3, "b")]
    assert skipped[0].reason == f"{simple} line 3: 4 fields, expected 3 (id,text,split)"
    tsv = tmp_path / "how2sign_realigned_val.csv"
    tsv.write_text("\t".join(["VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED",
                              "END_REALIGNED", "SENTENCE"]) + "\nv\tvn\ts\tclip_0-1-rgb_front\t0.1\n")
    rows, skipped = read_annotations(tsv, "val")
    assert not rows and skipped[0].clip == "clip_0-1-rgb_front"
    assert "line 2: 5 tab-separated fields, expected 7" in skipped[0].reason
