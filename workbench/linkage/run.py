"""Resolution over the store: load mentions, apply decisions, keep ids stable, write the linkage tables, audit.

- `run_persons(store)` / `run_vehicles(store)` / `run_all(store)`: one linkage run each (table linkage_runs);
- `stable_ids(new_clusters, previous_links, existing_ids, prefix)`: a resolved entity keeps its id when new data
  arrives; merges and splits are recorded (linkage_events);
- `decide(store, "confirm"|"reject", a, b, why)`: an analyst's decision, stored (link_decisions), audited,
  re-applied as a constraint on every later run; `decide_split` / `decide_merge` express the same as pairs;
- `explain(store, a, b)`: match weight per comparison for two person mentions, from the latest run's model.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.clustering import check_decisions
from workbench.linkage.ids import id_number, keep_previous_ids
from workbench.linkage.persons import PersonResolution, resolve_persons
from workbench.linkage.records import prepare_person_records
from workbench.linkage.settings import LinkageSettings, load_settings
from workbench.linkage.stages import recording, stage
from workbench.linkage.vehicles import VehicleResolution, resolve_vehicles
from workbench.store import Store, os_user, utcnow

STORE_ROLES = {"full_name": "full_name", "forename": "forename", "surname": "surname", "alias": "alias",
               "dob": "dob_any", "gender": "gender", "latitude": "latitude", "longitude": "longitude",
               "seen_at": "occurred_at", "group": "referral_id"}
DECISIONS = ("confirm", "reject")
WHY_MAX = 1000


# -- loading --------------------------------------------------------------------------------------------
def person_records(store: Store, settings: LinkageSettings | None = None) -> pd.DataFrame:
    """The store's person mentions as prepared records (unique_id = mention_id as text)."""
    settings = settings or load_settings()
    mentions = store.query("linkage/person_mentions")
    mentions["dob_any"] = [d if d is not None and not pd.isna(d) else r
                           for d, r in zip(mentions["dob"].astype(object), mentions["dob_raw"].astype(object))]
    cell = float((settings.persons.get("context") or {}).get("place_cell_degrees", 0.5))
    prepared = prepare_person_records(mentions, "mention_id", STORE_ROLES, place_cell_degrees=cell)
    prepared["full_name"] = mentions["full_name"].astype(object).tolist()
    return prepared


def _decision_pairs(store: Store, entity: str) -> tuple[list, list]:
    rows = store.query("linkage/decisions", entity=entity)
    must = [(str(a), str(b)) for a, b, d in zip(rows.mention_a, rows.mention_b, rows.decision) if d == "confirm"]
    cannot = [(str(a), str(b)) for a, b, d in zip(rows.mention_a, rows.mention_b, rows.decision) if d == "reject"]
    return must, cannot


# -- stable ids -----------------------------------------------------------------------------------------
_number = id_number


def stable_ids(clusters: pd.DataFrame, previous: dict[str, str], existing_ids, prefix: str):
    """Give each new cluster an id: the previous id most of its members had (each old id to one cluster, the
    cluster holding most of its members); other clusters get new ids.

    clusters: record_id, cluster_id. previous: record_id -> old entity id. Returns (mapping cluster_id ->
    entity id, events list, merged {old id: surviving id})."""
    members = clusters.groupby("cluster_id")["record_id"].apply(list).to_dict()
    overlap = []
    for cid, recs in members.items():
        counts = Counter(previous[r] for r in recs if r in previous)
        for old, n in counts.items():
            overlap.append((-n, old, cid))
    assigned: dict[str, str] = keep_previous_ids(overlap)
    used = set(assigned.values())
    next_no = max([_number(i) for i in existing_ids] + [0]) + 1
    events, merged = [], {}
    for cid in sorted(members, key=lambda c: (min(members[c]), c)):
        recs = members[cid]
        olds = sorted({previous[r] for r in recs if r in previous})
        if cid not in assigned:
            assigned[cid] = f"{prefix}{next_no:07d}"
            next_no += 1
            events.append({"event": "split" if olds else "new", "entity_id": assigned[cid],
                           "other_ids": olds, "mentions": len(recs)})
        others = [o for o in olds if o != assigned[cid] and o not in used]
        if others:
            events.append({"event": "merge", "entity_id": assigned[cid], "other_ids": others, "mentions": len(recs)})
            for o in others:
                merged[o] = assigned[cid]
    return assigned, events, merged


