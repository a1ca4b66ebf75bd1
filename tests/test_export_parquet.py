"""`workbench export parquet`: the canonical tables read back by DuckDB and pandas equal the store exactly,
partitions per force and month, schema.json's hashes, marking and audit, withheld columns, all-or-nothing,
hostile options, an empty store."""
from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.cli_helpers import invoke, one_line_error
from tests.review_fixtures import copy_of, review_store
from workbench.exchange import PARTITIONS, TABLES, export_parquet
from workbench.exchange import parquet as pq_mod
from workbench.store import open_store, verify_audit

pa = pytest.importorskip("pyarrow")
import pyarrow.dataset as pads  # noqa: E402

FORCES = ("13", "01", "47", None)            # a NULL force: the Hive NULL partition
NARRATIVE = "Narrative naming staff member Quillfeather"
EVIDENCE_TEXT = "Exhibit held by Ottoline Brisbane"
REFERRER = "Loss prevention, Wexcombe"
WITHHELD = {("incidents", "narrative"), ("referrals", "referrer"), ("referrals", "source_ref"),
            ("evidence_items", "description"), ("referral_incidents", "source_incident_ref")}


def _enrich(db: Path) -> None:
    """Give the linkage store what it lacks for an export test: forces and months spread, stores, evidence,
    tactics, handling codes with conditions, and withheld free text."""
    with open_store(db) as store:
        con = store.con
        con.execute("INSERT INTO retailers VALUES ('BRM', 'Brightmart', 'supermarket'), ('PHX', 'Phex', 'pharmacy')")
        con.execute("INSERT INTO stores (store_id, retailer_id, store_ref, name, town, postcode, latitude, longitude, "
                    "force_code) VALUES ('BRM-1', 'BRM', '1', 'Leeds Central', 'Leeds', 'LS1 1AA', 53.8, -1.55, '13'),"
                    "('BRM-2', 'BRM', '2', 'Soho', 'London', 'W1D 1AA', 51.51, -0.13, '01'),"
                    "('PHX-7', 'PHX', '007', '=HYPERLINK(\"x\")', 'Cardiff', NULL, 51.48, -3.18, '62')")
        ids = [r[0] for r in con.execute("SELECT incident_id FROM incidents ORDER BY incident_id").fetchall()]
        for k, i in enumerate(ids):
            con.execute("UPDATE incidents SET force_code = $f, store_id = $s, value_gbp = $v, narrative = $n, "
                        "occurred_at = CASE WHEN $k % 17 = 5 THEN NULL ELSE occurred_at END WHERE incident_id = $i",
                        {"f": FORCES[k % 4], "s": ("BRM-1", "BRM-2", "PHX-7")[k % 3], "v": round(k * 1.37, 2),
                         "n": f"{NARRATIVE} {k}" if k % 2 else None, "k": k, "i": i})
        con.execute("UPDATE referrals SET received_at = received_at - (referral_id % 5) * INTERVAL 40 DAY, "
                    "referrer = $r, handling_code = CASE WHEN referral_id % 3 = 0 THEN 'C' ELSE 'P' END, "
                    "handling_conditions = CASE WHEN referral_id % 3 = 0 THEN 'Not to be shared with retailers' END",
                    {"r": REFERRER})
        con.execute("UPDATE referral_incidents SET source_incident_ref = 'LOG-' || incident_id")
        # some referrals describe two incidents in different forces (their force key is the lowest code)
        con.execute("INSERT INTO referral_incidents SELECT referral_id, incident_id + 1, NULL FROM referral_incidents "
                    "WHERE referral_id % 7 = 1 AND incident_id + 1 IN (SELECT incident_id FROM incidents)")
        con.execute("INSERT INTO evidence_items SELECT row_number() OVER (ORDER BY incident_id), referral_id, "
                    "incident_id, 'CCTV', 'DEMS-' || incident_id, $d FROM referral_incidents WHERE incident_id % 2 = 0",
                    {"d": EVIDENCE_TEXT})
        con.execute("INSERT INTO incident_tactics SELECT incident_id, 'FOIL', 'foil bag', referral_id "
                    "FROM referral_incidents WHERE incident_id % 3 = 0")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("export_parquet")
    base = review_store(root / "base")
    db = copy_of(base, root)
    _enrich(db)
    out = root / "export"
    result = export_parquet(db, out, "Sharing with the national analysis team")
    return {"db": db, "out": out, "result": result, "root": root,
            "schema": json.loads((out / "schema.json").read_text(encoding="utf-8"))}


