"""The person model on Splink's Spark backend: the same settings, trained and scored by Spark (docs/scaling.md).

    resolve_persons(prepared, settings, backend="spark")        # workbench.linkage.persons
    PersonModel(settings, prepared, backend="spark")            # workbench.linkage.model (the hook)

How a run goes (what a cluster would do; here pyspark in local mode, `local[2]`):

1. the prepared person records (the store's persons table after `records.prepare_person_records`) are written
   as **Parquet** under the run's work directory and read by Spark (`spark.read.parquet`), not handed over as
   a pandas frame: that is the hand-over a cluster needs (the Parquet file would sit on shared storage);
2. Splink's `SparkAPI` runs the same Splink settings (`model.splink_settings`): the comparison SQL, written in
   DuckDB's dialect, is translated to Spark SQL (`spark_settings`: `jaro_winkler_similarity` and
   `damerau_levenshtein` become DuckDB's own functions called from Spark through Arrow UDFs, because Splink's
   Scala jar scores some names differently; everything else is standard SQL that sqlglot writes for Spark);
   prior, u by random sampling, m by EM and prediction all run in Spark;
3. the pairs kept (links, the review band and strong non-links, with the distance and hours between the two
   sightings for the context checks) are computed in Spark, written as **Parquet** and read back: the
   constraint-aware clustering (`clustering.cluster`, sequential by nature: strongest pair first, a merge
   refused when the clusters hold a cannot-link pair) then runs on the driver over those pairs, exactly as on
   DuckDB. `spark_components` gives Splink's own connected components on Spark (no constraints) for the
   links at a threshold, the partition the constrained clustering can only split.

Spark starts in local mode only: no cluster, no network (driver bound to 127.0.0.1, Spark UI off), its
scratch, checkpoint and warehouse directories under one temporary directory (`WORKBENCH_SPARK_TMP` or
/tmp/workbench-spark). Java 17+ is needed (`scripts/install_java.sh`, run by `make test`).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError

BACKENDS = ("duckdb", "spark")
DEFAULT_MASTER = "local[2]"
BREAK_LINEAGE = "persist"      # local: cache in memory; a cluster: "parquet" (checkpoint dir) or "checkpoint"
_LOCK = threading.Lock()
_SESSION = None
_ROOT: Path | None = None

for _name in ("py4j", "pyspark"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise WorkbenchError(f"unknown linkage backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


JAVA_MIN = 17                  # pyspark 4.x runs on Java 17 or later
INSTALL_HINT = "run `make java` (scripts/install_java.sh installs Debian's openjdk-17-jre-headless)"


def java_binary() -> str | None:
    """The java Spark would start: JAVA_HOME's first (as pyspark's launcher does), else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").exists():
        return str(Path(java_home, "bin", "java"))
    return shutil.which("java")


def java_major(java: str | None = None) -> int | None:
    """The major version of `java -version` ("17.0.15" -> 17, "1.8.0_402" -> 8), None when it cannot run."""
    import re
    import subprocess

    java = java or java_binary()
    if not java:
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_problem() -> str | None:
    """None when a Java pyspark can run on is there; else what is wrong, one line naming the fix."""
    java = java_binary()
    if not java:
        return f"no java on PATH or under JAVA_HOME: the Spark linkage backend needs Java {JAVA_MIN}+; {INSTALL_HINT}"
    major = java_major(java)
    if major is None:
        return f"{java} -version did not report a version: the Spark linkage backend needs Java {JAVA_MIN}+; {INSTALL_HINT}"
    if major < JAVA_MIN:
        return f"{java} is Java {major}: pyspark 4 needs Java {JAVA_MIN}+; {INSTALL_HINT}"
    return None


