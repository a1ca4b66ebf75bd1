"""Alerts: a new referral whose person or vehicle mention matches someone or something already known.

After an ingest batch commits (`after_ingest`, called by workbench.ingest.pipeline) or on demand
(`scan_batch(store, batch_id)`, `workbench alerts scan --batch ID`), the batch's new mentions are matched
against the resolved store of the latest linkage run, WITHOUT retraining or re-clustering:

- persons: the trained model stored in linkage_runs.model_json scores the new mentions against the existing
  mentions of watched persons with Splink's `predict_between` (blocking rules of the model, term
  frequencies of the resolved mentions); a pair at or above `alerts.min_match_weight` (default: the persons
  review threshold) raises an alert. Watched persons are group members (tables of migration 0008, when
  present) and prolific offenders (at least `alerts.prolific_min_incidents` distinct incidents);
- vehicles: the vehicle keys of workbench.linkage.vehicles (normalised VRM, confusable key, partial plate
  patterns) against plates flagged by the latest vehicle run (cloned-plate flags in vehicle_flags) and
  vehicles of groups.

One alert per (new mention, matched entity), stored in `alerts` (migration 0009) with who/what matched, the
match weight, the reasons, the batch, and status open until an analyst acknowledges it (`acknowledge`,
audited). Listed and acknowledged alerts follow merges: a person (or vehicle) merged into another by a later run
is shown as the one it lives on as (`follow_entities`; the id it was raised for stays in `raised_entity_id`). A rescan never raises the same alert twice. Names and VRMs are stored as written (raw); whatever
shows them escapes them.
"""
from __future__ import annotations

import json
import logging
import math
import re

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.settings import LinkageSettings, load_settings
from workbench.linkage.vehicles import confusable_key, normalise_vrm, partial_pattern
from workbench.store import Store, os_user, utcnow

STATUSES = ("open", "acknowledged")
WHY_MAX = 1000
NO_RUN_NOTE = "no linkage run yet: no alerts raised (run `workbench link run` first)"
ALERT_COLUMNS = ["alert_id", "raised_at", "batch_id", "entity", "reason", "mention_id", "referral_id", "mention_text",
                 "entity_id", "entity_label", "match_weight", "matched_by", "matched_mention", "group_id", "details",
                 "status", "acknowledged_at", "acknowledged_by", "ack_why", "person_run_id", "vehicle_run_id"]
log = logging.getLogger(__name__)


# -- configuration --------------------------------------------------------------------------------------
def alert_settings(settings: LinkageSettings) -> dict:
    """The `alerts:` section with defaults filled in (validated by workbench.linkage.settings)."""
    raw = dict(settings.raw.get("alerts") or {})
    weight = raw.get("min_match_weight")
    return {"enabled": bool(raw.get("enabled", True)),
            "prolific_min_incidents": int(raw.get("prolific_min_incidents", 10)),
            "min_match_weight": settings.review if weight is None else float(weight),
            "vehicle_flag_kinds": list(raw.get("vehicle_flag_kinds") or ["impossible_travel", "description_conflict"]),
            "partial_plates": bool(raw.get("partial_plates", True)),
            "group_alerts": bool(raw.get("group_alerts", True))}


def _tables(store: Store) -> set[str]:
    return set(store.query("linkage/alerts_tables").table_name)


def _latest_runs(store: Store) -> dict:
    runs = store.query("linkage/alerts_latest_runs")
    return {e: (int(r), m) for e, r, m in zip(runs.entity, runs.run_id, runs.model_json)}


