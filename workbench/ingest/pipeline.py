"""Ingest one file as one batch: detect, read, stage, validate, quarantine, load, audit; one transaction.

    report = ingest_file(store, path, source=None)    # source auto-detected from the header
    report = validate_file(store, path, source)       # the same checks and report, nothing written

Counts invariant, checked for every batch: rows_read == rows_accepted + rows_quarantined.
Re-ingesting a file whose content (SHA-256) was already committed for the same source is a no-op.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from workbench import config
from workbench.errors import WorkbenchError
from workbench.ingest import load as load_mod
from workbench.ingest import readers, validate
from workbench.ingest import rules as rules_mod
from workbench.ingest.mapping import Mapping, all_mappings, load_mapping
from workbench.ingest.readers import ReadError, ReadResult
from workbench.store import Store, os_user, utcnow

STORE_DIRECTORY_SOURCE = "store_directory"


class IngestError(WorkbenchError):
    """A file could not be ingested (nothing was written)."""


# -- source detection ---------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def detect_source(read: ReadResult, mappings: dict[str, Mapping] | None = None) -> Mapping:
    """The one mapping whose columns the header carries; a clear error listing candidates otherwise."""
    mappings = mappings if mappings is not None else all_mappings()
    header = {_norm(h) for h in read.headers}
    scored = []
    for mapping in mappings.values():
        wanted = {_norm(h) for h in mapping.columns}
        hit = len(wanted & header)
        scored.append((hit / len(wanted), hit, len(wanted), mapping))
    full = [s for s in scored if s[0] == 1.0]
    if len(full) == 1:
        return full[0][3]
    if len(full) > 1:
        best = max(s[2] for s in full)
        top = [s for s in full if s[2] == best]
        if len(top) == 1:
            return top[0][3]
        by_name = [s for s in top if s[3].matches_file_name(read.path.name)]
        if len(by_name) == 1:
            return by_name[0][3]
        names = ", ".join(s[3].name for s in top)
        raise IngestError(f"{read.path.name}: the header fits several sources ({names}); pass --source NAME")
    near = sorted((s for s in scored if s[0] >= 0.6), key=lambda s: -s[0])
    if len(near) == 1 and near[0][0] >= 0.75 and near[0][3].matches_file_name(read.path.name):
        return near[0][3]
    if near:
        listing = ", ".join(f"{s[3].name} ({s[1]}/{s[2]} columns)" for s in near[:5])
        raise IngestError(f"{read.path.name}: cannot tell which source this is; closest: {listing}; "
                          "pass --source NAME")
    raise IngestError(f"{read.path.name}: the header matches no known source (columns: "
                      f"{', '.join(read.headers[:8])}{', ...' if len(read.headers) > 8 else ''}); "
                      "add a mapping under workbench/sources/ or pass --source NAME")


def resolve_source(read: ReadResult, source: str | None) -> Mapping:
    return load_mapping(source) if source else detect_source(read)


# -- the batch -------------------------------------------------------------------------------------------
def _prepare_connection(store: Store) -> None:
    limit = config.get("ingest.memory_limit", "1500MB")
    store.con.execute("SET memory_limit = $m", {"m": str(limit)})
    store.con.execute("SET preserve_insertion_order = true")


def _prior_batch(store: Store, mapping: Mapping, sha: str):
    return store.con.execute(
        "SELECT batch_id FROM ingest_batches WHERE source_name = $s AND file_sha256 = $h AND status = 'committed' "
        "ORDER BY batch_id LIMIT 1", {"s": mapping.name, "h": sha}).fetchone()


def _group_key(mapping: Mapping) -> str:
    return load_mod.GROUP_KEY if mapping.kind == "referrals" else "_row"


def _counts(con) -> dict:
    read_ok, bad = con.execute("SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM raw_bad)").fetchone()
    errors, held = con.execute(
        "SELECT count(*) FILTER (WHERE has_error), count(*) FILTER (WHERE held_back) FROM vq").fetchone()
    return {"rows_read": read_ok + bad, "rows_malformed": bad, "rows_with_errors": errors, "rows_held_back": held}


def _rule_counts(con) -> tuple[dict, dict]:
    rows = con.execute("""
      SELECT r.severity, x.code, count(*) FROM (SELECT unnest(issue_codes) AS code FROM v) x
      JOIN rules_t r ON r.code = x.code GROUP BY ALL ORDER BY 1, 2""").fetchall()
    errors = {c: n for s, c, n in rows if s == "error"}
    warnings = {c: n for s, c, n in rows if s == "warning"}
    return errors, warnings


def _dry_run_warnings(con, mapping: Mapping) -> dict:
    """The warnings the ingest would store as flags: row warnings of the accepted rows and, for referrals, the
    mention flags (dates of birth, registration marks, tactics). Not predicted: CRIME_NUMBER_DIFFERS, which
    depends on deduplication against the store."""
    mention = ""
    if mapping.kind == "referrals":
        load_mod.predict_mention_flags(con, mapping)
        mention = "UNION ALL SELECT code FROM mflags"
    rows = con.execute(f"""
      SELECT w.code, count(*) FROM (SELECT unnest(issue_codes) AS code FROM acc {mention}) w
      JOIN rules_t r ON r.code = w.code WHERE r.severity = 'warning' GROUP BY 1 ORDER BY 1""").fetchall()
    return dict(rows)


def _split_accepted(con) -> None:
    """vq_out: the rows going to quarantine; vq_in: the accepted rows, numbered 1, 2, ... in file order (`_rn`, from
    which the load numbers one-row referrals without a window over the wide rows); view acc: the accepted rows."""
    con.execute("DROP VIEW IF EXISTS acc")
    con.execute("CREATE TEMP TABLE vq_out AS SELECT _row FROM vq WHERE has_error OR held_back")
    con.execute("CREATE TEMP TABLE vq_in AS SELECT _row, row_number() OVER (ORDER BY _row) AS _rn FROM vq "
                "WHERE NOT (has_error OR held_back)")
    con.execute("CREATE TEMP VIEW acc AS SELECT v.*, i._rn FROM v JOIN vq_in i ON i._row = v._row")


def _build_quarantine_rows(con, read: ReadResult) -> None:
    """Temp table qrows (_row, raw, reasons): the quarantine payload of every failing row, built before the
    load so that the wide raw table can be dropped (the load then runs without spilling it to disk)."""
    p = validate.Params()
    if read.is_json:
        raw_expr = "raw._json::JSON"
    else:
        pairs = ", ".join(f"{p.add(h)}, raw.c{i}" for i, h in enumerate(read.headers))
        raw_expr = f"json_object({pairs})"
    rules = rules_mod.rules()

    def lit(text: str) -> str:  # constant rule text from workbench/ingest/rules.py, never file content
        return "'" + text.replace("'", "''") + "'"

    severity = "CASE x.code " + " ".join(f"WHEN {lit(c)} THEN {lit(r.severity)}" for c, r in rules.items()) + " END"
    message = "CASE x.code " + " ".join(f"WHEN {lit(c)} THEN {lit(r.message)}" for c, r in rules.items()) + " END"
    errs = p.add(rules_mod.error_codes())
    incomplete = ("struct_pack(code := 'REFERRAL_INCOMPLETE', field := NULL::VARCHAR, value := NULL::VARCHAR)")
    reasons = (f"to_json(list_transform(list_concat(list_filter(v.issues, lambda x: list_contains({errs}, x.code)), "
               f"CASE WHEN q.held_back THEN [{incomplete}] ELSE [] END, "
               f"list_filter(v.issues, lambda x: NOT list_contains({errs}, x.code))), "
               f"lambda x: struct_pack(rule := x.code, severity := {severity}, field := x.field, value := x.value, "
               f"message := {message})))")
    sql = f"""
      CREATE TEMP TABLE qrows AS
      SELECT o._row, {raw_expr} AS raw, {reasons} AS reasons
      FROM vq_out o JOIN vq q ON q._row = o._row JOIN v ON v._row = o._row JOIN raw ON raw._row = o._row
    """
    con.execute("DROP TABLE IF EXISTS qrows")
    validate.execute_one(con, sql, p.bind(sql))


def _insert_quarantine(con, mapping: Mapping, batch_id: int, file_label: str, now) -> None:
    """Failing rows and malformed rows, numbered in the file's row order."""
    con.execute("""
      INSERT INTO quarantine (quarantine_id, batch_id, source_name, source_file, row_number, raw, reasons, status,
          created_at)
      WITH ids AS (  -- numbered on the row numbers alone: sorting the wide payload would cost more
        SELECT _row, $base + row_number() OVER (ORDER BY _row) AS qid
        FROM (SELECT _row FROM qrows UNION ALL SELECT _row FROM raw_bad))
      SELECT ids.qid, $b, $s, $f, q._row, q.raw, q.reasons, 'open', $t FROM (
        SELECT _row, raw, reasons FROM qrows
        UNION ALL
        SELECT _row, to_json({'_line': raw}), to_json([{'rule': 'ROW_MALFORMED', 'severity': 'error', 'field': NULL,
                                                        'value': NULL, 'message': message}])
        FROM raw_bad) q JOIN ids USING (_row)""",
                {"b": batch_id, "s": mapping.name, "f": file_label, "t": now, "base": _last_quarantine_id(con)})


