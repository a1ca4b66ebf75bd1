"""Real geography: force areas, LSOAs, postcodes and H3 cells, and the once-only enrichment of the store.

Default geography is embedded under sample_data/geography/ (derived by scripts/build_geography.py
from open data; see its README for sources and attribution). Users may replace it with newer official
boundary files (`import_boundaries`) and load a postcode directory into the store (`import_postcodes`).

Placement rules (docs/geography.md):
  - the LSOA of a point is the LSOA polygon containing it (nearest within NEAREST_MAX_M when a point
    falls just outside the generalised coastline);
  - the force of a point is the force of that LSOA with the default geography, or the imported force
    area containing it when official force boundaries were imported;
  - H3 cells at resolutions H3_RESOLUTIONS.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from workbench import config, reference
from workbench.errors import WorkbenchError

DEFAULT_DIR = config.data_dir("sample_data") / "geography"
H3_RESOLUTIONS = (7, 8, 9)
NEAREST_MAX_M = 2000.0          # coastal tolerance for points just outside the generalised polygons
METRIC_CRS = 27700              # British National Grid
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0; "
    "Contains OS data (c) Crown copyright and database right."
)
IMPORTED_FORCES = "force_areas.parquet"
IMPORTED_LSOAS = "lsoa_polygons.parquet"
IMPORT_MANIFEST = "imported.json"
BOUNDARY_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


class GeographyError(WorkbenchError):
    """A boundary or postcode file cannot be used."""


# -- where geography lives --------------------------------------------------------------------------
def default_dir() -> Path:
    return Path(config.get("geography.default_dir") or DEFAULT_DIR)


def imported_dir() -> Path:
    """Directory holding imported official boundaries ($WORKBENCH_GEOGRAPHY_DIR or config)."""
    return Path(os.environ.get("WORKBENCH_GEOGRAPHY_DIR") or config.get("geography.imported_dir", "out/geography"))


def _stamp(path: Path) -> tuple:
    return (str(path), path.stat().st_mtime_ns) if path.exists() else (str(path), None)


# -- loading ----------------------------------------------------------------------------------------
def _read_geojson_gz(path: Path):
    import geopandas as gpd

    if not path.exists():
        raise GeographyError(f"{path}: embedded geography file is missing; run `workbench geo build`")
    with gzip.open(path, "rb") as fh:
        return gpd.read_file(io.BytesIO(fh.read()))


@lru_cache(maxsize=4)
def _force_areas(default_path: tuple, imported_path: tuple):
    import geopandas as gpd

    if imported_path[1] is not None:
        gdf = gpd.read_parquet(imported_path[0])
        gdf.attrs["source"] = "imported"
    else:
        gdf = _read_geojson_gz(Path(default_path[0]))
        gdf.attrs["source"] = "default"
    return gdf[["force_code", "ons_code", "name", "geometry"]].to_crs(4326)


def force_areas(geo_dir: Path | None = None):
    """The 43 force areas (GeoDataFrame, EPSG:4326): force_code, ons_code, name, geometry.

    Imported official boundaries win over the embedded default. `.attrs['source']` says which.
    """
    geo_dir = Path(geo_dir) if geo_dir else imported_dir()
    gdf = _force_areas(_stamp(default_dir() / "force_areas.geojson.gz"), _stamp(geo_dir / IMPORTED_FORCES))
    out = gdf.copy()
    out.attrs = dict(gdf.attrs)
    return out


@lru_cache(maxsize=4)
def _lsoas(default_root: str, imported_path: tuple):
    import geopandas as gpd

    if imported_path[1] is not None:
        gdf = gpd.read_parquet(imported_path[0])
        gdf.attrs["source"] = "imported"
        return gdf[["lsoa_code", "lsoa_name", "force_code", "geometry"]].to_crs(4326)
    files = sorted((Path(default_root) / "lsoa_polygons").glob("*.geojson.gz"))
    if not files:
        raise GeographyError(f"{default_root}/lsoa_polygons: embedded LSOA polygons are missing; run `workbench geo build`")
    gdf = pd.concat([_read_geojson_gz(p) for p in files], ignore_index=True)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=4326)
    gdf.attrs["source"] = "default"
    return gdf[["lsoa_code", "lsoa_name", "force_code", "geometry"]]


def lsoa_polygons(force_codes: Iterable[str] | None = None, geo_dir: Path | None = None):
    """LSOA polygons (GeoDataFrame, EPSG:4326): lsoa_code, lsoa_name, force_code; optionally for some forces."""
    geo_dir = Path(geo_dir) if geo_dir else imported_dir()
    gdf = _lsoas(str(default_dir()), _stamp(geo_dir / IMPORTED_LSOAS))
    source = gdf.attrs.get("source")
    if force_codes is not None:
        gdf = gdf[gdf["force_code"].isin(list(force_codes))]
    out = gdf.copy()
    out.attrs["source"] = source
    return out


def lsoa_centroids() -> pd.DataFrame:
    """Every LSOA (2011) with centroid (latitude, longitude), town and force_code (embedded default)."""
    return pd.read_csv(default_dir() / "lsoa_centroids.csv.gz", dtype={"force_code": str})


# -- placement --------------------------------------------------------------------------------------
def _join_points(lon: np.ndarray, lat: np.ndarray, polygons, columns: list[str]) -> pd.DataFrame:
    """For each point, `columns` of the polygon containing it (nearest within NEAREST_MAX_M otherwise)."""
    import shapely

    out = pd.DataFrame({c: pd.Series([None] * len(lon), dtype=object) for c in columns})
    valid = np.isfinite(lon) & np.isfinite(lat)
    if not valid.any() or polygons.empty:
        return out
    poly_m = polygons.to_crs(METRIC_CRS)
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    idx_valid = np.flatnonzero(valid)
    x, y = to_m.transform(lon[valid], lat[valid])
    points = shapely.points(x, y)
    tree = shapely.STRtree(poly_m.geometry.values)
    pt_idx, poly_idx = tree.query(points, predicate="intersects")
    # a point on a shared edge may hit two polygons: keep the first deterministically
    first = pd.DataFrame({"pt": pt_idx, "poly": poly_idx}).drop_duplicates("pt")
    assigned = np.full(len(points), -1, dtype=np.int64)
    assigned[first["pt"].to_numpy()] = first["poly"].to_numpy()
    missing = np.flatnonzero(assigned < 0)
    if len(missing):
        near_pt, near_poly = tree.query_nearest(points[missing], max_distance=NEAREST_MAX_M, all_matches=False)
        assigned[missing[near_pt]] = near_poly
    hit = assigned >= 0
    values = poly_m[columns].to_numpy(dtype=object)
    for j, column in enumerate(columns):
        col = np.array([None] * len(lon), dtype=object)
        col[idx_valid[hit]] = values[assigned[hit], j]
        out[column] = col
    return out


def h3_cells(lat, lon, resolutions: Iterable[int] = H3_RESOLUTIONS) -> pd.DataFrame:
    import h3

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    frame = {}
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    pairs = list(zip(lat.tolist(), lon.tolist()))
    for res in resolutions:
        frame[f"h3_r{res}"] = [h3.latlng_to_cell(a, b, res) if ok else None for (a, b), ok in zip(pairs, valid)]
    return pd.DataFrame(frame)


def locate(latitude, longitude, geo_dir: Path | None = None) -> pd.DataFrame:
    """Place points: columns location_force_code, lsoa_code, h3_r7, h3_r8, h3_r9 (None where not placeable)."""
    lat = np.asarray(pd.to_numeric(pd.Series(latitude), errors="coerce"), dtype=float)
    lon = np.asarray(pd.to_numeric(pd.Series(longitude), errors="coerce"), dtype=float)
    lsoas = lsoa_polygons(geo_dir=geo_dir)
    by_lsoa = _join_points(lon, lat, lsoas, ["lsoa_code", "force_code"])
    areas = force_areas(geo_dir=geo_dir)
    if areas.attrs.get("source") == "imported" or lsoas.attrs.get("source") == "imported":
        force = _join_points(lon, lat, areas, ["force_code"])["force_code"]
    else:
        force = by_lsoa["force_code"]
        if force.isna().any():  # outside every LSOA: fall back on the force areas
            fallback = _join_points(lon, lat, areas, ["force_code"])["force_code"]
            force = force.where(force.notna(), fallback)
    out = pd.DataFrame({"location_force_code": force.to_numpy(dtype=object),
                        "lsoa_code": by_lsoa["lsoa_code"].to_numpy(dtype=object)})
    out = pd.concat([out, h3_cells(lat, lon)], axis=1).astype(object)
    return out.where(out.notna(), None)


def _register(store, name: str, frame: pd.DataFrame) -> None:
    """Register a DataFrame as a view. DuckDB 2 refuses while an earlier result (e.g. a fetchone())
    is unfinished on the connection, so finish it first with a trivial complete query."""
    store.con.execute("SELECT 1").fetchall()
    store.con.register(name, frame)


# -- postcodes --------------------------------------------------------------------------------------
def normalise_postcode(text) -> tuple[str, str] | None:
    """('LS14AP', 'LS1 4AP') for a UK postcode in any spacing/case; None when it is not one."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    norm = re.sub(r"[^A-Z0-9]", "", str(text).upper())
    if not _POSTCODE_RE.match(norm):
        return None
    return norm, f"{norm[:-3]} {norm[-3:]}"


