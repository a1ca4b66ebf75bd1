"""Cross-border views and tactic trends: what rendering costs beside the analysis it draws.

    python -m benchmarks.run crossborder_views [--quick]

On the linked world of bench_crossborder (quick: scale 0.1, seed 7; full: its FULL_SCALE, 0.5), each step in its own process
(wall time, peak RSS): the baseline `analyse` of the most cross-border group, `render_group` of the same group
(analysis included, all five pages written and audited, with their sizes), `tactic_trends` and `render_tactics`
(trends included). The store is copied first, so the audit rows written here never touch the benchmark world.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks import bench_crossborder, bench_linkage
from benchmarks.common import measure


def _widest(db: str) -> str:
    from workbench.crossborder import several_forces
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        return str(several_forces(store).group_id.iloc[0])


def _analyse(db: str, gid: str) -> dict:
    from workbench.crossborder import analyse
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        cb = analyse(store, gid)
    return {"group_id": gid, "incidents": int(len(cb.series.incidents)), "runs": int(len(cb.runs.runs)),
            "legs": int(len(cb.runs.legs)), "forces": int(cb.forces.force_code.nunique())}


def _render(db: str, gid: str, out: str) -> dict:
    from workbench.crossborder.views import playback_available, render_group
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        written = render_group(store, gid, out)
    return {"group_id": gid, "playback": playback_available(),
            "bytes": {view: Path(p).stat().st_size for view, p in written.items()}}


def _trends(db: str) -> dict:
    from workbench.crossborder.trends import tactic_trends
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        t = tactic_trends(store)
    return {"tactics": int(len(t.trends)), "months": int(t.spread.month.nunique()), "rising": int(t.trends.rising.sum()),
            "falling": int(t.trends.falling.sum())}


def _render_tactics(db: str, out: str) -> dict:
    from workbench.crossborder.views import render_tactics
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        written = render_tactics(store, out)
    return {"bytes": Path(written["tactics"]).stat().st_size}


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    scale = bench_crossborder.QUICK_SCALE if quick else bench_crossborder.FULL_SCALE
    root = Path(out_dir) / ("linkage_quick" if scale == bench_crossborder.QUICK_SCALE else f"crossborder_{scale:g}")
    _world, db = bench_linkage.build(root, scale)
    bench_crossborder._resolve_if_needed(str(db))
    work = Path(out_dir) / "crossborder_views"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy = work / "store.duckdb"
    shutil.copyfile(db, copy)
    gid = _widest(str(copy))
    steps = [("baseline_analyse_group", _analyse, (str(copy), gid)),
             ("render_group", _render, (str(copy), gid, str(work / "out"))),
             ("tactic_trends", _trends, (str(copy),)),
             ("render_tactics", _render_tactics, (str(copy), str(work / "out")))]
    records = []
    for step, fn, args in steps:
        timed = measure(fn, *args)
        records.append({"step": step, "scale": scale, "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"],
                        "error": timed["error"], **(timed["result"] or {})})
    return records
