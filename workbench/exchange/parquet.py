"""The store's canonical tables as Parquet, for Spark, DuckDB or pandas elsewhere (docs/exchange.md).

Why it is built the way it is:

- **A fixed allow-list** (`TABLES`): the referral, incident, mention, evidence, estate, linkage and group tables,
  each read by its own query in queries/exchange/. Bookkeeping and anything that names the workbench's users or
  holds rejected raw rows (audit log, batches, quarantine, flags, decisions, alerts, packages, retention) never
  leaves. Table names are matched against the list, never put into SQL.
- **Sanitised like a package**: the columns configured as withheld (`sanitise.withheld_fields` in packages.yaml:
  the source's reference, the referrer, narratives, exhibit descriptions), plus the source's own incident
  reference, are dropped; when forbidden terms are configured every text column written is read back and the
  export refused if one appears.
- **Partitioned where readers filter**: incidents and referrals by force and month (Hive layout,
  `force_code=13/month=2025-03/`), every other table one file.
- **All or nothing**: written into a hidden folder beside the target and renamed into place only when complete
  and checked; then audited (purpose required) through `exports.audit_export` of `schema.json`, which holds the
  sha256 of every file. An export that cannot be audited is deleted.
- **Marked**: the security marking in schema.json and in every Parquet file's key-value metadata.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterable

import workbench
from workbench import config, exports, queries
from workbench.errors import WorkbenchError

FORMAT = "pegasus-workbench-parquet"
FORMAT_VERSION = 1
ACTION = "export-parquet"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"   # Hive's (and Spark's, pyarrow's, DuckDB's) name for a NULL key

TABLES: tuple[str, ...] = (
    "forces", "tactics", "retailers", "stores",
    "referrals", "incidents", "referral_incidents", "incident_tactics",
    "person_mentions", "vehicle_mentions", "evidence_items",
    "resolved_persons", "person_links", "resolved_vehicles", "vehicle_links", "vehicle_flags",
    "groups", "group_members", "group_vehicles",
)
PARTITIONS: dict[str, tuple[str, ...]] = {"incidents": ("force_code", "month"), "referrals": ("force_code", "month")}
DERIVED: dict[str, dict[str, str]] = {
    "incidents": {"month": "YYYY-MM of occurred_at (NULL when not known)"},
    "referrals": {"force_code": "lowest force_code of the incidents the referral describes (NULL when none)",
                  "month": "YYYY-MM of received_at"},
}
# withheld here as well as the package settings' list: the source's own log number identifies its records
EXTRA_WITHHELD = ("referral_incidents.source_incident_ref",)
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_KV = ("KV_METADATA {marking: $marking, handling_code: $handling_code, table_name: $table_name, "
       "workbench_version: $workbench_version, schema_version: $schema_version}")


def choose_tables(values: Iterable[str] | None) -> list[str]:
    """The tables asked for (names, or comma-separated lists of names), in export order; all when none. A name not
    on the allow-list is a one-line error."""
    wanted: set[str] = set()
    for value in values or ():
        for name in str(value).split(","):
            name = name.strip()
            if not name:
                continue
            if name not in TABLES:
                shown = name if len(name) <= 40 else name[:37] + "..."
                raise WorkbenchError(f"--tables: {shown!r} is not an exportable table; choose from {', '.join(TABLES)}")
            wanted.add(name)
    return [t for t in TABLES if t in wanted] if wanted else list(TABLES)


def withheld_columns() -> dict[str, list[str]]:
    """table -> columns never exported: packages.yaml `sanitise.withheld_fields` plus EXTRA_WITHHELD."""
    from workbench.packages.settings import package_settings

    fields = list((package_settings().get("sanitise") or {}).get("withheld_fields") or []) + list(EXTRA_WITHHELD)
    out: dict[str, list[str]] = {}
    for field in fields:
        table, _, column = str(field).strip().partition(".")
        if _IDENT.fullmatch(table) and _IDENT.fullmatch(column) and column not in out.setdefault(table, []):
            out[table].append(column)
    return out


def forbidden_terms() -> list[str]:
    from workbench.packages.settings import package_settings

    return [t.strip() for t in ((package_settings().get("sanitise") or {}).get("forbidden_terms") or []) if t.strip()]


def check_out(out: str | Path) -> Path:
    """The output folder: printable, not a file, writable, and new or empty (an export never overwrites)."""
    text = str(out)
    if not text.strip():
        raise WorkbenchError("--out: give the folder to write the export into")
    if _CONTROL.search(text):
        raise WorkbenchError("--out: the folder name holds control or direction characters; choose a plain name")
    path = exports.check_folder(Path(text))
    if path.is_dir() and any(path.iterdir()):
        raise WorkbenchError(f"{path}: the folder already holds files; give a new or empty folder "
                             "(an export never overwrites another)")
    return path


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(con, table: str, withheld: list[str]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(SQL of the exported rows, [(column, type)], columns dropped) for one table."""
    base = queries.load(f"exchange/{table}").sql
    names = [r[0] for r in con.execute(f"DESCRIBE ({base}\n)").fetchall()]
    dropped = [c for c in withheld if c in names and c not in PARTITIONS.get(table, ())]
    sql = f"SELECT * EXCLUDE ({', '.join(map(_quote, dropped))}) FROM ({base}\n)" if dropped else base
    columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE ({sql}\n)").fetchall()]
    return sql, columns, dropped


