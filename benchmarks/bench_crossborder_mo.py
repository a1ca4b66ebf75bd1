"""Same MO, no shared name (issue 12 item 3): accuracy of the MO-linkage pair model and the candidates' time.

The model learns only from the store's own linked incidents (workbench.crossborder.mo_model); it is judged here
against the sample world's ground truth (tests and benchmarks only), within-force and cross-force separately,
always beside a tactic-overlap-only baseline (Jaccard of all tactic codes: methods and goods) in the same run:

- leave-one-group-out: for each resolved group G (matched to the true group g most of its incidents belong to),
  the model is trained with G's incidents unlabelled, then judged on pairs of store incidents involving g's
  incidents: linked = both truly g's (including g's incidents no name or plate ties to G: CCTV only), unlinked =
  a g incident with any other store incident (other groups' and background offending), sampled; each group
  weighs the same. ROC AUC of the pair score, and the share of true links found at a 5% false-positive rate;
- top-50: for up to 10 of g's incidents, every other store incident ranked by pair score (ties broken at random),
  split into same-force and other-force lists; share = g's incidents in the top 50 / min(50, g's incidents in
  that list) (Porter's measure, capped so a long series is not judged on more than 50 places);
- group rank: for each force F where g has incidents, g's incidents in F are the query (their names and plates
  hidden: the query is the truth's incident set, the model is the one trained without G), candidates are all
  groups scored on their linked incidents outside F (`candidates`' aggregation); the rank of G among them
  (baseline ties count as an expected rank, a random tie-break).

Time: `candidates` for the largest group series (training included, then with the model cached) on the world's
store, and on that store grown by copies (grow_store) to 10M incidents (quick: 200k); likewise the forces and
flows tables of every group (`analyse` per group, then `several_forces`; the world's store is the baseline in the
same run). Peak memory per step.
Quick: the scale-0.1 linkage world (tests/test_crossborder_mo.py); full: the scale-1 world (seed 7).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import bench_crossborder, bench_linkage
from benchmarks.common import measure

QUICK_SCALE = 0.1
FULL_SCALE = 1.0
FPR = 0.05
TOP = 50
POS_PAIRS, NEG_PAIRS, TOP_QUERIES, GROUP_QUERY_MAX = 4000, 8000, 10, 30


class JaccardBaseline:
    """Tactic overlap only: the pair score is the Jaccard of the two incidents' tactic codes."""

    def score(self, features):
        return np.asarray(features["tactics_jaccard"], dtype=float)


def _weighted_roc(y, s, w):
    from sklearn.metrics import roc_auc_score, roc_curve

    if len(set(y)) < 2:
        return None, None
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w)
    return round(float(roc_auc_score(y, s, sample_weight=w)), 4), round(float(np.interp(FPR, fpr, tpr)), 4)


def truth_groups(store, world: Path, enc) -> np.ndarray:
    """The true group (or None) of every row of an Encoded of store incidents."""
    mapping = bench_crossborder.incident_truth(store.con, Path(world))
    truth = pd.read_parquet(Path(world) / "ground_truth" / "incidents.parquet")[["world_incident_id", "group_id"]]
    by_incident = mapping.merge(truth, on="world_incident_id", how="left").set_index("incident_id").group_id
    return np.array([by_incident.get(int(i)) for i in enc.incident_id], dtype=object)


