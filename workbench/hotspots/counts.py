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
    end: pd.Timestamp | None = None      # the end of the last period (exclusive): the next period's start
    events: pd.DataFrame | None = None   # the events with unit_id and period_start added
    anchor: str = "calendar"             # calendar (ISO weeks, months) or until (an explicit end)
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
    several years), so "the previous period" is the previous one observed.

    Periods are calendar periods (ISO weeks from Monday, calendar months), never anchored on the
    latest event; `end` (exclusive, the CLI's `--until`) instead ends the last period there and drops
    later events (see cells.period_starts)."""
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
        if anchor is not None:                 # --until: every period up to it, empty or not
            hi = anchor - cells.period_step(period)
        cols = period_columns(lo, hi, period)
    row_of = pd.Series(np.arange(len(area)), index=area["unit_id"].to_numpy())
    col_of = pd.Series(np.arange(len(cols)), index=cols)
    r = row_of.reindex(ev["unit_id"].to_numpy()).to_numpy()
    c = col_of.reindex(pd.DatetimeIndex(ev["period_start"])).to_numpy()
    ok = ~(np.isnan(r) | np.isnan(c))
    counts = np.zeros((len(area), len(cols)), dtype=float)
    np.add.at(counts, (r[ok].astype(np.int64), c[ok].astype(np.int64)), 1.0)
    cm_end = anchor if anchor is not None else (cols[-1] + cells.period_step(period) if len(cols) else None)
    return CountMatrix(unit=unit, period=period, units=area, periods=cols, counts=counts, end=cm_end, events=ev,
                       anchor="until" if anchor is not None else "calendar")


def period_columns(lo, hi, period: str) -> pd.DatetimeIndex:
    """Consecutive period starts from lo to hi (both period starts)."""
    if period == "month":
        return pd.date_range(lo, hi, freq="MS")
    return pd.date_range(lo, hi, freq="7D" if period == "week" else "D")


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


# -- count tables without coordinates ----------------------------------------------------------------
COUNT_COLUMNS = ("area_code", "month", "count")


def read_count_table(path, columns=COUNT_COLUMNS, area_column: str | None = None) -> pd.DataFrame:
    """A CSV of monthly counts per area (one row per area and month, as forces publish ward or LSOA
    tables): columns `columns` = (area code, month, count) by name; an optional `area_column` gives
    each area's size in km2. Returns area_code, month (first day), count[, area_km2]."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise HotspotError(f"{path}: no such count table")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise HotspotError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    wanted = list(columns) + ([area_column] if area_column else [])
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise HotspotError(f"{path}: no column(s) {', '.join(missing)} (columns: {', '.join(raw.columns[:12])}); "
                           "name them with --count-columns AREA,MONTH,COUNT")
    area_col, month_col, count_col = columns
    out = pd.DataFrame({"area_code": raw[area_col].str.strip()})
    month = pd.to_datetime(raw[month_col].str.strip(), errors="coerce", format="mixed")
    count = pd.to_numeric(raw[count_col].str.strip().str.replace(",", "", regex=False), errors="coerce")
    for bad, what in ((month.isna(), f"{month_col} is not a month (YYYY-MM)"),
                      (count.isna() | (count < 0), f"{count_col} is not a count (0 or more)"),
                      (out["area_code"] == "", f"{area_col} is empty")):
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise HotspotError(f"{path}: row {row + 2}: {what}")
    out["month"] = month.dt.to_period("M").dt.start_time
    out["count"] = count.astype(float)
    if area_column:
        size = pd.to_numeric(raw[area_column], errors="coerce")
        if (size.isna() | (size <= 0)).any():
            row = int(np.flatnonzero((size.isna() | (size <= 0)).to_numpy())[0])
            raise HotspotError(f"{path}: row {row + 2}: {area_column} is not an area in km2 (above 0)")
        out["area_km2"] = size.astype(float)
    return out


def table_matrix(table: pd.DataFrame, force_codes=None, end=None) -> CountMatrix:
    """A monthly CountMatrix from (area_code, month, count[, area_km2]) rows.

    When every code is an LSOA of the embedded geography the units are LSOAs with their polygons'
    centres and areas, and the study area is every LSOA of their forces (zero counts included), so
    every method runs. Otherwise the units are the areas listed (Unit "area"): no coordinates, so only
    methods that need no space run, sized by `area_km2` when given, else all the same size (coverage is
    then a share of areas). Months run from the first to the last (or up to `end`, a first of month)."""
    from workbench import geography

    if table.empty:
        raise HotspotError("the count table has no rows")
    end = cells.check_until(end, "month")
    tab = table[table["month"] < end] if end is not None else table
    if tab.empty:
        raise HotspotError("no counts before --until")
    codes = pd.Index(tab["area_code"].unique())
    lsoas = cells._lsoa_table(geography.lsoa_polygons())
    if codes.isin(lsoas["unit_id"]).all():
        unit = cells.Unit("lsoa")
        forces = sorted(lsoas.loc[lsoas["unit_id"].isin(codes), "force_code"].dropna().unique())
        if force_codes is not None:
            forces = [force_codes] if isinstance(force_codes, str) else list(force_codes)
        units = cells.study_area(unit, forces, extra_units=codes)
    else:
        unit = cells.Unit("area")
        sizes = (tab.groupby("area_code")["area_km2"].first() if "area_km2" in tab.columns
                 else pd.Series(1.0, index=codes))
        units = pd.DataFrame({"unit_id": codes.to_numpy(dtype=object), "force_code": None, "x": np.nan, "y": np.nan,
                              "latitude": np.nan, "longitude": np.nan,
                              "area_km2": sizes.reindex(codes).to_numpy(dtype=float), "label": codes.to_numpy(dtype=object)})
        units.attrs["sized"] = "area_km2" in tab.columns
    hi = tab["month"].max() if end is None else end - pd.offsets.MonthBegin(1)
    cols = period_columns(tab["month"].min(), hi, "month")
    r = pd.Series(np.arange(len(units)), index=units["unit_id"]).reindex(tab["area_code"]).to_numpy()
    c = pd.Series(np.arange(len(cols)), index=cols).reindex(tab["month"]).to_numpy()
    ok = ~(np.isnan(r) | np.isnan(c))
    counts = np.zeros((len(units), len(cols)))
    np.add.at(counts, (r[ok].astype(np.int64), c[ok].astype(np.int64)), tab["count"].to_numpy(dtype=float)[ok])
    return CountMatrix(unit=unit, period="month", units=units, periods=cols, counts=counts,
                       end=cols[-1] + pd.offsets.MonthBegin(1), anchor="until" if end is not None else "calendar")