def _files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*") if p.is_file())


def _write_table(con, table: str, folder: Path, kv: dict, withheld: list[str]) -> dict:
    sql, columns, dropped = _select(con, table, withheld)
    rows = con.execute(f"SELECT count(*) FROM ({sql}\n)").fetchone()[0]
    keys = PARTITIONS.get(table, ())
    params = {**kv, "table_name": table}
    if not keys:
        target = folder / f"{table}.parquet"
        con.execute(f"COPY ({sql}\n) TO $path (FORMAT PARQUET, {_KV})", {**params, "path": str(target)})
    elif rows:
        target = folder / table
        con.execute(f"COPY ({sql}\n) TO $path (FORMAT PARQUET, PARTITION_BY ({', '.join(keys)}), "
                    f"FILENAME_PATTERN 'part_{{i}}', {_KV})", {**params, "path": str(target)})
    else:   # DuckDB writes no file for no rows: one empty file in the NULL partition keeps the schema readable
        target = folder / table
        leaf = target.joinpath(*(f"{k}={NULL_PARTITION}" for k in keys))
        leaf.mkdir(parents=True)
        con.execute(f"COPY (SELECT * EXCLUDE ({', '.join(keys)}) FROM ({sql}\n)) TO $path (FORMAT PARQUET, {_KV})",
                    {**params, "path": str(leaf / "part_0.parquet")})
    paths = _files(target)
    counts = dict(con.execute("SELECT file_name, sum(num_rows) FROM parquet_file_metadata($f) GROUP BY file_name",
                              {"f": [str(f) for f in paths]}).fetchall())
    files = []
    for f in paths:
        sha, size = exports.file_digest(f)
        files.append({"path": f.relative_to(folder).as_posix(), "rows": int(counts.get(str(f)) or 0), "bytes": size,
                      "sha256": sha})
    written = sum(f["rows"] for f in files)
    if written != rows:
        raise WorkbenchError(f"{table}: {written} rows written but the store holds {rows}; export abandoned")
    derived = DERIVED.get(table, {})
    cols = []
    for name, dtype in columns:
        col = {"name": name, "type": dtype}
        if name in keys:
            col["partition"] = True          # in the folder names only, not inside the files
        if name in derived:
            col["derived"] = derived[name]
        cols.append(col)
    return {"name": table, "path": target.relative_to(folder).as_posix() + ("/" if keys else ""),
            "partition_by": list(keys), "partitions": len({Path(f["path"]).parent for f in files}) if keys else 0,
            "rows": rows, "columns": cols, "withheld_columns": dropped, "files": files}


