"""Groups: time and accuracy of Leiden + centrality + groups on the co-offending network of a sample world.

A world is generated and ingested through the CLI (as benchmarks/bench_linkage.py does), persons and vehicles
resolved (`run_persons`, `run_vehicles`), then, each in a process of its own: the network built
(`build_network`), the groups found (`workbench.linkage.groups.analyse`: projection, Leiden, centrality,
thresholds, the stability repeats) and, as the baseline in the same run, connected components of the same
projection with the same size and activity thresholds. Then `find_groups` stores the groups and both
groupings are scored against the world's ground truth (here, never in library code):

- store mentions meet true persons as in bench_linkage (`person_truth`); each resolved person stands for the
  true person most of its mentions belong to; a true group's members are its persons with a mention in the store;
- best Jaccard per true group (members, in true persons) and whether it is >= 0.8 ("matched");
- spurious groups: found groups whose best Jaccard with every true group is below 0.5;
- adjusted Rand index of member-to-group, over the mentions of true group members and of found group members
  (a label "none" for no group), and over resolved persons the same way.

Quick: scale 0.1 (the accuracy test's world); full: scale 0.5.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks import bench_linkage
from benchmarks.common import measure

QUICK_SCALE = 0.1
FULL_SCALE = 0.5
MATCH_JACCARD = 0.8
SPURIOUS_BELOW = 0.5


# -- scoring --------------------------------------------------------------------------------------------------
def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def score_assignment(db, world, assignment: dict[str, str]) -> dict:
    """Accuracy of a grouping {person_id: group label} of the store's resolved persons against the world's truth."""
    import duckdb

    from workbench.linkage.groups import adjusted_rand

    con = duckdb.connect(str(db), read_only=True)
    try:
        mentions = bench_linkage.person_truth(con, Path(world))
        links = con.execute("SELECT mention_id, person_id AS found FROM person_links").df()
    finally:
        con.close()
    truth_persons = pd.read_parquet(Path(world) / "ground_truth" / "persons.parquet")
    true_group = dict(zip(truth_persons.person_id, truth_persons.group_id))
    frame = mentions.merge(links, on="mention_id", how="inner")
    frame = frame[frame.person_id.notna()].copy()
    frame["true_group"] = frame.person_id.map(lambda p: true_group.get(p) if isinstance(true_group.get(p), str) else None)
    frame["found_group"] = frame.found.map(assignment)
    majority = frame.groupby("found").person_id.agg(lambda s: s.value_counts().index[0]).to_dict()
    true_members = {g: set(rows.person_id) for g, rows in frame[frame.true_group.notna()].groupby("true_group")}
    found_members: dict[str, set] = {}
    for person, group in assignment.items():
        if person in majority:
            found_members.setdefault(group, set()).add(majority[person])
    per_group = {}
    for g, members in sorted(true_members.items()):
        best = max(((_jaccard(members, m), f) for f, m in found_members.items()), default=(0.0, None))
        per_group[g] = {"members": len(members), "best_jaccard": round(best[0], 4), "found": best[1]}
    spurious = sorted(f for f, m in found_members.items()
                      if max((_jaccard(m, t) for t in true_members.values()), default=0.0) < SPURIOUS_BELOW)
    scope = frame[frame.true_group.notna() | frame.found_group.notna()]
    ari_mentions = adjusted_rand(scope.true_group.fillna("none"), scope.found_group.fillna("none"))
    persons = scope.drop_duplicates("found")
    person_true = persons.found.map(majority).map(lambda p: true_group.get(p) if isinstance(true_group.get(p), str) else None)
    ari_persons = adjusted_rand(person_true.fillna("none"), persons.found_group.fillna("none"))
    matched = sum(1 for v in per_group.values() if v["best_jaccard"] >= MATCH_JACCARD)
    return {"true_groups": len(true_members), "found_groups": len(found_members), "matched": matched,
            "all_matched": matched == len(true_members) and len(true_members) > 0,
            "min_best_jaccard": min((v["best_jaccard"] for v in per_group.values()), default=None),
            "mean_best_jaccard": round(sum(v["best_jaccard"] for v in per_group.values()) / len(per_group), 4)
            if per_group else None,
            "spurious": len(spurious), "spurious_groups": spurious,
            "ari_mentions": round(ari_mentions, 4), "ari_persons": round(ari_persons, 4),
            "mentions_scored": int(len(scope)), "per_group": per_group}


def stored_assignment(db) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT m.person_id, m.group_id FROM group_members m JOIN groups g USING (group_id) "
                           "WHERE g.status = 'active'").df()
    finally:
        con.close()
    return dict(zip(rows.person_id, rows.group_id))


def score(db, world) -> dict:
    """Accuracy of the store's current groups (group_members) against the world's ground truth."""
    return score_assignment(db, world, stored_assignment(db))


# -- steps ----------------------------------------------------------------------------------------------------
def _resolve(db: str) -> list[dict]:
    from workbench.linkage.run import run_persons, run_vehicles
    from workbench.store import open_store

    with open_store(db) as store:
        done = [run_persons(store), run_vehicles(store)]
    return [{k: v for k, v in r.items() if k != "resolution"} for r in done]


def _network(db: str) -> dict:
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        net = build_network(store)
    return {"nodes": int(len(net.nodes)), "edges": int(len(net.edges)),
            "by_kind": {k: int(v) for k, v in net.edges.kind.value_counts().items()}}


def _leiden_groups(db: str) -> dict:
    import time

    from workbench.linkage.groups import analyse, group_settings
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        net = build_network(store)
    start = time.perf_counter()
    result = analyse(net, group_settings())
    return {"analyse_s": round(time.perf_counter() - start, 3), "persons": len(result["partition"]),
            "projection_edges": int(len(result["edges"])), "communities": len(set(result["partition"].values())),
            "groups": len(result["groups"]), "modularity": round(result["modularity"], 4),
            "stability": result["stability"],
            "assignment": {p: f"L{k}" for k, g in enumerate(result["groups"]) for p in g["members"]}}


def _components(db: str) -> dict:
    """The baseline: connected components of the same projection, with the same thresholds."""
    import time

    import networkx as nx

    from workbench.linkage.groups import candidate_groups, centrality, co_offending, group_settings
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        net = build_network(store)
    cfg = group_settings()
    start = time.perf_counter()
    edges = co_offending(net, cfg["min_shared_incidents"], cfg["shared_vehicle_weight"])
    graph = nx.Graph()
    graph.add_edges_from(zip(edges.source, edges.target))
    partition = {p: k for k, comp in enumerate(sorted(nx.connected_components(graph), key=min)) for p in comp}
    groups = candidate_groups(net, partition, centrality(edges, partition, cfg["broker_quantile"]), cfg)
    return {"analyse_s": round(time.perf_counter() - start, 3), "components": len(set(partition.values())),
            "groups": len(groups), "assignment": {p: f"C{k}" for k, g in enumerate(groups) for p in g["members"]}}


def _store_groups(db: str) -> dict:
    from workbench.linkage.groups import find_groups
    from workbench.store import open_store

    with open_store(db) as store:
        return find_groups(store)


def run(out_dir: Path, quick: bool = False, scale: float | None = None) -> list[dict]:
    scale = scale or (QUICK_SCALE if quick else FULL_SCALE)
    root = Path(out_dir) / f"groups_{scale:g}"
    world, db = bench_linkage.build(root, scale)
    records = []
    resolved = measure(_resolve, str(db))
    records.append({"step": "resolve_persons_and_vehicles", "scale": scale, "seed": bench_linkage.SEED,
                    "wall_s": resolved["wall_s"], "peak_rss_mb": resolved["peak_rss_mb"], "error": resolved["error"],
                    "runs": resolved["result"]})
    if resolved["error"]:
        return records
    for step, fn in (("build_network", _network), ("leiden_centrality_groups", _leiden_groups),
                     ("baseline_connected_components", _components), ("find_groups_stored", _store_groups)):
        timed = measure(fn, str(db))
        result = dict(timed["result"] or {})
        assignment = result.pop("assignment", None)
        record = {"step": step, "scale": scale, "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"],
                  "error": timed["error"], **result}
        if assignment is not None and not timed["error"]:
            record["accuracy"] = score_assignment(db, world, assignment)
        if step == "find_groups_stored" and not timed["error"]:
            record["accuracy"] = score(db, world)
        records.append(record)
    return records
