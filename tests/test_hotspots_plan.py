"""Patrol plan, briefing (really rendered PDF and PNG), police.uk backtest and the hotspots CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.hotspot_fixtures import fill_store, world
from workbench import config
from workbench.cli import main
from workbench.hotspots import backtest, briefing, events, plan, policeuk
from workbench.hotspots.events import HotspotError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wy_db(tmp_path_factory):
    """A store holding the sample world's West Yorkshire and Greater Manchester incidents, enriched."""
    from workbench.store import open_store

    root = tmp_path_factory.getbasetemp() / "hotspot_world"
    incidents, stores = world(str(root))
    db = tmp_path_factory.mktemp("plan") / "plan.duckdb"
    with open_store(db) as store:
        fill_store(store, incidents, stores, force_codes=["13", "06"])
    return db


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_patrol_plan_tables(wy_db):
    from workbench.store import open_store

    with open_store(wy_db, read_only=True) as store:
        ev = events.from_store(store, force_code="13")
        st = events.stores_frame(store, force_code="13")
    p = plan.patrol_plan(ev, st, force_code="13", top=10)
    assert list(p.cells["rank"]) == list(range(1, len(p.cells) + 1)) and len(p.cells) == 10
    assert p.cells["expected"].is_monotonic_decreasing and (p.cells["expected"] > 0).all()
    # every store listed lies in a planned place, and the per-place store counts agree
    assert set(p.stores["unit_id"]) <= set(p.cells["unit_id"])
    assert p.cells["stores_n"].sum() == len(p.stores)
    # next week = the ISO week (Monday to Sunday) after the week of the latest incident
    latest = ev["occurred_at"].max().normalize()
    monday = latest - pd.Timedelta(days=latest.day_of_week) + pd.Timedelta(days=7)
    assert p.meta["period_start"] == str(monday.date())
    assert p.meta["period_end"] == str((monday + pd.Timedelta(days=6)).date())
    # --until: the 7 days from that date, whatever the latest incident's day
    until = latest - pd.Timedelta(days=10)
    q = plan.patrol_plan(ev, st, force_code="13", top=10, until=until)
    assert q.meta["period_start"] == str(until.date())
    assert q.meta["period_end"] == str((until + pd.Timedelta(days=6)).date())
    assert p.profile.shape == (7, 24) and p.profile.to_numpy().sum() > 0
    # the default method is chosen by this force's backtest; the accuracy table shows it beside both baselines
    assert set(p.accuracy["method"]) == {p.meta["method"], "naive", "average"}
    assert p.meta["method"] == "naive" or "naive last-week map" in p.meta["accuracy"]
    assert p.meta["method_choice"].startswith("Chosen by this force's own backtest")