def _next_id(store: Store, table: str, column: str) -> int:
    # table and column are constants of this module (linkage_runs.run_id, linkage_events.event_id, ...)
    return int(store.sql(f"SELECT coalesce(max({column}), 0) + 1 AS n FROM {table}").n.iloc[0])


def _write_entities(store: Store, entity: str, run_id: int, assigned: dict, events: list, merged: dict,
                    summary: pd.DataFrame, existing: pd.DataFrame) -> None:
    """Rewrite the resolved_<entity> table: active for this run's ids, merged/retired for the others."""
    id_col = "person_id" if entity == "person" else "vehicle_id"
    table = "resolved_persons" if entity == "person" else "resolved_vehicles"
    active = summary.copy()
    active[id_col] = active["cluster_id"].map(assigned)
    active["status"] = "active"
    active["merged_into"] = None
    created = dict(zip(existing[id_col], existing["created_run_id"])) if len(existing) else {}
    active["created_run_id"] = [created.get(i, run_id) for i in active[id_col]]
    active["updated_run_id"] = run_id
    gone = existing[~existing[id_col].isin(set(active[id_col]))].copy() if len(existing) else existing
    if len(gone):
        newly = gone["status"] == "active"
        gone.loc[newly, "updated_run_id"] = run_id
        gone.loc[newly, "status"] = ["merged" if i in merged else "retired" for i in gone.loc[newly, id_col]]
        gone.loc[newly, "merged_into"] = [merged.get(i) for i in gone.loc[newly, id_col]]
        for i in gone.loc[newly & (gone["status"] == "retired"), id_col]:
            events.append({"event": "retired", "entity_id": i, "other_ids": [], "mentions": 0})
    columns = list(store.sql(f"SELECT * FROM {table} LIMIT 0").columns)
    frame = pd.concat([active.reindex(columns=columns), gone.reindex(columns=columns)], ignore_index=True)
    store.con.register("_linkage_entities", frame)
    store.con.execute(f"DELETE FROM {table}")
    store.con.execute(f"INSERT INTO {table} SELECT {', '.join(columns)} FROM _linkage_entities")
    store.con.unregister("_linkage_entities")
    if events:
        first = _next_id(store, "linkage_events", "event_id")
        ev = pd.DataFrame([{"event_id": first + k, "run_id": run_id, "entity": entity, "event": e["event"],
                            "entity_id": e["entity_id"], "other_ids": json.dumps(e["other_ids"]),
                            "mentions": e["mentions"]} for k, e in enumerate(events)])
        store.con.register("_linkage_events", ev)
        store.con.execute("INSERT INTO linkage_events SELECT event_id, run_id, entity, event, entity_id, other_ids, "
                          "mentions FROM _linkage_events")
        store.con.unregister("_linkage_events")


def _start_run(store: Store, entity: str, settings: LinkageSettings) -> tuple[int, object]:
    return _next_id(store, "linkage_runs", "run_id"), utcnow()


def _finish_run(store: Store, run_id: int, entity: str, started, settings: LinkageSettings, records: int,
                entities: int, details: dict, model_json: dict | None) -> None:
    store.con.execute(
        "INSERT INTO linkage_runs VALUES ($r, $e, $s, $f, $u, $v, $h, $n, $k, $d, $m)",
        {"r": run_id, "e": entity, "s": started, "f": utcnow(), "u": os_user(), "v": settings.version,
         "h": settings.sha256, "n": records, "k": entities, "d": json.dumps(details, default=str, sort_keys=True),
         "m": json.dumps(model_json) if model_json else None})


def _mode(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))]
    return Counter(values).most_common(1)[0][0] if values else None


