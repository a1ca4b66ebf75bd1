"""Several people at once, with real processes: readers do not block readers; a writer or reader that meets a
lock waits (bounded) saying which process holds the store, then goes ahead or fails naming that PID; a
read-only store (as the notebooks hold it) switches to a write connection only while it writes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench.errors import ConfigError, StoreError
from workbench.store import lock_wait_seconds, open_store

WORKBENCH = Path(sys.executable).with_name("workbench")

HOLDER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
    print("holding", flush=True)
    sys.stdin.readline()          # hold the store until the test says so
    con.close()
""")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("conc") / "template.duckdb"
    open_store(path).close()
    return path


@pytest.fixture
def db(template, tmp_path):
    import shutil

    target = tmp_path / "shared.duckdb"
    shutil.copy(template, target)
    return target


class Holder:
    """Another process holding the store open (read-only or read-write) until released."""

    def __init__(self, db: Path, mode: str):
        script = db.parent / "holder_marker.py"
        script.write_text(HOLDER)
        self.proc = subprocess.Popen([sys.executable, str(script), str(db), mode],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "holding"
        self.pid = self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


@pytest.fixture
def hold(db):
    holders = []

    def start(mode: str) -> Holder:
        holders.append(Holder(db, mode))
        return holders[-1]

    yield start
    for h in holders:
        h.release()


def _workbench(args, wait: str) -> subprocess.Popen:
    env = {**os.environ, "WORKBENCH_LOCK_WAIT": wait}
    return subprocess.Popen([str(WORKBENCH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _finish(proc) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_two_readers_at_once(db, hold):
    holder = hold("read")
    code, out, err = _finish(_workbench(["db", "info", "--db", str(db), "--json"], wait="0"))
    assert code == 0 and "waiting" not in err, err
    with open_store(db, read_only=True, wait=0) as store:  # and a third, in this process
        assert store.schema_version() > 0
    holder.release()


@pytest.mark.parametrize("verb", [["db", "init"], ["audit", "verify"]], ids=["writer", "reader"])
def test_waits_for_a_writer_then_goes_ahead(db, hold, verb):
    holder = hold("write")
    proc = _workbench([*verb, "--db", str(db)], wait="120")
    waiting = proc.stderr.readline()  # blocks until the waiting process has said who holds the store
    assert waiting.startswith(f"waiting for {db}: held by PID {holder.pid} (") and "holder_marker.py" in waiting
    holder.release()
    code, out, err = _finish(proc)
    assert code == 0, err
    assert "waiting" not in err  # one message, not one per retry


def test_writer_gives_up_naming_the_holder(db, hold):
    holder = hold("read")  # a notebook holding the store read-only keeps writers out
    code, out, err = _finish(_workbench(["db", "init", "--db", str(db)], wait="1"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 2, err
    assert lines[0].startswith(f"waiting for {db}: held by PID {holder.pid}")
    assert lines[1].startswith("error: ") and f"in use by PID {holder.pid}" in lines[1] and "holder_marker.py" in lines[1]
    assert "Traceback" not in err


def test_reader_gives_up_naming_the_holder_in_process(db, hold):
    holder = hold("write")
    with pytest.raises(StoreError, match=f"in use by PID {holder.pid} "):
        open_store(db, read_only=True, wait=0.3)


def test_read_only_store_writes_briefly_and_lets_others_in_between(db):
    """The notebook pattern: hold the store read-only, write inside store.writing(), read-only again after."""
    store = open_store(db, read_only=True, wait=0)
    try:
        code, _, err = _finish(_workbench(["db", "info", "--db", str(db)], wait="0"))
        assert code == 0, err  # another reader meanwhile
        with store.writing(wait=0):
            assert not store.read_only
            store.audit("export", "notebook.csv", {"purpose": "test"})
            code, _, err = _finish(_workbench(["db", "info", "--db", str(db)], wait="0"))
            assert code == 2 and f"PID {os.getpid()}" in err  # the writer excludes others while it writes
        assert store.read_only
        code, _, err = _finish(_workbench(["audit", "verify", "--db", str(db)], wait="0"))
        assert code == 0, err
        assert store.sql("SELECT count(*) AS n FROM audit_log WHERE object = 'notebook.csv'").n[0] == 1
    finally:
        store.close()


def test_prepare_creates_a_missing_store_then_holds_it_read_only(tmp_path):
    with open_store(tmp_path / "new.duckdb", read_only=True, prepare=True) as store:
        assert store.read_only and store.schema_version() > 0
        code, _, err = _finish(_workbench(["db", "info", "--db", str(tmp_path / "new.duckdb")], wait="0"))
        assert code == 0, err


def test_lock_wait_setting(monkeypatch):
    monkeypatch.setenv("WORKBENCH_LOCK_WAIT", "2.5")
    assert lock_wait_seconds() == 2.5
    monkeypatch.delenv("WORKBENCH_LOCK_WAIT")
    assert lock_wait_seconds() == 30
    for bad in ("soon", "-1"):
        monkeypatch.setenv("WORKBENCH_LOCK_WAIT", bad)
        with pytest.raises(ConfigError, match="WORKBENCH_LOCK_WAIT"):
            lock_wait_seconds()


# Notebooks that open no store themselves: 00 reads it through setup_check.run (read-only, never migrating:
# tests/test_start_here.py); 06 runs the training demonstration, which holds only its own training store
# (training mode refuses real ones: tests/test_training_demo.py).
STORE_DELEGATED = {"00_start_here.py": "run", "06_training_demo.py": "demo_page"}


def test_notebooks_hold_the_store_read_only():
    """The curated notebooks open the store read-only (others keep reading and writing it while a notebook is
    open) and write only inside `store.writing()`."""
    import ast

    notebooks = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))
    assert len(notebooks) >= 2
    for script in notebooks:
        tree = ast.parse(script.read_text(encoding="utf-8"))
        opens = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "open_store"]
        if script.name in STORE_DELEGATED:   # the notebook hands the store to one library entry point
            called = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(tree)
                      if isinstance(n, ast.Call)}
            assert not opens and STORE_DELEGATED[script.name] in called, script.name
        else:
            assert opens, script.name
        for call in opens:
            flags = {k.arg: getattr(k.value, "value", None) for k in call.keywords}
            assert flags.get("read_only") is True, (script.name, call.lineno)
        writes = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                  and getattr(n.func, "id", getattr(n.func, "attr", None)) in ("ingest_paths", "audit_export")]
        inside = {id(c) for w in ast.walk(tree) if isinstance(w, ast.With)
                  and any("writing" in ast.unparse(i.context_expr) for i in w.items) for c in ast.walk(w)}
        assert all(id(w) in inside for w in writes), script.name


def test_widgets_on_a_read_only_store_write_briefly(tmp_path):
    """The ingest browser exports from a store held read-only (notebook 02 covers the explorer's cube build)."""
    import shutil

    from tests.ingest_helpers import BAD, FIX
    from widgets.ingest_browser import IngestBrowser
    from workbench.ingest import ingest_paths

    extracts = tmp_path / "extracts"
    extracts.mkdir()
    shutil.copy(FIX / "store_directory.csv", extracts / "store_directory.csv")
    shutil.copy(BAD / "offender_rows_partly_bad.csv", extracts / "pillbox_offender_report.csv")
    db = tmp_path / "w.duckdb"
    with open_store(db) as store:
        ingest_paths(store, [extracts])
    with open_store(db, read_only=True) as store:
        browser = IngestBrowser(store, export_dir=str(tmp_path / "q"))
        result = browser.export()
        assert result and Path(result["file"]).exists() and store.read_only
        assert store.sql("SELECT count(*) AS n FROM audit_log WHERE action = 'quarantine-export'").n[0] == 1
