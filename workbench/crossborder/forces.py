"""Forces and lead force: which forces a series touches, the flows between them, a home base and a lead force.

    forces_table(incidents, runs, home_force)     # per force: incidents, crime numbers, referrals, harm, runs
    flows(legs)                                   # force-to-force: run legs crossing a border
    home_base(runs, stores)                       # estimated from where runs start and end (one-row frame)
    lead_force(table, weights)                    # per force: score, components, reasons, rank (1 = recommended)

Home base: every run's start and end point; the point with the most others within radius_km (ties: more run
starts, then the earlier run) is the densest place the group sets out from or returns to; the estimate is the
mean of the points within radius_km of it, named by the nearest store's town; its force is the force most of
those points (incidents) lie in (the nearest store's when none is known), which is steadier near a border.

Lead force: each force's score is the sum of weight x share over the criteria (home base: 1 for the force of the
home base; offences, violent incidents, value stolen, incidents with a juvenile: the force's share of the
series' total). The highest score is recommended, the next is the runner-up; reasons say which criteria each
force leads or has. Weights: the `lead_force:` section of workbench/config/crossborder.yaml.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.crossborder.runs import haversine_km

FORCE_COLUMNS = ["force_code", "force_name", "incidents", "crime_numbers", "crime_number_list", "referrals",
                 "violent", "juvenile_incidents", "value_gbp", "runs", "first_seen", "last_seen", "is_home"]
FLOW_COLUMNS = ["from_force", "to_force", "legs", "runs", "first_at", "last_at"]
HOME_COLUMNS = ["latitude", "longitude", "town", "force_code", "points", "points_near", "support"]
CRITERIA = ("home_base", "offences", "violence", "value", "juveniles")


def forces_table(incidents: pd.DataFrame, route: pd.DataFrame | None = None,
                 home_force: str | None = None) -> pd.DataFrame:
    """Per force of a series' incidents (signatures): incidents, crime numbers (distinct, listed), current
    referrals, violent incidents, incidents with a juvenile, value, runs touching it, first and last seen, and
    whether the home base lies in it. Incidents with no force are under force_code None. Most incidents first."""
    if incidents.empty:
        return pd.DataFrame(columns=FORCE_COLUMNS)
    frame = incidents.copy()
    frame["force_code"] = frame.force_code.where(frame.force_code.notna(), None)
    run_of = {}
    if route is not None and len(route):
        placed = route[route.run_id.notna()]
        run_of = dict(zip(placed.incident_id, placed.run_id))
    frame["run_id"] = frame.incident_id.map(run_of)
    rows = []
    for force, sub in frame.groupby(frame.force_code.fillna("?"), sort=True):
        numbers = sorted({str(c) for c in sub.crime_number.dropna() if str(c).strip()})
        names = sub.force_name.dropna()
        rows.append({"force_code": None if force == "?" else force,
                     "force_name": names.iloc[0] if len(names) else None,
                     "incidents": int(len(sub)), "crime_numbers": len(numbers),
                     "crime_number_list": ";".join(numbers), "referrals": int(sub.referrals.sum()),
                     "violent": int(sub.violence.sum()), "juvenile_incidents": int((sub.juveniles > 0).sum()),
                     "value_gbp": round(float(sub.value_gbp.fillna(0).sum()), 2),
                     "runs": int(sub.run_id.dropna().nunique()), "first_seen": sub.occurred_at.min(),
                     "last_seen": sub.occurred_at.max(), "is_home": bool(home_force is not None and force == home_force)})
    out = pd.DataFrame(rows, columns=FORCE_COLUMNS)
    return out.sort_values(["incidents", "force_code"], ascending=[False, True]).reset_index(drop=True)


def flows(legs: pd.DataFrame) -> pd.DataFrame:
    """Force-to-force flows: the run legs whose two incidents lie in different forces, counted per ordered pair
    (legs, distinct runs, first and last time). Most legs first."""
    cross = legs[legs.crosses_border.astype(bool)] if len(legs) else legs
    if cross.empty:
        return pd.DataFrame(columns=FLOW_COLUMNS)
    out = cross.groupby(["from_force", "to_force"]).agg(legs=("leg", "size"), runs=("run_id", "nunique"),
                                                        first_at=("from_at", "min"), last_at=("to_at", "max"))
    out = out.reset_index().sort_values(["legs", "from_force", "to_force"], ascending=[False, True, True])
    return out[FLOW_COLUMNS].reset_index(drop=True)


def home_base(runs: pd.DataFrame, stores: pd.DataFrame, radius_km: float = 15.0) -> pd.DataFrame:
    """The estimated home base (one row, HOME_COLUMNS) from the runs' start and end points, or an empty frame
    when there are no runs. `stores`: store_id, town, latitude, longitude, force_code (to name the place)."""
    if runs.empty:
        return pd.DataFrame(columns=HOME_COLUMNS)
    lat = np.concatenate([runs.start_lat.to_numpy(float), runs.end_lat.to_numpy(float)])
    lon = np.concatenate([runs.start_lon.to_numpy(float), runs.end_lon.to_numpy(float)])
    is_start = np.concatenate([np.ones(len(runs), bool), np.zeros(len(runs), bool)])
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    near = d <= float(radius_km)
    counts = near.sum(axis=1)
    starts = (near & is_start[None, :]).sum(axis=1)
    order = np.lexsort((np.arange(len(lat)), -starts, -counts))
    best = order[0]
    members = near[best]
    home_lat, home_lon = float(lat[members].mean()), float(lon[members].mean())
    forces = np.concatenate([runs.start_force.to_numpy(object), runs.end_force.to_numpy(object)])[members]
    known = [f for f in forces if isinstance(f, str)]
    town = None
    force = pd.Series(known).value_counts().sort_index().idxmax() if known else None
    if len(stores):
        ds = haversine_km(home_lat, home_lon, stores.latitude.to_numpy(float), stores.longitude.to_numpy(float))
        nearest = stores.iloc[int(np.argmin(ds))]
        town = nearest.town
        force = force if force is not None else nearest.force_code
    return pd.DataFrame([[round(home_lat, 5), round(home_lon, 5), town, force, int(len(lat)), int(members.sum()),
                          round(float(members.sum()) / len(lat), 4)]], columns=HOME_COLUMNS)


def _share(values: pd.Series) -> pd.Series:
    total = float(values.sum())
    return values / total if total > 0 else values * 0.0


def lead_force(table: pd.DataFrame, weights: dict) -> pd.DataFrame:
    """Each force of `forces_table` scored for the lead: share_* columns, score, rank (1 = recommended, 2 =
    runner-up) and reasons (text). Ties: more offences, then the force code."""
    if table.empty:
        return pd.DataFrame(columns=["force_code", "force_name", "score", "rank", "reasons"])
    out = table[table.force_code.notna()].copy()
    shares = {"home_base": out.is_home.astype(float), "offences": _share(out.incidents.astype(float)),
              "violence": _share(out.violent.astype(float)), "value": _share(out.value_gbp.astype(float)),
              "juveniles": _share(out.juvenile_incidents.astype(float))}
    out["score"] = 0.0
    for key in CRITERIA:
        out[f"share_{key}"] = shares[key].round(4)
        out["score"] += float(weights.get(key, 0.0)) * shares[key]
    out["score"] = out.score.round(4)
    out = out.sort_values(["score", "incidents", "force_code"], ascending=[False, False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    leaders = {key: out.loc[out[f"share_{key}"].idxmax(), "force_code"] if out[f"share_{key}"].max() > 0 else None
               for key in CRITERIA if key != "home_base"}
    words = {"offences": "offences", "violence": "violent incidents", "value": "value stolen",
             "juveniles": "incidents with a juvenile"}
    reasons = []
    for row in out.itertuples():
        parts = []
        if row.is_home:
            parts.append("home base is in this force")
        for key, word in words.items():
            share = getattr(row, f"share_{key}")
            if share > 0:
                most = " (most)" if leaders[key] == row.force_code else ""
                parts.append(f"{share:.0%} of {word}{most}")
        if len(out) == 1:
            parts.append("the only force affected")
        reasons.append("; ".join(parts) if parts else "no offences, harm or home base")
    out["reasons"] = reasons
    keep = ["force_code", "force_name", "score", "rank", "incidents", "violent", "value_gbp", "juvenile_incidents",
            "is_home"] + [f"share_{k}" for k in CRITERIA] + ["reasons"]
    return out[keep]
