"""The library calls behind the dashboards (widgets/dashboards.py), headless, on a small store filled from a sample
world's West Yorkshire and Merseyside incidents: every frame is checked against the same figure computed here
independently from the world's ground truth (read in tests only) or from the command line."""
from __future__ import annotations

import hashlib
import io
import json
import shutil

import h3
import pandas as pd
import pytest

from tests.hotspot_fixtures import fill_store, world
from workbench import config
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.store import open_store

FORCES = ["13", "05"]          # West Yorkshire, Merseyside


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    incidents, stores = world(str(tmp_path_factory.getbasetemp() / "hotspot_world"))
    stores = stores[stores["force_code"].isin(FORCES)]
    incidents = incidents[incidents["store_id"].isin(stores["store_id"])]
    return incidents.merge(stores[["store_id", "latitude", "longitude", "force_code"]], on="store_id",
                           suffixes=("_reported", "")), stores


@pytest.fixture(scope="module")
def db(tmp_path_factory, truth):
    incidents, stores = world(str(tmp_path_factory.getbasetemp() / "hotspot_world"))
    path = tmp_path_factory.mktemp("dashboards") / "dash.duckdb"
    with open_store(path) as store:
        fill_store(store, incidents, stores, force_codes=FORCES)
    return path


@pytest.fixture
def store(db):
    with open_store(db, read_only=True) as s:
        yield s


def _monday(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts).normalize()
    return ts - pd.Timedelta(days=ts.day_of_week)


def test_plan_weeks_are_next_week_and_the_weeks_before(store, truth):
    from widgets import dashboards

    inc, _ = truth
    latest = inc.loc[inc["force_code"] == "05", "occurred_at"].max()
    weeks = dashboards.plan_weeks(store, "05", weeks=5)
    expected = [(_monday(latest) + pd.Timedelta(days=7 * (1 - i))).date() for i in range(5)]
    assert weeks == expected and all(w.weekday() == 0 for w in weeks)


