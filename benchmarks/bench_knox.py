"""Knox at 40k events: the sweep engine beside the pair counter (the implementation before it) in one run.

Events: 40,000 incidents at the sample world's West Yorkshire stores (drawn in proportion to store
attractiveness, as bench_hotspots does), times uniform over two years in whole seconds. "Scattered"
adds 300 m Gaussian jitter, so no two events share a location: the worst case for the pair counter
(every pair within 1.6 km, about 70M, recounted per permutation). Each step runs in its own process
(benchmarks.common.measure); permutations over 2 processes where stated. The sweep and pair tables are
compared cell by cell (observed, expected, p) for the same seed: `identical` in the JSON.
Full: 999 permutations; quick: 49. The pair counter on scattered events costs about 0.3-2 s a permutation
(it recounts every pair within the largest distance), so in the same run it is measured at a tenth of
the permutations (the sweep too, for the identity check) and its 999-permutation time is extrapolated
from its measured time per permutation (`pair_counter_extrapolated_s`: an upper estimate, as the one-off
pair listing is included); the sweep is measured at
the full count.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.common import measure

N = 40_000


def _events(n: int, scattered: bool):
    import numpy as np

    from workbench.hotspots import cells
    from workbench.sample import world
    from workbench.sample.generate import spec_from_config

    stores = world.build_stores(spec_from_config(42, 1.0), world.load_places())
    st = stores[stores["force_code"] == "13"]
    w = st["attractiveness"].to_numpy()
    rng = np.random.default_rng(1)
    pick = rng.choice(len(st), n, p=w / w.sum())
    x, y = cells.to_metric(st["latitude"].to_numpy()[pick], st["longitude"].to_numpy()[pick])
    xy = np.column_stack([x, y])
    if scattered:
        xy = xy + np.random.default_rng(2).normal(0, 300, xy.shape)
    days = rng.integers(0, 730 * 86400, n) / 86400
    return xy, days


def _knox(n: int, iterations: int, scattered: bool, engine: str, n_jobs: int, space_edges=None) -> dict:
    import hashlib
    import time

    from workbench.hotspots import knox

    xy, days = _events(n, scattered)
    t0 = time.perf_counter()
    table = knox.knox(xy=xy, days=days, iterations=iterations, n_jobs=n_jobs, engine=engine,
                      space_edges=space_edges or knox.DEFAULT_SPACE_EDGES)
    wall = time.perf_counter() - t0
    digest = hashlib.sha256(table[["observed", "expected", "p_value"]].to_csv(index=False).encode()).hexdigest()
    return {"events": int(len(xy)), "pairs": int(table.attrs["pairs"]), "strategy": table.attrs["strategy"],
            "iterations": iterations, "n_jobs": n_jobs, "knox_s": round(wall, 2),
            "observed_total": int(table["observed"].sum()), "table_sha256": digest[:16]}


def run(out_dir: Path, quick: bool) -> list[dict]:
    iterations = 49 if quick else 999
    records = []

    def record(step, m):
        records.append({"step": step, "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
                        **(m["result"] or {}), "error": m["error"]})
        return m["result"] or {}

    record(f"Knox {iterations} permutations, 40k events at store locations (auto: grouped), 1 process",
           measure(_knox, N, iterations, False, "auto", 1))
    few = max(5, (iterations + 1) // 10 - 1)
    for edges, label in ((None, "bands to 1.6 km"), ((0, 100, 200, 400), "bands to 400 m")):
        old = record(f"Knox {few} permutations, 40k scattered events, {label}, pair counter (before), 2 processes",
                     measure(_knox, N, few, True, "pairs", 2, edges))
        same = record(f"Knox {few} permutations, 40k scattered events, {label}, sweep (now), 2 processes",
                      measure(_knox, N, few, True, "sweep", 2, edges))
        records[-1]["identical_to_pair_counter"] = bool(old) and old.get("table_sha256") == same.get("table_sha256")
        new = record(f"Knox {iterations} permutations, 40k scattered events, {label}, sweep (now), 2 processes",
                     measure(_knox, N, iterations, True, "sweep", 2, edges))
        if old.get("knox_s") and new.get("knox_s"):
            per_permutation = old["knox_s"] / few
            records[-1]["pair_counter_extrapolated_s"] = round(per_permutation * iterations, 1)
            records[-1]["speedup"] = round(per_permutation * iterations / new["knox_s"], 1)
            records[-1]["target_s"] = 60
            records[-1]["met"] = new["knox_s"] <= 60
    return records