def _last_quarantine_id(con) -> int:
    return load_mod.last_id(con, ("quarantine", "quarantine_id"))


def _resolve_quarantine(con, mapping: Mapping, batch_id: int, has_qid: bool) -> int:
    """Open quarantine entries of this batch's own source that it has corrected: by _quarantine_id column, or
    same referral ref. Another source's entries are never resolved (a foreign _quarantine_id is flagged
    QUARANTINE_ID_FOREIGN by validation and resolves nothing)."""
    before = con.execute("SELECT count(*) FROM quarantine WHERE status <> 'resolved'").fetchone()[0]
    if has_qid:
        con.execute("""UPDATE quarantine SET status = 'resolved', resolved_batch_id = $b
            WHERE status <> 'resolved' AND source_name = $s AND batch_id <> $b
              AND quarantine_id IN (SELECT _qid FROM acc WHERE _qid IS NOT NULL)""",
                    {"b": batch_id, "s": mapping.name})
    header = mapping.header_for("referral_ref") if mapping.kind == "referrals" else None
    if header:
        con.execute("""UPDATE quarantine SET status = 'resolved', resolved_batch_id = $b
            WHERE status <> 'resolved' AND source_name = $s AND batch_id <> $b
              AND json_extract_string(raw, $k) IN (SELECT referral_ref FROM acc WHERE referral_ref IS NOT NULL)""",
                    {"b": batch_id, "s": mapping.name, "k": validate.json_key_path(header)})
    after = con.execute("SELECT count(*) FROM quarantine WHERE status <> 'resolved'").fetchone()[0]
    return before - after