def test_week_plan_is_the_command_line_plan_for_that_week(store, db, tmp_path, capsys):
    from widgets import dashboards

    week = dashboards.plan_weeks(store, "13")[3]
    p = dashboards.week_plan(store, "13", week)
    assert p.meta["period_start"] == str(week) and p.meta["period_end"] == str(week + pd.Timedelta(days=6).to_pytimedelta())
    # the same plan as `workbench hotspots plan --until WEEK` (which reads every incident, later ones included)
    copy = tmp_path / "cli.duckdb"
    shutil.copy(db, copy)
    code = main(["hotspots", "plan", "--force", "13", "--until", str(week), "--out", str(tmp_path / "cli"), "--no-png",
                 "--db", str(copy), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    cli = json.loads(out)
    assert cli["meta"]["period_start"] == p.meta["period_start"] and cli["meta"]["method"] == p.meta["method"]
    assert [r["unit_id"] for r in cli["places"]] == list(p.cells["unit_id"])
    assert [round(r["expected"], 9) for r in cli["places"]] == [round(v, 9) for v in p.cells["expected"]]


def test_week_outcome_counts_the_weeks_incidents_in_the_planned_places(store, truth):
    from widgets import dashboards

    inc, _ = truth
    weeks = dashboards.plan_weeks(store, "13", weeks=12)
    assert dashboards.week_outcome(store, dashboards.week_plan(store, "13", weeks[0])) is None    # not happened yet
    wy = inc[inc["force_code"] == "13"]

    def in_week(week):
        start = pd.Timestamp(week)
        return wy[(wy["occurred_at"] >= start) & (wy["occurred_at"] < start + pd.Timedelta(days=7))]

    # the last full week, and weeks with an incident on their Sunday (the last day must count)
    sundays = [w for w in weeks[2:] if (in_week(w)["occurred_at"].dt.day_of_week == 6).any()][:2]
    assert sundays, "no week with a Sunday incident: the fixture no longer tests the week's last day"
    checked = 0
    for week in [weeks[2], *sundays]:
        p = dashboards.week_plan(store, "13", week)
        happened = in_week(week)
        cells = [h3.latlng_to_cell(a, b, 8) for a, b in zip(happened["latitude"], happened["longitude"])]
        planned = set(p.cells["unit_id"])
        outcome = dashboards.week_outcome(store, p)
        assert outcome == {"incidents": len(happened), "in_plan": sum(c in planned for c in cells)}, week
        checked += outcome["in_plan"] > 0
    assert checked, "no week had an incident in its planned places: the check would not see a wrong cell match"


def test_briefing_export_is_audited_with_its_purpose_and_marked(db, tmp_path):
    from pypdf import PdfReader

    from widgets import dashboards

    copy = tmp_path / "audit.duckdb"
    shutil.copy(db, copy)
    with open_store(copy, read_only=True) as s:
        p = dashboards.week_plan(s, "05", dashboards.plan_weeks(s, "05")[0])
        with pytest.raises(WorkbenchError, match="say why"):
            dashboards.export_briefing(s, p, tmp_path / "none", "  ")
        assert not (tmp_path / "none").exists()
        result = dashboards.export_briefing(s, p, tmp_path / "brief", "patrol briefing for Liverpool city centre")
    pdf = tmp_path / "brief" / "briefing.pdf"
    assert result["pdf"] == str(pdf) and not (tmp_path / "brief" / "briefing.png").exists()
    pages = [pg.extract_text() for pg in PdfReader(io.BytesIO(pdf.read_bytes())).pages]
    marking = config.security_marking()
    assert len(pages) == result["pdf_pages"] and all(marking in " ".join(t.split()) for t in pages)
    with open_store(copy, read_only=True) as s:
        rows = s.con.execute("SELECT object, details FROM audit_log WHERE action = 'hotspots-plan'").fetchall()
    assert len(rows) == 1 and rows[0][0] == str(tmp_path / "brief")
    details = json.loads(rows[0][1])
    assert details["purpose"] == "patrol briefing for Liverpool city centre" and details["marking"] == marking
    digests = {f["file"]: f["sha256"] for f in details["files"]}
    assert digests[str(pdf)] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert set(digests) == set(result["files"])


def test_weekly_referrals_match_the_incidents_per_iso_week(store, truth):
    from widgets import dashboards

    inc, _ = truth
    weekly = dashboards.weekly_referrals(store)
    expected = inc.assign(week=inc["occurred_at"].map(_monday)).groupby("week").size()
    expected = expected.reindex(pd.date_range(expected.index.min(), expected.index.max(), freq="7D"), fill_value=0)
    assert list(weekly.index) == list(expected.index)
    assert weekly.to_numpy().tolist() == expected.to_numpy().tolist()
    last8 = dashboards.weekly_referrals(store, weeks=8)
    assert len(last8) == 8 and last8.to_numpy().tolist() == expected.tail(8).to_numpy().tolist()


def test_national_hot_spots_cover_the_last_year_of_incidents(store, truth):
    from widgets import dashboards

    inc, _ = truth
    gi, meta = dashboards.national_hot_spots(store, weeks=26)
    stop = _monday(inc["occurred_at"].max()) + pd.Timedelta(days=7)
    first = stop - pd.Timedelta(days=7 * 26)
    assert meta["incidents"] == int(((inc["occurred_at"] >= first) & (inc["occurred_at"] < stop)).sum())
    assert str(meta["from"]) == str(first.date()) and str(meta["to"]) == str((stop - pd.Timedelta(days=1)).date())
    # the unit values are the incidents per h3:7 cell in that window
    window = inc[(inc["occurred_at"] >= first) & (inc["occurred_at"] < stop)]
    per_cell = pd.Series([h3.latlng_to_cell(a, b, 7) for a, b in zip(window["latitude"], window["longitude"])]).value_counts()
    values = gi.set_index("unit_id")["value"]
    assert values[per_cell.index].astype(int).tolist() == per_cell.tolist()
    by_force = dashboards.hot_spots_by_force(gi)
    hot = gi[gi["category"].str.startswith("Hot spot")]
    assert int(by_force["hot_cells"].sum()) == len(hot)
    assert by_force["hot_cells"].is_monotonic_decreasing


def test_forces_affected_counts_incidents_stores_and_groups_per_force(store, truth):
    from widgets import dashboards

    inc, stores = truth
    groups = pd.DataFrame({"group_id": ["G1", "G2", "G3"], "label": ["a", "b", "c"], "forces": [2, 1, 1],
                           "force_codes": ["05;13", "13", "05"], "incidents": [9, 4, 3], "crime_numbers": [0, 0, 0],
                           "referrals": [0, 0, 0], "per_force": ["", "", ""]})
    hot = pd.DataFrame({"force_code": ["13"], "hot_cells": [4], "force_name": ["West Yorkshire"]})
    table = dashboards.forces_affected(store, groups, hot).set_index("force_code")
    assert sorted(table.index) == sorted(FORCES)
    assert table.loc["13", "incidents"] == (inc["force_code"] == "13").sum()
    assert table.loc["05", "incidents"] == (inc["force_code"] == "05").sum()
    assert table.loc["13", "stores"] == inc.loc[inc["force_code"] == "13", "store_id"].nunique()
    assert (table.loc["13", "groups"], table.loc["05", "groups"]) == (2, 2)
    assert (table.loc["13", "hot_cells"], table.loc["05", "hot_cells"]) == (4, 0)
    assert list(table["incidents"]) == sorted(table["incidents"], reverse=True)
    # before any linkage run: no groups, and the page says so rather than failing
    assert dashboards.groups_table(store).empty
    assert dashboards.forces_affected(store)["groups"].eq(0).all()


def test_patrol_plan_dashboard_follows_force_and_week_and_offers_the_pdf(db, tmp_path):
    from widgets import dashboards
    from widgets.plots import MIME

    copy = tmp_path / "widget.duckdb"
    shutil.copy(db, copy)
    with open_store(copy, read_only=True) as s:
        dash = dashboards.PatrolPlanDashboard(s, out_dir=tmp_path / "out", force_code="13")
        assert "Patrol plan: West Yorkshire" in dash.map_html.value and "West Yorkshire" in dash.heading.value
        heat = dash.heat.outputs[0]["data"][MIME]
        assert heat["data"][0]["type"] == "heatmap"
        first = dash.plan.cells["unit_id"].tolist()
        dash.force.value = "05"                             # a new force: its weeks, its plan
        assert dash.week.value == str(dashboards.plan_weeks(s, "05")[0])
        assert "Merseyside" in dash.heading.value and dash.plan.cells["unit_id"].tolist() != first
        dash.week.value = dash.week.options[2][1]
        assert dash.plan.meta["period_start"] == dash.week.options[2][1] and "fell in these places" in dash.status.value
        assert dash.make_briefing() is None and "say why" in dash.download.value
        dash.purpose.value = "briefing for the <b>team</b>"
        result = dash.make_briefing()
        assert result and 'href="data:application/pdf;base64,' in dash.download.value
        assert "<b>team" not in dash.download.value


def test_make_dashboards_serves_on_localhost_with_a_token(db, tmp_path):
    """scripts/dashboards.py (make dashboards): one line without a store; else Voila on 127.0.0.1 only, every page
    behind the token (kept mode 600, given in the environment, never on the command line)."""
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    from tests.voila_helpers import free_port, require_template

    script = Path(__file__).resolve().parent.parent / "scripts" / "dashboards.py"
    missing = subprocess.run([sys.executable, str(script), "--db", str(tmp_path / "none.duckdb"),
                              "--token-file", str(tmp_path / "tok")], capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "no store at" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()
    require_template()
    port, token_file = free_port(), tmp_path / "token"
    proc = subprocess.Popen([sys.executable, str(script), "--port", str(port), "--db", str(db), "--token-file",
                             str(token_file)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline() + proc.stdout.readline()
        token = token_file.read_text().strip()
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert f"http://127.0.0.1:{port}/voila/render/dashboards/patrol_plan.ipynb?token={token}" in first
        assert token not in " ".join(Path(f"/proc/{proc.pid}/cmdline").read_text().split("\0"))
        page = f"http://127.0.0.1:{port}/voila/tree"

        def status(url):
            try:
                with urllib.request.urlopen(urllib.request.Request(url), timeout=10) as r:
                    return r.status, r.url
            except urllib.error.HTTPError as exc:
                return exc.code, url
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                code, landed = status(page)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            raise AssertionError("voila did not listen")
        assert code in (401, 403) or "login" in landed, (code, landed)        # no token: the login page
        assert status(f"{page}?token={token}")[0] == 200
        listening = subprocess.run(["ss", "-ltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in listening and f"0.0.0.0:{port}" not in listening and f"*:{port}" not in listening
    finally:
        proc.terminate()
        proc.wait(timeout=20)