def test_plan_cli_writes_marked_pdf_png_and_map(wy_db, tmp_path, capsys, chromium_path):
    from weasyprint import HTML

    out = tmp_path / "plan"
    code, stdout, err = run_cli(["hotspots", "plan", "--force", "West Yorkshire", "--period", "next-week",
                                 "--out", out, "--db", wy_db, "--json"], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    pdf = out / "briefing.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert result["outputs"]["pdf_pages"] >= 1
    assert (out / "briefing.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "map.png").stat().st_size > 10_000 and (out / "map.html").stat().st_size < 3_000_000
    # the rendered pages themselves: marking on every page, method and its measured accuracy stated
    doc = HTML(filename=str(out / "briefing.html")).render()
    texts = briefing.page_texts(doc)
    assert len(texts) == result["outputs"]["pdf_pages"]
    marking = config.security_marking()
    assert all(t.count(marking) >= 2 for t in texts)                # top and bottom of every page
    first = texts[0]
    meta = result["meta"]
    assert meta["period_start"] in first and meta["period_end"] in first and meta["method"] in first
    assert "Why this method" in first and "Chosen by this force" in first.replace("\n", " ")
    hit = f"{backtest_hit(out / 'accuracy.csv', meta['method']):.0%}"
    assert "Backtest" in first and hit in first
    page = (out / "map.html").read_text()
    from workbench import maps

    assert marking in page and "West Yorkshire" in page and maps._REMOTE_RE.search(page) is None


def backtest_hit(path: Path, method: str) -> float:
    acc = pd.read_csv(path)
    return float(acc[(acc["method"] == method) & np.isclose(acc["coverage"], 0.05)]["hit_rate"].iloc[0])


def test_briefing_escapes_free_text(wy_db):
    from workbench.store import open_store

    with open_store(wy_db, read_only=True) as store:
        ev = events.from_store(store, force_code="13")
        st = events.stores_frame(store, force_code="13")
    st.loc[:, "name"] = "<script>alert(1)</script> & Co"
    p = plan.patrol_plan(ev, st, force_code="13", top=5)
    page = briefing.briefing_html(p)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_police_uk_backtest_on_shipped_sample(capsys):
    ev = policeuk.read_street_csvs()
    assert sorted(ev["month"].unique()) == ["2016-07", "2017-07", "2018-07"]
    assert (ev["force_code"] == "13").all() and len(ev) > 4000
    code, out, err = run_cli(["hotspots", "backtest", "--source", "police-uk", "--unit", "h3:8", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["origins"] == 2 and result["first_origin"] == "2017-07-01" and result["period"] == "month"
    rows = {(r["method"], r["coverage"]): r for r in result["results"]}
    assert set(m for m, _ in rows) == {"naive", "prospective", "kde"}
    for r in rows.values():
        assert 0 < r["hit_rate"] <= 1 and 0 < r["pei_star"] <= 1 and r["pai"] > 1
    # more area flagged never catches less crime
    for m in ("naive", "kde"):
        assert rows[(m, 0.01)]["hit_rate"] <= rows[(m, 0.05)]["hit_rate"] <= rows[(m, 0.1)]["hit_rate"]


def test_police_uk_reader_several_forces_and_months(tmp_path):
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
              "Last outcome category,Context\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "2024-01-west-yorkshire-street.csv").write_text(
        header + "x1,2024-01,West Yorkshire Police,West Yorkshire Police,-1.54,53.80,On or near X,E01011365,Leeds 1,"
                 "Shoplifting,,\n"
                 ",2024-01,West Yorkshire Police,West Yorkshire Police,-1.54,53.80,On or near X,E01011365,Leeds 1,"
                 "Anti-social behaviour,,\n"
                 "x3,2024-01,West Yorkshire Police,West Yorkshire Police,,,No location,,,Shoplifting,,\n")
    (tmp_path / "2024-02-greater-manchester-street.csv").write_text(
        header + "y1,2024-02,Greater Manchester Police,Greater Manchester Police,-2.24,53.48,On or near Y,E01005131,"
                 "Manchester 1,Shoplifting,,\n")
    ev = policeuk.read_street_csvs([tmp_path])
    assert sorted(ev["force_code"]) == ["06", "13"] and sorted(ev["month"]) == ["2024-01", "2024-02"]
    assert ev.attrs["rows_without_location"] == 1 and ev.attrs["files"] == 2


@pytest.mark.parametrize("content, message", [
    ("Month,Longitude\n2024-01,-1.5\n", "missing column"),
    ("Crime ID,Month,Longitude,Latitude,Crime type\nx,Jan 2024,-1.5,53.8,Shoplifting\n", "row 2: Month 'Jan 2024'"),
    ("Crime ID,Month,Longitude,Latitude,Crime type\nx,2024-01,-1.5,53.8,Burglary\n", "no Shoplifting rows"),
])
def test_malformed_police_uk_csv_is_one_line_error(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    with pytest.raises(HotspotError, match=message):
        policeuk.read_street_csvs([bad])
    code, out, err = run_cli(["hotspots", "backtest", "--source", "police-uk", "--files", bad], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["hotspots", "plan", "--force", "Narnia", "--out", "OUT"], "unknown force 'Narnia'"),
    (["hotspots", "backtest", "--force", "Atlantis"], "unknown force 'Atlantis'"),
    (["hotspots", "backtest", "--unit", "hexagon"], "unknown unit"),
    (["hotspots", "backtest", "--methods", "naive,crystal-ball"], "unknown method"),
    (["hotspots", "backtest", "--source", "twitter"], "unknown source"),
    (["hotspots", "plan", "--force", "13", "--period", "next-year", "--out", "OUT"], "unknown period"),
])
def test_cli_errors(tmp_path, capsys, wy_db, args, message):
    args = [a if a != "OUT" else str(tmp_path / "o") for a in args] + ["--db", str(wy_db)]
    code, out, err = run_cli(args, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_on_empty_store(tmp_path, capsys):
    from workbench.store import open_store

    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    code, _, err = run_cli(["hotspots", "plan", "--force", "13", "--out", tmp_path / "o", "--db", db], capsys)
    assert code == 2 and "no located incidents" in err


def test_knox_and_emerging_cli(wy_db, capsys):
    code, out, err = run_cli(["hotspots", "knox", "--force", "13", "--iterations", "19", "--db", wy_db, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["iterations"] == 19 and len(result["bands"]) == 16
    code, out, err = run_cli(["hotspots", "emerging", "--force", "Greater Manchester", "--db", wy_db, "--json"], capsys)
    assert code == 0, err
    assert sum(json.loads(out)["categories"].values()) > 0


def test_police_uk_rows_ingested_into_the_store_give_the_same_backtest(tmp_store):
    from workbench.ingest import ingest_paths

    files = sorted(policeuk.SAMPLE_DIR.glob("*.csv"))
    ingest_paths(tmp_store, files, source="police_uk_street")
    stored = policeuk.from_store(tmp_store)
    direct = policeuk.read_street_csvs(files)
    assert len(stored) == len(direct)
    a, _ = backtest.backtest_events(stored, unit="h3:8", period="month", periods="observed")
    b, _ = backtest.backtest_events(direct, unit="h3:8", period="month", periods="observed")
    assert a[["method", "coverage", "n", "N", "n_star"]].equals(b[["method", "coverage", "n", "N", "n_star"]])
    with pytest.raises(HotspotError, match="no police.uk Burglary rows"):
        policeuk.from_store(tmp_store, crime_type="Burglary")
