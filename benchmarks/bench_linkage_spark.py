"""Person linkage on DuckDB and on Splink's Spark backend (pyspark local[2]) on the same records, two sizes.

Records: the persons-only national extract of `bench_linkage_national` (the sample world's name, nickname,
misspelling and DOB noise; one-off, repeat, prolific offenders and crews), seeded. Per size, each in a process
of its own (`benchmarks.common.measure`):

1. **duckdb**: prepare, `resolve_persons` (collapse identical, train: prior, u, EM; predict; cluster); the trained
   model (Splink JSON) is saved;
2. **spark**: prepare, start Spark (timed apart: JVM and session), `resolve_persons(..., model_json=<the DuckDB
   model>, backend="spark")`: blocking, term frequencies and prediction in Spark, records in and pairs out as
   Parquet, clustering on the driver. The same trained model on both backends, as in tests/test_linkage_spark.py:
   what is compared is the scoring, not EM's summation order;
3. **agreement**: links above the auto-link weight, the review band and the clusters, DuckDB against Spark, and
   the largest match-weight difference over the pairs kept.

Spark's Python process is measured by `measure` (ru_maxrss); the JVM is another process, so its own peak resident
set (VmHWM) is read from /proc before the session stops.

Sizes: full 5,000 and 25,000 mentions; quick (`make bench --quick`) 2,000 only. IN_DEFAULT_RUN = "quick": a plain
`make bench` leaves it out (minutes of Spark on 2 cores); `python -m benchmarks.run linkage_spark` runs the full sizes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from benchmarks import bench_linkage_national as national
from benchmarks.common import measure

IN_DEFAULT_RUN = "quick"
FULL_SIZES = (5_000, 25_000)
QUICK_SIZES = (2_000,)
SEED = 7


def _prepared(path: str):
    from workbench.linkage.records import prepare_person_records
    from workbench.linkage.settings import load_settings

    settings = load_settings()
    cell = float((settings.persons.get("context") or {}).get("place_cell_degrees", 0.5))
    frame = pd.read_parquet(path).drop(columns=["person_id", "written_flags"])
    return settings, prepare_person_records(frame, "mention_id", national.EXTRACT_ROLES, place_cell_degrees=cell)


def _save(resolution, out: Path) -> None:
    resolution.clusters[["record_id", "cluster_id"]].to_parquet(out / "clusters.parquet", index=False)
    resolution.pairs[["id_l", "id_r", "match_weight"]].to_parquet(out / "pairs.parquet", index=False)


def _stage_times(stages: list[dict]) -> dict:
    return {st["stage"]: st["wall_s"] for st in stages if "/" not in st["stage"]}


def _duckdb(path: str, out: str) -> dict:
    from workbench.linkage.persons import resolve_persons
    from workbench.linkage.stages import recording

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings, prepared = _prepared(path)
    with recording() as stages:
        start = time.perf_counter()
        resolution = resolve_persons(prepared, settings)
        resolve_s = time.perf_counter() - start
    (out / "model.json").write_text(json.dumps(resolution.model.model_json))
    _save(resolution, out)
    times = _stage_times(stages)
    return {"records": int(len(prepared)), "representatives": resolution.stats.get("representatives"),
            "pairs_kept": resolution.stats.get("pairs_kept"), "clusters": resolution.stats.get("clusters"),
            "resolve_s": round(resolve_s, 2), "train_s": times.get("train"),
            "predict_s": times.get("predict"), "cluster_s": times.get("cluster")}


def _jvm_peak_mb(spark) -> float | None:
    """Peak resident set of the Spark JVM (a child process of the Python driver), from /proc."""
    try:
        pid = spark.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except Exception:  # noqa: BLE001 - a figure we cannot read is reported as missing
        return None
    return None


def _spark(path: str, model_path: str, out: str) -> dict:
    from workbench.linkage import spark_backend
    from workbench.linkage.persons import resolve_persons
    from workbench.linkage.stages import recording

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    import os

    os.environ["WORKBENCH_SPARK_TMP"] = str(out / "scratch")
    settings, prepared = _prepared(path)
    model_json = json.loads(Path(model_path).read_text())
    start = time.perf_counter()
    spark = spark_backend.get_spark()
    start_s = time.perf_counter() - start
    try:
        with recording() as stages:
            start = time.perf_counter()
            resolution = resolve_persons(prepared, settings, model_json=model_json, backend="spark")
            resolve_s = time.perf_counter() - start
        _save(resolution, out)
        jvm = _jvm_peak_mb(spark)
    finally:
        spark_backend.stop_spark()
    times = _stage_times(stages)
    return {"records": int(len(prepared)), "pairs_kept": resolution.stats.get("pairs_kept"),
            "clusters": resolution.stats.get("clusters"), "spark_start_s": round(start_s, 2),
            "resolve_s": round(resolve_s, 2), "predict_s": times.get("predict"), "cluster_s": times.get("cluster"),
            "jvm_peak_rss_mb": jvm, "master": spark_backend.DEFAULT_MASTER,
            "shuffle_partitions": 2}


def agreement(duck_dir: Path, spark_dir: Path, auto_link: float, review: float) -> dict:
    """Links, review band and clusters of the two runs compared."""
    def pairs(d):
        p = pd.read_parquet(d / "pairs.parquet")
        p["key"] = [tuple(sorted(x)) for x in zip(p.id_l.astype(str), p.id_r.astype(str))]
        return p.set_index("key").match_weight

    def partition(d):
        c = pd.read_parquet(d / "clusters.parquet")
        return {frozenset(g.record_id) for _, g in c.groupby("cluster_id")}

    a, b = pairs(duck_dir), pairs(spark_dir)
    both = a.index.intersection(b.index)
    links_a, links_b = set(a[a >= auto_link].index), set(b[b >= auto_link].index)
    band_a = set(a[(a >= review) & (a < auto_link)].index)
    band_b = set(b[(b >= review) & (b < auto_link)].index)
    return {"links_duckdb": len(links_a), "links_spark": len(links_b), "same_links": links_a == links_b,
            "same_review_band": band_a == band_b, "same_pairs_kept": set(a.index) == set(b.index),
            "same_clusters": partition(duck_dir) == partition(spark_dir),
            "max_abs_weight_diff": float((a[both] - b[both]).abs().max()) if len(both) else None}


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    from workbench.linkage.settings import load_settings

    records = []
    for n in (QUICK_SIZES if quick else FULL_SIZES):
        root = Path(out_dir) / f"linkage_spark_{n}"
        built = measure(national.build_extract, root, n, SEED)
        path = str(root / "mentions.parquet")
        duck = measure(_duckdb, path, str(root / "duckdb"))
        records.append({"step": "duckdb", "size": n, "wall_s": duck["wall_s"], "peak_rss_mb": duck["peak_rss_mb"],
                        "error": duck["error"] or built["error"], **(duck["result"] or {})})
        if duck["error"]:
            continue
        spark = measure(_spark, path, str(root / "duckdb" / "model.json"), str(root / "spark"))
        records.append({"step": "spark", "size": n, "wall_s": spark["wall_s"], "peak_rss_mb": spark["peak_rss_mb"],
                        "error": spark["error"], **(spark["result"] or {})})
        if spark["error"]:
            continue
        settings = load_settings().for_records(duck["result"]["records"])
        same = agreement(root / "duckdb", root / "spark", settings.auto_link, settings.review)
        d, s = duck["result"], spark["result"]
        records.append({"step": "comparison", "size": n, **same,
                        "scoring_duckdb_s": round((d["predict_s"] or 0) + (d["cluster_s"] or 0), 2),
                        "scoring_spark_s": round((s["predict_s"] or 0) + (s["cluster_s"] or 0), 2),
                        "spark_over_duckdb_scoring": round(((s["predict_s"] or 0) + (s["cluster_s"] or 0)) /
                                                           max((d["predict_s"] or 0) + (d["cluster_s"] or 0), 1e-3), 1),
                        "error": None if (same["same_links"] and same["same_clusters"]) else
                        "DuckDB and Spark disagree on links or clusters"})
    return records
