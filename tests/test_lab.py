"""`make lab`: JupyterLab with token authentication, on 127.0.0.1 only, printing the URL with the token."""
from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import REPO

STARTUP_S = 120          # bound on waiting for the server (2 shared cores); not an assertion on speed


def _lab_recipe(**variables) -> str:
    args = [f"{k}={v}" for k, v in variables.items()]
    out = subprocess.run(["make", "-n", "-B", "-o", ".venv/.installed", "lab", *args], cwd=REPO, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "MAKEFLAGS": ""})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_lab_recipe_keeps_a_token_and_binds_loopback():
    recipe = _lab_recipe()
    jupyter = [line for line in recipe.splitlines() if "jupyter lab" in line]
    assert jupyter, recipe
    assert not re.search(r"token\s*=\s*(''|\"\"|\s|$)", recipe, re.I | re.M), "an empty token turns authentication off"
    assert not re.search(r"password\s*=\s*(''|\"\")", recipe, re.I)
    assert re.search(r"--ip[ =]127\.0\.0\.1\b", recipe) and "0.0.0.0" not in recipe
    assert "JUPYTER_TOKEN=" in recipe                       # handed over in the environment ...
    assert "--IdentityProvider.token" not in recipe and "--ServerApp.token" not in recipe  # ... not in argv


def test_lab_token_file_is_private_and_stable(tmp_path):
    path = tmp_path / "tok"
    first = subprocess.run([str(REPO / ".venv/bin/python"), str(REPO / "scripts/lab_token.py"), str(path)],
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert len(token) >= 24 and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    again = subprocess.run([str(REPO / ".venv/bin/python"), str(REPO / "scripts/lab_token.py"), str(path)],
                           capture_output=True, text=True, timeout=60)
    assert again.stdout.strip() == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("\n")
    empty = subprocess.run([str(REPO / ".venv/bin/python"), str(REPO / "scripts/lab_token.py"), str(path)],
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode != 0 and "token" in empty.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_make_lab_refuses_requests_without_the_token(tmp_path):
    port = _free_port()
    token_file = tmp_path / "lab_token"
    log = tmp_path / "lab.log"
    env = {**os.environ, "MAKEFLAGS": "", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    env.pop("JUPYTER_TOKEN", None)
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"LAB_PORT={port}",
                                 f"LAB_TOKEN_FILE={token_file}"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not listen within {STARTUP_S}s:\n{log.read_text()}")
                time.sleep(0.5)
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert _get(f"{base}/api/contents") == 403
        assert _get(f"{base}/api/contents", token="wrong-" + token) == 403
        assert _get(f"{base}/api/contents", token=token) == 200
        assert f"http://127.0.0.1:{port}/lab?token={token}" in log.read_text()
        listening = [c for c in _listeners(proc.pid) if c.laddr.port == port]
        assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _listeners(pid: int):
    import psutil

    found = []
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            found += [c for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        except psutil.Error:
            pass
    return found
