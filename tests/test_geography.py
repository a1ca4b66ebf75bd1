"""Geography: the derived force areas against ONS, placement, postcodes, imports and enrichment."""
from __future__ import annotations

import gzip
import json

import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import box

from workbench import geography, reference
from workbench.errors import WorkbenchError

# Points well inside known force areas (lat, lon).
LEEDS = (53.7997, -1.5492)          # West Yorkshire, 13
MANCHESTER = (53.4794, -2.2453)     # Greater Manchester, 06
CARDIFF = (51.4816, -3.1791)        # South Wales, 62
CITY = (51.5155, -0.0922)           # City of London, 48
EDINBURGH = (55.9533, -3.1883)      # outside England & Wales

# The ONS reference is *ultra generalised* (about 500 m tolerance): the City of London, a 2.9 km2
# force, is an 8-vertex polygon there that omits the Barbican and Portsoken LSOAs entirely, so no
# faithful derivation can reach IoU 0.95 against it. For the City we assert instead that our boundary
# lies within the reference's generalisation tolerance (Hausdorff distance) and IoU stays above 0.70.
ULTRA_GENERALISED_TOLERANCE_M = 500
SMALL_FORCE_EXCEPTIONS = {"48"}


def _ons_to_cjs():
    frame = reference.forces()
    return dict(zip(frame["ons_code"], frame["force_code"]))


def test_embedded_force_areas_cover_all_43_forces():
    areas = geography.force_areas(geo_dir="/nonexistent-geo-dir")
    assert areas.attrs["source"] == "default"
    assert sorted(areas["force_code"]) == sorted(reference.territorial_force_codes()) and len(areas) == 43
    assert areas.geometry.is_valid.all()
    # dissolved as a coverage: neighbouring forces do not overlap
    metric = areas.to_crs(27700)
    total = metric.geometry.area.sum()
    assert metric.geometry.union_all().area == pytest.approx(total, rel=1e-4)


def test_derived_force_areas_match_ons_reference(shared_force_boundaries):
    ours = geography.force_areas(geo_dir="/nonexistent-geo-dir").to_crs(27700).set_index("force_code")
    ref = gpd.read_file(shared_force_boundaries).to_crs(27700)
    ref["force_code"] = ref["PFA16CD"].map(_ons_to_cjs())
    assert ref["force_code"].notna().all() and len(ref) == 43
    ref = ref.set_index("force_code")
    failures, ious = [], {}
    for code in ref.index:
        ours_geom, ref_geom = ours.geometry[code], ref.geometry[code]
        iou = ours_geom.intersection(ref_geom).area / ours_geom.union(ref_geom).area
        ious[code] = iou
        if code in SMALL_FORCE_EXCEPTIONS:
            distance = ours_geom.hausdorff_distance(ref_geom)
            if iou < 0.70 or distance > ULTRA_GENERALISED_TOLERANCE_M:
                failures.append(f"{code}: IoU {iou:.3f}, Hausdorff {distance:.0f} m")
        elif iou < 0.95:
            failures.append(f"{code} {ref.loc[code, 'PFA16NM']}: IoU {iou:.3f}")
    assert not failures, failures
    assert sum(ious.values()) / len(ious) > 0.97


def test_committed_files_are_small_and_attributed():
    root = geography.default_dir()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert all(p.stat().st_size < 5_000_000 for p in files)
    assert sum(p.stat().st_size for p in files) < 15_000_000
    readme = " ".join((root / "README.md").read_text().replace("\n>", " ").split())
    assert geography.ATTRIBUTION in readme
    with gzip.open(root / "force_areas.geojson.gz") as fh:
        assert json.load(fh)["attribution"] == geography.ATTRIBUTION


def test_lsoa_polygons_and_centroids_agree():
    lsoas = geography.lsoa_polygons(geo_dir="/nonexistent-geo-dir")
    centroids = geography.lsoa_centroids()
    assert len(lsoas) == len(centroids) == 34753
    assert lsoas["lsoa_code"].is_unique
    merged = lsoas.merge(centroids, on="lsoa_code", suffixes=("", "_c"))
    assert (merged["force_code"] == merged["force_code_c"]).all()
    sample = centroids.sample(500, random_state=1)
    placed = geography.locate(sample["latitude"], sample["longitude"], geo_dir="/nonexistent-geo-dir")
    # a centroid lies in its own force area (allowing a handful of odd-shaped LSOAs near a border)
    agree = (placed["location_force_code"].to_numpy() == sample["force_code"].to_numpy()).mean()
    assert agree > 0.99


