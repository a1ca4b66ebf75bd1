"""Tactic signatures: what an incident looked like (modus operandi), and the profile of a series of incidents.

    sig = incident_signatures(store)                   # every incident, or incident_ids=[...]
    profile = series_profile(sig)                      # long frame: facet, value, incidents, share
    summary = series_summary(sig)                      # one row: the series' typical signature

An incident's signature (one row, columns SIGNATURE_COLUMNS): its tactic codes from the controlled vocabulary
(incident_tactics; free text was mapped to codes at ingest, UNKNOWN kept apart) split into methods, goods
(kind 'target') and escalation; time of day (hour and band) and day of week; number of offenders (the stated
count, else the distinct persons mentioned); vehicle used (a vehicle mentioned); violence (stated, or an
escalation code VIOL/THREAT); force (the force area of the store, else the force stated with the crime
number, kept as stated_force_code); sector and chain of the store; value band; juveniles mentioned.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.crossborder.settings import crossborder_settings

SIGNATURE_COLUMNS = ["incident_id", "crime_number", "force_code", "stated_force_code", "force_name", "store_id", "store_name", "town",
                     "chain", "chain_name", "sector", "occurred_at", "hour", "time_band", "weekday", "day_name",
                     "methods", "goods", "escalation", "tactics", "offenders", "vehicle_used", "violence",
                     "value_gbp", "value_band", "juveniles", "referrals", "latitude", "longitude"]
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
VIOLENT_CODES = ("VIOL", "THREAT")
LIST_FACETS = ("methods", "goods", "escalation")
SCALAR_FACETS = ("time_band", "day_name", "offenders_band", "vehicle_used", "violence", "sector", "chain",
                 "value_band", "force_code")


def band(values: pd.Series, bands: dict) -> pd.Series:
    """The label of the highest band each value reaches (bands: label -> lower bound); missing stays missing."""
    ordered = sorted(bands.items(), key=lambda kv: float(kv[1]))
    bounds = np.array([float(b) for _, b in ordered])
    labels = np.array([str(k) for k, _ in ordered], dtype=object)
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(v), None, dtype=object)
    ok = ~np.isnan(v)
    idx = np.searchsorted(bounds, v[ok], side="right") - 1
    out[ok] = np.where(idx >= 0, labels[np.clip(idx, 0, None)], None)
    return pd.Series(out, index=values.index, dtype=object)


def _codes(tactics: pd.DataFrame, kind: str | None) -> pd.Series:
    rows = tactics[tactics.tactic_code != "UNKNOWN"]
    if kind is not None:
        rows = rows[rows.kind == kind]
    return rows.groupby("incident_id").tactic_code.agg(lambda s: tuple(sorted(set(s))))


def signatures_from_frames(incidents: pd.DataFrame, tactics: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Signatures from the frames of queries crossborder/incidents and crossborder/incident_tactics."""
    cfg = (settings or crossborder_settings())["signatures"]
    frame = incidents.copy()
    ids = frame.incident_id
    empty = ()
    for column, kind in (("methods", "method"), ("goods", "target"), ("escalation", "escalation"), ("tactics", None)):
        codes = _codes(tactics, kind)
        frame[column] = [codes.get(i, empty) for i in ids]
    when = pd.to_datetime(frame.occurred_at)
    frame["occurred_at"] = when
    frame["hour"] = when.dt.hour.astype("Int64")
    frame["time_band"] = band(when.dt.hour, cfg["time_bands"])
    frame["weekday"] = when.dt.day_of_week.astype("Int64")
    frame["day_name"] = [DAY_NAMES[int(d)] if pd.notna(d) else None for d in frame.weekday]
    stated = pd.to_numeric(frame.offenders_count, errors="coerce")
    mentioned = pd.to_numeric(frame.persons, errors="coerce").where(lambda s: s > 0)
    frame["offenders"] = stated.where(stated > 0, mentioned).astype("Int64")
    frame["vehicle_used"] = pd.to_numeric(frame.vehicles, errors="coerce").fillna(0) > 0
    escalated = frame.escalation.map(lambda codes: any(c in VIOLENT_CODES for c in codes))
    frame["violence"] = frame.violence.fillna(False).astype(bool) | escalated
    frame["value_band"] = band(frame.value_gbp, cfg["value_bands"])
    frame["juveniles"] = pd.to_numeric(frame.juveniles, errors="coerce").fillna(0).astype(int)
    frame["referrals"] = pd.to_numeric(frame.referrals, errors="coerce").fillna(0).astype(int)
    return frame[SIGNATURE_COLUMNS].reset_index(drop=True)


