"""Runs: same-day chains of a series' incidents whose consecutive legs are feasible by road.

    r = find_runs(series.incidents, series_id="GR00001")        # Runs(runs, legs, route, skipped)

Road distance is the great-circle distance times `detour_factor`; a leg from incident a to a later incident b of
the same day is feasible when road_km <= speed_limit_kmh x hours between them (a leg of no time is feasible only
at the same place) and the pause is at most max_gap_hours. Each day's incidents are taken in time order; an
incident extends the open chain of that day whose last incident it can be reached from (the most recent such
chain; ties: the nearer), else it starts a new chain, so two crews out on one day give two runs. Chains of at
least min_incidents incidents are runs (ids <series>-R001 ... in time order); the rest are single visits (in
`route` with no run id). Incidents without a time or a place cannot be placed on a route: they are listed in
`skipped` with the reason. Settings: the `runs:` section of workbench/config/crossborder.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.crossborder.settings import crossborder_settings

EARTH_KM = 6371.0088
RUN_COLUMNS = ["run_id", "series_id", "date", "start_at", "end_at", "hours", "incidents", "forces", "force_path",
               "border_crossings", "straight_km", "road_km", "max_speed_kmh", "start_incident", "end_incident",
               "start_force", "end_force", "start_lat", "start_lon", "end_lat", "end_lon"]
LEG_COLUMNS = ["run_id", "leg", "from_incident", "to_incident", "from_at", "to_at", "from_force", "to_force",
               "straight_km", "road_km", "hours", "speed_kmh", "crosses_border"]
ROUTE_COLUMNS = ["run_id", "seq", "incident_id", "occurred_at", "store_id", "store_name", "town", "force_code",
                 "latitude", "longitude"]


@dataclass
class Runs:
    runs: pd.DataFrame
    legs: pd.DataFrame
    route: pd.DataFrame
    skipped: pd.DataFrame


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (arrays or scalars)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def leg_feasible(straight_km: float, hours: float, speed_limit_kmh: float, detour_factor: float) -> bool:
    """Whether a leg of this straight-line distance can be driven in this time (road km = straight x detour)."""
    if hours < 0:
        return False
    return straight_km * detour_factor <= speed_limit_kmh * hours + 1e-9


def _skipped(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    no_time = frame.occurred_at.isna()
    no_place = frame.latitude.isna() | frame.longitude.isna()
    reasons = np.where(no_time & no_place, "no time and no place", np.where(no_time, "no time", "no place"))
    bad = no_time | no_place
    skipped = pd.DataFrame({"incident_id": frame.incident_id[bad].to_numpy(), "reason": reasons[bad.to_numpy()]})
    return frame[~bad].copy(), skipped


def chain_day(day: pd.DataFrame, cfg: dict) -> list[list[int]]:
    """Chains (lists of row positions of `day`, in time order) of one day's incidents, sorted by time."""
    return _chain_arrays(day.occurred_at.to_numpy(), day.latitude.to_numpy(dtype=float),
                         day.longitude.to_numpy(dtype=float), cfg)


def _chain_arrays(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, cfg: dict) -> list[list[int]]:
    """chain_day on one day's arrays (times as datetime64, sorted; latitudes; longitudes)."""
    limit, detour, max_gap = float(cfg["speed_limit_kmh"]), float(cfg["detour_factor"]), float(cfg["max_gap_hours"])
    chains: list[list[int]] = []
    for k in range(len(t)):
        best, best_key = None, None
        for c, chain in enumerate(chains):
            j = chain[-1]
            hours = (t[k] - t[j]) / np.timedelta64(1, "h")
            if hours > max_gap:
                continue
            km = float(haversine_km(lat[j], lon[j], lat[k], lon[k]))
            if not leg_feasible(km, hours, limit, detour):
                continue
            key = (hours, km)
            if best_key is None or key < best_key:
                best, best_key = c, key
        if best is None:
            chains.append([k])
        else:
            chains[best].append(k)
    return chains


def _path(forces) -> str:
    out = []
    for f in forces:
        f = f if isinstance(f, str) else "?"
        if not out or out[-1] != f:
            out.append(f)
    return ">".join(out)