def ingest_file(store: Store, path: str | Path, source: str | None = None, dry_run: bool = False) -> dict:
    """Ingest (or with dry_run, only validate) one file; returns the batch report."""
    path = Path(path)
    started = time.perf_counter()
    file_label = path.name
    try:  # a file or mapping refused before the batch starts is a failed attempt too: audited
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        # the content hash is computed on another thread while DuckDB reads the file (hashlib releases the GIL)
        hasher = readers.BackgroundSha256(path)
        read = readers.read_header(path)
        mapping = resolve_source(read, source)
    except BaseException as exc:
        _audit_failure(store, file_label, None, source, exc, dry_run)
        raise
    report = {"file": str(path), "source": mapping.name, "kind": mapping.kind, "sha256": None, "bytes": None,
              "mapping": {"path": str(mapping.path.resolve()), "sha256": mapping.sha256},
              "format": read.file_format, "encoding": read.encoding, "delimiter": read.delimiter,
              "dry_run": dry_run}
    if store.read_only and not dry_run:
        raise IngestError(f"{store.path} is open read-only")
    now = utcnow()
    con = store.con
    _prepare_connection(store)
    in_transaction = False
    sha = None
    batch_id = None
    try:
        # Read, stage and validate into temp tables (connection-local; the store is not touched), so a
        # parser error can fall back to the row-by-row reader without aborting the store transaction.
        readers.load(con, read, mapping.sheet)
        sha, size = hasher.result()
        report.update({"sha256": sha, "bytes": size})
        prior = None if dry_run else _prior_batch(store, mapping, sha)
        if prior:  # the same content was committed before: nothing to do (the temp tables are dropped below)
            report.update({"status": "no-op", "batch_id": None, "same_as_batch": prior[0], "rows_read": 0,
                           "rows_accepted": 0, "rows_quarantined": 0, "duplicates_merged": 0,
                           "note": f"identical content already ingested in batch {prior[0]}"})
            store.audit("ingest", file_label, {"status": "no-op", "same_as_batch": prior[0], "sha256": sha,
                                              "source": mapping.name, "bytes": size})
            return report
        con.execute("SET preserve_insertion_order = false")  # rows carry _row from here on
        info = validate.stage(con, mapping, read)
        validate.rules_table(con)
        validate.VALIDATORS[mapping.kind](con, mapping, now, file_label, info.absent_fields,
                                          keep_values=not dry_run, has_qid=info.has_qid)
        validate.mark_quarantine(con, _group_key(mapping))
        counts = _counts(con)
        errors, warnings = _rule_counts(con)
        if counts["rows_malformed"]:
            errors["ROW_MALFORMED"] = counts["rows_malformed"]
        if counts["rows_held_back"]:
            errors["REFERRAL_INCOMPLETE"] = counts["rows_held_back"]
        quarantined = counts["rows_malformed"] + counts["rows_with_errors"] + counts["rows_held_back"]
        accepted = counts["rows_read"] - quarantined
        report.update({"engine": read.engine, "encoding": read.encoding, "rows_read": counts["rows_read"],
                       "rows_accepted": accepted, "rows_quarantined": quarantined, "errors_by_rule": errors,
                       "warnings_by_rule": warnings, "missing_columns": info.missing_columns,
                       "unmapped_columns": info.unmapped_columns, "notes": list(read.notes)})
        _split_accepted(con)
        if dry_run:
            report.update({"status": "dry-run", "batch_id": None, "duplicates_merged": None,
                           "warnings_by_rule": _dry_run_warnings(con, mapping)})
            store.audit("validate", file_label, _audit_details(report))
            return _finish(report, started)
        _build_quarantine_rows(con, read)
        readers.drop_raw(con)  # everything the load needs from it is in v and qrows
        # one transaction for every write of the batch: a failure or kill leaves the store as it was
        con.execute("BEGIN TRANSACTION")
        in_transaction = True
        batch_id = con.execute(
            "INSERT INTO ingest_batches (source_name, file_name, file_sha256, file_bytes, started_at, os_user, status,"
            " mapping_path, mapping_sha256, mapping_yaml)"
            " VALUES ($s, $f, $h, $b, $t, $u, 'committed', $mp, $mh, $my) RETURNING batch_id",
            {"s": mapping.name, "f": file_label, "h": sha, "b": size, "t": now, "u": os_user(),
             "mp": str(mapping.path.resolve()), "mh": mapping.sha256, "my": mapping.text}).fetchone()[0]
        # quarantine first, so that its temp copy is freed before the (memory-hungry) load
        _insert_quarantine(con, mapping, batch_id, file_label, now)
        con.execute("DROP TABLE qrows")
        con.execute("DROP TABLE vq")
        if mapping.kind == "referrals":
            loaded = load_mod.load_referrals(con, mapping, batch_id, now, read.notes)
        elif mapping.kind == "stores":
            loaded = load_mod.load_stores(con, mapping, batch_id)
        else:
            loaded = load_mod.load_recorded_crime(con, mapping, batch_id)
        loaded["quarantine_resolved"] = _resolve_quarantine(con, mapping, batch_id, info.has_qid)
        stored_q = con.execute("SELECT count(*) FROM quarantine WHERE batch_id = $b", {"b": batch_id}).fetchone()[0]
        if stored_q != quarantined or accepted + quarantined != counts["rows_read"]:
            raise IngestError(f"{file_label}: internal count check failed (read {counts['rows_read']}, accepted "
                              f"{accepted}, quarantined {quarantined}, stored in quarantine {stored_q}); "
                              "nothing was written")
        report.update(loaded)
        report["warnings_by_rule"] = dict(con.execute(
            "SELECT rule_code, count(*) FROM validation_flags WHERE batch_id = $b GROUP BY 1 ORDER BY 1",
            {"b": batch_id}).fetchall())
        report.update({"status": "committed", "batch_id": batch_id})
        _finish(report, started)
        con.execute(
            "UPDATE ingest_batches SET finished_at = $t, rows_read = $r, rows_accepted = $a, rows_quarantined = $q,"
            " duplicates_merged = $d, report = $rep WHERE batch_id = $b",
            {"t": utcnow(), "r": report["rows_read"], "a": accepted, "q": quarantined,
             "d": report.get("duplicates_merged", 0), "rep": _json(report), "b": batch_id})
        store.audit("ingest", file_label, _audit_details(report))
        if report["rows_quarantined"]:
            store.audit("quarantine", file_label, {"batch_id": batch_id, "rows": report["rows_quarantined"],
                                                   "errors_by_rule": errors})
        con.execute("COMMIT")
        in_transaction = False
        if mapping.kind == "referrals":  # alerts for the batch's new mentions; a failure never undoes the batch
            from workbench.linkage.alerts import after_ingest

            report["alerts"] = after_ingest(store, batch_id)
        return report
    except BaseException as exc:
        sha = sha or hasher.result(default=(None, None))[0]
        if in_transaction:
            try:
                con.execute("ROLLBACK")  # fails harmlessly when the COMMIT itself went through
            except duckdb.Error:
                pass
        if batch_id is not None and _batch_committed(con, batch_id):
            # interrupted after the COMMIT took effect (e.g. Ctrl-C right after it): the batch is in the store
            # with its `ingest` audit row, written in the same transaction; it must never be logged as failed
            report.update({"status": "committed", "batch_id": batch_id})
            raise
        if isinstance(exc, duckdb.Error):
            _audit_failure(store, file_label, sha, mapping.name, exc, dry_run)
            raise IngestError(f"{file_label}: ingest failed and nothing was written "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
        _audit_failure(store, file_label, sha, mapping.name, exc, dry_run)
        raise
    finally:
        _drop_temp(con)
        try:
            con.execute("SET preserve_insertion_order = true")
        except duckdb.Error:
            pass


_TEMP_TABLES = ("vq_out", "vq_in", "qrows", "raw", "raw_bad", "stg", "vmap", "fmap", "smap", "pcmap", "lmatch", "vq",
                "rules_t", "grp", "gid", "rowref", "si", "si_match", "si_new", "si_map", "si_upd", "rowmap", "pm",
                "vm", "mflags", "tmap", "si_cand", "si_sus", "si_free", "si_bsus", "si_dkey", "si_review")


def _drop_temp(con) -> None:
    for view in ("mrows", "arow", "acc", "b2", "stg", "stg0"):
        try:
            con.execute(f"DROP VIEW IF EXISTS {view}")  # constant names
        except duckdb.Error:
            pass
    for drop in (validate.drop_v, readers.drop_raw):
        try:
            drop(con)
        except duckdb.Error:
            pass
    for name in _TEMP_TABLES:
        try:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")  # constant names from the list above
        except duckdb.Error:
            pass


def _batch_committed(con, batch_id: int) -> bool:
    """Whether the batch row is in the store (after a ROLLBACK: only if its transaction had committed)."""
    try:
        return con.execute("SELECT count(*) FROM ingest_batches WHERE batch_id = $b",
                           {"b": batch_id}).fetchone()[0] > 0
    except duckdb.Error:
        return False


def _audit_failure(store: Store, file_label: str, sha: str | None, source: str | None, exc: BaseException,
                   dry_run: bool = False) -> None:
    """Audit a failed or interrupted attempt (nothing of it was written); never masks the original error."""
    action = "ingest-interrupted" if isinstance(exc, KeyboardInterrupt) else "ingest-failed"
    first = str(exc).splitlines()[0] if str(exc) else ""
    try:
        store.audit(action, file_label, {"sha256": sha, "source": source, "dry_run": dry_run,
                                         "error": f"{type(exc).__name__}: {first}"})
    except Exception:  # the store may itself be what failed (closed, locked, read-only): keep the real error
        pass


def _json(report: dict) -> str:
    import json

    return json.dumps(report, default=str, sort_keys=True)


def _finish(report: dict, started: float) -> dict:
    seconds = time.perf_counter() - started
    report["seconds"] = round(seconds, 3)
    report["mb_per_s"] = round(report["bytes"] / 1e6 / seconds, 1) if seconds > 0 else None
    return report


def _audit_details(report: dict) -> dict:
    keys = ("batch_id", "status", "source", "mapping", "sha256", "bytes", "rows_read", "rows_accepted", "rows_quarantined",
            "duplicates_merged", "errors_by_rule", "warnings_by_rule")
    return {k: report.get(k) for k in keys}


def validate_file(store: Store, path: str | Path, source: str | None = None) -> dict:
    return ingest_file(store, path, source=source, dry_run=True)


@dataclass
class Validated:
    """What `validated` yields: the connection holding the temp tables, and what was read with which mapping."""
    con: duckdb.DuckDBPyConnection
    path: Path
    read: ReadResult
    mapping: Mapping
    info: validate.StageInfo
    now: object


@contextmanager
def validated(store: Store, path: str | Path, source: str | None = None):
    """Read, stage and validate one file exactly as `ingest_file` does, in connection-local temp tables, writing
    nothing to the store (no batch, no audit row; a read-only store will do), and yield a `Validated` while they
    exist: view v (every canonical field, the parsed values and `issues`, with values, per row), vq (has_error,
    held_back per row), raw (the cells as read: c0, c1, ... or _json) and raw_bad (malformed rows); for referrals
    also mflags (the mention flags the load would raise for the rows it would accept, view acc). Everything is
    dropped on exit. Used by the referral-readiness check (workbench.readiness) to show the rules row by row."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    read = readers.read_header(path)
    mapping = resolve_source(read, source)
    now = utcnow()
    con = store.con
    _prepare_connection(store)
    try:
        try:
            readers.load(con, read, mapping.sheet)
            con.execute("SET preserve_insertion_order = false")
            info = validate.stage(con, mapping, read)
            validate.rules_table(con)
            validate.VALIDATORS[mapping.kind](con, mapping, now, path.name, info.absent_fields, keep_values=True,
                                              has_qid=info.has_qid)
            validate.mark_quarantine(con, _group_key(mapping))
            _split_accepted(con)
            if mapping.kind == "referrals":
                load_mod.predict_mention_flags(con, mapping)
        except duckdb.Error as exc:
            raise IngestError(f"{path.name}: cannot be checked ({type(exc).__name__}: "
                              f"{(str(exc).splitlines() or [''])[0]})") from None
        yield Validated(con, path, read, mapping, info, now)
    finally:
        _drop_temp(con)
        try:
            con.execute("SET preserve_insertion_order = true")
        except duckdb.Error:
            pass


def expand_paths(paths) -> list[Path]:
    """Files named, and the files of directories named, store directories first (stores before referrals)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        else:
            files.append(p)
    return sorted(files, key=lambda f: (0 if f.name.startswith("store_directory") else 1, str(f)))


def ingest_paths(store: Store, paths, source: str | None = None, dry_run: bool = False,
                 keep_going: bool = True) -> list[dict]:
    """Ingest several files (directories expanded); a file that fails is reported and the rest go on."""
    reports = []
    for f in expand_paths(paths):
        try:
            reports.append(ingest_file(store, f, source=source, dry_run=dry_run))
        except WorkbenchError as exc:
            if not keep_going:
                raise
            reports.append({"file": str(f), "status": "failed", "error": str(exc)})
    return reports


__all__ = ["ingest_file", "validate_file", "validated", "Validated", "ingest_paths", "detect_source", "expand_paths", "IngestError",
           "ReadError"]