def incident_signatures(store, incident_ids=None, settings: dict | None = None) -> pd.DataFrame:
    """Tactic signatures of every incident, or of the incidents listed (columns SIGNATURE_COLUMNS)."""
    ids = [] if incident_ids is None else [int(i) for i in incident_ids]
    every = incident_ids is None
    incidents = store.query("crossborder/incidents", incident_ids=ids, all=every)
    tactics = store.query("crossborder/incident_tactics", incident_ids=ids, all=every)
    return signatures_from_frames(incidents, tactics, settings)


def _offenders_band(n) -> str | None:
    if pd.isna(n):
        return None
    n = int(n)
    return "1" if n <= 1 else "2-3" if n <= 3 else "4-5" if n <= 5 else "6+"


def series_profile(signatures: pd.DataFrame) -> pd.DataFrame:
    """The profile of a series: for each facet (methods, goods, escalation, time_band, day_name, offenders_band,
    vehicle_used, violence, sector, chain, value_band, force_code) and value, the incidents showing it and their
    share of the series' incidents (list facets: an incident counts once for each code it has). Sorted by facet,
    then most incidents first."""
    n = len(signatures)
    rows = []
    if n:
        for facet in LIST_FACETS:
            counts = pd.Series([c for codes in signatures[facet] for c in codes], dtype=object).value_counts()
            rows += [(facet, str(v), int(k)) for v, k in counts.items()]
        frame = signatures.assign(offenders_band=signatures.offenders.map(_offenders_band))
        for facet in SCALAR_FACETS:
            counts = frame[facet].dropna().astype(str).value_counts()
            rows += [(facet, str(v), int(k)) for v, k in counts.items()]
    out = pd.DataFrame(rows, columns=["facet", "value", "incidents"])
    out["share"] = (out.incidents / n).round(4) if n else pd.Series(dtype=float)
    order = {f: k for k, f in enumerate(LIST_FACETS + SCALAR_FACETS)}
    out["_o"] = out.facet.map(order)
    return out.sort_values(["_o", "incidents", "value"], ascending=[True, False, True]).drop(columns="_o") \
        .reset_index(drop=True)


def series_summary(signatures: pd.DataFrame, series_id: str | None = None) -> pd.DataFrame:
    """One row: the series' typical signature (most common methods and goods, modal time band and weekday,
    median offenders, shares with a vehicle and with violence, chains, sectors, forces, value)."""
    profile = series_profile(signatures)

    def top(facet: str, k: int = 3) -> str:
        sub = profile[profile.facet == facet].head(k)
        return ";".join(sub.value)

    n = len(signatures)
    return pd.DataFrame([{
        "series_id": series_id, "incidents": n,
        "first_seen": signatures.occurred_at.min() if n else pd.NaT,
        "last_seen": signatures.occurred_at.max() if n else pd.NaT,
        "methods": top("methods"), "goods": top("goods"), "time_band": top("time_band", 1),
        "weekday": top("day_name", 1),
        "median_offenders": float(signatures.offenders.dropna().median()) if signatures.offenders.notna().any() else None,
        "vehicle_share": round(float(signatures.vehicle_used.mean()), 4) if n else None,
        "violence_share": round(float(signatures.violence.mean()), 4) if n else None,
        "chains": top("chain", 5), "sectors": top("sector", 5),
        "forces": int(signatures.force_code.nunique()) if n else 0,
        "value_gbp": round(float(signatures.value_gbp.fillna(0).sum()), 2) if n else 0.0,
        "median_value_gbp": float(signatures.value_gbp.median()) if signatures.value_gbp.notna().any() else None,
    }])
