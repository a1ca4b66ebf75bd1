"""`workbench hotspots backtest|plan|map|knox|emerging`: hotspot statistics, forecast accuracy and patrol plans."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.commands.common import (DbOption, JsonOption, above_zero, at_least, console, emit_json, print_table,
                                       print_written_map)
from workbench.commands.common import png_or_skip
from workbench.errors import WorkbenchError
from workbench.store import open_store

hotspots_app = typer.Typer(help="Hot spots for patrol planning: statistics, measured forecast accuracy, patrol plans.",
                           no_args_is_help=True)

ForceOption = typer.Option(None, "--force", help="Force name, alias or code (e.g. 'West Yorkshire', WYP, 13).")
UnitOption = typer.Option("h3:8", "--unit", help="Spatial unit: h3:R (e.g. h3:8), grid:M (metres) or lsoa.")
SourceOption = typer.Option("referrals", "--source", help="referrals (the store's incidents), police-uk (street-level "
                                                         "CSV files) or recorded (police.uk rows loaded into the store).")
PurposeOption = typer.Option(None, "--purpose", help="Why this product is made (optional; recorded in the audit log).")
FilesOption = typer.Option(None, "--files", help="police.uk street-level CSV files or directories "
                                                 "(default: the shipped West Yorkshire sample); with "
                                                 "--source counts, one CSV of monthly counts per area.")
SeedOption = typer.Option(0, "--seed", help="Seed of the random numbers (permutations, tie-breaks): the same "
                                            "seed gives the same result.")
UntilOption = typer.Option(None, "--until", help="End of the analysis (YYYY-MM-DD, exclusive): the last period "
                                                 "ends the day before; later data are ignored. Default: calendar "
                                                 "periods (ISO weeks from Monday, calendar months).")


def _force(text: Optional[str]) -> Optional[str]:
    from workbench import reference

    if text is None:
        return None
    code = reference.resolve_force(text)
    if code is None:
        raise WorkbenchError(f"unknown force {text!r}: give a force name, alias or code (e.g. 'West Yorkshire' or 13)")
    return code


def _events(source: str, force_code, db, files, crime_type: str = "Shoplifting"):
    """(events, default period, periods mode) for a source."""
    from workbench.hotspots import events, policeuk

    if source == "referrals":
        with open_store(db, read_only=True) as store:
            ev = events.from_store(store, force_code=force_code)
        if ev.empty:
            raise WorkbenchError("no located incidents in the store" + (f" for force {force_code}" if force_code else "")
                                 + "; run `workbench ingest` and `workbench geo enrich` first")
        return ev, "week", "full"
    if source in ("police-uk", "policeuk", "police_uk"):
        ev = policeuk.read_street_csvs(files or None, crime_type=crime_type)
        if force_code:
            ev = ev[ev["force_code"] == force_code].reset_index(drop=True)
            if ev.empty:
                raise WorkbenchError(f"no police.uk {crime_type} rows for force {force_code}")
        return ev, "month", "observed"
    if source == "recorded":
        with open_store(db, read_only=True) as store:
            return policeuk.from_store(store, crime_type, force_code), "month", "observed"
    raise WorkbenchError(f"unknown source {source!r}: use referrals, police-uk or recorded"
                         + (" (or counts, for the backtest)" if source != "counts" else
                            "; --source counts (a count table) works with `hotspots backtest` only"))


@hotspots_app.command("backtest")
def backtest_cmd(source: str = SourceOption, force: Optional[str] = ForceOption, unit: str = UnitOption,
                 period: Optional[str] = typer.Option(None, "--period", help="week or month (default: week for "
                                                      "referrals, month for police.uk)."),
                 origins: int = typer.Option(12, "--origins", callback=at_least(1),
                                              help="Number of rolling origins (periods tested)."),
                 methods: Optional[str] = typer.Option(None, "--methods", help="Comma-separated methods: "
                                                       "naive, average, prospective, kde, blend, or all (default naive,prospective,"
                                                       "kde; naive,average for a count table without locations)."),
                 bandwidth: Optional[float] = typer.Option(None, "--bandwidth", callback=above_zero, help="Spatial bandwidth in metres for "
                                                           "prospective/kde (default: documented per method)."),
                 files: Optional[List[Path]] = FilesOption,
                 count_columns: str = typer.Option("area_code,month,count", "--count-columns",
                                                   help="With --source counts: the area code, month and count "
                                                        "columns of the table (comma-separated names)."),
                 area_column: Optional[str] = typer.Option(None, "--area-column", help="With --source counts: a "
                                                           "column of each area's size in km2 (optional)."),
                 seed: int = SeedOption, until: Optional[str] = UntilOption, db: Optional[Path] = DbOption,
                 json_out: bool = JsonOption) -> None:
    """Rolling-origin backtest: hit rate, PAI and PEI* at 1/5/10% of area for each method beside the naive baseline.

    --source counts --files TABLE.csv backtests monthly counts per area (an LSOA or ward table as forces
    publish them) without coordinates."""
    from workbench.hotspots import backtest, cells, counts, forecast

    cells.parse_unit(unit)
    force_code = _force(force)
    if source == "counts":
        if not files or len(files) != 1:
            raise WorkbenchError("--source counts needs exactly one count table: --files TABLE.csv")
        names = tuple(c.strip() for c in count_columns.split(","))
        if len(names) != 3 or not all(names):
            raise WorkbenchError(f"--count-columns: give three column names AREA,MONTH,COUNT (got {count_columns!r})")
        if period not in (None, "month"):
            raise WorkbenchError("a count table holds monthly counts: --period month (or leave it out)")
        cm = counts.table_matrix(counts.read_count_table(files[0], names, area_column), force_codes=force_code,
                                 end=until)
    methods = methods or ("naive,prospective,kde" if source != "counts" or cm.unit.has_coordinates
                          else "naive,average")
    chosen = (tuple(m for m in forecast.METHODS if source != "counts" or cm.unit.has_coordinates
                    or m not in backtest.SPATIAL_METHODS) if methods.strip() == "all"
              else tuple(m.strip() for m in methods.split(",") if m.strip()))
    bad = [m for m in chosen if m not in forecast.METHODS]
    if bad:
        raise WorkbenchError(f"unknown method(s) {', '.join(bad)}: use {', '.join(forecast.METHODS)}")
    if source == "counts":
        summary, detail = backtest.backtest(cm, methods=chosen, origins=origins, seed=seed, bandwidth_m=bandwidth)
    else:
        ev, default_period, mode = _events(source, force_code, db, files)
        summary, detail = backtest.backtest_events(ev, unit=unit, period=period or default_period, methods=chosen,
                                                   origins=origins, periods=mode, force_codes=force_code,
                                                   bandwidth_m=bandwidth, seed=seed, end=until)
    rows = [{"method": r.method, "coverage": r.coverage, "hit_rate": round(r.hit_rate, 4), "pai": round(r.pai, 3),
             "pei_star": round(r.pei_star, 4), "origins": int(r.origins)} for r in summary.itertuples()]
    if json_out:
        emit_json({"source": source, "force_code": force_code, **summary.attrs, "results": rows})
        return
    a = summary.attrs
    console.print(f"{source}: {a['events']:,} events, {a['units']:,} {a['unit']} units ({a['area_km2']:,} km2), "
                  f"{a['origins']} origins {a['first_origin']} to {a['last_origin']} ({a['periods']}; seed {seed})")
    print_table("backtest", [{**r, "coverage": f"{r['coverage']:.0%}", "hit_rate": f"{r['hit_rate']:.1%}",
                              "pai": f"{r['pai']:.1f}", "pei_star": f"{r['pei_star']:.2f}"} for r in rows])


@hotspots_app.command("plan")
def plan_cmd(force: str = typer.Option(..., "--force", help="Force name, alias or code."),
             period: str = typer.Option("next-week", "--period", help="next-week (the ISO week after the last "
                                        "week of data, or the 7 days from --until) or next-month (police.uk)."),
             out: Path = typer.Option(..., "--out", help="Output directory (plan.csv, map.html/.png, briefing.pdf/.png)."),
             unit: str = UnitOption, method: Optional[str] = typer.Option(None, "--method",
                                                                          help="Forecast method (default: auto, "
                                                                               "the best of this force's backtest)."),
             top: int = typer.Option(15, "--top", callback=at_least(1), help="Number of places in the plan."),
             source: str = SourceOption, files: Optional[List[Path]] = FilesOption,
             png: bool = typer.Option(True, "--png/--no-png", callback=png_or_skip,
                                      help="Also write PNGs of the map and briefing."),
             purpose: Optional[str] = PurposeOption, until: Optional[str] = UntilOption,
             db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Patrol plan for a force and the next period: table, offline map and a marked PDF/PNG briefing (audited)."""
    from workbench import exports
    from workbench.hotspots import briefing, cells, events, forecast, plan

    exports.check_folder(out)
    purpose = exports.check_purpose(purpose)
    cells.parse_unit(unit)
    if period not in ("next-week", "next-month"):
        raise WorkbenchError(f"unknown period {period!r}: use next-week or next-month")
    method = method or "auto"
    if method != "auto" and method not in forecast.METHODS:
        raise WorkbenchError(f"unknown method {method!r}: use {', '.join(forecast.METHODS)}")
    force_code = _force(force)
    ev, _, mode = _events(source, force_code, db, files)
    stores = None
    if source == "referrals":
        with open_store(db, read_only=True) as store:
            stores = events.stores_frame(store, force_code=force_code)
    p = plan.patrol_plan(ev, stores, force_code=force_code, unit=unit, method=method, top=top, periods=mode,
                         period="week" if period == "next-week" else "month", until=until)
    folder_existed = out.is_dir()
    result = briefing.plan_outputs(p, out, png=png)
    try:   # audited, or the plan's files are deleted and the verb fails (exit 2)
        exports.audit_export(db, "hotspots-plan", out, {"source": source, "force_code": force_code,
                             **{k: p.meta[k] for k in ("period_start", "period_end", "method", "unit")}},
                             purpose, files=result["files"])
    except WorkbenchError:
        if not folder_existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    result["purpose"] = purpose
    if json_out:
        emit_json({"meta": p.meta, "outputs": result, "places": p.cells.drop(columns=["score"]).to_dict("records")})
        return
    m = p.meta
    console.print(f"patrol plan for {m['force_name']}, {m['period_start']} to {m['period_end']} ({m['method']}, {m['unit']})")
    console.print(m["accuracy"])
    print_table("places", [{"#": r.rank, "place": r.label, "expected": f"{r.expected:.1f}", "stores": r.stores_n}
                           for r in p.cells.itertuples()])
    for key in ("plan_csv", "map_html", "map_png", "pdf", "png"):
        if key in result:
            console.print(f"wrote {result[key]}")