def _norm_series(values: pd.Series) -> pd.Series:
    norm = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return norm.where(norm.str.fullmatch(_POSTCODE_RE.pattern).fillna(False).astype(bool))


_ONSPD_POSTCODE = ("pcds", "pcd", "pcd7", "pcd8", "postcode")
_ONSPD_LSOA = ("lsoa11", "lsoa11cd", "lsoa21", "lsoa21cd", "lsoa")
_CPO_COLUMNS = ["postcode", "positional_quality_indicator", "eastings", "northings", "country_code",
                "nhs_regional_ha_code", "nhs_ha_code", "admin_county_code", "admin_district_code",
                "admin_ward_code"]


def _sniff_postcode_file(path: Path) -> tuple[str, dict]:
    """('onspd'|'codepoint', read_csv kwargs) from the file's first line."""
    try:
        with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError as exc:
        raise GeographyError(f"{path}: cannot read: {exc.strerror}") from None
    header = [h.strip().strip('"').lower() for h in first.split(",")]
    if any(h in header for h in _ONSPD_POSTCODE) and "lat" in header and "long" in header:
        return "onspd", {"header": 0}
    if "postcode" in header and "eastings" in header and "northings" in header:
        return "codepoint", {"header": 0}
    if len(header) == 10 and normalise_postcode(header[0]) and header[2].isdigit() and header[3].isdigit():
        return "codepoint", {"header": None, "names": _CPO_COLUMNS}  # Code-Point Open ships without a header
    raise GeographyError(
        f"{path}: not a postcode directory: expected columns pcds, lat, long (ONS Postcode Directory) "
        f"or postcode, eastings, northings (OS Code-Point Open); found {', '.join(header[:8]) or 'nothing'}"
    )


