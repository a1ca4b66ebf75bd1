"""The package's content, computed from the store: sections in the NIM subject-profile shape, the figures behind
them (each naming its query, parameters and annex rows), the annex tables, the association network and the
chart geometry. Nothing here renders: formats.py turns a Package into files.

    pkg = compute(store, "GR00001")                    # lead force: the cross-border recommendation
    pkg = compute(store, "GR00001", lead_force="13")   # or the analyst's choice
    pkg.sections, pkg.figures, pkg.annex, pkg.meta

Every value placed in a section is text (formatted here, once) so that every format shows the same figure and
the content hash (`content_sha256`) is stable: the same store gives the same content, byte for byte.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import config, crossborder
from workbench.errors import WorkbenchError
from workbench.packages import sanitise
from workbench.packages.settings import SECTIONS, package_settings

SECTION_TITLES = {
    "summary": "Summary (bottom line up front)",
    "subjects": "Subjects",
    "activity": "Criminal activity",
    "geography": "Geography",
    "associations": "Associations",
    "vehicles": "Vehicles",
    "tactics": "Tactics and modus operandi",
    "timeline": "Timeline",
    "evidence": "Evidence held",
    "risk": "Risk and harm",
    "assessment": "Assessment",
    "gaps": "Intelligence gaps",
    "recommendations": "Recommendations",
}
assert tuple(SECTION_TITLES) == SECTIONS, "settings.SECTIONS and SECTION_TITLES list the same sections in order"
WORDS_PLACEHOLDER = "[The analyst's text for this section has not been written yet.]"


@dataclass
class Package:
    meta: dict
    sections: list[dict]
    figures: dict[str, dict]
    annex: dict[str, pd.DataFrame]
    network: object
    charts: dict
    words: dict
    queries: list[dict]
    batches: pd.DataFrame
    contents: dict
    forbidden: list[dict] = field(default_factory=list)
    redactions: int = 0
    settings: dict = field(default_factory=dict)

    def section(self, key: str) -> dict:
        return next(s for s in self.sections if s["key"] == key)

    def canonical(self) -> dict:
        """Everything a reader sees, as JSON-ready data (no version, state or build time): what is hashed."""
        return {"meta": {k: v for k, v in self.meta.items() if k not in VOLATILE_META},
                "sections": self.sections, "figures": self.figures,
                "annex": {name: frame_digest(frame) for name, frame in sorted(self.annex.items())},
                "words": {k: (v or {}).get("sha256") for k, v in sorted(self.words.items())},
                "network": frame_digest(self.network.nodes) + frame_digest(self.network.edges)}

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.canonical()).encode("utf-8")).hexdigest()


# the meta fields that depend on the package's record in the store, not on the data
VOLATILE_META = ("version", "state", "document_date", "author", "approved_by", "approved_at", "reviewed_by",
                 "reviewed_at")


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def frame_digest(frame: pd.DataFrame) -> str:
    text = frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d %H:%M:%S")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- formatting (once, here) -------------------------------------------------------------------------------
def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)) or \
        (not isinstance(value, (str, list, tuple, dict)) and pd.isna(value))


def txt(value) -> str:
    if _missing(value):
        return ""
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime("%Y-%m-%d")
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.2f}"
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def money(value) -> str:
    return f"£{float(value or 0):,.2f}"


def day(value) -> str:
    return "" if _missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def grading_of(row) -> str:
    """One referral's 3x5x2 grading as printed (source evaluation, intelligence assessment, handling code), or
    what is wrong with it: legacy 5x5x5 and ungraded items are shown as such, never guessed."""
    scheme = txt(row.grading_scheme)
    parts = [txt(row.source_evaluation), txt(row.intelligence_assessment), txt(row.handling_code)]
    if scheme and scheme != "3x5x2":
        return f"{scheme} (legacy) " + "/".join(p or "-" for p in parts)
    if not all(parts) or parts[0] not in ("1", "2", "3") or parts[1] not in tuple("ABCDE") or \
            parts[2] not in ("P", "C"):
        return "ungraded"
    return "".join(parts)


def capped(values, limit: int) -> str:
    """A list of spellings as printed: the first `limit` (most frequent first), then "(+N more)" for the rest."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        values = [] if _missing(values) else [values]
    items = [str(v) for v in values if not _missing(v) and str(v).strip()]
    shown = "; ".join(items[:limit])
    return shown + (f" (+{len(items) - limit:,} more)" if len(items) > limit else "")


