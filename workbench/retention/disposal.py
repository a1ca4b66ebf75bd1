"""Decisions and disposal.

    decide(store, referral_id, "retain"|"dispose", why, purpose)   # who/when/why recorded (retention_decisions)
    dispose(store, purpose, as_of=None, referral_ids=None)          # really delete what a dispose decision covers

A referral is disposed whole: every version of it (same source and reference), its person and vehicle mentions,
the incidents only it supports, its evidence references, tactics and ingest warnings, quarantined rows that hold
its reference or crime numbers, and what was derived from its mentions (person and vehicle links, cloned-plate
flags, link decisions about its mentions, alerts; resolved persons, vehicles and groups are then recomputed by the
linkage pipeline; the hotspot cube is rebuilt). What stays is a disposal record with ids and hashes only
(retention_disposals and the audit row `review-dispose`); the decision keeps who, when, the purpose and the hash
of its reason, not the reason itself. docs/retention.md.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

import pandas as pd

from workbench import exports, queries
from workbench.errors import WorkbenchError
from workbench.retention.schedule import _add_years, review_dates
from workbench.retention.settings import retention_settings
from workbench.store import Store, os_user, utcnow

DECISIONS = ("retain", "dispose")
WHY_MAX = 1000
PLACEHOLDER = "[disposed]"
_BAD_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# deletions in order: derived rows first (they are found through the mentions), the referral last
_STEPS = ("delete_person_links", "delete_vehicle_links", "delete_vehicle_flags", "delete_link_decisions",
          "delete_alerts", "scrub_resolved_persons", "scrub_resolved_vehicles", "scrub_alert_labels",
          "delete_person_mentions", "delete_vehicle_mentions", "delete_evidence_items", "delete_incident_tactics",
          "delete_validation_flags", "delete_referral_incidents", "delete_incidents", "delete_quarantine",
          "delete_referrals")


def _referral_id(value) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise WorkbenchError(f"{str(value)[:40]!r} is not a referral id (a whole number)") from None
    if not 0 < number < 2 ** 63:
        raise WorkbenchError(f"no referral with id {number}")
    return number


def _one_line(text, what: str, limit: int) -> str:
    value = "" if text is None else str(text).strip()
    if not value:
        raise WorkbenchError(f"{what} is required: say why")
    if _BAD_TEXT.search(value) or "\n" in value:
        raise WorkbenchError(f"{what} must be one line of printable text")
    if len(value) > limit:
        raise WorkbenchError(f"{what} is {len(value)} characters; keep it under {limit}")
    return value


def _purpose(purpose) -> str:
    value = exports.check_purpose(purpose)
    if not value:
        raise WorkbenchError("--purpose is required: the policing purpose of this review")
    return value


def _disposed_record(store: Store, referral_id: int) -> dict | None:
    rows = store.sql("SELECT disposal_id, disposed_at, referral_ids FROM retention_disposals ORDER BY disposal_id")
    for disposal_id, at, ids in zip(rows.disposal_id, rows.disposed_at, rows.referral_ids):
        if referral_id in json.loads(ids):
            return {"disposal_id": int(disposal_id), "disposed_at": pd.Timestamp(at).isoformat(sep=" ")}
    return None


def _chain(store: Store, referral_id: int) -> pd.DataFrame:
    chain = store.query("retention/chain_of", referral_id=referral_id)
    if chain.empty:
        gone = _disposed_record(store, referral_id)
        if gone:
            raise WorkbenchError(f"referral {referral_id} was disposed on {gone['disposed_at'][:19]} "
                                 f"(disposal {gone['disposal_id']})")
        raise WorkbenchError(f"no referral with id {referral_id}")
    return chain


def decide(store: Store, referral_id, decision: str, why: str, purpose: str, settings: dict | None = None) -> dict:
    """Record a retain or dispose decision on a referral (all its versions), with who, when, why and purpose.
    Retain: the next review is one period after today. Dispose: `dispose` deletes it from then on. A later
    decision supersedes an earlier one. Audited (`review-decide`, the reason's hash, not its text)."""
    if decision not in DECISIONS:
        raise WorkbenchError(f"decision must be retain or dispose, not {str(decision)[:20]!r}")
    number = _referral_id(referral_id)
    why = _one_line(why, "--why", WHY_MAX)
    purpose = _purpose(purpose)
    settings = settings or retention_settings()
    chain = _chain(store, number)
    ids = set(int(i) for i in chain.referral_id)
    dates = review_dates(store, settings)
    mine = dates[dates.referral_id.isin(ids)]
    row = mine.iloc[0]
    current = int(row.referral_id)
    review_due = pd.Timestamp(row.review_due).date()
    now = utcnow()
    next_review = _add_years(now.date(), int(row.period_years)) if decision == "retain" else None
    why_sha = hashlib.sha256(why.encode("utf-8")).hexdigest()
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            decision_id = int(store.sql("SELECT coalesce(max(decision_id), 0) + 1 AS n FROM retention_decisions").n[0])
            store.con.execute(
                "UPDATE retention_decisions SET status = 'superseded' WHERE status = 'open' AND referral_id IN "
                "(SELECT unnest($ids::BIGINT[]))", {"ids": sorted(ids)})
            store.con.execute(
                "INSERT INTO retention_decisions VALUES ($i, $r, $d, $w, $h, $p, $due, $next, $u, $t, 'open', NULL)",
                {"i": decision_id, "r": current, "d": decision, "w": why, "h": why_sha, "p": purpose,
                 "due": review_due, "next": next_review, "u": os_user(), "t": now})
            store.audit("review-decide", f"referral {current}",
                        {"decision_id": decision_id, "referral_id": current, "versions": sorted(ids),
                         "decision": decision, "why_sha256": why_sha, "purpose": purpose,
                         "review_due": review_due.isoformat(),
                         "next_review": next_review.isoformat() if next_review else None})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return {"decision_id": decision_id, "referral_id": current, "versions": sorted(ids), "decision": decision,
            "review_due": review_due, "next_review": next_review, "early": review_due > now.date(),
            "decided_by": os_user(), "decided_at": now}


def _eligible(store: Store, as_of: dt.date, referral_ids, settings: dict) -> tuple[list[dict], list[dict]]:
    """(to dispose: one dict per referral with its versions and decision, already disposed)."""
    dates = review_dates(store, settings)
    todo, already = [], []
    if referral_ids:
        for value in referral_ids:
            number = _referral_id(value)
            gone = _disposed_record(store, number)
            if gone and store.query("retention/chain_of", referral_id=number).empty:
                already.append({"referral_id": number, **gone})
                continue
            chain = _chain(store, number)
            ids = sorted(int(i) for i in chain.referral_id)
            row = dates[dates.referral_id.isin(ids)].iloc[0]
            if row.decision is None or pd.isna(row.decision):
                raise WorkbenchError(f"referral {number} has no dispose decision: record one with `workbench review "
                                     f"decide {number} --dispose --why TEXT --purpose TEXT`")
            if row.decision == "retain":
                raise WorkbenchError(f"referral {number} is retained (decision {int(row.decision_id)} of "
                                     f"{pd.Timestamp(row.decided_at).date()}): it cannot be disposed unless a later "
                                     "decision says dispose")
            if pd.Timestamp(row.decided_at).date() > as_of:
                raise WorkbenchError(f"referral {number}: its dispose decision is dated after --as-of {as_of}")
            todo.append({"referral_id": int(row.referral_id), "versions": ids, "decision_id": int(row.decision_id)})
    else:
        hit = dates[(dates.decision == "dispose")]
        hit = hit[pd.to_datetime(hit.decided_at).dt.date <= as_of]
        for row in hit.itertuples():
            chain = store.query("retention/chain_of", referral_id=int(row.referral_id))
            todo.append({"referral_id": int(row.referral_id), "versions": sorted(int(i) for i in chain.referral_id),
                         "decision_id": int(row.decision_id)})
    unique = {t["referral_id"]: t for t in todo}
    return list(unique.values()), already


def _temp(store: Store, name: str, frame: pd.DataFrame) -> None:
    # name is a constant of this module
    store.con.register("_disp_frame", frame)
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _disp_frame")
    store.con.unregister("_disp_frame")


def _json_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [] if value is None else [str(value)]


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def _quarantine_hits(store: Store, values: pd.DataFrame) -> list[int]:
    """Quarantined rows of the disposed referrals' sources holding one of their references or crime numbers."""
    refs = {str(v).strip() for v in values.value[values.kind == "source_ref"]}
    crimes = {_norm(v) for v in values.value[values.kind == "crime_number"] if len(_norm(v)) >= 4}
    rows = store.query("retention/quarantine_candidates")
    hits = []
    for qid, raw in zip(rows.quarantine_id, rows.raw):
        try:
            cells = _json_strings(json.loads(raw))
        except (TypeError, ValueError):
            cells = [str(raw)]
        if any(c.strip() in refs for c in cells) or any(_norm(c) in crimes for c in cells if c):
            hits.append(int(qid))
    return hits


def _scrub_text(text: str, terms: list[str]) -> str:
    for term in terms:
        text = re.sub(re.escape(term), PLACEHOLDER, text, flags=re.IGNORECASE)
    return text


def _scrub_derived_text(store: Store, values: pd.DataFrame, entities: pd.DataFrame) -> dict:
    """Group labels, run details and the analyst's package words that show a disposed value."""
    counts = {}
    names = sorted({v for v in values.value[values.kind == "name"] if len(v.strip()) >= 3}, key=len, reverse=True)
    vrms = sorted({v for v in values.value[values.kind == "vrm"] if len(v.strip()) >= 3}, key=len, reverse=True)
    crimes = sorted({v.strip() for v in values.value[values.kind == "crime_number"] if len(v.strip()) >= 4},
                    key=len, reverse=True)
    persons = sorted(entities.entity_id[entities.entity == "person"])
    # groups: the label names the key player; active groups are relabelled by the groups run that follows
    groups = store.sql("SELECT group_id, label FROM groups")
    member_of = set(store.sql("SELECT DISTINCT group_id FROM group_members WHERE person_id IN "
                              "(SELECT unnest($p::VARCHAR[]))", {"p": persons}).group_id) if persons else set()
    lower = [n.lower() for n in names]
    relabel = [g for g, label in zip(groups.group_id, groups.label)
               if g in member_of or (isinstance(label, str) and any(n in label.lower() for n in lower))]
    if relabel:
        store.con.execute("UPDATE groups SET label = NULL WHERE group_id IN (SELECT unnest($g::VARCHAR[]))",
                          {"g": relabel})
    counts["groups_relabelled"] = len(relabel)
    # run details list cloned plates (vehicle runs): a disposed plate no longer held by any other mention goes
    still = set(store.sql("SELECT DISTINCT vrm_norm FROM vehicle_mentions WHERE vrm_norm IS NOT NULL AND referral_id "
                          "NOT IN (SELECT referral_id FROM _disp_referrals)").vrm_norm)
    gone_vrms = {v for v in vrms if v not in still}
    runs = store.sql("SELECT run_id, details FROM linkage_runs WHERE details IS NOT NULL")
    changed = 0
    for run_id, details in zip(runs.run_id, runs.details):
        if not gone_vrms or not any(v in details for v in gone_vrms):
            continue
        data = json.loads(details)
        if isinstance(data.get("cloned_vrms"), list):
            data["cloned_vrms"] = [v for v in data["cloned_vrms"] if v not in gone_vrms]
        text = json.dumps(data, default=str, sort_keys=True)
        text = _scrub_text(text, sorted(gone_vrms, key=len, reverse=True))
        store.con.execute("UPDATE linkage_runs SET details = $d WHERE run_id = $r", {"d": text, "r": int(run_id)})
        changed += 1
    counts["linkage_runs_scrubbed"] = changed
    # the analyst's words: a disposed name, plate or crime number written into a package is replaced
    terms = names + vrms + crimes
    words = store.sql("SELECT subject_id, section, version, body FROM package_words")
    redacted = 0
    for sid, section, version, body in zip(words.subject_id, words.section, words.version, words.body):
        new = _scrub_text(body, terms) if terms else body
        if new != body:
            store.con.execute("UPDATE package_words SET body = $b, sha256 = $h WHERE subject_id = $s AND section = $c "
                              "AND version = $v", {"b": new, "h": hashlib.sha256(new.encode("utf-8")).hexdigest(),
                                                   "s": sid, "c": section, "v": int(version)})
            redacted += 1
    counts["package_words_redacted"] = redacted
    return counts


def _recompute(store: Store) -> list[dict]:
    """Re-run the linkage stages that have run before on this store (persons, vehicles, groups)."""
    done = set(store.sql("SELECT DISTINCT entity FROM linkage_runs").entity)
    if not done:
        return []
    from workbench.linkage.groups import find_groups
    from workbench.linkage.run import run_persons, run_vehicles
    from workbench.linkage.settings import load_settings

    settings = load_settings()
    results = []
    for entity, step in (("person", run_persons), ("vehicle", run_vehicles), ("group", find_groups)):
        if entity in done:
            result = step(store, settings)
            results.append({k: v for k, v in result.items() if k in ("entity", "run_id", "records", "entities")})
    return results


def _compact(store: Store) -> int:
    """Rewrite the database file from its live rows (bytes written). DuckDB leaves a deleted row's bytes in the
    file until the block is reused, so a disposal that only deleted would leave the values readable in the file."""
    import duckdb

    from workbench.store import _connect

    path = Path(store.path)
    tmp = path.with_name(path.name + ".disposal-tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    name = store.con.execute("SELECT current_database()").fetchone()[0].replace('"', '""')
    try:   # the path is the store's own, quoted as a literal; ATTACH takes no bound parameters
        store.con.execute("ATTACH '" + str(tmp).replace("'", "''") + "' AS _disposal_compact")
        store.con.execute(f'COPY FROM DATABASE "{name}" TO _disposal_compact')
        store.con.execute("DETACH _disposal_compact")
    except duckdb.Error as exc:
        try:
            store.con.execute("DETACH DATABASE IF EXISTS _disposal_compact")
        finally:
            tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"rewriting {path} without the disposed rows failed: {str(exc).splitlines()[0]}; the "
                             "rows are deleted but their bytes may remain in the file until it is rewritten: run "
                             "`workbench review dispose` again naming a disposed referral to rewrite it") from None
    store.con.close()
    try:
        os.replace(tmp, path)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)   # closed cleanly: checkpointed, and copied
    finally:
        store.con = _connect(path, read_only=False)
    return path.stat().st_size


