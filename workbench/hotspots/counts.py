"""Counts and rates per unit and period, as a long table and as a units x periods matrix."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.hotspots import cells
from workbench.hotspots.events import HotspotError, validate


@dataclass
class CountMatrix:
    """Counts of events per study-area unit (rows, `units`) and period (columns, `periods`)."""
    unit: cells.Unit
    period: str
    units: pd.DataFrame            # study area: unit_id, force_code, x, y, latitude, longitude, area_km2, label
    periods: pd.DatetimeIndex      # period start of each column
    counts: np.ndarray             # float, shape (len(units), len(periods))
    end: pd.Timestamp | None = None
    events: pd.DataFrame | None = None   # the events with unit_id and period_start added
    cache: dict = field(default_factory=dict)

    @property
    def total_area(self) -> float:
        return float(self.units["area_km2"].sum())

    def long(self) -> pd.DataFrame:
        """unit_id, period_start, count, area_km2, rate_per_km2 for units with a count in a period."""
        rows, cols = np.nonzero(self.counts)
        out = pd.DataFrame({"unit_id": self.units["unit_id"].to_numpy()[rows], "period_start": self.periods[cols],
                            "count": self.counts[rows, cols].astype(int),
                            "area_km2": self.units["area_km2"].to_numpy()[rows]})
        out["rate_per_km2"] = out["count"] / out["area_km2"]
        return out.sort_values(["period_start", "count"], ascending=[True, False]).reset_index(drop=True)


def count_matrix(events: pd.DataFrame, unit="h3:8", period: str = "week", end=None,
                 periods: str = "full", force_codes=None) -> CountMatrix:
    """Bucket events into units and periods over the study area of `force_codes` (default: the forces
    the events fall in). periods="full" makes one column per period from the first to the last;
    "observed" keeps only periods holding events (e.g. police.uk files for the same month of
    several years), so "the previous period" is the previous one observed."""
    unit = cells.parse_unit(unit) if isinstance(unit, str) else unit
    ev = validate(events)
    if end is not None:
        ev = ev[ev["occurred_at"] < pd.Timestamp(end)].reset_index(drop=True)
        if ev.empty:
            raise HotspotError("no events before the end of the analysis period")
    ev["unit_id"] = cells.assign(ev, unit).to_numpy()
    ev = ev[ev["unit_id"].notna()].reset_index(drop=True)
    forces = cells.event_forces(ev)
    ev["force_code"] = forces.to_numpy()
    if force_codes is None:
        force_codes = sorted(forces.dropna().unique())
    else:
        force_codes = [force_codes] if isinstance(force_codes, str) else list(force_codes)
        ev = ev[ev["force_code"].isin(force_codes)].reset_index(drop=True)
        if ev.empty:
            raise HotspotError(f"no events in force area(s) {', '.join(force_codes)}")
    starts, anchor = cells.period_starts(ev["occurred_at"], period, end)
    ev["period_start"] = starts.to_numpy()
    area = cells.study_area(unit, force_codes, extra_units=ev["unit_id"].unique())
    if periods == "observed":
        cols = pd.DatetimeIndex(sorted(ev["period_start"].unique()))
    else:
        lo, hi = ev["period_start"].min(), ev["period_start"].max()
        if period == "month":
            cols = pd.date_range(lo, hi, freq="MS")
        else:
            step = 7 if period == "week" else 1
            cols = pd.DatetimeIndex([lo + pd.Timedelta(days=step * i)
                                     for i in range(int((hi - lo).days // step) + 1)])
    row_of = pd.Series(np.arange(len(area)), index=area["unit_id"].to_numpy())
    col_of = pd.Series(np.arange(len(cols)), index=cols)
    r = row_of.reindex(ev["unit_id"].to_numpy()).to_numpy()
    c = col_of.reindex(pd.DatetimeIndex(ev["period_start"])).to_numpy()
    ok = ~(np.isnan(r) | np.isnan(c))
    counts = np.zeros((len(area), len(cols)), dtype=float)
    np.add.at(counts, (r[ok].astype(np.int64), c[ok].astype(np.int64)), 1.0)
    return CountMatrix(unit=unit, period=period, units=area, periods=cols, counts=counts, end=anchor, events=ev)


def counts_per_unit(events: pd.DataFrame, unit="h3:8", period: str = "week", **kw) -> pd.DataFrame:
    """Counts and rates (per km2) per unit and period, units with crime only."""
    return count_matrix(events, unit, period, **kw).long()


def store_counts(store, unit: str = "h3:8", period: str = "week", force_code=None, start=None, end=None,
                 retailer_id=None, tactic_code=None, offence_type=None) -> pd.DataFrame:
    """The same counts computed in SQL from the store's enriched incidents (h3 r7-9 or LSOA units)."""
    from workbench.hotspots.events import _ts

    if unit not in ("h3:7", "h3:8", "h3:9", "lsoa"):
        raise HotspotError(f"store counts support h3:7, h3:8, h3:9 and lsoa (not {unit})")
    if period not in ("week", "month", "day"):
        raise HotspotError(f"unknown period {period!r}")
    return store.query("hotspots_counts", unit=unit, period=period, force_code=force_code, start=_ts(start),
                       end=_ts(end), retailer_id=retailer_id, tactic_code=tactic_code, offence_type=offence_type)