def is_graded(grading: str) -> bool:
    return grading not in ("ungraded",) and "legacy" not in grading


def _table(key: str, title: str, frame: pd.DataFrame, columns: dict[str, str], query: str, params: dict,
           annex: str, fmt: dict | None = None, limit: int | None = None, note: str | None = None) -> dict:
    fmt = fmt or {}
    shown = frame if limit is None else frame.head(limit)
    rows = [[fmt[c](getattr(r, c)) if c in fmt else txt(getattr(r, c)) for c in columns]
            for r in shown.itertuples(index=False)]
    out = {"key": key, "title": title, "columns": list(columns.values()), "rows": rows,
           "source": {"query": query, "params": params, "annex": annex}, "total_rows": int(len(frame)), "note": ""}
    if limit is not None and len(frame) > limit:
        out["note"] = f"First {limit:,} of {len(frame):,} rows; every row is in {annex}."
    if note:
        out["note"] = (out.get("note", "") + " " + note).strip()
    return out


class _Figures:
    """Figures as they are computed: each names the query and parameters behind it and the annex rows it counts."""

    def __init__(self):
        self.items: dict[str, dict] = {}

    def add(self, fid: str, label: str, value, query: str, params: dict, annex: str) -> str:
        if isinstance(value, (np.integer,)):
            value = int(value)
        if isinstance(value, (float, np.floating)):
            value = round(float(value), 2)
        self.items[fid] = {"id": fid, "label": label, "value": value, "query": query, "params": params,
                           "annex": annex}
        return fid


# -- computing -------------------------------------------------------------------------------------------
def _subject_persons(store, series) -> list[str]:
    if series.kind == "group":
        members = store.query("linkage/groups_members", group_id=series.series_id)
        return sorted(members.person_id.astype(str))
    if series.kind == "person":
        return [series.series_id]
    # a vehicle: the persons mentioned at its incidents
    people = store.query("packages/incident_persons", incident_ids=[int(i) for i in series.incidents.incident_id])
    return list(people.person_id.astype(str))


