"""The inspect notebook in a real browser: JupyterLab + headless Chromium through playwright.

Runs every cell, moves the viewer's frame slider and checks that the skeleton image is redrawn,
picks a clip that cannot be read (no picture, the reason shown) and a good one again, switches
the split selector to another split and checks that its clips are listed and shown, and
that no cell errored. Works on a copy of notebooks/inspect.ipynb in a temporary server root,
so the committed notebook is never saved with outputs. A screenshot is kept under
outputs/browser/. Without Chromium the test skips, except under CI (env CI set), where it fails.
The tests share one JupyterLab server and one Chromium (seconds each to start); each test opens
its own copy of the notebook in a page of its own.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "outputs" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.slow


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs chromium)")
    pytest.skip(reason)


def browser_tools():
    """(Chromium's path, playwright's sync_playwright), or a skip (a failure under CI) naming what is missing."""
    chromium = find_chromium()
    if chromium is None:
        unavailable("no Chromium found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    return chromium, sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with its own config, data, runtime and workspace dirs."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    settings = tmp_path / "settings"
    # No news or update pop-ups over the notebook.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"),  # kernelspecs still come from sys.prefix
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"),
               JUPYTER_PLATFORM_DIRS="1")
    env.pop("SLT_NB_BATCH", None)
    port, token = free_port(), "slt-nb-browser-test"
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield {"url": url, "token": token, "root": root, "log": tmp_path / "jupyterlab.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through playwright, for the module's tests."""
    chromium, sync_playwright = browser_tools()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def notebook_copy(jupyterlab, name: str) -> Path:
    """A copy of notebooks/inspect.ipynb in the server's root, this test's own."""
    copy = jupyterlab["root"] / "notebooks" / name
    shutil.copy(REPO / "notebooks" / "inspect.ipynb", copy)
    return copy


def open_and_run_all(browser, jupyterlab, notebook: Path):
    """Open the server's copy of inspect.ipynb (notebook) in JupyterLab, run every cell, wait for all to finish."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{jupyterlab['url']}/lab/tree/notebooks/{notebook.name}?token={jupyterlab['token']}&reset")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=90_000)
    # wait for the kernel to be ready before running everything
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                  return w && w.sessionContext && w.sessionContext.session &&
                         w.sessionContext.session.kernel &&
                         w.sessionContext.session.kernel.connectionStatus === 'connected' &&
                         w.sessionContext.session.kernel.status === 'idle'; }""", timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    code_cells = page.locator(".jp-Notebook .jp-CodeCell").count()
    page.wait_for_function(
        """(n) => { const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
                    return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)); }""",
        arg=code_cells, timeout=240_000)
    return page