def evaluate(db, world, settings: dict | None = None, seed: int = 11) -> dict:
    """Leave-one-group-out accuracy of the model and the Jaccard baseline (see the module docstring)."""
    from workbench.crossborder.mo_features import grid_features, load_encoded, pair_features, subset
    from workbench.crossborder.mo_linkage import group_scores
    from workbench.crossborder.mo_model import fit_model, linkage_data, mo_settings
    from workbench.crossborder.settings import crossborder_settings
    from workbench.store import open_store

    settings = settings or crossborder_settings()
    cfg = mo_settings(settings)
    rng = np.random.default_rng(seed)
    with open_store(db, read_only=True) as store:
        data = linkage_data(store, settings)
        every = load_encoded(store, None, data.vocab)
        truth = truth_groups(store, world, every)
        truth_linked = truth_groups(store, world, data.encoded)
    full = fit_model(data.encoded, data.labels, data.multi, settings, cfg, data.others)
    scorers = {"model": None, "baseline": JaccardBaseline()}
    pairs = {(m, split): [] for m in scorers for split in ("within_force", "cross_force")}
    top50 = {(m, split): [] for m in scorers for split in ("within_force", "cross_force")}
    ranks = {m: [] for m in scorers}
    per_group = {}
    for code, gid in enumerate(data.groups):
        mine = data.labels == code
        votes = pd.Series(truth_linked[mine]).dropna().value_counts()
        if votes.empty or votes.iloc[0] <= mine.sum() / 2:
            per_group[gid] = {"matched": None}
            continue
        g = votes.index[0]
        held = data.labels.copy()
        held[mine] = -1
        scorers["model"] = fit_model(data.encoded, held, data.multi, settings, cfg, data.others)
        rows = np.flatnonzero(truth == g)
        others = np.flatnonzero(truth != g)
        # pairs
        n = len(rows)
        if n * (n - 1) // 2 <= POS_PAIRS:
            a, b = np.triu_indices(n, 1)
        else:
            a = rng.integers(0, n, POS_PAIRS)
            b = (a + rng.integers(1, n, POS_PAIRS)) % n
        pi, pj = rows[a], rows[b]
        ni, nj = rows[rng.integers(0, n, NEG_PAIRS)], others[rng.integers(0, len(others), NEG_PAIRS)]
        i, j = np.concatenate([pi, ni]), np.concatenate([pj, nj])
        y = np.concatenate([np.ones(len(pi)), np.zeros(len(ni))])
        feats = pair_features(every, i, j, settings)
        same = feats.same_force.to_numpy() == 1
        for m, scorer in scorers.items():
            s = scorer.score(feats)
            for split, sel in (("within_force", same), ("cross_force", ~same)):
                yy = y[sel]
                if yy.sum() == 0 or (yy == 0).sum() == 0:
                    continue
                w = np.where(yy == 1, 1.0 / yy.sum(), 1.0 / (yy == 0).sum())
                pairs[(m, split)].append((yy, s[sel], w))
        # top-50 lists
        queries = rng.choice(rows, size=min(TOP_QUERIES, n), replace=False)
        is_g = truth == g
        for qrow in queries:
            grid = grid_features(subset(every, [qrow]), every, settings)
            noise = rng.uniform(0, 1e-9, len(every))
            same_f = (every.force == every.force[qrow]) & (every.force[qrow] >= 0)
            for m, scorer in scorers.items():
                s = scorer.score(grid)[0] + noise
                s[qrow] = -np.inf
                for split, sel in (("within_force", same_f), ("cross_force", ~same_f)):
                    cand = np.flatnonzero(sel)
                    cand = cand[cand != qrow]
                    avail = int(is_g[cand].sum())
                    if avail == 0:
                        continue
                    best = cand[np.argsort(-s[cand])[:TOP]]
                    top50[(m, split)].append(float(is_g[best].sum()) / min(TOP, avail))
        # group rank with g's incidents hidden in one force at a time
        group_ranks = {}
        forces = pd.Series(every.force[rows]).value_counts()
        for fcode in forces.index:
            if fcode < 0:
                continue
            q_rows = rows[every.force[rows] == fcode]
            if len(q_rows) > GROUP_QUERY_MAX:
                q_rows = rng.choice(q_rows, GROUP_QUERY_MAX, replace=False)
            q = subset(every, q_rows)
            for m, scorer in scorers.items():
                scored = group_scores(scorer, q, data.encoded, data.labels, int(cfg["top_pairs_per_group"]), settings,
                                      True)
                if code not in scored:
                    continue           # G has no linked incident outside this force: nothing to find it by
                mine_s = scored[code][0]
                greater = sum(1 for c, v in scored.items() if c != code and v[0] > mine_s + 1e-12)
                ties = sum(1 for c, v in scored.items() if c != code and abs(v[0] - mine_s) <= 1e-12)
                ranks[m].append({"rank": 1 + greater + ties / 2, "first": (1.0 / (1 + ties)) if greater == 0 else 0.0,
                                 "group": gid, "force_rows": int(len(q_rows))})
                group_ranks.setdefault(m, []).append(1 + greater + ties / 2)
        per_group[gid] = {"matched": g, "incidents_true_in_store": int(n), "linked": int(mine.sum()),
                          "ranks_model": group_ranks.get("model", []), "ranks_baseline": group_ranks.get("baseline", [])}
    out = {"groups": len(data.groups), "matched": sum(1 for v in per_group.values() if v.get("matched")),
           "store_incidents": int(len(every)), "linked_incidents": int(len(data.encoded)),
           "coefficients": full.coefficients.to_dict(orient="records"), "training": full.training}
    for m in scorers:
        for split in ("within_force", "cross_force"):
            parts = pairs[(m, split)]
            if parts:
                y = np.concatenate([p[0] for p in parts])
                s = np.concatenate([p[1] for p in parts])
                w = np.concatenate([p[2] for p in parts])
                auc, tpr = _weighted_roc(y, s, w)
            else:
                auc = tpr = None
            shares = top50[(m, split)]
            out[f"{m}_{split}"] = {"auc": auc, "tpr_at_5pct_fpr": tpr,
                                   "linked_pairs": int(sum(p[0].sum() for p in parts)),
                                   "unlinked_pairs": int(sum((p[0] == 0).sum() for p in parts)),
                                   "top50_share": round(float(np.mean(shares)), 4) if shares else None,
                                   "top50_queries": len(shares)}
        r = ranks[m]
        out[f"{m}_group_rank"] = {"held_out_group_forces": len(r),
                                  "first_share": round(float(np.mean([x["first"] for x in r])), 4) if r else None,
                                  "median_rank": float(np.median([x["rank"] for x in r])) if r else None,
                                  "top3_share": round(float(np.mean([x["rank"] <= 3 for x in r])), 4) if r else None}
    out["per_group"] = per_group
    return out


