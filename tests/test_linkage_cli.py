"""`workbench link records|run|status|decide|explain`, and resolution over a store: decisions stored, audited and
re-applied (a rejected pair stays apart even through a third record), ids stable across runs with merges and
splits recorded, one-line errors for unknown ids and bad files, formula-safe CSV out, an empty store."""
from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime

import pandas as pd
import pytest

from tests.cli_helpers import invoke as _invoke, one_line_error as _one_line_error
from tests.linkage_helpers import fill_store, person_records
from workbench.errors import WorkbenchError
from workbench.linkage import run as lrun
from workbench.store import open_store



# -- link records ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def records_csv(tmp_path_factory):
    frame = person_records(n_people=30, seed=8)
    extra = pd.DataFrame([
        {"record_id": "X1", "forename": "=cmd|' /C calc'!A0", "surname": "<script>alert(1)</script>", "dob": None,
         "lat": 52.0, "lon": -1.0, "seen_at": datetime(2025, 1, 1), "truth": "X1"},
        {"record_id": "=HYPERLINK(\"x\")", "forename": "'); DROP TABLE person_links;--", "surname": "J",
         "dob": "1850-01-01", "lat": 52.0, "lon": -1.0, "seen_at": datetime(2025, 1, 1), "truth": "X2"}])
    frame = pd.concat([frame, extra], ignore_index=True)
    path = tmp_path_factory.mktemp("records") / "nominals.csv"
    frame.rename(columns={"forename": "First", "surname": "Last", "dob": "DOB"}).to_csv(path, index=False)
    return path, frame


def test_link_records_csv_out_formula_safe(records_csv, tmp_path, capsys):
    path, frame = records_csv
    out = tmp_path / "clusters.csv"
    result = _invoke(capsys, "link", "records", path, "--id-column", "record_id", "--columns",
                     "forename=First,surname=Last,dob=DOB,latitude=lat,longitude=lon,seen_at=seen_at", "--out", out)
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r for r in rows[0]] == ["record_id", "cluster_id", "match_weight", "joined_by"]
    assert len(rows) == len(frame)
    ids = {r["record_id"] for r in rows}
    assert "'=HYPERLINK(\"x\")" in ids and "=HYPERLINK(\"x\")" not in ids     # formula-safe
    clusters = {r["cluster_id"] for r in rows}
    assert len(clusters) < len(rows)
    truth = dict(zip(frame.record_id, frame.truth))
    linked = [r for r in rows if r["joined_by"] == "model"]
    assert linked and all(r["match_weight"] not in ("", None) for r in linked)
    by_cluster = {}
    for r in rows:
        by_cluster.setdefault(r["cluster_id"], set()).add(truth.get(r["record_id"].lstrip("'")))
    assert sum(len(v) > 1 for v in by_cluster.values()) <= 1                  # (nearly) no cluster mixes people