def test_locate_known_points():
    lat, lon = zip(LEEDS, MANCHESTER, CARDIFF, CITY, EDINBURGH)
    placed = geography.locate(list(lat), list(lon), geo_dir="/nonexistent-geo-dir")
    assert placed["location_force_code"].tolist() == ["13", "06", "62", "48", None]
    assert placed["lsoa_code"].iloc[0].startswith("E01") and placed["lsoa_code"].iloc[2].startswith("W01")
    assert placed["lsoa_code"].iloc[4] is None
    assert placed["h3_r8"].iloc[0] == h3.latlng_to_cell(*LEEDS, 8)
    assert placed["h3_r9"].iloc[4] == h3.latlng_to_cell(*EDINBURGH, 9)   # H3 works anywhere
    assert h3.get_resolution(placed["h3_r7"].iloc[1]) == 7


@pytest.mark.parametrize("text,expected", [
    ("ls1 4ap", ("LS14AP", "LS1 4AP")), ("SW1A1AA", ("SW1A1AA", "SW1A 1AA")),
    (" m1  1ae ", ("M11AE", "M1 1AE")), ("not a postcode", None), ("", None), (None, None), ("12345", None),
])
def test_normalise_postcode(text, expected):
    assert geography.normalise_postcode(text) == expected


def _write_onspd(path):
    pd.DataFrame({
        "pcd": ["LS1 4AP", "M1 1AE", "CF10 1EP", "ZZ9 9ZZ"],
        "pcds": ["LS1 4AP", "M1 1AE", "CF10 1EP", "ZZ9 9ZZ"],
        "lat": [LEEDS[0], MANCHESTER[0], CARDIFF[0], 99.999999],     # ONSPD: 99.999999 = no grid reference
        "long": [LEEDS[1], MANCHESTER[1], CARDIFF[1], 0.0],
        "lsoa11": ["E01033010", "E01005131", "W01001939", ""],
    }).to_csv(path, index=False)


def test_import_onspd_postcodes(tmp_store, tmp_path):
    path = tmp_path / "ONSPD_small.csv"
    _write_onspd(path)
    result = geography.import_postcodes(tmp_store, path)
    assert result["format"] == "onspd" and result["postcodes_loaded"] == 3 and result["rows_skipped"] == 1
    rows = tmp_store.sql("SELECT * FROM postcodes ORDER BY postcode_norm").to_dict("records")
    assert [r["postcode"] for r in rows] == ["CF10 1EP", "LS1 4AP", "M1 1AE"]
    assert rows[1]["latitude"] == pytest.approx(LEEDS[0]) and rows[1]["lsoa_code"] == "E01033010"
    # re-import replaces, never duplicates
    geography.import_postcodes(tmp_store, path)
    assert tmp_store.sql("SELECT count(*) AS n FROM postcodes")["n"].iloc[0] == 3


@pytest.mark.parametrize("with_header", [True, False])
def test_import_codepoint_open_postcodes(tmp_store, tmp_path, with_header):
    # Leeds station area and Cardiff centre in British National Grid metres
    rows = [["LS1 4DY", "10", "429930", "433180", "E92000001", "", "", "", "E08000035", "E05001420"],
            ["CF101EP", "10", "318300", "176300", "W92000004", "", "", "", "W06000015", "W05000872"]]
    path = tmp_path / "ls.csv"
    frame = pd.DataFrame(rows, columns=geography._CPO_COLUMNS)
    frame.to_csv(path, index=False, header=with_header)
    result = geography.import_postcodes(tmp_store, path)
    assert result["format"] == "codepoint" and result["postcodes_loaded"] == 2
    got = tmp_store.sql("SELECT * FROM postcodes WHERE postcode_norm = 'LS14DY'").iloc[0]
    assert got["postcode"] == "LS1 4DY"
    assert got["latitude"] == pytest.approx(53.795, abs=0.01) and got["longitude"] == pytest.approx(-1.548, abs=0.01)


