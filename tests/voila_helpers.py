"""Serve a notebook with Voila on 127.0.0.1 and open it in headless Debian chromium with nothing allowed off the
machine: any request to another address is refused and fails the test.

    from tests.voila_helpers import voila_app, offline_page      # voila_app is a pytest fixture

    def test_x(voila_app, chromium_path, tmp_path):
        url = voila_app(NOTEBOOKS / "dashboards" / "patrol_plan.py", parameters={"db_path": str(db)})
        with offline_page(chromium_path, url) as (page, seen):
            page.wait_for_selector(".jupyter-widgets", timeout=240_000)
            ...
        assert not seen.page_errors                              # seen.outside is checked on leaving the block

Voila runs with the "workbench" template (workbench/voila_template/, installed with its pinned Font Awesome by
`make assets`, scripts/fetch_voila_assets.py): every stylesheet, font and script of the page comes from Voila on
127.0.0.1. A notebook given as a jupytext script (or .ipynb) is parameterised with papermill (prepare_only: the
parameters cell is injected, nothing run) and served from a folder of its own; Voila runs it when the page is
opened.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from workbench import maps

TEMPLATE = "workbench"
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:", "blob:")
# (No plotly allowance: figures shown through widgets/plots.py draw in Voila without the "setData is not a function"
# page error plotly's renderer raised for a figure shown as a cell's own output; such an error now fails the test.)


def template_dir() -> Path:
    return Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates" / TEMPLATE


def require_template() -> Path:
    """The installed offline template, or a test failure saying how to install it."""
    folder = template_dir()
    fonts = folder / "static" / "fontawesome-free" / "webfonts"
    if not (folder / "index.html.j2").is_file() or not any(fonts.glob("*.woff2")):
        pytest.fail(f"the offline Voila template is not installed in {folder}: run make assets", pytrace=False)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(notebook: Path, served: Path, parameters: dict | None = None, name: str | None = None) -> Path:
    """Write `notebook` (a jupytext .py or an .ipynb) into `served` with papermill's parameters cell injected."""
    import jupytext
    import nbformat
    import papermill

    nb = jupytext.read(notebook) if notebook.suffix == ".py" else nbformat.read(notebook, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    served.mkdir(parents=True, exist_ok=True)
    source = served / f".{notebook.stem}.source.ipynb"
    nbformat.write(nb, source)
    target = served / f"{name or notebook.stem}.ipynb"
    papermill.execute_notebook(str(source), str(target), parameters=parameters or {}, prepare_only=True,
                               kernel_name="python3", progress_bar=False)
    source.unlink()
    return target


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 90) -> None:
    """Wait until voila listens (a GET would run the notebook in a kernel of its own, so only connect)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read()[-2000:] if proc.stdout else ""
            raise AssertionError(f"voila exited with {proc.returncode}: {out}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"voila did not listen on port {port}")


@contextmanager
def serve(notebook: Path, *, cwd: Path | None = None, extra_args=(), env: dict | None = None):
    """Voila serving one prepared .ipynb on a free 127.0.0.1 port; yields SimpleNamespace(url, port, proc, log).
    The log (Voila's output) is written to a file beside the notebook."""
    require_template()
    port = free_port()
    log_path = notebook.with_suffix(".voila.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", notebook.name, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         f"--template={TEMPLATE}", "--ServerApp.allow_root=True", "--show_tracebacks=True", *extra_args],
        cwd=cwd or notebook.parent, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, **(env or {})})
    try:
        wait_for_port(port, proc)
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", port=port, proc=proc, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@pytest.fixture
def voila_app(tmp_path):
    """voila_app(notebook, parameters=None, name=None, **serve_kw) -> URL of the notebook served by Voila (stopped
    when the test ends)."""
    from contextlib import ExitStack

    started = []
    with ExitStack() as stack:
        def start(notebook: Path, parameters: dict | None = None, name: str | None = None, **kw) -> str:
            started.append(notebook)
            served = tmp_path / f"voila_{len(started)}"
            prepared = prepare(Path(notebook), served, parameters, name)
            return stack.enter_context(serve(prepared, **kw)).url

        yield start


@contextmanager
def offline_page(chromium_path: str, url: str, *, viewport=(1400, 1000), timeout_ms: int = 240_000,
                 accept_downloads: bool = False, allowed_page_errors=()):
    """Open `url` in headless chromium with every request off 127.0.0.1 refused; yields (page, seen) where seen has
    outside (refused URLs), page_errors, console_errors and dialogs (dismissed). Leaving the block closes the
    browser and fails the test if anything was asked of another address. `allowed_page_errors`: substrings of
    page errors known to be harmless, kept out of seen.page_errors (none is known today)."""
    from playwright.sync_api import sync_playwright

    seen = SimpleNamespace(outside=[], page_errors=[], console_errors=[], dialogs=[], allowed_errors=[])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=maps.CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                          accept_downloads=accept_downloads)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)

            def route(r):
                if r.request.url.startswith(LOCAL_PREFIXES):
                    r.continue_()
                else:
                    seen.outside.append(r.request.url)
                    r.abort()

            def page_error(exc):
                message = str(exc)
                (seen.allowed_errors if any(a in message for a in allowed_page_errors) else seen.page_errors).append(
                    message)

            context.route("**/*", route)
            page.on("pageerror", page_error)
            page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
            page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
            page.goto(url, timeout=timeout_ms)
            yield page, seen
        finally:
            browser.close()
    assert not seen.outside, f"the page asked for {len(seen.outside)} address(es) off this machine: {seen.outside[:10]}"