def spark_available() -> str | None:
    """None when pyspark imports and a Java 17+ is on PATH (or JAVA_HOME); else the reason, one line."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -c constraints.txt -e '.[dev]')"
    return java_problem()


def scratch_root() -> Path:
    root = Path(os.environ.get("WORKBENCH_SPARK_TMP") or Path(tempfile.gettempdir()) / "workbench-spark")
    root.mkdir(parents=True, exist_ok=True)
    return root


# A short run on a few hundred records (the CI equivalence test): the JVM's start and its JIT dominate, not the
# data, so the client compiler only and the serial collector; adaptive query execution off (on tiny inputs it only
# adds a re-planning step per shuffle), one shuffle partition (fewer tasks per job). Not for long runs: C1-only
# code is slower on hot loops.
SHORT_RUN = {"java_options": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
             "conf": {"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": "1"}}


def get_spark(master: str = DEFAULT_MASTER, shuffle_partitions: int = 2, driver_memory: str = "2g",
              conf: dict | None = None, java_options: str = ""):
    """The process's Spark session in local mode (made once): Splink's similarity jar, UI off, bound to
    127.0.0.1, every scratch directory under `scratch_root()`; `conf` adds or overrides Spark settings and
    `java_options` the driver JVM's (`get_spark(**SHORT_RUN)` for a short run)."""
    global _SESSION, _ROOT
    with _LOCK:
        if _SESSION is not None:
            return _SESSION
        reason = spark_available()
        if reason:
            raise WorkbenchError(f"the Spark backend cannot start: {reason}")
        if not master.startswith("local"):
            raise WorkbenchError(f"the Spark backend starts Spark in local mode only, not {master!r}; on a cluster "
                                 "build the session yourself and call set_spark(session) (docs/scaling.md)")
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        _ROOT = Path(tempfile.mkdtemp(prefix="run-", dir=scratch_root()))
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)     # Python workers run in this env (duckdb UDFs)
        java_tmp = f"-Djava.io.tmpdir={_ROOT / 'java'} {java_options}".strip()
        (_ROOT / "java").mkdir()
        builder = (SparkSession.builder.master(master).appName("workbench-linkage")
                   .config("spark.jars", similarity_jar_location())
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.memory", driver_memory)
                   .config("spark.driver.extraJavaOptions", java_tmp)
                   .config("spark.local.dir", str(_ROOT / "local"))
                   .config("spark.sql.warehouse.dir", str(_ROOT / "warehouse"))
                   .config("spark.sql.catalogImplementation", "in-memory")
                   .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
                   .config("spark.default.parallelism", str(int(shuffle_partitions)))
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.pyspark.python", sys.executable)          # workers: this env (duckdb UDFs)
                   .config("spark.pyspark.driver.python", sys.executable))
        for key, value in (conf or {}).items():
            builder = builder.config(key, str(value))
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        register_functions(spark)
        spark.sparkContext.setCheckpointDir(str(_ROOT / "checkpoints"))
        _SESSION = spark
        return spark


def set_spark(session, work_dir: str | Path | None = None) -> None:
    """Use a session built elsewhere (a real cluster: its checkpoint dir must be set, Splink's jar on
    spark.jars); `work_dir` is where the Parquet hand-over goes (shared storage on a cluster)."""
    global _SESSION, _ROOT
    with _LOCK:
        register_functions(session)
        _SESSION = session
        _ROOT = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="run-", dir=scratch_root()))


def stop_spark() -> None:
    """Stop the local session and remove its scratch directory."""
    global _SESSION, _ROOT
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
        if _ROOT is not None:
            shutil.rmtree(_ROOT, ignore_errors=True)
        _SESSION, _ROOT = None, None


def work_dir(kind: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=_ROOT or scratch_root()))
    return path


# -- string similarity: DuckDB's own functions inside Spark -----------------------------------------------------
# Splink's jar (jaro_winkler, damerau_levenshtein in Scala) does not compute what DuckDB computes: for
# "quentin"/"quetin" DuckDB's jaro_winkler_similarity is 0.928 and the jar's 0.908, so a pair at the >= 0.92
# level on DuckDB falls a level on Spark and the links differ (found by tests/test_linkage_spark.py). The same
# settings must give the same links, so by default Spark calls DuckDB's functions through Arrow UDFs (a batch of
# pairs per call, DuckDB in each Python worker; on a cluster every executor needs the project's Python env).
# STRING_FUNCTIONS = "splink-jar" keeps the jar (JVM-only, faster, the small differences above).
STRING_FUNCTIONS = "duckdb"
_UDF_NAMES = {"jaro_winkler_similarity": "wb_jaro_winkler_similarity", "damerau_levenshtein": "wb_damerau_levenshtein"}
_WORKER_CON = None