def test_import_postcodes_errors(tmp_store, tmp_path):
    with pytest.raises(WorkbenchError, match="does not exist"):
        geography.import_postcodes(tmp_store, tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,age\nx,1\n")
    with pytest.raises(WorkbenchError, match=r"bad\.csv: not a postcode directory"):
        geography.import_postcodes(tmp_store, bad)


def _insert_store(store, store_id, lat=None, lon=None, postcode=None, force_code=None):
    store.con.execute(
        "INSERT INTO stores (store_id, retailer_id, store_ref, name, postcode, latitude, longitude, force_code) "
        "VALUES ($id, 'TST', $id, $id, $pc, $lat, $lon, $fc)",
        {"id": store_id, "pc": postcode, "lat": lat, "lon": lon, "fc": force_code},
    )


def _insert_incident(store, incident_id, store_id=None, force_code=None, lat=None, lon=None, postcode=None):
    store.con.execute(
        "INSERT INTO incidents (incident_id, crime_number, force_code, store_id, latitude, longitude, postcode) "
        "VALUES ($i, $cn, $fc, $s, $lat, $lon, $pc)",
        {"i": incident_id, "cn": f"CN{incident_id}", "fc": force_code, "s": store_id, "lat": lat, "lon": lon,
         "pc": postcode},
    )


def test_enrich_store_places_stores_and_incidents(tmp_store, tmp_path):
    _write_onspd(tmp_path / "pc.csv")
    geography.import_postcodes(tmp_store, tmp_path / "pc.csv")
    _insert_store(tmp_store, "TST-1", *LEEDS)
    _insert_store(tmp_store, "TST-2", postcode="m1 1ae")             # postcode only
    _insert_store(tmp_store, "TST-3", postcode="ZZ1 1ZZ")            # unknown postcode: stays unplaced
    _insert_incident(tmp_store, 1, "TST-1", force_code="13")         # agrees with location
    _insert_incident(tmp_store, 2, "TST-1", force_code="06")         # stated GMP, happened in West Yorkshire
    _insert_incident(tmp_store, 3, "TST-2", force_code="06")
    _insert_incident(tmp_store, 4, None, force_code="62", postcode="CF10 1EP")   # referral gave only a postcode
    _insert_incident(tmp_store, 5, None, force_code=None, lat=CITY[0], lon=CITY[1])
    _insert_incident(tmp_store, 6, "TST-3", force_code="13")
    result = geography.enrich_store(tmp_store, geo_dir=tmp_path / "no-imports")
    assert result["stores_placed"] == 2 and result["stores_geocoded_from_postcode"] == 1
    assert result["stores_unplaceable"] == 1 and result["incidents_geocoded_from_postcode"] == 1

    stores = tmp_store.sql("SELECT * FROM stores ORDER BY store_id").set_index("store_id")
    assert stores.loc["TST-1", "location_force_code"] == "13" and stores.loc["TST-1", "force_code"] == "13"
    assert stores.loc["TST-2", "location_force_code"] == "06"
    assert stores.loc["TST-2", "latitude"] == pytest.approx(MANCHESTER[0])
    assert stores.loc["TST-1", "h3_r9"] == h3.latlng_to_cell(*LEEDS, 9)
    assert stores.loc["TST-1", "lsoa_code"].startswith("E01")
    assert pd.isna(stores.loc["TST-3", "h3_r7"])

    inc = tmp_store.sql("SELECT * FROM incidents ORDER BY incident_id").set_index("incident_id")
    for column in ("location_force_code", "lsoa_code", "h3_r7", "h3_r8", "h3_r9"):
        assert inc.loc[1, column] == stores.loc["TST-1", column]      # inherited from the store
    assert inc.loc[1, "force_mismatch"] == False  # noqa: E712
    assert inc.loc[2, "force_mismatch"] == True   # noqa: E712
    assert (inc.loc[2, "force_code"], inc.loc[2, "location_force_code"]) == ("06", "13")   # both recorded
    assert inc.loc[3, "location_force_code"] == "06" and inc.loc[3, "force_mismatch"] == False  # noqa: E712
    assert inc.loc[4, "location_force_code"] == "62" and inc.loc[4, "latitude"] == pytest.approx(CARDIFF[0])
    assert inc.loc[5, "location_force_code"] == "48" and pd.isna(inc.loc[5, "force_mismatch"])
    assert pd.isna(inc.loc[6, "location_force_code"])

    # once only: an enriched row is not recomputed, even if its coordinates later change
    tmp_store.con.execute("UPDATE stores SET latitude = $lat, longitude = $lon WHERE store_id = 'TST-1'",
                          {"lat": CARDIFF[0], "lon": CARDIFF[1]})
    again = geography.enrich_store(tmp_store, geo_dir=tmp_path / "no-imports")
    assert again["stores_placed"] == 0 and again["incidents_placed_own_location"] == 0
    assert tmp_store.sql("SELECT location_force_code FROM stores WHERE store_id = 'TST-1'").iloc[0, 0] == "13"
    audit = tmp_store.sql("SELECT count(*) AS n FROM audit_log WHERE action = 'geo-enrich'")
    assert audit["n"].iloc[0] == 2


def _write_boundaries(tmp_path, driver, suffix):
    """Two fake 'official' force areas: Leeds box = West Yorkshire (by ONS code), Cardiff box = Gwent."""
    gdf = gpd.GeoDataFrame(
        {"PFA23CD": ["E23000010", "W15000002"], "PFA23NM": ["West Yorkshire", "Gwent"]},
        geometry=[box(LEEDS[1] - 0.2, LEEDS[0] - 0.2, LEEDS[1] + 0.2, LEEDS[0] + 0.2),
                  box(CARDIFF[1] - 0.2, CARDIFF[0] - 0.2, CARDIFF[1] + 0.2, CARDIFF[0] + 0.2)],
        crs=4326,
    ).to_crs(27700)
    path = tmp_path / f"pfa{suffix}"
    gdf.to_file(path, driver=driver)
    return path


@pytest.mark.parametrize("driver,suffix", [("GeoJSON", ".geojson"), ("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_import_force_boundaries_replaces_default(tmp_path, driver, suffix):
    path = _write_boundaries(tmp_path, driver, suffix)
    geo_dir = tmp_path / "geo"
    result = geography.import_boundaries(path, geo_dir=geo_dir)
    assert result["kind"] == "forces" and result["features"] == 2
    areas = geography.force_areas(geo_dir)
    assert areas.attrs["source"] == "imported" and sorted(areas["force_code"]) == ["13", "61"]
    placed = geography.locate([LEEDS[0], CARDIFF[0], MANCHESTER[0]], [LEEDS[1], CARDIFF[1], MANCHESTER[1]],
                              geo_dir=geo_dir)
    assert placed["location_force_code"].tolist() == ["13", "61", None]   # the imported areas rule
    assert geography.info(geo_dir)["imports"]["forces"]["features"] == 2
    geography.clear_imports(geo_dir)
    assert geography.force_areas(geo_dir).attrs["source"] == "default"


def test_import_lsoa_boundaries(tmp_path):
    gdf = gpd.GeoDataFrame({"LSOA21CD": ["E01999999"], "LSOA21NM": ["Leeds 999Z"]},
                           geometry=[box(LEEDS[1] - 0.01, LEEDS[0] - 0.01, LEEDS[1] + 0.01, LEEDS[0] + 0.01)],
                           crs=4326)
    path = tmp_path / "lsoa.geojson"
    gdf.to_file(path, driver="GeoJSON")
    result = geography.import_boundaries(path, geo_dir=tmp_path / "geo")
    assert result["kind"] == "lsoas"
    lsoas = geography.lsoa_polygons(geo_dir=tmp_path / "geo")
    assert lsoas["lsoa_code"].tolist() == ["E01999999"] and lsoas["force_code"].tolist() == ["13"]
    placed = geography.locate([LEEDS[0]], [LEEDS[1]], geo_dir=tmp_path / "geo")
    assert placed["lsoa_code"].tolist() == ["E01999999"] and placed["location_force_code"].tolist() == ["13"]


def test_import_boundaries_errors(tmp_path):
    with pytest.raises(WorkbenchError, match="does not exist"):
        geography.import_boundaries(tmp_path / "nope.geojson", geo_dir=tmp_path / "geo")
    wrong = tmp_path / "forces.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(WorkbenchError, match="unsupported boundary format"):
        geography.import_boundaries(wrong, geo_dir=tmp_path / "geo")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(WorkbenchError, match="cannot read boundary file"):
        geography.import_boundaries(broken, geo_dir=tmp_path / "geo")
    nocode = tmp_path / "nocode.geojson"
    gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(nocode, driver="GeoJSON")
    with pytest.raises(WorkbenchError, match="no force"):
        geography.import_boundaries(nocode, geo_dir=tmp_path / "geo")
    unknown = tmp_path / "unknown.geojson"
    gpd.GeoDataFrame({"PFA23CD": ["E23999999"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(unknown, driver="GeoJSON")
    with pytest.raises(WorkbenchError, match="unknown police force 'E23999999'"):
        geography.import_boundaries(unknown, geo_dir=tmp_path / "geo")
    assert not (tmp_path / "geo" / geography.IMPORTED_FORCES).exists()


def test_build_script_attribution_matches():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_geography", geography.config.REPO_DIR / "scripts" / "build_geography.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ATTRIBUTION == geography.ATTRIBUTION
