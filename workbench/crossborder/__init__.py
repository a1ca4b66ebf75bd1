"""Cross-border tactics (issue 12): follow a group, person or vehicle and its modus operandi across force areas.

    from workbench import crossborder as xb
    xb.incident_signatures(store)                  # tactic signature of every incident (signatures.py)
    s = xb.get_series(store, "GR00001")            # the incidents tied to a group / person (RP...) / vehicle (RV...)
    xb.series_profile(s.incidents)                 # its profile: facet, value, incidents, share
    cb = xb.analyse(store, "GR00001")              # CrossBorder: series, runs, home base, forces, flows, lead
    cb.runs.runs, cb.runs.legs, cb.runs.route      # runs (runs.py): same-day chains feasible by road, with times
    cb.forces, cb.flows, cb.home, cb.lead          # forces.py
    xb.lead_summary(cb)                            # {"recommended": {...}, "runner_up": {...} | None}
    xb.several_forces(store)                       # every active group touching two or more forces
    c = xb.candidates(store, "GR00001")            # same MO, no shared name (mo_linkage.py): c.groups, c.incidents
    xb.unlinked_series(store)                      # clusters of unlinked incidents that look like one series

Everything returns DataFrames (no rendering). Settings: workbench/config/crossborder.yaml. Bad input (an unknown
id, a series of one incident, no incident with both a time and a place, flows of a series inside one force)
raises WorkbenchError with one line. docs/crossborder.md describes the method.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.crossborder.forces import flows, forces_table, home_base, home_settings, home_shares, lead_force
from workbench.crossborder.mo_linkage import Candidates, candidates, unlinked_series
from workbench.crossborder.mo_model import PairModel, fit_model, mo_settings
from workbench.crossborder.runs import Runs, find_runs, haversine_km, leg_feasible
from workbench.crossborder.series import Series, check_id, get_series
from workbench.crossborder.settings import crossborder_settings
from workbench.crossborder.signatures import incident_signatures, series_profile, series_summary
from workbench.errors import WorkbenchError

__all__ = ["Candidates", "CrossBorder", "PairModel", "Runs", "Series", "analyse", "candidates", "check_id",
           "crossborder_settings", "find_runs", "flows", "flows_for", "forces_table", "get_series", "haversine_km", "home_base", "incident_signatures",
           "lead_force", "lead_summary", "leg_feasible", "fit_model", "mo_settings", "series_profile", "series_summary",
           "several_forces", "unlinked_series"]


@dataclass
class CrossBorder:
    series: Series
    runs: Runs
    home: pd.DataFrame
    forces: pd.DataFrame
    flows: pd.DataFrame
    lead: pd.DataFrame


def _need_incidents(series: Series, what: str) -> None:
    n = len(series.incidents)
    if n == 0:
        raise WorkbenchError(f"{series.kind} {series.series_id} has no incidents with a current referral")
    if n == 1:
        raise WorkbenchError(f"{series.kind} {series.series_id} has one incident: {what} need two or more")


def analyse(store, series_id, settings: dict | None = None) -> CrossBorder:
    """Series, runs, home base, forces, flows and lead force of one group, person or vehicle."""
    cfg = settings or crossborder_settings()
    series = get_series(store, series_id, cfg)
    _need_incidents(series, "runs, flows and a lead force")
    runs = find_runs(series.incidents, series.series_id, cfg)
    if len(runs.skipped) == len(series.incidents):
        raise WorkbenchError(f"none of the {len(series.incidents)} incidents of {series.kind} {series.series_id} has "
                             "both a time and a place (coordinates or a placed store): no route can be drawn")
    stores = store.query("crossborder/stores_places")
    home_options, home_min_share = home_settings(cfg)
    home = home_base(runs.runs, stores, route=runs.route, **home_options)
    home_force = home.force_code.iloc[0] if len(home) else None
    table = forces_table(series.incidents, runs.route, home_force, home_shares(home) if len(home) else None)
    lead = lead_force(table, cfg["lead_force"]["weights"], home_min_share)
    return CrossBorder(series, runs, home, table, flows(runs.legs), lead)


def flows_for(cb: CrossBorder) -> pd.DataFrame:
    """The flows of an analysis, or a WorkbenchError when the series never leaves one force."""
    forces = cb.series.incidents.force_code.dropna().unique()
    if len(forces) <= 1:
        where = f"force {forces[0]}" if len(forces) else "no known force"
        raise WorkbenchError(f"{cb.series.kind} {cb.series.series_id}: all {len(cb.series.incidents)} incidents are "
                             f"in {where}, so no border is crossed (see `workbench crossborder runs`)")
    return cb.flows


def lead_summary(cb: CrossBorder) -> dict:
    """The recommended lead force and the runner-up (dicts of the lead frame's rows; runner_up None when only one
    force is affected) with the home base."""
    rows = cb.lead.astype(object).where(cb.lead.notna(), None).to_dict(orient="records")
    home = cb.home.astype(object).where(cb.home.notna(), None).to_dict(orient="records")
    return {"series_id": cb.series.series_id, "recommended": rows[0] if rows else None,
            "runner_up": rows[1] if len(rows) > 1 else None, "home_base": home[0] if home else None}


def several_forces(store, min_forces: int = 2) -> pd.DataFrame:
    """The "several forces on one group" list: every active group whose incidents (its series) lie in at least
    min_forces forces, with its forces, incidents, crime numbers and referrals per force as text. Most forces
    first."""
    groups = store.query("crossborder/groups_active")
    rows = []
    for g in groups.itertuples():
        series = get_series(store, g.group_id)
        table = forces_table(series.incidents)
        known = table[table.force_code.notna()]
        if len(known) < int(min_forces):
            continue
        rows.append({"group_id": g.group_id, "label": g.label, "forces": int(len(known)),
                     "force_codes": ";".join(sorted(known.force_code)), "incidents": int(len(series.incidents)),
                     "crime_numbers": int(known.crime_numbers.sum()), "referrals": int(known.referrals.sum()),
                     "per_force": "; ".join(f"{r.force_code} {r.force_name or ''}: {r.incidents} incidents, "
                                            f"{r.crime_numbers} crime numbers, {r.referrals} referrals".replace("  ", " ")
                                            for r in known.itertuples())})
    out = pd.DataFrame(rows, columns=["group_id", "label", "forces", "force_codes", "incidents", "crime_numbers",
                                      "referrals", "per_force"])
    return out.sort_values(["forces", "incidents", "group_id"], ascending=[False, False, True]).reset_index(drop=True)
