"""Write a validated file into the canonical tables (inside the caller's transaction).

Referrals are grouped by (referral reference, received time): a group is one version of a referral.
A group whose content matches an existing version is unchanged; otherwise it is inserted as a new
version and the source's versions of that reference are re-ordered by received time, the latest
current and each earlier one pointing at its successor (superseded_by). Incidents are deduplicated
against the store by (normalised crime number, force), else same store within 60 minutes with a
matching value or offender count; every referral that mentions an incident is kept in
referral_incidents (provenance). A crime-number match at another store, or further apart in time than
ingest.crime_number_merge_max_days, is not merged: it is kept as its own incident, flagged MERGE_SUSPECT
with the evidence and marked for review (incidents.review_reason).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from workbench import config, reference
from workbench.ingest.mapping import Mapping

def group_key_sql(alias: str = "") -> str:
    """A referral version's key: reference and received time (alias: the row's table alias, e.g. "a.")."""
    return f"{alias}ref || chr(31) || coalesce({alias}received_at, '')"


GROUP_KEY = group_key_sql()
_CANON_HASH_FIELDS = ("referral_ref", "received_at", "referrer", "grading", "source_evaluation",
                      "intelligence_assessment", "handling_code", "handling_conditions", "incident_ref", "store_ref",
                      "store_name", "address", "postcode", "latitude", "longitude", "force", "crime_number",
                      "occurred_at", "occurred_date", "occurred_time", "offence_type", "value_gbp", "offenders_count",
                      "violence", "detained", "tactics", "narrative", "offender_names", "offender_dobs",
                      "offender_genders", "offender_name", "offender_dob", "offender_gender", "offender_description",
                      "offender_role", "vrm", "vehicle_make", "vehicle_colour", "cctv", "dems_ref", "still_ref",
                      "offenders", "vehicles", "location", "evidence", "grading_object")
VRM_CLASS_SQL = """CASE
    WHEN vrm_norm IS NULL OR vrm_norm = '' THEN NULL
    WHEN regexp_matches(vrm_norm, '[?*_]') OR length(vrm_norm) < 4 THEN 'partial'
    WHEN regexp_full_match(vrm_norm, '[A-Z]{2}[0-9]{2}[A-Z]{3}') THEN 'current'
    WHEN regexp_full_match(vrm_norm, '[A-Z][0-9]{1,3}[A-Z]{3}') THEN 'prefix'
    WHEN regexp_full_match(vrm_norm, '[A-Z]{3}[0-9]{1,3}[A-Z]') THEN 'suffix'
    WHEN regexp_full_match(vrm_norm, '[A-Z]{1,3}[0-9]{1,4}|[0-9]{1,4}[A-Z]{1,3}') THEN 'dateless'
    ELSE 'unknown' END"""
_EVIDENCE_KINDS = ("CCTV", "STILL", "DEMS", "BWV")


def _date_regex(fmt: str) -> str:
    """A regex finding dates written in strftime format `fmt` (to pull DOBs out of a joined list)."""
    out, i = [], 0
    tokens = {"d": r"\d{1,2}", "m": r"\d{1,2}", "Y": r"\d{4}", "y": r"\d{2}", "b": r"[A-Za-z]{3}",
              "B": r"[A-Za-z]+", "H": r"\d{1,2}", "M": r"\d{2}", "S": r"\d{2}"}
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            out.append(tokens.get(fmt[i + 1], r"\S+"))
            i += 2
        else:
            out.append("\\" + fmt[i] if not fmt[i].isalnum() else fmt[i])
            i += 1
    return "".join(out)


def _regex_literal(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == " " else "\\" + ch for ch in text)


def _dob_slots_regex(date_formats, sep: str) -> str:
    """One match per slot of a `sep`-joined DOB list (the list is given a trailing `sep`): group 1 is a date in
    one of `date_formats`, or whatever else the slot holds (empty for an omitted DOB, kept for flagging)."""
    shared = sorted(set(sep.strip()) & set("".join(date_formats)))
    other = "[^" + "".join("\\" + ch for ch in shared) + "]*?"
    dates = "|".join(_date_regex(f) for f in date_formats)
    return f"((?:{dates})|{other}){_regex_literal(sep)}"


def last_id(con, *columns: tuple[str, str]) -> int:
    """The largest id in use in these (table, column)s: a batch numbers its rows from the next one on, in bulk,
    inside its transaction (migration 0004: one nextval() per row was a third of the cost of writing them)."""
    parts = " UNION ALL ".join(f"SELECT max({column}) AS m FROM {table}" for table, column in columns)  # constants
    return con.execute(f"SELECT coalesce(max(m), 0) FROM ({parts})").fetchone()[0]


MENTION_IDS = (("person_mentions", "mention_id"), ("vehicle_mentions", "mention_id"))  # one id space for both


def _tactic_map(con, mapping: Mapping) -> None:
    """Match each distinct tactics value to controlled codes in Python (small residue), as table tmap."""
    codes = set(reference.tactics()["tactic_code"])
    synonyms = reference.tactic_synonyms()
    by_length = sorted(synonyms, key=len, reverse=True)
    own = mapping.value_maps.get("tactics", {})  # the source's own codes or phrases -> controlled codes
    values = [r[0] for r in con.execute("SELECT DISTINCT tactics FROM acc WHERE tactics IS NOT NULL").fetchall()]
    seps = {mapping.multi_sep, mapping.multi_sep.strip() or mapping.multi_sep, ";", ",", "|", "/", "+"}
    rows = []
    for value in values:
        parts = [value]
        for sep in seps:
            if sep:
                parts = [piece for part in parts for piece in part.split(sep)]
        for part in parts:
            token = part.strip()
            if not token:
                continue
            found = []
            mapped = own.get(token.lower())
            if mapped and mapped.upper() in codes:
                found = [mapped.upper()]
            elif token.upper() in codes:
                found = [token.upper()]
            else:
                norm = reference.normalise_label(token)
                if norm in synonyms:
                    found = [synonyms[norm]]
                elif mapping.tactics == "text" and norm:
                    padded = f" {norm} "
                    for syn in by_length:
                        if f" {syn} " in padded:
                            found.append(synonyms[syn])
                            padded = padded.replace(f" {syn} ", " ")
            if found:
                rows += [(value, code, token) for code in dict.fromkeys(found)]
            else:
                rows.append((value, "UNKNOWN", token))
    frame = pd.DataFrame(rows, columns=["raw", "tactic_code", "token"]).astype(object)
    con.execute("DROP TABLE IF EXISTS tmap")
    con.register("_tmap_df", frame)
    con.execute("CREATE TEMP TABLE tmap AS SELECT DISTINCT raw::VARCHAR raw, tactic_code::VARCHAR tactic_code, "
                "token::VARCHAR token FROM _tmap_df")
    con.unregister("_tmap_df")


def fast_path_enabled() -> bool:
    """ingest.fast_path (default on): whether a batch that qualifies may take the single-pass load."""
    return bool(config.get("ingest.fast_path", True))


def fast_path_reason(con, mapping: Mapping) -> str | None:
    """Why this batch cannot take the fast path (None: it can). The fast path assumes what it checks here:
    every accepted row is its own referral (a row-per-incident source, each reference once in the batch) and
    the store holds no referral of this source with any of the batch's references, so every version is new,
    version 1 and current, and there is nothing to group, compare, number or re-order."""
    if not fast_path_enabled():
        return "disabled (ingest.fast_path)"
    if mapping.shape == "offender":
        return "one row per offender: a referral spans several rows"
    rows, refs = con.execute("SELECT count(*), count(DISTINCT ref) FROM acc").fetchone()
    if rows != refs:
        return "a referral reference occurs on several rows"
    known = con.execute("SELECT EXISTS (SELECT 1 FROM referrals WHERE source_name = $src)",
                        {"src": mapping.name}).fetchone()[0]
    if known and con.execute(
            "SELECT EXISTS (SELECT 1 FROM referrals WHERE source_name = $src AND source_ref IN (SELECT ref FROM acc))",
            {"src": mapping.name}).fetchone()[0]:
        return "the store already holds a version of one of the batch's referrals"
    return None


def store_has_batch_keys(con) -> bool:
    """Whether any staged incident (table si) could meet a stored one: the same crime number and force (rule 1)
    or the same store (rule 2). When none can, the dedup joins against the store find nothing and are skipped."""
    if not con.execute("SELECT EXISTS (SELECT 1 FROM incidents)").fetchone()[0]:
        return False
    return con.execute("""
      SELECT EXISTS (SELECT 1 FROM incidents b WHERE (b.crime_number_norm, b.force_code) IN (
                       SELECT (crime_number_norm, force_code) FROM si WHERE crime_number_norm IS NOT NULL))
          OR EXISTS (SELECT 1 FROM incidents b WHERE b.store_id IN (SELECT store_id FROM si WHERE store_id IS NOT NULL))
    """).fetchone()[0]


def load_referrals(con, mapping: Mapping, batch_id: int, now: dt.datetime, read_notes: list) -> dict:
    """Insert accepted rows (table acc) as referrals, incidents, mentions, tactics and flags."""
    hashed = [f for f in _CANON_HASH_FIELDS if f in mapping.fields] or ["ref"]
    hash_expr = "hash(" + ", ".join(hashed) + ")"
    review_years = int((config.get("mopi.review_period_years", {}) or {}).get("group_3", 6))
    slow_reason = fast_path_reason(con, mapping)
    if slow_reason is None:
        _referrals_fast(con, mapping, batch_id, now, hash_expr, review_years)
    else:
        _referrals_general(con, mapping, batch_id, now, hash_expr, review_years)
    return _load_incidents_and_mentions(con, mapping, batch_id, fast=slow_reason is None,
                                        slow_reason=slow_reason)


def _referrals_fast(con, mapping: Mapping, batch_id: int, now, hash_expr: str, review_years: int) -> None:
    """Single-row referrals, none known to the store (fast_path_reason): one INSERT straight from the accepted
    rows, with the values and content hash the general path computes for a one-row version, numbered in file
    order by the accepted rows' own numbers (acc._rn: no window over the wide rows)."""
    src = {"src": mapping.name, "batch": batch_id}
    con.execute(f"""
      INSERT INTO referrals (referral_id, batch_id, source_name, source_type, source_ref, source_row, version,
          is_current, received_at, referrer, grading_scheme, source_evaluation, intelligence_assessment,
          handling_code, handling_conditions, content_hash, review_due)
      SELECT $base + a._rn, $batch, $src, $stype, a.ref, a._row, 1, TRUE,
             coalesce(a.received_ts, $now), a.referrer,
             CASE WHEN a.grading_scheme = '5x5x5' THEN '5x5x5' WHEN a.se_final IS NOT NULL OR a.ia_final IS NOT NULL
                  OR a.hc_final IS NOT NULL THEN '3x5x2' END,
             a.se_final, nullif(a.ia_final, ''), a.hc_final, a.handling_conditions, ({hash_expr})::VARCHAR,
             (coalesce(a.received_ts, $now) + to_years($years))::DATE
      FROM acc a
    """, {**src, "stype": mapping.source_type, "years": review_years, "now": now,
          "base": last_id(con, ("referrals", "referral_id"))})
    # gid: the batch's versions (for the report); rowref: each row's referral (its own row is its staged incident)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE gid AS SELECT source_ref AS ref, referral_id, source_row AS _row FROM referrals
      WHERE batch_id = $batch AND source_name = $src
    """, src)
    con.execute("CREATE OR REPLACE TEMP TABLE rowref AS SELECT _row, referral_id, _row AS ikey FROM gid")


def _referrals_general(con, mapping: Mapping, batch_id: int, now, hash_expr: str, review_years: int) -> None:
    """Versions grouped by (reference, received time), compared with the stored ones, numbered and re-ordered."""
    src = {"src": mapping.name, "batch": batch_id}
    con.execute("DROP TABLE IF EXISTS grp")
    # one pass to find each version's first row and content hash, then its values from that row
    con.execute(f"""
      CREATE TEMP TABLE grp AS
      WITH r AS MATERIALIZED (SELECT {GROUP_KEY} AS gkey, _row, {hash_expr} AS h FROM acc),
      c AS (SELECT gkey, count(*) AS n, min(_row) AS first_row, any_value(h) AS h1 FROM r GROUP BY gkey),
      -- the ordered string_agg (a sort per group) only for versions spanning several rows
      m AS (SELECT r.gkey, md5(string_agg(r.h::VARCHAR, ',' ORDER BY r._row)) AS hm
            FROM r JOIN c ON c.gkey = r.gkey AND c.n > 1 GROUP BY r.gkey),
      k AS (SELECT c.gkey, c.first_row, CASE WHEN c.n = 1 THEN c.h1::VARCHAR ELSE m.hm END AS content_hash
            FROM c LEFT JOIN m ON m.gkey = c.gkey)
      SELECT k.gkey, a.ref, k.first_row, coalesce(a.received_ts, $now) AS received_ts, a.referrer,
             CASE WHEN a.grading_scheme = '5x5x5' THEN '5x5x5' WHEN a.se_final IS NOT NULL OR a.ia_final IS NOT NULL
                  OR a.hc_final IS NOT NULL THEN '3x5x2' END AS grading_scheme,
             a.se_final AS se, nullif(a.ia_final, '') AS ia, a.hc_final AS hc, a.handling_conditions AS hcond,
             k.content_hash
      FROM k JOIN v a ON a._row = k.first_row
    """, {"now": now})
    con.execute("""
      ALTER TABLE grp ADD COLUMN status VARCHAR;
      UPDATE grp SET status = CASE WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.source_name = $src
          AND r.source_ref = grp.ref AND r.content_hash = grp.content_hash) THEN 'unchanged'
          WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.source_name = $src AND r.source_ref = grp.ref)
          THEN 'revised' ELSE 'new' END;
    """, {"src": mapping.name})
    con.execute("""
      INSERT INTO referrals (referral_id, batch_id, source_name, source_type, source_ref, source_row, version,
          is_current, received_at, referrer, grading_scheme, source_evaluation, intelligence_assessment,
          handling_code, handling_conditions, content_hash, review_due)
      WITH todo AS (SELECT * FROM grp WHERE status <> 'unchanged'),
      several AS (SELECT ref FROM todo GROUP BY ref HAVING count(*) > 1),
      -- version numbers within the batch: a window (a sort) only for references with several versions in it
      numbered AS (
        SELECT *, 1 AS nth FROM todo WHERE ref NOT IN (SELECT ref FROM several)
        UNION ALL
        SELECT *, row_number() OVER (PARTITION BY ref ORDER BY received_ts, first_row) AS nth
        FROM todo WHERE ref IN (SELECT ref FROM several))
      SELECT $base + row_number() OVER (), $batch, $src, $stype, g.ref, g.first_row, coalesce(prev.maxv, 0) + g.nth,
             TRUE, g.received_ts, g.referrer, g.grading_scheme, g.se, g.ia, g.hc, g.hcond, g.content_hash,
             (g.received_ts + to_years($years))::DATE
      FROM numbered g LEFT JOIN (SELECT source_ref, max(version) AS maxv FROM referrals WHERE source_name = $src
                                 GROUP BY source_ref) prev ON prev.source_ref = g.ref
    """, {**src, "stype": mapping.source_type, "years": review_years,
          "base": last_id(con, ("referrals", "referral_id"))})
    con.execute("""
      CREATE OR REPLACE TEMP TABLE gid AS SELECT g.gkey, g.ref, r.referral_id FROM grp g
      JOIN referrals r ON r.batch_id = $batch AND r.source_row = g.first_row AND r.source_name = $src
    """, src)
    # re-order the versions of every reference that now has several: latest received is current (a reference
    # with one version is current as inserted)
    con.execute("""
      UPDATE referrals SET is_current = (x.nxt IS NULL), superseded_by = x.nxt
      FROM (SELECT referral_id, lead(referral_id) OVER (PARTITION BY source_ref ORDER BY received_at, version) AS nxt
            FROM referrals WHERE source_name = $src AND source_ref IN (
                SELECT ref FROM grp WHERE status = 'revised'
                UNION SELECT ref FROM grp WHERE status <> 'unchanged' GROUP BY ref HAVING count(*) > 1)) x
      WHERE referrals.referral_id = x.referral_id
        AND (referrals.is_current IS DISTINCT FROM (x.nxt IS NULL) OR referrals.superseded_by IS DISTINCT FROM x.nxt)
    """, {"src": mapping.name})
    # rows belonging to new versions
    ikey = _incident_key_sql(mapping, "gid.referral_id")
    akey = "a.ref || chr(31) || coalesce(a.received_at, '')"
    # narrow row -> referral (and staged incident) map; arow is a view joining it to the validated rows
    con.execute(f"""
      CREATE OR REPLACE TEMP TABLE rowref AS
      SELECT a._row, gid.referral_id, {ikey} AS ikey
      FROM (SELECT _row, ref, received_at, incident_ref, crime_number_norm, occurred_raw, store_ref FROM acc) a
      JOIN gid ON gid.gkey = {akey}
    """)


def _load_incidents_and_mentions(con, mapping: Mapping, batch_id: int, fast: bool, slow_reason: str | None) -> dict:
    """Staged incidents deduplicated and inserted, then mentions, evidence, tactics and flags (both paths)."""
    con.execute("DROP VIEW IF EXISTS arow")
    con.execute("CREATE TEMP VIEW arow AS SELECT v.*, r.referral_id, r.ikey FROM v JOIN rowref r USING (_row)")
    si_cols = {
        "referral_id": "referral_id", "ref": "ref", "source_incident_ref": "coalesce(incident_ref, crime_number)",
        "crime_number": "crime_number", "crime_number_norm": "crime_number_norm", "force_code": "force_code",
        "store_id": "store_id_final", "occurred_at": "occurred_ts",
        "offence_type": "coalesce(lower(offence_type), 'shoplifting')", "value_gbp": "value_num",
        "offenders_count": "offenders_num", "violence": "violence_b", "detained": "detained_b",
        "latitude": "coalesce(lat_ok, pc_lat, st_lat)", "longitude": "coalesce(lon_ok, pc_lon, st_lon)",
        "postcode": "coalesce(postcode, st_postcode)",
        "location_text": "nullif(concat_ws(', ', store_name, address), '')",
        "narrative": "narrative", "tactics": "tactics",
    }
    if mapping.shape == "offender":  # several rows per incident: first row's values, flags OR-ed
        agg = {k: f"arg_min({v}, _row)" for k, v in si_cols.items()}
        agg["offenders_count"] = "coalesce(max(offenders_num), count(*) FILTER (WHERE offender_name IS NOT NULL))"
        agg["violence"], agg["detained"] = "bool_or(violence_b)", "bool_or(detained_b)"
        select = ", ".join(f"{v} AS {k}" for k, v in agg.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE si AS SELECT ikey, {select} FROM arow GROUP BY ikey")
    else:
        select = ", ".join(f"{v} AS {k}" for k, v in si_cols.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE si AS SELECT ikey, {select} FROM arow")
    # dedup: 1) crime number + force against the store, unless the match looks wrong (MERGE_SUSPECT): the stored
    # incident is at another store, or further apart in time than ingest.crime_number_merge_max_days
    merge = {"merge_s": merge_window_seconds()}
    window = int(config.get("ingest.dedup_window_minutes", 60))
    if fast_path_enabled() and not store_has_batch_keys(con):
        # no stored incident shares a crime key or a store with the batch: rules 1 and 2 against the store find
        # nothing (empty match tables); the dedup within the batch below runs as always
        con.execute("CREATE OR REPLACE TEMP TABLE si_match AS SELECT ikey, NULL::BIGINT AS incident_id, "
                    "'crime' AS how FROM si LIMIT 0")
        con.execute("CREATE OR REPLACE TEMP TABLE si_sus AS SELECT ikey, NULL::BIGINT AS other_id FROM si LIMIT 0")
        against_store = False
    else:
        _dedup_against_store(con, merge, window)
        against_store = True
    _dedup_within_batch(con, merge, batch_id)
    return _after_incidents(con, mapping, batch_id, fast, slow_reason, against_store)


def _dedup_against_store(con, merge: dict, window: int) -> None:
    """Rules 1 (crime number + force, unless it looks wrong) and 2 (store and time) against the stored incidents."""
    con.execute(f"""
      CREATE OR REPLACE TEMP TABLE si_cand AS
      SELECT a.ikey, b.incident_id, {_SUSPECT_SQL} AS suspect FROM si a
      JOIN incidents b ON b.crime_number_norm = a.crime_number_norm AND b.force_code = a.force_code
    """, merge)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_match AS
      SELECT ikey, min(incident_id) AS incident_id, 'crime' AS how FROM si_cand WHERE NOT suspect GROUP BY ikey
    """)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_sus AS
      SELECT ikey, min(incident_id) AS other_id FROM si_cand
      WHERE ikey NOT IN (SELECT ikey FROM si_match) GROUP BY ikey
    """)
    # 2) same store, within the window, matching value or offender count (not for a suspect: it stays apart)
    con.execute(f"""
      INSERT INTO si_match
      SELECT si.ikey, arg_min(i.incident_id, abs(epoch(i.occurred_at) - epoch(si.occurred_at))), 'store_time'
      FROM si JOIN incidents i ON i.store_id = si.store_id
        AND i.occurred_at BETWEEN si.occurred_at - INTERVAL {window} MINUTE AND si.occurred_at + INTERVAL {window} MINUTE
        AND (i.value_gbp = si.value_gbp OR i.offenders_count = si.offenders_count)
      WHERE si.ikey NOT IN (SELECT ikey FROM si_match) AND si.ikey NOT IN (SELECT ikey FROM si_sus)
        AND si.store_id IS NOT NULL
      GROUP BY si.ikey
    """)


def _dedup_within_batch(con, merge: dict, batch_id: int) -> None:
    """The staged incidents no stored one matched: merged by crime key within the batch, then inserted."""
    # 3) new incidents: one per crime key (or per staged incident without one) in this batch; a staged incident
    # whose store or date disagrees with the first one of its crime key in the batch stays apart (MERGE_SUSPECT)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_free AS
      SELECT ikey, CASE WHEN crime_number_norm IS NOT NULL AND force_code IS NOT NULL
                        THEN crime_number_norm || '|' || force_code END AS ck
      FROM si WHERE ikey NOT IN (SELECT ikey FROM si_match)
    """)
    con.execute(f"""
      CREATE OR REPLACE TEMP TABLE si_bsus AS
      SELECT f.ikey, r.rep FROM si_free f
      JOIN (SELECT ck, min(ikey) AS rep FROM si_free WHERE ck IS NOT NULL GROUP BY ck) r ON r.ck = f.ck
      JOIN si a ON a.ikey = f.ikey JOIN si b ON b.ikey = r.rep
      WHERE f.ikey <> r.rep AND {_SUSPECT_SQL}
    """, merge)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_dkey AS
      SELECT ikey, CASE WHEN ck IS NULL OR ikey IN (SELECT ikey FROM si_bsus) THEN 'row:' || ikey ELSE ck END AS dkey
      FROM si_free
    """)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_new AS
      SELECT dkey, min(ikey) AS rep, nextval('incident_id_seq') AS incident_id FROM si_dkey GROUP BY dkey
    """)
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_map AS
      SELECT m.ikey, m.incident_id, m.how FROM si_match m
      UNION ALL
      SELECT d.ikey, n.incident_id, CASE WHEN n.rep = d.ikey THEN 'new' ELSE 'batch' END
      FROM si_dkey d JOIN si_new n ON n.dkey = d.dkey
    """)
    con.execute("""
      INSERT INTO incidents (incident_id, crime_number, crime_number_norm, force_code, store_id, occurred_at,
          offence_type, value_gbp, offenders_count, violence, detained, latitude, longitude, postcode,
          location_text, narrative, first_batch_id)
      SELECT n.incident_id, si.crime_number, si.crime_number_norm, si.force_code, si.store_id, si.occurred_at,
          si.offence_type, si.value_gbp, si.offenders_count, si.violence, si.detained, si.latitude, si.longitude,
          si.postcode, si.location_text, si.narrative, $batch
      FROM si_new n JOIN si ON si.ikey = n.rep
    """, {"batch": batch_id})


def _after_incidents(con, mapping: Mapping, batch_id: int, fast: bool, slow_reason: str | None,
                     against_store: bool) -> dict:
    """Stored incidents updated from their matches, provenance, mentions, evidence, tactics, flags, report."""
    if against_store:
        _update_matched_incidents(con, mapping)
    if fast:  # one staged incident per referral, every referral new: each (referral, incident) pair is new
        con.execute("""
          INSERT INTO referral_incidents (referral_id, incident_id, source_incident_ref)
          SELECT si.referral_id, m.incident_id, si.source_incident_ref FROM si JOIN si_map m ON m.ikey = si.ikey
        """)
    else:
        con.execute("""
          INSERT INTO referral_incidents (referral_id, incident_id, source_incident_ref)
          SELECT si.referral_id, m.incident_id, min(si.source_incident_ref)
          FROM si JOIN si_map m ON m.ikey = si.ikey
          GROUP BY 1, 2
          HAVING NOT EXISTS (SELECT 1 FROM referral_incidents x WHERE x.referral_id = si.referral_id
                             AND x.incident_id = m.incident_id)
        """)
    return _mentions_and_flags(con, mapping, batch_id, fast, slow_reason, against_store)


def _update_matched_incidents(con, mapping: Mapping) -> None:
    """A corrected version replaces its incident's details; another source only fills gaps."""
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_upd AS
      SELECT si.*, m.incident_id, EXISTS (SELECT 1 FROM referral_incidents ri JOIN referrals r USING (referral_id)
             WHERE ri.incident_id = m.incident_id AND r.source_name = $src AND r.source_ref = si.ref) AS is_correction
      FROM si JOIN si_map m ON m.ikey = si.ikey WHERE m.how IN ('crime', 'store_time')
    """, {"src": mapping.name})
    con.execute("""
      UPDATE incidents SET
        crime_number = CASE WHEN u.is_correction THEN coalesce(u.crime_number, i0.crime_number) ELSE coalesce(i0.crime_number, u.crime_number) END,
        store_id = CASE WHEN u.is_correction THEN coalesce(u.store_id, i0.store_id) ELSE coalesce(i0.store_id, u.store_id) END,
        occurred_at = CASE WHEN u.is_correction THEN coalesce(u.occurred_at, i0.occurred_at) ELSE coalesce(i0.occurred_at, u.occurred_at) END,
        value_gbp = CASE WHEN u.is_correction THEN coalesce(u.value_gbp, i0.value_gbp) ELSE coalesce(i0.value_gbp, u.value_gbp) END,
        offenders_count = CASE WHEN u.is_correction THEN coalesce(u.offenders_count, i0.offenders_count) ELSE greatest(i0.offenders_count, u.offenders_count) END,
        violence = CASE WHEN u.is_correction THEN coalesce(u.violence, i0.violence) ELSE (i0.violence OR u.violence) END,
        detained = CASE WHEN u.is_correction THEN coalesce(u.detained, i0.detained) ELSE (i0.detained OR u.detained) END,
        latitude = coalesce(i0.latitude, u.latitude), longitude = coalesce(i0.longitude, u.longitude),
        postcode = coalesce(i0.postcode, u.postcode), location_text = coalesce(i0.location_text, u.location_text),
        narrative = CASE WHEN u.is_correction THEN coalesce(u.narrative, i0.narrative) ELSE coalesce(i0.narrative, u.narrative) END
      FROM (SELECT * FROM si_upd QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY ikey DESC) = 1) u,
           (SELECT * FROM incidents WHERE incident_id IN (SELECT incident_id FROM si_upd)) i0
      WHERE incidents.incident_id = u.incident_id AND i0.incident_id = u.incident_id
    """)


def _mentions_and_flags(con, mapping: Mapping, batch_id: int, fast: bool, slow_reason: str | None,
                        against_store: bool) -> dict:
    # the row -> (referral, incident) lookup for mentions and flags
    con.execute("""
      CREATE OR REPLACE TEMP TABLE rowmap AS
      SELECT a._row, a.referral_id, m.incident_id, a.ikey FROM rowref a JOIN si_map m ON m.ikey = a.ikey
    """)
    # mrows: the validated rows with their referral and incident, as the mention builders read them
    con.execute("DROP VIEW IF EXISTS mrows")
    con.execute("CREATE TEMP VIEW mrows AS SELECT v.*, rm.referral_id, rm.incident_id, rm.ikey FROM v JOIN rowmap rm USING (_row)")
    _people(con, mapping)
    _vehicles(con, mapping)
    _evidence(con, mapping)
    _tactic_map(con, mapping)
    # (tmap's rows are distinct, and on the fast path each staged incident is its own referral's only one: the
    # rows are distinct without a DISTINCT over all of them)
    distinct = "" if fast else "DISTINCT"
    con.execute(f"""
      INSERT INTO incident_tactics (incident_id, tactic_code, raw_text, referral_id)
      SELECT {distinct} m.incident_id, t.tactic_code, t.token, si.referral_id
      FROM si JOIN si_map m ON m.ikey = si.ikey JOIN tmap t ON t.raw = si.tactics
    """)
    _flag_unknown_tactics(con)
    # dedup flags: merged although the crime numbers differ
    con.execute("""
      INSERT INTO mflags SELECT si.ikey, 'CRIME_NUMBER_DIFFERS', 'crime_number', si.crime_number || ' vs ' || i.crime_number
      FROM si JOIN si_map m ON m.ikey = si.ikey AND m.how = 'store_time' JOIN incidents i ON i.incident_id = m.incident_id
      WHERE i.crime_number_norm IS DISTINCT FROM si.crime_number_norm
    """)
    merge_suspects = _flag_merge_suspects(con)
    # validation flags: row warnings and mention warnings, with the referral and incident they belong to
    con.execute("""
      INSERT INTO validation_flags (flag_id, batch_id, referral_id, incident_id, row_number, rule_code, severity,
          field, message)
      SELECT $base + row_number() OVER (), $batch, rm.referral_id, rm.incident_id, w._row, w.code, 'warning', w.field,
             r.message || coalesce(' (' || w.value || ')', '')
      FROM (SELECT _row, u.code, u.field, u.value FROM (SELECT _row, unnest(issues) AS u FROM acc)
            UNION ALL SELECT _row, code, field, value FROM mflags) w
      JOIN rules_t r ON r.code = w.code
      JOIN rowmap rm ON rm._row = w._row
      WHERE r.severity = 'warning'
    """, {"batch": batch_id, "base": last_id(con, ("validation_flags", "flag_id"))})
    versions = ("(SELECT count(*) FROM gid), 0, 0" if fast else
                "(SELECT count(*) FROM grp WHERE status = 'new'), (SELECT count(*) FROM grp WHERE status = 'revised'),"
                " (SELECT count(*) FROM grp WHERE status = 'unchanged')")
    stats = con.execute(f"""
      SELECT {versions}, (SELECT count(*) FROM si_new),
             (SELECT count(*) FROM si JOIN si_map m USING (ikey) WHERE m.how <> 'new' AND EXISTS (
                SELECT 1 FROM referral_incidents ri JOIN referrals r USING (referral_id)
                WHERE ri.incident_id = m.incident_id AND NOT (r.source_name = $src AND r.source_ref = si.ref)))
    """, {"src": mapping.name}).fetchone()
    superseded = con.execute("""SELECT count(*) FROM referrals WHERE source_name = $src AND NOT is_current
        AND source_ref IN (SELECT ref FROM gid)""", {"src": mapping.name}).fetchone()[0]
    return {"referrals_new": stats[0], "referrals_revised": stats[1], "referrals_unchanged": stats[2],
            "referral_versions_superseded": superseded,
            "incidents_new": stats[3], "duplicates_merged": stats[4], "merge_suspects": merge_suspects,
            "load_path": "fast" if fast else "general", "load_path_reason": slow_reason,
            "dedup_against_store": against_store}


# a crime-number match that looks wrong (staged incident a, other incident b): another store, or too far apart
_SUSPECT_SQL = ("((a.store_id IS NOT NULL AND b.store_id IS NOT NULL AND a.store_id <> b.store_id) OR "
                "(a.occurred_at IS NOT NULL AND b.occurred_at IS NOT NULL AND "
                "abs(epoch(a.occurred_at) - epoch(b.occurred_at)) > $merge_s))")


def merge_window_seconds() -> float:
    """ingest.crime_number_merge_max_days as seconds: the most two reports of one crime number may differ in time."""
    given = config.get("ingest.crime_number_merge_max_days", 30)
    try:
        days = float(given)
    except (TypeError, ValueError):
        days = float("nan")
    if not days >= 0:  # (NaN too) the message shows the value as configured, not a stand-in
        from workbench.errors import ConfigError

        raise ConfigError(f"ingest.crime_number_merge_max_days must be a number of days, 0 or more (got {given!r})")
    return days * 86400.0


def _flag_merge_suspects(con) -> int:
    """MERGE_SUSPECT: staged incidents kept apart although their crime number matched (against the store or the
    first of the batch), flagged with the evidence and marked for review on the incident; returns how many."""
    con.execute("""
      CREATE OR REPLACE TEMP TABLE si_review AS
      WITH r AS (
        SELECT s.ikey, s.other_id, o.store_id AS other_store, o.occurred_at AS other_at FROM si_sus s
        JOIN incidents o ON o.incident_id = s.other_id
        UNION ALL
        SELECT b.ikey, mr.incident_id, rep.store_id, rep.occurred_at FROM si_bsus b
        JOIN si_map mr ON mr.ikey = b.rep JOIN si rep ON rep.ikey = b.rep)
      SELECT r.ikey, m.incident_id,
             'crime number ' || coalesce(si.crime_number, si.crime_number_norm) || ' (force ' || si.force_code
             || ') is on incident ' || r.other_id || ' at store ' || coalesce(r.other_store, 'unknown') || ' on '
             || coalesce(strftime(r.other_at, '%Y-%m-%d %H:%M'), 'an unknown date') || '; this report: store '
             || coalesce(si.store_id, 'unknown') || ' on '
             || coalesce(strftime(si.occurred_at, '%Y-%m-%d %H:%M'), 'an unknown date')
             || '; not merged, kept as incident ' || m.incident_id AS evidence
      FROM r JOIN si ON si.ikey = r.ikey JOIN si_map m ON m.ikey = r.ikey
    """)
    con.execute("INSERT INTO mflags SELECT ikey, 'MERGE_SUSPECT', 'crime_number', evidence FROM si_review")
    con.execute("""
      UPDATE incidents SET review_reason = 'MERGE_SUSPECT: ' || x.evidence
      FROM (SELECT incident_id, min(evidence) AS evidence FROM si_review GROUP BY incident_id) x
      WHERE incidents.incident_id = x.incident_id
    """)
    return con.execute("SELECT count(*) FROM si_review").fetchone()[0]


def _incident_key_sql(mapping: Mapping, referral: str) -> str:
    """The staged incident of a row (alias a): its own row, or for one-row-per-offender sources the first row of
    the referral's rows that share the incident reference (else crime number, time and store)."""
    if mapping.shape != "offender":
        return "a._row"
    return (f"min(a._row) OVER (PARTITION BY {referral}, coalesce(a.incident_ref, a.crime_number_norm "
            "|| '|' || coalesce(a.occurred_raw, '') || coalesce(a.store_ref, '')))")


