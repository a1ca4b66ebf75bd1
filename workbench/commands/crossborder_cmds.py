"""`workbench crossborder series|runs|flows|forces|lead|groups|candidates|tactics|render`: follow a group, person or vehicle
across force areas (docs/crossborder.md). These verbs only read the store (groups come from `workbench link run`);
`render` and `tactics --out` write products, audited."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say

crossborder_app = typer.Typer(help="Cross-border tactics: series, runs, forces, flows and lead force of a group, "
                                   "person or vehicle (docs/crossborder.md).", no_args_is_help=True)
SeriesArg = typer.Argument(..., help="A group (GR00001), resolved person (RP0000001) or vehicle (RV0000001) id.")


def _rows(frame) -> list[dict]:
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, tuple)).any():
            frame[column] = frame[column].map(lambda v: ";".join(v) if isinstance(v, tuple) else v)
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _analyse(db, series_id):
    from workbench.crossborder import analyse
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        return analyse(store, series_id)


def _skipped_note(cb) -> None:
    if len(cb.runs.skipped):
        say(f"{len(cb.runs.skipped)} incident(s) without a time or a place left off the routes")


@crossborder_app.command("series")
def series_cmd(series_id: str = SeriesArg, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The incidents tied to a group, person or vehicle with their tactic signatures, and the series' profile."""
    from workbench.crossborder import get_series, series_profile, series_summary
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        s = get_series(store, series_id)
    if s.incidents.empty:
        from workbench.errors import WorkbenchError
        raise WorkbenchError(f"{s.kind} {s.series_id} has no incidents with a current referral")
    payload = {"series_id": s.series_id, "kind": s.kind, "label": s.label,
               "summary": _rows(series_summary(s.incidents, s.series_id))[0],
               "profile": _rows(series_profile(s.incidents)), "incidents": _rows(s.incidents)}
    if json_out:
        emit_json(payload)
        return
    sm = payload["summary"]
    say(f"{s.kind} {s.series_id} ({s.label or ''}): {sm['incidents']} incidents in {sm['forces']} forces, "
        f"{sm['first_seen']} to {sm['last_seen']}; methods {sm['methods']}; goods {sm['goods']}")
    print_table("Profile", payload["profile"], ["facet", "value", "incidents", "share"])
    print_table("Incidents", payload["incidents"], ["incident_id", "occurred_at", "force_code", "store_name", "tactics",
                                                    "offenders", "vehicle_used", "violence", "value_band"])


