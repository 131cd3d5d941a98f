"""Dataset text is data: never markup in the live viewer, never mathtext in a figure."""
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from slt_nb.inspection import ClipViewer, open_source  # noqa: E402
from slt_nb.inspection.viewer import status_html  # noqa: E402
from slt_nb.layouts import OPENPOSE_134  # noqa: E402
from slt_nb.plotting import (figure_png, frame_figure, length_histogram, literal_text,  # noqa: E402
                             skeleton_grid, trajectory_plot)

REPO = Path(__file__).resolve().parents[2]
CLIPS = REPO / "data" / "demo" / "How2Sign" / "val" / "openpose_output" / "json"
HOSTILE_TEXT = '<img src=x onerror="window.__slt_nb_pwned = 1"> costs $5 & $\\frac{$'
HOSTILE_CLIP = "evil$\\frac{$<b>-1-rgb_front"


def hostile_how2sign(root: Path) -> Path:
    """A How2Sign tree whose one clip has a mathtext-breaking name and a sentence that is an XSS."""
    shutil.copytree(CLIPS / "_2FBDaOPYig_1-3-rgb_front", root / "val" / "openpose_output" / "json" / HOSTILE_CLIP)
    (root / "annotations.csv").write_text(f'id,text,split\n{HOSTILE_CLIP},"{HOSTILE_TEXT.replace(chr(34), 2 * chr(34))}",val\n',
                                          encoding="utf-8")
    return root


def test_status_line_escapes_the_sentence():
    line = status_html(3, 10, ", 0.12 s", HOSTILE_TEXT)
    assert "<img" not in line and "&lt;img src=x onerror=&quot;window.__slt_nb_pwned = 1&quot;&gt;" in line
    assert line.startswith("frame 3 of 10, 0.12 s &middot; ")


def test_the_viewer_shows_hostile_text_and_errors_as_text(tmp_path):
    source = open_source("How2Sign", data_root=str(hostile_how2sign(tmp_path / "h2s")), with_face=True)
    viewer = ClipViewer(source, "val")
    assert viewer.clip.text == HOSTILE_TEXT
    assert "<img" not in viewer.status.value and "&lt;img" in viewer.status.value
    # a clip that cannot be read: its name and the error are escaped too
    shutil.rmtree(tmp_path / "h2s" / "val" / "openpose_output" / "json" / HOSTILE_CLIP)
    viewer.show_clip(HOSTILE_CLIP)
    assert viewer.clip is None and "cannot read" in viewer.status.value
    assert "<b>-1" not in viewer.status.value and "&lt;b&gt;-1-rgb_front" in viewer.status.value


@pytest.mark.parametrize("text", ["$\\frac{$", "costs $5 or $6", "a\\$b", "$x^2$"])
def test_titles_with_dollars_are_drawn_literally_and_never_crash(text):
    row = np.random.default_rng(0).uniform(0.2, 0.8, OPENPOSE_134.width).astype(np.float32)
    fig = frame_figure(OPENPOSE_134, row, title=text)
    assert figure_png(fig).startswith(b"\x89PNG")
    title = fig.axes[0].title
    assert title._preprocess_math(title.get_text()) == (text, False)  # drawn as given, not as mathtext
    frames = np.tile(row, (6, 1))
    for fig in (skeleton_grid(OPENPOSE_134, frames, cols=3, title=text),
                trajectory_plot(OPENPOSE_134, frames, fps=24, title=text),
                length_histogram([5, 6, 7], title=text).figure):
        fig.savefig(__import__("io").BytesIO(), format="png")
    assert literal_text(text).count("\\$") == text.count("$")