# -- persons --------------------------------------------------------------------------------------------
def run_persons(store: Store, settings: LinkageSettings | None = None) -> dict:
    """Resolve the store's person mentions; returns a summary dict (and writes the linkage tables)."""
    settings = settings or load_settings()
    with stage("persons"):
        with stage("load") as row:
            prepared = person_records(store, settings)
            must, cannot = _decision_pairs(store, "person")
            row["records"] = len(prepared)
        resolution = resolve_persons(prepared, settings, must_link=must, cannot_link=cannot)
        with stage("write"):
            return _store_persons(store, settings, prepared, resolution)


def _store_persons(store: Store, settings: LinkageSettings, prepared: pd.DataFrame,
                   resolution: PersonResolution) -> dict:
    clusters = resolution.clusters
    previous_links = store.query("linkage/person_links")
    previous = dict(zip(previous_links.mention_id.astype(str), previous_links.person_id))
    existing = store.query("linkage/resolved_persons")
    assigned, events, merged = stable_ids(clusters, previous, existing.person_id.tolist(), "RP")
    info = prepared.set_index("unique_id")
    joined = clusters.join(info[["full_name", "dob", "seen_at"]], on="record_id")
    summary = joined.groupby("cluster_id").agg(
        display_name=("full_name", _mode), dob=("dob", _mode), mentions=("record_id", "size"),
        first_seen=("seen_at", "min"), last_seen=("seen_at", "max")).reset_index()
    summary["dob"] = pd.to_datetime(summary["dob"], errors="coerce").dt.date
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            run_id, started = _start_run(store, "person", settings)
            _write_entities(store, "person", run_id, assigned, events, merged, summary, existing)
            links = pd.DataFrame({"mention_id": clusters.record_id.astype("int64"),
                                  "person_id": clusters.cluster_id.map(assigned), "run_id": run_id,
                                  "match_weight": pd.to_numeric(clusters.match_weight, errors="coerce"),
                                  "joined_by": clusters.joined_by})
            store.con.execute("DELETE FROM person_links")
            store.con.register("_person_links", links)
            store.con.execute("INSERT INTO person_links SELECT mention_id, person_id, run_id, match_weight, joined_by "
                              "FROM _person_links")
            store.con.unregister("_person_links")
            counts = Counter(e["event"] for e in events)
            details = {"thresholds": settings.summary(), "pairs_kept": resolution.stats.get("pairs_kept", 0),
                       "links": resolution.stats.get("links", 0), "context_cuts": resolution.stats.get("context_cuts", 0),
                       "review_pairs": int(len(resolution.review_pairs())), "events": dict(counts),
                       "training": resolution.stats.get("training", [])}
            _finish_run(store, run_id, "person", started, settings, len(prepared), len(summary), details,
                        resolution.model.model_json if resolution.model else None)
            store.audit("link-run", "persons", {"run_id": run_id, "records": len(prepared), "persons": len(summary),
                                                "events": dict(counts), "settings_sha256": settings.sha256})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return {"entity": "person", "run_id": run_id, "records": len(prepared), "entities": len(summary),
            "events": dict(counts), "review_pairs": details["review_pairs"], "resolution": resolution}


# -- vehicles -------------------------------------------------------------------------------------------
def run_vehicles(store: Store, settings: LinkageSettings | None = None) -> dict:
    settings = settings or load_settings()
    with stage("vehicles"):
        with stage("load") as row:
            mentions = store.query("linkage/vehicle_mentions")
            must, cannot = _decision_pairs(store, "vehicle")
            row["records"] = len(mentions)
        with stage("resolve"):
            resolution = resolve_vehicles(mentions, settings, must_link=must, cannot_link=cannot)
        with stage("write"):
            return _store_vehicles(store, settings, mentions, resolution)