def dispose(store: Store, purpose: str, as_of: dt.date | None = None, referral_ids=None,
            settings: dict | None = None, relink: bool = True, compact: bool = True) -> dict:
    """Delete every referral with a dispose decision taken on or before `as_of` (default today), or just those of
    `referral_ids` (each must have one: a retained referral, or one without a decision, is refused). Returns
    {disposal_id, referrals, versions, counts, already, relinked, compacted_bytes}; nothing to do returns
    disposed 0. `compact` (default) rewrites the database file afterwards, so that no deleted bytes remain in it."""
    purpose = _purpose(purpose)
    settings = settings or retention_settings()
    as_of = as_of or dt.date.today()
    todo, already = _eligible(store, as_of, referral_ids, settings)
    if not todo:
        compacted = None
        if already and compact:      # naming a disposed referral again rewrites the file (e.g. after a failed one)
            with store.writing():
                compacted = _compact(store)
        return {"disposal_id": None, "disposed": 0, "referrals": [], "versions": [], "counts": {}, "already": already,
                "relinked": [], "compacted_bytes": compacted}
    versions = sorted({v for t in todo for v in t["versions"]})
    decision_ids = sorted(t["decision_id"] for t in todo)
    counts: dict[str, int] = {}
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            _temp(store, "_disp_referrals", pd.DataFrame({"referral_id": pd.Series(versions, dtype="int64")}))
            hashes = store.sql("SELECT referral_id, content_hash FROM referrals WHERE referral_id IN "
                               "(SELECT referral_id FROM _disp_referrals) ORDER BY referral_id")
            store.con.execute("CREATE OR REPLACE TEMP TABLE _disp_pm AS SELECT mention_id FROM person_mentions "
                              "WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)")
            store.con.execute("CREATE OR REPLACE TEMP TABLE _disp_vm AS SELECT mention_id FROM vehicle_mentions "
                              "WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)")
            _temp(store, "_disp_incidents", store.query("retention/disposal_incidents"))
            values = store.query("retention/disposal_values")
            _temp(store, "_disp_values", values if len(values) else pd.DataFrame({"kind": pd.Series([], dtype=str),
                                                                                  "value": pd.Series([], dtype=str)}))
            entities = store.query("retention/disposal_entities")
            _temp(store, "_disp_entities", entities if len(entities) else
                  pd.DataFrame({"entity": pd.Series([], dtype=str), "entity_id": pd.Series([], dtype=str)}))
            _temp(store, "_disp_quarantine",
                  pd.DataFrame({"quarantine_id": pd.Series(_quarantine_hits(store, values), dtype="int64")}))
            counts.update(_scrub_derived_text(store, values, entities))
            for name in _STEPS:
                changed = store.con.execute(queries.load(f"retention/{name}").sql).fetchone()
                counts[name.split("_", 1)[1]] = int(changed[0]) if changed else 0
            if store.sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'hotspot_cube' "
                         "AND table_schema = 'main'").n[0]:
                from workbench.hotspots import cube

                cube.build(store)
                counts["hotspot_cube_rebuilt"] = 1
            now, user = utcnow(), os_user()
            disposal_id = int(store.sql("SELECT coalesce(max(disposal_id), 0) + 1 AS n FROM retention_disposals").n[0])
            content = [h if isinstance(h, str) else None for h in hashes.content_hash]
            store.con.execute("INSERT INTO retention_disposals VALUES ($i, $t, $u, $p, $a, $r, $h, $c)",
                              {"i": disposal_id, "t": now, "u": user, "p": purpose, "a": as_of,
                               "r": json.dumps(versions), "h": json.dumps(content),
                               "c": json.dumps(counts, sort_keys=True)})
            store.con.execute(
                "UPDATE retention_decisions SET why = NULL, status = CASE WHEN decision_id IN "
                "(SELECT unnest($d::BIGINT[])) THEN 'disposed' ELSE 'superseded' END, disposal_id = CASE WHEN "
                "decision_id IN (SELECT unnest($d::BIGINT[])) THEN $i ELSE disposal_id END "
                "WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)",
                {"d": decision_ids, "i": disposal_id})
            store.audit("review-dispose", "referrals",
                        {"disposal_id": disposal_id, "referral_ids": versions,
                         "referrals": sorted(t["referral_id"] for t in todo), "decision_ids": decision_ids,
                         "content_hashes": content, "counts": counts, "as_of": as_of.isoformat(), "purpose": purpose})
            for name in ("_disp_referrals", "_disp_pm", "_disp_vm", "_disp_incidents", "_disp_values",
                         "_disp_entities", "_disp_quarantine"):
                store.con.execute(f"DROP TABLE IF EXISTS {name}")
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
        relinked = []
        if relink:
            try:
                relinked = _recompute(store)
            except WorkbenchError as exc:
                raise WorkbenchError(f"disposal {disposal_id} done, but recomputing the linkage failed: {exc}; run "
                                     "`workbench link run`") from None
        store.con.execute("CHECKPOINT")
        compacted = _compact(store) if compact else None
    return {"disposal_id": disposal_id, "disposed": len(todo), "referrals": sorted(t["referral_id"] for t in todo),
            "versions": versions, "counts": counts, "already": already, "relinked": relinked,
            "compacted_bytes": compacted}
