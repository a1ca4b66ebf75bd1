"""Spatial units (H3 cells, a metric grid in EPSG:27700, LSOAs), the study area and time periods.

Unit specs: "h3:R" (H3 resolution R, e.g. h3:8 ~ 0.74 km2), "grid:M" (M-metre squares on the
British National Grid), "lsoa" (LSOA 2011, from the embedded geography). Unit("area") is the
coordinate-free unit of a count table whose area codes the geography does not know (counts.table_matrix).

The *study area* (the universe of units a forecast ranks, whose total area is A in PAI) is every unit
covering the force areas the events fall in, plus any unit holding an event just outside them
(generalised coastlines). Units with no crime are part of it: that is what makes "5% of area" mean
5% of the force, not 5% of the places that already had crime.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from workbench import geography
from workbench.hotspots.events import HotspotError

_UNIT_RE = re.compile(r"^(?:(h3):(\d{1,2})|(grid):(\d{2,5})|(lsoa))$")
PERIODS = ("week", "month", "day")


@dataclass(frozen=True)
class Unit:
    kind: str               # h3 | grid | lsoa
    size: int | None = None  # H3 resolution or grid metres

    @property
    def label(self) -> str:
        return self.kind if self.kind in ("lsoa", "area") else f"{self.kind}:{self.size}"

    @property
    def has_coordinates(self) -> bool:
        """False for "area": areas known only by a code (a ward or LSOA count table without geography)."""
        return self.kind != "area"

    @property
    def spacing_m(self) -> float:
        """Typical distance between neighbouring unit centres (for kernels and weights)."""
        if self.kind == "grid":
            return float(self.size)
        if self.kind == "h3":
            import h3
            return float(h3.average_hexagon_edge_length(self.size, "m") * np.sqrt(3))
        return 700.0  # urban LSOAs: median centroid spacing is a few hundred metres


def parse_unit(text: str) -> Unit:
    match = _UNIT_RE.match(str(text or "").strip().lower())
    if not match:
        raise HotspotError(f"unknown unit {text!r}: use h3:R (R 5-11), grid:M (metres, 50-20000) or lsoa")
    if match.group(1):
        res = int(match.group(2))
        if not 5 <= res <= 11:
            raise HotspotError(f"H3 resolution {res} is outside 5-11")
        return Unit("h3", res)
    if match.group(3):
        metres = int(match.group(4))
        if not 50 <= metres <= 20000:
            raise HotspotError(f"grid size {metres} m is outside 50-20000 m")
        return Unit("grid", metres)
    return Unit("lsoa")


def to_metric(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    tr = _transformer(False)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def to_lonlat(x, y) -> tuple[np.ndarray, np.ndarray]:
    tr = _transformer(True)
    lon, lat = tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lat), np.asarray(lon)


@lru_cache(maxsize=2)
def _transformer(inverse: bool):
    from pyproj import Transformer

    return (Transformer.from_crs(geography.METRIC_CRS, 4326, always_xy=True) if inverse
            else Transformer.from_crs(4326, geography.METRIC_CRS, always_xy=True))


def assign(events: pd.DataFrame, unit: Unit) -> pd.Series:
    """Unit id of every event (string), None when it cannot be placed."""
    lat = events["latitude"].to_numpy(dtype=float)
    lon = events["longitude"].to_numpy(dtype=float)
    if unit.kind == "h3":
        column = f"h3_r{unit.size}"
        if column in events.columns and events[column].notna().all():
            return events[column].astype(object).reset_index(drop=True)
        import h3
        return pd.Series([h3.latlng_to_cell(a, b, unit.size) for a, b in zip(lat.tolist(), lon.tolist())],
                         dtype=object)
    if unit.kind == "grid":
        x, y = to_metric(lat, lon)
        ix = np.floor(x / unit.size).astype(np.int64)
        iy = np.floor(y / unit.size).astype(np.int64)
        return pd.Series([f"{a}_{b}" for a, b in zip(ix.tolist(), iy.tolist())], dtype=object)
    if "lsoa_code" in events.columns and events["lsoa_code"].notna().all():
        return events["lsoa_code"].astype(object).reset_index(drop=True)
    located = geography.locate(lat, lon)["lsoa_code"]
    if "lsoa_code" in events.columns:
        given = events["lsoa_code"].reset_index(drop=True)
        located = given.where(given.notna(), located)
    return located.astype(object)


def event_forces(events: pd.DataFrame) -> pd.Series:
    """Force code of every event: the given force_code, else the force area of its location."""
    given = events["force_code"].reset_index(drop=True) if "force_code" in events.columns else None
    if given is not None and given.notna().all():
        return given.astype(object)
    located = geography.locate(events["latitude"], events["longitude"])["location_force_code"]
    return (given.where(given.notna(), located) if given is not None else located).astype(object)


# -- the study area -----------------------------------------------------------------------------------
def study_area(unit: Unit, force_codes, extra_units=None) -> pd.DataFrame:
    """Every unit covering the force areas: unit_id, force_code, x, y (metric centre), latitude,
    longitude, area_km2. `extra_units` (ids holding events) are added when outside the polygons."""
    codes = tuple(sorted({str(c) for c in force_codes if c is not None and c == c}))
    if not codes:
        raise HotspotError("no force area to analyse: events could not be placed in any force")
    frame = _study_area_cached(unit, codes).copy()
    if extra_units is not None:
        extra = pd.Index(pd.unique(pd.Series(list(extra_units)).dropna())).difference(pd.Index(frame["unit_id"]))
        if len(extra):
            frame = pd.concat([frame, _describe_units(unit, list(extra))], ignore_index=True)
    return frame.reset_index(drop=True)


@lru_cache(maxsize=16)
def _study_area_cached(unit: Unit, codes: tuple[str, ...]) -> pd.DataFrame:
    areas = geography.force_areas()
    areas = areas[areas["force_code"].isin(codes)]
    if areas.empty:
        raise HotspotError(f"no force area geometry for {', '.join(codes)}")
    parts = []
    if unit.kind == "h3":
        import h3
        for row in areas.itertuples():
            cells = h3.geo_to_cells(row.geometry.__geo_interface__, unit.size)
            parts.append(pd.DataFrame({"unit_id": sorted(cells), "force_code": row.force_code}))
        ids = pd.concat(parts).drop_duplicates("unit_id")
        return _describe_units(unit, ids["unit_id"].tolist(), ids["force_code"].tolist())
    if unit.kind == "grid":
        import shapely
        metric = areas.to_crs(geography.METRIC_CRS)
        s = unit.size
        for row in metric.itertuples():
            x0, y0, x1, y1 = row.geometry.bounds
            ix = np.arange(np.floor(x0 / s), np.ceil(x1 / s) + 1, dtype=np.int64)
            iy = np.arange(np.floor(y0 / s), np.ceil(y1 / s) + 1, dtype=np.int64)
            gx, gy = np.meshgrid(ix, iy)
            gx, gy = gx.ravel(), gy.ravel()
            inside = shapely.contains_xy(row.geometry, (gx + 0.5) * s, (gy + 0.5) * s)
            parts.append(pd.DataFrame({"unit_id": [f"{a}_{b}" for a, b in zip(gx[inside].tolist(), gy[inside].tolist())],
                                       "force_code": row.force_code}))
        ids = pd.concat(parts).drop_duplicates("unit_id")
        return _describe_units(unit, ids["unit_id"].tolist(), ids["force_code"].tolist())
    lsoas = geography.lsoa_polygons(codes)
    return _lsoa_table(lsoas)


def _lsoa_table(lsoas) -> pd.DataFrame:
    metric = lsoas.to_crs(geography.METRIC_CRS)
    centre = metric.geometry.representative_point()
    lat, lon = to_lonlat(centre.x.to_numpy(), centre.y.to_numpy())
    return pd.DataFrame({"unit_id": lsoas["lsoa_code"].to_numpy(dtype=object),
                         "force_code": lsoas["force_code"].to_numpy(dtype=object),
                         "x": centre.x.to_numpy(), "y": centre.y.to_numpy(), "latitude": lat, "longitude": lon,
                         "area_km2": metric.geometry.area.to_numpy() / 1e6,
                         "label": lsoas["lsoa_name"].to_numpy(dtype=object)})


def _describe_units(unit: Unit, ids: list, forces: list | None = None) -> pd.DataFrame:
    forces = forces if forces is not None else [None] * len(ids)
    if unit.kind == "h3":
        import h3
        latlng = np.array([h3.cell_to_latlng(c) for c in ids], dtype=float).reshape(-1, 2)
        lat, lon = latlng[:, 0], latlng[:, 1]
        x, y = to_metric(lat, lon)
        area = np.array([h3.cell_area(c, "km^2") for c in ids], dtype=float)
        label = list(ids)
    elif unit.kind == "grid":
        ij = np.array([c.split("_") for c in ids], dtype=np.int64).reshape(-1, 2)
        x, y = (ij[:, 0] + 0.5) * unit.size, (ij[:, 1] + 0.5) * unit.size
        lat, lon = to_lonlat(x, y)
        area = np.full(len(ids), unit.size ** 2 / 1e6)
        label = [f"{unit.size} m square E{int(a)} N{int(b)}" for a, b in zip(x - unit.size / 2, y - unit.size / 2)]
    else:
        table = _lsoa_table(geography.lsoa_polygons()).set_index("unit_id")
        known = [c for c in ids if c in table.index]
        out = table.loc[known].reset_index()
        return out
    return pd.DataFrame({"unit_id": list(ids), "force_code": forces, "x": x, "y": y, "latitude": lat,
                         "longitude": lon, "area_km2": area, "label": label})


def unit_polygons(unit: Unit, ids) -> "geopandas.GeoDataFrame":  # noqa: F821
    """Polygons (EPSG:4326) of the given units, for maps."""
    import geopandas as gpd
    import shapely

    ids = list(ids)
    if unit.kind == "h3":
        import h3
        geoms = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in ids]
        return gpd.GeoDataFrame({"unit_id": ids}, geometry=geoms, crs=4326)
    if unit.kind == "grid":
        ij = np.array([c.split("_") for c in ids], dtype=np.int64).reshape(-1, 2)
        s = unit.size
        geoms = [shapely.box(a * s, b * s, (a + 1) * s, (b + 1) * s) for a, b in ij.tolist()]
        return gpd.GeoDataFrame({"unit_id": ids}, geometry=geoms, crs=geography.METRIC_CRS).to_crs(4326)
    lsoas = geography.lsoa_polygons()
    lsoas = lsoas[lsoas["lsoa_code"].isin(ids)].rename(columns={"lsoa_code": "unit_id"})
    return lsoas.set_index("unit_id").loc[[i for i in ids if i in set(lsoas["unit_id"])]].reset_index()


# -- periods ----------------------------------------------------------------------------------------
def period_starts(times: pd.Series, period: str, end=None) -> tuple[pd.Series, pd.Timestamp | None]:
    """Start of the period each time falls in, and the anchor (`end`, or None on the calendar).

    Periods are calendar periods, never anchored on the data: weeks are ISO weeks (Monday to Sunday),
    months calendar months, days calendar days. With an explicit `end` (exclusive; `--until`), weeks
    are instead the 7-day blocks ending at `end`, so the last one is the 7 days before it (the same as
    ISO weeks when `end` is a Monday); for months `end` must be the first day of a month."""
    times = pd.to_datetime(times)
    if period not in PERIODS:
        raise HotspotError(f"unknown period {period!r}: use week, month or day")
    end = check_until(end, period)
    if period == "month":
        return times.dt.to_period("M").dt.start_time, end
    day = times.dt.normalize()
    if period == "day":
        return day, end
    if end is None:
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D"), None
    offset = np.floor((day - end) / pd.Timedelta(days=7)).astype(np.int64)
    return end + pd.to_timedelta(offset * 7, unit="D"), end


def check_until(end, period: str) -> pd.Timestamp | None:
    """An explicit end of the analysis (exclusive) as a day, checked against the period."""
    if end is None or end == "":
        return None
    try:
        end = pd.Timestamp(end)
    except (ValueError, TypeError):
        raise HotspotError(f"--until {end!r} is not a date (use YYYY-MM-DD)") from None
    if end != end.normalize():
        raise HotspotError(f"--until {end} must be a date without a time of day")
    if period == "month" and end.day != 1:
        raise HotspotError(f"--until {end.date()} must be the first day of a month for monthly periods "
                           f"(e.g. {(end + pd.offsets.MonthBegin(1)).date()})")
    return end


def period_step(period: str):
    """The offset from one period start to the next."""
    return pd.offsets.MonthBegin(1) if period == "month" else pd.Timedelta(days=7 if period == "week" else 1)


def period_label(period: str, end) -> str:
    """How the periods were anchored, for reports."""
    if end is not None:
        return f"{period}s ending {pd.Timestamp(end).date()} (--until, exclusive)"
    return {"week": "ISO weeks (Monday to Sunday)", "month": "calendar months", "day": "calendar days"}[period]