def score_unlinked(db, world) -> dict:
    """unlinked_series against the truth: clusters led by one true group (more than half its incidents), their
    size-weighted purity, and how many of the store's CCTV-only group incidents lie in a cluster led by their group."""
    from workbench.crossborder.mo_linkage import unlinked_series
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        started = time.perf_counter()
        found = unlinked_series(store)
        seconds = time.perf_counter() - started
        mapping = bench_crossborder.incident_truth(store.con, Path(world))
    truth = pd.read_parquet(Path(world) / "ground_truth" / "incidents.parquet")[["world_incident_id", "group_id",
                                                                                  "cctv_only"]]
    lab = mapping.merge(truth, on="world_incident_id", how="left").set_index("incident_id")
    cctv = lab.group_id.notna() & lab.cctv_only.fillna(False).astype(bool)
    led, led_n, led_pure, inside = 0, 0, 0.0, 0
    for row in found.itertuples():
        ids = [int(x) for x in row.incident_ids.split(";")]
        g = lab.reindex(ids)
        votes = g.group_id.dropna().value_counts()
        if len(votes) and votes.iloc[0] > len(ids) / 2:
            led, led_n, led_pure = led + 1, led_n + len(ids), led_pure + float(votes.iloc[0])
            inside += int(((g.group_id == votes.index[0]) & cctv.reindex(ids).fillna(False)).sum())
    return {"seconds": round(seconds, 3), "clusters": int(len(found)), "group_led_clusters": led,
            "group_led_purity": round(led_pure / led_n, 4) if led_n else None,
            "cctv_only_group_incidents": int(cctv.sum()), "cctv_only_in_own_group_cluster": inside,
            "largest_clusters": found.incidents.head(5).tolist()}