def _glob(out: Path, table: str) -> str:
    return str(out / table / "**" / "*.parquet") if table in PARTITIONS else str(out / f"{table}.parquet")


def _store_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _exported_real_columns(table: str, schema: dict) -> list[str]:
    entry = next(t for t in schema["tables"] if t["name"] == table)
    return [c["name"] for c in entry["columns"] if "derived" not in c]


# -- contents ------------------------------------------------------------------------------------------
def test_every_table_reads_back_in_duckdb_exactly_as_stored(built):
    schema, out = built["schema"], built["out"]
    assert [t["name"] for t in schema["tables"]] == list(TABLES)
    con = duckdb.connect(str(built["db"]), read_only=True)
    nonempty = 0
    for table in TABLES:
        cols = _exported_real_columns(table, schema)
        stored = set(_store_columns(con, table))
        assert set(cols) == stored - {c for t, c in WITHHELD if t == table}, table
        listed = ", ".join(f'"{c}"' for c in cols)
        back = (f"SELECT {listed} FROM read_parquet($g, hive_partitioning = true, hive_types_autocast = false, "
                "union_by_name = true)")
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert con.execute(f"SELECT count(*) FROM ({back})", {"g": _glob(out, table)}).fetchone()[0] == count, table
        for a, b in ((f"SELECT {listed} FROM {table}", back), (back, f"SELECT {listed} FROM {table}")):
            diff = con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))", {"g": _glob(out, table)}).fetchone()[0]
            assert diff == 0, f"{table}: {diff} rows differ"
        assert next(t for t in schema["tables"] if t["name"] == table)["rows"] == count
        nonempty += count > 0
    assert nonempty >= 15          # the fixture really fills the tables it compares


def _values(series: pd.Series) -> list:
    """Plain comparable values: missing as None (NaN, NaT, pd.NA), DECIMAL (pyarrow) and float (DuckDB) alike."""
    from decimal import Decimal

    out = []
    for v in series.tolist():
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, Decimal):
            out.append(float(v))
        elif hasattr(v, "item") and not isinstance(v, (str, pd.Timestamp)):
            out.append(v.item())
        else:
            out.append(v)
    return out


def test_pandas_reads_the_export_with_the_same_rows(built):
    schema, out = built["schema"], built["out"]
    con = duckdb.connect(str(built["db"]), read_only=True)
    for table in ("incidents", "referrals", "person_mentions", "resolved_persons", "groups", "stores"):
        cols = _exported_real_columns(table, schema)
        key = cols[0]
        if table in PARTITIONS:
            part = pads.partitioning(pa.schema([(k, pa.string()) for k in PARTITIONS[table]]), flavor="hive")
            got = pd.read_parquet(out / table, partitioning=part)
        else:
            got = pd.read_parquet(out / f"{table}.parquet")
        want = con.sql(f"SELECT * FROM {table} ORDER BY {key}").to_arrow_table().to_pandas()[cols]
        got = got[cols].sort_values(key).reset_index(drop=True)
        assert len(got) == len(want) > 0, table
        for c in cols:
            assert _values(got[c]) == _values(want[c]), f"{table}.{c}"


