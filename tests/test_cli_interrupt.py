"""Ctrl-C: a real `workbench` process sent SIGINT during a long step prints "interrupted" and exits 130, with no
traceback and not click's "Aborted!" (exit 1), whether the signal lands in Python or inside a DuckDB query."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WORKBENCH = Path(sys.executable).with_name("workbench")


def _start(args, cwd):
    # a shell may start background jobs with SIGINT ignored; give the child Python's normal Ctrl-C
    return subprocess.Popen([str(WORKBENCH), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            env={**os.environ, "WORKBENCH_DEBUG": ""})


def _wait_for(condition, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the long step never started"
        time.sleep(0.05)


def _interrupt(proc):
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _assert_interrupted(code, err):
    assert code == 130, (code, err)
    assert "interrupted" in err.splitlines()
    assert "Traceback" not in err and "Aborted" not in err and "internal error" not in err, err


def test_ctrl_c_during_sample_generation(tmp_path):
    out = tmp_path / "world"
    proc = _start(["sample", "--scale", "2", "--out", str(out)], tmp_path)
    _wait_for(lambda: (out / "extracts").exists(), proc)
    time.sleep(0.5)
    _assert_interrupted(*_interrupt(proc)[::2])


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    out = tmp_path_factory.mktemp("intr") / "world"
    done = subprocess.run([str(WORKBENCH), "sample", "--scale", "0.4", "--out", str(out)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return out


def test_ctrl_c_during_ingest_leaves_a_sound_store(small_world, tmp_path):
    db = tmp_path / "s.duckdb"
    proc = _start(["ingest", str(small_world / "extracts"), "--db", str(db)], tmp_path)
    _wait_for(lambda: db.exists(), proc)
    time.sleep(1.5)  # into the batches: the signal lands in Python or inside a DuckDB statement
    _assert_interrupted(*_interrupt(proc)[::2])
    verify = subprocess.run([str(WORKBENCH), "audit", "verify", "--db", str(db)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    info = subprocess.run([str(WORKBENCH), "db", "info", "--db", str(db)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr


def test_ctrl_c_in_process_is_interrupted_not_aborted(monkeypatch, capsys):
    """The same through main(): a KeyboardInterrupt that click would turn into Abort, and a library error
    raised after the Ctrl-C flag was set (as DuckDB's "Query interrupted" is)."""
    import workbench.cli as cli
    from workbench.commands import store_cmds

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_cmds, "open_store", interrupted)
    assert cli.main(["db", "init", "--db", "x.duckdb"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"

    def query_interrupted(*args, **kwargs):
        try:
            cli._on_sigint(signal.SIGINT, None)
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None

    monkeypatch.setattr(store_cmds, "open_store", query_interrupted)
    assert cli.main(["db", "init", "--db", "x.duckdb"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    assert signal.getsignal(signal.SIGINT) is not cli._on_sigint  # the handler is put back
