"""The batch runner: a matrix of papermill runs, one failing and one whose kernel dies, and the index."""
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from slt_nb.demo import demo_runs
from slt_nb.runner import Run, main, matrix, run_all

REPO = Path(__file__).resolve().parents[2]

PROBE = '''import os
rows = list(range(1000))
if split == "val":
    raise ValueError(f"{dataset}/{split}: deliberately broken split")
if split == "die":
    os.kill(os.getpid(), 9)  # what the out-of-memory killer does
print("read", len(rows), "rows of", dataset, split)'''


@pytest.fixture(scope="module")
def probe_notebook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "probe.ipynb"
    nb = new_notebook(cells=[new_code_cell('dataset = "none"\nsplit = "train"', metadata={"tags": ["parameters"]}),
                             new_code_cell(PROBE)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


class TableRows(HTMLParser):
    """Cells of each <tr> of the index page's body."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell, self._in_body = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = ""
        elif tag == "a" and self._cell is not None:
            self._cell += f"[{dict(attrs)['href']}]"

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None


def test_matrix_takes_each_datasets_splits_from_params():
    runs = matrix("notebooks/inspect.ipynb", ["How2Sign"], parameters={"max_clips": 5})
    assert [r.output for r in runs] == [f"outputs/inspect/How2Sign/{s}.ipynb" for s in ("train", "val", "test")]
    assert runs[1].parameters == {"dataset": "How2Sign", "split": "val", "max_clips": 5}
    with pytest.raises(ValueError, match="give splits"):
        matrix("notebooks/inspect.ipynb", ["outputs/exports/How2Sign-1024.manifest.json"])


def test_a_failing_run_and_a_dead_kernel_are_indexed_and_the_others_still_run(probe_notebook, tmp_path):
    runs = matrix(str(probe_notebook), ["How2Sign"], ["train", "val", "test"], output_root=tmp_path)
    runs.append(Run(str(probe_notebook), str(tmp_path / "probe" / "How2Sign" / "die.ipynb"),
                    {"dataset": "How2Sign", "split": "die"}, "How2Sign", "die"))
    index = tmp_path / "index.html"
    results = run_all(runs, index, echo=None)

    assert [r.status for r in results] == ["ok", "failed", "ok", "kernel died"]
    assert "ValueError: How2Sign/val: deliberately broken split" in results[1].error
    assert "out of memory" in results[3].error or "too much memory" in results[3].error
    for r in results:
        assert Path(r.output).exists() and Path(r.html).exists()
        assert r.seconds > 0 and r.peak_mb > 20  # a python kernel's RSS, measured without the runner's own
    # the failing run's report is written too, with the error in it
    failed_nb = nbformat.read(results[1].output, as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed_nb.cells for o in c.get("outputs", []))
    ok_nb = nbformat.read(results[2].output, as_version=4)
    assert "read 1000 rows of How2Sign test" in "".join(o.get("text", "") for c in ok_nb.cells for o in c.get("outputs", []))

    parser = TableRows()
    parser.feed(index.read_text(encoding="utf-8"))
    assert len(parser.rows) == 4
    by_split = {row[2]: row for row in parser.rows}
    # columns: notebook, dataset, split, status, result, report, error, parameters, started, duration, memory
    assert by_split["val"][3] == "failed" and "deliberately broken split" in by_split["val"][6]
    assert by_split["die"][3] == "kernel died"
    assert by_split["train"][3] == by_split["test"][3] == "ok" and by_split["test"][6] == ""
    assert '"split": "val"' not in by_split["val"][7] and 'split="val"' in by_split["val"][7]
    for row in parser.rows:
        assert re.fullmatch(r"\d+\.\d s", row[9]) and re.fullmatch(r"\d+ MB", row[10])
        links = re.findall(r"\[([^\]]+)\]", row[5])
        assert len(links) == 2 and all((tmp_path / link).exists() for link in links)
    assert "4 runs: 1 failed, 1 kernel died, 2 ok" in index.read_text(encoding="utf-8")

    # a rerun replaces its entry instead of adding one
    run_all([runs[0]], index, echo=None)
    records = json.loads((tmp_path / "index.json").read_text())["runs"]
    assert sorted(r["split"] for r in records) == ["die", "test", "train", "val"]
    train = next(r for r in records if r["split"] == "train")
    assert train["started"] >= max(r["started"] for r in records if r["split"] != "train")


def test_command_exit_status_is_non_zero_when_a_run_failed(probe_notebook, tmp_path, capsys):
    status = main([str(probe_notebook), "--datasets", "How2Sign", "--splits", "val",
                   "--output-root", str(tmp_path), "--index", str(tmp_path / "index.html")])
    assert status == 1
    assert "0 of 1 runs ok" in capsys.readouterr().out


def test_demo_runs_come_from_demo_yaml_with_dataset_and_split_labels():
    runs = demo_runs()
    assert runs and all((REPO / r.notebook).exists() for r in runs)
    inspect = [r for r in runs if r.notebook == "notebooks/inspect.ipynb"]
    assert inspect and all(r.dataset and r.split for r in inspect)


def test_a_failed_rerun_keeps_the_good_report_and_shows_the_failure_beside_it(probe_notebook, tmp_path):
    out = tmp_path / "report.ipynb"
    index = tmp_path / "index.html"
    good = Run(str(probe_notebook), str(out), {"dataset": "demo", "split": "train"}, "demo", "train")
    (ok,) = run_all([good], index=index, echo=None)
    assert ok.status == "ok"
    good_bytes, good_html = out.read_bytes(), out.with_suffix(".html").read_bytes()

    broken = Run(str(probe_notebook), str(out), {"dataset": "demo", "split": "val"}, "demo", "train")
    (failed,) = run_all([broken], index=index, echo=None)
    assert failed.status == "failed" and failed.output.endswith("report.failed.ipynb")
    assert out.read_bytes() == good_bytes and out.with_suffix(".html").read_bytes() == good_html
    assert (tmp_path / "report.failed.html").exists()
    assert not list(tmp_path.glob(".report.running-*"))
    parser = TableRows()
    parser.feed(index.read_text(encoding="utf-8"))
    statuses = sorted(row[3] for row in parser.rows)
    assert statuses == ["failed", "ok"]  # the good run's row stays, the failure is shown beside it

    (again,) = run_all([good], index=index, echo=None)
    assert again.status == "ok" and not (tmp_path / "report.failed.ipynb").exists()
    parser = TableRows()
    parser.feed(index.read_text(encoding="utf-8"))
    assert [row[3] for row in parser.rows] == ["ok"]


def test_runs_finishing_at_once_all_reach_the_index(tmp_path):
    import multiprocessing

    from index_writers import finish_one

    index = tmp_path / "index.html"
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(finish_one, [(str(index), i) for i in range(40)])
    records = json.loads(index.with_suffix(".json").read_text())["runs"]
    assert sorted(r["split"] for r in records) == sorted(f"s{i}" for i in range(40))


def test_a_report_opens_with_its_summary_hides_code_and_the_index_shows_the_key_result(tmp_path):
    from slt_nb.summary_box import DEMO_DATA

    path = tmp_path / "summary.ipynb"
    code = ("from slt_nb.summary_box import show_summary\n"
            f"show_summary('Export demo', '12 samples exported', {{'data': {str(DEMO_DATA)!r}}}, warnings=1, skipped=2,"
            " demo_data=True)")
    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell(code)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    index = tmp_path / "index.html"
    (result,) = run_all([Run(str(path), str(tmp_path / "out.ipynb"), {}, "demo", "val")], index=index, echo=None)
    assert (result.status, result.status_text, result.key_result) == ("ok", "ok, 1 warning, 2 rows skipped",
                                                                       "12 samples exported")
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "<title>Export demo</title>" in page
    body = page[page.index("<body"):]
    assert body.index("slt-summary") < body.index('<div class="jp-Cell')  # the box before the first cell
    assert "'demo_data'" not in body  # the facts are the box, not a printed dict
    assert 'class="slt-hide-code' in body[:200] and "show code" in body
    assert "demo data" in body
    parser = TableRows()
    parser.feed(index.read_text(encoding="utf-8"))
    (row,) = parser.rows
    assert (row[3], row[4]) == ("ok, 1 warning, 2 rows skipped", "12 samples exported")


def test_the_summary_counts_rows_skipped_by_default_and_videos_where_videos_were_skipped():
    from slt_nb.summary_box import box_html, status_text, summary

    rows = summary("Export demo", "12 samples exported", warnings=1, skipped=2)
    assert status_text("ok", rows) == "ok, 1 warning, 2 rows skipped"
    videos = summary("WLASL poses extraction", "8 videos with poses", skipped=1, skipped_unit="video")
    assert status_text("ok", videos) == "ok, 1 video skipped"
    assert status_text("ok", {**videos, "skipped": 2}) == "ok, 2 videos skipped"
    assert "(2 videos skipped)" in box_html({**videos, "skipped": 2})
    assert status_text("failed", videos) == "failed"
    older = {k: v for k, v in rows.items() if k != "skipped_unit"}  # a report executed before the unit existed
    assert status_text("ok", older) == "ok, 1 warning, 2 rows skipped"
    with pytest.raises(ValueError, match="skipped_unit must name what was skipped"):
        summary("Export demo", "12 samples exported", skipped=2, skipped_unit="")


@pytest.mark.slow
def test_an_extraction_report_and_the_index_say_videos_skipped(tmp_path):
    """The demo WLASL list names 2 videos that cannot be extracted (one missing, one truncated)."""
    from slt_nb import cli

    report, index = tmp_path / "extract_features.ipynb", tmp_path / "index.html"
    assert cli.main(["extract", "features", "-p", "embed_dim", "16", "-p", "output_dir", str(tmp_path / "features"),
                     "-o", str(report), "--index", str(index)]) == 0
    skipped = (tmp_path / "features" / "skipped.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(skipped) == 2
    (record,) = json.loads(index.with_suffix(".json").read_text(encoding="utf-8"))["runs"]
    assert record["status_text"] == "ok, 2 videos skipped"
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    assert "(2 videos skipped)" in page and "rows skipped" not in page
    assert "ok, 2 videos skipped" in index.read_text(encoding="utf-8")


# --- what tells two exports of one dataset apart: layout, normalisation, fps under the dataset ---

def _record(tmp_path, output: str, **extra) -> dict:
    report = tmp_path / output
    report.write_text("{}")
    return {"notebook": "notebooks/export.ipynb", "output": str(report), "html": None, "parameters": {},
            "dataset": "How2Sign", "split": "", "status": "ok", "error": "", "seconds": 1.0, "peak_mb": 10.0,
            "started": "2026-12-07T22:00:00", **extra}


def test_a_seed_and_an_aligned_export_of_one_dataset_differ_visibly_in_their_index_rows(tmp_path):
    from slt_nb.run_index import index_html

    seed = _record(tmp_path, "seed.ipynb", variant={"feature_layout": "seed", "normalize": "frame", "fps": None,
                                                    "from": "manifest"})
    aligned = _record(tmp_path, "aligned.ipynb", variant={"feature_layout": "aligned", "normalize": "shoulders",
                                                          "fps": 25.0, "from": "manifest"})
    parser = TableRows()
    parser.feed(index_html([seed, aligned], tmp_path))
    assert [row[1] for row in parser.rows] == ["How2Signseed · frame · fps source",
                                               "How2Signaligned · shoulders · fps 25"]


def test_a_record_without_a_variant_renders_as_before(tmp_path):
    from slt_nb.run_index import index_html

    old = _record(tmp_path, "old.ipynb")  # written to index.json before the index kept the variant
    inspect = _record(tmp_path, "inspect.ipynb", notebook="notebooks/inspect.ipynb", variant={})
    page = index_html([old, inspect], tmp_path)
    assert "class='variant'" not in page and page.count("<td>How2Sign</td>") == 2


def _executed_export(manifest_path) -> dict:
    """An executed export notebook as far as the index reads it: the line naming its manifest."""
    return new_notebook(cells=[new_code_cell("print('manifest:', path)", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text=f"manifest: {manifest_path}\n")])])


def test_an_export_runs_variant_is_what_its_manifest_records_for_the_splits_it_exported(tmp_path):
    from slt_nb.formats.manifest import Manifest
    from slt_nb.run_index import export_variant

    path = tmp_path / "How2Sign-1024.manifest.json"
    Manifest({"dataset": "How2Sign", "splits": {
        "train": {"samples": 1},  # exported before the manifest recorded parameters: the seed options
        "val": {"samples": 1, "parameters": {"feature_layout": "aligned", "normalize": "shoulders", "fps": 25.0}},
    }}).write(path)
    nb = _executed_export(path)
    asked_seed = {"dataset": "How2Sign", "feature_layout": "seed"}  # the manifest, not the asking, is what was written
    assert export_variant("notebooks/export.ipynb", asked_seed, nb, {"facts": {"splits": "val"}}) == {
        "feature_layout": "aligned", "normalize": "shoulders", "fps": 25.0, "from": "manifest"}
    both = export_variant("notebooks/export.ipynb", {"splits": "train,val"}, nb, None)
    assert both == {"feature_layout": ["seed", "aligned"], "normalize": ["frame", "shoulders"], "fps": [None, 25.0],
                    "from": "manifest"}
    assert export_variant("notebooks/inspect.ipynb", {}, nb, None) == {}  # only export runs have one


def test_an_export_that_left_no_manifest_shows_what_was_asked_marked_so(tmp_path):
    from slt_nb.run_index import export_variant, index_html

    asked = export_variant("notebooks/export.ipynb", {"dataset": "How2Sign", "fps": 25}, None, None)
    assert asked == {"feature_layout": "seed", "normalize": "frame", "fps": 25, "from": "parameters"}
    gone = export_variant("notebooks/export.ipynb", {"dataset": "outputs/x", "feature_layout": "aligned"},
                          _executed_export(tmp_path / "gone.manifest.json"), None)
    assert gone == {"feature_layout": "aligned", "normalize": "frame", "fps": None, "from": "parameters"}
    parser = TableRows()
    parser.feed(index_html([_record(tmp_path, "failed.ipynb", status="failed", variant=gone)], tmp_path))
    assert parser.rows[0][1] == "How2Signaligned · frame · fps source (asked)"


@pytest.mark.slow
def test_the_index_tells_a_seed_export_from_an_aligned_one_of_the_same_dataset(tmp_path):
    from slt_nb import cli

    index = tmp_path / "index.html"
    for name, extra in (("seed", []), ("aligned", ["-p", "feature_layout", "aligned", "-p", "normalize", "shoulders",
                                                   "-p", "fps", "25"])):
        assert cli.main(["export", "How2Sign", "-p", "splits", "val", "-p", "output_dir", str(tmp_path / name),
                         *extra, "-o", str(tmp_path / f"export-{name}.ipynb"), "--index", str(index)]) == 0
    records = json.loads(index.with_suffix(".json").read_text(encoding="utf-8"))["runs"]
    assert sorted((r["variant"]["feature_layout"], r["variant"]["from"]) for r in records) == [
        ("aligned", "manifest"), ("seed", "manifest")]
    parser = TableRows()
    parser.feed(index.read_text(encoding="utf-8"))
    assert sorted(row[1] for row in parser.rows) == ["How2Signaligned · shoulders · fps 25",
                                                     "How2Signseed · frame · fps source"]
