"""Hotspot capabilities on a store built the way an analyst builds one, never from ground truth: `workbench sample`,
`workbench ingest` of every extract, `workbench geo enrich`, and `workbench ingest` of the shipped police.uk street
files with the police_uk_street mapping (tests/hotspot_fixtures.ingested_world). Each verb runs as a real process;
its figures are checked against what the store (or the source file) holds, and its products against the audit log."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.hotspot_fixtures import POLICE_UK_FILES, _workbench, ingested_world

WY = "13"
LOCATED = """FROM incidents i LEFT JOIN stores s ON s.store_id = i.store_id
             WHERE i.occurred_at IS NOT NULL AND coalesce(i.latitude, s.latitude) IS NOT NULL"""
FORCE = "coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code)"


@pytest.fixture(scope="session")
def ingested(tmp_path_factory):
    return ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")


@pytest.fixture
def db(ingested, tmp_path):
    """A private copy of the ingested store (the verbs below write audit rows and the cube)."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(ingested["db"], copy)
    return copy


def sql(db: Path, query: str, params: dict | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or {}).fetchall()
    finally:
        con.close()


def audit_rows(db: Path, action: str) -> list[dict]:
    return [{"object": o, **json.loads(d)} for o, d in
            sql(db, "SELECT object, details FROM audit_log WHERE action = $a ORDER BY audit_id", {"a": action})]


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_store_was_built_by_ingest_and_enrich(ingested, db):
    batches = ingested["referral_batches"]
    assert len(batches) == 16 and all(b["status"] == "committed" for b in batches)
    for b in batches:
        assert b["rows_read"] == b["rows_accepted"] + b["rows_quarantined"], b
    assert sum(b["rows_read"] for b in batches if b["source"] != "store_directory") == sum(
        ingested["sample"]["sources"].values())
    (incidents,), = sql(db, "SELECT count(*) FROM incidents")
    (quarantined,), = sql(db, "SELECT count(*) FROM quarantine")
    assert incidents == ingested["enrich"]["incidents_total"] > 1000
    assert quarantined == sum(b["rows_quarantined"] for b in batches) > 0
    (placed,), = sql(db, "SELECT count(*) FROM incidents i LEFT JOIN stores s USING (store_id) "
                         "WHERE coalesce(i.h3_r8, s.h3_r8) IS NOT NULL")
    assert placed == ingested["enrich"]["incidents_enriched"]
    (recorded,), = sql(db, "SELECT count(*) FROM recorded_crimes")
    assert recorded == sum(b["rows_accepted"] for b in ingested["recorded_batches"]) > 4000


def test_backtest_counts_every_located_incident_of_the_force(db):
    out = _workbench("hotspots", "backtest", "--force", "West Yorkshire", "--origins", "4", "--methods", "naive,kde",
                     "--db", str(db))
    (n, last), = sql(db, f"SELECT count(*), max(i.occurred_at) {LOCATED} AND {FORCE} = $f", {"f": WY})
    assert out["events"] == n > 100 and out["force_code"] == WY
    # four weekly origins: the last four weeks holding crime (a week with none is skipped), the last the Monday of
    # the week holding the latest incident
    last_monday = (pd.Timestamp(last).normalize() - pd.Timedelta(days=pd.Timestamp(last).day_of_week))
    weeks = [w for (w,) in sql(db, f"SELECT DISTINCT date_trunc('week', i.occurred_at) AS w {LOCATED} AND {FORCE} = $f "
                                   "ORDER BY w DESC LIMIT 4", {"f": WY})]
    assert out["origins"] == 4 and out["last_origin"] == str(last_monday.date()) == str(weeks[0].date())
    assert out["first_origin"] == str(weeks[-1].date()) >= str((last_monday - pd.Timedelta(weeks=8)).date())
    got = {(r["method"], r["coverage"]) for r in out["results"]}
    assert got == {(m, c) for m in ("naive", "kde") for c in (0.01, 0.05, 0.1)}
    for r in out["results"]:
        assert 0 <= r["hit_rate"] <= 1 and 0 <= r["pei_star"] <= 1 and r["origins"] == 4


def test_plan_writes_marked_audited_products_from_ingested_incidents(db, tmp_path):
    from workbench import config

    folder = tmp_path / "plan"
    out = _workbench("hotspots", "plan", "--force", "West Yorkshire", "--out", str(folder), "--no-png",
                     "--top", "10", "--purpose", "patrol test", "--db", str(db))
    (n,), = sql(db, f"SELECT count(*) {LOCATED} AND {FORCE} = $f", {"f": WY})
    assert out["meta"]["events"] == n and out["meta"]["force_name"] == "West Yorkshire"
    plan = pd.read_csv(folder / "plan.csv", encoding="utf-8-sig")
    assert list(plan["rank"]) == list(range(1, 11)) and plan["expected"].is_monotonic_decreasing
    # every planned place is a cell where the store holds West Yorkshire incidents, with their count
    history = dict(sql(db, f"SELECT coalesce(i.h3_r8, s.h3_r8), count(*) {LOCATED} AND {FORCE} = $f GROUP BY 1",
                       {"f": WY}))
    for row in plan.itertuples():
        assert row.history_total == history.get(row.unit_id, 0)
    assert plan["history_total"].gt(0).all()
    marking = config.security_marking()
    assert marking in (folder / "map.html").read_text(encoding="utf-8")
    assert (folder / "briefing.pdf").read_bytes().startswith(b"%PDF")
    audit, = audit_rows(db, "hotspots-plan")
    assert audit["marking"] == marking and audit["purpose"] == "patrol test" and audit["force_code"] == WY
    files = {Path(f["file"]).name: f["sha256"] for f in audit["files"]}
    assert set(files) == {Path(f).name for f in out["outputs"]["files"]}
    for name, digest in files.items():
        assert sha256(folder / name) == digest, name


