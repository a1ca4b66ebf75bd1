"""`workbench link records|run|status|decide|explain`: person and vehicle resolution (docs/linkage.md)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, err_console, print_table, say
from workbench.errors import WorkbenchError

link_app = typer.Typer(help="Resolve person and vehicle mentions into people and vehicles (docs/linkage.md).",
                       no_args_is_help=True)
SettingsOption = typer.Option(None, "--settings", help="A linkage YAML merged over workbench/config/linkage.yaml.")


def _read_records(path: Path):
    import pandas as pd

    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig")
        else:
            raise WorkbenchError(f"{path}: not a CSV or Parquet file (by its extension)")
    except WorkbenchError:
        raise
    except pd.errors.EmptyDataError:
        raise WorkbenchError(f"{path}: the file is empty") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault: one line
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WorkbenchError(f"{path}: cannot be read as {suffix.lstrip('.') or 'a table'}: {reason}") from None
    if frame.empty:
        raise WorkbenchError(f"{path}: no records (the file has no data rows)")
    return frame


@link_app.command("records")
def records(
    file: Path = typer.Argument(..., help="CSV or Parquet of person records."),
    id_column: str = typer.Option(..., "--id-column", help="Column holding each record's unique id."),
    columns: Optional[str] = typer.Option(
        None, "--columns", help="Roles to columns, e.g. forename=First,surname=Last,dob=DOB (roles: forename, "
                                "surname, full_name, alias, dob, gender, address, town, postcode, other_id, latitude, "
                                "longitude, seen_at, group). Default: guessed from usual column names."),
    out: Path = typer.Option(..., "--out", help="Output table (.csv, .xlsx or .jsonl): one row per record."),
    settings_file: Optional[Path] = SettingsOption,
    db: Optional[Path] = typer.Option(None, "--db", help="Record the export in this store's audit log."),
    json_out: bool = JsonOption,
) -> None:
    """Deduplicate a file of person records: record id, cluster id, and the match weight that joined it."""
    from workbench import exports
    from workbench.linkage import guess_columns, link_records, load_settings, parse_columns

    exports.check_output(out, exports.TABLE_SUFFIXES)
    settings = load_settings(settings_file)
    frame = _read_records(file)
    roles = parse_columns(columns) if columns else guess_columns(frame)
    if not roles:
        raise WorkbenchError(f"{file}: no person columns recognised; name them with --columns role=column,...")
    result, resolution = link_records(frame, id_column, roles, settings=settings)
    table = result.rename(columns={id_column: "record_id"}).loc[:, ["record_id", "cluster_id", "match_weight",
                                                                   "joined_by"]]
    table["match_weight"] = table["match_weight"].map(lambda w: None if w is None or w != w else round(float(w), 3))
    written = exports.write_table(table, out)
    summary = {"file": str(file), "records": int(len(table)), "clusters": int(table.cluster_id.nunique()),
               "review_pairs": int(len(resolution.review_pairs())), "out": str(out), "roles": roles,
               "settings_version": settings.version}
    if db is not None:
        exports.audit_export(db, "export", out, {"kind": "link-records", "source": str(file),
                                                 "rows": written.get("rows")})
    if json_out:
        emit_json(summary)
        return
    say(f"{summary['records']:,} records -> {summary['clusters']:,} clusters ({summary['review_pairs']:,} pairs "
        f"for review) written to {out}")


def _interactive() -> bool:
    """A person watching: stderr is a terminal and this is not CI (CI sets CI=true)."""
    import os
    import sys

    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return bool(getattr(sys.stderr, "isatty", lambda: False)()) and not ci


@contextmanager
def run_progress(total: int, quiet: bool = False):
    """Progress of a `link run`: a rich bar on a terminal; plain lines on stderr otherwise (a log, CI); nothing
    with --json. Yields `step(description)`, a context manager around each step."""
    import time

    if quiet:
        @contextmanager
        def silent(_description):
            yield
        yield silent
        return
    if _interactive():
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err_console,
                      transient=True) as bar:
            task = bar.add_task("link run", total=total)

            @contextmanager
            def rich_step(description):
                bar.update(task, description=f"link run: {description}")
                yield
                bar.advance(task)
            yield rich_step
        return

    done = {"n": 0}

    @contextmanager
    def plain_step(description):
        started = time.monotonic()
        say(f"link run [{done['n'] + 1}/{total}]: {description} ...", err=True)
        yield
        done["n"] += 1
        say(f"link run [{done['n']}/{total}]: {description} done in {time.monotonic() - started:.1f} s", err=True)
    yield plain_step


@link_app.command("run")
def run(
    db: Optional[Path] = DbOption,
    settings_file: Optional[Path] = SettingsOption,
    json_out: bool = JsonOption,
) -> None:
    """Resolve the store's person and vehicle mentions, then find groups (decisions re-applied; ids kept)."""
    from workbench.linkage import load_settings
    from workbench.linkage.run import run_all
    from workbench.store import open_store

    from workbench.linkage.groups import find_groups
    from workbench.linkage.run import run_persons, run_vehicles
    from workbench.linkage.stages import recording

    settings = load_settings(settings_file)
    steps = [("persons", run_persons), ("vehicles", run_vehicles), ("groups", find_groups)]   # what run_all runs
    results = []
    with open_store(db) as store, run_progress(len(steps), quiet=json_out) as step:
        for name, fn in steps:
            with step(f"resolving {name}"), recording() as stages:
                result = fn(store, settings)
            results.append({**result, "stages": stages})   # wall time and memory per stage (--json shows them)
    payload = [{k: v for k, v in r.items() if k != "resolution"} for r in results]
    if json_out:
        emit_json(payload)
        return
    for r in payload:
        if r["entity"] == "group":
            say(f"groups: {r['records']:,} co-offenders -> {r['entities']:,} groups (run {r['run_id']}, modularity "
                f"{r['modularity']}; changes {r['events'] or 'none'})")
            continue
        extra = f", {r['flags']} cloned-plate flags" if r["entity"] == "vehicle" else \
            f", {r['review_pairs']} pairs for review"
        say(f"{r['entity']}s: {r['records']:,} mentions -> {r['entities']:,} resolved (run {r['run_id']}{extra}; "
            f"changes {r['events'] or 'none'})")


