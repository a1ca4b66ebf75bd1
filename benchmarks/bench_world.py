"""World generation and store build at 1M and 10M incidents (quick mode: 50k).

Each step runs in its own process (benchmarks.common.measure) for an honest peak-memory figure.
Store build = ingest of every extract of the world (store directory first) into a fresh DuckDB file.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.common import measure

SIZES = {"1M": 20.0, "10M": 200.0}
QUICK_SIZES = {"50k": 1.0}


def _generate(scale: float, out: str) -> dict:
    from workbench.sample.generate import generate_world

    manifest = generate_world(seed=42, scale=scale, out_dir=Path(out))
    size = sum(p.stat().st_size for p in (Path(out) / "extracts").iterdir())
    return {"incidents": manifest["incidents"], "extract_rows": sum(s["rows"] for s in manifest["sources"]),
            "extract_mb": round(size / 1e6, 1)}


def _build_store(world_dir: str, db: str) -> dict:
    from workbench.ingest import ingest_paths
    from workbench.store import open_store

    with open_store(db) as store:
        reports = ingest_paths(store, [Path(world_dir) / "extracts"])
        counts = dict(store.table_counts().itertuples(index=False, name=None))
    failed = [r for r in reports if r.get("status") == "failed"]
    return {"files": len(reports), "failed_files": len(failed),
            "rows_read": sum(r.get("rows_read", 0) for r in reports),
            "rows_quarantined": sum(r.get("rows_quarantined", 0) for r in reports),
            "incidents_in_store": counts.get("incidents"), "referrals_in_store": counts.get("referrals"),
            "db_mb": round(Path(db).stat().st_size / 1e6, 1)}


def run(out_dir: Path, quick: bool) -> list[dict]:
    records = []
    for label, scale in (QUICK_SIZES if quick else SIZES).items():
        work = Path(tempfile.mkdtemp(prefix=f"bench-world-{label}-"))
        try:
            gen = measure(_generate, scale, str(work / "world"))
            records.append({"step": "generate_world", "size": label, "scale": scale, "wall_s": gen["wall_s"],
                            "peak_rss_mb": gen["peak_rss_mb"], **(gen["result"] or {}), "error": gen["error"]})
            if gen["error"]:
                continue
            build = measure(_build_store, str(work / "world"), str(work / "store.duckdb"))
            rows = (build["result"] or {}).get("rows_read") or 0
            records.append({"step": "build_store", "size": label, "wall_s": build["wall_s"],
                            "peak_rss_mb": build["peak_rss_mb"],
                            "rows_per_s": round(rows / build["wall_s"]) if build["wall_s"] else None,
                            **(build["result"] or {}), "error": build["error"]})
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return records
