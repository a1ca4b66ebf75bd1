"""A curated notebook served by Voila on 127.0.0.1 and rendered in headless Debian chromium, as a trainer or
analyst would open it: the widgets render, nothing is fetched from outside the machine, no page errors."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import notebook_runner
from tests.hotspot_fixtures import ingested_world

pytestmark = pytest.mark.browser
NOTEBOOK = notebook_runner.NOTEBOOKS / "02_hotspots_for_patrol.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 90) -> None:
    """Wait until voila listens (a GET of the page would run the notebook in a kernel of its own)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"voila exited with {proc.returncode}: {proc.stdout.read()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"voila did not listen on port {port}")


@pytest.fixture
def voila_page(tmp_path, tmp_path_factory):
    import shutil

    import jupytext
    import nbformat
    import papermill

    # a store built by the real ingest and enrichment of a small sample world (shared by the session)
    db = tmp_path / "voila.duckdb"
    shutil.copy(ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")["db"], db)
    nb = jupytext.read(NOTEBOOK)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = tmp_path / "source.ipynb"
    nbformat.write(nb, source)
    served = tmp_path / "served"
    served.mkdir()
    papermill.execute_notebook(str(source), str(served / "patrol.ipynb"), prepare_only=True,
                               parameters={"db_path": str(db), "out_dir": str(tmp_path / "plan"),
                                           "knox_iterations": 99, "gi_permutations": 199})
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "patrol.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--ServerApp.allow_root=True", "--show_tracebacks=True"],
        cwd=served, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        _wait_for(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_patrol_notebook_renders_with_widgets_in_chromium(voila_page, chromium_path):
    from playwright.sync_api import sync_playwright

    outside, page_errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page()

        def route(request_route):
            url = request_route.request.url
            if url.startswith("http://127.0.0.1") or url.startswith("ws://127.0.0.1") or url.startswith("data:"):
                request_route.continue_()
            else:
                outside.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.goto(voila_page, timeout=180_000)
        # the notebook runs the backtest, the statistics and the patrol plan, then shows the HotspotExplorer
        page.wait_for_selector(".jupyter-widgets", timeout=240_000)
        text = page.inner_text("body")
        browser.close()
    assert "West Yorkshire" in text and "Backtest" in text and "naive" in text and "Traceback" not in text
    # Voila's own page template asks a CDN for Font Awesome icon stylesheets; blocked, the page still works
    # (icons only). Nothing else may leave the machine.
    assert all("@fortawesome/fontawesome-free" in url for url in outside), outside
    assert not page_errors, page_errors
