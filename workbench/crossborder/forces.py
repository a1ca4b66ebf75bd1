"""Forces and lead force: which forces a series touches, the flows between them, a home base and a lead force.

    forces_table(incidents, runs, home_force)     # per force: incidents, crime numbers, referrals, harm, runs
    flows(legs)                                   # force-to-force: run legs crossing a border
    home_base(runs, stores)                       # estimated from where runs start and end (one-row frame)
    lead_force(table, weights)                    # per force: score, components, reasons, rank (1 = recommended)

Home base: every run's start and end point, weighted by the time of day: a run that starts early set out from
near where the group spent the night, one that ends late ends near where it will spend the next (weight = floor
+ (1 - floor) x rank^power, rank = the start's earliness / the end's lateness among the series' runs, 0-1;
points without a time weigh 1). The densest place at two scales: the point with the most weight within
radius_km (the area the group sets out from and returns to), then inside that area the point with the most
weight within core_km (the town); the estimate is the weighted mean of the core's points, named by the nearest
store's town. Its force is the force holding most of the core's weight, with that share (`force_share`; all the
shares in `force_shares`), so a home on a border says so.

Lead force: each force's score is the sum of weight x share over the criteria (home base: 1 for the force of the
home base when at least home_min_share of the home core lies in it, else 0 for every force: a home straddling
a border is not counted; offences, violent incidents, value stolen, incidents with a juvenile: the force's
share of the series' total). The highest score is recommended, the next is the runner-up; reasons say which
criteria each force leads or has. Weights: the `lead_force:` section of workbench/config/crossborder.yaml.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.crossborder.runs import haversine_km

FORCE_COLUMNS = ["force_code", "force_name", "incidents", "crime_numbers", "crime_number_list", "referrals",
                 "violent", "juvenile_incidents", "value_gbp", "runs", "first_seen", "last_seen", "is_home",
                 "home_share"]
FLOW_COLUMNS = ["from_force", "to_force", "legs", "runs", "first_at", "last_at"]
HOME_COLUMNS = ["latitude", "longitude", "town", "force_code", "points", "points_near", "support", "force_share",
                "force_shares", "points_area", "runs_through"]
HOME_DEFAULTS = {"radius_km": 25.0, "core_km": 8.0, "time_power": 2.0, "floor_weight": 0.1, "through_penalty": 1.0}
CRITERIA = ("home_base", "offences", "violence", "value", "juveniles")


def forces_table(incidents: pd.DataFrame, route: pd.DataFrame | None = None,
                 home_force: str | None = None, home_shares: dict | None = None) -> pd.DataFrame:
    """Per force of a series' incidents (signatures): incidents, crime numbers (distinct, listed), current
    referrals, violent incidents, incidents with a juvenile, value, runs touching it, first and last seen,
    whether the home base lies in it, and the share of the home core's weight in it (`home_shares`, from
    home_base's force_shares; 1.0 for the home force when not given). Incidents with no force are under
    force_code None. Most incidents first."""
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
                     "last_seen": sub.occurred_at.max(), "is_home": bool(home_force is not None and force == home_force),
                     "home_share": _home_share(force, home_force, home_shares)})
    out = pd.DataFrame(rows, columns=FORCE_COLUMNS)
    return out.sort_values(["incidents", "force_code"], ascending=[False, True]).reset_index(drop=True)


def _home_share(force, home_force, home_shares: dict | None) -> float:
    if home_shares is None:
        return 1.0 if home_force is not None and force == home_force else 0.0
    return float(home_shares.get(force, 0.0))


def home_settings(cfg: dict) -> tuple[dict, float]:
    """(home_base keyword arguments, lead_force home_min_share) from the cross-border settings, checked."""
    from workbench.errors import WorkbenchError

    section = {**HOME_DEFAULTS, **(cfg.get("home_base") or {})}
    out = {}
    for key in HOME_DEFAULTS:
        try:
            out[key] = float(section[key])
        except (TypeError, ValueError):
            raise WorkbenchError(f"crossborder settings: home_base.{key} must be a number, not {section[key]!r}") from None
    if not (out["radius_km"] > 0 and out["core_km"] > 0 and out["time_power"] >= 0 and 0 <= out["floor_weight"] <= 1
            and out["through_penalty"] >= 0):
        raise WorkbenchError("crossborder settings: home_base needs radius_km and core_km above 0, time_power and "
                             f"through_penalty at least 0 and floor_weight from 0 to 1 (got {out})")
    share = (cfg.get("lead_force") or {}).get("home_min_share", 0.0)
    try:
        share = float(share)
    except (TypeError, ValueError):
        raise WorkbenchError(f"crossborder settings: lead_force.home_min_share must be a number, not {share!r}") from None
    if not 0 <= share <= 1:
        raise WorkbenchError(f"crossborder settings: lead_force.home_min_share must be from 0 to 1, not {share!r}")
    return out, share


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


def _time_of_day(values) -> np.ndarray:
    stamps = pd.to_datetime(pd.Series(values), errors="coerce")
    return (stamps.dt.hour + stamps.dt.minute / 60 + stamps.dt.second / 3600).to_numpy(float)


def endpoint_weights(runs: pd.DataFrame, time_power: float = 2.0, floor_weight: float = 0.1) -> np.ndarray:
    """Weights of the runs' start points then end points: early starts and late ends weigh most (module doc)."""
    n = len(runs)
    if n == 0:
        return np.zeros(0)
    if "start_at" not in runs or "end_at" not in runs:
        return np.ones(2 * n)
    starts, ends = _time_of_day(runs.start_at), _time_of_day(runs.end_at)
    early = 1.0 - pd.Series(starts).rank(pct=True).to_numpy() + 1.0 / n      # earliest start 1, latest 1/n
    late = pd.Series(ends).rank(pct=True).to_numpy()                         # latest end 1, earliest 1/n
    rank = np.concatenate([early, late])
    weights = float(floor_weight) + (1.0 - float(floor_weight)) * np.clip(rank, 0, 1) ** float(time_power)
    return np.where(np.isnan(rank), 1.0, weights)


