"""Linkage at national scale: about a million person mentions resolved end to end on one machine.

A sample world at scale 30 (about 1.5M incidents, 1M person mentions) generated and ingested through the CLI
(`bench_linkage.build`, reused when already built under --out), then `workbench.linkage.run.run_all`
(persons: train, predict, cluster; vehicles; groups when that stage is present) measured in a process of its
own, wall time and peak memory, and scored against the world's ground truth as bench_linkage does. Targets
(issue 11): <= 5 minutes and <= 8 GB on 2 cores. The baseline in the same run is the scale-1 world (about
33k mentions) resolved the same way, so the growth with volume is visible. Quick: scale 0.3 beside 0.1.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks import bench_linkage
from benchmarks.common import measure

IN_DEFAULT_RUN = False        # `make bench` skips it; `python -m benchmarks.run linkage_national` runs it
FULL = (1.0, 30.0)
QUICK = (0.1, 0.3)
TARGET_S, TARGET_MB = 300, 8192


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    records = []
    for scale in (QUICK if quick else FULL):
        root = Path(out_dir) / (f"linkage_scale_{scale:g}")
        if scale == 30.0:
            root = Path(out_dir) / "linkage_1m"
        world, db = bench_linkage.build(root, scale)
        timed = measure(bench_linkage._resolve, str(db))
        runs = timed["result"] or []
        mentions = next((r.get("records") for r in runs if r.get("entity") == "person"), None)
        record = {"step": f"resolve end to end, scale {scale:g}", "scale": scale, "person_mentions": mentions,
                  "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"],
                  "runs": runs}
        if scale == max(QUICK if quick else FULL):
            record |= {"target_s": TARGET_S, "target_peak_mb": TARGET_MB,
                       "met": (not timed["error"]) and timed["wall_s"] <= TARGET_S and timed["peak_rss_mb"] <= TARGET_MB}
        records.append(record)
        if not timed["error"]:
            records.append({"step": f"accuracy, scale {scale:g}", "scale": scale, **bench_linkage.score(db, world)})
    return records