def duckdb_pairs(function: str, left, right):
    """DuckDB's `function(left, right)` over two Arrow arrays of one batch, as DOUBLE (runs in Spark's Python
    workers; `function` is one of _UDF_NAMES' keys, never user text)."""
    global _WORKER_CON
    import duckdb
    import pyarrow as pa

    if function not in _UDF_NAMES:
        raise ValueError(f"not a string function of the linkage settings: {function!r}")
    if _WORKER_CON is None:
        _WORKER_CON = duckdb.connect(":memory:")
        _WORKER_CON.execute("SET threads TO 1")
    batch = pa.table({"a": pa.array(left, pa.string()), "b": pa.array(right, pa.string())})
    _WORKER_CON.register("_pairs", batch)
    try:
        out = _WORKER_CON.sql(f"SELECT CAST({function}(a, b) AS DOUBLE) AS v FROM _pairs").to_arrow_table()
    finally:
        _WORKER_CON.unregister("_pairs")
    return out.column("v").combine_chunks()


def register_functions(spark) -> None:
    """DuckDB's string functions as Spark SQL functions (wb_jaro_winkler_similarity, wb_damerau_levenshtein)."""
    import warnings

    from pyspark.sql.functions import ArrowUDFType, arrow_udf

    def make(function):
        def call(left, right):
            return duckdb_pairs(function, left, right)
        return call

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for function, name in _UDF_NAMES.items():
            spark.udf.register(name, arrow_udf(make(function), "double", ArrowUDFType.SCALAR))


# -- settings: DuckDB's SQL dialect to Spark's -------------------------------------------------------------
def spark_sql(condition: str, functions: str | None = None) -> str:
    """One comparison condition of `model.splink_settings` (DuckDB SQL) as Spark SQL. String similarity: DuckDB's
    own functions through `register_functions` (the default), or with functions="splink-jar" the
    `jaro_winkler` / `damerau_levenshtein` of Splink's Scala jar; the rest is standard SQL."""
    import sqlglot
    from sqlglot import exp

    if condition.strip().upper() == "ELSE":
        return condition
    functions = functions or STRING_FUNCTIONS
    if functions not in ("duckdb", "splink-jar"):
        raise WorkbenchError(f"unknown string functions {functions!r}: use duckdb or splink-jar")

    def rename(node):
        if isinstance(node, exp.JarowinklerSimilarity):
            name = "jaro_winkler" if functions == "splink-jar" else _UDF_NAMES["jaro_winkler_similarity"]
            return exp.Anonymous(this=name, expressions=[node.this, node.expression])
        if (isinstance(node, exp.Anonymous) and str(node.this).lower() == "damerau_levenshtein"
                and functions == "duckdb"):
            return exp.Anonymous(this=_UDF_NAMES["damerau_levenshtein"], expressions=list(node.expressions))
        return node

    return sqlglot.parse_one(condition, read="duckdb").transform(rename).sql(dialect="spark")


def spark_settings(spec: dict) -> dict:
    """The Splink settings (or a saved model) with every comparison condition in Spark SQL; blocking rules
    (`l.c = r.c AND ...`) are the same in both dialects. Numbers (m, u, thresholds) are untouched."""
    out = json.loads(json.dumps(spec))
    for comparison in out.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            level["sql_condition"] = spark_sql(level["sql_condition"])
    out.pop("sql_dialect", None)
    return out


# -- the model on Spark ---------------------------------------------------------------------------------------
CONTEXT_COLUMNS = ("unique_id", "latitude", "longitude", "seen_epoch", "group_key")