@link_app.command("status")
def status_cmd(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The latest person and vehicle runs: mentions, resolved entities, decisions, flags."""
    from workbench.linkage.run import status
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        frame = status(store)
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say("no linkage run yet: `workbench link run`")
        return
    print_table("linkage runs (latest of each)", rows)


@link_app.command("decide")
def decide_cmd(
    confirm: Optional[list[str]] = typer.Option(None, "--confirm", help="Two mention ids that are one person/vehicle.",
                                                ),
    reject: Optional[list[str]] = typer.Option(None, "--reject", help="Two mention ids that are NOT one person/vehicle."),
    ids: Optional[list[str]] = typer.Argument(None, help="The second id (after --confirm A or --reject A)."),
    why: str = typer.Option(..., "--why", help="The reason, recorded with who and when."),
    db: Optional[Path] = DbOption,
) -> None:
    """Record an analyst's decision about a pair of mentions; applied on every later `link run`."""
    from workbench.linkage.run import decide
    from workbench.store import open_store

    chosen = [("confirm", confirm), ("reject", reject)]
    given = [(kind, values) for kind, values in chosen if values]
    if len(given) != 1:
        raise WorkbenchError("give exactly one of --confirm A B or --reject A B")
    kind, values = given[0]
    pair = list(values) + list(ids or [])
    if len(pair) != 2:
        raise WorkbenchError(f"--{kind} takes two mention ids, got {len(pair)}")
    with open_store(db) as store:
        decision_id = decide(store, kind, pair[0], pair[1], why)
    say(f"decision {decision_id}: {kind} {pair[0]} {pair[1]} recorded; it applies from the next `workbench link run`")


@link_app.command("explain")
def explain_cmd(
    a: str = typer.Argument(..., help="A person mention id."),
    b: str = typer.Argument(..., help="Another person mention id."),
    db: Optional[Path] = DbOption,
    chart: Optional[Path] = typer.Option(None, "--chart", help="Also write the waterfall chart: out.html "
                                                                "(self-contained, marked) or out.png; audited."),
    json_out: bool = JsonOption,
) -> None:
    """Why two person mentions are (or are not) one person: match weight per comparison."""
    from workbench import exports
    from workbench.linkage.run import explain
    from workbench.store import open_store

    if chart is not None:
        exports.check_output(chart, (".html", ".png"))
        if chart.suffix.lower() == ".png":
            from workbench import maps

            maps.chromium_executable()          # no browser: one line, before any work
    written = None
    with open_store(db, read_only=True) as store:
        table = explain(store, a, b)
        if chart is not None:
            from workbench.linkage.waterfall import write_explanation_chart

            written = write_explanation_chart(store, a, b, chart, table=table)
    rows = _records(table)
    for row in rows:
        if isinstance(row["match_weight"], float):
            row["match_weight"] = round(row["match_weight"], 3)
    if json_out:
        emit_json({"mention_a": a, "mention_b": b, "rows": rows, "chart": written} if chart is not None else rows)
        return
    print_table(f"match weight of {a} and {b} by comparison", rows)
    if written:
        say(f"wrote {written['path']} ({written['bytes']:,} bytes): the waterfall of this table")


def _records(frame) -> list[dict]:
    """Rows as plain JSON-able dicts: missing values None, timestamps as ISO text."""
    import pandas as pd

    out = []
    for row in frame.astype(object).to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
                value = None
            elif isinstance(value, pd.Timestamp):
                value = value.isoformat()
            elif hasattr(value, "item") and not isinstance(value, str):
                value = value.item()
            clean[key] = value
        out.append(clean)
    return out


REVIEW_SHOWN = {"person": ["full_name", "dob", "gender", "occurred_at", "location"],
                "vehicle": ["vrm_raw", "make", "colour", "occurred_at", "location"]}


@link_app.command("review")
def review_cmd(
    entity: str = typer.Option("person", "--entity", help="person or vehicle."),
    blind: bool = typer.Option(False, "--blind", help="Hide the model's weight and probability: decide unprompted."),
    limit: Optional[int] = typer.Option(20, "--limit", help="Show at most this many pairs (most uncertain first)."),
    db: Optional[Path] = DbOption,
    settings_file: Optional[Path] = SettingsOption,
    json_out: bool = JsonOption,
) -> None:
    """The pairs for clerical review, most uncertain first, with both mentions' attributes. Decide each with
    `workbench link decide --confirm A B --why ...` (or --reject)."""
    from workbench.linkage import load_settings
    from workbench.linkage.review import review_queue
    from workbench.store import open_store

    settings = load_settings(settings_file)
    with open_store(db, read_only=True) as store:
        queue = review_queue(store, entity, blind=blind, limit=limit, settings=settings)
    rows = _records(queue)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say(f"no {entity} pairs for review")
        return
    for row in rows:
        for key in ("occurred_at_a", "occurred_at_b", "dob_a", "dob_b"):
            if isinstance(row.get(key), str):
                row[key] = row[key][:16].replace("T", " ") if key.startswith("occurred") else row[key][:10]
    heading = f"{entity} pairs for review, most uncertain first" + (" (blind: the model's view hidden)" if blind else "")
    say(f"{heading}: {len(rows)} shown")
    for row in rows:                        # one small side-by-side table per pair: fits a terminal
        view = "" if blind else (f"  match weight {row['match_weight']:+.2f}, p {row['match_probability']:.2f}"
                                 if row.get("match_weight") is not None else
                                 (f"  p {row['match_probability']:.2f}" if row.get("match_probability") is not None
                                  else ""))
        table = [{"": "mention", "A": row["mention_a"], "B": row["mention_b"]}]
        table += [{"": name, "A": "" if row.get(f"{name}_a") is None else row[f"{name}_a"],
                   "B": "" if row.get(f"{name}_b") is None else row[f"{name}_b"]} for name in REVIEW_SHOWN[entity]]
        print_table(f"#{row['rank']} {row['reason']}{view}", table, ["", "A", "B"])
    say("decide: workbench link decide --confirm A B --why TEXT (one person/vehicle) or --reject A B --why TEXT")


@link_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="Output: .html (offline link chart), .anx (i2 chart), .graphml, or a "
                                                "folder for nodes.csv and edges.csv."),
    fmt: Optional[str] = typer.Option(None, "--format", help="html, anx, anx-timeline, graphml or csv (default: from "
                                                             "the --out extension; no extension: csv)."),
    force: Optional[str] = typer.Option(None, "--force", help="Only incidents of this force (name, alias or code)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only incidents on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only incidents on or before this date (YYYY-MM-DD)."),
    groups_only: bool = typer.Option(False, "--groups-only", help="Only the members of active groups (and their "
                                                                  "incidents, vehicles and stores)."),
    title: Optional[str] = typer.Option(None, "--title", help="Chart title (default: says what the chart shows)."),
    purpose: Optional[str] = typer.Option(None, "--purpose", help="Why this product is made (recorded in the audit log)."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """The national link chart (or one force's, or a period's) of resolved persons, vehicles, incidents and stores
    as an offline HTML chart, i2 ANX (link chart or timeline), GraphML or node/edge CSVs (audited, marked)."""
    from workbench import exports, reference
    from workbench.linkage import charts
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    fmt = charts.check_export(out, fmt)
    purpose = exports.check_purpose(purpose)
    force_code = None
    if force is not None:
        force_code = reference.resolve_force(force)
        if force_code is None:
            raise WorkbenchError(f"unknown force {force[:60]!r}: give a force name, alias or code (e.g. 'West Yorkshire' or 13)")
    with open_store(db, read_only=True) as store:
        person_ids = None
        if groups_only:
            person_ids = sorted(set(store.query("linkage/network_group_members").person_id))
            if not person_ids:
                raise WorkbenchError("no active groups: run `workbench link run` (see `workbench groups list`)")
        net = build_network(store, person_ids=person_ids, force_code=force_code, since=since, until=until)
        if net.nodes.empty:
            raise WorkbenchError("nothing to export: no resolved persons or vehicles at incidents"
                                 + (" for these filters" if force or since or until else
                                    "; run `workbench link run` first"))
        scope = ", ".join(p for p in (charts.force_names().get(force_code, force_code) if force_code else
                                      "England and Wales", f"from {since}" if since else "",
                                      f"to {until}" if until else "", "group members" if groups_only else "")
                          if p)
        result = charts.export(net, out, fmt, title=title or f"Link chart: {scope}", store=store, purpose=purpose)
    result.update(force_code=force_code, since=since, until=until, groups_only=groups_only)
    if json_out:
        emit_json(result)
        return
    say(f"wrote {', '.join(result['files'])} ({result['format']}: {result['persons']:,} persons, "
        f"{result['vehicles']:,} vehicles, {result['incidents']:,} incidents, {result['stores']:,} stores, "
        f"{result['edges']:,} links; {result['marking']})")


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")
