"""The DuckDB store: one database file, schema migrations applied on open, audit log.

Every capability reads and writes through a Store so that the file location, migrations,
reference data and auditing are handled once.

Several people at once (docs/architecture.md, "Sharing a store"): DuckDB lets many processes read a file
together but only one write it, and a writer excludes readers. `open_store` waits, bounded by
`store.lock_wait_seconds` (env WORKBENCH_LOCK_WAIT), for a lock another process holds, saying which
process it is; notebooks open read-only and switch to a write connection only while they write
(`Store.writing()`).

Damage: `open_store` refuses a file DuckDB cannot open, one shorter than its own block count says
(a truncated copy) or one whose tables cannot be counted; `Store.check_readable()` reads every row
of every table (block checksums catch flipped bytes), as `db info` and `summary` do.

Audit: every row of audit_log is hash-chained (`Store.audit`, `verify_audit`; docs/data-model.md).
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd

from workbench import config, queries, reference
from workbench.errors import ConfigError, DamagedStoreError, StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# DuckDB's lock error: 'Could not set lock on file "...": Conflicting lock is held in /usr/bin/python3 (PID 123)'
_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")
# what DuckDB says when a file's bytes are not what it wrote (checksums, short reads, a bad header)
_DAMAGE_MARKERS = ("corrupt database file", "could not read enough bytes",
                   "checksum", "serialization error", "failed to deserialize", "invalid block",
                   "unexpected end of file")
# (a file that is not a DuckDB database at all is "cannot open", not "damaged": it may be the wrong file)
FILE_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers precede the blocks

GENESIS_HASH = "0" * 64  # prev_hash of the first audit row
_CHAIN_MIGRATION = 5      # the migration that added the chain; rows before it are chained by Python


def os_user() -> str:
    """The account running this process, from the process's own uid (LOGNAME and USER can be set to anything)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry for the uid in some containers
        return f"uid-{uid}"


def utcnow() -> datetime:
    """Naive UTC timestamp, the convention for every TIMESTAMP column in the store."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_RE.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return found


def latest_version() -> int:
    return migrations()[-1][0]


# -- the audit chain ---------------------------------------------------------------------------------
AUDIT_CHAIN_COLUMNS = ("seq", "audit_id", "logged_at", "os_user", "action", "object", "details")


# Details keys holding an analyst's free text (a reason can name a person): the audit chain is append-only and
# outlives a MoPI disposal, so it keeps only the text's sha256 (`why` -> `why_sha256`); the text itself lives in the
# capability's own table, where disposal can reach it.
FREE_TEXT_DETAILS = ("why", "reason", "note", "text")


def audit_details_text(details: dict | None) -> str:
    """The canonical JSON stored as an audit row's details, free text replaced by its hash."""
    safe = {}
    for key, value in (details or {}).items():
        if key in FREE_TEXT_DETAILS and value is not None:
            safe[f"{key}_sha256"] = hashlib.sha256(str(value).encode("utf-8")).hexdigest()
        else:
            safe[key] = value
    return json.dumps(safe, default=str, sort_keys=True)


def audit_row_hash(prev_hash: str, seq: int, audit_id: int, logged_at: datetime, user: str, action: str,
                   obj: str | None, details: str | None) -> str:
    """sha256 of the previous row's hash, a newline and the canonical JSON of this row's fields.

    Canonical: a JSON array in AUDIT_CHAIN_COLUMNS order, the timestamp as ISO text to the microsecond,
    details as the exact JSON text stored, no spaces, non-ASCII kept as UTF-8."""
    stamp = logged_at.isoformat(sep=" ", timespec="microseconds") if logged_at is not None else None
    canonical = json.dumps([int(seq), int(audit_id), stamp, user, action, obj, details],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode("utf-8")).hexdigest()