def attach(model) -> None:
    """Build the Splink linker of a `model.PersonModel` on Spark: the records go through Parquet."""
    from splink import Linker, SparkAPI

    from workbench.linkage.model import MODEL_COLUMNS, splink_settings

    spark = get_spark()
    model.work = work_dir("persons")
    frame = model.prepared.loc[:, list(MODEL_COLUMNS)].copy()
    for c in ("latitude", "longitude"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in MODEL_COLUMNS:
        if c not in ("latitude", "longitude"):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None).astype("string")
    seen = pd.to_datetime(model.prepared["seen_at"], errors="coerce", utc=True)
    frame["seen_epoch"] = (seen - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    frame["group_key"] = model.prepared["group_key"].astype(object).where(model.prepared["group_key"].notna(),
                                                                          None).astype("string")
    records = model.work / "person_records.parquet"
    frame.to_parquet(records, index=False)
    sdf = spark.read.parquet(str(records))
    model.spark_name = model.work.name.replace("-", "_")          # one session runs many models: own names
    sdf.createOrReplaceTempView(f"ctx_{model.spark_name}")
    model.db_api = SparkAPI(spark_session=spark, break_lineage_method=BREAK_LINEAGE,
                            num_partitions_on_repartition=int(spark.conf.get("spark.sql.shuffle.partitions")))
    table = model.db_api.register(sdf.select(*MODEL_COLUMNS), table_name=f"person_records_{model.spark_name}")
    spec = model.model_json or splink_settings(model.settings, model.prepared)
    model.linker = Linker(table, spark_settings(spec), log_level=logging.WARNING)


def scored_pairs(model) -> pd.DataFrame:
    """Every blocked pair of the last `predict` (unique_id_l, unique_id_r, match_weight), through Parquet:
    what the equivalence test and the benchmark compare with DuckDB's pairs."""
    if getattr(model, "predictions", None) is None:
        raise WorkbenchError("predict first: there are no predictions to read")
    out = model.work / "scored_pairs.parquet"
    (get_spark().table(model.predictions.physical_name).select("unique_id_l", "unique_id_r", "match_weight")
     .write.mode("overwrite").parquet(str(out)))
    return pd.read_parquet(out).sort_values(["unique_id_l", "unique_id_r"], ignore_index=True)


def predict(model, keep_at_or_above: float, keep_at_or_below: float | None) -> pd.DataFrame:
    """Scored pairs as `PersonModel.predict` returns them, computed in Spark and brought back as Parquet."""
    spark = get_spark()
    model.predictions = model.linker.inference.predict()
    name = model.predictions.physical_name
    low = -1e9 if keep_at_or_below is None else float(keep_at_or_below)
    # the two bounds are floats formatted here; names are Splink's and this module's constants
    pairs = spark.sql(f"""
        WITH p AS (SELECT unique_id_l, unique_id_r, match_weight FROM {name}
                   WHERE match_weight >= {float(keep_at_or_above)!r} OR match_weight <= {low!r})
        SELECT p.unique_id_l, p.unique_id_r, p.match_weight,
               2 * 6371 * asin(sqrt(pow(sin(radians(b.latitude - a.latitude) / 2), 2) +
                   cos(radians(a.latitude)) * cos(radians(b.latitude)) *
                   pow(sin(radians(b.longitude - a.longitude) / 2), 2))) AS km,
               abs(b.seen_epoch - a.seen_epoch) / 3600.0 AS hours,
               a.group_key AS group_l, b.group_key AS group_r
        FROM p JOIN ctx_{model.spark_name} a ON a.unique_id = p.unique_id_l
               JOIN ctx_{model.spark_name} b ON b.unique_id = p.unique_id_r""")
    out = model.work / "pairs.parquet"
    pairs.write.mode("overwrite").parquet(str(out))
    frame = pd.read_parquet(out)
    for c in ("unique_id_l", "unique_id_r", "group_l", "group_r"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame.sort_values(["unique_id_l", "unique_id_r"], ignore_index=True)


def spark_components(model, threshold_match_weight: float) -> pd.DataFrame:
    """Splink's connected components on Spark of the pairs at or above a match weight (after `predict`):
    record_id, cluster_id (no constraints: the partition that the constrained clustering can only split)."""
    if getattr(model, "predictions", None) is None:
        raise WorkbenchError("predict first: there are no predictions to cluster")
    clusters = model.linker.clustering.cluster_pairwise_predictions_at_threshold(
        model.predictions, threshold_match_weight=float(threshold_match_weight))
    out = model.work / "components.parquet"
    get_spark().table(clusters.physical_name).select("unique_id", "cluster_id").write.mode("overwrite").parquet(str(out))
    frame = pd.read_parquet(out).rename(columns={"unique_id": "record_id"})
    return frame.astype({"record_id": str, "cluster_id": str})


def close(model) -> None:
    shutil.rmtree(getattr(model, "work", None) or "/nonexistent", ignore_errors=True)