def _time_candidates(db: str, series_id: str | None = None) -> dict:
    """Seconds for `candidates` of one group series (training the model included, then again cached)."""
    from workbench.crossborder.mo_linkage import candidates
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        n = int(store.con.execute("SELECT count(*) FROM incidents").fetchone()[0])
        if series_id is None:
            sizes = store.query("crossborder/mo_group_ties").group_id.value_counts()
            series_id = sizes.index[0]
        t0 = time.perf_counter()
        first = candidates(store, series_id, top=50)
        t1 = time.perf_counter()
        candidates(store, series_id, top=50)
        t2 = time.perf_counter()
    return {"incidents_in_store": n, "series_id": series_id, "query_incidents": int(len(first.query)),
            "seconds_with_training": round(t1 - t0, 3), "seconds_model_cached": round(t2 - t1, 3),
            "groups_ranked": int(len(first.groups)), "incidents_listed": int(len(first.incidents))}


def _time_forces_flows(db: str) -> dict:
    """Seconds for the forces and flows tables of every active group (issue 12 item 10: `analyse` per group, which
    gives the forces table, flows, home base and lead force) and the several-forces list, on one store."""
    from workbench.crossborder import analyse, several_forces
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        n = int(store.con.execute("SELECT count(*) FROM incidents").fetchone()[0])
        groups = store.query("crossborder/groups_active").group_id.tolist()
        t0 = time.perf_counter()
        tables = {gid: analyse(store, gid) for gid in groups}
        t1 = time.perf_counter()
        listed = several_forces(store)
        t2 = time.perf_counter()
    return {"incidents_in_store": n, "groups": len(groups),
            "series_incidents": int(sum(len(cb.series.incidents) for cb in tables.values())),
            "force_rows": int(sum(len(cb.forces) for cb in tables.values())),
            "flow_rows": int(sum(len(cb.flows) for cb in tables.values())),
            "seconds_forces_flows_all_groups": round(t1 - t0, 3), "seconds_several_forces": round(t2 - t1, 3),
            "seconds_total": round(t2 - t0, 3), "groups_in_several_forces": int(len(listed))}


FULL_N = 10_000_000
QUICK_N = 200_000