def package_network(store, *, group_id: str | None = None, person_ids=None, query=None):
    """The association network of a group's members (or of some persons): the same network as
    linkage.network.build_network(store, group_id=...) (or person_ids=...), but read through queries narrowed to
    those persons and the incidents they were mentioned at, so that its cost follows the package, not the store
    (build_network reads every incident, mention, tactic and store and filters afterwards: 2.2 s -> 23.7 s from
    50k to 1M incidents). tests/test_packages_network.py checks the two give the same frames."""
    from workbench.linkage import network as nw

    query = query or store.query
    groups = nw._group_of(store)
    if group_id is not None:
        group_id = str(group_id).strip()
        chosen = sorted(p for p, g in groups.items() if g == group_id)
        if not chosen:
            raise WorkbenchError(f"no active group {group_id[:40]!r} (see `workbench groups list`)")
    elif person_ids:
        chosen = sorted({str(p).strip() for p in person_ids})
    else:
        return nw.empty_network()
    persons = query("packages/network_persons", person_ids=chosen)
    if group_id is None:
        unknown = sorted(set(chosen) - set(persons.person_id))
        if unknown:
            raise WorkbenchError(f"no resolved person {unknown[0][:40]!r} with a current mention"
                                 + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    at = sorted({int(i) for i in persons.incident_id.dropna()})
    incidents = query("packages/network_incidents", incident_ids=at)
    vehicles = query("packages/network_vehicles", incident_ids=at)
    if persons.empty and vehicles.empty:
        incidents = incidents.iloc[0:0]
    kept = sorted({int(i) for i in incidents.incident_id})
    tactics = query("packages/network_incident_tactics", incident_ids=kept)
    tactics_of = tactics.groupby("incident_id")["tactic_code"].apply(list).to_dict()
    stores = query("packages/network_stores", store_ids=sorted({str(s) for s in incidents.store_id.dropna()}))
    return nw._assemble(persons, vehicles, incidents, stores, tactics_of, groups)


def compute(store, subject_id: str, *, lead_force: str | None = None, settings: dict | None = None,
            words: dict | None = None) -> Package:
    """The package of a group (GR...), resolved person (RP...) or vehicle's series (RV...), addressed to
    `lead_force` (default: the cross-border lead force recommendation). `words`: {section: record} of the
    analyst's words to use (default: the latest saved versions; see states.latest_words)."""
    from workbench.packages import states

    cfg = package_settings(overrides=settings)
    cb = crossborder.analyse(store, subject_id)
    series = cb.series
    sid = series.series_id
    inc = series.incidents.copy()
    ids = [int(i) for i in inc.incident_id]
    figs = _Figures()
    used_queries: list[dict] = []

    def q(name: str, **params) -> pd.DataFrame:
        used_queries.append({"name": name, "params": {k: (f"{len(v)} ids" if isinstance(v, list) else v)
                                                      for k, v in params.items()}})
        return store.query(name, **params)

    used_queries.append({"name": f"crossborder/{series.kind}_incidents" if series.kind != "group"
                         else "crossborder/group_incidents", "params": {"id": sid}})
    used_queries.append({"name": "crossborder/incidents", "params": {"incident_ids": f"{len(ids)} ids"}})
    referrals = q("packages/referrals", incident_ids=ids)
    referrals["grading"] = [grading_of(r) for r in referrals.itertuples()]
    person_ids = _subject_persons(store, series)
    subjects = q("packages/subjects", person_ids=person_ids, group_id=sid if series.kind == "group" else "")
    vehicles = q("packages/vehicles", incident_ids=ids)
    evidence = q("packages/evidence", incident_ids=ids)
    named = q("packages/unidentified", incident_ids=ids)
    forbidden = q("packages/forbidden_values", incident_ids=ids)
    tactic_names = store.query("linkage/groups_tactic_names")
    tactic_names = dict(zip(tactic_names.tactic_code, tactic_names.name))
    force_names = store.query("crossborder/force_names")
    force_names = dict(zip(force_names.force_code, force_names.name))

    # lead force and copies
    lead_rows = cb.lead.reset_index(drop=True)
    recommended = lead_rows.iloc[0] if len(lead_rows) else None
    forces_known = [f for f in cb.forces.force_code if isinstance(f, str)]
    if lead_force is not None:
        lead_force = str(lead_force).strip()
        if lead_force not in force_names:
            raise WorkbenchError(f"--lead-force {lead_force[:20]!r} is not a force code (01 ... 63; see docs/domain)")
    lead = lead_force or (recommended.force_code if recommended is not None else None)
    copies = [f for f in forces_known if f != lead]

    # grading per incident
    per_incident = referrals.groupby("incident_id").agg(
        gradings=("grading", lambda s: "; ".join(sorted(set(s)))),
        handling=("handling_code", lambda s: "C" if (s == "C").any() else ("P" if (s == "P").any() else "")),
        conditions=("handling_conditions", lambda s: "; ".join(sorted({str(c) for c in s.dropna() if str(c).strip()}))),
        referral_ids=("referral_id", lambda s: ";".join(str(int(v)) for v in sorted(s))))
    inc = inc.merge(per_incident, left_on="incident_id", right_index=True, how="left")
    handling_c = referrals[referrals.handling_code == "C"]
    conditions = sorted({str(c) for c in handling_c.handling_conditions.dropna() if str(c).strip()})
    package_handling = "C" if len(handling_c) else "P"

    n = len(inc)
    value_total = float(inc.value_gbp.fillna(0).sum())
    violent = int(inc.violence.fillna(False).astype(bool).sum())
    juvenile_incidents = int((inc.juveniles.fillna(0) > 0).sum())
    first, last = inc.occurred_at.min(), inc.occurred_at.max()
    gp = {"series_id": sid}
    figs.add("incidents", "Incidents", n, "crossborder/group_incidents" if series.kind == "group" else
             f"crossborder/{series.kind}_incidents", gp, "annex-incidents: every row")
    figs.add("forces", "Forces affected", len(forces_known), "crossborder/incidents", gp,
             "annex-incidents: distinct force_code")
    figs.add("value_gbp", "Value stolen (GBP)", value_total, "crossborder/incidents", gp,
             "annex-incidents: sum of value_gbp")
    figs.add("violent", "Incidents with violence or threats to staff", violent, "crossborder/incidents", gp,
             "annex-incidents: violence = yes")
    figs.add("juvenile_incidents", "Incidents with a juvenile", juvenile_incidents, "crossborder/incidents", gp,
             "annex-incidents: juveniles > 0")
    figs.add("subjects", "Subjects", len(subjects), "packages/subjects", {"group_id": sid}, "subjects table")
    figs.add("juvenile_subjects", "Juvenile subjects", int(subjects.juvenile.sum()), "packages/subjects",
             {"group_id": sid}, "subjects table: juvenile = yes")
    figs.add("vehicles", "Vehicles", len(vehicles), "packages/vehicles", gp, "vehicles table")
    figs.add("referrals", "Current referrals", int(referrals.referral_id.nunique()), "packages/referrals", gp,
             "annex-referrals: distinct referral_id")
    crime_numbers = sorted({str(c) for c in inc.crime_number.dropna() if str(c).strip()})
    figs.add("crime_numbers", "Crime numbers", len(crime_numbers), "crossborder/incidents", gp,
             "annex-crime-numbers: every row")
    figs.add("runs", "Same-day runs", int(len(cb.runs.runs)), "crossborder runs (find_runs)", gp,
             "annex-incidents: distinct run_id")

    lead_name = force_names.get(lead, lead) if lead else "no force"
    reasons = txt(recommended.reasons) if recommended is not None and "reasons" in lead_rows else ""
    sections: list[dict] = []

    def section(key: str, paragraphs=(), tables=(), figures=(), words: str | None = None, chart: str | None = None):
        sections.append({"key": key, "title": SECTION_TITLES[key], "paragraphs": list(paragraphs),
                         "tables": list(tables), "figures": list(figures), "words": words, "chart": chart})

    # summary
    bluf = (f"{series.kind.capitalize()} {sid} ({txt(series.label)}): {n:,} incidents in {len(forces_known)} "
            f"force areas from {day(first)} to {day(last)}, {money(value_total)} stolen, {violent:,} with violence "
            f"or threats to staff, {len(subjects):,} subjects ({int(subjects.juvenile.sum())} juvenile) and "
            f"{len(vehicles):,} vehicles. Recommended lead force: {lead_name}"
            + (f" ({reasons})" if reasons and lead == (recommended.force_code if recommended is not None else None)
               else "") + ".")
    handling_text = ("Handling code P: lawful sharing permitted." if package_handling == "P" else
                     f"Handling code C: lawful sharing permitted with conditions. {len(handling_c):,} referrals carry "
                     "conditions: " + ("; ".join(conditions) if conditions else "none stated") +
                     (" (some referrals with code C state no conditions: ask the source before sharing)"
                      if handling_c.handling_conditions.isna().any() else "") + ".")
    section("summary", [bluf, handling_text], figures=["incidents", "forces", "value_gbp", "violent", "subjects",
                                                       "vehicles", "referrals", "crime_numbers"], words="summary")

    # subjects
    subj = subjects.copy()
    subj["flag"] = np.where(subj.juvenile, "JUVENILE: safeguarding", "")
    names_max = int(cfg["names_written_max"])
    for col in ("names_written", "aliases"):
        subj[col] = subj[col].map(lambda v: capped(v, names_max))
    section("subjects", [f"{len(subj):,} subjects; juveniles are flagged for safeguarding referral. Names as "
                         f"written and aliases: the {names_max} most frequent spellings of each, then how many more."],
            [_table("subjects", "Subjects", subj, {"person_id": "Id", "display_name": "Name",
                                                   "aliases": "Aliases", "names_written": "Names as written",
                                                   "dob": "Date of birth", "role": "Role", "incidents": "Incidents",
                                                   "flag": "Safeguarding"},
                    "packages/subjects", {"group_id": sid}, "annex-referrals (person mentions by referral)",
                    {"dob": day})], ["subjects", "juvenile_subjects"])

    # criminal activity
    inc["when"] = inc.occurred_at.map(lambda v: txt(pd.Timestamp(v)) if not _missing(v) else "")
    inc_sorted = inc.sort_values(["occurred_at", "incident_id"], na_position="last")
    forces = cb.forces.copy()
    forces["force"] = [f"{txt(c)} {txt(nm)}".strip() for c, nm in zip(forces.force_code, forces.force_name)]
    section("activity", [f"{n:,} incidents, {len(crime_numbers):,} crime numbers held by {len(forces_known)} forces."],
            [_table("forces", "Totals per force", forces,
                    {"force": "Force", "incidents": "Incidents", "crime_numbers": "Crime numbers",
                     "referrals": "Referrals", "violent": "Violent", "juvenile_incidents": "With juvenile",
                     "value_gbp": "Value", "runs": "Runs", "is_home": "Home base"},
                    "crossborder/incidents", gp, "annex-incidents grouped by force_code", {"value_gbp": money}),
             _table("incidents", "Incidents", inc_sorted,
                    {"when": "When", "crime_number": "Crime number", "force_code": "Force", "store_name": "Store",
                     "town": "Town", "value_gbp": "Value", "violence": "Violence", "offenders": "Offenders",
                     "gradings": "Grading", "handling": "Handling"},
                    "crossborder/incidents", gp, "annex-incidents", {"value_gbp": money},
                    limit=int(cfg["body_incidents_max"]))],
            ["incidents", "crime_numbers", "value_gbp", "violent"])

    # geography
    runs = cb.runs.runs
    home = cb.home
    home_text = (f"Estimated home base: near {txt(home.town.iloc[0])} (force {txt(home.force_code.iloc[0])} "
                 f"{force_names.get(home.force_code.iloc[0], '')}), from {int(home.points_near.iloc[0])} of "
                 f"{int(home.points.iloc[0])} run start and end points." if len(home) else
                 "No home base could be estimated (no same-day runs).")
    top_runs = runs.sort_values(["incidents", "run_id"], ascending=[False, True]) if len(runs) else runs
    run_cols = {"run_id": "Run", "date": "Date", "incidents": "Incidents", "forces": "Forces",
                "force_path": "Force path"}
    section("geography", [home_text, f"{len(runs):,} same-day runs (chains of incidents feasible by road)."],
            [_table("runs", "Longest runs", top_runs, {k: v for k, v in run_cols.items() if k in runs.columns},
                    "crossborder runs (find_runs)", gp, "annex-incidents: run_id", {"date": day}, limit=15)],
            ["runs"], chart="map")

    # associations
    net = package_network(store, group_id=sid if series.kind == "group" else None,
                          person_ids=None if series.kind == "group" else person_ids, query=q)
    co = net.edges[net.edges.kind == "co_offended"].copy()
    label_of = dict(zip(net.nodes.node_id, net.nodes.label))
    co["a"] = co.source.map(label_of)
    co["b"] = co.target.map(label_of)
    co = co.sort_values(["weight", "source", "target"], ascending=[False, True, True])
    section("associations", [f"{int((net.nodes.kind == 'person').sum()):,} persons, "
                             f"{int((net.nodes.kind == 'vehicle').sum()):,} vehicles and {len(co):,} co-offending "
                             "links; the full chart is in the i2 ANX file."],
            [_table("co_offending", "Strongest co-offending links", co,
                    {"a": "Person", "b": "Person", "weight": "Incidents together", "grading": "Best grading"},
                    "packages/network_* (package_network)", gp, "anx chart", {"weight": lambda v: txt(int(v))},
                    limit=20)], chart="links")

    # vehicles
    veh = vehicles.copy()
    veh["clone"] = np.where(veh.clone_flags > 0, "CLONE SUSPECTED: " + veh.flag_kinds.astype(str), "")
    section("vehicles", [f"{len(veh):,} vehicles seen at these incidents; "
                         f"{int((veh.clone_flags > 0).sum())} with a cloned-plate flag."],
            [_table("vehicles", "Vehicles", veh, {"vehicle_id": "Id", "vrm": "VRM", "make": "Make",
                                                  "colour": "Colour", "incidents": "Incidents", "clone": "Clone flag"},
                    "packages/vehicles", gp, "annex-incidents")], ["vehicles"])

    # tactics and MO
    profile = crossborder.series_profile(inc)
    profile = profile.copy()
    profile["label"] = [f"{tactic_names.get(v, v)}" if f in ("methods", "goods", "escalation") else txt(v)
                        for f, v in zip(profile.facet, profile.value)]
    profile["share_text"] = profile.share.map(lambda s: f"{float(s):.0%}")
    top = profile.sort_values(["facet", "incidents", "value"], ascending=[True, False, True]).groupby("facet").head(3)
    section("tactics", ["The most frequent facets of the incidents' tactic signatures (controlled vocabulary)."],
            [_table("mo", "Modus operandi", top, {"facet": "Facet", "label": "Value", "incidents": "Incidents",
                                                  "share_text": "Share"},
                    "crossborder/incident_tactics", gp, "annex-incidents: tactics")])

    # timeline
    month = inc.assign(month=inc.occurred_at.dt.strftime("%Y-%m"))
    timeline = month.groupby("month").agg(incidents=("incident_id", "size"),
                                          forces=("force_code", lambda s: ", ".join(sorted(set(s.dropna())))),
                                          value=("value_gbp", "sum"), violent=("violence", "sum")).reset_index()
    section("timeline", ["Incidents per month and the forces they were in."],
            [_table("timeline", "Incidents per month", timeline,
                    {"month": "Month", "incidents": "Incidents", "forces": "Forces", "value": "Value",
                     "violent": "Violent"}, "crossborder/incidents", gp, "annex-incidents: by month of occurred_at",
                    {"value": money, "violent": lambda v: txt(int(v))})])

    # evidence
    ev = evidence.groupby(["kind", "holder"]).agg(items=("evidence_id", "size"),
                                                  incidents=("incident_id", "nunique")).reset_index()
    figs.add("evidence_items", "Evidence items held", int(len(evidence)), "packages/evidence", gp, "annex-evidence")
    section("evidence", [f"{len(evidence):,} evidence items (CCTV, stills, DEMS references) for "
                         f"{evidence.incident_id.nunique():,} of {n:,} incidents; references per incident are in "
                         "the evidence annex."],
            [_table("evidence", "Evidence by kind and holder", ev, {"kind": "Kind", "holder": "Held by",
                                                                     "items": "Items", "incidents": "Incidents"},
                    "packages/evidence", gp, "annex-evidence")], ["evidence_items"])

    # risk and harm
    max_value = float(inc.value_gbp.fillna(0).max()) if n else 0.0
    risk = [f"Violence or threats to staff at {violent:,} of {n:,} incidents ({violent / max(n, 1):.0%}).",
            f"Value stolen {money(value_total)} in total; the largest single incident {money(max_value)}.",
            f"Juveniles present at {juvenile_incidents:,} incidents; {int(subjects.juvenile.sum())} juvenile "
            "subjects: safeguarding applies (vulnerability)."]
    section("risk", risk, figures=["violent", "value_gbp", "juvenile_incidents", "juvenile_subjects"])

    section("assessment", words="assessment")

    # intelligence gaps (computed)
    no_crime = int(inc.crime_number.map(lambda c: _missing(c) or not str(c).strip()).sum())
    ungraded = int((~referrals.grading.map(is_graded)).sum())
    named = named.merge(inc[["incident_id"]], on="incident_id")
    unidentified = int((named.offenders_stated.fillna(0) > named.persons_named).sum())
    vehicle_only = int((inc.tied_by == "vehicle").sum())
    c_without = int(handling_c.handling_conditions.isna().sum())
    figs.add("gap_no_crime_number", "Incidents without a crime number", no_crime, "crossborder/incidents", gp,
             "annex-incidents: crime_number empty")
    figs.add("gap_ungraded", "Referrals ungraded or graded 5x5x5", ungraded, "packages/referrals", gp,
             "annex-referrals: grading ungraded or legacy")
    figs.add("gap_unidentified", "Incidents with more offenders seen than named", unidentified,
             "packages/unidentified", gp, "annex-incidents: offenders > persons named")
    figs.add("gap_vehicle_only", "Incidents linked by a vehicle only (no person identified)", vehicle_only,
             "crossborder/group_incidents", gp, "annex-incidents: tied_by = vehicle")
    figs.add("gap_conditions", "Referrals with handling code C and no conditions stated", c_without,
             "packages/referrals", gp, "annex-referrals: handling_code C, conditions empty")
    gaps = pd.DataFrame([{"gap": figs.items[k]["label"], "count": figs.items[k]["value"]} for k in
                         ("gap_no_crime_number", "gap_ungraded", "gap_unidentified", "gap_vehicle_only",
                          "gap_conditions")])
    section("gaps", ["Computed from the store. No incident is linked by modus operandi alone: the series holds only "
                     "incidents where a resolved member or vehicle was named."],
            [_table("gaps", "Gaps", gaps, {"gap": "Gap", "count": "Count"}, "packages (several)", gp,
                    "see each figure")],
            ["gap_no_crime_number", "gap_ungraded", "gap_unidentified", "gap_vehicle_only", "gap_conditions"])

    # recommendations (computed part)
    lead_table = lead_rows.copy()
    lead_table["force"] = [f"{txt(c)} {force_names.get(c, '')}".strip() for c in lead_table.force_code]
    sig = inc.dropna(subset=["occurred_at"])
    windows = sig.groupby(["day_name", "time_band"]).size().sort_values(ascending=False, kind="stable").head(
        int(cfg["deployment"]["peak_windows"]))
    towns = inc.groupby("town").size().sort_values(ascending=False, kind="stable").head(int(cfg["deployment"]["top_towns"]))
    deploy = ["Patrol and store engagement in the peak windows: " +
              "; ".join(f"{d} {b} ({c} incidents)" for (d, b), c in windows.items()) + ".",
              "Towns most hit: " + "; ".join(f"{t} ({c})" for t, c in towns.items()) + ".",
              "ANPR and plate checks on the vehicles listed, clone-flagged plates first."]
    actions = pd.DataFrame([{"force": f"{txt(r.force_code)} {txt(r.force_name)}".strip(),
                             "role": "lead" if r.force_code == lead else "copy",
                             "action": ("take primacy: co-ordinate the investigation and arrests" if r.force_code == lead
                                        else "link your crime numbers to the lead force's investigation and share "
                                             "evidence"),
                             "crime_numbers": txt(r.crime_number_list)[:300]}
                            for r in cb.forces.itertuples() if isinstance(r.force_code, str)])
    rec_tables = [_table("lead", "Lead force scores", lead_table,
                         {"force": "Force", "score": "Score", "reasons": "Reasons", "rank": "Rank"},
                         "crossborder lead_force", gp, "totals per force", {"score": lambda v: f"{float(v):.3f}"}),
                  _table("actions", "Actions per force", actions, {"force": "Force", "role": "Role",
                                                                   "action": "Action",
                                                                   "crime_numbers": "Crime numbers"},
                         "crossborder/incidents", gp, "annex-crime-numbers")]
    section("recommendations", [f"Lead force: {lead_name}" + (" (the analyst's choice)" if lead_force else
                                                              " (highest lead-force score)") + "."] + deploy,
            rec_tables, words="recommendations")

    # annex
    runs_of = dict(zip(cb.runs.route.incident_id, cb.runs.route.run_id)) if len(cb.runs.route) else {}
    annex_inc = inc_sorted.assign(run_id=inc_sorted.incident_id.map(runs_of))[
        ["incident_id", "crime_number", "force_code", "stated_force_code", "occurred_at", "store_id", "store_name",
         "town", "chain_name", "value_gbp", "violence", "offenders", "juveniles", "tactics", "tied_by", "tied_to",
         "run_id", "gradings", "handling", "conditions", "referral_ids"]].copy()
    annex_inc["tactics"] = annex_inc.tactics.map(lambda t: ";".join(t) if isinstance(t, (list, tuple, np.ndarray))
                                                 else txt(t))
    annex_ref = referrals[["referral_id", "incident_id", "batch_id", "source_name", "source_type", "file_name",
                           "source_row", "received_at", "grading", "handling_code", "handling_conditions",
                           "version"]].copy()
    annex_crime = (inc_sorted[["crime_number", "force_code", "incident_id", "occurred_at"]]
                   .dropna(subset=["crime_number"]).sort_values(["force_code", "crime_number", "incident_id"]))
    annex_src = (referrals[["file_name", "source_row", "source_name", "batch_id", "file_sha256", "referral_id"]]
                 .drop_duplicates().sort_values(["file_name", "source_row", "referral_id"]))
    annex_ev = evidence[["incident_id", "evidence_id", "kind", "reference", "holder", "referral_id"]].copy()
    annex = {"incidents": annex_inc.reset_index(drop=True), "referrals": annex_ref.reset_index(drop=True),
             "crime-numbers": annex_crime.reset_index(drop=True), "source-rows": annex_src.reset_index(drop=True),
             "evidence": annex_ev.reset_index(drop=True)}

    batch_ids = sorted({int(b) for b in referrals.batch_id.dropna()})
    batches = q("packages/batches", batch_ids=batch_ids)
    as_of = batches.finished_at.max() if len(batches) else None
    words = states.latest_words(store, sid) if words is None else words

    # the analyst's choice of sections (settings `sections`, the CLI's --sections/--omit): the others, their figures,
    # words and charts are left out; the annex always holds every row behind the figures that remain
    chosen = list(cfg["sections"])
    sections = [sec for sec in sections if sec["key"] in chosen]
    shown_figures = {fid for sec in sections for fid in sec["figures"]}
    figures = {fid: f for fid, f in figs.items.items() if fid in shown_figures}
    words = {k: (v if k in chosen else None) for k, v in words.items()}

    meta = {"subject_id": sid, "kind": series.kind, "label": txt(series.label), "lead_force": lead,
            "lead_force_name": lead_name, "lead_chosen_by": "analyst" if lead_force else "lead-force score",
            "copies": copies, "copies_names": [force_names.get(c, c) for c in copies],
            "marking": config.security_marking(), "handling_code": package_handling, "handling_conditions": conditions,
            "data_as_of": txt(pd.Timestamp(as_of)) if as_of is not None and not pd.isna(as_of) else "",
            "title": f"Intelligence package: {series.kind} {sid}", "period": f"{day(first)} to {day(last)}",
            "sections": chosen, "sections_omitted": [k for k in SECTIONS if k not in chosen]}
    contents = {"incidents": ids, "subjects": person_ids, "vehicles": sorted(vehicles.vehicle_id.astype(str)),
                "forces": sorted(forces_known), "crime_numbers": crime_numbers}

    pkg = Package(meta=meta, sections=sections, figures=figures, annex=annex, network=net,
                  charts={}, words=words, queries=used_queries, batches=batches, contents=contents, settings=cfg)
    from workbench.packages import charts
    if "geography" in chosen:
        pkg.charts["map"] = charts.map_geometry(inc, cb.runs.route, home)
    sanitise.apply(pkg, forbidden, cfg)
    if "associations" in chosen:
        pkg.charts["links"] = charts.link_geometry(pkg.network)     # from the sanitised network
    return pkg