def runs_through(runs: pd.DataFrame, route: pd.DataFrame | None, lat: np.ndarray, lon: np.ndarray,
                 radius_km: float) -> np.ndarray:
    """For each point (lat, lon): how many runs pass through it, i.e. stop within radius_km of it between their
    first and last incident while neither their start nor their end lies within radius_km. A place runs pass
    through is on the way, not where the group sets out from or returns to. Zeros without a route."""
    n = len(runs)
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    out = np.zeros(len(lat))
    if route is None or route.empty or n == 0 or "run_id" not in runs:
        return out
    stops = route[route.run_id.isin(runs.run_id)].dropna(subset=["latitude", "longitude"])
    if stops.empty:
        return out
    seq = stops.seq.to_numpy(float)
    by_run = stops.groupby("run_id").seq
    interior = (seq > by_run.transform("min").to_numpy(float)) & (seq < by_run.transform("max").to_numpy(float))
    stops = stops[interior]
    if stops.empty:
        return out
    position = {rid: k for k, rid in enumerate(runs.run_id)}
    run_of = stops.run_id.map(position).to_numpy(int)
    near_stop = haversine_km(lat[:, None], lon[:, None], stops.latitude.to_numpy(float)[None, :],
                             stops.longitude.to_numpy(float)[None, :]) <= float(radius_km)
    inner = np.zeros((len(lat), n), dtype=bool)
    for k in range(near_stop.shape[1]):               # interior stops are few (hundreds): a loop over them
        inner[:, run_of[k]] |= near_stop[:, k]
    ends_near = (haversine_km(lat[:, None], lon[:, None], runs.start_lat.to_numpy(float)[None, :],
                              runs.start_lon.to_numpy(float)[None, :]) <= float(radius_km)) | \
                (haversine_km(lat[:, None], lon[:, None], runs.end_lat.to_numpy(float)[None, :],
                              runs.end_lon.to_numpy(float)[None, :]) <= float(radius_km))
    return (inner & ~ends_near).sum(axis=1).astype(float)


