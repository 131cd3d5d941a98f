import pytest

from slt_nb.signformer.memory import FRAME_VIEW_BYTES, projected_ram, ram_summary_lines, ram_table, ram_warnings
from signformer_fixtures import make_demo_exports


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory):
    return make_demo_exports(tmp_path_factory)


def test_projection_counts_padded_and_real_width_bytes(demo_exports):
    _, manifests = demo_exports
    rows = projected_ram(manifests["How2Sign"])
    train = next(r for r in rows if r["split"] == "train")
    frames = manifests["How2Sign"]["splits"]["train"]["frames"]
    largest = max(manifests["How2Sign"]["splits"]["train"]["clip_frames"].values())
    assert train["signformer_held"] == frames * 1024 * 4 + frames * FRAME_VIEW_BYTES
    assert train["signformer_peak"] == 2 * frames * 1024 * 4 + frames * FRAME_VIEW_BYTES
    width = manifests["How2Sign"]["layout"]["width"]
    assert width == 150  # the aligned layout's real columns, before the zero padding
    assert train["lean_held"] == frames * width * 4
    assert train["lean_peak"] == frames * width * 4 + 2 * largest * 1024 * 4


def test_all_splits_row_adds_up_the_datasets_loaded_together(demo_exports):
    _, manifests = demo_exports
    rows = projected_ram(list(manifests.values()))
    total = rows[-1]
    assert total["split"] == "all splits"
    assert total["frames"] == sum(e["frames"] for m in manifests.values() for e in m["splits"].values())
    assert total["signformer_held"] == sum(r["signformer_held"] for r in rows[:-1])
    # the last split loaded (test) peaks on top of everything loaded before it
    tests = [r for r in rows[:-1] if r["split"] == "test"]
    before = sum(r["signformer_held"] for r in rows[:-1] if r["split"] != "test")
    assert total["signformer_peak"] >= before + sum(r["signformer_peak"] for r in tests)
    assert total["lean_held"] * 5 < total["signformer_held"]
    table = ram_table(list(manifests.values()))
    assert ("LSFB-CONT", "val") in table.index and table.loc[("LSFB-CONT", "val"), "width"] == 150


def test_warns_only_when_the_peak_exceeds_the_machine(demo_exports):
    _, manifests = demo_exports
    rows = projected_ram(list(manifests.values()))
    assert ram_warnings(rows, total_ram=10**12) == []
    small = ram_warnings(rows, total_ram=rows[-1]["lean_peak"] + 1)
    assert len(small) == 1 and small[0].startswith("Signformer's own loader needs about")
    lines = ram_summary_lines(manifests["LSFB-CONT"], total_ram=1)
    assert lines[-1].startswith("WARNING: the slt_nb lean loader") and "(150 features)" in lines[0]


def test_validate_prints_the_projection_for_manifests_and_folders(demo_exports, capsys):
    from slt_nb.export.validate import main

    folder, _ = demo_exports
    assert main([str(folder)]) == 0
    out = capsys.readouterr().out
    assert "projected Signformer RAM:" in out
    assert "How2Sign/train:" in out and "LSFB-CONT/test:" in out and "all splits together:" in out
