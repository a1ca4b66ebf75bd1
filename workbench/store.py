"""The DuckDB store: one database file, schema migrations applied on open, audit log.

Every capability reads and writes through a Store so that the file location, migrations,
reference data and auditing are handled once.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from workbench import config, queries, reference
from workbench.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER") or f"uid-{os.getuid()}"


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

    def audit(self, action: str, obj: str | None, details: dict | None = None) -> None:
        if self.read_only:
            return
        self.con.execute(
            "INSERT INTO audit_log (logged_at, os_user, action, object, details) VALUES ($t, $u, $a, $o, $d)",
            {
                "t": utcnow(),
                "u": os_user(),
                "a": action,
                "o": obj,
                "d": json.dumps(details or {}, default=str, sort_keys=True),
            },
        )

    def table_counts(self) -> pd.DataFrame:
        return self.query("table_row_counts")


def open_store(path: str | Path | None = None, read_only: bool = False, migrate: bool = True) -> Store:
    """Open (creating if needed) the workbench database and bring its schema up to date."""
    db_path = Path(path) if path else config.default_db_path()
    if read_only and not db_path.exists():
        raise StoreError(f"database {db_path} does not exist; run `workbench load-sample` or `workbench ingest` first")
    try:
        if not read_only:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        raise StoreError(f"cannot open database {db_path}: {str(exc).splitlines()[0]}") from None
    store = Store(db_path, con, read_only)
    if read_only:
        if store.schema_version() < latest_version():
            store.close()
            raise StoreError(f"database {db_path} needs migrating; open it once without read-only")
        return store
    if migrate:
        store.migrate()
        store.load_reference()
    return store
