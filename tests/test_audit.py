"""The audit log: the OS user comes from the process, rows are hash-chained, `workbench audit verify` finds an
edited, deleted or inserted row (tampering through a raw DuckDB connection, as an insider with the file would)."""
from __future__ import annotations

import json
import os
import pwd

import duckdb
import pytest

from tests.ingest_helpers import FIX, fresh_copy, template_store
from workbench.cli import main
from workbench.store import GENESIS_HASH, audit_row_hash, open_store, os_user, verify_audit


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """A store as `make demo` leaves one: migrated, a store directory and a referral extract ingested, and
    a few product exports audited (built once; each test tampers with its own copy)."""
    from workbench.ingest import ingest_file

    folder = tmp_path_factory.mktemp("audit")
    path = fresh_copy(template_store(folder), folder, "demo")
    with open_store(path) as store:
        ingest_file(store, FIX / "brightmart_clean.csv")
        store.audit("export", str(folder / "maps" / "forces.html"), {"bytes": 1234, "purpose": "briefing"})
        store.audit("hotspots-plan", str(folder / "plans" / "13"), {"force_code": "13", "cells": 15})
        rows = store.con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert rows >= 5
    return path


@pytest.fixture
def demo_like(demo_template, tmp_path):
    return fresh_copy(demo_template, tmp_path, "copy")


def _raw(path):
    return duckdb.connect(str(path))


def _verify(path, capsys, *extra):
    return run_cli(["audit", "verify", "--db", str(path), *extra], capsys)


# -- who ---------------------------------------------------------------------------------------------------
def test_os_user_comes_from_the_process_not_the_environment(monkeypatch, tmp_store):
    real = pwd.getpwuid(os.geteuid()).pw_name
    monkeypatch.setenv("LOGNAME", "mallory")
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LNAME", "mallory")
    monkeypatch.setenv("USERNAME", "mallory")
    assert os_user() == real
    tmp_store.audit("export", "x.csv", {})
    assert tmp_store.sql("SELECT os_user FROM audit_log WHERE action = 'export'").os_user.tolist() == [real]


def test_os_user_without_a_passwd_entry_is_the_uid(monkeypatch):
    import workbench.store as store_module

    def no_entry(uid):
        raise KeyError(uid)

    monkeypatch.setattr(store_module.pwd, "getpwuid", no_entry)
    monkeypatch.setenv("LOGNAME", "mallory")
    assert os_user() == f"uid-{os.geteuid()}"


# -- the chain ---------------------------------------------------------------------------------------------
def test_every_row_is_chained_to_the_one_before(demo_like):
    con = _raw(demo_like)
    rows = con.execute("SELECT seq, audit_id, logged_at, os_user, action, object, details, prev_hash, row_hash "
                       "FROM audit_log ORDER BY seq").fetchall()
    head = con.execute("SELECT seq, row_hash FROM audit_head").fetchall()
    con.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    prev = GENESIS_HASH
    for row in rows:
        assert row[7] == prev
        assert row[8] == audit_row_hash(prev, *row[:7])
        prev = row[8]
    assert head == [(len(rows), prev)]


def test_demo_like_store_verifies_and_prints_its_head(demo_like, capsys):
    code, out, err = _verify(demo_like, capsys)
    assert code == 0, err
    con = _raw(demo_like)
    head_seq, head_hash = con.execute("SELECT seq, row_hash FROM audit_head").fetchone()
    con.close()
    assert "intact" in out and head_hash in out and f"head seq {head_seq}" in out
    code, out, _ = _verify(demo_like, capsys, "--json")
    assert code == 0 and json.loads(out)["ok"] is True and json.loads(out)["head_hash"] == head_hash


def _bad(path, capsys, *extra):
    code, out, err = _verify(path, capsys, *extra)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and "NOT intact" in lines[0], (code, out, err)
    return lines[0]


def test_an_edited_row_fails(demo_like, capsys):
    con = _raw(demo_like)
    seq = con.execute("SELECT seq FROM audit_log WHERE action = 'export'").fetchone()[0]
    con.execute("UPDATE audit_log SET details = '{\"bytes\": 1234, \"purpose\": \"nothing to see\"}' WHERE seq = $s",
                {"s": seq})
    con.close()
    line = _bad(demo_like, capsys)
    assert f"seq {seq} " in line and "changed after it was written" in line


def test_an_edited_row_with_its_hash_recomputed_still_fails(demo_like, capsys):
    con = _raw(demo_like)
    row = con.execute("SELECT seq, audit_id, logged_at, os_user, action, object, details, prev_hash FROM audit_log "
                      "WHERE action = 'export'").fetchone()
    forged = audit_row_hash(row[7], row[0], row[1], row[2], "someone-else", *row[4:7])
    con.execute("UPDATE audit_log SET os_user = 'someone-else', row_hash = $h WHERE seq = $s", {"h": forged, "s": row[0]})
    con.close()
    line = _bad(demo_like, capsys)
    assert f"seq {row[0] + 1} " in line and "does not follow" in line


def test_a_deleted_row_fails(demo_like, capsys):
    con = _raw(demo_like)
    con.execute("DELETE FROM audit_log WHERE seq = 3")
    con.close()
    line = _bad(demo_like, capsys)
    assert "seq 4 " in line and "seq 3 before it missing" in line


def test_a_deleted_row_with_the_rest_renumbered_fails(demo_like, capsys):
    con = _raw(demo_like)
    con.execute("DELETE FROM audit_log WHERE seq = 3")
    con.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
    con.execute("UPDATE audit_head SET seq = seq - 1")
    con.close()
    line = _bad(demo_like, capsys)
    assert "seq 3 " in line and "does not follow" in line