def _check_terms(con, folder: Path, tables: list[dict], terms: list[str]) -> None:
    """Read every text column back from the files written: a configured forbidden term anywhere refuses it."""
    lowered = [t.lower() for t in terms]
    for table in tables:
        for col in table["columns"]:
            if col.get("partition") or not col["type"].startswith("VARCHAR"):
                continue
            for f in table["files"]:
                for term in lowered:
                    hit = con.execute(f"SELECT count(*) FROM read_parquet($f) WHERE contains(lower({_quote(col['name'])}), $t)",
                                      {"f": str(folder / f["path"]), "t": term}).fetchone()[0]
                    if hit:
                        raise WorkbenchError(f"{table['name']}.{col['name']}: a configured forbidden term appears in "
                                             f"{hit} row(s); nothing was exported (packages.yaml sanitise.forbidden_terms)")


def export_parquet(store_or_db, out: str | Path, purpose: str | None, tables: Iterable[str] | None = None) -> dict:
    """Write the chosen tables (default all of TABLES) under `out` with schema.json; audited. Returns the schema
    dict plus `out`, `files` and `bytes`."""
    from workbench.store import Store, open_store

    purpose = exports.check_purpose(purpose)
    if purpose is None:
        raise WorkbenchError("--purpose is required: say why the store is exported (it is recorded in the audit log)")
    chosen = choose_tables(tables)
    out = check_out(out)
    own = not isinstance(store_or_db, Store)
    store = open_store(store_or_db, read_only=True) if own else store_or_db
    try:
        return _export(store, out, purpose, chosen)
    finally:
        if own:
            store.close()


def _export(store, out: Path, purpose: str, chosen: list[str]) -> dict:
    from workbench.store import os_user, utcnow

    mark = config.security_marking()
    handling = str(config.get("markings.default_handling_code", "P"))
    kv = {"marking": mark, "handling_code": handling, "workbench_version": workbench.__version__,
          "schema_version": str(store.schema_version())}
    withheld, terms = withheld_columns(), forbidden_terms()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"{out}: cannot create the folder: {exc.strerror or exc}") from None
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    con = store.con
    try:
        tmp.mkdir()
        con.execute("BEGIN TRANSACTION")          # one snapshot: every table as of the same moment
        try:
            written = [_write_table(con, t, tmp, kv, withheld.get(t, [])) for t in chosen]
            summary = store.query("exchange/handling_summary")
        finally:
            con.execute("ROLLBACK")               # read only: nothing to keep
        if terms:
            _check_terms(con, tmp, written, terms)
        schema = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "workbench_version": workbench.__version__, "schema_version": store.schema_version(),
            "exported_at": utcnow().isoformat(timespec="seconds") + "Z", "exported_by": os_user(),
            "source_store": store.path.name, "purpose": purpose,
            "marking": mark,
            "handling": {
                "default_handling_code": handling,
                "meaning": config.get(f"grading.handling_code.{handling}", ""),
                "referrals_by_handling_code": {r.handling_code or "(none)": int(r.referrals)
                                               for r in summary.itertuples()},
                "referrals_with_conditions": int(summary.with_conditions.sum()) if len(summary) else 0,
                "note": ("Handle every file under the marking above. A referral with handling code C may be shared "
                         "only under its conditions (referrals.handling_conditions); they bind every row derived "
                         "from it (its incidents, mentions, evidence and links)."),
            },
            "withheld_columns": sorted(f"{t}.{c}" for t, cols in withheld.items() for c in cols),
            "partitioning": {"layout": "hive", "null_value": NULL_PARTITION,
                             "note": "partition columns are in the folder names only; read them as text"},
            "tables": written,
        }
        with open(tmp / "schema.json", "w", encoding="utf-8") as fh:
            json.dump(schema, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
        if out.is_dir():
            out.rmdir()                           # empty (check_out): the complete export takes its place
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise WorkbenchError(f"{out}: cannot write the export: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = [f for t in written for f in t["files"]]
    size = sum(f["bytes"] for f in files)
    details = {"tables": {t["name"]: t["rows"] for t in written}, "files": len(files) + 1, "bytes_total": size,
               "format": FORMAT, "withheld_columns": schema["withheld_columns"]}
    try:
        record = exports.audit_export(store, ACTION, out, details, purpose, files=[out / "schema.json"])
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)    # an export must be audited or not exist
        raise
    return {**schema, "out": str(out), "files": len(files) + 1, "bytes": size, "audit": record}