def test_derived_partition_keys_are_right(built):
    con = duckdb.connect(str(built["db"]), read_only=True)
    g = _glob(built["out"], "incidents")
    bad = con.execute("SELECT count(*) FROM incidents i JOIN read_parquet($g, hive_partitioning = true, "
                      "hive_types_autocast = false) p USING (incident_id) "
                      "WHERE p.month IS DISTINCT FROM strftime(i.occurred_at, '%Y-%m')", {"g": g}).fetchone()[0]
    assert bad == 0
    stored = con.execute("SELECT r.referral_id, min(i.force_code) AS f, strftime(r.received_at, '%Y-%m') AS m "
                         "FROM referrals r LEFT JOIN referral_incidents ri USING (referral_id) "
                         "LEFT JOIN incidents i USING (incident_id) GROUP BY ALL").df()
    back = con.execute("SELECT referral_id, force_code AS f, month AS m FROM read_parquet($g, hive_partitioning = true, "
                       "hive_types_autocast = false)", {"g": _glob(built["out"], "referrals")}).df()
    merged = stored.merge(back, on="referral_id", suffixes=("", "_x"))
    assert len(merged) == len(stored) == len(back)
    assert (merged.f.fillna("-") == merged.f_x.fillna("-")).all() and (merged.m == merged.m_x).all()


def test_partitions_exist_per_force_and_month(built):
    out, schema = built["out"], built["schema"]
    con = duckdb.connect(str(built["db"]), read_only=True)
    pairs = con.execute("SELECT force_code, strftime(occurred_at, '%Y-%m') AS m, count(*) FROM incidents "
                        "GROUP BY ALL").fetchall()
    null = pq_mod.NULL_PARTITION
    want = {(f or null, m or null): n for f, m, n in pairs}
    assert len({f for f, _ in want}) == 4 and len({m for _, m in want}) >= 6 and null in {f for f, _ in want}
    leaves = {}
    for f in (out / "incidents").rglob("*.parquet"):
        force, month = f.parent.parent.name, f.parent.name
        assert force.startswith("force_code=") and month.startswith("month=")
        key = (force.split("=", 1)[1], month.split("=", 1)[1])
        leaves[key] = leaves.get(key, 0) + duckdb.execute("SELECT count(*) FROM read_parquet($f)",
                                                          {"f": str(f)}).fetchone()[0]
        names = [r[0] for r in duckdb.execute("DESCRIBE SELECT * FROM read_parquet($f, hive_partitioning = false)",
                                              {"f": str(f)}).fetchall()]
        assert "force_code" not in names and "month" not in names    # Hive layout: keys in the path only
    assert leaves == want
    entry = next(t for t in schema["tables"] if t["name"] == "incidents")
    assert entry["partition_by"] == ["force_code", "month"] and entry["partitions"] == len(want)
    assert (out / "referrals").is_dir() and (out / "person_mentions.parquet").is_file()