def _store_vehicles(store: Store, settings: LinkageSettings, mentions: pd.DataFrame,
                    resolution: VehicleResolution) -> dict:
    links = resolution.links
    resolved = links[links.cluster_id.notna()].rename(columns={"mention_id": "record_id"})
    previous_links = store.query("linkage/vehicle_links")
    previous = dict(zip(previous_links.mention_id.astype(str), previous_links.vehicle_id))
    previous = {k: v for k, v in previous.items() if isinstance(v, str)}
    existing = store.query("linkage/resolved_vehicles")
    assigned, events, merged = stable_ids(resolved[["record_id", "cluster_id"]], previous,
                                          existing.vehicle_id.tolist(), "RV")
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            run_id, started = _start_run(store, "vehicle", settings)
            _write_entities(store, "vehicle", run_id, assigned, events, merged, resolution.vehicles, existing)
            out = pd.DataFrame({"mention_id": links.mention_id.astype("int64"),
                                "vehicle_id": links.cluster_id.map(assigned), "run_id": run_id,
                                "joined_by": links.joined_by, "candidates": links.candidates})
            store.con.execute("DELETE FROM vehicle_links")
            store.con.register("_vehicle_links", out)
            store.con.execute("INSERT INTO vehicle_links SELECT mention_id, vehicle_id, run_id, joined_by, candidates "
                              "FROM _vehicle_links")
            store.con.unregister("_vehicle_links")
            flags = resolution.flags.copy()
            if len(flags):
                first = _next_id(store, "vehicle_flags", "flag_id")
                flags.insert(0, "flag_id", range(first, first + len(flags)))
                flags.insert(1, "run_id", run_id)
                flags["mention_a"] = flags.mention_a.astype("int64")
                flags["mention_b"] = flags.mention_b.astype("int64")
                store.con.register("_vehicle_flags", flags)
                store.con.execute("INSERT INTO vehicle_flags SELECT flag_id, run_id, vrm, kind, mention_a, mention_b, "
                                  "evidence FROM _vehicle_flags")
                store.con.unregister("_vehicle_flags")
            counts = Counter(e["event"] for e in events)
            details = {"joined_by": links.joined_by.value_counts().to_dict(), "flags": int(len(flags)),
                       "cloned_vrms": sorted(set(flags.vrm)) if len(flags) else [], "events": dict(counts)}
            _finish_run(store, run_id, "vehicle", started, settings, len(links), len(resolution.vehicles), details, None)
            store.audit("link-run", "vehicles", {"run_id": run_id, "records": len(links),
                                                 "vehicles": len(resolution.vehicles), "flags": int(len(flags)),
                                                 "settings_sha256": settings.sha256})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return {"entity": "vehicle", "run_id": run_id, "records": len(links), "entities": len(resolution.vehicles),
            "flags": int(len(flags)), "events": dict(counts), "resolution": resolution}


def run_all(store: Store, settings: LinkageSettings | None = None) -> list[dict]:
    """Persons, then vehicles, then groups (workbench.linkage.groups, on the persons and vehicles just resolved).

    Each result carries `stages`: wall time and memory of its stages (workbench.linkage.stages)."""
    from workbench.linkage.groups import find_groups

    settings = settings or load_settings()
    results = []
    for step in (run_persons, run_vehicles, find_groups):
        with recording() as stages:
            result = step(store, settings)
        result["stages"] = stages
        results.append(result)
    return results


# -- decisions ------------------------------------------------------------------------------------------
def mention_entity(store: Store, mention_id) -> str:
    """'person' or 'vehicle' for a mention id; a one-line error for anything else."""
    try:
        value = int(str(mention_id).strip())
    except ValueError:
        raise WorkbenchError(f"{str(mention_id)[:40]!r} is not a mention id (a whole number)") from None
    if not -(2 ** 63) <= value < 2 ** 63:
        raise WorkbenchError(f"no mention with id {value}")
    found = store.query("linkage/mention_kind", mention_id=value)
    if found.empty:
        raise WorkbenchError(f"no person or vehicle mention with id {value}")
    return str(found.entity.iloc[0])


