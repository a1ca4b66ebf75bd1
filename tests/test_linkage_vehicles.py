"""Vehicle resolution: VRM normalisation and format classes, the confusable key, partial plates, make/colour
agreement, and cloned-plate flags (impossible travel and description conflicts) with their evidence."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from workbench.linkage import (confusable_key, load_settings, normalise_vrm, partial_pattern, resolve_vehicles,
                               travel_flag, vrm_format)

LEEDS, LONDON, WAKEFIELD = (53.7997, -1.5492), (51.5074, -0.1278), (53.6833, -1.4977)


@pytest.mark.parametrize("raw, norm, fmt", [
    ("ab12 cde", "AB12CDE", "current"),
    (" AB-12.CDE ", "AB12CDE", "current"),
    ("A123 BCD", "A123BCD", "prefix"),
    ("ABC 123D", "ABC123D", "suffix"),
    ("ABC 123", "ABC123", "dateless"),
    ("1234 AB", "1234AB", "dateless"),
    ("AIZ 1234", "AIZ1234", "northern_ireland"),
    ("BFZ 123", "BFZ123", "northern_ireland"),
    ("WOB-123-X", "WOB123X", "suffix"),
    ("1-ABC-234", "1ABC234", "foreign_unknown"),
    ("12-ABC-3", "12ABC3", "foreign_unknown"),
])
def test_normalise_and_format(raw, norm, fmt):
    assert normalise_vrm(raw) == norm
    assert vrm_format(norm) == fmt


def test_normalise_nothing():
    assert normalise_vrm("  - ") is None and normalise_vrm(None) is None and vrm_format(None) == "foreign_unknown"


def test_confusable_key():
    assert confusable_key("OX73FLP") == confusable_key("0X73FLP")
    for a, b in (("O", "0"), ("I", "1"), ("S", "5"), ("B", "8"), ("Z", "2"), ("G", "6")):
        assert confusable_key(f"A{a}12CDE") == confusable_key(f"A{b}12CDE"), (a, b)
    assert confusable_key("AB12CDE") != confusable_key("AB12CDF")
    assert confusable_key("KG65LSN") == "K665L5N"


def test_partial_patterns():
    keys = [confusable_key(v) for v in ("AB12XCD", "AB12YCD", "JJ68KRB", "MS65NGS")]
    match = lambda raw: [k for k in keys if partial_pattern(raw).search(k)]  # noqa: E731
    assert match("AB12?CD") == keys[:2]
    assert match("ab12 x?d") == keys[:1]
    assert match("ends KRB") == [keys[2]]
    assert match("ending in KR8") == [keys[2]]                 # confusable inside a fragment too
    assert match("starts MS6") == [keys[3]]
    assert match("AB*") == keys[:2]
    assert partial_pattern("AB12CDE") is None and partial_pattern(None) is None


@pytest.mark.parametrize("km, hours, flagged", [
    (300.0, 1.0, True),      # 300 km in 1 h (+20 min slack): 225 km/h
    (300.0, 3.0, False),     # 90 km/h
    (150.0, 0.0, True),
    (19.0, 0.0, False),      # below min_km: never a speed flag
    (201.0, 1.0, True),      # 201 / (1 h 20 min) = 150.75 km/h > 150
    (199.0, 1.0, False),     # 149.25 km/h
])
def test_clone_speed_rule(km, hours, flagged):
    assert travel_flag(km, hours, {"max_speed_kmh": 150, "slack_minutes": 20, "min_km": 20}) is flagged


def test_clone_speed_rule_short_hops_never_flagged():
    no_slack = {"max_speed_kmh": 150, "slack_minutes": 0, "min_km": 20}
    assert travel_flag(19.0, 0.0, no_slack) is False          # 19 km "instantly": two stores of one town
    assert travel_flag(21.0, 0.0, no_slack) is True
    assert travel_flag(None, 1.0, no_slack) is False and travel_flag(300.0, float("nan"), no_slack) is False


def _sightings(rows):
    return pd.DataFrame([{"mention_id": 100 + i, "vrm_raw": r[0], "make": r[1], "colour": r[2],
                          "occurred_at": r[3], "latitude": r[4][0], "longitude": r[4][1], "location": r[5]}
                         for i, r in enumerate(rows)])


def test_resolution_confusables_partials_and_clones():
    t0 = datetime(2025, 3, 1, 10, 0)
    frame = _sightings([
        ("OX73 FLP", "Renault Clio", "silver", t0, LEEDS, "Leeds"),
        ("0X73FLP", None, None, t0 + timedelta(days=3), WAKEFIELD, "Wakefield"),
        ("ox73 f", None, None, t0 + timedelta(days=5), LEEDS, "Leeds"),           # partial: start of one plate
        ("AE71 USM", "Citroen Berlingo", "red", t0, LEEDS, "Leeds store"),
        ("AE71USM", "Renault Clio", "dark blue", t0 + timedelta(minutes=50), LONDON, "London store"),
        ("AE71 USM", None, "red", t0 + timedelta(days=1), WAKEFIELD, "Wakefield"),  # nearest described: Leeds car
        ("AB12?CD", None, None, t0, LEEDS, "Leeds"),                              # fits no plate
        ("KH20 UVM", "Mercedes Sprinter", "grey", t0, LEEDS, "Leeds"),
        ("KH20 UVM", "mercedes  sprinter", "silver", t0 + timedelta(days=9), LONDON, "London"),  # same family
    ])
    res = resolve_vehicles(frame, load_settings())
    links = res.links.set_index("mention_id")
    cl = links.cluster_id
    assert cl["100"] == cl["101"] == cl["102"]
    assert links.loc["101", "joined_by"] == "confusable" and links.loc["102", "joined_by"] == "partial"
    assert cl["103"] != cl["104"] and cl["105"] == cl["103"]
    assert links.loc["106", "joined_by"] == "unresolved" and pd.isna(cl["106"])
    assert cl["107"] == cl["108"]
    flags = res.flags
    assert set(flags.vrm) == {"AE71USM"}
    conflict = flags[flags.kind == "description_conflict"].iloc[0]
    evidence = json.loads(conflict.evidence)
    assert evidence["field"] == "make" and evidence["descriptions"] == ["citroen berlingo", "renault clio"]
    travel = json.loads(flags[flags.kind == "impossible_travel"].iloc[0].evidence)
    assert travel["a"]["place"] == "Leeds store" and travel["b"]["place"] == "London store"
    assert 250 < travel["km"] < 300 and travel["hours"] == pytest.approx(50 / 60, abs=0.01)
    assert travel["implied_speed_kmh"] > 150
    vehicles = res.vehicles.set_index("cluster_id")
    assert vehicles.loc[cl["100"], "vrm"] == "OX73FLP" and vehicles.loc[cl["100"], "mentions"] == 3


def test_ambiguous_partial_lists_candidates():
    t0 = datetime(2025, 3, 1)
    frame = _sightings([("AB12 XCD", None, None, t0, LEEDS, "x"), ("AB12 YCD", None, None, t0, LEEDS, "y"),
                        ("AB12?CD", None, None, t0, LEEDS, "z"), ("A?", None, None, t0, LEEDS, "too short")])
    links = resolve_vehicles(frame, load_settings()).links.set_index("mention_id")
    mapping = load_settings().vehicles["confusable"]
    assert json.loads(links.loc["102", "candidates"]) == sorted([confusable_key("AB12XCD", mapping),
                                                                 confusable_key("AB12YCD", mapping)])
    assert links.loc["103", "joined_by"] == "unresolved"


def test_vehicle_decisions_and_bad_input():
    t0 = datetime(2025, 3, 1)
    frame = _sightings([("AB12 XCD", None, None, t0, LEEDS, "<script>x</script>"),
                        ("AB12XCD", None, None, t0, LEEDS, "=cmd|' /C calc'!A0"),
                        ("'; DROP TABLE vehicle_links;--", None, None, None, (None, None), None),
                        ("", None, None, t0, LEEDS, None)])
    res = resolve_vehicles(frame, load_settings(), cannot_link=[("100", "101")])
    cl = res.links.set_index("mention_id").cluster_id
    assert cl["100"] != cl["101"]
    assert res.links.set_index("mention_id").loc["102", "vrm_format"] == "foreign_unknown"
    empty = resolve_vehicles(frame.iloc[0:0], load_settings())
    assert empty.links.empty and empty.flags.empty and empty.vehicles.empty
