"""`workbench review due|decide|dispose|decisions` on a small resolved store: what is due as of a date, decisions
with who/when/why (a hostile reason shown and returned as plain text), disposal through the command line, and
one-line errors (never a traceback) for bad dates, unknown or disposed referrals and missing reasons."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tests.cli_helpers import invoke, one_line_error
from tests.linkage_helpers import fill_store, person_records
from workbench.store import open_store

HOSTILE = "<b>x</b> =cmd|' /C calc'!A0 '); DROP TABLE referrals;-- [bold red]loud[/bold red]"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from workbench.linkage.run import run_all

    db = tmp_path_factory.mktemp("review_cli") / "small.duckdb"
    with open_store(db) as store:
        fill_store(store, person_records(n_people=12, seed=4))       # received 2026-01-01, incidents in 2025
        store.con.execute("INSERT INTO referral_incidents (referral_id, incident_id) SELECT referral_id, "
                          "incident_id FROM person_mentions")
        store.con.execute("UPDATE referrals SET intelligence_assessment = 'E' WHERE referral_id = 2")
        run_all(store)
    return db


@pytest.fixture
def db(built, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(built, path)
    return path


def _json(capsys, *args):
    result = invoke(capsys, *args, "--json")
    assert result.exit_code == 0, result.err
    return json.loads(result.output)


def test_due_as_of_a_date(db, capsys):
    with open_store(db, read_only=True) as store:
        n = int(store.sql("SELECT count(*) AS n FROM referrals").n[0])
    assert _json(capsys, "review", "due", "--as-of", "2026-12-31", "--db", db)["due"] == []
    capped = _json(capsys, "review", "due", "--as-of", "2027-01-01", "--db", db)["due"]
    assert [r["referral_id"] for r in capped] == [2]                   # cap E: one year from receipt
    assert capped[0]["review_due"] == "2027-01-01" and "cap intelligence_assessment=E" in capped[0]["review_basis"]
    assert len(_json(capsys, "review", "due", "--as-of", "2031-12-31", "--db", db)["due"]) == 1
    every = _json(capsys, "review", "due", "--as-of", "2032-01-01", "--db", db)["due"]
    assert len(every) == n and {r["review_due"] for r in every} == {"2027-01-01", "2032-01-01"}
    with open_store(db, read_only=True) as store:       # written to the store, with the basis
        stored = store.sql("SELECT review_due, review_basis FROM referrals WHERE referral_id = 3")
    assert str(stored.review_due[0])[:10] == "2032-01-01" and stored.review_basis[0] == "group_3"
    table = invoke(capsys, "review", "due", "--as-of", "2032-01-01", "--limit", "3", "--db", db)
    assert table.exit_code == 0 and f"{n} referrals due" in table.output and "first 3 shown" in table.output


def test_decide_and_decisions_keep_a_hostile_reason_as_plain_text(db, capsys):
    made = _json(capsys, "review", "decide", "3", "--retain", "--why", HOSTILE, "--purpose", "MoPI review", "--db", db)
    assert made["decision"] == "retain" and made["next_review"] == (
        dt.date.today().replace(year=dt.date.today().year + 6).isoformat())
    rows = _json(capsys, "review", "decisions", "--db", db)
    assert rows[0]["why"] == HOSTILE and rows[0]["decided_by"] and rows[0]["decided_at"][:4].isdigit()
    shown = invoke(capsys, "review", "decisions", "--db", db)
    assert shown.exit_code == 0
    flat = " ".join(shown.output.split())
    assert "[bold red]loud" in flat.replace("│ ", "").replace(" │", "") or "[bold" in shown.output  # markup not applied
    assert "\x1b" not in shown.output
    with open_store(db, read_only=True) as store:
        assert store.sql("SELECT count(*) AS n FROM referrals").n[0] > 0
    # after a retain the next review is one period from the decision
    due = _json(capsys, "review", "due", "--as-of", "2032-01-01", "--db", db)["due"]
    assert 3 not in [r["referral_id"] for r in due]


def test_dispose_through_the_command_line(db, capsys):
    with open_store(db, read_only=True) as store:
        name = store.sql("SELECT full_name FROM person_mentions WHERE referral_id = 5").full_name[0]
        others = int(store.sql("SELECT count(*) AS n FROM person_mentions WHERE full_name = $n AND referral_id <> 5",
                               {"n": name}).n[0])
    one_line_error(invoke(capsys, "review", "dispose", "5", "--purpose", "MoPI review", "--db", db),
                   "referral 5 has no dispose decision")
    _json(capsys, "review", "decide", "5", "--dispose", "--why", "no further value", "--purpose", "MoPI", "--db", db)
    done = _json(capsys, "review", "dispose", "--purpose", "MoPI review", "--db", db)
    assert done["disposed"] == 1 and done["versions"] == [5] and done["counts"]["person_mentions"] == 1
    assert [r["entity"] for r in done["relinked"]] == ["person", "vehicle", "group"]
    with open_store(db, read_only=True) as store:
        assert store.sql("SELECT count(*) AS n FROM person_mentions WHERE full_name = $n",
                         {"n": name}).n[0] == others
        assert store.sql("SELECT count(*) AS n FROM referrals WHERE referral_id = 5").n[0] == 0
        why = store.sql("SELECT why, status FROM retention_decisions WHERE referral_id = 5")
    assert why.why.isna().all() and why.status.tolist() == ["disposed"]
    again = invoke(capsys, "review", "dispose", "5", "--purpose", "MoPI review", "--db", db)
    assert again.exit_code == 0 and "already disposed" in again.output
    one_line_error(invoke(capsys, "review", "decide", "5", "--retain", "--why", "x", "--purpose", "p", "--db", db),
                   "referral 5 was disposed")
    nothing = invoke(capsys, "review", "dispose", "--purpose", "MoPI review", "--db", db)
    assert nothing.exit_code == 0 and "nothing to dispose" in nothing.output


@pytest.mark.parametrize("args, needle", [
    (("due", "--as-of", "2032-13-01"), "is not a date"),
    (("due", "--as-of", "yesterday"), "is not a date"),
    (("dispose", "--as-of", "31/12/2031", "--purpose", "p"), "is not a date"),
    (("decide", "999999", "--retain", "--why", "x", "--purpose", "p"), "no referral with id 999999"),
    (("decide", "abc", "--retain", "--why", "x", "--purpose", "p"), "not a referral id"),
    (("decide", "0", "--retain", "--why", "x", "--purpose", "p"), "no referral with id 0"),
    (("decide", "3", "--retain", "--purpose", "p"), "--why is required"),
    (("decide", "3", "--retain", "--why", "x"), "--purpose is required"),
    (("decide", "3", "--retain", "--dispose", "--why", "x", "--purpose", "p"), "exactly one of"),
    (("decide", "3", "--why", "x", "--purpose", "p"), "exactly one of"),
    (("dispose", "999999", "--purpose", "p"), "no referral with id 999999"),
    (("dispose",), "--purpose is required"),
])
def test_bad_input_is_one_line(db, capsys, args, needle):
    one_line_error(invoke(capsys, "review", *args, "--db", db), needle)
