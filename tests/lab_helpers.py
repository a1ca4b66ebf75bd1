"""A real JupyterLab server (token, 127.0.0.1, a free port, its own config) and the Playwright steps an analyst
takes in it: open a notebook, Run All from the menu, wait for the kernel, read what was drawn."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

STARTUP_S = 120             # bounds on waiting (2 shared cores); not assertions on speed
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")

# user settings of the test's own JupyterLab: no news or update checks (they would ask jupyter.org), and every
# cell kept in the page (JupyterLab 4 windows long notebooks: cells out of view are not in the DOM)
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running server: base URL, token, and REST calls with the token."""

    def __init__(self, base: str, token: str, root: Path, log: Path):
        self.base, self.token, self.root, self.log = base, token, root, log

    def api(self, path: str, method: str = "GET", token: str | None = "") -> tuple[int, object]:
        token = self.token if token == "" else token
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         headers={"Authorization": f"token {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return response.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            return exc.code, None

    def url(self, notebook: str) -> str:
        # ?reset: a fresh workspace (only this notebook open); the token logs the browser in (a cookie)
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        _, kernels = self.api("/api/kernels")
        for kernel in kernels or []:
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")


@contextmanager
def jupyterlab(root: Path, home: Path, env: dict | None = None):
    """JupyterLab serving `root` on 127.0.0.1 with a random token, config/data/runtime under `home` (the user's
    own settings and workspaces are not touched); `env` reaches the server and its kernels."""
    port, token = free_port(), secrets.token_urlsafe(24)
    settings = home / "config" / "lab" / "user-settings"
    for name, value in USER_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    log = home / "lab.log"
    full_env = {**os.environ, **(env or {}), "JUPYTER_TOKEN": token, "JUPYTER_CONFIG_DIR": str(home / "config"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    full_env.pop("JUPYTER_DATA_DIR", None)
    args = [sys.executable, "-m", "jupyterlab", "--ip", "127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            "--no-browser", "--allow-root", f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    with open(log, "w") as out:
        proc = subprocess.Popen(args, cwd=root, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, f"JupyterLab exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                if lab.api("/api/status")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"JupyterLab did not answer within {STARTUP_S}s:\n{log.read_text()}"
            time.sleep(0.5)
        yield lab
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)        # the server and the kernels it started (its own group)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass


def offline_page(browser, seen: dict, viewport=(1400, 1000)):
    """A page whose every request off 127.0.0.1 is refused and recorded in seen['outside']; page errors are
    recorded in seen['page_errors']."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})

    def route(request_route):
        url = request_route.request.url
        if url.startswith(LOCAL):
            request_route.continue_()
        else:
            seen["outside"].append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("websocket", lambda ws: None if ws.url.startswith("ws://127.0.0.1") else seen["outside"].append(ws.url))
    page.on("pageerror", lambda exc: seen["page_errors"].append(f"{exc.message}\n{(exc.stack or '')[:800]}"))
    return page


# Page errors known to come from a third-party widget's own code while what it draws is drawn (each with the check
# that proves it drawn): ipysigma 0.24.6 (the network explorer's graph) asks ipywidgets 8's manager for a child view
# of a model it does not have, once per graph drawn; the graph itself renders (tests check its canvas).
IPYSIGMA_CHILD_VIEW = ("reading 'then'", "SigmaView.create_child_view")


def unexplained(errors: list[str], known: tuple[tuple[str, ...], ...] = ()) -> list[str]:
    """The page errors not matching every part of one of the `known` signatures."""
    return [e for e in errors if not any(all(part in e for part in sig) for sig in known)]


def open_notebook(page, lab: Lab, name: str, timeout_ms: int = 120_000) -> None:
    """Open the notebook and wait until JupyterLab has started its kernel (a session for this path) and the
    kernel is idle. (Before its kernel is up the toolbar already reads "idle"; Run All then asks for a kernel.)"""
    page.goto(lab.url(name), timeout=timeout_ms)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        _, sessions = lab.api("/api/sessions")
        mine = [s for s in sessions or [] if s.get("path") == name and s.get("kernel")]
        if mine and mine[0]["kernel"].get("execution_state") == "idle":
            break
        assert time.monotonic() < deadline, f"no idle kernel for {name}: {sessions}"
        page.wait_for_timeout(500)
    wait_kernel_idle(page, timeout_ms)
    assert not page.query_selector(".jp-Dialog"), page.inner_text(".jp-Dialog")


def wait_kernel_idle(page, timeout_ms: int) -> None:
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           state="attached", timeout=timeout_ms)


def run_all(page, timeout_ms: int) -> None:
    """Run > Run All Cells from the menu bar, then wait until every code cell has run (or a cell raised and
    the rest were left) and the kernel is idle."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
            .map(p => p.textContent.trim());
        if (!prompts.length || prompts.some(p => p.includes('*'))) return false;
        const failed = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) "
            + ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
        return prompts.every(p => /\\[\\d+\\]/.test(p)) || (failed && failed.textContent.includes('Traceback'));
    }""", timeout=timeout_ms, polling=500)
    wait_kernel_idle(page, timeout_ms)


def error_outputs(page) -> list[str]:
    """Text of stderr outputs that carry a traceback or an error, and of widgets that failed to display."""
    return page.evaluate("""() => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const bad = [...panel.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
            .map(o => o.innerText).filter(t => t.includes('Traceback') || /Error\\b/.test(t));
        const widgets = [...panel.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)
            .filter(t => t.includes('Error displaying widget') || t.includes('Failed to load model class'));
        return bad.concat(widgets);
    }""")


def stderr_outputs(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) "
        + ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")].map(o => o.innerText)""")


def output_mime_types(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
        + '.jp-OutputArea-output')].map(o => o.getAttribute('data-mime-type'))""")


def outputs_html(page) -> str:
    """The notebook's whole drawn output (to compare before and after an interaction)."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
        + '.jp-OutputArea-output')].map(o => o.innerHTML).join('\\n')""")