def _chain_existing_audit_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 5's Python step: chain the rows already in the log, in audit_id order, and write the head."""
    rows = con.execute("SELECT audit_id, logged_at, os_user, action, object, details FROM audit_log "
                       "ORDER BY audit_id").fetchall()
    prev, chained = GENESIS_HASH, []
    for seq, (audit_id, logged_at, user, action, obj, details) in enumerate(rows, start=1):
        row_hash = audit_row_hash(prev, seq, audit_id, logged_at, user, action, obj, details)
        chained.append((audit_id, seq, prev, row_hash))
        prev = row_hash
    if chained:
        frame = pd.DataFrame(chained, columns=["audit_id", "seq", "prev_hash", "row_hash"])
        con.register("_audit_chain", frame)
        con.execute("UPDATE audit_log SET seq = c.seq, prev_hash = c.prev_hash, row_hash = c.row_hash "
                    "FROM _audit_chain c WHERE audit_log.audit_id = c.audit_id")
        con.unregister("_audit_chain")
    con.execute("DELETE FROM audit_head")
    con.execute("INSERT INTO audit_head VALUES ($s, $h, $t)", {"s": len(chained), "h": prev, "t": utcnow()})


_POST_MIGRATION_STEPS = {_CHAIN_MIGRATION: _chain_existing_audit_rows}


def verify_audit(con: duckdb.DuckDBPyConnection, anchor: str | None = None) -> dict:
    """Recompute the audit chain. Returns {ok, rows, head_seq, head_hash, problem}: problem names the first
    bad row (edited, deleted, inserted or out of place) or a log whose end no longer matches its head.

    With `anchor` (a head hash recorded earlier, e.g. printed by `workbench audit verify`), also checks
    that the chain still passes through it, which a rewrite of the whole log inside the file cannot fake."""
    rows = con.execute("SELECT seq, audit_id, logged_at, os_user, action, object, details, prev_hash, row_hash "
                       "FROM audit_log ORDER BY seq NULLS FIRST, audit_id").fetchall()
    head = con.execute("SELECT seq, row_hash FROM audit_head").fetchall()
    result = {"ok": False, "rows": len(rows), "head_seq": None, "head_hash": None, "problem": None}

    def fail(message: str) -> dict:
        result["problem"] = message
        return result

    def name(row) -> str:
        return f"audit row seq {row[0]} (audit_id {row[1]}, {row[4]} at {row[2]})"

    unchained = [r for r in rows if r[0] is None or r[8] is None]
    if unchained:
        r = unchained[0]
        return fail(f"audit_id {r[1]} ({r[4]} at {r[2]}) is not part of the chain: a row added outside the workbench")
    prev, expected, seen_anchor = GENESIS_HASH, 1, anchor is None
    for row in rows:
        seq, prev_hash, row_hash = row[0], row[7], row[8]
        if seq > expected:
            missing = f"seq {expected}" if seq == expected + 1 else f"seqs {expected} to {seq - 1}"
            return fail(f"{name(row)}: {missing} before it missing (rows deleted)")
        if seq < expected:
            return fail(f"{name(row)}: seq {seq} appears twice (a row inserted)")
        if prev_hash != prev:
            return fail(f"{name(row)}: does not follow from the row before it (that row was changed, or a row "
                        "between them deleted or inserted)")
        if audit_row_hash(prev_hash, *row[:7]) != row_hash:
            return fail(f"{name(row)}: changed after it was written (its hash does not match its contents)")
        seen_anchor = seen_anchor or row_hash == anchor
        prev, expected = row_hash, expected + 1
    last_seq = expected - 1
    if len(head) != 1:
        return fail(f"the audit head (last seq and hash) has {len(head)} rows, not 1: it was tampered with")
    head_seq, head_hash = head[0]
    if head_seq > last_seq:
        return fail(f"the log ends at seq {last_seq} but its head records seq {head_seq}: rows deleted from the end")
    if (head_seq, head_hash) != (last_seq, prev):
        return fail(f"the log ends at seq {last_seq} but its head records seq {head_seq} with another hash: "
                    "the log or its head was changed")
    if not seen_anchor:
        return fail(f"the recorded head {anchor} is not in the chain: the log was rewritten or cut back since it "
                    "was recorded")
    result.update({"ok": True, "head_seq": last_seq, "head_hash": prev})
    return result