def _flag_unknown_tactics(con) -> None:
    """TACTIC_UNKNOWN once per staged incident (the first row of an offender-shape incident)."""
    con.execute("""
      INSERT INTO mflags SELECT a._row, 'TACTIC_UNKNOWN', 'tactics', t.token
      FROM mrows a JOIN tmap t ON t.raw = a.tactics WHERE t.tactic_code = 'UNKNOWN' AND a._row = a.ikey
    """)


def predict_mention_flags(con, mapping: Mapping) -> None:
    """For a dry run: the mention flags the load would raise (dates of birth, registration marks, tactics), into
    mflags, built by the same code from the accepted rows (view acc) with no referral or incident yet."""
    con.execute("DROP VIEW IF EXISTS mrows")
    con.execute(f"CREATE TEMP VIEW mrows AS SELECT a.*, NULL::BIGINT AS referral_id, NULL::BIGINT AS incident_id, "
                f"{_incident_key_sql(mapping, group_key_sql('a.'))}"
                " AS ikey FROM acc a")
    _build_person_mentions(con, mapping)
    _build_vehicle_mentions(con, mapping)
    _tactic_map(con, mapping)
    _flag_unknown_tactics(con)


def _dob_sql(mapping: Mapping, col: str) -> str:
    return f"try_strptime({col}, $dob_formats)::DATE"


