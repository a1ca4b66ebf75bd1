"""The pre-aggregated hotspot cube: fast filter changes for the hotspot explorer at millions of incidents.

`build(store)` (re)creates table hotspot_cube from incidents (queries/hotspots_cube_build.sql: counts per
day x force area x H3 r7/r8 cell x LSOA x retailer x offence type x tactic). It is a derived cache:
rebuild it after ingest or enrichment (`workbench hotspots cube`); `ensure(store)` builds it when
missing. `layer()` and `series()` read it with the explorer's filters, all bound as parameters.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from workbench import queries
from workbench.hotspots import cells
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


def build(store) -> int:
    q = queries.load("hotspots_cube_build")
    store.con.execute(q.sql)
    rows = store.con.execute("SELECT count(*) FROM hotspot_cube").fetchone()[0]
    store.audit("hotspots-cube", "hotspot_cube", {"rows": int(rows)})
    return int(rows)


def exists(store) -> bool:
    return bool(store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'hotspot_cube'").fetchone()[0])


def ensure(store) -> None:
    if not exists(store):
        if store.read_only:
            raise HotspotError("the store has no hotspot_cube yet; run `workbench hotspots cube` once")
        build(store)


def _day(value):
    if value is None or value == "":
        return None
    return pd.Timestamp(value).date()


def _params(resolution, start, end, force_code, retailer_id, offence_type, tactic_code) -> dict:
    if resolution not in (7, 8):
        raise HotspotError(f"the hotspot cube holds H3 resolutions 7 and 8, not {resolution}")
    return {"resolution": int(resolution), "start": _day(start), "end": _day(end), "force_code": force_code or None,
            "retailer_id": retailer_id or None, "offence_type": offence_type or None, "tactic_code": tactic_code or None}


def layer(store, resolution: int = 8, start=None, end=None, force_code=None, retailer_id=None, offence_type=None,
          tactic_code=None) -> pd.DataFrame:
    """Incidents per H3 cell for the filters (unit_id, force_code, incidents, value_gbp)."""
    return store.query("hotspots_cube_layer", **_params(resolution, start, end, force_code, retailer_id,
                                                         offence_type, tactic_code))


def series(store, resolution: int = 8, start=None, end=None, force_code=None, retailer_id=None, offence_type=None,
           tactic_code=None) -> pd.DataFrame:
    """Incidents per H3 cell and week: ISO weeks (Monday start) by default, or the 7-day blocks ending
    the day before `end` (exclusive) when it is given."""
    frame = store.query("hotspots_cube_series", **_params(resolution, start, end, force_code, retailer_id,
                                                           offence_type, tactic_code))
    frame["period_start"] = pd.to_datetime(frame["period_start"])
    return frame


def options(store) -> dict:
    frame = store.query("hotspots_cube_options")
    out = {k: sorted(g["value"].dropna().tolist()) for k, g in frame.groupby("dimension")}
    out["first_day"] = (out.get("first_day") or [None])[0]
    out["last_day"] = (out.get("last_day") or [None])[0]
    return out


def matrix(series_frame: pd.DataFrame, resolution, force_codes=None, end=None) -> CountMatrix:
    """A weekly CountMatrix over the study area of the forces from (unit_id, period_start, incidents) rows
    (a cube series or `counts.store_counts`), for forecasts and Gi*. `resolution`: an H3 resolution or a Unit.
    `end` (exclusive): the weeks run up to it, empty ones included (the rows' weeks must end there)."""
    if series_frame.empty:
        raise HotspotError("no incidents for these filters")
    unit = resolution if isinstance(resolution, cells.Unit) else cells.Unit("h3", int(resolution))
    if force_codes is None:
        from workbench import geography

        described = cells._describe_units(unit, list(series_frame["unit_id"].dropna().unique()))
        force_codes = sorted(pd.Series(geography.locate(described["latitude"], described["longitude"])
                                       ["location_force_code"]).dropna().unique())
    force_codes = [force_codes] if isinstance(force_codes, str) else list(force_codes)
    area = cells.study_area(unit, force_codes, extra_units=series_frame["unit_id"].unique())
    periods = pd.DatetimeIndex(sorted(pd.to_datetime(series_frame["period_start"]).unique()))
    last = periods.max() if end is None else pd.Timestamp(end) - pd.Timedelta(days=7)
    periods = pd.date_range(periods.min(), last, freq="7D")
    anchor = "calendar" if end is None else "until"
    r = pd.Series(np.arange(len(area)), index=area["unit_id"]).reindex(series_frame["unit_id"]).to_numpy()
    c = pd.Series(np.arange(len(periods)), index=periods).reindex(series_frame["period_start"]).to_numpy()
    ok = ~(np.isnan(r) | np.isnan(c))
    counts = np.zeros((len(area), len(periods)))
    np.add.at(counts, (r[ok].astype(int), c[ok].astype(int)), series_frame["incidents"].to_numpy(dtype=float)[ok])
    return CountMatrix(unit=unit, period="week", units=area, periods=periods, counts=counts,
                       end=periods[-1] + pd.Timedelta(days=7), anchor=anchor)