def find_runs(incidents: pd.DataFrame, series_id: str = "S", settings: dict | None = None) -> Runs:
    """Runs of one series' incidents (columns incident_id, occurred_at, latitude, longitude, force_code; store_id,
    store_name, town used when present)."""
    cfg = (settings or crossborder_settings())["runs"]
    frame = incidents.copy()
    for column in ("store_id", "store_name", "town", "force_code"):
        if column not in frame:
            frame[column] = None
    frame["occurred_at"] = pd.to_datetime(frame.occurred_at)
    placed, skipped = _skipped(frame)
    placed = placed.sort_values(["occurred_at", "incident_id"]).reset_index(drop=True)
    # plain arrays and lists, not per-day frames: a series of thousands of incidents is chained in well under a second
    t = placed.occurred_at.to_numpy()
    lat, lon = placed.latitude.to_numpy(dtype=float), placed.longitude.to_numpy(dtype=float)
    dates = placed.occurred_at.dt.date.tolist()
    stamps = placed.occurred_at.tolist()
    ids = placed.incident_id.tolist()
    forces_all = placed.force_code.tolist()
    stores, names, towns = placed.store_id.tolist(), placed.store_name.tolist(), placed.town.tolist()
    lats, lons = placed.latitude.tolist(), placed.longitude.tolist()
    day_codes = t.astype("datetime64[D]")
    bounds = np.flatnonzero(np.r_[True, day_codes[1:] != day_codes[:-1], True]) if len(t) else np.array([0])
    chains: list[list[int]] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        chains += [[int(a) + k for k in c] for c in _chain_arrays(t[a:b], lat[a:b], lon[a:b], cfg)]
    chains.sort(key=lambda c: (stamps[c[0]], ids[c[0]]))
    detour = float(cfg["detour_factor"])
    runs, legs, route = [], [], []
    k = 0
    for chain in chains:
        is_run = len(chain) >= int(cfg["min_incidents"])
        run_id = None
        if is_run:
            k += 1
            run_id = f"{series_id}-R{k:03d}"
        for seq, i in enumerate(chain, start=1):
            route.append([run_id, seq if is_run else 1, ids[i], stamps[i], stores[i], names[i], towns[i],
                          forces_all[i], lats[i], lons[i]])
        if not is_run:
            continue
        pos = np.asarray(chain)
        km = haversine_km(lat[pos][:-1], lon[pos][:-1], lat[pos][1:], lon[pos][1:])
        hours = np.diff(t[pos]) / np.timedelta64(1, "h")
        forces = [forces_all[i] for i in chain]
        speeds = []
        for n in range(len(chain) - 1):
            speed = float(km[n] * detour / hours[n]) if hours[n] > 0 else 0.0
            speeds.append(speed)
            crosses = isinstance(forces[n], str) and isinstance(forces[n + 1], str) and forces[n] != forces[n + 1]
            legs.append([run_id, n + 1, ids[chain[n]], ids[chain[n + 1]], stamps[chain[n]], stamps[chain[n + 1]],
                         forces[n], forces[n + 1], round(float(km[n]), 3), round(float(km[n] * detour), 3),
                         round(float(hours[n]), 4), round(speed, 2), bool(crosses)])
        first, last = chain[0], chain[-1]
        runs.append([run_id, series_id, dates[first], stamps[first], stamps[last],
                     round(float((stamps[last] - stamps[first]) / pd.Timedelta(hours=1)), 4), len(chain),
                     len({f for f in forces if isinstance(f, str)}), _path(forces),
                     int(sum(1 for leg in legs[-(len(chain) - 1):] if leg[-1])),
                     round(float(km.sum()), 3), round(float(km.sum() * detour), 3), round(max(speeds), 2),
                     ids[first], ids[last], forces_all[first], forces_all[last],
                     float(lats[first]), float(lons[first]), float(lats[last]), float(lons[last])])
    return Runs(pd.DataFrame(runs, columns=RUN_COLUMNS), pd.DataFrame(legs, columns=LEG_COLUMNS),
                pd.DataFrame(route, columns=ROUTE_COLUMNS), skipped)