def grow_store(src_db: str, dst_db: str, n_target: int, batch: int = 10) -> dict:
    """A copy of src_db grown to about n_target incidents: its incidents copied again and again with new ids,
    shifted by whole weeks within two years (weekday and hour kept) and a minute per copy, with their tactics,
    person and vehicle mentions and referral links copied too but no person or vehicle links, so every copy is an
    unlinked incident and the groups' series stay as they are (the sample world's 12 groups do not grow with
    scale either). Why copied, not generated: the generator takes about 20 minutes at 10M (bench_hotspots)."""
    import shutil

    import duckdb

    shutil.copyfile(src_db, dst_db)
    con = duckdb.connect(dst_db)
    try:
        n0, max_id = con.execute("SELECT count(*), max(incident_id) FROM incidents").fetchone()
        max_pm = con.execute("SELECT coalesce(max(mention_id), 0) FROM person_mentions").fetchone()[0]
        max_vm = con.execute("SELECT coalesce(max(mention_id), 0) FROM vehicle_mentions").fetchone()[0]
        step = int(max_id) + 1
        copies = max(0, -(-int(n_target) // int(n0)) - 1)
        started = time.perf_counter()
        cols = [r[0] for r in con.execute("DESCRIBE incidents").fetchall()]
        shifted = {"incident_id": "i.incident_id + k.k * $step",
                   "occurred_at": "i.occurred_at + to_days(CAST(7 * (k.k % 104) AS INTEGER)) + to_minutes(k.k)",
                   "narrative": "NULL", "location_text": "NULL"}
        select = ", ".join(shifted.get(c, f"i.{c}") for c in cols)
        pm_cols = [r[0] for r in con.execute("DESCRIBE person_mentions").fetchall()]
        # mention ids come from a sequence far up the BIGINT range: copies count on from the current maximum
        pm = ", ".join({"mention_id": "$mbase + row_number() OVER ()", "incident_id": "m.incident_id + k.k * $step"}
                       .get(c, f"m.{c}") for c in pm_cols)
        vm_cols = [r[0] for r in con.execute("DESCRIBE vehicle_mentions").fetchall()]
        vm = ", ".join({"mention_id": "$vbase + row_number() OVER ()", "incident_id": "v.incident_id + k.k * $step"}
                       .get(c, f"v.{c}") for c in vm_cols)
        for first in range(1, copies + 1, batch):
            last = min(copies, first + batch - 1)
            p = {"step": step, "a": first, "b": last}
            con.execute("BEGIN")
            con.execute(f"INSERT INTO incidents SELECT {select} FROM incidents i, range($a, $b + 1) k(k) "
                        "WHERE i.incident_id < $step", p)
            con.execute("INSERT INTO incident_tactics SELECT t.incident_id + k.k * $step, t.tactic_code, NULL, "
                        "t.referral_id FROM incident_tactics t, range($a, $b + 1) k(k) WHERE t.incident_id < $step", p)
            con.execute(f"INSERT INTO person_mentions SELECT {pm} FROM person_mentions m, range($a, $b + 1) k(k) "
                        "WHERE m.incident_id < $step AND m.mention_id <= $mmax",
                        {**p, "mmax": int(max_pm), "mbase": int(con.execute(
                            "SELECT coalesce(max(mention_id), 0) FROM person_mentions").fetchone()[0])})
            con.execute(f"INSERT INTO vehicle_mentions SELECT {vm} FROM vehicle_mentions v, range($a, $b + 1) k(k) "
                        "WHERE v.incident_id < $step AND v.mention_id <= $vmax",
                        {**p, "vmax": int(max_vm), "vbase": int(con.execute(
                            "SELECT coalesce(max(mention_id), 0) FROM vehicle_mentions").fetchone()[0])})
            con.execute("INSERT INTO referral_incidents SELECT r.referral_id, r.incident_id + k.k * $step, "
                        "r.source_incident_ref FROM referral_incidents r, range($a, $b + 1) k(k) "
                        "WHERE r.incident_id < $step", p)
            con.execute("COMMIT")
        n = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        con.close()
    return {"incidents": int(n), "copies": copies, "grow_s": round(time.perf_counter() - started, 1),
            "db_mb": round(Path(dst_db).stat().st_size / 1e6, 1)}


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    scale = QUICK_SCALE if quick else FULL_SCALE
    root = Path(out_dir) / ("linkage_quick" if quick else "linkage_full")
    world, db = bench_linkage.build(root, scale)
    bench_crossborder._resolve_if_needed(str(db))
    records = []
    timed = measure(_time_candidates, str(db))
    records.append({"step": "candidates_one_series", "scale": scale, "wall_s": timed["wall_s"],
                    "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"], **(timed["result"] or {})})
    timed = measure(_time_forces_flows, str(db))      # the baseline of the grown store's forces/flows step
    records.append({"step": "forces_flows_all_groups", "scale": scale, "wall_s": timed["wall_s"],
                    "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"], **(timed["result"] or {})})
    acc = measure(evaluate, str(db), str(world))
    records.append({"step": "accuracy", "scale": scale, "wall_s": acc["wall_s"], "peak_rss_mb": acc["peak_rss_mb"],
                    "error": acc["error"], **(acc["result"] or {})})
    unl = measure(score_unlinked, str(db), str(world))
    records.append({"step": "unlinked_series", "scale": scale, "wall_s": unl["wall_s"],
                    "peak_rss_mb": unl["peak_rss_mb"], "error": unl["error"], **(unl["result"] or {})})
    # the same store grown by copies to QUICK_N / FULL_N incidents (grow_store), candidates timed there
    n = QUICK_N if quick else FULL_N
    big = Path(out_dir) / f"crossborder_mo_{n // 1000}k.duckdb"
    try:
        grown = measure(grow_store, str(db), str(big), n)
        records.append({"step": "grow_store", "wall_s": grown["wall_s"], "peak_rss_mb": grown["peak_rss_mb"],
                        "error": grown["error"], **(grown["result"] or {})})
        if not grown["error"]:
            timed = measure(_time_candidates, str(big))
            records.append({"step": "candidates_one_series_grown", "wall_s": timed["wall_s"],
                            "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"], **(timed["result"] or {})})
            timed = measure(_time_forces_flows, str(big))
            records.append({"step": "forces_flows_all_groups_grown", "store": "grown by unlinked copies (grow_store)",
                            "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"],
                            **(timed["result"] or {})})
    finally:
        big.unlink(missing_ok=True)
    return records