def home_base(runs: pd.DataFrame, stores: pd.DataFrame, radius_km: float = 25.0, core_km: float = 8.0,
              time_power: float = 2.0, floor_weight: float = 0.1, through_penalty: float = 1.0,
              route: pd.DataFrame | None = None) -> pd.DataFrame:
    """The estimated home base (one row, HOME_COLUMNS) from the runs' start and end points, or an empty frame
    when there are no runs. `stores`: store_id, town, latitude, longitude, force_code (to name the place).
    `route` (find_runs' route: run_id, seq, latitude, longitude): each run that passes through a place (stops
    there mid-run, neither starting nor ending there: `runs_through`) counts against it as through_penalty run
    ends of average weight; without a route nothing is subtracted.
    points: run ends; points_area / points_near: those in the home area / core; support: the core's share of
    the weight; force_share: the home force's share of the core's weight; runs_through: runs passing through
    the core."""
    if runs.empty:
        return pd.DataFrame(columns=HOME_COLUMNS)
    lat = np.concatenate([runs.start_lat.to_numpy(float), runs.end_lat.to_numpy(float)])
    lon = np.concatenate([runs.start_lon.to_numpy(float), runs.end_lon.to_numpy(float)])
    forces = np.concatenate([runs.start_force.to_numpy(object), runs.end_force.to_numpy(object)])
    weight = endpoint_weights(runs, time_power, floor_weight)
    order_key = np.concatenate([np.arange(len(runs)), np.arange(len(runs))])     # ties: the earlier run, its start
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    penalty = float(through_penalty) * float(weight.mean())
    core_km = min(float(core_km), float(radius_km))
    through_core = runs_through(runs, route, lat, lon, core_km) if penalty > 0 else np.zeros(len(lat))
    through_area = runs_through(runs, route, lat, lon, float(radius_km)) if penalty > 0 else np.zeros(len(lat))
    area = d <= float(radius_km)
    area_weight = (area * weight[None, :]).sum(axis=1) - penalty * through_area
    best_area = int(np.lexsort((order_key, -np.round(area_weight, 9)))[0])
    in_area = area[best_area]
    core = d <= core_km
    core_weight = np.where(in_area, (core * weight[None, :]).sum(axis=1) - penalty * through_core, -np.inf)
    best = int(np.lexsort((order_key, -np.round(core_weight, 9)))[0])
    members = core[best]
    w = weight[members]
    home_lat, home_lon = float((lat[members] * w).sum() / w.sum()), float((lon[members] * w).sum() / w.sum())
    known = np.array([isinstance(f, str) for f in forces[members]])
    shares = (pd.Series(w[known]).groupby(forces[members][known]).sum() if known.any() else pd.Series(dtype=float))
    shares = (shares / shares.sum()).sort_index() if len(shares) else shares
    force = shares.idxmax() if len(shares) else None
    town = None
    if len(stores):
        ds = haversine_km(home_lat, home_lon, stores.latitude.to_numpy(float), stores.longitude.to_numpy(float))
        nearest = stores.iloc[int(np.argmin(ds))]
        town = nearest.town
        if force is None:
            force, shares = nearest.force_code, pd.Series({nearest.force_code: 1.0})
    text = ";".join(f"{k}:{v:.2f}" for k, v in shares.sort_values(ascending=False, kind="stable").items())
    return pd.DataFrame([[round(home_lat, 5), round(home_lon, 5), town, force, int(len(lat)), int(members.sum()),
                          round(float(w.sum() / weight.sum()), 4), round(float(shares.get(force, 0.0)), 4), text,
                          int(in_area.sum()), int(through_core[best])]], columns=HOME_COLUMNS)