def import_postcodes(store, path: str | Path, chunksize: int = 500_000) -> dict:
    """Load an ONSPD or Code-Point Open CSV into the store's postcodes table (insert or replace)."""
    path = Path(path)
    if not path.is_file():
        raise GeographyError(f"{path}: postcode file does not exist")
    kind, kwargs = _sniff_postcode_file(path)
    loaded = skipped = 0
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunksize, encoding="utf-8-sig",
                             **kwargs)
        for chunk in reader:
            chunk.columns = [str(c).strip().lower() for c in chunk.columns]
            frame = _postcode_frame(kind, chunk, path)
            skipped += len(chunk) - len(frame)
            if frame.empty:
                continue
            _register(store, "_postcodes_in", frame)
            try:
                store.con.execute(
                    "INSERT OR REPLACE INTO postcodes (postcode_norm, postcode, latitude, longitude, lsoa_code, source) "
                    "SELECT postcode_norm, postcode, latitude, longitude, lsoa_code, source FROM _postcodes_in"
                )
            finally:
                store.con.unregister("_postcodes_in")
            loaded += len(frame)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise GeographyError(f"{path}: cannot parse postcode CSV: {str(exc).splitlines()[0]}") from None
    if loaded == 0:
        raise GeographyError(f"{path}: no valid postcodes with coordinates found")
    result = {"file": str(path), "format": kind, "postcodes_loaded": loaded, "rows_skipped": skipped}
    store.audit("geo-import-postcodes", str(path), result)
    return result


