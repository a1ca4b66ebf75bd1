"""Geography and maps: enrich N incidents (force area, LSOA, H3 x3, mismatch flag) and render the national map.

Synthetic incidents are placed inside England & Wales by sampling LSOA centroids with ~200 m jitter;
each carries its own coordinates (the worst case: no store to inherit from), a stated force that is the
centroid's force, except 2% given another force (so mismatch flagging has work). Full: 1M incidents,
quick: 20k. Each step runs in its own process (benchmarks.common.measure).
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.common import measure

FULL_N = 1_000_000
QUICK_N = 20_000


def _setup(db: str, n: int, seed: int = 42) -> dict:
    import numpy as np
    import pandas as pd

    from workbench import geography, reference
    from workbench.store import open_store

    Path(db).unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    centroids = geography.lsoa_centroids()
    picks = centroids.iloc[rng.integers(0, len(centroids), n)]
    forces = np.array(reference.territorial_force_codes())
    stated = picks["force_code"].to_numpy(dtype=object).copy()
    swap = rng.random(n) < 0.02
    stated[swap] = rng.choice(forces, swap.sum())
    frame = pd.DataFrame({
        "incident_id": np.arange(1, n + 1),
        "crime_number": [f"BM{i:08d}" for i in range(1, n + 1)],
        "force_code": stated,
        "latitude": picks["latitude"].to_numpy() + rng.normal(0, 0.0018, n),
        "longitude": picks["longitude"].to_numpy() + rng.normal(0, 0.0028, n),
    })
    with open_store(db) as store:
        store.con.register("_bench", frame)
        store.con.execute("INSERT INTO incidents (incident_id, crime_number, force_code, latitude, longitude) "
                          "SELECT incident_id, crime_number, force_code, latitude, longitude FROM _bench")
        store.con.unregister("_bench")
    return {"incidents": n}


def _enrich(db: str) -> dict:
    from workbench import geography
    from workbench.store import open_store

    with open_store(db) as store:
        return geography.enrich_store(store, geo_dir=Path(db).parent / "no-imported-geography")


def _render(db: str, html: str) -> dict:
    from workbench import maps
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        return maps.national_force_map(store, html, png=True)


def run(out_dir: Path, quick: bool) -> list[dict]:
    n = QUICK_N if quick else FULL_N
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = str(out_dir / "bench_geography.duckdb")
    html = str(out_dir / "bench_geography_forces.html")
    records = []
    setup = measure(_setup, db, n)
    records.append({"step": "setup (synthetic incidents)", "n": n, "wall_s": setup["wall_s"],
                    "peak_rss_mb": setup["peak_rss_mb"], "error": setup["error"]})
    enrich = measure(_enrich, db)
    result = enrich["result"] or {}
    records.append({"step": "enrich incidents (force, LSOA, H3 r7-9, mismatch)", "n": n, "wall_s": enrich["wall_s"],
                    "peak_rss_mb": enrich["peak_rss_mb"],
                    "incidents_per_s": round(n / enrich["wall_s"]) if enrich["wall_s"] else None,
                    "incidents_enriched": result.get("incidents_enriched"),
                    "force_mismatches": result.get("incidents_force_mismatch"), "error": enrich["error"]})
    render = measure(_render, db, html)
    result = render["result"] or {}
    records.append({"step": "render national force map (HTML + PNG)", "n": n, "wall_s": render["wall_s"],
                    "peak_rss_mb": render["peak_rss_mb"],
                    "html_mb": round(result.get("html_bytes", 0) / 1e6, 3),
                    "png_kb": round(result.get("png_bytes", 0) / 1e3, 1),
                    "forces_affected": result.get("forces_affected"), "error": render["error"]})
    Path(db).unlink(missing_ok=True)
    return records
