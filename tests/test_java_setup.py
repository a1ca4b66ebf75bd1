"""Java for the Spark linkage backend: present at the version pyspark needs, installed by the project's own setup
(`make java`, run by `make test`), and scripts/install_java.sh decides right without touching the network.

Like tests/test_fresh_machine.py for the browser: a machine without Java fails here with one line naming the fix.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_fresh_machine import _closure, _make_database
from workbench.linkage import spark_backend

SCRIPT = REPO / "scripts" / "install_java.sh"


def test_java_pyspark_needs_is_installed():
    problem = spark_backend.spark_available()
    if problem:
        pytest.fail(problem, pytrace=False)
    assert spark_backend.java_major() >= spark_backend.JAVA_MIN == 17


def test_make_test_installs_java_through_the_script():
    prereqs, recipes = _make_database()
    assert "java" in _closure(prereqs, "test")
    assert any("scripts/install_java.sh" in line for line in recipes["java"])


# -- java_major / java_problem on fake javas ----------------------------------------------------------------
def _fake_java(tmp_path: Path, version_line: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("line, major", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21.0.2" 2024-01-16', 21),
    ('java version "1.8.0_402"', 8),
    ('openjdk version "11.0.22" 2024-01-16', 11),
])
def test_java_major_reads_the_version(tmp_path, line, major):
    assert spark_backend.java_major(str(_fake_java(tmp_path, line) / "java")) == major


def test_an_old_or_missing_java_is_one_line_naming_make_java(tmp_path, monkeypatch):
    bin_dir = _fake_java(tmp_path, 'openjdk version "11.0.22" 2024-01-16')
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    problem = spark_backend.java_problem()
    assert "Java 11" in problem and "make java" in problem and "\n" not in problem
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    problem = spark_backend.java_problem()
    assert problem.startswith("no java") and "make java" in problem and "\n" not in problem
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))                 # JAVA_HOME first, as pyspark's launcher
    assert spark_backend.java_problem() is not None and "Java 11" in spark_backend.java_problem()


# -- scripts/install_java.sh with fake java and apt-get (no network, nothing installed) --------------------
def _run_script(tmp_path: Path, java_line: str | None, apt_ok: bool, ci: bool) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if java_line:
        _fake_java(tmp_path, java_line)
    log = tmp_path / "apt.log"
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\nexit {0 if apt_ok else 100}\n")
    apt.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    if ci:
        env["CI"] = "true"
    # /usr/bin has the real java: hide it behind a fake that reports no version when java_line is None
    if not java_line:
        (bin_dir / "java").write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / "java").chmod(0o755)
    return subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0, reason="the script's install path runs apt-get directly only as root")
def test_install_script_leaves_a_good_java_alone(tmp_path):
    out = _run_script(tmp_path, 'openjdk version "17.0.15" 2025-04-15', apt_ok=False, ci=True)
    assert out.returncode == 0 and not (tmp_path / "apt.log").exists(), out.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the script's install path runs apt-get directly only as root")
def test_install_script_installs_when_java_is_too_old_and_fails_ci_in_one_line(tmp_path):
    out = _run_script(tmp_path, 'openjdk version "11.0.22" 2024-01-16', apt_ok=False, ci=True)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Java 17+ not installed" in lines[0] and "apt-get update failed" in lines[0]
    assert "update" in (tmp_path / "apt.log").read_text()
    # outside CI the same failure is a warning and the build goes on (DuckDB stays the default backend)
    out = _run_script(tmp_path, None, apt_ok=False, ci=False)
    assert out.returncode == 0 and "warning: Java 17+ not installed" in out.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the script's install path runs apt-get directly only as root")
def test_install_script_asks_apt_for_openjdk_17_headless(tmp_path):
    out = _run_script(tmp_path, 'openjdk version "11.0.22" 2024-01-16', apt_ok=True, ci=True)
    calls = (tmp_path / "apt.log").read_text()
    assert "install -y -qq openjdk-17-jre-headless" in calls
    # apt "succeeded" but the java on PATH is still 11: the script says so instead of claiming success
    assert out.returncode == 1 and "no java 17+ is on PATH" in out.stderr