def _postcode_frame(kind: str, chunk: pd.DataFrame, path: Path) -> pd.DataFrame:
    if kind == "onspd":
        pc_col = next(c for c in _ONSPD_POSTCODE if c in chunk.columns)
        lsoa_col = next((c for c in _ONSPD_LSOA if c in chunk.columns), None)
        lat = pd.to_numeric(chunk["lat"], errors="coerce")
        lon = pd.to_numeric(chunk["long"], errors="coerce")
        lat = lat.where(lat.abs() < 90)  # ONSPD marks 'no grid reference' as 99.999999
        lon = lon.where(lat.notna())
        lsoa = chunk[lsoa_col].replace("", None) if lsoa_col else pd.Series([None] * len(chunk), index=chunk.index)
        postcodes = chunk[pc_col]
    else:
        from pyproj import Transformer

        east = pd.to_numeric(chunk["eastings"], errors="coerce")
        north = pd.to_numeric(chunk["northings"], errors="coerce")
        ok = east.notna() & north.notna() & (east > 0) & (north > 0)
        to_ll = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)
        lon_v, lat_v = to_ll.transform(east.where(ok).to_numpy(float), north.where(ok).to_numpy(float))
        lat = pd.Series(lat_v, index=chunk.index).where(ok)
        lon = pd.Series(lon_v, index=chunk.index).where(ok)
        lsoa = pd.Series([None] * len(chunk), index=chunk.index)
        postcodes = chunk["postcode"]
    norm = _norm_series(postcodes)
    frame = pd.DataFrame({
        "postcode_norm": norm,
        "postcode": norm.str[:-3] + " " + norm.str[-3:],
        "latitude": lat.round(6), "longitude": lon.round(6),
        "lsoa_code": lsoa, "source": path.name,
    })
    frame = frame[frame["postcode_norm"].notna() & frame["latitude"].notna()]
    return frame.drop_duplicates("postcode_norm", keep="last")


def geocode_postcodes(store, postcodes: Iterable) -> pd.DataFrame:
    """latitude/longitude for each postcode from the store's postcodes table (NaN when unknown)."""
    frame = pd.DataFrame({"postcode_in": list(postcodes)})
    frame["postcode_norm"] = _norm_series(frame["postcode_in"].astype(object))
    _register(store, "_pc_lookup", frame[["postcode_norm"]].drop_duplicates())
    try:
        found = store.query("postcode_lookup")
    finally:
        store.con.unregister("_pc_lookup")
    return frame.merge(found, on="postcode_norm", how="left")[["postcode_in", "postcode_norm", "latitude", "longitude"]]


# -- enrichment -------------------------------------------------------------------------------------
_ENRICH_COLUMNS = ["location_force_code", "lsoa_code", "h3_r7", "h3_r8", "h3_r9"]