# -- schema file, marking, audit ------------------------------------------------------------------------
def test_schema_file_hashes_every_file_and_is_marked(built):
    out, schema = built["out"], built["schema"]
    listed = {}
    for t in schema["tables"]:
        for f in t["files"]:
            data = (out / f["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"], f["path"]
            listed[f["path"]] = f
        assert sum(f["rows"] for f in t["files"]) == t["rows"]
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(listed) | {"schema.json"}          # nothing unlisted, nothing missing
    assert not [p for p in out.parent.iterdir() if ".partial-" in p.name]
    with open_store(built["db"], read_only=True) as store:
        version = store.schema_version()
    assert schema["schema_version"] == version and schema["marking"] == "OFFICIAL-SENSITIVE"
    assert schema["purpose"] == "Sharing with the national analysis team"
    assert schema["handling"]["referrals_with_conditions"] > 0 and set(schema["handling"]["referrals_by_handling_code"]) == {"C", "P"}
    kv = duckdb.execute("SELECT file_name, decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata($g)",
                        {"g": [str(out / p) for p in listed]}).df()
    marks = kv[kv.k == "marking"]
    assert set(marks.file_name.map(lambda f: Path(f).relative_to(out).as_posix())) == set(listed)
    assert set(marks.v) == {"OFFICIAL-SENSITIVE"}
    assert set(kv[kv.k == "schema_version"].v) == {str(version)}


def test_withheld_columns_and_values_are_not_exported(built):
    out, schema = built["out"], built["schema"]
    assert set(tuple(w.split(".")) for w in schema["withheld_columns"]) == WITHHELD
    texts = []
    for t in schema["tables"]:
        for f in t["files"]:
            rel = duckdb.execute("SELECT * FROM read_parquet($f, hive_partitioning = false)",
                                 {"f": str(out / f["path"])}).df()
            assert not {c for tt, c in WITHHELD if tt == t["name"]} & set(rel.columns), t["name"]
            texts += [str(v) for c in rel.columns for v in rel[c].dropna().tolist()]
    blob = "\n".join(texts)
    for secret in ("Quillfeather", "Ottoline", REFERRER, "LOG-", "T-1"):
        assert secret not in blob, secret
    assert "DEMS-" in blob and "Marcus" in blob             # the rest of the data is there


def test_the_export_is_audited(built):
    out = built["out"]
    con = duckdb.connect(str(built["db"]), read_only=True)
    rows = con.execute("SELECT object, details FROM audit_log WHERE action = 'export-parquet'").fetchall()
    assert len(rows) == 1 and rows[0][0] == str(out)
    details = json.loads(rows[0][1])
    assert details["sha256"] == hashlib.sha256((out / "schema.json").read_bytes()).hexdigest()
    assert details["purpose"] == "Sharing with the national analysis team" and details["marking"] == "OFFICIAL-SENSITIVE"
    assert details["tables"]["incidents"] == con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert verify_audit(con)["ok"]


# -- the command line and bad input ---------------------------------------------------------------------
def _export_rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM audit_log WHERE action = 'export-parquet'").fetchone()[0]


def test_cli_subset_of_tables(built, capsys, tmp_path):
    db = shutil.copy(built["db"], tmp_path / "s.duckdb")
    out = tmp_path / "sub"
    r = invoke(capsys, "export", "parquet", "--db", db, "--out", out, "--purpose", "subset",
               "--tables", "incidents,groups", "--tables", "forces", "--json")
    assert r.exit_code == 0, r.err
    summary = json.loads(r.output)
    assert set(summary["tables"]) == {"forces", "incidents", "groups"}
    assert sorted(p.name for p in out.iterdir()) == ["forces.parquet", "groups.parquet", "incidents", "schema.json"]
    r = invoke(capsys, "export", "parquet", "--db", db, "--out", tmp_path / "human", "--purpose", "look")
    assert r.exit_code == 0 and "19 tables" in r.output and "marked OFFICIAL-SENSITIVE" in r.output


@pytest.mark.parametrize("args, needles", [
    (("--tables", "audit_log"), ("'audit_log' is not an exportable table",)),
    (("--tables", "incidents;DROP TABLE referrals"), ("is not an exportable table",)),
    (("--tables", "quarantine,incidents"), ("'quarantine'",)),
    (("--purpose", "line one\nline two"), ("--purpose must be one line",)),
    (("--purpose", "   "), ("--purpose is required",)),
    (("--purpose", "x" * 600), ("keep it under 500",)),
    (("--out", "OUT/evil\x1b[31mname"), ("--out", "control")),
    (("--out", "FILE"), ("is a file",)),
    (("--out", "FULL"), ("already holds files",)),
])
def test_hostile_options_are_one_line_errors_and_write_nothing(built, capsys, tmp_path, args, needles):
    db = shutil.copy(built["db"], tmp_path / "s.duckdb")
    (tmp_path / "FILE").write_text("keep me")
    (tmp_path / "FULL").mkdir()
    (tmp_path / "FULL" / "mine.txt").write_text("keep me")
    opts = {"--out": str(tmp_path / "new"), "--purpose": "test"}
    given = dict(zip(args[::2], args[1::2]))
    if given.get("--out") in ("FILE", "FULL") or str(given.get("--out", "")).startswith("OUT/"):
        given["--out"] = str(tmp_path / given["--out"].replace("OUT/", ""))
    extra = [a for k, v in given.items() if k == "--tables" for a in (k, v)]
    opts.update({k: v for k, v in given.items() if k != "--tables"})
    before, audited = sorted(p.name for p in tmp_path.iterdir()), _export_rows(Path(db))
    r = invoke(capsys, "export", "parquet", "--db", db, *[a for kv in opts.items() for a in kv], *extra)
    one_line_error(r, *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "FILE").read_text() == "keep me" and [p.name for p in (tmp_path / "FULL").iterdir()] == ["mine.txt"]
    assert _export_rows(Path(db)) == audited


def test_missing_purpose_is_a_usage_error(built, capsys, tmp_path):
    r = invoke(capsys, "export", "parquet", "--db", built["db"], "--out", tmp_path / "x")
    assert r.exit_code == 2 and "--purpose" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "x").exists()


