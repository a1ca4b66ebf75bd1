"""`workbench crossborder series|runs|flows|forces|lead|groups`: follow a group, person or vehicle across force
areas (docs/crossborder.md). These verbs only read the store (groups come from `workbench link run`)."""
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
        say(f"home base (estimated): near {home['town']} (force {home['force_code']}; {home['points_near']} of "
            f"{home['points']} run ends)")
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


def register(app: typer.Typer) -> None:
    app.add_typer(crossborder_app, name="crossborder")
