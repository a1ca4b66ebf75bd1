"""`workbench geo ...` and `workbench map forces` from the command line."""
from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from workbench.cli import main


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def db(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    assert run(capsys, "db", "init", "--db", str(path))[0] == 0
    return path


def test_postcodes_enrich_and_map(db, tmp_path, capsys):
    pc = tmp_path / "onspd.csv"
    pd.DataFrame({"pcds": ["LS1 4AP", "CF10 1EP"], "lat": [53.7997, 51.4816], "long": [-1.5492, -3.1791],
                  "lsoa11": ["", ""]}).to_csv(pc, index=False)
    code, out, err = run(capsys, "geo", "import-postcodes", str(pc), "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["postcodes_loaded"] == 2, err
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("INSERT INTO stores (store_id, retailer_id, store_ref, name, postcode) VALUES "
                "('A-1', 'A', '1', 'Leeds', 'ls14ap'), ('A-2', 'A', '2', 'Cardiff', 'CF10 1EP')")
    con.execute("INSERT INTO incidents (incident_id, force_code, store_id) VALUES (1, '13', 'A-1'), (2, '13', 'A-2'),"
                " (3, '62', 'A-2')")
    con.close()
    code, out, err = run(capsys, "geo", "enrich", "--db", str(db), "--json", "--geo-dir", str(tmp_path / "g"))
    result = json.loads(out)
    assert code == 0 and result["stores_placed"] == 2 and result["incidents_enriched"] == 3
    assert result["incidents_force_mismatch"] == 1
    out_html = tmp_path / "maps" / "forces.html"
    code, out, err = run(capsys, "map", "forces", "--out", str(out_html), "--db", str(db), "--no-png", "--json")
    result = json.loads(out)
    assert code == 0 and result["forces_affected"] == 2 and result["incidents"] == 3
    assert out_html.exists() and not out_html.with_suffix(".png").exists()
    code, out, err = run(capsys, "geo", "info", "--db", str(db), "--json", "--geo-dir", str(tmp_path / "g"))
    info = json.loads(out)
    assert info["force_areas"] == {"source": "default", "count": 43} and info["store"]["postcodes"] == 2


def test_import_boundaries_cli(tmp_path, capsys):
    path = tmp_path / "pfa.gpkg"
    gpd.GeoDataFrame({"PFA23CD": ["E23000010"]}, geometry=[box(-1.8, 53.6, -1.3, 54.0)], crs=4326).to_file(path)
    geo_dir = tmp_path / "geo"
    code, out, err = run(capsys, "geo", "import-boundaries", str(path), "--geo-dir", str(geo_dir))
    assert code == 0 and "imported 1 forces" in out
    code, out, err = run(capsys, "geo", "info", "--geo-dir", str(geo_dir), "--db", str(tmp_path / "none.duckdb"),
                         "--json")
    assert json.loads(out)["force_areas"] == {"source": "imported", "count": 1}
    assert run(capsys, "geo", "clear-imports", "--geo-dir", str(geo_dir))[0] == 0
    assert not (geo_dir / "force_areas.parquet").exists()


@pytest.mark.parametrize("args,message", [
    (["geo", "import-boundaries", "{tmp}/missing.geojson"], "missing.geojson: boundary file does not exist"),
    (["geo", "import-boundaries", "{tmp}/table.csv"], "table.csv: unsupported boundary format .csv"),
    (["geo", "import-postcodes", "{tmp}/missing.csv", "--db", "{tmp}/d.duckdb"], "missing.csv: postcode file does not exist"),
    (["geo", "import-postcodes", "{tmp}/table.csv", "--db", "{tmp}/d.duckdb"], "table.csv: not a postcode directory"),
    (["map", "forces", "--out", "{tmp}/m.pdf", "--db", "{tmp}/d.duckdb"], "m.pdf: map output must be an .html file"),
    (["map", "forces", "--out", "{tmp}/m.html", "--db", "{tmp}/absent.duckdb"], "absent.duckdb does not exist"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, message):
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    run(capsys, "db", "init", "--db", str(tmp_path / "d.duckdb"))
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in err


def test_cli_error_in_a_real_process_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "geo", "import-boundaries",
                           str(tmp_path / "nope.gpkg")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.gpkg'}: boundary file does not exist"
