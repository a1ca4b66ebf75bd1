"""Home base and lead force on hand-made runs (issue 12 item 9): run ends weighted by time of day, the densest
area then its core, the home force's share of the core, and a home on a border left out of the lead."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.crossborder import crossborder_settings, forces_table, haversine_km, home_base, lead_force
from workbench.crossborder.forces import endpoint_weights, home_settings, home_shares
from workbench.errors import WorkbenchError

HOME, WORK = (52.0, -1.0), (52.3, -1.0)          # 33 km apart: two separate 25 km areas
STORES = pd.DataFrame({"store_id": ["S1", "S2"], "town": ["Hometown", "Worktown"],
                       "latitude": [HOME[0], WORK[0]], "longitude": [HOME[1], WORK[1]], "force_code": ["H", "W"]})


def _runs(starts, ends=None):
    """starts: (lat, lon, force, 'HH:MM'); each run ends far away (its own place, 17:00) unless ends are given."""
    ends = ends or [(54.0 + 0.5 * i, -3.0 + 0.7 * i, f"F{i}", "17:00") for i in range(len(starts))]
    rows = []
    for i, ((slat, slon, sforce, st), (elat, elon, eforce, et)) in enumerate(zip(starts, ends)):
        day = f"2025-03-{i + 1:02d}"
        rows.append({"start_lat": slat, "start_lon": slon, "start_force": sforce, "start_at": pd.Timestamp(f"{day} {st}"),
                     "end_lat": elat, "end_lon": elon, "end_force": eforce, "end_at": pd.Timestamp(f"{day} {et}")})
    return pd.DataFrame(rows)


def test_early_starts_outweigh_a_place_with_more_but_later_starts():
    # four runs set out from home at dawn; six start at the near end of the working stretch mid-morning
    starts = [(HOME[0] + 0.01 * k, HOME[1], "H", t) for k, t in enumerate(["07:45", "07:50", "07:55", "08:00"])]
    starts += [(WORK[0] + 0.01 * k, WORK[1], "W", t) for k, t in enumerate(["09:30", "09:50", "10:10", "10:30",
                                                                              "10:40", "11:00"])]
    runs = _runs(starts)
    home = home_base(runs, STORES)
    assert home.town.iloc[0] == "Hometown" and home.force_code.iloc[0] == "H"
    assert haversine_km(home.latitude.iloc[0], home.longitude.iloc[0], *HOME) < 3
    assert home.points_near.iloc[0] == 4 and home.points.iloc[0] == 20
    # every run end counted alike (time_power 0): the place with more starts wins
    flat = home_base(runs, STORES, time_power=0.0)
    assert flat.town.iloc[0] == "Worktown" and flat.points_near.iloc[0] == 6


def test_late_ends_count_like_early_starts():
    # runs start all over the place at noon; five end at home late in the evening, three elsewhere near 15:00
    starts = [(53.0 + 0.4 * i, -2.5 + 0.5 * i, f"S{i}", "12:00") for i in range(8)]
    ends = [(HOME[0], HOME[1] + 0.01 * k, "H", t) for k, t in enumerate(["20:30", "20:40", "20:50", "21:00", "21:10"])]
    ends += [(WORK[0], WORK[1] + 0.01 * k, "W", t) for k, t in enumerate(["14:50", "15:00", "15:10"])]
    weights = endpoint_weights(_runs(starts, ends))
    assert weights[8:13].min() > weights[13:].max()          # the late ends weigh most
    assert home_base(_runs(starts, ends), STORES).town.iloc[0] == "Hometown"


def test_the_estimate_is_the_core_of_the_area_not_its_middle():
    # seven run ends inside one 25 km area: four at A, three 15 km away at B; no times (equal weights)
    a, b = (52.0, -1.0), (52.0, -0.78)
    runs = pd.DataFrame({"start_lat": [a[0]] * 4 + [b[0]] * 3, "start_lon": [a[1]] * 4 + [b[1]] * 3,
                         "end_lat": [55.0 + i for i in range(7)], "end_lon": [-4.0] * 7,
                         "start_force": ["A"] * 4 + ["B"] * 3, "end_force": list("CDEFGHI")})
    home = home_base(runs, STORES)
    assert 14 < haversine_km(*a, *b) < 16
    assert haversine_km(home.latitude.iloc[0], home.longitude.iloc[0], *a) < 0.5
    assert home.points_area.iloc[0] == 7 and home.points_near.iloc[0] == 4 and home.force_share.iloc[0] == 1.0


def test_a_home_on_a_border_says_so_and_is_left_out_of_the_lead():
    # the home core: three run starts in force X, two in force Y, all at the same hour (equal weights)
    starts = [(HOME[0], HOME[1] + 0.01 * k, "X" if k < 3 else "Y", "09:00") for k in range(5)]
    runs = _runs(starts)
    runs["end_at"] = pd.Timestamp("2025-03-01 17:00")
    home = home_base(runs, STORES)
    assert home.force_code.iloc[0] == "X" and home.force_share.iloc[0] == pytest.approx(0.6)
    assert home_shares(home) == {"X": 0.6, "Y": 0.4}
    sig = pd.DataFrame({"incident_id": range(1, 11), "force_code": ["X", "Y"] + ["Z"] * 8, "force_name": None,
                        "crime_number": [f"C{i}" for i in range(10)], "referrals": 1, "violence": False,
                        "juveniles": 0, "value_gbp": 100.0, "occurred_at": pd.Timestamp("2025-03-01 09:00")})
    table = forces_table(sig, home_force="X", home_shares=home_shares(home)).set_index("force_code")
    assert table.loc["X", "is_home"] and table.loc["X", "home_share"] == 0.6 and table.loc["Y", "home_share"] == 0.4
    weights = crossborder_settings()["lead_force"]["weights"]
    lead = lead_force(table.reset_index(), weights, home_min_share=0.7).set_index("force_code")
    assert lead.index[0] == "Z" and lead.loc["X", "share_home_base"] == 0
    assert "on a border (60% of its run ends here, under 70%): not counted" in lead.loc["X", "reasons"]
    assert "40% of the home base's run ends" in lead.loc["Y", "reasons"]
    # a home mostly in one force counts (and leads: 2 x home beats 80% of the offences)
    counted = lead_force(table.reset_index(), weights, home_min_share=0.5)
    assert counted.force_code.iloc[0] == "X" and "home base is in this force (60% of its run ends)" in counted.reasons.iloc[0]
    assert counted.force_code.iloc[1] == "Z"                                   # the runner-up


def test_home_settings_packaged_and_refused():
    options, share = home_settings(crossborder_settings())
    assert options == {"radius_km": 25.0, "core_km": 8.0, "time_power": 2.0, "floor_weight": 0.1,
                       "through_penalty": 1.0} and share == 0.7
    for bad, message in [({"home_base": {"core_km": "near"}}, "home_base.core_km must be a number"),
                         ({"home_base": {"floor_weight": 2}}, "floor_weight from 0 to 1"),
                         ({"home_base": {"radius_km": 0}}, "radius_km and core_km above 0"),
                         ({"home_base": {"through_penalty": -1}}, "through_penalty at least 0"),
                         ({"lead_force": {"home_min_share": 1.5}}, "home_min_share must be from 0 to 1")]:
        with pytest.raises(WorkbenchError, match=message) as err:
            home_settings({**crossborder_settings(), **bad})
        assert "\n" not in str(err.value)


def _through_runs():
    """An away group: 4 runs set out from home (a stop there), drive through the near end of the working stretch
    W and on; 6 runs start at W itself (no home stop seen). No times: every run end weighs the same."""
    rows, route = [], []
    for i in range(10):
        far = (54.0 + 0.3 * i, -3.0, f"F{i}")
        stops = ([(*HOME, "H")] if i < 4 else [(WORK[0], WORK[1] + 0.01, "W")])   # W runs: a 2nd stop in W
        stops += [(WORK[0] + 0.005 * i, WORK[1], "W"), (53.0, -2.0, "M"), far]
        rid = f"GR1-R{i + 1:03d}"
        rows.append({"run_id": rid, "start_lat": stops[0][0], "start_lon": stops[0][1], "start_force": stops[0][2],
                     "end_lat": far[0], "end_lon": far[1], "end_force": far[2]})
        route += [{"run_id": rid, "seq": k + 1, "latitude": a, "longitude": b} for k, (a, b, _f) in enumerate(stops)]
    return pd.DataFrame(rows), pd.DataFrame(route)


def test_a_place_runs_pass_through_is_not_the_home():
    from workbench.crossborder.forces import runs_through

    runs, route = _through_runs()
    # without the route, W (6 run starts) outnumbers home (4)
    # (a W run's second stop in W is mid-run, but the run starts there: it does not pass through)
    assert home_base(runs, STORES).town.iloc[0] == "Worktown"
    # the 4 runs from home pass through W: each counts against it (6 - 4 < 4)
    home = home_base(runs, STORES, route=route)
    assert home.town.iloc[0] == "Hometown" and home.force_code.iloc[0] == "H" and home.runs_through.iloc[0] == 0
    assert haversine_km(home.latitude.iloc[0], home.longitude.iloc[0], *HOME) < 0.5
    through = runs_through(runs, route, [WORK[0], HOME[0]], [WORK[1], HOME[1]], 8.0)
    assert through.tolist() == [4.0, 0.0]
    # the penalty off: W again
    assert home_base(runs, STORES, route=route, through_penalty=0.0).town.iloc[0] == "Worktown"


def test_the_recommendation_says_what_speaks_against_it():
    sig = pd.DataFrame({"incident_id": range(1, 22), "force_code": ["H"] * 4 + ["A"] * 9 + ["B"] * 8,
                        "force_name": ["Home"] * 4 + ["Alpha"] * 9 + ["Beta"] * 8,
                        "crime_number": [f"C{i}" for i in range(21)], "referrals": 1, "violence": False,
                        "juveniles": 0, "value_gbp": 100.0, "occurred_at": pd.Timestamp("2025-03-01 09:00")})
    weights = crossborder_settings()["lead_force"]["weights"]
    lead = lead_force(forces_table(sig, home_force="H"), weights)
    reasons = lead.reasons.iloc[0]
    assert lead.force_code.iloc[0] == "H" and lead.force_code.iloc[1] == "A"
    assert "against: A Alpha has the most offences (43%, 9 against 4 here): the lead rests on the estimated home base" \
        in reasons
    assert "offences nearly tied" not in reasons and "close call" not in reasons      # 9 vs 8 is 11% apart
    # no home: A leads with 9 of 21, B close behind on offences and score
    sig.loc[sig.incident_id == 1, ["force_code", "force_name"]] = ["B", "Beta"]
    open_lead = lead_force(forces_table(sig), weights)
    first = open_lead.reasons.iloc[0]
    assert open_lead.force_code.iloc[0] == "A" and "against:" not in first
    assert "offences nearly tied: A Alpha 9, B Beta 9" in first and "close call: runner-up B Beta" in first
    assert "against:" not in open_lead.reasons.iloc[1] and "close call" not in open_lead.reasons.iloc[1]