# -- all or nothing --------------------------------------------------------------------------------------
def test_a_failure_midway_leaves_no_folder(built, tmp_path, monkeypatch):
    db = shutil.copy(built["db"], tmp_path / "s.duckdb")
    real = pq_mod._write_table

    def flaky(con, table, *a, **kw):
        if table == "person_mentions":
            raise OSError(28, "No space left on device")
        return real(con, table, *a, **kw)

    monkeypatch.setattr(pq_mod, "_write_table", flaky)
    with pytest.raises(Exception, match="No space left on device"):
        export_parquet(db, tmp_path / "out", "test")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb"]     # no export, no hidden partial folder
    assert _export_rows(Path(db)) == _export_rows(built["db"])


def test_an_export_that_cannot_be_audited_is_deleted(built, tmp_path, monkeypatch):
    from workbench.store import Store

    db = shutil.copy(built["db"], tmp_path / "s.duckdb")

    def refuse(self, *a, **kw):
        raise RuntimeError("audit log locked")

    monkeypatch.setattr(Store, "audit_required", refuse)
    with pytest.raises(Exception, match="an export must either be audited or not exist"):
        export_parquet(db, tmp_path / "out", "test")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb"]


def test_forbidden_terms_refuse_the_export(built, tmp_path, monkeypatch):
    db = shutil.copy(built["db"], tmp_path / "s.duckdb")
    cfg = tmp_path / "packages.yaml"
    cfg.write_text("sanitise:\n  forbidden_terms: [MARCUS]\n")
    monkeypatch.setenv("WORKBENCH_PACKAGES_CONFIG", str(cfg))
    with pytest.raises(Exception, match="forbidden term"):
        export_parquet(db, tmp_path / "out", "test")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["packages.yaml", "s.duckdb"]


def test_an_empty_existing_folder_is_filled(built, tmp_path):
    db = shutil.copy(built["db"], tmp_path / "s.duckdb")
    (tmp_path / "out").mkdir()
    export_parquet(db, tmp_path / "out", "test", ["forces"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["forces.parquet", "schema.json"]


# -- an empty store ---------------------------------------------------------------------------------------
def test_an_empty_store_exports_empty_files_with_the_schema(tmp_path):
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    out = tmp_path / "out"
    export_parquet(db, out, "empty store")
    schema = json.loads((out / "schema.json").read_text())
    con = duckdb.connect(str(db), read_only=True)
    for t in schema["tables"]:
        assert len(t["files"]) == 1, t["name"]
        names = [c["name"] for c in t["columns"]]
        rel = con.execute(f"SELECT * FROM read_parquet($g, hive_partitioning = true, hive_types_autocast = false)",
                          {"g": _glob(out, t["name"])})
        assert [d[0] for d in rel.description] == [c for c in names if c not in t["partition_by"]] + t["partition_by"]
        back = len(rel.fetchall())
        stored = con.execute(f"SELECT count(*) FROM {t['name']}").fetchone()[0]
        assert back == stored == t["rows"], t["name"]
        if t["name"] in PARTITIONS:
            assert stored == 0 and t["files"][0]["path"].startswith(f"{t['name']}/force_code={pq_mod.NULL_PARTITION}/")
            part = pads.partitioning(pa.schema([(k, pa.string()) for k in PARTITIONS[t["name"]]]), flavor="hive")
            frame = pd.read_parquet(out / t["name"], partitioning=part)
            assert len(frame) == 0 and set(frame.columns) == set(names)
    assert {t["name"] for t in schema["tables"] if t["rows"] == 0} >= {"referrals", "incidents", "groups"}
