"""Intelligence package build time (issue 13): the package of the largest group (most incidents), every format.

    python -m benchmarks.run --out out/bench packages [--quick]

World: the linkage bench's (bench_linkage.build: quick scale 0.1, full scale 1, i.e. about 50k incidents; reused
when built). Steps, each in its own process (benchmarks.common.measure): the baseline `crossborder.analyse` of
the group (what the package builds on), the group's network (build_network, reading the
whole store, beside package_network, reading only the group's rows; checked identical), `compute` (the content, no
files), and `build` (HTML, PDF, DOCX, annex
CSV/XLSX, ANX, read-back check, manifest, zip) with the time of each stage. Then the same store grown to 1M
incidents (full; quick: 200k) by unlinked copies (bench_crossborder_mo.grow_store: the groups' series stay as
they are, every copy is an unlinked incident) and the same group's package built there: the baseline is the
same build on the ungrown store in the same run. Target (issue 13): <= 30 s for all formats at 1M incidents.
The 10M store: `WORKBENCH_BENCH_GROWN_N=10000000 python -m benchmarks.run packages` (grown in about 95 s; the
unnarrowed build_network beside it peaks near 13 GB).
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from benchmarks import bench_crossborder, bench_linkage
from benchmarks.common import measure

QUICK_SCALE = bench_linkage.QUICK_SCALE
FULL_SCALE = 1.0
GROWN_N = 1_000_000
QUICK_GROWN_N = 200_000


def _largest_group(db: str) -> tuple[str, int]:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        row = store.sql("SELECT group_id, incidents FROM groups WHERE status = 'active' "
                        "ORDER BY incidents DESC, group_id LIMIT 1")
    return str(row.group_id.iloc[0]), int(row.incidents.iloc[0])


def _analyse(db: str, group: str) -> dict:
    from workbench import crossborder
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        cb = crossborder.analyse(store, group)
    return {"incidents": int(len(cb.series.incidents))}


def _compute(db: str, group: str) -> dict:
    from workbench import packages
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        pkg = packages.compute(store, group)
    return {"incidents": len(pkg.contents["incidents"]), "referrals": int(len(pkg.annex["referrals"]))}


def _build(db: str, group: str, out: str) -> dict:
    """The whole build, with each stage timed by wrapping the format writers."""
    from workbench import packages
    from workbench.packages import builder, formats, sanitise
    from workbench.store import open_store

    stages: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = round(stages.get(name, 0.0) + time.perf_counter() - start, 3)
        return wrapper
    for name in ("page_html", "write_pdf", "write_docx", "write_annex", "write_anx", "chart_images"):
        setattr(formats, name, timed(name, getattr(formats, name)))
    builder.compute = timed("compute", builder.compute)
    from workbench import crossborder
    from workbench.packages import content
    content.crossborder = type("timed_crossborder", (), {
        "analyse": staticmethod(timed("compute.crossborder_analyse", crossborder.analyse)),
        "series_profile": staticmethod(crossborder.series_profile)})
    content.package_network = timed("compute.package_network", content.package_network)
    sanitise.check_outputs = timed("read_back_check", sanitise.check_outputs)
    shutil.rmtree(out, ignore_errors=True)
    with open_store(db) as store:
        result = packages.build(store, group, out, purpose="benchmark: package build time")
    return {"incidents": result["incidents"], "pdf_pages": result["pdf_pages"], "files": len(result["files"]),
            "bytes": sum(Path(f).stat().st_size for f in result["files"]), "stages_s": stages}


def _networks(db: str, group: str) -> dict:
    """The group's association network two ways in one process: linkage.network.build_network (reads the whole
    store, then filters: the baseline) and packages.content.package_network (reads only the group's persons and
    incidents); the two must be the same frames."""
    import pandas as pd

    from workbench.linkage.network import build_network
    from workbench.packages.content import package_network
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        start = time.perf_counter()
        whole = build_network(store, group_id=group)
        mid = time.perf_counter()
        narrow = package_network(store, group_id=group)
        end = time.perf_counter()
    pd.testing.assert_frame_equal(whole.nodes, narrow.nodes)
    pd.testing.assert_frame_equal(whole.edges, narrow.edges)
    return {"build_network_s": round(mid - start, 3), "package_network_s": round(end - mid, 3),
            "nodes": int(len(narrow.nodes)), "edges": int(len(narrow.edges)), "identical": True}


def run_grown(db: str, group: str, out_dir: Path, n: int) -> list[dict]:
    """The store grown to about n incidents by unlinked copies, and the group's package built there."""
    from benchmarks.bench_crossborder_mo import grow_store

    big = Path(out_dir) / f"packages_grown_{n // 1000}k.duckdb"
    records = []
    try:
        grown = measure(grow_store, db, str(big), n)
        records.append({"step": "grow_store", "wall_s": grown["wall_s"], "peak_rss_mb": grown["peak_rss_mb"],
                        "error": grown["error"], **(grown["result"] or {})})
        if not grown["error"]:
            nets = measure(_networks, str(big), group)
            records.append({"step": f"network_grown_{n // 1000}k", "group_id": group, "wall_s": nets["wall_s"],
                            "peak_rss_mb": nets["peak_rss_mb"], "error": nets["error"], **(nets["result"] or {})})
            timed = measure(_build, str(big), group, str(Path(out_dir) / "packages_bench_grown"))
            records.append({"step": f"build_all_formats_grown_{n // 1000}k", "group_id": group,
                            "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"],
                            **(timed["result"] or {})})
    finally:
        big.unlink(missing_ok=True)
        Path(str(big) + ".wal").unlink(missing_ok=True)
    return records


def run(out_dir: Path, quick: bool = False, scale: float | None = None) -> list[dict]:
    scale = scale or (QUICK_SCALE if quick else FULL_SCALE)
    root = Path(out_dir) / ("linkage_quick" if scale == QUICK_SCALE else f"packages_{scale:g}")
    _world, db = bench_linkage.build(root, scale)
    bench_crossborder._resolve_if_needed(str(db))
    group, incidents = _largest_group(str(db))
    records = []
    for step, fn, args in (("baseline_crossborder_analyse", _analyse, (str(db), group)),
                           ("network", _networks, (str(db), group)),
                           ("compute_content", _compute, (str(db), group)),
                           ("build_all_formats", _build, (str(db), group, str(Path(out_dir) / "packages_bench")))):
        timed = measure(fn, *args)
        records.append({"step": step, "scale": scale, "group_id": group, "group_incidents": incidents,
                        "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"],
                        **(timed["result"] or {})})
    grown = int(os.environ.get("WORKBENCH_BENCH_GROWN_N") or (QUICK_GROWN_N if quick else GROWN_N))
    records += run_grown(str(db), group, out_dir, grown)
    return records