def _build_person_mentions(con, mapping: Mapping) -> None:
    """Temp table pm: one row per person named in view mrows, date of birth parsed (once, for mentions and flags)."""
    dob_formats = list(dict.fromkeys(list(mapping.date_formats) + ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]))
    con.execute("DROP TABLE IF EXISTS pm")
    if mapping.shape == "offender":
        pm_sql, params = ("""SELECT _row, referral_id, incident_id, occurred_ts,
            coalesce(lower(offender_role), 'offender') AS role, offender_name AS full_name, offender_dob AS dob_raw,
            offender_gender AS gender, offender_description AS description
            FROM mrows a
            WHERE offender_name IS NOT NULL OR offender_dob IS NOT NULL OR offender_description IS NOT NULL""", {})
    elif mapping.shape == "nested":
        k = mapping.nested_keys["offenders"]
        pm_sql, params = ("""SELECT _row, referral_id, incident_id, occurred_ts,
            coalesce(lower(json_extract_string(o, $kr)), 'offender') AS role,
            nullif(trim(json_extract_string(o, $kn)), '') AS full_name, nullif(trim(json_extract_string(o, $kd)), '') AS dob_raw,
            json_extract_string(o, $kg) AS gender, json_extract_string(o, $kdesc) AS description
            FROM (SELECT a._row, a.referral_id, a.incident_id, a.occurred_ts, unnest(json_extract(a.offenders, '$[*]')) AS o
                  FROM mrows a WHERE json_type(a.offenders) = 'ARRAY')""",
                          {"kr": "$." + k["role"], "kn": "$." + k["name"], "kd": "$." + k["dob"], "kg": "$." + k["gender"],
                     "kdesc": "$." + k["description"]})
    else:
        sep = mapping.multi_sep
        date_chars = set("".join(mapping.date_formats))
        if sep.strip() and set(sep.strip()) & date_chars:
            # the separator also occurs inside a date ("01/02/1990 / 03/04/1992"): read slot by slot, each a
            # whole date or any text without the shared characters, so an omitted DOB keeps its place
            dob_list = "regexp_extract_all(nullif(a.offender_dobs, '') || $sep, $dob_re, 1)"
            params = {"sep": sep, "dob_re": _dob_slots_regex(mapping.date_formats, sep)}
        else:
            dob_list = "string_split(a.offender_dobs, $sep)"
            params = {"sep": sep}
        pm_sql = f"""SELECT _row, referral_id, incident_id, occurred_ts, 'offender' AS role,
            nullif(trim(names[i]), '') AS full_name, nullif(trim(dobs[i]), '') AS dob_raw,
            nullif(trim(genders[i]), '') AS gender, NULL::VARCHAR AS description
            FROM (SELECT a._row, a.referral_id, a.incident_id, a.occurred_ts,
                    coalesce(string_split(a.offender_names, $sep), []) AS names,
                    coalesce({dob_list}, []) AS dobs,
                    coalesce(string_split(a.offender_genders, $sep), []) AS genders,
                    unnest(range(1, greatest(len(coalesce(string_split(a.offender_names, $sep), [])),
                                             len(coalesce({dob_list}, []))) + 1)) AS i
                  FROM mrows a
                  WHERE a.offender_names IS NOT NULL OR a.offender_dobs IS NOT NULL)"""
    # each date of birth is parsed once, here, for the mentions and for the DOB flags
    con.execute(f"CREATE TEMP TABLE pm AS SELECT *, {_dob_sql(mapping, 'dob_raw')} AS dob FROM ({pm_sql})",
                {**params, "dob_formats": dob_formats})
    con.execute("DROP TABLE IF EXISTS mflags")
    con.execute("CREATE TEMP TABLE mflags (_row BIGINT, code VARCHAR, field VARCHAR, value VARCHAR)")
    con.execute(f"""
      INSERT INTO mflags SELECT _row, CASE WHEN dob IS NULL THEN 'DOB_UNPARSEABLE' ELSE 'DOB_IMPLAUSIBLE' END,
          'offender_dob', dob_raw
      FROM pm WHERE dob_raw IS NOT NULL AND (dob IS NULL OR dob > coalesce(occurred_ts, now()::TIMESTAMP)
          OR dob < coalesce(occurred_ts, now()::TIMESTAMP) - INTERVAL 100 YEAR)
    """)