# -- who and what is watched ----------------------------------------------------------------------------
def watched_persons(store: Store, cfg: dict, tables: set[str] | None = None) -> pd.DataFrame:
    """One row per watched resolved person: person_id, display_name, reasons (list), incidents, group_ids."""
    tables = _tables(store) if tables is None else tables
    rows: dict[str, dict] = {}
    prolific = store.query("linkage/alerts_prolific_persons", min_incidents=int(cfg["prolific_min_incidents"]))
    for pid, name, n in zip(prolific.person_id, prolific.display_name, prolific.incidents):
        rows.setdefault(pid, {"person_id": pid, "display_name": name, "reasons": [], "incidents": None,
                              "group_ids": []})
        rows[pid]["reasons"].append("prolific_offender")
        rows[pid]["incidents"] = int(n)
    if cfg["group_alerts"] and {"groups", "group_members"} <= tables:
        members = store.query("linkage/alerts_group_persons")
        for pid, name, gid in zip(members.person_id, members.display_name, members.group_id):
            row = rows.setdefault(pid, {"person_id": pid, "display_name": name, "reasons": [], "incidents": None,
                                        "group_ids": []})
            if "group_member" not in row["reasons"]:
                row["reasons"].append("group_member")
            row["group_ids"].append(str(gid))
    return pd.DataFrame(list(rows.values()), columns=["person_id", "display_name", "reasons", "incidents", "group_ids"])


def watched_vehicles(store: Store, cfg: dict, mapping: dict, tables: set[str] | None = None) -> dict:
    """Confusable key -> {vehicle_id: {vrm, reasons, flags, group_ids}} for flagged plates and group vehicles."""
    tables = _tables(store) if tables is None else tables
    keys: dict[str, dict] = {}

    def entry(key, vehicle_id, vrm):
        return keys.setdefault(key, {}).setdefault(vehicle_id, {"vrm": vrm, "reasons": [], "flags": [],
                                                                "group_ids": []})

    flags = store.query("linkage/alerts_flagged_vehicles")
    kinds = set(cfg["vehicle_flag_kinds"])
    resolved = store.query("linkage/resolved_vehicles").set_index("vehicle_id")["vrm"].to_dict()
    for fid, kind, vrm, vid in zip(flags.flag_id, flags.kind, flags.vrm, flags.vehicle_id):
        if kind not in kinds:
            continue
        key = confusable_key(normalise_vrm(vrm), mapping)
        if not key:
            continue
        e = entry(key, vid, resolved.get(vid) or vrm)
        if "flagged_vehicle" not in e["reasons"]:
            e["reasons"].append("flagged_vehicle")
        e["flags"].append({"flag_id": int(fid), "kind": kind})
    if cfg["group_alerts"] and {"groups", "group_vehicles"} <= tables:
        grouped = store.query("linkage/alerts_group_vehicles")
        for vid, vrm, gid in zip(grouped.vehicle_id, grouped.vrm, grouped.group_id):
            key = confusable_key(normalise_vrm(vrm), mapping)
            if not key:
                continue
            e = entry(key, vid, vrm)
            if "group_vehicle" not in e["reasons"]:
                e["reasons"].append("group_vehicle")
            e["group_ids"].append(str(gid))
    return keys


# -- matching -------------------------------------------------------------------------------------------
NAME_ROLES = {"full_name": "full_name", "forename": "forename", "surname": "surname", "alias": "alias"}
NAME_COLUMNS = ("forename_norm", "surname_norm", "forename_canon", "forename_initial", "surname_initial",
                "surname_prefix", "full_name_norm", "alias_norm")


def name_term_frequencies(mentions: pd.DataFrame, columns) -> dict[str, pd.DataFrame] | None:
    """Term frequency tables (value, tf_value) of name columns over the resolved mentions, as Splink computes
    them (share of the non-null values), from each distinct written name prepared once. None when a column
    is not a name column (the caller then lets Splink compute it)."""
    from workbench.linkage.records import prepare_person_records

    columns = list(columns)
    if any(c not in NAME_COLUMNS for c in columns):
        return None
    roles = list(NAME_ROLES.values())
    names = mentions.loc[:, roles].astype(object).where(mentions.loc[:, roles].notna(), None)
    counts = names.groupby(roles, dropna=False).size().reset_index(name="n")
    if counts.empty:
        return {c: pd.DataFrame({c: pd.Series(dtype=object), f"tf_{c}": pd.Series(dtype=float)}) for c in columns}
    counts.insert(0, "k", [str(i) for i in range(len(counts))])
    prepared = prepare_person_records(counts, "k", NAME_ROLES)
    out = {}
    for c in columns:
        frame = pd.DataFrame({c: prepared[c].to_numpy(), "n": counts["n"].to_numpy()}).dropna(subset=[c])
        total = float(frame["n"].sum())
        tf = frame.groupby(c, sort=True)["n"].sum() / (total or 1.0)
        out[c] = pd.DataFrame({c: tf.index.astype(object), f"tf_{c}": tf.to_numpy(dtype=float)})
    return out


