"""Cross-border tactics: time and accuracy of series, runs, forces, flows, home base and lead force (issue 12).

A world is generated and ingested (benchmarks/bench_linkage.build), persons, vehicles and groups resolved
(`run_all`), then for every active group `workbench.crossborder.analyse` is timed (and `several_forces`), and
the results are scored against the world's ground truth (here and in tests, never in library code):

- store incidents meet true incidents through their current referrals (source_name, source_ref, version > 1 as
  resubmission) and ground_truth/referral_rows (world_incident_id); an incident takes its referrals' majority;
- each found group stands for the true group most of its series' incidents belong to ("matched" when that is
  more than half of them);
- forces: the found group's forces against the forces of the true group's incidents that reached the store
  (exact set equality), and beside it against all the true group's incidents (referred or not);
- runs: pairwise precision/recall over pairs of the matched true group's store incidents (two incidents in one
  found run vs in one true run_id), and the share of true runs (two or more store incidents) recovered exactly;
- forces are also scored against the true group's referred incidents that name a member or give a plate (world
  version 2 refers 30% of group incidents CCTV-only: no name or plate ties them to the group, so no series can
  hold them; "forces_exact_named");
- home base: km from the estimate to the truth's home base (groups.home_lat/home_lon: the home town's centre);
- lead force: equal to the truth's most-affected force (groups.most_affected_force, or any force tied with it)
  or its home force (groups.home_force_code).

Quick: scale 0.1 (the linkage accuracy test's world); full: scale 0.5.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import bench_linkage
from benchmarks.common import measure

QUICK_SCALE = 0.1
FULL_SCALE = 0.5
HOME_KM = 25.0


def incident_truth(con, world: Path) -> pd.DataFrame:
    """Store incident_id -> world_incident_id (majority over its current referrals' rows)."""
    refs = con.execute("""SELECT ri.incident_id, r.source_name, r.source_ref, r.version > 1 AS resubmission
                          FROM referral_incidents ri JOIN referrals r ON r.referral_id = ri.referral_id
                          WHERE r.is_current""").df()
    rows = pd.read_parquet(Path(world) / "ground_truth" / "referral_rows.parquet")
    rows = rows.drop_duplicates(["source_name", "referral_ref", "resubmission"])
    merged = refs.merge(rows[["source_name", "referral_ref", "resubmission", "world_incident_id"]],
                        left_on=["source_name", "source_ref", "resubmission"],
                        right_on=["source_name", "referral_ref", "resubmission"], how="inner")
    major = merged.groupby("incident_id").world_incident_id.agg(lambda s: s.value_counts().index[0])
    return major.rename("world_incident_id").reset_index()


def _pairs(labels: pd.Series) -> set:
    out = set()
    for _, ids in labels.dropna().groupby(labels.dropna()):
        ids = sorted(ids.index)
        out.update((a, b) for k, a in enumerate(ids) for b in ids[k + 1:])
    return out


def score_results(results: dict, db, world) -> dict:
    """Accuracy of {group_id: CrossBorder} against the world's truth."""
    import duckdb

    from workbench.crossborder.runs import haversine_km

    con = duckdb.connect(str(db), read_only=True)
    try:
        mapping = incident_truth(con, Path(world))
    finally:
        con.close()
    gt = Path(world) / "ground_truth"
    version = json.loads((Path(world) / "manifest.json").read_text()).get("world_version", 1)
    if version < 2:   # a world reused from before version 2 has no home bases or most-affected forces in its truth
        raise RuntimeError(f"{world} was made by sample world version {version}; scoring needs version 2 or later "
                           f"(delete {Path(world).parent} to rebuild it)")
    truth_inc = pd.read_parquet(gt / "incidents.parquet")
    truth_groups = pd.read_parquet(gt / "groups.parquet").set_index("group_id")
    by_world = truth_inc.set_index("world_incident_id")
    store_truth = mapping.merge(truth_inc[["world_incident_id", "group_id", "run_id", "force_code", "cctv_only"]],
                                on="world_incident_id", how="left").set_index("incident_id")
    per_group, tp, found_pairs_n, true_pairs_n, exact_runs, true_runs_n = {}, 0, 0, 0, 0, 0
    for gid, cb in sorted(results.items()):
        inc = cb.series.incidents
        tg = store_truth.reindex(inc.incident_id).group_id.dropna()
        if tg.empty:
            per_group[gid] = {"matched": None}
            continue
        true_g, share = tg.value_counts().index[0], float(tg.value_counts().iloc[0] / len(inc))
        if share <= 0.5:
            per_group[gid] = {"matched": None, "best_share": round(share, 4)}
            continue
        # forces
        found_forces = set(cb.forces.force_code.dropna())
        in_store = store_truth[store_truth.group_id == true_g]
        true_forces_referred = set(in_store.force_code.dropna())
        true_forces_named = set(in_store.loc[~in_store.cctv_only.astype(bool), "force_code"].dropna())
        true_forces_all = set(truth_inc.loc[truth_inc.group_id == true_g, "force_code"].dropna())
        # runs: pairs among the true group's store incidents that have a time and a place
        placed = cb.runs.route.set_index("incident_id")
        ids = [i for i in placed.index if i in in_store.index]
        found_lab = placed.loc[ids, "run_id"]
        true_lab = in_store.loc[ids, "run_id"]
        fp, tpairs = _pairs(found_lab), _pairs(true_lab)
        tp += len(fp & tpairs)
        found_pairs_n += len(fp)
        true_pairs_n += len(tpairs)
        found_sets = {frozenset(s.index) for _, s in found_lab.dropna().groupby(found_lab.dropna())}
        true_sets = [frozenset(s.index) for _, s in true_lab.dropna().groupby(true_lab.dropna()) if len(s) >= 2]
        exact_runs += sum(1 for s in true_sets if s in found_sets)
        true_runs_n += len(true_sets)
        # home base (the truth's, never the library's)
        tg_row = truth_groups.loc[true_g]
        home_town, home_force = tg_row.home_town, tg_row.home_force_code
        km = None
        if len(cb.home):
            km = round(float(haversine_km(cb.home.latitude.iloc[0], cb.home.longitude.iloc[0], tg_row.home_lat,
                                          tg_row.home_lon)), 2)
        # lead force: the truth's most-affected force (and any tied with it) or home force
        counts = truth_inc.loc[truth_inc.group_id == true_g, "force_code"].value_counts()
        most = set(counts[counts == counts.max()].index)
        assert tg_row.most_affected_force in most, (true_g, tg_row.most_affected_force, most)
        lead = cb.lead.force_code.iloc[0] if len(cb.lead) else None
        per_group[gid] = {
            "matched": true_g, "share": round(share, 4), "incidents": int(len(inc)),
            "forces_found": sorted(found_forces), "forces_true_referred": sorted(true_forces_referred),
            "forces_true_named": sorted(true_forces_named),
            "forces_exact": found_forces == true_forces_referred,
            "forces_exact_named": found_forces == true_forces_named,
            "cctv_only_in_store": int(in_store.cctv_only.astype(bool).sum()), "in_store": int(len(in_store)),
            "forces_exact_vs_all_truth": found_forces == true_forces_all,
            "runs_found": int(len(cb.runs.runs)), "runs_true": len(true_sets),
            "home_town": home_town, "home_found": cb.home.town.iloc[0] if len(cb.home) else None,
            "away_from_home": bool(tg_row.away_from_home), "overlaps_with": tg_row.overlaps_with,
            "home_force_found": cb.home.force_code.iloc[0] if len(cb.home) else None,
            "home_force_share": float(cb.home.force_share.iloc[0]) if len(cb.home) else None,
            "home_km": km, "lead": lead, "lead_runner_up": cb.lead.force_code.iloc[1] if len(cb.lead) > 1 else None,
            "lead_reasons": cb.lead.reasons.iloc[0] if len(cb.lead) else None,
            "true_most_affected": sorted(most), "true_home_force": home_force,
            "lead_ok": lead in most or lead == home_force,
        }
    matched = {g: v for g, v in per_group.items() if v.get("matched")}
    return {
        "groups": len(results), "matched": len(matched),
        "true_groups": int(truth_groups.shape[0]),
        "forces_exact": sum(v["forces_exact"] for v in matched.values()),
        "forces_exact_vs_all_truth": sum(v["forces_exact_vs_all_truth"] for v in matched.values()),
        "forces_exact_named": sum(v["forces_exact_named"] for v in matched.values()),
        "cctv_only_share_in_store": round(sum(v["cctv_only_in_store"] for v in matched.values())
                                          / max(1, sum(v["in_store"] for v in matched.values())), 4),
        "run_pair_precision": round(tp / found_pairs_n, 4) if found_pairs_n else None,
        "run_pair_recall": round(tp / true_pairs_n, 4) if true_pairs_n else None,
        "runs_exact": exact_runs, "runs_true": true_runs_n,
        "runs_exact_share": round(exact_runs / true_runs_n, 4) if true_runs_n else None,
        "home_within_25km": sum(1 for v in matched.values() if v["home_km"] is not None and v["home_km"] <= HOME_KM),
        "home_km_median": float(np.median([v["home_km"] for v in matched.values() if v["home_km"] is not None]))
        if matched else None,
        "lead_ok": sum(v["lead_ok"] for v in matched.values()),
        "per_group": per_group,
    }


def analyse_all(db: str) -> dict:
    """{group_id: CrossBorder} for every active group, and the seconds taken."""
    from workbench.crossborder import analyse
    from workbench.store import open_store

    out = {}
    with open_store(db, read_only=True) as store:
        for gid in store.query("crossborder/groups_active").group_id:
            out[gid] = analyse(store, gid)
    return out


def _timed_all(db: str) -> dict:
    started = time.perf_counter()
    results = analyse_all(db)
    seconds = time.perf_counter() - started
    return {"groups": len(results), "runs": int(sum(len(cb.runs.runs) for cb in results.values())),
            "incidents": int(sum(len(cb.series.incidents) for cb in results.values())), "seconds": round(seconds, 3)}


def _several(db: str) -> dict:
    from workbench.crossborder import several_forces
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        frame = several_forces(store)
    return {"groups_in_several_forces": int(len(frame))}


def _resolve_if_needed(db: str) -> None:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        latest = dict(con.execute("SELECT entity, max(run_id) FROM linkage_runs GROUP BY entity").fetchall())
    finally:
        con.close()
    if "group" not in latest or latest["group"] < max(latest.get("person", 0), latest.get("vehicle", 0)):
        from workbench.linkage.run import run_all
        from workbench.store import open_store

        with open_store(db) as store:
            run_all(store)


def run(out_dir: Path, quick: bool = False, scale: float | None = None) -> list[dict]:
    scale = scale or (QUICK_SCALE if quick else FULL_SCALE)
    root = Path(out_dir) / ("linkage_quick" if scale == QUICK_SCALE else f"crossborder_{scale:g}")
    world, db = bench_linkage.build(root, scale)
    _resolve_if_needed(str(db))
    records = []
    for step, fn in (("analyse_all_groups", _timed_all), ("several_forces_list", _several)):
        timed = measure(fn, str(db))
        records.append({"step": step, "scale": scale, "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"],
                        "error": timed["error"], **(timed["result"] or {})})
    if not any(r["error"] for r in records):
        acc = score_results(analyse_all(str(db)), db, world)
        records.append({"step": "accuracy", "scale": scale, **acc})
    return records
