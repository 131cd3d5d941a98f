"""Contracts every registered reader and pose estimator keeps: a new one is checked here for free.

A corpus module or estimator module only needs its own quirk tests; what all of them must do
(export their demo params accounting for every row, rows as wide as the layout, survive being
sent to a worker process, write the arrays their parts promise, recognise their own tree and
no other) is parametrised over the registries, so no list in a test can go stale. The bases
(`Reader`, `PoseEstimator`) refuse at registration a class that leaves a member undefined.

The package-wide checks at the end hold the shape of the code: no module of 400 lines or more
and no function over 80, no import circle, no import from formats/ or datasets/ up into a
stage, and every `raise` from the error family of slt_nb.errors.
"""
import ast
import pathlib
import pickle

import numpy as np
import pytest

from slt_nb.datasets import READERS, Reader, detect_reader, reader_class, reader_from_params, register_reader
from slt_nb.errors import ClipError, ContractError, UnknownName
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.extract import ESTIMATORS, PoseEstimator, build_estimator, estimator_class, load_estimators
from slt_nb.extract.estimators import register_estimator
from slt_nb.layouts import MEDIAPIPE_150
from slt_nb.registry import Registry
from slt_nb.formats.extraction import PosePart, check_pose_arrays, parts_layout, pose_keys
from slt_nb.params import load_params, resolve
from slt_nb.testing.landmarker_bundle import build_holistic_bundle

from conftest import REAL

load_estimators()
TEST_VIDEO = REAL / "video_signing" / "test_video.mp4"


@pytest.fixture(params=sorted(READERS))
def demo(request):
    """(reader class, its demo params, a reader built from them) for each registered corpus."""
    cls = reader_class(request.param)
    params = load_params(cls.demo_params)
    return cls, params, reader_from_params(params)


def test_reader_demo_params_build_that_reader_with_fps_and_frame_size(demo):
    cls, params, reader = demo
    assert type(reader) is cls
    assert float(reader.fps) > 0
    width, height = reader.frame_size
    assert int(width) > 0 and int(height) > 0
    assert cls.detect(str(resolve(params["data_root"]))), "a reader recognises its own demo tree"


def test_reader_exports_its_demo_params_with_every_row_exported_or_skipped(demo, tmp_path):
    _, params, reader = demo
    exported = 0
    for split in params["splits"]:
        entry = export_split(reader, split, ExportOptions(str(tmp_path), chunk_size=100,
                                                           feature_size=int(params["feature_size"])))
        assert entry["rows_exported"] + entry["rows_skipped"] == entry["annotation_rows"], split
        assert all(s["reason"] for s in entry["skipped"]), "every skipped row says why"
        exported += entry["rows_exported"]
    assert exported > 0


def test_reader_rows_are_as_wide_as_its_layouts(demo):
    _, params, reader = demo
    read = 0
    for split in params["splits"]:
        for item in reader.plan(split).items:
            try:
                frames = reader.read(item).frames
                inspected = reader.read_for_inspection(item).frames
            except ClipError:
                continue  # the demo's awkward clips; their reasons are tested per corpus
            assert frames.dtype == np.float32 and frames.shape[1] == reader.layout.width, item.clip
            assert inspected.shape == (len(frames), reader.inspection_layout.width), item.clip
            read += 1
    assert read > 0


def test_reader_survives_pickling_for_worker_processes(demo):
    _, params, reader = demo
    split = params["splits"][0]
    item = reader.plan(split).items[0]
    copy = pickle.loads(pickle.dumps(reader))
    assert [i.clip for i in copy.plan(split).items] == [i.clip for i in reader.plan(split).items]
    try:
        expected = reader.read(item).frames
    except ClipError as exc:
        with pytest.raises(ClipError):
            copy.read(item)
        assert str(exc)
    else:
        np.testing.assert_array_equal(copy.read(item).frames, expected)