# -- opening: locks and damage -------------------------------------------------------------------------
def lock_wait_seconds() -> float:
    """How long to wait for another process's lock: WORKBENCH_LOCK_WAIT, else store.lock_wait_seconds."""
    raw = os.environ.get("WORKBENCH_LOCK_WAIT")
    where = "WORKBENCH_LOCK_WAIT"
    if raw is None or raw == "":
        raw, where = config.get("store.lock_wait_seconds", 30), "store.lock_wait_seconds"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number of seconds, not {raw!r}") from None
    if value < 0 or value != value:
        raise ConfigError(f"{where} must be zero or more seconds, not {raw!r}")
    return value


def describe_process(pid: int, exe: str | None = None) -> str:
    """'python3 workbench ingest ...' for a PID: its command line via psutil, else the executable DuckDB named."""
    try:
        import psutil

        proc = psutil.Process(pid)
        cmdline = " ".join(proc.cmdline()) or proc.name()
    except Exception:  # gone, not ours to inspect, or psutil missing
        cmdline = exe or "unknown process"
    cmdline = " ".join(cmdline.split())
    return cmdline if len(cmdline) <= 160 else cmdline[:157] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _looks_damaged(message: str) -> bool:
    low = message.lower()
    return any(marker in low for marker in _DAMAGE_MARKERS)


def damage_message(exc: BaseException) -> str | None:
    """For a DuckDB error met while reading a store: "the database is damaged: ..." if it says a block is bad."""
    if isinstance(exc, duckdb.Error) and _looks_damaged(str(exc)):
        return f"the database is damaged: {_first_line(exc)}; restore it from a backup or rebuild it"
    return None


def _damaged(db_path: Path, what: str) -> DamagedStoreError:
    return DamagedStoreError(f"database {db_path} is damaged: {what}; restore it from a backup or rebuild it "
                             "(`make demo`, or `workbench sample` then `workbench ingest`)")