@crossborder_app.command("runs")
def runs_cmd(series_id: str = SeriesArg, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Same-day runs feasible by road (speed limit and detour factor in crossborder.yaml), with routes and times."""
    cb = _analyse(db, series_id)
    payload = {"series_id": cb.series.series_id, "runs": _rows(cb.runs.runs), "legs": _rows(cb.runs.legs),
               "route": _rows(cb.runs.route), "skipped": _rows(cb.runs.skipped)}
    if json_out:
        emit_json(payload)
        return
    say(f"{cb.series.series_id}: {len(cb.runs.runs)} runs from {len(cb.series.incidents)} incidents")
    _skipped_note(cb)
    print_table("Runs", payload["runs"], ["run_id", "date", "start_at", "end_at", "incidents", "force_path",
                                          "border_crossings", "road_km", "max_speed_kmh"])


@crossborder_app.command("flows")
def flows_cmd(series_id: str = SeriesArg, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Force-to-force flows: legs of runs crossing a force border."""
    from workbench.crossborder import flows_for

    cb = _analyse(db, series_id)
    rows = _rows(flows_for(cb))
    if json_out:
        emit_json({"series_id": cb.series.series_id, "flows": rows})
        return
    if not rows:
        say(f"{cb.series.series_id}: no run leg crosses a force border")
        return
    print_table(f"Flows of {cb.series.series_id}", rows, ["from_force", "to_force", "legs", "runs", "first_at",
                                                          "last_at"])


@crossborder_app.command("forces")
def forces_cmd(series_id: str = SeriesArg, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The forces a series touches: incidents, crime numbers, referrals, harm and runs per force."""
    cb = _analyse(db, series_id)
    rows = _rows(cb.forces)
    if json_out:
        emit_json({"series_id": cb.series.series_id, "forces": rows})
        return
    print_table(f"Forces of {cb.series.series_id}", rows, ["force_code", "force_name", "incidents", "crime_numbers",
                                                           "referrals", "violent", "juvenile_incidents", "value_gbp",
                                                           "runs", "is_home"])


@crossborder_app.command("lead")
def lead_cmd(series_id: str = SeriesArg, db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The lead-force recommendation with its reasons, the runner-up and the estimated home base."""
    from workbench.crossborder import lead_summary

    cb = _analyse(db, series_id)
    summary = lead_summary(cb)
    summary["scores"] = _rows(cb.lead)
    if json_out:
        emit_json(summary)
        return
    home, rec, runner = summary["home_base"], summary["recommended"], summary["runner_up"]
    if home:
        share = home.get("force_share")
        say(f"home base (estimated): near {home['town']} (force {home['force_code']}"
            + (f", {share:.0%} of its core" if share is not None else "")
            + f"; {home['points_near']} of {home['points']} run ends)")
    else:
        say("home base: no runs to estimate it from")
    say(f"lead force: {rec['force_code']} {rec['force_name']} (score {rec['score']}): {rec['reasons']}")
    if runner:
        say(f"runner-up: {runner['force_code']} {runner['force_name']} (score {runner['score']}): {runner['reasons']}")
    _skipped_note(cb)


@crossborder_app.command("groups")
def groups_cmd(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The "several forces on one group" list: active groups whose incidents lie in two or more forces."""
    from workbench.crossborder import several_forces
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        rows = _rows(several_forces(store))
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say("no group touches two or more forces")
        return
    print_table("Groups in several forces", rows, ["group_id", "label", "forces", "force_codes", "incidents",
                                                   "crime_numbers", "referrals"])


PurposeOption = typer.Option(None, "--purpose", help="Why this product is made (optional; recorded in the audit log).")


@crossborder_app.command("candidates")
def candidates_cmd(query: str = typer.Argument(..., help="An incident id (123), incident ids separated by commas "
                                               "(123,456) or a group / person / vehicle id (GR00001)."),
                   top: int = typer.Option(50, "--top", min=1, help="How many groups and incidents to list."),
                   db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Same MO, no shared name: the groups and incidents in other forces most likely to be the same offenders,
    ranked by the MO-linkage pair model (trained on the store's own groups), each with why."""
    from workbench.crossborder import candidates
    from workbench.store import open_store

    text = query.strip()
    target = [part for part in text.split(",") if part.strip()] if "," in text else text
    with open_store(db, read_only=True) as store:
        found = candidates(store, target, top=top)
    payload = {"query": found.query_label, "query_incidents": _rows(found.query[["incident_id", "occurred_at",
                                                                                 "force_code", "tactics"]]),
               "groups": _rows(found.groups), "incidents": _rows(found.incidents),
               "model": {"coefficients": _rows(found.coefficients), "training": found.training}}
    if json_out:
        emit_json(payload)
        return
    say(f"MO candidates for {found.query_label} ({len(found.query)} incidents; model trained on "
        f"{found.training['series']} group series)")
    print_table("Groups in other forces", payload["groups"], ["rank", "group_id", "label", "score", "agrees",
                                                              "nearest"])
    print_table("Incidents in other forces", payload["incidents"], ["rank", "incident_id", "score", "occurred_at",
                                                                    "force_code", "town", "tactics", "group_id"])


@crossborder_app.command("tactics")
def tactics_cmd(db: Optional[Path] = DbOption, out: Optional[Path] = typer.Option(
                    None, "--out", help="Also write the national tactic-trend map (DIR/tactics.html, audited)."),
                purpose: Optional[str] = PurposeOption, json_out: bool = JsonOption) -> None:
    """Tactic trends: where and when each tactic was first seen, its spread across forces month by month, and
    which are rising nationally (Mann-Kendall, Sen slope, FDR; docs/crossborder.md)."""
    from workbench import exports
    from workbench.crossborder.trends import tactic_trends
    from workbench.crossborder.views import render_tactics
    from workbench.store import open_store

    purpose = exports.check_purpose(purpose)
    with open_store(db, read_only=True) as store:
        trends = tactic_trends(store)
        written = render_tactics(store, out, purpose, trends=trends) if out is not None else {}
    payload = {"method": trends.method, "trends": _rows(trends.trends), "first_seen": _rows(trends.first_seen),
               "spread": _rows(trends.spread), "written": written}
    if json_out:
        emit_json(payload)
        return
    rising = [r["tactic_code"] for r in payload["trends"] if r["rising"]]
    say(f"{len(payload['trends'])} tactics; rising nationally: {', '.join(rising) if rising else 'none'} "
        f"({trends.method})")
    shown = [{"tactic": r["tactic_code"], "incidents": r["incidents"], "forces": r["forces"],
              "first": f"{str(r['first_month'])[:7]} {r['first_force_code'] or ''}", "trend": r["trend"],
              "slope/yr": "" if r["sen_slope_per_year"] is None else
              (f"{r['sen_slope_per_year'] * 100:+.2f}" if r["measure"] == "share" else f"{r['sen_slope_per_year']:+.1f}"),
              "p": "" if r["p_value"] is None else f"{r['p_value']:.3f}",
              "q (FDR)": "" if r["q_value"] is None else f"{r['q_value']:.3f}"} for r in payload["trends"]]
    print_table("Tactic trends (slope: share of incidents, percentage points a year)" if trends.trends.measure.eq(
        "share").all() else "Tactic trends (slope: incidents a month, per year)", shown)
    for path in written.values():
        say(f"wrote {path}")


@crossborder_app.command("render")
def render_cmd(series_id: Optional[str] = typer.Argument(None, help="A group (GR00001), person or vehicle id."),
               most_cross_border: bool = typer.Option(False, "--most-cross-border",
                                                      help="Render the active group that spans most forces."),
               out: Path = typer.Option(..., "--out", help="Folder to write DIR/<id>/*.html into."),
               purpose: Optional[str] = PurposeOption, db: Optional[Path] = DbOption,
               json_out: bool = JsonOption) -> None:
    """Write one group's views: timeline, route map, flows (matrix, Sankey), day x hour, lead-force recommendation
    (marked, offline HTML, audited)."""
    from workbench import exports
    from workbench.crossborder import analyse, lead_summary, several_forces
    from workbench.crossborder.views import render_group
    from workbench.errors import WorkbenchError
    from workbench.store import open_store

    if bool(series_id) == bool(most_cross_border):
        raise WorkbenchError("give a series id or --most-cross-border (one of them)")
    purpose = exports.check_purpose(purpose)
    with open_store(db, read_only=True) as store:
        if most_cross_border:
            groups = several_forces(store)
            if groups.empty:
                raise WorkbenchError("no active group touches two or more forces (see `workbench crossborder groups`)")
            series_id = groups.group_id.iloc[0]
        cb = analyse(store, series_id)
        written = render_group(store, series_id, out, purpose, cb=cb)
    summary = lead_summary(cb)
    if json_out:
        emit_json({"series_id": cb.series.series_id, "written": written, "lead": summary})
        return
    lead = summary["recommended"]
    say(f"{cb.series.series_id}: {len(cb.series.incidents)} incidents in {len(cb.forces)} forces; lead force "
        f"{lead['force_code']} {lead['force_name'] or ''} ({lead['reasons']})")
    for path in written.values():
        say(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(crossborder_app, name="crossborder")