def test_an_inserted_row_fails(demo_like, capsys):
    con = _raw(demo_like)
    con.execute("INSERT INTO audit_log (logged_at, os_user, action, object, details) VALUES "
                "(TIMESTAMP '2025-01-01 10:00:00', 'someone', 'export', 'fake.csv', '{}')")
    con.close()
    line = _bad(demo_like, capsys)
    assert "fake" not in line and "not part of the chain" in line and "export" in line


def test_an_inserted_row_made_to_look_chained_fails(demo_like, capsys):
    con = _raw(demo_like)
    prev = con.execute("SELECT row_hash FROM audit_log WHERE seq = 2").fetchone()[0]
    audit_id = con.execute("SELECT max(audit_id) + 100 FROM audit_log").fetchone()[0]
    from datetime import datetime

    at = datetime(2025, 1, 1, 10, 0, 0)
    forged = audit_row_hash(prev, 3, audit_id, at, "someone", "export", "fake.csv", "{}")
    con.execute("INSERT INTO audit_log (audit_id, logged_at, os_user, action, object, details, seq, prev_hash, "
                "row_hash) VALUES ($i, $t, 'someone', 'export', 'fake.csv', '{}', 3, $p, $h)",
                {"i": audit_id, "t": at, "p": prev, "h": forged})
    con.close()
    line = _bad(demo_like, capsys)
    assert "seq 3 appears twice" in line


def test_a_deleted_last_row_fails_and_an_anchor_catches_a_repaired_head(demo_like, capsys):
    code, out, _ = _verify(demo_like, capsys, "--json")
    anchor = json.loads(out)["head_hash"]
    con = _raw(demo_like)
    last = con.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    con.execute("DELETE FROM audit_log WHERE seq = $s", {"s": last})
    con.close()
    line = _bad(demo_like, capsys)
    assert f"ends at seq {last - 1}" in line and "deleted from the end" in line
    # an insider who also rewinds the head leaves a chain that is consistent inside the file ...
    con = _raw(demo_like)
    con.execute("UPDATE audit_head SET seq = $s, row_hash = (SELECT row_hash FROM audit_log WHERE seq = $s)",
                {"s": last - 1})
    con.close()
    assert _verify(demo_like, capsys)[0] == 0
    # ... which the head recorded outside the store exposes
    line = _bad(demo_like, capsys, "--anchor", anchor)
    assert anchor in line and "not in the chain" in line


def test_an_older_anchor_still_verifies_after_more_rows(demo_like, capsys):
    anchor = json.loads(_verify(demo_like, capsys, "--json")[1])["head_hash"]
    with open_store(demo_like) as store:
        store.audit("export", "later.csv", {})
    assert _verify(demo_like, capsys, "--anchor", anchor)[0] == 0
    assert _verify(demo_like, capsys, "--anchor", "f" * 64)[0] == 1


def test_audit_joins_the_callers_transaction(tmp_store):
    before = verify_audit(tmp_store.con)
    tmp_store.con.execute("BEGIN TRANSACTION")
    tmp_store.audit("ingest", "rolled-back.csv", {})
    tmp_store.con.execute("ROLLBACK")
    assert tmp_store.sql("SELECT count(*) AS n FROM audit_log WHERE object = 'rolled-back.csv'").n[0] == 0
    assert verify_audit(tmp_store.con)["head_hash"] == before["head_hash"]
    tmp_store.audit("ingest", "kept.csv", {})
    after = verify_audit(tmp_store.con)
    assert after["ok"] and after["head_seq"] == before["head_seq"] + 1


def test_migration_chains_rows_written_before_the_chain(tmp_path, capsys):
    path = tmp_path / "v4.duckdb"
    store = open_store(path, migrate=False)
    store.migrate(target=4)
    for i in range(3):
        store.audit("ingest", f"old-{i}.csv", {"i": i})
    old_ids = [r[0] for r in store.con.execute("SELECT audit_id FROM audit_log ORDER BY audit_id").fetchall()]
    store.close()
    with open_store(path) as upgraded:
        chained = upgraded.con.execute("SELECT audit_id, seq FROM audit_log ORDER BY seq").fetchall()
        assert [a for a, _ in chained][:len(old_ids)] == old_ids
        assert upgraded.sql("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1").action[0] == "migrate"
    assert _verify(path, capsys)[0] == 0
    con = _raw(path)
    con.execute("UPDATE audit_log SET object = 'old-9.csv' WHERE object = 'old-1.csv'")
    con.close()
    assert "changed after it was written" in _bad(path, capsys)


def test_read_only_store_records_nothing_but_audit_required_does(demo_like):
    with open_store(demo_like, read_only=True) as store:
        before = verify_audit(store.con)["head_seq"]
        store.audit("export", "silent.csv", {})
        assert verify_audit(store.con)["head_seq"] == before
        store.audit_required("export", "required.csv", {"purpose": "case 7"})
        assert store.read_only
        row = store.sql("SELECT seq, object FROM audit_log ORDER BY seq DESC LIMIT 1").iloc[0]
        assert row.object == "required.csv" and row.seq == before + 1
        assert verify_audit(store.con)["ok"]


def test_audit_list_shows_the_latest_rows(demo_like, capsys):
    code, out, _ = run_cli(["audit", "list", "--db", str(demo_like), "--json", "--limit", "2"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["action"] for r in rows] == ["hotspots-plan", "export"]
    assert rows[0]["seq"] > rows[1]["seq"] and rows[0]["details"]["force_code"] == "13"
    code, out, _ = run_cli(["audit", "list", "--db", str(demo_like), "--action", "ingest", "--json"], capsys)
    assert code == 0 and {r["action"] for r in json.loads(out)} == {"ingest"}
