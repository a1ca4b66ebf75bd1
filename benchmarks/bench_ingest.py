"""Referral ingest throughput: a generated 1M-row referral extract (several hundred MB of CSV) through the full
workbench ingest (detect, read, validate every rule, quarantine, dedup, load into the store, audit), beside a
pandas baseline that reads the same file and applies the same validation rules (without writing anything),
and two floors: DuckDB only reading the file, and only writing the rows the ingest stored (computed beforehand).
Their sum bounds any ingest of this file into this data model on this machine.

Each step runs in its own child process (benchmarks.common.measure): wall time and peak RSS, and the CPU time
of the timed part. The ingest runs twice: as shipped (the fast path where a batch qualifies) and on the general
load path (ingest.fast_path off), so that the before and after share the machine's conditions. The comparison
record checks that validate, ingest and pandas agree on every count, rule by rule, that both load paths agree,
and gives each path's ratio to the floor (floor seconds / ingest seconds, in wall and in CPU time).
Quick mode: 50k rows.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import measure

ROWS_FULL = 1_000_000
ROWS_QUICK = 50_000
FORCES = ["West Yorkshire Police", "WMP", "Met", "Greater Manchester Police", "13", "Kent Police", "Avon & Somerset",
          "Northumbria Police", "Gotham City PD"]
TACTICS = ["FOIL; DIST", "RUSH; ALCOHOL", "SWEEP; RAZOR", "SCO; MEAT", "CONCEAL; COSMET; VIOL", "TAGREM; CLOTH",
           "PUSHOUT; ALCOHOL", "XYZ; FOIL"]
FIRST = ["John", "Jane", "Amir", "Chloe", "Darius", "Ewa", "Fatima", "George", "Hannah", "Ivan", "Jade", "Kofi"]
LAST = ["Smith", "Jones", "Khan", "Taylor", "Brown", "Wilson", "Evans", "Novak", "Okafor", "Patel", "Reid", "Walsh"]
NARR = ["Two offenders entered together and swept the razor shelf into a foil-lined bag before leaving on foot.",
        "Offender distracted staff at the kiosk while an associate filled a rucksack with spirits; CCTV held.",
        "Male pushed a member of staff who challenged him at the door, said he would come back with friends.",
        "Group of three took baby formula and coffee, left in a waiting silver hatchback heading north."]


def make_extract(path: Path, rows: int, seed: int = 1) -> dict:
    """A Brightmart-format extract with realistic noise (missing crime numbers, bad dates, negative values ...)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(1, rows + 1)
    occurred = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 600 * 24 * 60, rows), unit="min")
    referred = occurred + pd.to_timedelta(rng.integers(60, 20 * 24 * 60, rows), unit="min")
    occ = occurred.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object)
    bad_date = rng.random(rows) < 0.003
    occ[bad_date] = "2025-02-31 10:00"
    crime = np.char.add(np.char.add("13/", rng.integers(10000, 99999999, rows).astype(str)), "/24").astype(object)
    crime[rng.random(rows) < 0.05] = ""
    value = np.round(rng.gamma(2.0, 80.0, rows), 2).astype(str).astype(object)
    value[rng.random(rows) < 0.002] = "-10.00"
    n_off = rng.integers(1, 4, rows)
    f = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), (rows, 3))]
    s = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), (rows, 3))]
    names = f[:, 0] + " " + s[:, 0]
    names = np.where(n_off > 1, names + "; " + f[:, 1] + " " + s[:, 1], names)
    names = np.where(n_off > 2, names + "; " + f[:, 2] + " " + s[:, 2], names)
    dob = (pd.Timestamp("1970-01-01") + pd.to_timedelta(rng.integers(0, 12000, rows), unit="D")).strftime("%Y-%m-%d")
    dobs = np.where(n_off > 1, dob + "; " + dob, dob)
    vrm = np.char.add(np.char.add(np.array(["AB", "CD", "YX", "KP"])[rng.integers(0, 4, rows)],
                                  rng.integers(10, 75, rows).astype(str)),
                      np.array([" CDE", " XYZ", " KLM", "", " ?"])[rng.integers(0, 5, rows)]).astype(object)
    vrm[rng.random(rows) < 0.6] = ""
    narrative = np.array(NARR, dtype=object)[rng.integers(0, len(NARR), rows)]
    narrative[rng.random(rows) < 0.001] = '=HYPERLINK("http://x.example","y")'
    frame = pd.DataFrame({
        "incident_id": np.char.add("BRM-INC-", idx.astype(str)), "store_no": rng.integers(1, 2001, rows).astype(str),
        "occurred": occ, "crime_ref": crime, "police_force": np.array(FORCES)[rng.integers(0, len(FORCES), rows)],
        "loss_gbp": value, "num_offenders": n_off.astype(str), "violence": np.where(rng.random(rows) < 0.2, "Y", "N"),
        "detained": np.where(rng.random(rows) < 0.1, "Y", "N"),
        "tactic_codes": np.array(TACTICS)[rng.integers(0, len(TACTICS), rows)], "offender_names": names,
        "offender_dobs": dobs, "vehicle_reg": vrm, "cctv": np.where(rng.random(rows) < 0.85, "Y", "N"),
        "dems_ref": np.char.add("DEMS-", rng.integers(0, 10 ** 8, rows).astype(str)), "narrative": narrative,
        "referral_id": np.char.add("BRM-", idx.astype(str)), "referred_at": referred.strftime("%Y-%m-%d %H:%M"),
        "grading": np.array(["2B P", "1A P", "2C C", "3D P", "B2 1", "9Z"])[rng.choice(6, rows, p=[.5, .2, .15, .1, .04, .01])],
    })
    frame.to_csv(path, index=False)
    stores = pd.DataFrame({"retailer_code": "BRM", "retailer_name": "Brightmart", "sector": "convenience",
                           "store_ref": np.arange(1, 2001).astype(str), "store_name": "Brightmart store",
                           "address": "1 High Street", "town": "Leeds", "postcode": "LS1 6HD",
                           "latitude": 53.0 + rng.random(2000), "longitude": -2.0 + rng.random(2000),
                           "police_force": "West Yorkshire Police"})
    stores.to_csv(path.parent / "store_directory.csv", index=False)
    return {"rows": rows, "bytes": path.stat().st_size}