def test_link_records_parquet_and_guessed_columns(records_csv, tmp_path, capsys):
    _, frame = records_csv
    parquet = tmp_path / "records.parquet"
    frame.rename(columns={"forename": "first_name", "surname": "last_name"}).drop(columns=["seen_at"]) \
        .to_parquet(parquet)
    out = tmp_path / "out.jsonl"
    result = _invoke(capsys, "link", "records", parquet, "--id-column", "record_id", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["roles"] == {"forename": "first_name", "surname": "last_name", "dob": "dob"}
    assert summary["records"] == len(frame) and len(out.read_text().splitlines()) == len(frame)


@pytest.mark.parametrize("content, suffix, needle", [
    ("", ".csv", "empty"),
    ("record_id,First\n", ".csv", "no records"),
    ("not parquet at all", ".parquet", "cannot be read"),
    ("a,b\n1,2\n", ".txt", "no person columns"),
])
def test_link_records_bad_files(tmp_path, content, suffix, needle, capsys):
    path = tmp_path / f"in{suffix}"
    path.write_text(content)
    _one_line_error(_invoke(capsys, "link", "records", path, "--id-column", "record_id", "--out", tmp_path / "o.csv"), needle)


def test_link_records_bad_options(records_csv, tmp_path, capsys):
    path, _ = records_csv
    _one_line_error(_invoke(capsys, "link", "records", path, "--id-column", "nope", "--out", tmp_path / "o.csv"),
                    "no id column")
    _one_line_error(_invoke(capsys, "link", "records", path, "--id-column", "record_id", "--columns", "shoe=First",
                            "--out", tmp_path / "o.csv"), "unknown role")
    _one_line_error(_invoke(capsys, "link", "records", path, "--id-column", "record_id", "--out", tmp_path / "o.pdf"), "pdf")
    _one_line_error(_invoke(capsys, "link", "records", tmp_path / "missing.csv", "--id-column", "x", "--out",
                            tmp_path / "o.csv"), "no such file")


# -- over a store ------------------------------------------------------------------------------------------
@pytest.fixture
def filled_store(tmp_path):
    people = person_records(n_people=25, seed=21)
    db = tmp_path / "link.duckdb"
    vehicles = pd.DataFrame([
        {"record_id": "V1", "vrm": "AE71 USM", "make": "Citroen Berlingo", "colour": "red", "lat": 53.80, "lon": -1.55,
         "seen_at": datetime(2025, 3, 1, 10, 0)},
        {"record_id": "V2", "vrm": "AE71USM", "make": "Renault Clio", "colour": "blue", "lat": 51.50, "lon": -0.12,
         "seen_at": datetime(2025, 3, 1, 10, 45)},
        {"record_id": "V3", "vrm": "ae71 usm", "make": None, "colour": None, "lat": 53.79, "lon": -1.54,
         "seen_at": datetime(2025, 3, 4, 10, 0)}])
    with open_store(db) as store:
        ids = fill_store(store, people, vehicles)
    return db, people, ids


def _links(db):
    with open_store(db, read_only=True) as store:
        return dict(store.sql("SELECT mention_id, person_id FROM person_links").itertuples(index=False))


def test_run_status_explain_and_decisions(filled_store, capsys):
    db, people, ids = filled_store
    result = _invoke(capsys, "link", "run", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    runs = {r["entity"]: r for r in json.loads(result.output)}
    assert runs["person"]["records"] == len(people) and runs["vehicle"]["records"] == 3
    assert runs["vehicle"]["flags"] >= 2
    links = _links(db)
    by_truth = people.groupby("truth").record_id.apply(list)
    multi = [recs for recs in by_truth if len(recs) >= 3 and len({links[ids[r]] for r in recs}) == 1]
    a, b, c = (ids[r] for r in multi[0][:3])
    assert links[a] == links[b] == links[c]

    status = json.loads(_invoke(capsys, "link", "status", "--db", db, "--json").output)
    assert {s["entity"] for s in status} == {"person", "vehicle", "group"}

    explained = _invoke(capsys, "link", "explain", a, b, "--db", db, "--json")
    assert explained.exit_code == 0, explained.output
    table = json.loads(explained.output)
    assert table[0]["comparison"] == "prior" and table[-1]["comparison"] == "total"

    # reject a-b: after the next run a and b are apart although c links strongly to both (third record)
    decided = _invoke(capsys, "link", "decide", "--reject", a, b, "--why", "different tattoos on CCTV", "--db", db)
    assert decided.exit_code == 0, decided.output
    assert _invoke(capsys, "link", "run", "--db", db).exit_code == 0
    links = _links(db)
    assert links[a] != links[b]
    with open_store(db, read_only=True) as store:
        row = store.sql("SELECT decision, why, os_user, decided_at FROM link_decisions").iloc[0]
        audit = store.sql("SELECT action, details FROM audit_log WHERE action = 'link-decision'")
        events = store.sql("SELECT event FROM linkage_events WHERE run_id = (SELECT max(run_id) FROM linkage_runs "
                           "WHERE entity = 'person')")
    assert row.decision == "reject" and row.why == "different tattoos on CCTV" and row.os_user
    # the reason stays in link_decisions (where disposal reaches it); the append-only audit keeps only its hash
    logged = json.loads(audit.details.iloc[0])
    assert len(audit) == 1 and "different tattoos" not in audit.details.iloc[0]
    assert logged["why_sha256"] == hashlib.sha256(b"different tattoos on CCTV").hexdigest()
    assert "split" in set(events.event)

    # contradictions and bad decisions: one line each
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", a, b, "--why", "x", "--db", db), "rejected")
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", a, 999999999, "--why", "x", "--db", db), "999999999")
    _one_line_error(_invoke(capsys, "link", "decide", "--reject", "abc", b, "--why", "x", "--db", db), "not a mention id")
    _one_line_error(_invoke(capsys, "link", "decide", "--reject", a, "--why", "x", "--db", db), "two mention ids")
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", a, ids["V1"], "--why", "x", "--db", db), "vehicle")
    _one_line_error(_invoke(capsys, "link", "explain", a, "12345678901234567890", "--db", db), "no mention")
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", a, b, "--why", "  ", "--db", db), "reason")


def test_confirmed_pair_links_and_ids_are_stable(filled_store):
    db, people, ids = filled_store
    with open_store(db) as store:
        lrun.run_persons(store)
    before = _links(db)
    # two mentions of different people, confirmed as one by an analyst
    truths = people.groupby("truth").record_id.first()
    a, b = ids[truths.iloc[0]], ids[truths.iloc[1]]
    assert before[a] != before[b]
    with open_store(db) as store:
        lrun.decide(store, "confirm", a, b, "same person: custody photo")
        # new data arrives: more mentions of the same people
        more = person_records(n_people=25, seed=21).assign(record_id=lambda f: "N" + f.record_id).head(20)
        fill_store(store, more, start_id=5000)
        lrun.run_persons(store)
    after = _links(db)
    assert after[a] == after[b]
    kept = [m for m in before if m not in (a, b) and after[m] == before[m]]
    assert len(kept) >= 0.9 * (len(before) - 2)                 # nearly everyone keeps their id
    with open_store(db, read_only=True) as store:
        merged = store.sql("SELECT entity_id, other_ids FROM linkage_events WHERE event = 'merge'")
        statuses = store.sql("SELECT status, merged_into FROM resolved_persons WHERE status = 'merged'")
    assert len(merged) >= 1 and len(statuses) >= 1
    assert {before[a], before[b]} & {after[a]}


def test_third_record_rejected_through_the_store(tmp_path):
    """Three records of one name and DOB: rejecting the first two keeps them apart; the third goes with one."""
    people = pd.DataFrame([{"record_id": f"S{i}", "forename": "Lee", "surname": "Scott", "dob": "1991-05-05",
                            "lat": 53.8, "lon": -1.55 + 0.001 * i, "seen_at": datetime(2025, 1, 1 + i)}
                           for i in range(3)])
    people = pd.concat([people, person_records(n_people=30, seed=4).drop(columns=["truth"])], ignore_index=True)
    db = tmp_path / "third.duckdb"
    with open_store(db) as store:
        ids = fill_store(store, people)
        lrun.run_persons(store)
        links = dict(store.sql("SELECT mention_id, person_id FROM person_links").itertuples(index=False))
        assert links[ids["S0"]] == links[ids["S1"]] == links[ids["S2"]]
        lrun.decide(store, "reject", ids["S0"], ids["S1"], "two brothers")
        lrun.run_persons(store)
        links = dict(store.sql("SELECT mention_id, person_id FROM person_links").itertuples(index=False))
    assert links[ids["S0"]] != links[ids["S1"]]
    assert links[ids["S2"]] in (links[ids["S0"]], links[ids["S1"]])


def test_empty_store(tmp_path, capsys):
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    result = _invoke(capsys, "link", "run", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [(r["entity"], r["records"], r["entities"]) for r in runs] == [("person", 0, 0), ("vehicle", 0, 0),
                                                                            ("group", 0, 0)]
    assert _invoke(capsys, "link", "status", "--db", db).exit_code == 0
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", 1, 2, "--why", "x", "--db", db), "no person or vehicle")
    with open_store(db) as store:
        with pytest.raises(WorkbenchError, match="no person or vehicle mention"):
            lrun.explain(store, 1, 2)


def test_status_before_any_run(tmp_path, capsys):
    db = tmp_path / "fresh.duckdb"
    open_store(db).close()
    result = _invoke(capsys, "link", "status", "--db", db)
    assert result.exit_code == 0 and "no linkage run yet" in result.output
