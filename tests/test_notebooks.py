"""Every notebook has one papermill `parameters` cell and imports only names slt_nb has.

Runs in about a second and catches what moving a module breaks before a notebook run does.
"""
import ast
import importlib
import json

import papermill
import pytest

from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def slt_nb_imports(source: str):
    """(module, name or None) for each `import slt_nb...` / `from slt_nb... import name` in a cell."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "slt_nb":
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "slt_nb":
                    yield alias.name, None


def test_the_notebooks_are_found():
    assert {p.stem for p in NOTEBOOKS} >= {"export", "inspect", "extract_poses", "extract_features", "train"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_exactly_one_parameters_cell_papermill_can_read(path):
    tagged = [c for c in code_cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    assigned = [t.id for node in ast.parse("".join(tagged[0]["source"])).body if isinstance(node, ast.Assign)
                for t in node.targets]
    # papermill drops a line it cannot parse (an "=" in a comment is enough) and --help then hides it
    assert list(papermill.inspect_notebook(str(path))) == assigned, f"{path.name}: papermill misses parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_slt_nb_import_in_a_notebook_resolves(path):
    found = 0
    for cell in code_cells(path):
        for module_name, name in slt_nb_imports("".join(cell["source"])):
            module = importlib.import_module(module_name)
            if name is not None and not hasattr(module, name):
                importlib.import_module(f"{module_name}.{name}")  # a submodule: raises if absent
            found += 1
    assert found, f"{path.name} imports nothing from slt_nb"


def test_a_moved_name_is_caught():
    source = "from slt_nb.extract.run import no_such_function\n"
    (module_name, name), = slt_nb_imports(source)
    module = importlib.import_module(module_name)
    assert not hasattr(module, name)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"{module_name}.{name}")