def home_shares(home: pd.DataFrame) -> dict:
    """{force_code: share of the home core's weight} from home_base's force_shares text."""
    if home.empty or not isinstance(home.force_shares.iloc[0], str) or not home.force_shares.iloc[0]:
        return {}
    return {k: float(v) for k, v in (part.rsplit(":", 1) for part in home.force_shares.iloc[0].split(";"))}


def _share(values: pd.Series) -> pd.Series:
    total = float(values.sum())
    return values / total if total > 0 else values * 0.0


CLOSE_SCORE = 0.1      # a recommendation whose runner-up scores within this is a close call
NEAR_TIE = 0.05        # offence counts within this share of the larger are nearly tied


def _caveats(out: pd.DataFrame, row, leaders: dict) -> list[str]:
    """What speaks against the recommended force (a row of the ranked lead frame): another force holding most
    offences (the lead then rests on the home base or harm), offences nearly tied, a runner-up scoring close."""
    notes = []
    top = out.sort_values(["incidents", "force_code"], ascending=[False, True])
    most = leaders.get("offences")
    if most is not None and most != row.force_code:
        other = out[out.force_code == most].iloc[0]
        rests = "the estimated home base" if row.share_home_base > 0 else "harm"
        notes.append(f"against: {_name(other)} has the most offences ({other.share_offences:.0%}, "
                     f"{int(other.incidents)} against {int(row.incidents)} here): the lead rests on {rests}")
    if len(top) > 1:
        first, second = top.iloc[0], top.iloc[1]
        if first.incidents > 0 and second.incidents >= (1 - NEAR_TIE) * first.incidents:
            notes.append(f"offences nearly tied: {_name(first)} {int(first.incidents)}, {_name(second)} "
                         f"{int(second.incidents)}")
    runner = out.iloc[1]
    if row.score - runner.score < CLOSE_SCORE:
        notes.append(f"close call: runner-up {_name(runner)} scores {runner.score:.2f} against {row.score:.2f}")
    return notes


def _name(row) -> str:
    name = row.force_name if isinstance(row.force_name, str) and row.force_name else ""
    return f"{row.force_code} {name}".strip()


def lead_force(table: pd.DataFrame, weights: dict, home_min_share: float = 0.0) -> pd.DataFrame:
    """Each force of `forces_table` scored for the lead: share_* columns, score, rank (1 = recommended, 2 =
    runner-up) and reasons (text). The home base counts only when at least home_min_share of the home core lies
    in the home force (its `home_share`). Ties: more offences, then the force code."""
    if table.empty:
        return pd.DataFrame(columns=["force_code", "force_name", "score", "rank", "reasons"])
    out = table[table.force_code.notna()].copy()
    if "home_share" not in out:
        out["home_share"] = out.is_home.astype(float)
    home_counted = out.is_home.astype(bool) & (out.home_share.astype(float) >= float(home_min_share) - 1e-9)
    shares = {"home_base": home_counted.astype(float), "offences": _share(out.incidents.astype(float)),
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
        if row.is_home and row.share_home_base > 0:
            parts.append("home base is in this force" + (f" ({row.home_share:.0%} of its run ends)"
                                                          if row.home_share < 1 else ""))
        elif row.is_home:
            parts.append(f"home base estimated on a border ({row.home_share:.0%} of its run ends here, under "
                         f"{home_min_share:.0%}): not counted")
        elif row.home_share > 0:
            parts.append(f"{row.home_share:.0%} of the home base's run ends")
        for key, word in words.items():
            share = getattr(row, f"share_{key}")
            if share > 0:
                most = " (most)" if leaders[key] == row.force_code else ""
                parts.append(f"{share:.0%} of {word}{most}")
        if len(out) == 1:
            parts.append("the only force affected")
        elif row.rank == 1:
            parts += _caveats(out, row, leaders)
        reasons.append("; ".join(parts) if parts else "no offences, harm or home base")
    out["reasons"] = reasons
    keep = ["force_code", "force_name", "score", "rank", "incidents", "violent", "value_gbp", "juvenile_incidents",
            "is_home", "home_share"] + [f"share_{k}" for k in CRITERIA] + ["reasons"]
    return out[keep]
