"""Referral ingest throughput: a generated 1M-row referral extract (several hundred MB of CSV) through the full
workbench ingest (detect, read, validate every rule, quarantine, dedup, load into the store, audit), beside a
pandas baseline that reads the same file and applies the same validation rules (without writing anything).

Each step runs in its own child process (benchmarks.common.measure): wall time and peak RSS.
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


def workbench_ingest(extract: str, db: str) -> dict:
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    with open_store(db) as store:
        ingest_file(store, Path(extract).parent / "store_directory.csv")
        report = ingest_file(store, extract)
    return {k: report[k] for k in ("rows_read", "rows_accepted", "rows_quarantined", "seconds", "engine")}


def workbench_validate(extract: str, db: str) -> dict:
    """The dry run (`workbench validate`): read, stage, every rule, counts; nothing written to the store."""
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import open_store

    with open_store(db) as store:
        ingest_file(store, Path(extract).parent / "store_directory.csv")
        report = validate_file(store, extract)
    return {k: report[k] for k in ("rows_read", "rows_accepted", "rows_quarantined", "seconds", "engine")}


def _make(path: str, rows: int) -> dict:
    return make_extract(Path(path), rows)


def pandas_baseline(extract: str) -> dict:
    """The same row rules in pandas (vectorised where pandas allows), chunked to bound memory; no writes."""
    import re

    from workbench import reference
    from workbench.ingest.validate import FORMULA_RE, MARKUP_RE

    start = time.perf_counter()
    codes = set(reference.tactics()["tactic_code"])
    synonyms = reference.tactic_synonyms()
    now = pd.Timestamp.now()
    read = quarantined = 0
    formula = re.compile(FORMULA_RE)
    for chunk in pd.read_csv(extract, dtype=str, keep_default_na=False, chunksize=200_000):
        read += len(chunk)
        crime_norm = chunk["crime_ref"].str.replace(r"[^A-Za-z0-9]", "", regex=True).str.upper()
        forces = {v: reference.resolve_force(v) for v in chunk["police_force"].unique()}
        force_code = chunk["police_force"].map(forces)
        occurred = pd.to_datetime(chunk["occurred"], format="%Y-%m-%d %H:%M", errors="coerce")
        referred = pd.to_datetime(chunk["referred_at"], format="%Y-%m-%d %H:%M", errors="coerce")
        value = pd.to_numeric(chunk["loss_gbp"].str.replace(r"[£,\s]", "", regex=True), errors="coerce")
        count = pd.to_numeric(chunk["num_offenders"], errors="coerce")
        grading = chunk["grading"].str.replace(r"[^A-Za-z0-9]", "", regex=True).str.upper()
        grading_ok = grading.str.fullmatch(r"[123][A-E][PC]|[A-E][1-5][1-5]") | (grading == "")
        errors = ((crime_norm == "") | force_code.isna() | occurred.isna() | (occurred > now) | (referred > now)
                  | (occurred > referred) | (value < 0) | (count < 0) | value.isna() | ~grading_ok)
        # warnings computed as the workbench does (VRM classes, tactics, formulas, markup, DOBs)
        vrm = chunk["vehicle_reg"].str.replace(r"[^A-Za-z0-9?*]", "", regex=True).str.upper()
        _ = vrm.str.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z]{3}|[A-Z][0-9]{1,3}[A-Z]{3}|[A-Z]{3}[0-9]{1,3}[A-Z]")
        tactic_map = {}
        for raw in chunk["tactic_codes"].unique():
            tactic_map[raw] = [t.strip().upper() in codes or reference.normalise_label(t) in synonyms
                               for t in raw.split(";") if t.strip()]
        _ = chunk["tactic_codes"].map(lambda r: all(tactic_map[r]))
        for col in ("narrative", "offender_names", "dems_ref", "crime_ref", "vehicle_reg", "tactic_codes"):
            _ = chunk[col].str.contains(formula) | chunk[col].str.contains(MARKUP_RE, regex=True)
        dobs = chunk["offender_dobs"].str.split("; ").explode()
        _ = pd.to_datetime(dobs, format="%Y-%m-%d", errors="coerce").isna()
        # a referral is held back when any of its rows fails (one row per referral in this file)
        quarantined += int(errors.sum())
    return {"rows_read": read, "rows_quarantined": quarantined, "seconds": round(time.perf_counter() - start, 3)}


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
        wb = measure(workbench_ingest, str(extract), str(tmp / "bench.duckdb"))
        wv = measure(workbench_validate, str(extract), str(tmp / "bench_validate.duckdb"))
        pdm = measure(pandas_baseline, str(extract))
        records = []
        for name, m in (("workbench_ingest", wb), ("pandas_baseline_validate_only", pdm),
                        ("workbench_validate_dry_run", wv)):
            result = m.get("result") or {}
            seconds = result.get("seconds") or m["wall_s"]
            records.append({"step": name, "rows": rows, "file_mb": round(mb, 1), "seconds": seconds,
                            "mb_per_s": round(mb / seconds, 1) if seconds else None, "peak_rss_mb": m["peak_rss_mb"],
                            "process_wall_s": m["wall_s"], "result": result, "error": m.get("error")})
        if wb.get("result") and pdm.get("result") and wv.get("result"):
            records.append({"step": "speedup_vs_pandas",
                            "ingest_x": round(records[1]["seconds"] / records[0]["seconds"], 2),
                            "validate_x": round(records[1]["seconds"] / records[2]["seconds"], 2),
                            "quarantined_agree": wb["result"]["rows_quarantined"] == pdm["result"]["rows_quarantined"]
                            == wv["result"]["rows_quarantined"]})
        return records
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