REPORT_KEYS = ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule", "warnings_by_rule", "seconds",
               "engine", "load_path", "load_path_reason", "dedup_against_store", "incidents_new", "duplicates_merged",
               "merge_suspects")
WRITTEN_TABLES = ("referrals", "incidents", "referral_incidents", "person_mentions", "vehicle_mentions",
                  "evidence_items", "incident_tactics", "validation_flags", "quarantine")


def workbench_ingest(extract: str, db: str, fast_path: bool = True) -> dict:
    """fast_path=False: the general load path (ingest.fast_path off), for the before/after in the same run."""
    from workbench.ingest import ingest_file
    from workbench.ingest import load
    from workbench.store import open_store

    if not fast_path:  # (a child process of its own: nothing else sees this)
        load.fast_path_enabled = lambda: False
    with open_store(db) as store:
        ingest_file(store, Path(extract).parent / "store_directory.csv")
        cpu = time.process_time()
        report = ingest_file(store, extract)
        cpu = time.process_time() - cpu
    return {**{k: report.get(k) for k in REPORT_KEYS}, "cpu_s": round(cpu, 3)}


def workbench_validate(extract: str, db: str) -> dict:
    """The dry run (`workbench validate`): read, stage, every rule, counts; nothing written to the store."""
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import open_store

    with open_store(db) as store:
        ingest_file(store, Path(extract).parent / "store_directory.csv")
        report = validate_file(store, extract)
    return {k: report.get(k) for k in REPORT_KEYS}


def _make(path: str, rows: int) -> dict:
    return make_extract(Path(path), rows)


def pandas_baseline(extract: str) -> dict:
    """The same validation in pandas (benchmarks/pandas_validation.py); nothing written."""
    from benchmarks.pandas_validation import validate_extract

    return validate_extract(extract, str(Path(extract).parent / "store_directory.csv"))


def read_floor(extract: str) -> dict:
    """DuckDB only reading the file into memory as text, as the ingest's first step does (no validation, no
    writes): the least any DuckDB ingest of this file costs."""
    import duckdb

    con = duckdb.connect()
    start, cpu = time.perf_counter(), time.process_time()
    rows = con.execute("CREATE TEMP TABLE t AS SELECT * FROM read_csv($p, all_varchar = true)",
                       {"p": extract}).fetchone()[0]
    return {"rows_read": rows, "seconds": round(time.perf_counter() - start, 3),
            "cpu_s": round(time.process_time() - cpu, 3)}


def write_floor(db: str, out_db: str) -> dict:
    """Writing the rows the ingest stored, already computed and in memory, into a fresh database file in one
    transaction, without primary keys or constraints (a lower bound for any ingest storing this data model): the rows are
    copied into temporary tables first (not timed), then written and committed (timed)."""
    import duckdb

    con = duckdb.connect(out_db)
    con.execute("SET preserve_insertion_order = false")
    con.execute("ATTACH $p AS src (READ_ONLY)", {"p": db})
    rows = 0
    for table in WRITTEN_TABLES:  # constant table names
        rows += con.execute(f"CREATE TEMP TABLE t_{table} AS SELECT * FROM src.main.{table}").fetchone()[0]
    con.execute("DETACH src")
    start, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN TRANSACTION")
    for table in WRITTEN_TABLES:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM t_{table}")
    con.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    con.close()
    return {"rows_written": rows, "tables": len(WRITTEN_TABLES), "seconds": round(seconds, 3),
            "cpu_s": round(cpu, 3)}