def _update_from_frame(store, table: str, key: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """UPDATE table SET columns FROM frame by key (table and columns are constants of this module)."""
    if frame.empty:
        return
    _register(store, "_geo_update", frame)
    try:
        sets = ", ".join(f"{c} = u.{c}" for c in columns)
        store.con.execute(f"UPDATE {table} SET {sets} FROM _geo_update u WHERE {table}.{key} = u.{key}")
    finally:
        store.con.unregister("_geo_update")


def _geocode_missing(store, frame: pd.DataFrame) -> pd.DataFrame:
    """Fill latitude/longitude from the postcode where the row has only a postcode; mark which were filled."""
    frame = frame.copy()
    frame["geocoded"] = False
    need = frame["latitude"].isna() | frame["longitude"].isna()
    need &= frame["postcode"].notna()
    if need.any():
        found = geocode_postcodes(store, frame.loc[need, "postcode"].tolist())
        frame.loc[need, "latitude"] = found["latitude"].to_numpy()
        frame.loc[need, "longitude"] = found["longitude"].to_numpy()
        frame.loc[need, "geocoded"] = found["latitude"].notna().to_numpy()
    return frame


def enrich_store(store, geo_dir: Path | None = None) -> dict:
    """Place stores and incidents once (only rows not yet enriched) and flag stated/location force mismatches.

    Stores: postcode-only stores are geocoded, then get location_force_code, lsoa_code and H3 cells;
    stores.force_code is filled from the location when it was empty. Incidents at an enriched store
    inherit the store's placement; others are placed from their own coordinates or postcode.
    incidents.force_mismatch = stated force_code <> location_force_code (NULL when either is unknown).
    """
    result = {}
    stores = _geocode_missing(store, store.query("geo_stores_to_enrich"))
    placeable = stores[stores["latitude"].notna() & stores["longitude"].notna()].reset_index(drop=True)
    placed = pd.concat([placeable[["store_id", "latitude", "longitude"]], locate(
        placeable["latitude"], placeable["longitude"], geo_dir)], axis=1)
    store.con.execute("BEGIN TRANSACTION")
    try:
        _update_from_frame(store, "stores", "store_id", placed, ["latitude", "longitude", *_ENRICH_COLUMNS])
        store.con.execute(queries_sql("geo_stores_fill_force_code"))
        store.con.execute(queries_sql("geo_incidents_inherit_from_stores"))
        store.con.execute("COMMIT")
    except Exception:
        store.con.execute("ROLLBACK")
        raise
    result["stores_placed"] = int(len(placed))
    result["stores_geocoded_from_postcode"] = int(stores["geocoded"].sum())
    result["stores_unplaceable"] = int(len(stores) - len(placeable))

    own = _geocode_missing(store, store.query("geo_incidents_to_enrich"))
    own_ok = own[own["latitude"].notna() & own["longitude"].notna()].reset_index(drop=True)
    placed_inc = pd.concat([own_ok[["incident_id", "latitude", "longitude"]],
                            locate(own_ok["latitude"], own_ok["longitude"], geo_dir)], axis=1)
    store.con.execute("BEGIN TRANSACTION")
    try:
        _update_from_frame(store, "incidents", "incident_id", placed_inc,
                           ["latitude", "longitude", *_ENRICH_COLUMNS])
        store.con.execute(queries_sql("geo_incidents_flag_mismatch"))
        store.con.execute("COMMIT")
    except Exception:
        store.con.execute("ROLLBACK")
        raise
    result["incidents_placed_own_location"] = int(len(placed_inc))
    result["incidents_geocoded_from_postcode"] = int(own["geocoded"].sum())
    result["incidents_unplaceable"] = int(len(own) - len(own_ok))
    status = store.query("geo_enrichment_status").iloc[0].to_dict()
    result.update({k: int(v) for k, v in status.items()})
    store.audit("geo-enrich", "stores,incidents", result)
    return result


def queries_sql(name: str) -> str:
    from workbench import queries

    q = queries.load(name)
    q.bind({})
    return q.sql


# -- importing official boundaries ------------------------------------------------------------------
def _read_boundary_file(path: Path):
    import geopandas as gpd

    if not path.exists():
        raise GeographyError(f"{path}: boundary file does not exist")
    if path.suffix.lower() not in BOUNDARY_SUFFIXES:
        raise GeographyError(f"{path}: unsupported boundary format {path.suffix or '(none)'}: "
                             "use GeoJSON, GeoPackage or a shapefile (.shp or .zip)")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean 'unreadable'
        raise GeographyError(f"{path}: cannot read boundary file: {str(exc).splitlines()[0]}") from None
    if gdf.empty:
        raise GeographyError(f"{path}: boundary file has no features")
    if gdf.crs is None:
        raise GeographyError(f"{path}: boundary file has no coordinate reference system")
    if not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise GeographyError(f"{path}: boundary file must hold polygons only")
    return gdf


def _find_column(columns, patterns) -> str | None:
    for pattern in patterns:
        for column in columns:
            if re.fullmatch(pattern, str(column), flags=re.IGNORECASE):
                return column
    return None


def import_boundaries(path: str | Path, geo_dir: Path | None = None) -> dict:
    """Replace the default force areas or LSOA polygons with an official boundary file.

    Force areas: a file with PFAnnCD (ONS code) or force_code/force_name. LSOAs: a file with
    LSOAnnCD (and optionally LSOAnnNM); each LSOA gets the force whose area holds its centre.
    """
    import shapely

    path = Path(path)
    gdf = _read_boundary_file(path)
    geo_dir = Path(geo_dir) if geo_dir else imported_dir()
    columns = list(gdf.columns)
    force_col = _find_column(columns, [r"PFA\d{2}CD", r"force_code", r"force", r"force_name", r"PFA\d{2}NM"])
    lsoa_col = _find_column(columns, [r"LSOA\d{2}CD", r"lsoa_code"])
    gdf = gdf.to_crs(4326)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    if lsoa_col is not None:
        kind = "lsoas"
        name_col = _find_column(columns, [r"LSOA\d{2}NM", r"lsoa_name"])
        out = gdf[[lsoa_col, "geometry"]].rename(columns={lsoa_col: "lsoa_code"})
        out["lsoa_code"] = out["lsoa_code"].astype(str).str.strip()
        out["lsoa_name"] = gdf[name_col].astype(str) if name_col else out["lsoa_code"]
        if out["lsoa_code"].duplicated().any():
            dup = out.loc[out["lsoa_code"].duplicated(), "lsoa_code"].iloc[0]
            raise GeographyError(f"{path}: LSOA code {dup} appears more than once")
        centres = out.geometry.representative_point()
        placed = _join_points(centres.x.to_numpy(), centres.y.to_numpy(), force_areas(geo_dir), ["force_code"])
        out["force_code"] = placed["force_code"].to_numpy()
        out = out[["lsoa_code", "lsoa_name", "force_code", "geometry"]]
        target = geo_dir / IMPORTED_LSOAS
    elif force_col is not None:
        kind = "forces"
        codes = gdf[force_col].astype(str).map(reference.resolve_force)
        unknown = gdf.loc[codes.isna(), force_col].astype(str).tolist()
        if unknown:
            raise GeographyError(f"{path}: unknown police force {unknown[0]!r} in column {force_col}")
        ref = reference.forces().set_index("force_code")
        out = gdf[["geometry"]].copy()
        out["force_code"] = codes.to_numpy()
        out = out.dissolve("force_code").reset_index()
        out["ons_code"] = out["force_code"].map(ref["ons_code"])
        out["name"] = out["force_code"].map(ref["name"])
        out = out[["force_code", "ons_code", "name", "geometry"]]
        target = geo_dir / IMPORTED_FORCES
    else:
        raise GeographyError(f"{path}: no force (PFAnnCD, force_code) or LSOA (LSOAnnCD) code column among "
                             f"{', '.join(map(str, columns[:10]))}")
    geo_dir.mkdir(parents=True, exist_ok=True)
    out.to_parquet(target)
    manifest_path = geo_dir / IMPORT_MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[kind] = {"file": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()
                      if path.is_file() else None, "features": int(len(out))}
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    _force_areas.cache_clear()
    _lsoas.cache_clear()
    return {"file": str(path), "kind": kind, "features": int(len(out)), "written": str(target)}


def clear_imports(geo_dir: Path | None = None) -> list[str]:
    """Remove imported boundaries so the embedded default geography is used again."""
    geo_dir = Path(geo_dir) if geo_dir else imported_dir()
    removed = []
    for name in (IMPORTED_FORCES, IMPORTED_LSOAS, IMPORT_MANIFEST):
        if (geo_dir / name).exists():
            (geo_dir / name).unlink()
            removed.append(name)
    _force_areas.cache_clear()
    _lsoas.cache_clear()
    return removed


def info(geo_dir: Path | None = None) -> dict:
    geo_dir = Path(geo_dir) if geo_dir else imported_dir()
    areas = force_areas(geo_dir)
    lsoas = lsoa_polygons(geo_dir=geo_dir)
    manifest_path = geo_dir / IMPORT_MANIFEST
    return {
        "force_areas": {"source": areas.attrs.get("source"), "count": int(len(areas))},
        "lsoas": {"source": lsoas.attrs.get("source"), "count": int(len(lsoas))},
        "default_dir": str(default_dir()),
        "imported_dir": str(geo_dir),
        "imports": json.loads(manifest_path.read_text()) if manifest_path.exists() else {},
        "h3_resolutions": list(H3_RESOLUTIONS),
        "attribution": ATTRIBUTION,
    }
