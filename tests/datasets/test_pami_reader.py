"""The `pami` reader: a .pami0 set made outside slt-nb, written as Signformer's users write one
(gzip.open + pickle.dump), from the real demo videos' MediaPipe arrays in holistic-512's columns."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from conftest import REAL
from slt_nb.datasets.declaration import Declaration, is_numbered, parse_foreign
from slt_nb.datasets.pami import PamiReader, open_pami
from slt_nb.errors import AnnotationError, ClipError, ParameterError
from slt_nb.export.parameters import load_export_params
from slt_nb.export.run import run_export
from slt_nb.formats.pami import load_signformer
from slt_nb.layout_files import load_layout_file
from slt_nb.testing.foreign_pami import (DECLARED, holistic_512_rows, holistic_exports, sample, video_fps,
                                         write_demo_set, write_plain)

HOLISTIC = Declaration.from_mapping(DECLARED)
MEDIAPIPE = REAL / "mediapipe_npy"


@pytest.fixture
def demo_set(tmp_path):
    return tmp_path, write_demo_set(tmp_path)


def test_a_whole_file_its_parts_and_their_folder_read_back_the_rows_written(demo_set):
    folder, files = demo_set
    by_folder = open_pami(folder, HOLISTIC)
    assert by_folder.dataset == "demo512" and by_folder.splits_present() == ["dev", "train"]
    for given in (folder / "demo512.pami0.train", folder / "demo512.pami0.train.part1", folder):
        reader = open_pami(given, HOLISTIC)
        plan = reader.plan("train")
        assert [i.clip for i in plan.items] == ["test_video_a", "test_video_b", "poseformat_sample_video"]
        assert [i.samples[0][0] for i in plan.items] == ["train/test_video_a", "train/test_video_b",
                                                         "train/poseformat_sample_video"]
        assert plan.annotation_rows == 3 and not plan.skipped
        assert plan.extra["source"]["files"] == [str(p) for p in files["train"]]
    rows = holistic_512_rows("test_video")
    half = len(rows) // 2
    got = [by_folder.read(i).frames for i in by_folder.plan("train").items]
    np.testing.assert_array_equal(np.concatenate(got[:2]), rows[: 2 * half])
    dev = open_pami(files["dev"][0], HOLISTIC)
    assert dev.splits_present() == ["dev"] and dev.plan("val").split == "val"  # Signformer's dev is val
    (first, second) = dev.plan("dev").items
    clip = dev.read(first)
    np.testing.assert_array_equal(clip.frames, rows)
    assert clip.fps == 25 and clip.frames.dtype == np.float32 and clip.notes == []
    assert second.samples[0][1] == "he signs a short word" and second.signer == "signer01"


def test_the_declared_layout_puts_every_joint_where_the_mediapipe_arrays_have_it(tmp_path):
    """A set at the video's own frames: each holistic-512 segment holds exactly MediaPipe's points."""
    rows = holistic_512_rows("test_video", fps=None)
    write_plain(tmp_path / "own.pami0.dev", [sample("dev/test_video", rows, "a text")])
    reader = open_pami(tmp_path / "own.pami0.dev", HOLISTIC)
    frames = reader.read(reader.plan("dev").items[0]).frames
    layout = reader.layout
    arrays = {part: np.nan_to_num(np.load(MEDIAPIPE / "test_video" / f"{part}.npy")[..., :2], nan=0.0)
              for part in ("pose", "face", "left_hand", "right_hand")}
    pose, face = layout.segment("pose"), layout.segment("face")
    nose, right_wrist = pose.skeleton.index("nose"), pose.skeleton.index("right_wrist")
    np.testing.assert_array_equal(pose.points(frames)[:, nose], arrays["pose"][:, 0])
    np.testing.assert_array_equal(pose.points(frames)[:, right_wrist], arrays["pose"][:, 16])
    np.testing.assert_array_equal(face.points(frames)[:, face.skeleton.index("face_15")], arrays["face"][:, 15])
    np.testing.assert_array_equal(face.points(frames)[:, -1], arrays["face"][:, 467])
    np.testing.assert_array_equal(layout.segment("right_hand").points(frames), arrays["right_hand"])
    assert not layout.segment("left_hand").points(frames).any()  # her left hand is never in view
    assert reader.layout_file["sha256"] == load_layout_file("holistic-512").sha256


def test_the_demo_set_is_at_25_fps_by_the_nearest_source_frame():
    rows, own = holistic_512_rows("test_video"), holistic_512_rows("test_video", fps=None)
    assert video_fps("test_video") == pytest.approx(29.9167, abs=1e-3)
    assert len(own) == 58 and len(rows) == 48  # 57 / 29.92 s = 1.905 s: frames 0..47 at 25 fps
    np.testing.assert_array_equal(rows[25], own[30])  # 25 / 25 s x 29.92 = 29.92 -> frame 30


def test_samples_signformer_would_trip_over_are_skipped_rows_saying_why(tmp_path):
    rows = holistic_512_rows("poseformat_sample_video")
    write_plain(tmp_path / "odd.pami0.train.part0", [sample("train/a", rows, "one"), sample("train/b", rows, "")])
    numpy_sign = dict(sample("train/c", rows, "three"), sign=rows)
    write_plain(tmp_path / "odd.pami0.train.part1", [sample("train/a", rows, "again"), numpy_sign])
    plan = open_pami(tmp_path, HOLISTIC).plan("train")
    assert [i.clip for i in plan.items] == ["a"]
    assert plan.annotation_rows == len(plan.items) + len(plan.skipped) == 4
    reasons = {s.clip: s.reason for s in plan.skipped}
    assert reasons["b"].startswith(f"{tmp_path / 'odd.pami0.train.part0'} sample 1 (train/b): text is ''")
    assert "named like sample 0 of odd.pami0.train.part0: Signformer would join the two" in reasons["a"]
    assert "sign is ndarray; Signformer needs a torch.Tensor" in reasons["c"]


def test_an_undeclared_layout_shows_the_columns_by_number(demo_set):
    folder, _ = demo_set
    reader = open_pami(folder / "demo512.pami0.dev")
    assert is_numbered(reader.layout) and reader.layout.width == 1024 and reader.fps is None
    (seg,) = reader.layout.segments
    assert seg.skeleton.points[:2] == ("column 0", "column 1") and seg.skeleton.limbs == ()
    frames = reader.read(reader.plan("dev").items[0]).frames
    np.testing.assert_array_equal(frames, holistic_512_rows("test_video"))


def test_a_layout_the_set_is_too_narrow_for_names_the_sample(tmp_path):
    write_plain(tmp_path / "narrow.pami0.dev", [sample("dev/x", np.ones((4, 150), np.float32), "t")])
    reader = open_pami(tmp_path / "narrow.pami0.dev", HOLISTIC)
    with pytest.raises(ClipError, match=r"narrow\.pami0\.dev sample 0 \(x\): 150 features, but the declared "
                                        r"layout holistic-512 needs 1024"):
        reader.read(reader.plan("dev").items[0])
    aligned = open_pami(tmp_path / "narrow.pami0.dev", Declaration(layout="aligned"))
    assert aligned.read(aligned.plan("dev").items[0]).frames.shape == (4, 150)


def test_bad_declarations_are_named_before_any_file_is_read():
    with pytest.raises(ParameterError, match="layout 'holistic-513' is no layout file"):
        Declaration.from_mapping({"layout": "holistic-513"})
    with pytest.raises(ParameterError, match=r"normalize 'pixels' is not one of \['frame', 'shoulders'\]"):
        Declaration.from_mapping({"normalize": "pixels"})
    with pytest.raises(ParameterError, match=r"unknown keys \['rate'\]"):
        Declaration.from_mapping({"rate": 25})
    with pytest.raises(ParameterError, match="'foreign: fps': 0 is not a frame rate"):
        Declaration.from_mapping({"fps": 0})
    both = parse_foreign("foreign", "{phoenix14t: {layout: holistic-512, fps: 25}, gsl: {fps: 30}}")
    assert both.for_set("gsl").fps == 30 and both.for_set("phoenix14t").layout == "holistic-512"
    assert both.for_set("lsat") is None and parse_foreign("foreign", "{fps: 25}").for_set("lsat").fps == 25
    with pytest.raises(ParameterError, match="declare every foreign set and"):
        parse_foreign("foreign", {"fps": 25, "gsl": {"fps": 30}})


def test_a_missing_split_or_a_folder_of_two_sets_is_refused_by_name(demo_set, tmp_path):
    folder, _ = demo_set
    with pytest.raises(AnnotationError, match=r"no split 'test'; the set has \['dev', 'train'\]"):
        open_pami(folder, HOLISTIC).plan("test")
    write_plain(folder / "other.pami0.dev", [sample("dev/x", np.ones((3, 8), np.float32), "t")])
    with pytest.raises(ParameterError, match=r"\.pami0 files of 2 sets \(demo512, other\); name one"):
        open_pami(folder)


def test_a_part_of_an_slt_nb_export_takes_what_its_manifest_records(tmp_path):
    manifests = holistic_exports(tmp_path, datasets=("PoseFormat",))
    part = tmp_path / json.loads(manifests["PoseFormat"].read_text())["splits"]["val"]["parts"][0]["file"]
    reader = open_pami(part)
    assert reader.layout == load_layout_file("holistic-512").layout
    assert (reader.fps, reader.normalize, reader.coordinates) == (25.0, "frame", "normalised")
    assert reader.plan("val").items[0].samples[0][0].startswith("val/")


def test_a_foreign_set_exports_as_it_is_and_converts_to_the_aligned_options(tmp_path):
    params = load_export_params("Signformer", {"output_dir": str(tmp_path / "same"), "splits": ["train", "dev"]})
    run_export(params)
    written = load_signformer(tmp_path / "same" / "demo512-1024.pami0.train.part0")
    rows = holistic_512_rows("test_video")
    np.testing.assert_array_equal(written[0]["sign"].numpy(), rows[: len(rows) // 2])
    manifest = json.loads((tmp_path / "same" / "demo512-1024.manifest.json").read_text())
    assert manifest["layout"]["name"] == "holistic-512" and manifest["reader"]["name"] == "pami"

    converted = {"output_dir": str(tmp_path / "aligned"), "splits": ["dev"], "feature_layout": "aligned",
                 "normalize": "shoulders", "fps": 24}
    entry = run_export(load_export_params("Signformer", converted))["splits"]["dev"]
    assert (entry["parameters"]["layout"], entry["parameters"]["fps"]) == ("aligned_pose33_hands_xy", 24)
    assert entry["clip_frames"]["test_video"] == 46  # 48 frames at 25 fps span 1.88 s: 46 frames at 24


def test_exporting_needs_the_rate_and_scale_declared(tmp_path):
    params = load_export_params("Signformer", {"output_dir": str(tmp_path), "splits": ["dev"]})
    params["source_fps"] = None
    with pytest.raises(ParameterError, match=r"exporting a foreign set needs its fps \(-p source_fps\) declared"):
        run_export(params)
    assert not list(tmp_path.glob("*.pami0.*"))


def test_the_reader_pickles_without_the_file_it_loaded(demo_set):
    folder, _ = demo_set
    reader = open_pami(folder, HOLISTIC)
    item = reader.plan("dev").items[0]
    reader.read(item)
    copy = pickle.loads(pickle.dumps(reader))
    assert copy._loaded is None and isinstance(copy, PamiReader)
    np.testing.assert_array_equal(copy.read(item).frames, reader.read(item).frames)
    assert torch.is_tensor(load_signformer(folder / "demo512.pami0.dev")[0]["sign"])


def test_frames_signformer_would_take_for_padding_are_noted(tmp_path):
    """Signformer masks a frame whose column 0 is 0; in holistic-512 that is the nose's x, undetected."""
    rows = holistic_512_rows("test_video")[:6].copy()
    rows[2:4, :2] = 0  # the nose not found in frames 2 and 3, the rest of the body found
    write_plain(tmp_path / "nose.pami0.dev", [sample("dev/x", rows, "a text")])
    reader = open_pami(tmp_path / "nose.pami0.dev", HOLISTIC)
    clip = reader.read(reader.plan("dev").items[0])
    assert clip.counts["column0_zero_frames"] == 2
    assert clip.notes == [f"{tmp_path / 'nose.pami0.dev'} sample 0 (x): 2 frames with points have column 0 exactly 0; "
                          "Signformer takes them for padding (its mask is frame[0] != 0): frames 2-3"]