@hotspots_app.command("map")
def map_cmd(out: Path = typer.Option(..., "--out", help="HTML file; a PNG with the same stem is written beside it."),
            unit: str = typer.Option("h3:7", "--unit", help="Spatial unit for the national map (default h3:7)."),
            force: Optional[str] = ForceOption, weeks: int = typer.Option(52, "--weeks", callback=at_least(1), help="Weeks of history used."),
            permutations: int = typer.Option(199, "--permutations", callback=at_least(19),
                                             help="Permutations for the reported permutation p-value (p_perm); "
                                                  "significance uses --p-method."),
            p_method: str = typer.Option("exact", "--p-method", help="p-value the FDR step uses: exact (the exact "
                                         "permutation distribution, no sampling; default), normal (the normal tail "
                                         "of the z-score, as ArcGIS) or permutation (Monte Carlo, --permutations)."),
            seed: int = SeedOption, until: Optional[str] = UntilOption,
            source: str = SourceOption, files: Optional[List[Path]] = FilesOption,
            png: bool = typer.Option(True, "--png/--no-png", callback=png_or_skip), db: Optional[Path] = DbOption,
            purpose: Optional[str] = PurposeOption, json_out: bool = JsonOption) -> None:
    """National (or one force's) hot spot map: Getis-Ord Gi* with FDR on the last N weeks, offline HTML + PNG (audited)."""
    import pandas as pd

    from workbench import exports, maps
    from workbench.hotspots import briefing, cells, counts, gistar, plan

    maps.check_map_output(out)
    purpose = exports.check_purpose(purpose)
    u = cells.parse_unit(unit)
    if p_method not in gistar.P_METHODS:
        raise WorkbenchError(f"unknown --p-method {p_method!r}: use {', '.join(gistar.P_METHODS)}")
    end = cells.check_until(until, "week" if source == "referrals" else "month")
    force_code = _force(force)
    if source == "referrals" and u.label in ("h3:7", "h3:8", "h3:9", "lsoa"):
        # aggregate in SQL: a national map never loads millions of incidents into memory
        from workbench.hotspots import cube

        with open_store(db, read_only=True) as store:
            span = store.query("hotspots_date_range", force_code=force_code).iloc[0]
            if not span["incidents"]:
                raise WorkbenchError("no located incidents in the store; run `workbench ingest` and `workbench geo enrich` first")
            first, stop = _weeks_window(pd.Timestamp(span["last_at"]), weeks, end)
            long = counts.store_counts(store, unit=u.label, period="week", force_code=force_code, start=first, end=stop)
        if long.empty:
            raise WorkbenchError(f"no located incidents in the {weeks} weeks before {stop.date()}")
        long["period_start"] = pd.to_datetime(long["period_start"])
        cm = cube.matrix(long, u, force_code)
        date_from, date_to = first, stop - pd.Timedelta(days=1)
    else:
        ev, _, mode = _events(source, force_code, db, files)
        if end is not None:
            ev = ev[ev["occurred_at"] < end]
        if source == "referrals" and len(ev):
            first, stop = _weeks_window(ev["occurred_at"].max(), weeks, end)
            ev = ev[ev["occurred_at"] >= first]
        if ev.empty:
            raise WorkbenchError("no located incidents before --until")
        cm = counts.count_matrix(ev, u, "week" if source == "referrals" else "month", periods=mode,
                                 force_codes=force_code)
        date_from, date_to = ev["occurred_at"].min(), ev["occurred_at"].max()
    gi = gistar.hot_spots(cm, permutations=permutations, p_method=p_method, seed=seed)
    hot = gi[gi["category"].str.startswith("Hot spot")]
    by_force = hot.groupby("force_code").size().rename("hot_cells").reset_index()
    by_force["force_name"] = by_force["force_code"].map(plan.force_name)
    by_force = by_force.sort_values(["hot_cells", "force_name"], ascending=[False, True])
    title = f"Shoplifting hot spots: {plan.force_name(force_code) if force_code else 'England and Wales'}"
    subtitle = (f"{int(cm.counts.sum()):,} incidents {date_from:%d %b %Y} to "
                f"{date_to:%d %b %Y}; Gi* ({P_METHOD_TEXT[p_method].format(permutations)}, two-sided, FDR "
                f"5%; 90/95/99% confidence) on {u.label}; {len(hot):,} hot spot cells")
    result = briefing.hotspot_map(gi, u, out, title, subtitle, by_force, png=png)
    result.update({"hot_cells": int(len(hot)), "units": int(len(gi)), "forces_with_hot_spots": int(len(by_force))})
    exports.audit_export(db, "hotspots-map", out, {"source": source, "force_code": force_code, "unit": u.label,
                         "weeks": weeks, "hot_cells": result["hot_cells"], "p_method": p_method,
                         "permutations": permutations, "seed": seed, "until": str(end.date()) if end is not None else None},
                         purpose,
                         files=[result[k] for k in ("html", "png") if k in result])
    result["purpose"] = purpose
    if json_out:
        emit_json(result)
        return
    print_written_map(result, f"{len(hot):,} hot spot cells in {len(by_force)} forces")