def _people(con, mapping: Mapping) -> None:
    _build_person_mentions(con, mapping)
    juvenile = int(config.get("priority.juvenile_age_below", 18))
    con.execute(f"""
      INSERT INTO person_mentions (mention_id, referral_id, incident_id, role, full_name, forename, surname, dob_raw,
          dob, gender, description, is_juvenile)
      SELECT $base + rowid + 1, referral_id, incident_id, role, full_name,
             CASE WHEN contains(full_name, ',') THEN nullif(trim(split_part(full_name, ',', 2)), '')
                  WHEN full_name LIKE '% %' THEN split_part(full_name, ' ', 1) END,
             CASE WHEN contains(full_name, ',') THEN trim(split_part(full_name, ',', 1))
                  WHEN full_name LIKE '% %' THEN regexp_extract(full_name, '(\\S+)\\s*$', 1) ELSE full_name END,
             dob_raw, dob, gender, description,
             CASE WHEN dob IS NOT NULL AND occurred_ts IS NOT NULL THEN dob + INTERVAL {juvenile} YEAR > occurred_ts END
      FROM pm WHERE full_name IS NOT NULL OR dob_raw IS NOT NULL
    """, {"base": last_id(con, *MENTION_IDS)})


def _build_vehicle_mentions(con, mapping: Mapping) -> bool:
    """Temp table vm: one row per registration mark in view mrows, normalised; flags its unusual formats."""
    con.execute("DROP TABLE IF EXISTS vm")
    parts = []
    params: dict = {}
    if mapping.shape == "nested" and "vehicles" in mapping.fields:
        k = mapping.nested_keys["vehicles"]
        parts.append("""SELECT a._row, a.referral_id, a.incident_id, json_extract_string(o, $kv) AS vrm_raw,
              json_extract_string(o, $km) AS make, json_extract_string(o, $kmo) AS model, json_extract_string(o, $kc) AS colour
            FROM (SELECT _row, referral_id, incident_id, unnest(json_extract(vehicles, '$[*]')) AS o FROM mrows
                  WHERE json_type(vehicles) = 'ARRAY') a""")
        params.update({"kv": "$." + k["vrm"], "km": "$." + k["make"], "kmo": "$." + k["model"], "kc": "$." + k["colour"]})
    if "vrm" in mapping.fields:
        parts.append("""SELECT a._row, a.referral_id, a.incident_id, trim(unnest(regexp_split_to_array(a.vrm, $vsep))) AS vrm_raw,
              a.vehicle_make AS make, NULL AS model, a.vehicle_colour AS colour
            FROM mrows a WHERE a.vrm IS NOT NULL""")
        params["vsep"] = "[;,/|+]|\\s{2,}"
    if not parts:
        return False
    con.execute("CREATE TEMP TABLE vm AS SELECT *, nullif(upper(regexp_replace(vrm_raw, '[^A-Za-z0-9?*_]', '', 'g')), '') "
                "AS vrm_norm FROM (" + " UNION ALL ".join(parts) + ") WHERE nullif(trim(vrm_raw), '') IS NOT NULL",
                params)
    con.execute(f"""
      INSERT INTO mflags SELECT _row, CASE fmt WHEN 'partial' THEN 'VRM_PARTIAL' ELSE 'VRM_UNRECOGNISED' END, 'vrm', vrm_raw
      FROM (SELECT _row, vrm_raw, {VRM_CLASS_SQL} AS fmt FROM vm) WHERE fmt IN ('partial', 'unknown')
    """)
    return True