def decide(store: Store, decision: str, a, b, why: str, origin: str = "pair") -> int:
    """Record that mentions a and b are (confirm) or are not (reject) one person or vehicle."""
    if decision not in DECISIONS:
        raise WorkbenchError(f"unknown decision {decision!r} (confirm or reject)")
    why = (why or "").strip()
    if not why:
        raise WorkbenchError("a decision needs a reason (--why)")
    if len(why) > WHY_MAX:
        raise WorkbenchError(f"the reason is longer than {WHY_MAX} characters")
    kind_a, kind_b = mention_entity(store, a), mention_entity(store, b)
    if kind_a != kind_b:
        raise WorkbenchError(f"{a} is a {kind_a} mention and {b} a {kind_b} mention: a decision links two of a kind")
    a, b = int(str(a).strip()), int(str(b).strip())
    if a == b:
        raise WorkbenchError("a decision needs two different mentions")
    must, cannot = _decision_pairs(store, kind_a)
    (must if decision == "confirm" else cannot).append((str(a), str(b)))
    try:
        check_decisions(must, cannot)
    except WorkbenchError as exc:
        raise WorkbenchError(f"{decision} {a} {b} refused: {exc}") from None
    if decision == "confirm" and (str(a), str(b)) in cannot or (str(b), str(a)) in cannot:
        raise WorkbenchError(f"confirm {a} {b} refused: the pair is rejected by an earlier decision")
    if decision == "reject" and ((str(a), str(b)) in must or (str(b), str(a)) in must):
        raise WorkbenchError(f"reject {a} {b} refused: the pair is confirmed by an earlier decision")
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            decision_id = _next_id(store, "link_decisions", "decision_id")
            store.con.execute("INSERT INTO link_decisions VALUES ($i, $e, $d, $a, $b, $w, $u, $t, $o, true)",
                              {"i": decision_id, "e": kind_a, "d": decision, "a": a, "b": b, "w": why,
                               "u": os_user(), "t": utcnow(), "o": origin})
            store.audit("link-decision", f"{kind_a} {a} {b}", {"decision_id": decision_id, "decision": decision,
                                                               "why": why, "origin": origin})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return decision_id


def decide_split(store: Store, part_a, part_b, why: str) -> list[int]:
    """Split: every mention of part_a is rejected against every mention of part_b."""
    return [decide(store, "reject", a, b, why, origin="split") for a in part_a for b in part_b]


def decide_merge(store: Store, mentions, why: str) -> list[int]:
    """Merge: the mentions are confirmed as one, as a chain of confirmed pairs."""
    mentions = list(mentions)
    return [decide(store, "confirm", a, b, why, origin="merge") for a, b in zip(mentions, mentions[1:])]


# -- explanation and status -----------------------------------------------------------------------------
def stored_scoring(store: Store, settings: LinkageSettings | None = None) -> PersonResolution:
    """The store's person mentions scored as the latest run scored them: its stored model (no training), the
    same records (identical ones collapsed, decisions kept apart) and so the same term frequencies.

    The one scoring behind both the review queue (`review.person_review_pairs`: the pairs' weights) and
    `explain` (the per-comparison waterfall), so the weight a pair shows is the same in both."""
    latest = store.query("linkage/latest_model")
    if latest.empty:
        raise WorkbenchError("no person linkage run yet: run `workbench link run` first")
    settings = settings or load_settings()
    prepared = person_records(store, settings)
    must, cannot = _decision_pairs(store, "person")
    return resolve_persons(prepared, settings, must_link=must, cannot_link=cannot,
                           model_json=json.loads(latest.model_json.iloc[0]))


def explain(store: Store, a, b, settings: LinkageSettings | None = None,
            scoring: PersonResolution | None = None) -> pd.DataFrame:
    """Match weight per comparison for two person mentions, scored by the latest run's model (`stored_scoring`;
    pass `scoring` to explain several pairs from one scoring)."""
    for x in (a, b):
        if mention_entity(store, x) != "person":
            raise WorkbenchError(f"{x} is a vehicle mention: explanations are for person mentions")
    scoring = scoring or stored_scoring(store, settings)
    return scoring.explain(str(int(str(a).strip())), str(int(str(b).strip())))


def status(store: Store) -> pd.DataFrame:
    return store.query("linkage/status")