def test_hotspot_map_counts_the_weeks_it_says(db, tmp_path):
    from workbench import config

    html = tmp_path / "maps" / "hot.html"
    out = _workbench("hotspots", "map", "--out", str(html), "--no-png", "--weeks", "26", "--permutations", "99",
                     "--db", str(db))
    (last,), = sql(db, f"SELECT max(i.occurred_at) {LOCATED}")
    day = pd.Timestamp(last).normalize()
    stop = day - pd.Timedelta(days=day.day_of_week) + pd.Timedelta(days=7)
    (n,), = sql(db, f"SELECT count(*) {LOCATED} AND coalesce(i.h3_r7, s.h3_r7) IS NOT NULL "
                    "AND i.occurred_at >= $a AND i.occurred_at < $b",
                {"a": (stop - pd.Timedelta(weeks=26)).to_pydatetime(), "b": stop.to_pydatetime()})
    text = html.read_text(encoding="utf-8")
    assert n > 0 and f"{n:,} incidents" in text and config.security_marking() in text
    audit, = audit_rows(db, "hotspots-map")
    assert audit["sha256"] == sha256(html) and audit["hot_cells"] == out["hot_cells"] and audit["weeks"] == 26
    assert audit["source"] == "referrals" and out["units"] > 0


def test_cube_holds_every_placed_incident_once(db):
    out = _workbench("hotspots", "cube", "--db", str(db))
    (rows,), = sql(db, "SELECT count(*) FROM hotspot_cube")
    assert out["hotspot_cube_rows"] == rows > 0
    (placed,), = sql(db, "SELECT count(*) FROM incidents i LEFT JOIN stores s USING (store_id) "
                         "WHERE i.occurred_at IS NOT NULL AND coalesce(i.h3_r8, s.h3_r8) IS NOT NULL")
    (in_cube,), = sql(db, "SELECT sum(incidents) FROM hotspot_cube WHERE tactic_code = ''")
    assert in_cube == placed
    per_force = dict(sql(db, "SELECT force_code, sum(incidents) FROM hotspot_cube WHERE tactic_code = '' GROUP BY 1"))
    (wy,), = sql(db, f"SELECT count(*) {LOCATED} AND coalesce(i.h3_r8, s.h3_r8) IS NOT NULL AND {FORCE} = $f",
                 {"f": WY})
    assert per_force[WY] == wy
    (tagged,), = sql(db, "SELECT count(*) FROM (SELECT DISTINCT incident_id, tactic_code FROM incident_tactics) t "
                         "JOIN incidents i USING (incident_id) LEFT JOIN stores s ON s.store_id = i.store_id "
                         "WHERE i.occurred_at IS NOT NULL AND coalesce(i.h3_r8, s.h3_r8) IS NOT NULL")
    (cube_tagged,), = sql(db, "SELECT sum(incidents) FROM hotspot_cube WHERE tactic_code <> ''")
    assert cube_tagged == tagged
    assert audit_rows(db, "hotspots-cube")[-1]["rows"] == rows


def _police_uk_shoplifting_with_location() -> int:
    """Counted from the shipped CSV files themselves, not through the store."""
    n = 0
    for path in POLICE_UK_FILES:
        with open(path, newline="", encoding="utf-8") as fh:
            n += sum(1 for r in csv.DictReader(fh)
                     if r["Crime type"] == "Shoplifting" and r["Latitude"].strip() and r["Longitude"].strip())
    return n


def test_recorded_source_uses_the_police_uk_rows_ingest_loaded(ingested, db, tmp_path):
    assert [b["status"] for b in ingested["recorded_batches"]] == ["committed"] * len(POLICE_UK_FILES) == ["committed"] * 3
    expected = _police_uk_shoplifting_with_location()
    (stored,), = sql(db, "SELECT count(*) FROM recorded_crimes WHERE crime_type = 'Shoplifting' "
                         "AND latitude IS NOT NULL AND longitude IS NOT NULL")
    assert stored == expected > 1000
    bt = _workbench("hotspots", "backtest", "--source", "recorded", "--origins", "2", "--methods", "naive",
                    "--db", str(db))
    assert bt["events"] == expected and bt["period"] == "month" and bt["origins"] == 2
    # July 2016, 2017 and 2018 only: the two origins are the last two months that hold data
    assert (bt["first_origin"], bt["last_origin"]) == ("2017-07-01", "2018-07-01")
    knox = _workbench("hotspots", "knox", "--source", "recorded", "--iterations", "19", "--db", str(db))
    assert knox["events"] == expected
    html = tmp_path / "recorded.html"
    out = _workbench("hotspots", "map", "--source", "recorded", "--out", str(html), "--no-png", "--permutations", "99",
                     "--db", str(db))
    audit, = audit_rows(db, "hotspots-map")
    assert audit["source"] == "recorded" and audit["sha256"] == sha256(html) and audit["hot_cells"] == out["hot_cells"]
    assert f"{expected:,} incidents" in html.read_text(encoding="utf-8")


def test_recorded_source_says_what_to_do_when_nothing_was_loaded(tmp_path):
    import os
    import subprocess
    import sys

    empty = tmp_path / "empty.duckdb"
    _workbench("db", "init", "--db", str(empty))
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "hotspots", "backtest", "--source",
                           "recorded", "--db", str(empty)], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "workbench ingest" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
