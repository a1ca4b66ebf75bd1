"""Tactic signatures and series profiles from hand-made query frames."""
from __future__ import annotations

import pandas as pd

from workbench.crossborder import crossborder_settings, series_profile, series_summary
from workbench.crossborder.signatures import band, signatures_from_frames

INC_COLUMNS = ["incident_id", "crime_number", "force_code", "stated_force_code", "force_name", "store_id",
               "store_name", "town", "chain", "chain_name", "sector", "occurred_at", "offence_type", "value_gbp",
               "offenders_count", "violence", "latitude", "longitude", "persons", "juveniles", "vehicles", "referrals"]


def _frames():
    inc = pd.DataFrame([
        (1, "A/1", "35", "35", "Cambs", "BRM-1", "B1", "Ely", "BRM", "Brightmart", "supermarket",
         pd.Timestamp("2025-03-03 09:30"), "shoplifting", 99.99, None, False, 52.0, 0.0, 3, 1, 1, 2),
        (2, "A/2", "35", "34", "Cambs", "CLR-1", "C1", "Ely", "CLR", "Cellar", "off-licence",
         pd.Timestamp("2025-03-08 19:05"), "shoplifting", 1000.0, 4, None, 52.0, 0.0, 1, 0, 0, 1),
    ], columns=INC_COLUMNS)
    tac = pd.DataFrame([(1, "RUSH", "method"), (1, "ALCOHOL", "target"), (1, "UNKNOWN", "unknown"),
                        (2, "RUSH", "method"), (2, "THREAT", "escalation"), (2, "MEAT", "target")],
                       columns=["incident_id", "tactic_code", "kind"])
    return inc, tac


def test_incident_signature_fields():
    inc, tac = _frames()
    sig = signatures_from_frames(inc, tac, crossborder_settings()).set_index("incident_id")
    assert sig.loc[1, "methods"] == ("RUSH",) and sig.loc[1, "goods"] == ("ALCOHOL",)
    assert "UNKNOWN" not in sig.loc[1, "tactics"]
    assert sig.loc[1, "time_band"] == "morning" and sig.loc[2, "time_band"] == "evening"
    assert sig.loc[1, "day_name"] == "Mon" and sig.loc[2, "day_name"] == "Sat"
    assert sig.loc[1, "offenders"] == 3 and sig.loc[2, "offenders"] == 4      # mentioned persons / stated count
    assert bool(sig.loc[1, "vehicle_used"]) and not bool(sig.loc[2, "vehicle_used"])
    assert not sig.loc[1, "violence"] and sig.loc[2, "violence"]               # THREAT counts as violence
    assert sig.loc[1, "value_band"] == "under_100" and sig.loc[2, "value_band"] == "1000_to_4999"
    assert sig.loc[2, "stated_force_code"] == "34" and sig.loc[2, "force_code"] == "35"


def test_bands_are_lower_bounds_inclusive():
    bands = {"low": 0, "mid": 100, "high": 500}
    assert band(pd.Series([0, 99.99, 100, 499.5, 500, None]), bands).tolist() == ["low", "low", "mid", "mid",
                                                                                  "high", None]


def test_series_profile_and_summary():
    inc, tac = _frames()
    sig = signatures_from_frames(inc, tac, crossborder_settings())
    prof = series_profile(sig)
    methods = prof[prof.facet == "methods"]
    assert methods.values.tolist() == [["methods", "RUSH", 2, 1.0]]
    goods = prof[prof.facet == "goods"].set_index("value").share.to_dict()
    assert goods == {"ALCOHOL": 0.5, "MEAT": 0.5}
    summary = series_summary(sig, "GR1").iloc[0]
    assert summary.incidents == 2 and summary.methods == "RUSH" and summary.violence_share == 0.5
    assert summary.value_gbp == 1099.99 and summary.forces == 1