P_METHOD_TEXT = {"exact": "exact permutation p-values", "normal": "normal p-values",
                 "permutation": "{} permutations"}


def _weeks_window(last, weeks: int, end):
    """(first, stop) of the map's window: the `weeks` ISO weeks up to the one holding `last`, or the
    `weeks` x 7 days before `end` (--until). Never anchored on the latest incident's day."""
    import pandas as pd

    if end is not None:
        stop = pd.Timestamp(end)
    else:
        day = pd.Timestamp(last).normalize()
        stop = day - pd.Timedelta(days=day.day_of_week) + pd.Timedelta(days=7)
    return stop - pd.Timedelta(weeks=weeks), stop


@hotspots_app.command("knox")
def knox_cmd(force: Optional[str] = ForceOption, source: str = SourceOption, files: Optional[List[Path]] = FilesOption,
             space: str = typer.Option("0,100,200,400,800", "--space-bands", help="Spatial band edges in metres."),
             time: str = typer.Option("0,7,14,28,56", "--time-bands", help="Temporal band edges in days."),
             iterations: int = typer.Option(999, "--iterations", callback=at_least(19), help="Monte Carlo permutations."),
             seed: int = SeedOption, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Near-repeat (Knox) test: observed/expected pairs by distance x time band with Monte Carlo p-values."""
    from workbench.hotspots import knox

    def edges(option, text):
        try:
            values = tuple(float(x) for x in text.split(","))
        except ValueError:
            raise WorkbenchError(f"{option}: band edges must be comma-separated numbers, not {text!r}") from None
        if len(values) < 2 or values[0] < 0 or any(b <= a for a, b in zip(values, values[1:])):
            raise WorkbenchError(f"{option}: band edges must be at least two numbers, from 0 or more, each larger "
                                 f"than the one before (got {text!r})")
        return values

    space_edges, time_edges = edges("--space-bands", space), edges("--time-bands", time)
    ev, _, _ = _events(source, _force(force), db, files)
    table = knox.knox(ev, space_edges, time_edges, iterations=iterations, seed=seed)
    if json_out:
        emit_json({**table.attrs, "bands": table.to_dict("records")})
        return
    print_table(f"Knox test: {table.attrs['events']:,} events, {table.attrs['pairs']:,} pairs, {iterations} permutations",
                [{"distance": r.space_band, "time": r.time_band, "observed": r.observed, "expected": f"{r.expected:.1f}",
                  "ratio": f"{r.ratio:.2f}", "p": f"{r.p_value:.3f}"} for r in table.itertuples()])


@hotspots_app.command("emerging")
def emerging_cmd(force: str = typer.Option(..., "--force", help="Force name, alias or code."),
                 unit: str = UnitOption, periods: int = typer.Option(12, "--periods", callback=at_least(4),
                                              help="Periods analysed (at least 4 for a trend)."),
                 source: str = SourceOption, files: Optional[List[Path]] = FilesOption,
                 p_method: str = typer.Option("exact", "--p-method", help="Per-period Gi* p-value: exact (default; "
                                              "sparse weekly counts rarely reach significance) or normal (ArcGIS)."),
                 until: Optional[str] = UntilOption, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Emerging hot spot categories (per-period Gi* + Mann-Kendall) per unit with crime (not randomised: no seed)."""
    from workbench.hotspots import counts, emerging

    if p_method not in ("exact", "normal"):
        raise WorkbenchError(f"unknown --p-method {p_method!r}: use exact or normal")

    force_code = _force(force)
    ev, period, mode = _events(source, force_code, db, files)
    cm = counts.count_matrix(ev, unit, period, periods=mode, force_codes=force_code, end=until)
    table = emerging.emerging_hot_spots(cm, periods=periods, p_method=p_method)
    tally = table["category"].value_counts().to_dict() if len(table) else {}
    if json_out:
        emit_json({"categories": tally, "units": table.drop(columns=["x", "y"]).to_dict("records")})
        return
    print_table("emerging hot spots", [{"category": k, "units": v} for k, v in tally.items()])


@hotspots_app.command("cube")
def cube_cmd(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """(Re)build the pre-aggregated hotspot_cube the hotspot explorer filters (after ingest or enrichment)."""
    from workbench.hotspots import cube

    with open_store(db) as store:
        rows = cube.build(store)
    if json_out:
        emit_json({"hotspot_cube_rows": rows})
        return
    console.print(f"hotspot_cube rebuilt: {rows:,} rows")


def register(app: typer.Typer) -> None:
    app.add_typer(hotspots_app, name="hotspots")