def match_persons(watched: pd.DataFrame, new: pd.DataFrame, model_json: dict, min_weight: float,
                  resolved_mentions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score new prepared person records against watched existing ones with the stored model (no training).

    watched, new: prepared records (workbench.linkage.records, unique_id as text); resolved_mentions: the
    written names (full_name, forename, surname, alias) of every resolved mention, for the term frequencies
    (None: those of watched and new). Splink's `predict_between` uses the model's own blocking rules and
    comparisons. Returns new_id, existing_id, match_weight for pairs at or above min_weight."""
    import duckdb
    from splink import DuckDBAPI, Linker  # heavy: imported only when there is something to match

    from workbench.linkage.model import MODEL_COLUMNS

    out_columns = ["new_id", "existing_id", "match_weight"]
    new_ids = set(new["unique_id"].astype(str))
    watched = watched[~watched["unique_id"].astype(str).isin(new_ids)]
    if new.empty or watched.empty:
        return pd.DataFrame(columns=out_columns)
    columns = list(MODEL_COLUMNS)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads TO 2")
        api = DuckDBAPI(connection=con)
        both = pd.concat([watched.loc[:, columns], new.loc[:, columns]], ignore_index=True)
        linker = Linker(api.register(both, table_name="alert_records"), json.loads(json.dumps(model_json)),
                        log_level=logging.WARNING)
        tf_columns = [tf.name for tf in linker._settings_obj._term_frequency_columns]
        tables = None if resolved_mentions is None else name_term_frequencies(resolved_mentions, tf_columns)
        for name in tf_columns:
            if tables is None:
                linker.table_management.compute_tf_table(name)
            else:
                linker.table_management.register_term_frequency_lookup(
                    api.register(tables[name], table_name=f"alert_tf_{name}"), name)
        left = api.register(watched.loc[:, columns].copy(), table_name="alert_watched")
        right = api.register(new.loc[:, columns].copy(), table_name="alert_new")
        scored = linker.inference.predict_between(left, right, threshold_match_weight=float(min_weight) - 1e-9,
                                                  warning_mode="never")
        frame = scored.as_pandas_dataframe()
    finally:
        con.close()
    if frame.empty:
        return pd.DataFrame(columns=out_columns)
    frame = frame.rename(columns={"unique_id_l": "existing_id", "unique_id_r": "new_id"})
    frame = frame[frame["match_weight"] >= float(min_weight)]
    return frame.loc[:, out_columns].reset_index(drop=True)


def match_vehicles(mentions: pd.DataFrame, watched: dict, mapping: dict, partial_plates: bool = True,
                   min_chars: int = 3) -> list[dict]:
    """New vehicle mentions (mention_id, vrm_raw) against watched keys: one dict per (mention, vehicle)."""
    out = []
    for mid, raw in zip(mentions["mention_id"], mentions["vrm_raw"].astype(object)):
        pattern = partial_pattern(raw, mapping)
        norm = normalise_vrm(raw)
        hits = []
        if pattern is not None:
            body = re.sub(r"[^A-Z0-9]", "", pattern.pattern.upper())
            if partial_plates and len(body) >= min_chars:
                hits = [(k, "partial") for k in sorted(watched) if pattern.search(k)]
        else:
            key = confusable_key(norm, mapping)
            if key in watched:
                hits = [(key, None)]
        for key, how in hits:
            for vid, info in sorted(watched[key].items()):
                matched_by = how or ("exact" if norm == normalise_vrm(info["vrm"]) else "confusable")
                out.append({"mention_id": int(mid), "vehicle_id": vid, "vrm": info["vrm"], "matched_by": matched_by,
                            "reasons": list(info["reasons"]), "flags": list(info["flags"]),
                            "group_ids": sorted(set(info["group_ids"]))})
    return out


# -- scanning a batch -----------------------------------------------------------------------------------
def _check_batch(store: Store, batch_id) -> int:
    try:
        value = int(str(batch_id).strip())
    except ValueError:
        raise WorkbenchError(f"{str(batch_id)[:40]!r} is not a batch id (a whole number)") from None
    if not -(2 ** 63) <= value < 2 ** 63 or store.query("linkage/alerts_batch_exists", batch_id=value).empty:
        raise WorkbenchError(f"no ingest batch with id {value}")
    return value


def scan_batch(store: Store, batch_id, settings: LinkageSettings | None = None) -> dict:
    """Match one batch's new mentions against the resolved store and store the alerts raised (audited).

    Returns a summary: batch_id, status (scanned | skipped), alerts (new ones), already (raised before),
    person_mentions, vehicle_mentions, note."""
    batch_id = _check_batch(store, batch_id)
    settings = settings or load_settings()
    cfg = alert_settings(settings)
    summary = {"batch_id": batch_id, "status": "skipped", "alerts": 0, "already": 0, "person_mentions": 0,
               "vehicle_mentions": 0, "note": None, "alert_ids": []}
    if not cfg["enabled"]:
        summary["note"] = "alerts are turned off (alerts.enabled in the linkage settings)"
        return summary
    runs = _latest_runs(store)
    if not runs:
        summary["note"] = NO_RUN_NOTE
        return summary
    tables = _tables(store)
    rows = []
    persons = store.query("linkage/alerts_batch_persons", batch_id=batch_id)
    vehicles = store.query("linkage/alerts_batch_vehicles", batch_id=batch_id)
    summary.update(person_mentions=int(len(persons)), vehicle_mentions=int(len(vehicles)))
    person_run = runs.get("person")
    vehicle_run = runs.get("vehicle")
    if person_run and person_run[1] and len(persons):
        rows += _person_alerts(store, settings, cfg, persons, json.loads(person_run[1]), tables)
    if vehicle_run and len(vehicles):
        mapping = {str(k): str(v) for k, v in ((settings.vehicles or {}).get("confusable") or {}).items()}
        watched = watched_vehicles(store, cfg, mapping, tables)
        if watched:
            hits = match_vehicles(vehicles, watched, mapping, cfg["partial_plates"],
                                  int((settings.vehicles or {}).get("partial_min_chars", 3)))
            referral = dict(zip(vehicles.mention_id.astype(int), vehicles.referral_id))
            raw = dict(zip(vehicles.mention_id.astype(int), vehicles.vrm_raw.astype(object)))
            for h in hits:
                rows.append({"entity": "vehicle", "reason": ", ".join(sorted(h["reasons"])),
                             "mention_id": h["mention_id"], "referral_id": referral.get(h["mention_id"]),
                             "mention_text": raw.get(h["mention_id"]), "entity_id": h["vehicle_id"],
                             "entity_label": h["vrm"], "match_weight": None, "matched_by": h["matched_by"],
                             "matched_mention": None, "group_id": ", ".join(h["group_ids"]) or None,
                             "details": {"flags": h["flags"], "groups": h["group_ids"]}})
    summary["status"] = "scanned"
    written, already = _store_alerts(store, batch_id, rows, person_run, vehicle_run)
    summary.update(alerts=len(written), already=already, alert_ids=written)
    return summary


def _person_alerts(store: Store, settings: LinkageSettings, cfg: dict, persons: pd.DataFrame, model_json: dict,
                   tables: set[str]) -> list[dict]:
    watched = watched_persons(store, cfg, tables)
    if watched.empty:
        return []
    links = store.query("linkage/person_links")
    link_ids = links.mention_id.to_numpy(dtype="int64")
    person_of = dict(zip(link_ids.astype(str), links.person_id))
    new_ids = persons.mention_id.to_numpy(dtype="int64")
    mentions = store.query("linkage/person_mentions")
    ids = mentions.mention_id.to_numpy(dtype="int64")
    is_new = pd.Series(ids).isin(new_ids).to_numpy()
    resolved_ids = pd.Series(link_ids)[~pd.Series(link_ids).isin(new_ids).to_numpy()]
    watched_ids = resolved_ids[links.person_id.isin(set(watched.person_id)).to_numpy()[resolved_ids.index]]
    resolved = mentions[pd.Series(ids).isin(resolved_ids).to_numpy()]
    watched_rows = mentions[pd.Series(ids).isin(watched_ids).to_numpy()]
    watched_rows = watched_rows[~_same_as_before(watched_rows, person_of).to_numpy()]
    prepared = _prepare(pd.concat([watched_rows, mentions[is_new]]), settings)
    in_new = prepared["unique_id"].isin(set(new_ids.astype(str)))
    scored = match_persons(prepared[~in_new], prepared[in_new], model_json, cfg["min_match_weight"], resolved)
    if scored.empty:
        return []
    scored["person_id"] = scored["existing_id"].map(person_of)
    best = scored.sort_values(["new_id", "person_id", "match_weight", "existing_id"],
                              ascending=[True, True, False, True]).drop_duplicates(["new_id", "person_id"])
    info = watched.set_index("person_id")
    names = dict(zip(persons.mention_id.astype(int).astype(str), persons.full_name.astype(object)))
    referral = dict(zip(persons.mention_id.astype(int).astype(str), persons.referral_id))
    out = []
    for row in best.itertuples():
        w = info.loc[row.person_id]
        groups = sorted(set(w["group_ids"]))
        out.append({"entity": "person", "reason": ", ".join(sorted(w["reasons"])), "mention_id": int(row.new_id),
                    "referral_id": referral.get(row.new_id), "mention_text": names.get(row.new_id),
                    "entity_id": row.person_id, "entity_label": w["display_name"],
                    "match_weight": float(row.match_weight), "matched_by": "model",
                    "matched_mention": int(row.existing_id), "group_id": ", ".join(groups) or None,
                    "details": {"incidents": None if w["incidents"] is None or pd.isna(w["incidents"])
                                else int(w["incidents"]), "groups": groups,
                                "min_match_weight": cfg["min_match_weight"]}})
    return out


KEY_COLUMNS = ("full_name", "forename", "surname", "alias", "dob", "dob_raw", "gender", "latitude", "longitude")


def _same_as_before(mentions: pd.DataFrame, person_of: dict) -> pd.Series:
    """True for a mention of a person identical, in everything its prepared record is made from, to an earlier
    mention of the same person: the model gives both the same weight against any new mention, so one is scored.
    (A date of birth after the sighting is set aside by the preparation: whether it is, is part of the key; a
    date given only as text keeps its sighting time in the key.)"""
    if mentions.empty:
        return pd.Series(False, index=mentions.index)
    frame = mentions.loc[:, list(KEY_COLUMNS)].astype(object).astype(str)
    frame["person_id"] = mentions["mention_id"].astype(int).astype(str).map(person_of).to_numpy()
    seen = pd.to_datetime(mentions["occurred_at"], errors="coerce").dt.normalize()
    today = pd.Timestamp(utcnow().date())
    latest = seen.where(seen.notna() & (seen < today), today)
    dob = pd.to_datetime(mentions["dob"], errors="coerce")
    frame["late"] = (dob > latest).astype(str).to_numpy()
    text_only = mentions["dob"].isna() & mentions["dob_raw"].notna()
    frame["seen"] = seen.astype(str).where(text_only, "").to_numpy()
    return frame.duplicated(keep="first")


def _prepare(mentions: pd.DataFrame, settings: LinkageSettings) -> pd.DataFrame:
    """Prepared records of some store person mentions, exactly as a linkage run prepares them
    (workbench.linkage.run.person_records), for only the mentions to match."""
    from workbench.linkage.records import prepare_person_records
    from workbench.linkage.run import STORE_ROLES

    mentions = mentions.reset_index(drop=True).copy()
    mentions["dob_any"] = [d if d is not None and not pd.isna(d) else r
                           for d, r in zip(mentions["dob"].astype(object), mentions["dob_raw"].astype(object))]
    cell = float((settings.persons.get("context") or {}).get("place_cell_degrees", 0.5))
    return prepare_person_records(mentions, "mention_id", STORE_ROLES, place_cell_degrees=cell)


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _store_alerts(store: Store, batch_id: int, rows: list[dict], person_run, vehicle_run) -> tuple[list[int], int]:
    if not rows:
        return [], 0
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            seen = store.query("linkage/alerts_keys", batch_id=batch_id)
            known = set(zip(seen.mention_id.astype(int), seen.entity, seen.entity_id))
            fresh = [r for r in rows if (int(r["mention_id"]), r["entity"], r["entity_id"]) not in known]
            first = int(store.sql("SELECT coalesce(max(alert_id), 0) + 1 AS n FROM alerts").n.iloc[0])
            now = utcnow()
            ids = list(range(first, first + len(fresh)))
            runs = {"person_run_id": person_run and person_run[0], "vehicle_run_id": vehicle_run and vehicle_run[0]}
            records = []
            for alert_id, r in zip(ids, fresh):
                record = {c: _clean(r.get(c)) for c in ALERT_COLUMNS}
                record.update(alert_id=alert_id, raised_at=now, batch_id=batch_id, status="open", **runs,
                              details=json.dumps({**r["details"], **runs}, default=str, sort_keys=True))
                records.append(record)
            if records:
                frame = pd.DataFrame(records, columns=ALERT_COLUMNS)
                for c in ("match_weight",):
                    frame[c] = pd.to_numeric(frame[c], errors="coerce")
                for c in ("batch_id", "referral_id", "matched_mention", "person_run_id", "vehicle_run_id"):
                    frame[c] = pd.array(frame[c], dtype="Int64")
                for c in ("acknowledged_at",):
                    frame[c] = pd.to_datetime(frame[c])
                store.con.register("_alerts_new", frame)
                try:   # constant column list
                    store.con.execute(f"INSERT INTO alerts ({', '.join(ALERT_COLUMNS)}) "
                                      f"SELECT {', '.join(ALERT_COLUMNS)} FROM _alerts_new")
                finally:
                    store.con.unregister("_alerts_new")
            if ids:
                store.audit("alerts-raise", f"batch {batch_id}",
                            {"batch_id": batch_id, "alerts": len(ids), "alert_ids": ids[:200],
                             "reasons": sorted({r["reason"] for r in fresh})})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return ids, len(rows) - len(ids)


def after_ingest(store: Store, batch_id: int, settings: LinkageSettings | None = None) -> dict:
    """The ingest hook: alerts for a batch that has just committed. Never raises an ordinary error (the batch
    stays in the store): a failure is returned as status 'failed' with one line, and audited."""
    try:
        if "alerts" not in _tables(store):
            return {"batch_id": batch_id, "status": "skipped", "alerts": 0, "note": "the store has no alerts table"}
        return scan_batch(store, batch_id, settings)
    except Exception as exc:  # noqa: BLE001 - alerting must never undo or fail an ingest that committed
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        line = f"alerts for batch {batch_id} failed ({type(exc).__name__}: {first}); rerun with " \
               f"`workbench alerts scan --batch {batch_id}`"
        log.warning(line)
        try:
            store.audit("alerts-failed", f"batch {batch_id}", {"batch_id": batch_id,
                                                               "error": f"{type(exc).__name__}: {first}"})
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            pass
        return {"batch_id": batch_id, "status": "failed", "alerts": 0, "error": line}


# -- reading and acknowledging --------------------------------------------------------------------------
def list_alerts(store: Store, status: str | None = "open", batch_id: int | None = None) -> pd.DataFrame:
    """Alerts (open first, newest first); status open, acknowledged or None for all."""
    if status is not None and status not in STATUSES:
        raise WorkbenchError(f"unknown alert status {status!r} (open, acknowledged or all)")
    if "alerts" not in _tables(store):
        return pd.DataFrame(columns=queries_columns() + FOLLOWED_COLUMNS)
    frame = store.query("linkage/alerts_list", status=status, batch_id=None if batch_id is None else int(batch_id))
    return follow_entities(store, frame)


FOLLOWED_COLUMNS = ["raised_entity_id", "entity_status"]


def queries_columns() -> list[str]:
    from workbench import queries

    return list(queries.load("linkage/alerts_list").columns)


def surviving_entities(store: Store, entity: str) -> dict[str, tuple[str, str, str | None]]:
    """Resolved person (or vehicle) id -> (the id it lives on as, that id's status, its label).

    A person merged into another in a later run lives on as the one it was merged into (followed through any
    chain of merges); an active or retired id is itself. A chain that loops or ends at an unknown id stops at
    the last id it knows."""
    query, id_col, label_col = (("linkage/resolved_persons", "person_id", "display_name") if entity == "person" else
                                ("linkage/resolved_vehicles", "vehicle_id", "vrm"))
    rows = store.query(query)
    status = dict(zip(rows[id_col], rows.status))
    into = {i: m for i, m in zip(rows[id_col], rows.merged_into) if isinstance(m, str) and m}
    label = dict(zip(rows[id_col], rows[label_col]))
    out = {}
    for start in rows[id_col]:
        current, seen = start, {start}
        while status.get(current) == "merged" and into.get(current) in status and into[current] not in seen:
            current = into[current]
            seen.add(current)
        out[start] = (current, status.get(current), label.get(current))
    return out


def follow_entities(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """Alerts with entity_id (and entity_label) of the person or vehicle each now lives on as: `raised_entity_id`
    keeps the id the alert was raised for, `entity_status` the status of the id shown (active, retired)."""
    frame = frame.copy()
    frame["raised_entity_id"] = frame["entity_id"]
    frame["entity_status"] = None
    for entity in ("person", "vehicle"):
        mine = (frame["entity"] == entity).to_numpy()
        if not mine.any():
            continue
        survivors = surviving_entities(store, entity)
        ids = frame.loc[mine, "entity_id"].tolist()
        found = [survivors.get(i) for i in ids]
        frame.loc[mine, "entity_id"] = [f[0] if f else i for f, i in zip(found, ids)]
        frame.loc[mine, "entity_status"] = [f[1] if f else None for f in found]
        moved = [bool(f) and f[0] != i for f, i in zip(found, ids)]
        labels = frame.loc[mine, "entity_label"].tolist()
        frame.loc[mine, "entity_label"] = [f[2] if m and f[2] is not None else lab
                                           for f, m, lab in zip(found, moved, labels)]
    return frame


def acknowledge(store: Store, alert_id, why: str) -> dict:
    """Mark an open alert acknowledged with the analyst's reason (audited)."""
    try:
        value = int(str(alert_id).strip())
    except ValueError:
        raise WorkbenchError(f"{str(alert_id)[:40]!r} is not an alert id (a whole number)") from None
    why = (why or "").strip()
    if not why:
        raise WorkbenchError("acknowledging an alert needs a reason (--why)")
    if len(why) > WHY_MAX:
        raise WorkbenchError(f"the reason is longer than {WHY_MAX} characters")
    if not -(2 ** 63) <= value < 2 ** 63:
        raise WorkbenchError(f"no alert with id {value}")
    found = store.query("linkage/alerts_one", alert_id=value) if "alerts" in _tables(store) else pd.DataFrame()
    if found.empty:
        raise WorkbenchError(f"no alert with id {value}")
    if found.status.iloc[0] != "open":
        raise WorkbenchError(f"alert {value} is already acknowledged")
    found = follow_entities(store, found.assign(entity_label=None))
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            now, user = utcnow(), os_user()
            store.con.execute("UPDATE alerts SET status = 'acknowledged', acknowledged_at = $t, acknowledged_by = $u, "
                              "ack_why = $w WHERE alert_id = $i AND status = 'open'",
                              {"t": now, "u": user, "w": why, "i": value})
            entity_id, raised_for = str(found.entity_id.iloc[0]), str(found.raised_entity_id.iloc[0])
            store.audit("alerts-ack", f"alert {value}", {"alert_id": value, "why": why, "entity_id": entity_id,
                                                         "raised_entity_id": raised_for,
                                                         "mention_id": int(found.mention_id.iloc[0])})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return {"alert_id": value, "status": "acknowledged", "acknowledged_by": user, "why": why,
            "entity_id": entity_id, "raised_entity_id": raised_for}


__all__ = ["NO_RUN_NOTE", "acknowledge", "after_ingest", "alert_settings", "list_alerts", "match_persons",
           "match_vehicles", "scan_batch", "watched_persons", "watched_vehicles"]
