"""Calendar periods (ISO weeks, calendar months, --until), and the backtest on real-data shapes: a
multi-force, multi-month police.uk download and monthly count tables per area without coordinates."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench import geography
from workbench.cli import main
from workbench.hotspots import backtest, cells, counts, forecast
from workbench.hotspots.events import HotspotError


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def lsoas() -> pd.DataFrame:
    c = geography.lsoa_centroids()
    return c[c["force_code"].isin(["13", "14"])].sort_values("lsoa_code").reset_index(drop=True)


def _events(lsoas, n=900, start="2025-01-06", days=140, seed=0) -> pd.DataFrame:
    """Events at 40 West Yorkshire LSOA centroids (some busier than others) over `days` days."""
    rng = np.random.default_rng(seed)
    wy = lsoas[lsoas["force_code"] == "13"].head(40)
    pick = rng.choice(len(wy), n, p=np.arange(1, 41) / np.arange(1, 41).sum())
    t = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, days, n), unit="D")
    return pd.DataFrame({"latitude": wy["latitude"].to_numpy()[pick], "longitude": wy["longitude"].to_numpy()[pick],
                         "occurred_at": t.floor("min"), "force_code": "13"})


def test_weeks_are_iso_weeks_and_months_calendar_months():
    times = pd.Series(pd.to_datetime(["2025-03-03 00:00", "2025-03-09 23:59", "2025-03-10 08:00", "2025-03-12 00:00"]))
    starts, anchor = cells.period_starts(times, "week")
    # Monday 3 March to Sunday 9 March is one ISO week; Monday 10 March starts the next
    assert list(starts.dt.date.astype(str)) == ["2025-03-03", "2025-03-03", "2025-03-10", "2025-03-10"]
    assert anchor is None and (starts.dt.day_of_week == 0).all()
    months, _ = cells.period_starts(pd.Series(pd.to_datetime(["2025-02-28 23:00", "2025-03-01 00:00"])), "month")
    assert list(months.dt.date.astype(str)) == ["2025-02-01", "2025-03-01"]
    # --until: 7-day blocks ending the day before it (Thursday 13 March -> blocks Thu..Wed)
    starts, anchor = cells.period_starts(times, "week", end="2025-03-13")
    assert list(starts.dt.date.astype(str)) == ["2025-02-27", "2025-03-06", "2025-03-06", "2025-03-06"]
    with pytest.raises(HotspotError, match="first day of a month"):
        cells.period_starts(times, "month", end="2025-03-13")
    with pytest.raises(HotspotError, match="not a date"):
        cells.check_until("next tuesday", "week")


def test_count_matrix_calendar_end_and_until(lsoas):
    ev = _events(lsoas)                                   # 6 Jan to 25 May 2025 (Sunday)
    cm = counts.count_matrix(ev, "h3:8", "week")
    assert (cm.periods.day_of_week == 0).all() and cm.anchor == "calendar"
    assert cm.periods[0] == pd.Timestamp("2025-01-06") and cm.end == cm.periods[-1] + pd.Timedelta(days=7)
    assert int(cm.counts.sum()) == len(ev)
    # --until after the data: the empty weeks up to it are periods too; later events are dropped
    cm = counts.count_matrix(ev, "h3:8", "week", end="2025-06-12")
    assert cm.periods[-1] == pd.Timestamp("2025-06-05") and cm.end == pd.Timestamp("2025-06-12")
    assert cm.counts[:, -1].sum() == 0 and cm.anchor == "until"
    cut = counts.count_matrix(ev, "h3:8", "week", end="2025-03-01")
    assert int(cut.counts.sum()) == int((ev["occurred_at"] < "2025-03-01").sum())
    assert forecast.forecast_next(cm=cut, method="naive").attrs["forecast_start"] == pd.Timestamp("2025-03-01")


def _all_forecasts(ev):
    cm = counts.count_matrix(ev, "h3:8", "week")
    t = cm.counts.shape[1]
    scores = {m: forecast.scores(cm, t, m) for m in ("naive", "average", "prospective", "kde")}
    _, detail = backtest.backtest(cm, methods=("naive", "average", "prospective", "kde"), origins=6)
    return cm, scores, detail


def test_moving_events_within_the_final_period_changes_no_forecast(lsoas):
    ev = _events(lsoas, start="2025-01-06", days=137)      # the latest event falls in the week of 19 May
    cm, before, detail_before = _all_forecasts(ev)
    final = cm.periods[-1]
    assert final == pd.Timestamp("2025-05-19")
    # move the latest event and another final-week event by a day, both staying inside the final ISO week
    moved = ev.copy()
    in_final = np.flatnonzero((moved["occurred_at"] >= final + pd.Timedelta(days=1)).to_numpy())
    latest = int(moved["occurred_at"].idxmax())
    other = int(in_final[in_final != latest][0])
    for i in (latest, other):
        moved.loc[i, "occurred_at"] -= pd.Timedelta(days=1)
    assert (moved.loc[[latest, other], "occurred_at"] >= final).all()
    assert moved["occurred_at"].max() < ev["occurred_at"].max()          # the data's last day has moved
    cm2, after, detail_after = _all_forecasts(moved)
    assert list(cm2.periods) == list(cm.periods) and np.array_equal(cm2.counts, cm.counts)
    for method in before:
        assert np.array_equal(before[method], after[method]), method
    pd.testing.assert_frame_equal(detail_before, detail_after)
    assert forecast.forecast_next(cm=cm2).attrs["forecast_start"] == pd.Timestamp("2025-05-26")   # a Monday


# -- real-data breadth -----------------------------------------------------------------------------
def _street_download(folder, lsoas, months=13, seed=1):
    """A police.uk download: one folder per month, one street CSV per force (West and South Yorkshire)."""
    rng = np.random.default_rng(seed)
    names = {"13": "West Yorkshire Police", "14": "South Yorkshire Police"}
    slugs = {"13": "west-yorkshire", "14": "south-yorkshire"}
    written = 0
    for k in range(months):
        month = (pd.Timestamp("2024-01-01") + pd.DateOffset(months=k)).strftime("%Y-%m")
        (folder / month).mkdir(parents=True, exist_ok=True)
        for code in ("13", "14"):
            pool = lsoas[lsoas["force_code"] == code].head(60)
            pick = rng.choice(len(pool), 150)
            rows = pd.DataFrame({
                "Crime ID": [f"{code}{month}{i:04d}" for i in range(150)], "Month": month,
                "Reported by": names[code], "Falls within": names[code],
                "Longitude": pool["longitude"].to_numpy()[pick].round(6), "Latitude": pool["latitude"].to_numpy()[pick].round(6),
                "Location": "On or near Somewhere", "LSOA code": pool["lsoa_code"].to_numpy()[pick],
                "LSOA name": pool["lsoa_name"].to_numpy()[pick],
                "Crime type": np.where(rng.random(150) < 0.8, "Shoplifting", "Burglary"),
                "Last outcome category": "", "Context": ""})
            rows.to_csv(folder / month / f"{month}-{slugs[code]}-street.csv", index=False)
            written += int((rows["Crime type"] == "Shoplifting").sum())
    return written


def test_backtest_a_multi_force_multi_month_police_uk_download(tmp_path, capsys, lsoas):
    shoplifting = _street_download(tmp_path / "download", lsoas)
    code, out, err = run_cli(["hotspots", "backtest", "--source", "police-uk", "--files", tmp_path / "download",
                              "--unit", "lsoa", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["events"] == shoplifting and result["origins"] == 12 and result["period"] == "month"
    assert result["first_origin"] == "2024-02-01" and result["last_origin"] == "2025-01-01"
    both = len(lsoas)                                     # every LSOA of both forces is in the study area
    assert result["units"] == both
    assert {r["method"] for r in result["results"]} == {"naive", "prospective", "kde"}


def _count_table(lsoas, codes, months=14, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.0, 3.0, len(codes))
    rows = [{"area": c, "month": (pd.Timestamp("2024-01-01") + pd.DateOffset(months=k)).strftime("%Y-%m"),
             "crimes": int(rng.poisson(r))} for k in range(months) for c, r in zip(codes, rate)]
    return pd.DataFrame(rows)


def test_backtest_monthly_lsoa_count_table(tmp_path, capsys, lsoas):
    wy = lsoas[lsoas["force_code"] == "13"]["lsoa_code"].head(80).tolist()
    table = _count_table(lsoas, wy)
    path = tmp_path / "lsoa_counts.csv"
    table.to_csv(path, index=False)
    cm = counts.table_matrix(counts.read_count_table(path, ("area", "month", "crimes")))
    assert cm.unit.label == "lsoa" and cm.unit.has_coordinates and len(cm.periods) == 14
    assert len(cm.units) == int((lsoas["force_code"] == "13").sum())       # the whole force, zero LSOAs too
    assert cm.counts.sum() == table["crimes"].sum()
    code, out, err = run_cli(["hotspots", "backtest", "--source", "counts", "--files", path,
                              "--count-columns", "area,month,crimes", "--methods", "naive,average,kde",
                              "--until", "2025-02-01", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["unit"] == "lsoa" and result["origins"] == 12 and result["last_origin"] == "2025-01-01"
    assert "--until" in result["periods"]


def test_backtest_ward_count_table_without_coordinates(tmp_path, capsys, lsoas):
    wards = [f"E0501{i:04d}" for i in range(30)]
    table = _count_table(lsoas, wards).assign(area_km2=lambda f: 1.0 + (f["area"].str[-2:].astype(int) % 3))
    path = tmp_path / "ward_counts.csv"
    table.to_csv(path, index=False)
    cm = counts.table_matrix(counts.read_count_table(path, ("area", "month", "crimes"), area_column="area_km2"))
    assert cm.unit.label == "area" and not cm.unit.has_coordinates and len(cm.units) == 30
    assert cm.total_area == pytest.approx(table.drop_duplicates("area")["area_km2"].sum())
    summary, detail = backtest.backtest(cm, methods=("naive", "average"), origins=12)
    assert set(summary["method"]) == {"naive", "average"} and summary.attrs["origins"] == 12
    with pytest.raises(HotspotError, match="need unit locations"):
        backtest.backtest(cm, methods=("naive", "kde"))
    code, out, err = run_cli(["hotspots", "backtest", "--source", "counts", "--files", path, "--count-columns",
                              "area,month,crimes", "--area-column", "area_km2", "--json"], capsys)
    assert code == 0, err
    assert {r["method"] for r in json.loads(out)["results"]} == {"naive", "average"}
    code, _, err = run_cli(["hotspots", "backtest", "--source", "counts", "--files", path], capsys)
    assert code == 2 and "no column(s) area_code, count" in err and len(err.strip().splitlines()) == 1
    table.loc[5, "crimes"] = -1
    table.to_csv(path, index=False)
    code, _, err = run_cli(["hotspots", "backtest", "--source", "counts", "--files", path,
                            "--count-columns", "area,month,crimes"], capsys)
    assert code == 2 and "row 7: crimes is not a count" in err