def test_an_unknown_reader_or_estimator_names_the_known_ones():
    with pytest.raises(UnknownName, match=r"no reader named 'phoenix14t'; known readers: \[.*'how2sign'"):
        reader_class("phoenix14t")
    with pytest.raises(UnknownName, match=r"no pose estimator named 'rtmpose'; known estimators: \[.*'holistic'"):
        estimator_class("rtmpose")


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_parts_define_a_consistent_npz_contract(name):
    cls = estimator_class(name)
    assert cls.name == name
    assert cls.parts and all(isinstance(p, PosePart) for p in cls.parts)
    keys = pose_keys(cls.parts)
    assert len(set(keys)) == len(keys), "array keys must not collide"
    layout = parts_layout(cls.parts)
    assert layout.width == 2 * sum(p.skeleton.size for p in cls.parts)
    assert [s.name for s in layout.segments] == [p.key for p in cls.parts]
    assert all(callable(getattr(cls, m)) for m in ("settings", "extract", "close"))


# How to build each registered estimator here (a new estimator adds its line; the test below
# fails until it does). The landmarker runs on a bundle made from the wheel's legacy models.
RUNNABLE = {
    "holistic": lambda tmp: {"holistic_mode": "sampled"},
    "holistic_landmarker": lambda tmp: {"holistic_mode": "sampled",
                                        "model_path": build_holistic_bundle(tmp / "holistic_landmarker.task")},
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_writes_exactly_the_arrays_its_parts_promise(name, tmp_path):
    assert name in RUNNABLE, f"say in RUNNABLE how to build the {name!r} estimator for this test"
    estimator = build_estimator(name, RUNNABLE[name](tmp_path))
    try:
        poses = estimator.extract(TEST_VIDEO, num_frames=4)
    finally:
        estimator.close()
    assert set(poses.arrays) == set(pose_keys(estimator.parts))
    check_pose_arrays(poses.arrays, TEST_VIDEO, estimator.parts)
    assert all(poses.arrays[p.key].dtype == np.float32 for p in estimator.parts)
    body = estimator.parts[0]
    assert poses.arrays[body.flag].all(), "the signer's body is in every frame of the test video"


# --- the bases: a class that leaves a member of the contract undefined is refused by name ---

def test_a_reader_missing_members_is_refused_at_registration_naming_them():
    class HalfReader(Reader):
        layout = MEDIAPIPE_150
        fps = 25.0
        dataset = "Half"

        def plan(self, split):
            return None

    with pytest.raises(ContractError, match=r"reader HalfReader for 'half' lacks \['demo_params', 'describe', "
                                            r"'detect', 'frame_size', 'from_params', 'read'\]"):
        register_reader("half")(HalfReader)
    assert "half" not in READERS
    with pytest.raises(TypeError):  # Python refuses to build one too
        HalfReader()


def test_a_reader_that_is_no_reader_subclass_is_refused():
    class Lookalike:
        layout, fps, frame_size, demo_params, dataset = MEDIAPIPE_150, 25.0, (1, 1), "x", "x"

    with pytest.raises(ContractError, match=r"'Lookalike' for 'lookalike' is no subclass of Reader"):
        register_reader("lookalike")(Lookalike)


def test_a_pose_estimator_missing_members_is_refused_at_registration_naming_them():
    class NoClose(PoseEstimator):
        name = "no_close"
        options_taken = ()

        def settings(self):
            return {}

        def extract(self, path, num_frames=16, frame_start=1, frame_end=-1):
            return None

    with pytest.raises(ContractError, match=r"pose estimator NoClose for 'no_close' lacks \['close', 'parts'\]"):
        register_estimator(NoClose)
    assert "no_close" not in ESTIMATORS


def test_a_name_registered_twice_by_another_class_is_refused():
    class Again(READERS["lsfb"]):
        pass

    with pytest.raises(ContractError, match=r"a reader named 'lsfb' is already registered \(LSFBReader\)"):
        register_reader("LSFB")(Again)
    assert READERS["lsfb"].__name__ == "LSFBReader"


def test_a_registry_reads_like_a_dict_and_names_the_known_entries_on_a_miss():
    registry = Registry("widget", "widgets", "slt_nb.datasets.base:Reader", case_insensitive=True)
    cls = READERS["how2sign"]
    registry.add(cls, "How2Sign")
    assert sorted(registry) == ["how2sign"] and "HOW2SIGN" in registry and len(registry) == 1
    assert registry["how2sign"] is cls and registry.get("nothing") is None
    with pytest.raises(UnknownName, match=r"^no widget named 'gadget'; known widgets: \['how2sign'\]$"):
        registry.lookup("gadget")


def _demo_root(name: str) -> str:
    return str(resolve(load_params(reader_class(name).demo_params)["data_root"]))


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_reader_detects_its_own_demo_tree_and_no_other(name):
    for other in sorted(READERS):
        assert reader_class(name).detect(_demo_root(other)) == (other == name), (name, other)
    assert detect_reader(_demo_root(name)) == name


def test_no_reader_claims_a_folder_of_nothing(tmp_path):
    assert detect_reader(tmp_path) is None


# --- package-wide shape: sizes, imports, raises ---

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "slt_nb"
STAGES = ("export", "inspection", "extract", "train", "signformer")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80


def _modules() -> dict[str, tuple[pathlib.Path, ast.Module]]:
    """slt_nb's modules by dotted name (a package by its own name, for its __init__.py)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return out


MODULES = _modules()


def test_no_module_reaches_400_lines_and_no_function_81():
    too_long = []
    for name, (path, tree) in MODULES.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines >= MAX_MODULE_LINES:
            too_long.append(f"{name}: {lines} lines")
        too_long += [f"{name}.{f.name} (line {f.lineno}): {f.end_lineno - f.lineno + 1} lines"
                     for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES]
    assert not too_long, "cut along a seam:\n" + "\n".join(too_long)


def _package_of(name: str) -> str:
    return name if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file() else name.rpartition(".")[0]


def _imports(name: str, tree: ast.Module) -> set[str]:
    """The slt_nb modules `name` imports anywhere (function-level too): a module named by a
    `from` counts, and so does every package on the way to it that `name` is not inside of
    (importing slt_nb.x.y runs slt_nb/x/__init__.py first)."""
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(_package_of(name).split(".")[: len(_package_of(name).split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets.add(base)
            targets |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
    out = set()
    for target in (t for t in targets if t in MODULES):
        pieces = target.split(".")
        out.add(target)
        for i in range(2, len(pieces)):
            package = ".".join(pieces[:i])
            if not (name == package or name.startswith(package + ".")):
                out.add(package)
    out.discard(name)
    return out


GRAPH = {name: _imports(name, tree) for name, (_, tree) in MODULES.items()}


def test_no_import_circles_among_slt_nb_modules():
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not circles, "modules importing each other (round the circle):\n" + "\n".join(map(str, circles))


def test_formats_and_datasets_import_no_stage():
    up = sorted(f"{name} imports {target}" for name, targets in GRAPH.items()
                if name.split(".")[1:2] in (["formats"], ["datasets"])
                for target in targets if target.split(".")[1:2] and target.split(".")[1] in STAGES)
    assert not up, "formats/ and datasets/ sit below the stages:\n" + "\n".join(up)


ERROR_CLASSES = {n.name for n in ast.walk(MODULES["slt_nb.errors"][1]) if isinstance(n, ast.ClassDef)}


def _allowed_names(tree: ast.Module) -> set[str]:
    """Names a module may raise: the error family imported from slt_nb (errors or a re-export),
    SystemExit, and classes it defines on top of those."""
    allowed = {"SystemExit"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("slt_nb"):
            allowed |= {a.asname or a.name for a in node.names if a.name in ERROR_CLASSES}
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in allowed and any(isinstance(b, ast.Name) and b.id in allowed for b in cls.bases):
                allowed.add(cls.name)
                grew = True
    return allowed


def test_every_raise_is_of_the_error_family():
    """A raised class (a CapWords name) must come from slt_nb.errors; a bare `raise`, a caught
    exception raised again and an error built by a function (`raise self._no_tree_error()`) pass."""
    wrong = []
    for name, (_, tree) in MODULES.items():
        allowed = _allowed_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            raised = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else ""
            if raised[:1].isupper() and raised not in allowed:
                wrong.append(f"{name} line {node.lineno}: raise {raised}")
    wrong.sort(key=lambda w: (w.split(" line ")[0], int(w.split(" line ")[1].split(":")[0])))
    assert not wrong, "raise a class of slt_nb.errors (the one that says what the user can do):\n" + "\n".join(wrong)