def run(out_dir, quick: bool) -> list[dict]:
    rows = ROWS_QUICK if quick else ROWS_FULL
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-ingest-"))
    try:
        extract = tmp / "brightmart_incidents.csv"
        # generated in a child so that this process stays small: Linux keeps ru_maxrss across fork+exec,
        # so a large parent would inflate every measured child's peak memory
        made = measure(_make, str(extract), rows)
        if made.get("error"):
            return [{"step": "generate", "error": made["error"]}]
        mb = made["result"]["bytes"] / 1e6
        steps = {
            "workbench_ingest": measure(workbench_ingest, str(extract), str(tmp / "bench.duckdb")),
            # the same ingest on the general load path (the code before the fast path), in the same run
            "workbench_ingest_general_path": measure(workbench_ingest, str(extract), str(tmp / "bench_general.duckdb"),
                                                     False),
            "workbench_validate_dry_run": measure(workbench_validate, str(extract), str(tmp / "bench_validate.duckdb")),
            "pandas_baseline_validate_only": measure(pandas_baseline, str(extract)),
            "floor_duckdb_read_only": measure(read_floor, str(extract)),
        }
        if steps["workbench_ingest"].get("result"):
            steps["floor_store_write_only"] = measure(write_floor, str(tmp / "bench.duckdb"), str(tmp / "floor.duckdb"))
        records = []
        for name, m in steps.items():
            result = m.get("result") or {}
            seconds = result.get("seconds") or m["wall_s"]
            records.append({"step": name, "rows": rows, "file_mb": round(mb, 1), "seconds": seconds,
                            "cpu_s": result.get("cpu_s"),
                            "mb_per_s": round(mb / seconds, 1) if seconds else None, "peak_rss_mb": m["peak_rss_mb"],
                            "process_wall_s": m["wall_s"], "result": result, "error": m.get("error")})
        by = {r["step"]: r for r in records}
        ingest, dry, pdm = (by[k]["result"] for k in ("workbench_ingest", "workbench_validate_dry_run",
                                                      "pandas_baseline_validate_only"))
        if ingest and dry and pdm:
            keys = ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule", "warnings_by_rule")
            # (the dry run does not predict the two warnings decided against the store while loading)
            stored = {k: n for k, n in ingest["warnings_by_rule"].items()
                      if k not in ("CRIME_NUMBER_DIFFERS", "MERGE_SUSPECT")}
            floor = {"step": "comparison",
                     "ingest_x_pandas": round(pdm["seconds"] / ingest["seconds"], 2),
                     "validate_x_pandas": round(pdm["seconds"] / dry["seconds"], 2),
                     # the pandas baseline must have done the same work: the same counts, rule by rule
                     "pandas_agrees_with_validate": all(pdm[k] == dry[k] for k in keys),
                     "validate_agrees_with_ingest": all(dry[k] == ingest[k] for k in keys[:4])
                     and dry["warnings_by_rule"] == stored}
            if by.get("floor_store_write_only", {}).get("result"):
                least = by["floor_duckdb_read_only"]["seconds"] + by["floor_store_write_only"]["seconds"]
                floor["ingest_ceiling_mb_per_s"] = round(mb / least, 1)  # read + write, nothing else
                floor["ingest_seconds_over_floor"] = round(ingest["seconds"] - least, 2)
                # the measure: floor time / ingest time (1.0 = the ingest costs only its read and write),
                # for the fast path and the general path of the same run, in wall time and in CPU time (the CPU
                # ratio is steadier on a shared machine)
                cpu_least = by["floor_duckdb_read_only"]["cpu_s"] + by["floor_store_write_only"]["cpu_s"]
                for step, key in (("workbench_ingest", ""), ("workbench_ingest_general_path", "_general_path")):
                    got = by.get(step, {}).get("result")
                    if got:
                        floor[f"ratio_to_floor{key}"] = round(least / got["seconds"], 3)
                        floor[f"cpu_ratio_to_floor{key}"] = round(cpu_least / got["cpu_s"], 3)
                general = by.get("workbench_ingest_general_path", {}).get("result")
                if general:
                    floor["fast_and_general_agree"] = all(general[k] == ingest[k] for k in keys) and all(
                        general[k] == ingest[k] for k in ("incidents_new", "duplicates_merged", "merge_suspects"))
                    if not floor["fast_and_general_agree"]:
                        floor["error"] = "the fast and the general load paths disagree on the counts"
            records.append(floor)
            if not (floor["pandas_agrees_with_validate"] and floor["validate_agrees_with_ingest"]):
                floor["error"] = "the three implementations disagree on the counts; the timings compare unlike work"
        return records
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