def _vehicles(con, mapping: Mapping) -> None:
    if not _build_vehicle_mentions(con, mapping):
        return
    con.execute(f"""
      INSERT INTO vehicle_mentions (mention_id, referral_id, incident_id, vrm_raw, vrm_norm, vrm_format, make, model,
          colour)
      SELECT $base + row_number() OVER (), * FROM (
        SELECT referral_id, incident_id, any_value(vrm_raw), vrm_norm, any_value({VRM_CLASS_SQL}), any_value(make),
               any_value(model), any_value(colour)
        FROM vm GROUP BY referral_id, incident_id, vrm_norm)
    """, {"base": last_id(con, *MENTION_IDS)})


def _evidence(con, mapping: Mapping) -> None:
    fields = mapping.fields
    # the flat evidence columns in one pass over the rows: a list of (kind, reference) items per row, unnested
    items = []
    if "cctv" in fields:
        items.append("CASE WHEN a.cctv IS NOT NULL AND a.cctv_b IS DISTINCT FROM FALSE THEN "
                     "struct_pack(kind := 'CCTV', reference := CASE WHEN a.cctv_b IS NULL THEN a.cctv END) END")
    for column, kind in (("dems_ref", "DEMS"), ("still_ref", "STILL")):
        if column in fields:
            items.append(f"CASE WHEN a.{column} IS NOT NULL THEN struct_pack(kind := '{kind}', "
                         f"reference := a.{column}) END")  # constant column names and kinds
    parts = []
    if items:
        parts.append("SELECT referral_id, incident_id, e.kind, e.reference FROM (SELECT a.referral_id, a.incident_id, "
                     "unnest(list_filter([" + ", ".join(items) + "], lambda x: x IS NOT NULL)) AS e FROM mrows a)")
    params: dict = {}
    if "evidence" in fields:
        k = mapping.nested_keys["evidence"]
        parts.append("""SELECT a.referral_id, a.incident_id,
              CASE WHEN list_contains($kinds, upper(json_extract_string(o, $kk))) THEN upper(json_extract_string(o, $kk))
                   ELSE 'OTHER' END, json_extract_string(o, $kref)
            FROM (SELECT referral_id, incident_id, unnest(json_extract(evidence, '$[*]')) AS o FROM mrows
                  WHERE json_type(evidence) = 'ARRAY') a""")
        params = {"kinds": list(_EVIDENCE_KINDS), "kk": "$." + k["kind"], "kref": "$." + k["reference"]}
    if not parts:
        return
    distinct = "DISTINCT" if mapping.shape == "offender" else ""  # offender rows repeat the incident's evidence
    con.execute("INSERT INTO evidence_items (evidence_id, referral_id, incident_id, kind, reference) "
                f"SELECT $base + row_number() OVER (), * FROM (SELECT {distinct} * FROM ("
                + " UNION ALL ".join(parts) + "))", {**params, "base": last_id(con, ("evidence_items", "evidence_id"))})


