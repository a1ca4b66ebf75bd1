"""Runs, flows, home base and lead force on hand-made series (distances checked by hand: 0.5 degrees of
latitude is 55.6 km; with the detour factor 1.3 it is 72.3 road km)."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.crossborder import (crossborder_settings, find_runs, flows, forces_table, haversine_km, home_base,
                                   lead_force, leg_feasible)
from workbench.errors import WorkbenchError

CFG = crossborder_settings({"runs": {"speed_limit_kmh": 112, "detour_factor": 1.3, "max_gap_hours": 6,
                                     "min_incidents": 2}})


def frame(rows):
    return pd.DataFrame(rows, columns=["incident_id", "occurred_at", "latitude", "longitude", "force_code"]) \
        .assign(occurred_at=lambda f: pd.to_datetime(f.occurred_at))


def test_haversine_by_hand():
    assert haversine_km(52.0, 0.0, 52.5, 0.0) == pytest.approx(55.6, abs=0.1)
    assert haversine_km(51.5074, -0.1278, 53.4808, -2.2426) == pytest.approx(262, abs=3)  # London-Manchester


def test_slow_leg_is_feasible_and_fast_leg_is_not():
    # 10 km in an hour: far under the limit (a limit compared the wrong way would break this run)
    r = find_runs(frame([(1, "2025-03-01 10:00", 52.0, 0.0, "35"), (2, "2025-03-01 11:00", 52.09, 0.0, "35")]),
                  "GR1", CFG)
    assert len(r.runs) == 1 and r.runs.incidents.iloc[0] == 2
    # 55.6 km in 15 minutes: 289 road km/h, impossible: two single visits, no run
    r = find_runs(frame([(1, "2025-03-01 10:00", 52.0, 0.0, "35"), (2, "2025-03-01 10:15", 52.5, 0.0, "34")]),
                  "GR1", CFG)
    assert r.runs.empty and r.route.run_id.isna().all() and len(r.route) == 2


def test_detour_factor_decides_a_borderline_leg():
    # 55.6 km straight in 36 minutes: 92.7 km/h straight (under 112) but 120.5 road km/h (over): not a run
    rows = [(1, "2025-03-01 10:00", 52.0, 0.0, "35"), (2, "2025-03-01 10:36", 52.5, 0.0, "34")]
    assert find_runs(frame(rows), "GR1", CFG).runs.empty
    loose = crossborder_settings({"runs": {"detour_factor": 1.0}})
    assert len(find_runs(frame(rows), "GR1", loose).runs) == 1
    # in 45 minutes the road speed is 96.4 km/h: a run, and its leg reports road km and speed
    rows[1] = (2, "2025-03-01 10:45", 52.5, 0.0, "34")
    r = find_runs(frame(rows), "GR1", CFG)
    leg = r.legs.iloc[0]
    assert leg.road_km == pytest.approx(55.6 * 1.3, abs=0.2) and leg.speed_kmh == pytest.approx(96.4, abs=0.5)
    assert leg_feasible(55.6, 0.75, 112, 1.3) and not leg_feasible(55.6, 0.6, 112, 1.3)


def test_runs_are_same_day_and_split_by_long_gaps():
    rows = [(1, "2025-03-01 10:00", 52.0, 0.0, "35"), (2, "2025-03-01 11:00", 52.05, 0.0, "35"),
            (3, "2025-03-02 09:00", 52.05, 0.0, "35"),   # next day: not the same run
            (4, "2025-03-02 20:00", 52.06, 0.0, "35")]   # 11 hours later: over max_gap_hours
    r = find_runs(frame(rows), "GR1", CFG)
    assert list(r.runs.run_id) == ["GR1-R001"] and r.runs.incidents.iloc[0] == 2
    assert r.route.set_index("incident_id").run_id.isna().loc[[3, 4]].all()


def test_two_crews_on_one_day_give_two_runs_with_routes_in_time_order():
    north = [(1, "2025-03-01 10:00", 54.0, -1.5, "13"), (3, "2025-03-01 11:00", 54.05, -1.5, "12")]
    south = [(2, "2025-03-01 10:10", 51.0, -1.0, "44"), (4, "2025-03-01 11:10", 51.05, -1.0, "45")]
    r = find_runs(frame(north + south), "GR1", CFG)
    assert len(r.runs) == 2
    routes = r.route.groupby("run_id").incident_id.apply(list).to_dict()
    assert routes == {"GR1-R001": [1, 3], "GR1-R002": [2, 4]}
    assert list(r.runs.force_path) == ["13>12", "44>45"]


def test_border_legs_and_flows_counted_by_hand():
    rows = [(1, "2025-03-01 09:00", 52.00, 0.0, "35"), (2, "2025-03-01 09:40", 52.02, 0.0, "35"),
            (3, "2025-03-01 10:30", 52.20, 0.0, "34"), (4, "2025-03-01 11:30", 52.40, 0.0, "37"),
            (5, "2025-03-05 09:00", 52.00, 0.0, "35"), (6, "2025-03-05 10:00", 52.20, 0.0, "34")]
    r = find_runs(frame(rows), "GR1", CFG)
    assert list(r.runs.border_crossings) == [2, 1]
    assert r.legs.crosses_border.tolist() == [False, True, True, True]
    f = flows(r.legs).set_index(["from_force", "to_force"])
    assert f.legs.to_dict() == {("35", "34"): 2, ("34", "37"): 1}
    assert f.loc[("35", "34"), "runs"] == 2


def test_incidents_without_time_or_place_are_skipped_with_reasons():
    rows = [(1, "2025-03-01 10:00", 52.0, 0.0, "35"), (2, None, 52.0, 0.0, "35"),
            (3, "2025-03-01 10:30", None, None, "35"), (4, "2025-03-01 10:40", 52.01, 0.0, "35")]
    r = find_runs(frame(rows), "GR1", CFG)
    assert dict(zip(r.skipped.incident_id, r.skipped.reason)) == {2: "no time", 3: "no place"}
    assert r.runs.incidents.tolist() == [2]


def test_home_base_is_where_runs_start_and_end():
    # three runs from home (52.0, -1.0) out to different places and one from elsewhere
    runs = pd.DataFrame({"start_lat": [52.0, 52.01, 52.0, 53.5], "start_lon": [-1.0, -1.0, -1.01, -2.0],
                         "end_lat": [52.9, 51.2, 52.02, 53.0], "end_lon": [-1.0, -0.2, -1.0, -3.0],
                         "start_force": ["H", "H", "H", "X"], "end_force": ["A", "B", "H", "Y"]})
    stores = pd.DataFrame({"store_id": ["S1", "S2"], "town": ["Hometown", "Far"], "latitude": [52.0, 53.5],
                           "longitude": [-1.0, -2.0], "force_code": ["H", "X"]})
    home = home_base(runs, stores, 15.0)
    assert home.town.iloc[0] == "Hometown" and home.force_code.iloc[0] == "H"
    assert haversine_km(home.latitude.iloc[0], home.longitude.iloc[0], 52.0, -1.0) < 2
    assert home.points_near.iloc[0] == 4 and home.points.iloc[0] == 8
    assert home_base(runs.iloc[0:0], stores).empty


def _sig(rows):
    return pd.DataFrame(rows, columns=["incident_id", "force_code", "force_name", "crime_number", "referrals",
                                       "violence", "juveniles", "value_gbp", "occurred_at"])


def test_forces_table_and_lead_force_with_reasons():
    sig = _sig([(1, "A", "Alpha", "A/1", 2, False, 0, 100.0, pd.Timestamp("2025-01-01")),
                (2, "A", "Alpha", "A/2", 1, False, 0, 100.0, pd.Timestamp("2025-01-02")),
                (3, "A", "Alpha", "A/2", 1, False, 0, 100.0, pd.Timestamp("2025-01-03")),
                (4, "B", "Bravo", "B/1", 1, True, 1, 900.0, pd.Timestamp("2025-01-04")),
                (5, "C", "Charlie", None, 1, False, 0, 10.0, pd.Timestamp("2025-01-05"))])
    table = forces_table(sig, home_force="C").set_index("force_code")
    assert table.loc["A", "incidents"] == 3 and table.loc["A", "crime_numbers"] == 2
    assert table.loc["A", "crime_number_list"] == "A/1;A/2" and table.loc["A", "referrals"] == 4
    assert table.loc["C", "is_home"] and not table.loc["A", "is_home"]
    weights = {"home_base": 2.0, "offences": 1.0, "violence": 0.5, "value": 0.5, "juveniles": 0.5}
    lead = lead_force(forces_table(sig, home_force="C"), weights).set_index("force_code")
    # C: 2 (home) + 0.2 offences + 0.5 x 10/1210 value; B: 0.2 + 0.5 + 0.5 x 900/1210 + 0.5; A: 0.6 + 0.5 x 300/1210
    assert lead.loc["C", "score"] == pytest.approx(2 + 0.2 + 0.5 * 10 / 1210, abs=1e-3)
    assert lead.loc["B", "score"] == pytest.approx(0.2 + 0.5 + 0.5 * 900 / 1210 + 0.5, abs=1e-3)
    assert lead.loc["C", "rank"] == 1 and lead.loc["B", "rank"] == 2 and lead.loc["A", "rank"] == 3
    assert "home base" in lead.loc["C", "reasons"] and "violent incidents (most)" in lead.loc["B", "reasons"]
    assert "60% of offences (most)" in lead.loc["A", "reasons"]
    # no home weight: the force with most harm leads
    lead = lead_force(forces_table(sig, home_force="C"), {**weights, "home_base": 0.0})
    assert lead.force_code.iloc[0] == "B"


def test_settings_are_checked():
    with pytest.raises(WorkbenchError, match="speed_limit_kmh"):
        crossborder_settings({"runs": {"speed_limit_kmh": -5}})
    with pytest.raises(WorkbenchError, match="detour_factor"):
        crossborder_settings({"runs": {"detour_factor": 0.5}})
