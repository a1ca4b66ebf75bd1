"""`workbench groups list|show`: read-only, --json, one-line errors, raw names kept out of terminal markup."""
from __future__ import annotations

import json

from tests.cli_helpers import invoke as _invoke, one_line_error as _one_line_error
from tests.test_linkage_groups import SCRIPT, crew_store
from workbench.linkage.groups import find_groups
from workbench.store import open_store




def test_groups_list_and_show(tmp_path, capsys):
    db = tmp_path / "crews.duckdb"
    with crew_store(db) as store:
        find_groups(store)
        audits = store.sql("SELECT count(*) AS n FROM audit_log").n[0]
    listed = json.loads(_invoke(capsys, "groups", "list", "--db", db, "--json").output)
    assert [g["members"] for g in listed] in ([6, 6, 4], [6, 5, 5])   # the broker joins north or south
    assert all(g["group_id"].startswith("GR") for g in listed)
    text = _invoke(capsys, "groups", "list", "--db", db)
    assert text.exit_code == 0 and listed[0]["group_id"] in text.output
    north = next(g["group_id"] for g in listed if "62" not in g["forces"] and "13" in g["forces"])
    shown = json.loads(_invoke(capsys, "groups", "show", north, "--db", db, "--json").output)
    assert set(shown) == {"summary", "members", "vehicles", "tactics", "events"}
    assert SCRIPT in {m["display_name"] for m in shown["members"]}           # raw in the data
    assert shown["vehicles"][0]["vrm"] == "VN" and shown["events"][0]["event"] == "new"
    plain = _invoke(capsys, "groups", "show", north, "--db", db)
    assert plain.exit_code == 0 and "RPN1" in plain.output and "FOIL" in plain.output
    with open_store(db, read_only=True) as store:                     # reading wrote nothing, not even audit
        assert store.sql("SELECT count(*) AS n FROM audit_log").n[0] == audits


def test_groups_errors(tmp_path, capsys):
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    empty = _invoke(capsys, "groups", "list", "--db", db)
    assert empty.exit_code == 0 and "no groups" in empty.output
    assert json.loads(_invoke(capsys, "groups", "list", "--db", db, "--json").output) == []
    _one_line_error(_invoke(capsys, "groups", "show", "GR99999", "--db", db), "no group 'GR99999'")
    _one_line_error(_invoke(capsys, "groups", "show", "'; DROP TABLE groups; --", "--db", db), "no group")
    _one_line_error(_invoke(capsys, "groups", "list", "--db", tmp_path / "missing.duckdb"), "does not exist")
    assert not (tmp_path / "missing.duckdb").exists()
    helped = _invoke(capsys, "groups", "show", "--help")
    assert helped.exit_code == 0 and "group_id" in helped.output and "--json" in helped.output