def load_stores(con, mapping: Mapping, batch_id: int) -> dict:
    con.execute("""
      INSERT OR REPLACE INTO retailers (retailer_id, name, sector)
      SELECT upper(retailer_code), coalesce(arg_max(retailer_name, _row), upper(retailer_code)), arg_max(sector, _row)
      FROM acc GROUP BY upper(retailer_code)
    """)
    before = con.execute("SELECT count(*) FROM stores").fetchone()[0]
    con.execute("""
      INSERT OR REPLACE INTO stores (store_id, retailer_id, store_ref, name, address, town, postcode, latitude,
          longitude, force_code)
      SELECT store_id, upper(retailer_code), store_ref, store_name, address, town, postcode, lat_in, lon_in, force_code
      FROM acc QUALIFY row_number() OVER (PARTITION BY store_id ORDER BY _row DESC) = 1
    """)
    after = con.execute("SELECT count(*) FROM stores").fetchone()[0]
    _flag_rows(con, batch_id)
    return {"stores_new": after - before, "duplicates_merged": 0}


def load_recorded_crime(con, mapping: Mapping, batch_id: int) -> dict:
    before = con.execute("SELECT count(*) FROM recorded_crimes").fetchone()[0]
    con.execute("""
      INSERT INTO recorded_crimes (crime_key, crime_id, month, reported_by, falls_within, force_code, longitude,
          latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome, context, batch_id, source_row)
      SELECT coalesce(crime_id, md5(concat_ws(chr(31), month, reported_by, longitude, latitude, location, crime_type,
               last_outcome, context, $batch::VARCHAR, _row::VARCHAR))), crime_id, month_date, reported_by,
             falls_within, force_code, lon_in, lat_in, location, lsoa_code, lsoa_name, crime_type, last_outcome,
             context, $batch, _row
      FROM acc WHERE crime_id IS NULL OR crime_id NOT IN (SELECT crime_id FROM recorded_crimes WHERE crime_id IS NOT NULL)
      QUALIFY crime_id IS NULL OR row_number() OVER (PARTITION BY crime_id ORDER BY _row) = 1
    """, {"batch": batch_id})
    after = con.execute("SELECT count(*) FROM recorded_crimes").fetchone()[0]
    dupes = con.execute("SELECT count(*) FROM acc").fetchone()[0] - (after - before)
    _flag_rows(con, batch_id)
    return {"recorded_crimes_new": after - before, "duplicates_merged": dupes}


def _flag_rows(con, batch_id: int) -> None:
    con.execute("""
      INSERT INTO validation_flags (flag_id, batch_id, row_number, rule_code, severity, field, message)
      SELECT $base + row_number() OVER (), $batch, w._row, w.u.code, 'warning', w.u.field,
             r.message || coalesce(' (' || w.u.value || ')', '')
      FROM (SELECT _row, unnest(issues) AS u FROM acc) w JOIN rules_t r ON r.code = w.u.code
      WHERE r.severity = 'warning'
    """, {"batch": batch_id, "base": last_id(con, ("validation_flags", "flag_id"))})