def _connect(db_path: Path, read_only: bool, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting (bounded) while another process holds a conflicting lock on the file."""
    wait = lock_wait_seconds() if wait is None else wait
    deadline, announced = None, set()
    while True:
        try:
            return duckdb.connect(str(db_path), read_only=read_only)
        except duckdb.Error as exc:
            message = str(exc)
            match = _LOCK_RE.search(message)
            if match is None:
                if "different configuration" in message:
                    raise StoreError(f"database {db_path} is already open in this process in the other mode "
                                     "(read-only or read-write): close that store first, or use store.writing()"
                                     ) from None
                if _looks_damaged(message):
                    raise _damaged(db_path, _first_line(exc)) from None
                raise StoreError(f"cannot open database {db_path}: {_first_line(exc)}") from None
            pid = int(match.group("pid"))
            holder = describe_process(pid, match.group("exe"))
            now = time.monotonic()
            deadline = now + wait if deadline is None else deadline
            if now >= deadline:
                mode = "read" if read_only else "write"
                raise StoreError(f"database {db_path} is in use by PID {pid} ({holder}); gave up waiting to {mode} "
                                 f"after {wait:g} s (set WORKBENCH_LOCK_WAIT or store.lock_wait_seconds to wait "
                                 "longer, or close the store in that process)") from None
            if pid not in announced:
                announced.add(pid)
                print(f"waiting for {db_path}: held by PID {pid} ({holder})", file=sys.stderr, flush=True)
            time.sleep(min(0.2, max(deadline - now, 0.01)))
        except OSError as exc:
            raise StoreError(f"cannot open database {db_path}: {exc.strerror or exc}") from None


class Store:
    """An open workbench database. Use `open_store()` rather than constructing directly."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, read_only: bool):
        self.path = path
        self.con = con
        self.read_only = read_only

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def writing(self, wait: float | None = None) -> Iterator["Store"]:
        """A write connection for the duration of the block, then read-only again (a no-op on a store opened
        read-write). Notebooks hold the store read-only, so that others can read and write it between
        their writes; inside the block other processes wait for this one (and it for them)."""
        if not self.read_only:
            yield self
            return
        self.con.close()
        try:
            self.con = _connect(self.path, read_only=False, wait=wait)
        except BaseException:
            self.con = _connect(self.path, read_only=True, wait=wait)
            raise
        self.read_only = False
        try:
            yield self
        finally:
            self.con.close()
            self.read_only = True
            self.con = _connect(self.path, read_only=True, wait=wait)

    # -- damage ----------------------------------------------------------------------
    def _tables(self) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary "
            "ORDER BY table_name").fetchall()]

    def _damaged(self, what: str) -> DamagedStoreError:
        return _damaged(self.path, what)

    def check_intact(self) -> None:
        """Cheap checks made on every open: the file is as long as DuckDB's own block count says, and every
        table's rows can be counted. Raises DamagedStoreError."""
        try:
            size_row = self.con.execute("PRAGMA database_size").fetchone()
            block_size = int(size_row[2])
            # the highest block any table's data sits in must lie inside the file (free blocks past the end
            # may have been truncated away by DuckDB itself, so the total block count is no measure)
            highest = -1
            for table in self._tables():  # names from the catalog
                self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                row = self.con.execute(
                    "SELECT max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) "
                    "FROM pragma_storage_info($t) WHERE persistent", {"t": table}).fetchone()
                highest = max(highest, -1 if row[0] is None else int(row[0]))
            if highest >= 0 and self.path.exists():
                expected = FILE_HEADER_BYTES + (highest + 1) * block_size
                actual = self.path.stat().st_size
                if actual < expected:
                    raise self._damaged(f"the file is {actual:,} bytes but holds data in block {highest}, which "
                                        f"needs {expected:,} (a truncated copy?)")
        except DamagedStoreError:
            raise
        except duckdb.Error as exc:
            raise self._damaged(_first_line(exc)) from None

    def check_readable(self) -> dict:
        """Read every row of every table (DuckDB verifies each block's checksum as it reads it), as `db info`
        and `summary` do before reporting. Returns {tables, rows}; raises DamagedStoreError."""
        self.check_intact()
        rows = 0
        tables = self._tables()
        try:
            for table in tables:
                rows += self.con.execute(f'SELECT count(*), sum(hash(t)) FROM "{table}" t').fetchone()[0]
        except duckdb.Error as exc:
            raise self._damaged(f"reading table {table}: {_first_line(exc)}") from None
        return {"tables": len(tables), "rows": rows}

    # -- schema --------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        return self.con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to `target` (default: latest), each in its own transaction."""
        target = latest_version() if target is None else target
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL)"
        )
        current = self.schema_version()
        if current > latest_version():
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this workbench "
                f"understands ({latest_version()}); upgrade the workbench"
            )
        applied = []
        for version, name, path in migrations():
            if version <= current or version > target:
                continue
            sql = path.read_text(encoding="utf-8")
            try:
                self.con.execute("BEGIN TRANSACTION")
                self.con.execute(sql)
                if version in _POST_MIGRATION_STEPS:
                    _POST_MIGRATION_STEPS[version](self.con)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES ($v, $n, $c, $t)",
                    {"v": version, "n": name, "c": hashlib.sha256(sql.encode()).hexdigest(), "t": utcnow()},
                )
                self.con.execute("COMMIT")
            except duckdb.Error as exc:
                self.con.execute("ROLLBACK")
                raise StoreError(f"migration {path.name} failed on {self.path}: {exc}") from None
            applied.append(version)
        if applied:
            self.audit("migrate", str(self.path), {"from": current, "to": applied[-1]})
        return applied

    # -- reference data ---------------------------------------------------------------
    def load_reference(self) -> None:
        """(Re)load forces and tactics when the shipped reference files changed."""
        self._load_reference_table(
            "forces",
            reference.FORCES_FILE,
            {
                "forces": reference.forces()[["force_code", "ons_code", "name", "country", "territorial"]],
                "force_aliases": pd.DataFrame(
                    sorted(reference.force_aliases().items()), columns=["alias_norm", "force_code"]
                ),
            },
        )
        self._load_reference_table(
            "tactics",
            reference.TACTICS_FILE,
            {
                "tactics": reference.tactics(),
                "tactic_synonyms": pd.DataFrame(
                    sorted(reference.tactic_synonyms().items()), columns=["synonym_norm", "tactic_code"]
                ),
            },
        )

    def _load_reference_table(self, name: str, source: Path, frames: dict[str, pd.DataFrame]) -> None:
        digest = reference.content_hash(source)
        stored = self.con.execute(
            "SELECT content_hash FROM reference_meta WHERE name = $n", {"n": name}
        ).fetchone()
        if stored and stored[0] == digest:
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table, frame in frames.items():
                self.con.execute(f"DELETE FROM {table}")  # table names are constants above
                self.con.register("_ref_frame", frame)
                cols = ", ".join(frame.columns)
                self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ref_frame")
                self.con.unregister("_ref_frame")
            self.con.execute(
                "INSERT OR REPLACE INTO reference_meta VALUES ($n, $h, $t)",
                {"n": name, "h": digest, "t": utcnow()},
            )
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    # -- queries and audit ----------------------------------------------------------------
    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run the named query from queries/ with named parameters and return a DataFrame."""
        q = queries.load(name)
        return self.con.execute(q.sql, q.bind(params)).df()

    def sql(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """Run a constant SQL string from library code (never user text) with bound parameters."""
        return self.con.execute(sql, params or {}).df()

    def _in_transaction(self) -> bool:
        """True inside an explicit BEGIN ... COMMIT (autocommit gives each statement a new transaction id)."""
        first = self.con.execute("SELECT txid_current()").fetchone()[0]
        return self.con.execute("SELECT txid_current()").fetchone()[0] == first

    def audit(self, action: str, obj: str | None, details: dict | None = None) -> None:
        """Append a hash-chained row to audit_log, in the caller's transaction if one is open, else in its own.

        On a store opened read-only this records nothing (reading is not audited); a caller that must
        record what it did uses `audit_required`."""
        if self.read_only:
            return
        if self.schema_version() < _CHAIN_MIGRATION:  # only while migrating an old store up to version 5
            self.con.execute("INSERT INTO audit_log (logged_at, os_user, action, object, details) "
                             "VALUES ($t, $u, $a, $o, $d)", {"t": utcnow(), "u": os_user(), "a": action, "o": obj,
                                                              "d": audit_details_text(details)})
            return
        own = not self._in_transaction()
        if own:
            self.con.execute("BEGIN TRANSACTION")
        try:
            head = self.con.execute("SELECT seq, row_hash FROM audit_head").fetchone()
            if head is None:  # the head row was removed: chain on from the log itself (verify reports it)
                head = self.con.execute("SELECT seq, row_hash FROM audit_log WHERE seq IS NOT NULL "
                                        "ORDER BY seq DESC LIMIT 1").fetchone() or (0, GENESIS_HASH)
            seq, prev = int(head[0]) + 1, head[1]
            audit_id = self.con.execute("SELECT nextval('audit_id_seq')").fetchone()[0]
            logged_at, user = utcnow(), os_user()
            details_text = audit_details_text(details)
            row_hash = audit_row_hash(prev, seq, audit_id, logged_at, user, action, obj, details_text)
            self.con.execute(
                "INSERT INTO audit_log (audit_id, logged_at, os_user, action, object, details, seq, prev_hash, "
                "row_hash) VALUES ($i, $t, $u, $a, $o, $d, $s, $p, $h)",
                {"i": audit_id, "t": logged_at, "u": user, "a": action, "o": obj, "d": details_text, "s": seq,
                 "p": prev, "h": row_hash},
            )
            self.con.execute("UPDATE audit_head SET seq = $s, row_hash = $h, updated_at = $t",
                             {"s": seq, "h": row_hash, "t": logged_at})
            if own:
                self.con.execute("COMMIT")
        except BaseException:
            if own:
                try:
                    self.con.execute("ROLLBACK")
                except duckdb.Error:
                    pass
            raise

    def audit_required(self, action: str, obj: str | None, details: dict | None = None,
                       wait: float | None = None) -> None:
        """Record an audit row or raise StoreError: on a read-only store, through a brief write connection
        (`writing()`), waiting like any writer for a lock another process holds."""
        try:
            with self.writing(wait=wait):
                self.audit(action, obj, details)
        except duckdb.Error as exc:
            raise StoreError(f"could not record {action} of {obj} in the audit log of {self.path}: "
                             f"{_first_line(exc)}") from None

    def table_counts(self) -> pd.DataFrame:
        return self.query("table_row_counts")


def open_store(path: str | Path | None = None, read_only: bool = False, migrate: bool = True,
               prepare: bool = False, wait: float | None = None) -> Store:
    """Open (creating if needed) the workbench database and bring its schema up to date.

    read_only: share the file with other readers (no writes, no migration). prepare (with read_only): a missing
    or out-of-date store is first created or migrated through a brief write connection, as notebooks need.
    wait: seconds to wait for another process's lock (default lock_wait_seconds()). A damaged file raises
    DamagedStoreError ("database X is damaged: ...")."""
    db_path = Path(path) if path else config.default_db_path()
    if read_only and prepare:
        if not db_path.exists():
            open_store(db_path, wait=wait).close()
        else:
            with open_store(db_path, read_only=True, wait=wait) as probe:
                stale = probe.schema_version() < latest_version()
            if stale:
                open_store(db_path, wait=wait).close()
    if read_only and not db_path.exists():
        raise StoreError(f"database {db_path} does not exist; build one with `make demo`, or `workbench sample` "
                         "then `workbench ingest`")
    existed = db_path.exists()
    if not existed and config.training_store() is not None:  # refused before a real store file is created
        raise StoreError(f"training mode: {db_path} is not a training store (this process opened training store "
                         f"{config.training_store()}; start a new session to open real data)")
    if existed and db_path.is_file() and db_path.stat().st_size == 0:
        raise _damaged(db_path, "the file is empty (0 bytes)")
    if not read_only:
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for database {db_path}: {exc.strerror or exc}") from None
    con = _connect(db_path, read_only=read_only, wait=wait)
    store = Store(db_path, con, read_only)
    try:
        if existed:
            store.check_intact()
        if read_only:
            if store.schema_version() < latest_version():
                raise StoreError(f"database {db_path} needs migrating; open it once without read-only "
                                 "(e.g. `workbench db init`)")
            _training_mode(store)
            return store
        if migrate:
            store.migrate()
            store.load_reference()
        _training_mode(store)
    except BaseException:
        store.close()
        raise
    return store


TRAINING_TABLE = "training_case"  # present (with rows) only in a training store built by workbench.training


def _training_mode(store: Store) -> None:
    """A training store puts this process in training mode (every product marked "TRAINING - NOT REAL
    INTELLIGENCE", config.security_marking); in training mode a store that is not one is refused."""
    is_training = TRAINING_TABLE in store._tables() and bool(
        store.con.execute(f"SELECT count(*) FROM {TRAINING_TABLE}").fetchone()[0])
    if is_training:
        config.enter_training(str(store.path))
    elif config.training_store() is not None:
        raise StoreError(f"training mode: {store.path} is not a training store (this process opened training store "
                         f"{config.training_store()}; start a new session to open real data)")
