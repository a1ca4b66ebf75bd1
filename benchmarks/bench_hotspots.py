"""Hotspots at scale: 10M incidents synthesised directly in DuckDB over the sample world's real store locations.

Why synthesised: the sample generator takes ~20 min at scale 200 (10M incidents); the hotspot
queries only need located incidents, so rows are generated in SQL (generate_series): a store drawn
with probability proportional to its attractiveness (the sample world's 2,480 stores in real towns),
a time uniform over two years, an offence type, one or two tactic codes. Incidents carry the
store's force area, LSOA and H3 cells (as geography enrichment would give them).

Steps (each in its own process, benchmarks.common.measure):
  - setup + hotspot_cube build;
  - explorer filter change -> refreshed aggregated layer: 60 random filter combinations, p50/p95;
    also the whole explorer refresh (layer + offline map HTML) for counts;
  - Gi* with 999 permutations on ~5k H3 r8 cells (two forces' study area);
  - Knox with 999 permutations on 40k events (store locations), and on 40k scattered points (the
    no-shared-location worst case, permutations over 2 processes; engine "auto": the sweep; the
    sweep beside the pair counter it replaced is benchmarks/bench_knox.py);
  - patrol plan end to end (query, forecast, backtest, map HTML+PNG, PDF+PNG) for West Yorkshire;
  - map file sizes (plan map, national hotspot map).
Full: 10M incidents; quick: 200k.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.common import measure

FULL_N = 10_000_000
QUICK_N = 200_000


def _setup(db: str, n: int, seed: int = 42) -> dict:
    import numpy as np
    import pandas as pd

    from workbench import geography
    from workbench.hotspots import cube
    from workbench.sample import world
    from workbench.sample.generate import spec_from_config
    from workbench.store import open_store

    Path(db).unlink(missing_ok=True)
    stores = world.build_stores(spec_from_config(seed, 1.0), world.load_places())
    placed = geography.locate(stores["latitude"], stores["longitude"])
    st = pd.DataFrame({"store_id": stores["store_id"], "retailer_id": stores["retailer_code"],
                       "store_ref": stores["store_ref"], "name": stores["store_name"], "town": stores["town"],
                       "postcode": stores["postcode"], "latitude": stores["latitude"], "longitude": stores["longitude"],
                       "force_code": stores["force_code"]})
    st = pd.concat([st, placed], axis=1)
    w = stores["attractiveness"].to_numpy()
    cum = pd.DataFrame({"idx": np.arange(len(st)), "cum_hi": np.cumsum(w) / w.sum()})
    st["idx"] = np.arange(len(st))
    with open_store(db) as store:
        con = store.con
        retailers = stores[["retailer_code", "retailer_name", "sector"]].drop_duplicates("retailer_code")
        con.register("_r", retailers)
        con.execute("INSERT INTO retailers (retailer_id, name, sector) SELECT retailer_code, retailer_name, sector FROM _r")
        con.register("_s", st)
        con.execute("INSERT INTO stores (store_id, retailer_id, store_ref, name, town, postcode, latitude, longitude, "
                    "force_code, location_force_code, lsoa_code, h3_r7, h3_r8, h3_r9) SELECT store_id, retailer_id, "
                    "store_ref, name, town, postcode, latitude, longitude, force_code, location_force_code, lsoa_code, "
                    "h3_r7, h3_r8, h3_r9 FROM _s")
        con.register("_cum", cum)
        con.execute("CREATE TEMP TABLE pick AS SELECT s.idx, s.store_id, s.force_code, s.location_force_code, s.lsoa_code, "
                    "s.h3_r7, s.h3_r8, s.h3_r9, c.cum_hi FROM _s s JOIN _cum c USING (idx)")
        con.execute(f"SELECT setseed({seed / 100})")
        con.execute("""
            INSERT INTO incidents (incident_id, crime_number, force_code, store_id, occurred_at, offence_type, value_gbp,
                                   location_force_code, lsoa_code, h3_r7, h3_r8, h3_r9)
            WITH g AS (SELECT i, random() AS u, random() AS t, random() AS o, random() AS v
                       FROM generate_series(1, $n) s(i))
            SELECT g.i, 'B' || g.i, p.force_code, p.store_id,
                   TIMESTAMP '2024-10-01' + to_seconds(CAST(floor(g.t * 730 * 86400) AS BIGINT)),
                   CASE WHEN g.o < 0.9 THEN 'shoplifting' WHEN g.o < 0.97 THEN 'robbery' ELSE 'fraud' END,
                   round(10 + g.v * 200, 2), p.location_force_code, p.lsoa_code, p.h3_r7, p.h3_r8, p.h3_r9
            FROM g ASOF JOIN pick p ON g.u <= p.cum_hi
        """, {"n": n})
        tactics = ["CONCEAL", "FOIL", "RUSH", "RAZOR", "ALCOHOL", "COSMET", "VIOL", "DISTRACT"]
        con.register("_t", pd.DataFrame({"k": range(len(tactics)), "tactic_code": tactics}))
        con.execute("""
            INSERT INTO incident_tactics (incident_id, tactic_code)
            SELECT incident_id, tactic_code FROM (
                SELECT incident_id, CAST(floor(random() * 8) AS INTEGER) AS k FROM incidents
                UNION ALL
                SELECT incident_id, CAST(floor(random() * 8) AS INTEGER) FROM incidents WHERE random() < 0.5)
            JOIN _t USING (k) GROUP BY ALL
        """)
        incidents = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
        rows = cube.build(store)
    return {"incidents": int(incidents), "cube_rows": int(rows), "stores": int(len(st))}


def _filters(db: str, changes: int = 60, seed: int = 1) -> dict:
    import time

    import numpy as np
    import pandas as pd

    from workbench.hotspots import cube
    from workbench.store import open_store

    rng = np.random.default_rng(seed)
    with open_store(db, read_only=True) as store:
        opts = cube.options(store)
        first, last = pd.Timestamp(opts["first_day"]), pd.Timestamp(opts["last_day"])
        cube.layer(store)                                   # warm the connection once
        times, cells = [], []
        for _ in range(changes):
            days = int(rng.choice([28, 91, 182, 365, 730]))
            start = last - pd.Timedelta(days=days) if days < 730 else first
            f = {"resolution": int(rng.choice([7, 8])), "start": start, "end": last + pd.Timedelta(days=1),
                 "force_code": rng.choice([None] + opts["force_code"]) if rng.random() < 0.7 else None,
                 "retailer_id": rng.choice(opts["retailer_id"]) if rng.random() < 0.3 else None,
                 "offence_type": rng.choice(opts["offence_type"]) if rng.random() < 0.3 else None,
                 "tactic_code": rng.choice(opts["tactic_code"]) if rng.random() < 0.3 else None}
            t0 = time.perf_counter()
            layer = cube.layer(store, **f)
            times.append(time.perf_counter() - t0)
            cells.append(len(layer))
    ms = np.array(times) * 1000
    return {"changes": changes, "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "max_ms": round(float(ms.max()), 1),
            "median_cells": int(np.median(cells))}


def _explorer(db: str, changes: int = 12) -> dict:
    import time

    import numpy as np

    from widgets.hotspot_explorer import HotspotExplorer
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        x = HotspotExplorer(store)
        forces = [v for _, v in x.force.options if v][:changes]
        totals = []
        for code in forces:
            t0 = time.perf_counter()
            x.force.value = code
            totals.append(time.perf_counter() - t0)
    ms = np.array(totals) * 1000
    return {"changes": len(forces), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def _gistar(db: str) -> dict:
    import time

    from workbench.hotspots import counts, events, gistar
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        ev = events.from_store(store, start="2026-04-01")
    cm = counts.count_matrix(ev, "h3:8", "week", force_codes=["13", "06"])
    t0 = time.perf_counter()
    gi = gistar.hot_spots(cm, permutations=999)
    return {"cells": int(len(gi)), "events": int(cm.counts.sum()), "gistar_s": round(time.perf_counter() - t0, 2),
            "hot_cells": int(gi["category"].str.startswith("Hot").sum())}


def _knox(db: str, n: int = 40_000, iterations: int = 999, scattered: bool = False, n_jobs: int = 1,
          space_edges=None, engine: str = "auto") -> dict:
    import time

    import numpy as np

    from workbench.hotspots import cells, events, knox
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        ev = events.from_store(store, force_code="13")
    ev = ev.sample(n=min(n, len(ev)), random_state=1).reset_index(drop=True)
    x, y = cells.to_metric(ev["latitude"].to_numpy(), ev["longitude"].to_numpy())
    xy = np.column_stack([x, y])
    if scattered:                                  # no shared locations: every pair is counted one by one
        xy = xy + np.random.default_rng(2).normal(0, 300, xy.shape)
    days = ((ev["occurred_at"] - ev["occurred_at"].min()).dt.total_seconds() / 86400).to_numpy()
    t0 = time.perf_counter()
    table = knox.knox(xy=xy, days=days, iterations=iterations, n_jobs=n_jobs, engine=engine,
                      space_edges=space_edges or knox.DEFAULT_SPACE_EDGES)
    wall = time.perf_counter() - t0
    return {"events": int(len(xy)), "pairs": int(table.attrs["pairs"]), "strategy": table.attrs["strategy"],
            "iterations": iterations, "n_jobs": n_jobs, "knox_s": round(wall, 2),
            "per_999_s": round(wall * 1000 / (iterations + 1), 1)}


def _plan(db: str, out: str) -> dict:
    from workbench.cli import main

    code = main(["hotspots", "plan", "--force", "West Yorkshire", "--period", "next-week", "--out", out, "--db", db])
    if code:
        raise RuntimeError(f"plan exited {code}")
    files = {p.name: p.stat().st_size for p in Path(out).iterdir()}
    return {"map_html_bytes": files.get("map.html"), "pdf_bytes": files.get("briefing.pdf")}


def _national_map(db: str, out: str) -> dict:
    from workbench.cli import main

    code = main(["hotspots", "map", "--out", out, "--db", db])
    if code:
        raise RuntimeError(f"map exited {code}")
    return {"html_bytes": Path(out).stat().st_size}


def run(out_dir: Path, quick: bool) -> list[dict]:
    n = QUICK_N if quick else FULL_N
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = str(out_dir / "bench_hotspots.duckdb")
    records = []

    def record(step, m, **extra):
        records.append({"step": step, "n": n, "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
                        **(m["result"] or {}), **extra, "error": m["error"]})

    record("setup: synthesise incidents in DuckDB + build hotspot_cube", measure(_setup, db, n))
    record("explorer filter change -> aggregated layer (cube query)", measure(_filters, db))
    record("explorer filter change -> layer + offline map HTML (counts)", measure(_explorer, db))
    record("Gi* 999 permutations, h3:8 study area of two forces", measure(_gistar, db))
    record("Knox 999 permutations, 40k events at store locations", measure(_knox, db))
    record("Knox 999 permutations, 40k scattered events (no shared locations), 2 processes",
           measure(_knox, db, 40_000, 999 if not quick else 99, True, 2))
    record("Knox 999 permutations, 40k scattered events, bands to 400 m, 2 processes",
           measure(_knox, db, 40_000, 999 if not quick else 99, True, 2, (0, 100, 200, 400)))
    record("patrol plan end to end (West Yorkshire: query, forecast, backtest, map+PNG, PDF+PNG)",
           measure(_plan, db, str(out_dir / "bench_plan")))
    record("national hotspot map (Gi* 199 permutations on h3:7, HTML+PNG)",
           measure(_national_map, db, str(out_dir / "bench_hotspots_national.html")))
    return records