def test_inspect_notebook_runs_in_jupyterlab_and_the_slider_redraws_the_skeleton(jupyterlab, browser):
    notebook = notebook_copy(jupyterlab, "inspect.ipynb")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_and_run_all(browser, jupyterlab, notebook)
    try:
        image = page.locator("img.slt-nb-skeleton")
        image.wait_for(state="visible", timeout=30_000)
        image.scroll_into_view_if_needed()
        before_src = image.get_attribute("src")
        before_png = image.screenshot()
        assert "frame 0 of" in page.inner_text(".jp-Notebook")

        handle = page.locator(".slt-nb-frame-slider .noUi-handle")
        handle.focus()
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("(src) => document.querySelector('img.slt-nb-skeleton').src !== src",
                               arg=before_src, timeout=30_000)
        page.wait_for_function("() => /frame 10 of/.test(document.querySelector('.jp-Notebook').innerText)",
                               timeout=30_000)
        time.sleep(0.3)
        after_png = image.screenshot()
        assert after_png != before_png, "the skeleton image did not change when the slider moved"
        page.screenshot(path=str(SCREENSHOTS / "inspect-jupyterlab.png"), full_page=False)
        assert "plays at" in page.inner_text(".slt-nb-play-rate")

        # a clip that cannot be read (its frame 17 is cut off): no picture, the reason instead
        clips = page.locator(".slt-nb-clip-picker select")
        clips.select_option("-fZc293MpJk_7-1-rgb_front")
        image.wait_for(state="hidden", timeout=30_000)
        page.wait_for_function("() => /cannot read/.test(document.querySelector('.slt-nb-status').innerText)",
                               timeout=30_000)
        assert "unparsable JSON" in page.inner_text(".slt-nb-status")
        clips.select_option("_2FBDaOPYig_1-3-rgb_front")
        image.wait_for(state="visible", timeout=30_000)
        page.wait_for_function("() => /frame 0 of/.test(document.querySelector('.slt-nb-status').innerText)",
                               timeout=30_000)

        # the split selector, before the clip picker: another split lists its own clips
        splits = page.locator(".slt-nb-split-picker select")
        assert splits.locator("option").all_inner_texts() == ["train", "val", "test"]
        assert splits.input_value() == "val"
        val_clips = clips.locator("option").all_inner_texts()
        src = image.get_attribute("src")
        splits.select_option("test")
        page.wait_for_function(
            """(clips) => { const o = [...document.querySelectorAll('.slt-nb-clip-picker select option')];
                            return o.length && o[0].textContent !== clips[0]; }""", arg=val_clips, timeout=30_000)
        page.wait_for_function("(src) => document.querySelector('img.slt-nb-skeleton').src !== src",
                               arg=src, timeout=30_000)
        assert clips.input_value() == clips.locator("option").first.inner_text()
        assert "frame 0 of" in page.inner_text(".slt-nb-status")

        # save the copy to read every cell's outputs exactly as the frontend holds them
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    finally:
        page.context.close()

    saved = json.loads(notebook.read_text())
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(code) for o in c["outputs"]
              if o["output_type"] == "error"]
    assert errors == []
    assert all(c["execution_count"] for c in code)
    outputs = json.dumps([c["outputs"] for c in code])
    assert "application/vnd.jupyter.widget-view+json" in outputs  # the viewer was built, not skipped
    assert "viewer skipped" not in outputs


def test_a_hostile_sentence_is_shown_as_text_and_runs_no_script_in_jupyterlab(jupyterlab, browser, tmp_path):
    """A sentence holding `<img src=x onerror=...>` must not run in the page: in JupyterLab, script
    can drive the Jupyter API and so run code. The clip name carries `$\\frac{$`, which matplotlib
    would read as mathtext and fail on when drawing the skeleton grid's title."""
    from test_hostile_text import HOSTILE_TEXT, hostile_how2sign

    tree = hostile_how2sign(tmp_path / "hostile")
    notebook = notebook_copy(jupyterlab, "inspect-hostile.ipynb")
    nb = json.loads(notebook.read_text())
    params = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    params["source"] = "".join(params["source"]).replace("data_root = None", f"data_root = {str(tree)!r}")
    assert str(tree) in params["source"]
    notebook.write_text(json.dumps(nb))

    page = open_and_run_all(browser, jupyterlab, notebook)
    try:
        page.locator("img.slt-nb-skeleton").wait_for(state="visible", timeout=30_000)
        page.wait_for_function("() => /frame 0 of/.test(document.querySelector('.jp-Notebook').innerText)",
                               timeout=30_000)
        time.sleep(1.0)  # give an injected <img onerror> time to fire, were there one
        assert page.evaluate("window.__slt_nb_pwned") is None
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert HOSTILE_TEXT in page.inner_text(".jp-Notebook")  # shown, character for character
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
    finally:
        page.context.close()

    saved = json.loads(notebook.read_text())
    errors = [(o.get("ename"), o.get("evalue")) for c in saved["cells"] if c["cell_type"] == "code"
              for o in c["outputs"] if o["output_type"] == "error"]
    assert errors == []  # the skeleton grid's mathtext-breaking title included
