"""Organised groups: communities of the co-offending network, with ids kept across runs (docs/linkage.md).

    result = find_groups(store)          # one run: project, partition, rank, keep ids, store, audit; a summary dict
    list_groups(store)                   # the active groups (a DataFrame)
    group_detail(store, "GR00001")       # {"summary", "members", "vehicles", "tactics", "events"}: DataFrames

Steps (settings: the `groups:` section of workbench/config/linkage.yaml):
1. co-offending projection (`co_offending`): persons who were at one incident are joined, weight = incidents
   shared (+ shared_vehicle_weight per vehicle both were seen with); pairs sharing fewer than
   min_shared_incidents incidents are left out (a one-off companion is not a group tie);
2. communities (`communities`): Leiden (graspologic-native) maximising modularity, with a fixed seed, resolution,
   randomness, iterations and trials from the settings; the modularity of the partition is reported;
3. centrality (`centrality`, networkx): degree and betweenness (distance = 1 / weight) over the projection,
   weighted eigenvector within each community. Brokers: betweenness in the top broker_quantile of the
   projection's non-zero betweenness *and* a co-offender in another community. Key players: the key_players
   members of each group with the highest eigenvector (ties: weighted degree, then id). Role: key_player,
   else broker, else member;
4. groups: communities with at least min_members persons and min_incidents joint incidents (two or more members
   at one incident); their vehicles (seen at joint incidents), forces, first/last seen and tactics;
5. ids (`match_ids`): a group keeps the id of the previous active group with which it shares the highest member
   Jaccard (at least keep_id_min_jaccard; each old id to one group); new groups get new ids (GR00001 ...);
   events new / split / merge / retired are written to linkage_events (entity 'group');
6. stability (`stability`): repeats of the partition with drop_fraction of the projection's edges dropped at
   random (seeded): mean best-match member Jaccard of each group, and the adjusted Rand index of the members'
   communities, stored in the run's details.
"""
from __future__ import annotations

import json
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.ids import id_number, keep_previous_ids
from workbench.linkage.network import Network, build_network
from workbench.linkage.settings import LinkageSettings, load_settings
from workbench.linkage.stages import stage
from workbench.store import Store, os_user, utcnow

DEFAULTS = {"seed": 20241001, "min_shared_incidents": 1, "shared_vehicle_weight": 0.0,
            "leiden": {"objective": "modularity", "resolution": 1.0, "randomness": 0.001, "iterations": 2, "trials": 3},
            "min_members": 3, "min_incidents": 5, "keep_id_min_jaccard": 0.3, "broker_quantile": 0.9,
            "betweenness_exact_max_nodes": 2000,
            "key_players": 1, "stability": {"drop_fraction": 0.05, "repeats": 5}}
ID_PREFIX = "GR"
GROUP_ID_MAX = 60


def group_settings(settings: LinkageSettings | None = None) -> dict:
    """The effective `groups:` settings (packaged defaults under the file's values)."""
    settings = settings or load_settings()
    raw = settings.raw.get("groups") or {}
    out = {**DEFAULTS, **{k: v for k, v in raw.items() if k not in ("leiden", "stability")}}
    out["leiden"] = {**DEFAULTS["leiden"], **(raw.get("leiden") or {})}
    out["stability"] = {**DEFAULTS["stability"], **(raw.get("stability") or {})}
    return out


# -- 1. projection ----------------------------------------------------------------------------------------------
def co_offending(network: Network, min_shared_incidents: int = 1, shared_vehicle_weight: float = 0.0) -> pd.DataFrame:
    """Person-person edges: source, target (person ids), incidents (shared), vehicles (shared), weight."""
    e = network.edges
    co = e[e.kind == "co_offended"]
    pairs = pd.DataFrame({"source": co.source.str[2:], "target": co.target.str[2:],
                          "incidents": co.weight.astype("int64")})
    pairs = pairs[pairs.incidents >= int(min_shared_incidents)]
    pairs["vehicles"] = 0
    if shared_vehicle_weight and len(pairs):
        rode = e[e.kind == "travelled_in"]
        by_person = rode.groupby(rode.source.str[2:])["target"].apply(set).to_dict()
        pairs["vehicles"] = [len(by_person.get(a, set()) & by_person.get(b, set()))
                             for a, b in zip(pairs.source, pairs.target)]
    pairs["weight"] = pairs.incidents + float(shared_vehicle_weight) * pairs.vehicles
    return pairs.sort_values(["source", "target"]).reset_index(drop=True)


# -- 2. communities ---------------------------------------------------------------------------------------------
def communities(edges: pd.DataFrame, leiden: dict, seed: int) -> tuple[dict[str, int], float]:
    """Leiden (modularity objective) over weighted person-person edges: ({person_id: community}, modularity)."""
    import graspologic_native as gn
    import networkx as nx

    if edges.empty:
        return {}, 0.0
    if leiden.get("objective", "modularity") != "modularity":
        raise WorkbenchError("groups: only the modularity objective is supported")
    edge_list = [(str(a), str(b), float(w)) for a, b, w in
                 sorted(zip(edges.source, edges.target, edges.weight))]
    _quality, partition = gn.leiden(edge_list, resolution=float(leiden["resolution"]),
                                    randomness=float(leiden["randomness"]), iterations=int(leiden["iterations"]),
                                    use_modularity=True, seed=int(seed), trials=int(leiden["trials"]))
    # community numbers in a canonical order (by smallest member id), so equal partitions compare equal
    members: dict[int, list[str]] = {}
    for node, c in partition.items():
        members.setdefault(c, []).append(node)
    order = sorted(members, key=lambda c: min(members[c]))
    renumber = {c: k for k, c in enumerate(order)}
    partition = {node: renumber[c] for node, c in partition.items()}
    graph = nx.Graph()
    graph.add_weighted_edges_from(edge_list)
    sets = [set(members[c]) for c in order]
    modularity = float(nx.community.modularity(graph, sets, weight="weight", resolution=float(leiden["resolution"])))
    return partition, modularity


# -- 3. centrality ----------------------------------------------------------------------------------------------
def _betweenness(graph, exact_max_nodes: int, seed: int) -> dict:
    """Normalised betweenness (distance = 1 / weight) of every node, one connected component at a time (the same
    figures as over the whole graph: no shortest path crosses components). A component larger than
    exact_max_nodes is estimated from that many seeded source nodes (networkx's k-sample estimate), so a
    national projection with one large component costs O(k E), not O(N E)."""
    import networkx as nx

    n = graph.number_of_nodes()
    out = {node: 0.0 for node in graph.nodes}
    if n <= 2:
        return out
    scale = 2.0 / ((n - 1) * (n - 2))        # networkx's normalisation for an undirected graph of n nodes
    for component in nx.connected_components(graph):
        if len(component) <= 2:
            continue
        sub = graph.subgraph(component)
        k = None if len(component) <= exact_max_nodes else int(exact_max_nodes)
        raw = nx.betweenness_centrality(sub, k=k, weight="distance", normalized=False, seed=seed)
        for node, value in raw.items():
            out[node] = value * scale
    return out


def centrality(edges: pd.DataFrame, partition: dict[str, int], broker_quantile: float = 0.9,
               exact_max_nodes: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per person of the projection: community, degree, betweenness, eigenvector (within its community),
    strength (weighted degree within its community), crosses (co-offenders in other communities), is_broker.
    Betweenness is exact for components up to exact_max_nodes persons and estimated above (`_betweenness`)."""
    import networkx as nx

    columns = ["person_id", "community", "degree", "betweenness", "eigenvector", "strength", "crosses", "is_broker"]
    if edges.empty:
        return pd.DataFrame(columns=columns)
    graph = nx.Graph()
    for a, b, w in zip(edges.source, edges.target, edges.weight):
        graph.add_edge(a, b, weight=float(w), distance=1.0 / float(w))
    degree = nx.degree_centrality(graph)
    betweenness = _betweenness(graph, exact_max_nodes, seed)
    eigen, strength = {}, {}
    by_community: dict[int, list[str]] = {}
    for n, k in sorted(partition.items()):   # node order fixed: the solver's rounding then is too
        by_community.setdefault(k, []).append(n)
    for c in sorted(by_community):
        nodes = by_community[c]
        sub = graph.subgraph(nodes)
        if sub.number_of_edges() == 0:
            eigen.update({n: 0.0 for n in nodes})
        else:
            try:
                with warnings.catch_warnings():  # scipy's note that it solves small graphs densely
                    warnings.simplefilter("ignore", RuntimeWarning)
                    eigen.update(nx.eigenvector_centrality_numpy(sub, weight="weight"))
            except (nx.NetworkXException, ValueError, TypeError):  # a graph numpy cannot decompose
                eigen.update(nx.eigenvector_centrality(sub, weight="weight", max_iter=1000, tol=1e-8))
        strength.update({n: float(sum(d["weight"] for _, _, d in sub.edges(n, data=True))) for n in nodes})
    crosses = {n: sum(1 for m in graph.neighbors(n) if partition.get(m) != partition.get(n)) for n in graph.nodes}
    positive = np.array([v for v in betweenness.values() if v > 0])
    cut = float(np.quantile(positive, float(broker_quantile))) if len(positive) else np.inf
    rows = [{"person_id": n, "community": partition[n], "degree": degree[n], "betweenness": betweenness[n],
             # rounded so that symmetric members (equal in exact arithmetic) tie and rank by id, run after run
             "eigenvector": round(abs(float(eigen.get(n, 0.0))), 9), "strength": strength.get(n, 0.0), "crosses": crosses[n],
             "is_broker": bool(betweenness[n] > 0 and betweenness[n] >= cut and crosses[n] > 0)}
            for n in sorted(graph.nodes)]
    return pd.DataFrame(rows, columns=columns)


# -- 4. groups --------------------------------------------------------------------------------------------------
def _joint_incidents(network: Network, members: set[str], involved: dict[str, list[str]] | None = None
                     ) -> dict[str, list[str]]:
    """incident node -> members (person ids) there, for incidents with two or more of the members.
    `involved` (person id -> incident nodes, from `_incidents_by_person`) saves a scan of every edge."""
    if involved is None:
        involved = _incidents_by_person(network)
    at: dict[str, set[str]] = {}
    for person in members:
        for incident in involved.get(person, ()):
            at.setdefault(incident, set()).add(person)
    return {i: sorted(m) for i, m in sorted(at.items()) if len(m) >= 2}


def _incidents_by_person(network: Network) -> dict[str, list[str]]:
    e = network.edges
    inv = e[e.kind == "involved"]
    out: dict[str, list[str]] = {}
    for source, target in zip(inv.source.str[2:], inv.target):
        out.setdefault(source, []).append(target)
    return out


def candidate_groups(network: Network, partition: dict[str, int], ranks: pd.DataFrame, cfg: dict) -> list[dict]:
    """The communities that pass the size and activity thresholds, with their members, vehicles, incidents,
    forces, first/last seen and tactics (group ids not yet given)."""
    nodes = network.nodes.set_index("node_id")
    e = network.edges
    used = e[e.kind == "used"]
    co = e[e.kind == "co_offended"]
    co_pairs = list(zip(co.source.str[2:], co.target.str[2:]))
    involved = _incidents_by_person(network)
    by_community: dict[int, set[str]] = {}
    for p, k in partition.items():
        by_community.setdefault(k, set()).add(p)
    inner_edges: Counter = Counter(partition.get(a) for a, b in co_pairs
                                   if partition.get(a) is not None and partition.get(a) == partition.get(b))
    vehicles_at: dict[str, list[tuple[int, str]]] = {}          # incident -> (edge position, vehicle id)
    for k, (source, target) in enumerate(zip(used.source.str[2:], used.target)):
        vehicles_at.setdefault(target, []).append((k, source))
    ranks_of = {c: frame for c, frame in ranks.groupby("community")} if len(ranks) else {}
    out = []
    for c in sorted(by_community):
        members = by_community[c]
        if len(members) < int(cfg["min_members"]):
            continue
        joint = _joint_incidents(network, members, involved)
        if len(joint) < int(cfg["min_incidents"]):
            continue
        incident_nodes = nodes.loc[sorted(joint)]
        vehicles = Counter(v for _k, v in sorted(e for i in joint for e in vehicles_at.get(i, ())))
        tactics: Counter = Counter()
        for attrs in incident_nodes["attrs"]:
            tactics.update(set(json.loads(attrs).get("tactics", [])))
        seen_together = Counter(p for ms in joint.values() for p in ms)
        rank = ranks_of[c].copy() if c in ranks_of else ranks.iloc[0:0].copy()
        rank["incidents"] = rank.person_id.map(seen_together).fillna(0).astype(int)
        rank = rank.sort_values(["eigenvector", "strength", "person_id"], ascending=[False, False, True])
        rank["is_key_player"] = [k < int(cfg["key_players"]) for k in range(len(rank))]
        rank["role"] = np.where(rank.is_key_player, "key_player", np.where(rank.is_broker, "broker", "member"))
        possible = len(members) * (len(members) - 1) / 2
        inner = int(inner_edges.get(c, 0))
        key = rank.person_id.iloc[0]
        key_label = nodes.loc[f"P:{key}", "label"] if f"P:{key}" in nodes.index else key
        out.append({"community": c, "members": sorted(members), "ranks": rank.reset_index(drop=True),
                    "vehicles": dict(vehicles), "incidents": sorted(joint),
                    "forces": sorted({f for f in incident_nodes.force_code if isinstance(f, str)}),
                    "first_seen": incident_nodes.first_seen.min(), "last_seen": incident_nodes.last_seen.max(),
                    "tactics": dict(sorted(tactics.items(), key=lambda kv: (-kv[1], kv[0]))),
                    "density": round(inner / possible, 4) if possible else 0.0,
                    "label": f"{key_label} and {len(members) - 1} others"})
    return out


# -- 5. stable ids ----------------------------------------------------------------------------------------------
def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


_number = id_number


def match_ids(new_groups: list[list[str]], previous: dict[str, list[str]], existing_ids, min_jaccard: float):
    """Ids for new groups (lists of member ids) given the previous active groups {id: members}: each new group
    takes the previous id with the highest member Jaccard (>= min_jaccard), each old id once, best pairs first;
    others get new ids after the highest ever given. Returns (ids in order, events, merged {old: surviving})."""
    scored = []
    for k, members in enumerate(new_groups):
        for old, old_members in previous.items():
            j = jaccard(members, old_members)
            if j >= min_jaccard and j > 0:
                scored.append((-j, old, k))
    ids: dict[int, str] = keep_previous_ids(scored)
    used = set(ids.values())
    next_no = max([_number(i) for i in existing_ids] + [0]) + 1
    events, merged = [], {}
    for k, members in enumerate(new_groups):
        # the old groups most of whose members are now here
        sources = sorted(old for old, om in previous.items() if om and len(set(om) & set(members)) * 2 > len(om))
        if k not in ids:
            ids[k] = f"{ID_PREFIX}{next_no:05d}"
            next_no += 1
            came_from = sorted(old for old, om in previous.items() if set(om) & set(members))
            events.append({"event": "split" if came_from else "new", "entity_id": ids[k], "other_ids": came_from,
                           "mentions": len(members)})
        absorbed = [o for o in sources if o != ids[k] and o not in used]
        if absorbed:
            events.append({"event": "merge", "entity_id": ids[k], "other_ids": absorbed, "mentions": len(members)})
            for o in absorbed:
                merged[o] = ids[k]
                used.add(o)
    for old in sorted(set(previous) - set(ids.values()) - set(merged)):
        events.append({"event": "retired", "entity_id": old, "other_ids": [], "mentions": 0})
    return [ids[k] for k in range(len(new_groups))], events, merged


# -- 6. stability -----------------------------------------------------------------------------------------------
def adjusted_rand(a, b) -> float:
    """Adjusted Rand index of two labelings of the same items (1: identical partitions, about 0: chance)."""
    a, b = list(a), list(b)
    n = len(a)
    if n < 2:
        return 1.0
    table = Counter(zip(a, b))
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    index = sum(comb(v) for v in table.values())
    sum_a = sum(comb(v) for v in Counter(a).values())
    sum_b = sum(comb(v) for v in Counter(b).values())
    expected = sum_a * sum_b / comb(n)
    top = (sum_a + sum_b) / 2
    if top == expected:
        return 1.0
    return float((index - expected) / (top - expected))


def stability(edges: pd.DataFrame, groups: list[list[str]], partition: dict[str, int], cfg: dict) -> dict:
    """How much the groups change when drop_fraction of the edges are dropped (repeats seeded from cfg['seed'])."""
    repeats = int(cfg["stability"]["repeats"])
    fraction = float(cfg["stability"]["drop_fraction"])
    members = sorted({m for g in groups for m in g})
    if not groups or repeats == 0 or edges.empty:
        return {"repeats": 0, "drop_fraction": fraction, "mean_best_jaccard": None, "min_best_jaccard": None,
                "ari": None}
    per_repeat, aris, worst = [], [], []
    for r in range(repeats):
        rng = np.random.default_rng(int(cfg["seed"]) + 1 + r)
        keep = rng.random(len(edges)) >= fraction
        part, _m = communities(edges[keep], cfg["leiden"], int(cfg["seed"]))
        found: dict[int, set] = {}
        for p, c in part.items():
            found.setdefault(c, set()).add(p)
        # only the communities holding a member can overlap a group (every other Jaccard is 0)
        best = [max([jaccard(g, found[c]) for c in {part[m] for m in g if m in part}] + [0.0]) for g in groups]
        per_repeat.append(float(np.mean(best)))
        worst.append(float(min(best)))
        aris.append(adjusted_rand([partition.get(m, -1) for m in members], [part.get(m, -1) for m in members]))
    return {"repeats": repeats, "drop_fraction": fraction, "mean_best_jaccard": round(float(np.mean(per_repeat)), 4),
            "min_best_jaccard": round(float(min(worst)), 4), "ari": round(float(np.mean(aris)), 4),
            "per_repeat": [round(x, 4) for x in per_repeat]}


# -- the run ----------------------------------------------------------------------------------------------------
def analyse(network: Network, cfg: dict) -> dict:
    """Steps 1-4 and 6 on a network (no store): projection, partition, modularity, ranks, groups, stability."""
    with stage("projection") as row:
        edges = co_offending(network, cfg["min_shared_incidents"], cfg["shared_vehicle_weight"])
        row["edges"] = len(edges)
    with stage("leiden"):
        partition, modularity = communities(edges, cfg["leiden"], int(cfg["seed"]))
    with stage("centrality"):
        ranks = centrality(edges, partition, float(cfg["broker_quantile"]), int(cfg["betweenness_exact_max_nodes"]),
                           int(cfg["seed"]))
    with stage("candidate_groups"):
        groups = candidate_groups(network, partition, ranks, cfg)
    with stage("stability"):
        stable = stability(edges, [g["members"] for g in groups], partition, cfg)
    return {"edges": edges, "partition": partition, "modularity": modularity, "ranks": ranks, "groups": groups,
            "stability": stable}


def _next(store: Store, table: str, column: str) -> int:
    # table and column are constants of this module
    return int(store.sql(f"SELECT coalesce(max({column}), 0) + 1 AS n FROM {table}").n.iloc[0])


def co_offending_network(store: Store) -> Network:
    """The network of the persons seen at an incident with another person (queries/linkage/co_offenders.sql),
    their incidents and vehicles: everything `analyse` reads of the whole store's network (co-offending pairs, the
    members' incidents, the vehicles at joint incidents, the members' labels), so it finds the same groups, but
    its size follows the co-offenders, not the store (at 10M incidents the whole network is millions of incident
    nodes built row by row; tests/test_linkage_groups.py checks both give the same groups)."""
    co_offenders = store.query("linkage/co_offenders").person_id.tolist()
    return build_network(store, person_ids=co_offenders)


def find_groups(store: Store, settings: LinkageSettings | None = None) -> dict:
    """One groups run over the store's resolved persons and vehicles: find, rank, keep ids, store, audit.
    Returns a summary dict (run_id, groups, persons, communities, modularity, events, stability)."""
    settings = settings or load_settings()
    cfg = group_settings(settings)
    with stage("groups"):
        with stage("network") as row:
            network = co_offending_network(store)
            row["nodes"], row["edges"] = len(network.nodes), len(network.edges)
        result = analyse(network, cfg)
        with stage("write"):
            return _store_groups(store, settings, cfg, result)


def _store_groups(store: Store, settings: LinkageSettings, cfg: dict, result: dict) -> dict:
    groups = result["groups"]
    previous_rows = store.query("linkage/groups_previous_members")
    previous = previous_rows.groupby("group_id")["person_id"].apply(list).to_dict() if len(previous_rows) else {}
    existing = store.query("linkage/groups_all")
    ids, events, merged = match_ids([g["members"] for g in groups], previous, existing.group_id.tolist(),
                                    float(cfg["keep_id_min_jaccard"]))
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            run_id, started = _next(store, "linkage_runs", "run_id"), utcnow()
            _write(store, run_id, groups, ids, merged, existing, result["modularity"], events)
            counts = Counter(e["event"] for e in events)
            details = {"settings": cfg, "modularity": round(result["modularity"], 4),
                       "communities": len(set(result["partition"].values())),
                       "persons_in_projection": len(result["partition"]), "edges": int(len(result["edges"])),
                       "groups": len(groups), "events": dict(counts), "stability": result["stability"]}
            store.con.execute(
                "INSERT INTO linkage_runs VALUES ($r, 'group', $s, $f, $u, $v, $h, $n, $k, $d, NULL)",
                {"r": run_id, "s": started, "f": utcnow(), "u": os_user(), "v": settings.version,
                 "h": settings.sha256, "n": len(result["partition"]), "k": len(groups),
                 "d": json.dumps(details, default=str, sort_keys=True)})
            store.audit("link-run", "groups", {"run_id": run_id, "groups": len(groups), "events": dict(counts),
                                               "modularity": round(result["modularity"], 4),
                                               "settings_sha256": settings.sha256})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return {"entity": "group", "run_id": run_id, "records": len(result["partition"]), "entities": len(groups),
            "groups": ids, "modularity": round(result["modularity"], 4),
            "communities": len(set(result["partition"].values())), "events": dict(counts),
            "stability": result["stability"]}


def _insert(store: Store, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    if frame.empty:
        return
    name = f"_groups_{table}"
    store.con.register(name, frame[columns])
    store.con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {name}")
    store.con.unregister(name)


GROUP_COLUMNS = ["group_id", "status", "merged_into", "label", "members", "vehicles", "incidents", "forces",
                 "first_seen", "last_seen", "tactics", "modularity", "density", "created_run_id", "updated_run_id",
                 "run_id"]


def _write(store: Store, run_id: int, groups: list[dict], ids: list[str], merged: dict, existing: pd.DataFrame,
           modularity: float, events: list[dict]) -> None:
    created = dict(zip(existing.group_id, existing.created_run_id)) if len(existing) else {}
    rows, members, vehicles = [], [], []
    for gid, g in zip(ids, groups):
        rows.append({"group_id": gid, "status": "active", "merged_into": None, "label": g["label"],
                     "members": len(g["members"]), "vehicles": len(g["vehicles"]), "incidents": len(g["incidents"]),
                     "forces": json.dumps(g["forces"]), "first_seen": g["first_seen"], "last_seen": g["last_seen"],
                     "tactics": json.dumps(g["tactics"]), "modularity": modularity, "density": g["density"],
                     "created_run_id": created.get(gid, run_id), "updated_run_id": run_id, "run_id": run_id})
        r = g["ranks"]
        members.append(pd.DataFrame({"group_id": gid, "person_id": r.person_id, "role": r.role, "degree": r.degree,
                                     "betweenness": r.betweenness, "eigenvector": r.eigenvector,
                                     "is_broker": r.is_broker.astype(bool), "is_key_player": r.is_key_player.astype(bool),
                                     "incidents": r.incidents.astype(int), "run_id": run_id}))
        vehicles.append(pd.DataFrame({"group_id": gid, "vehicle_id": list(g["vehicles"]),
                                      "incidents": list(g["vehicles"].values()), "run_id": run_id}))
    active = set(ids)
    gone = existing[~existing.group_id.isin(active)].copy() if len(existing) else existing
    if len(gone):
        newly = gone.status == "active"
        gone.loc[newly, "updated_run_id"] = run_id
        gone.loc[newly, "status"] = ["merged" if i in merged else "retired" for i in gone.loc[newly, "group_id"]]
        gone.loc[newly, "merged_into"] = [merged.get(i) for i in gone.loc[newly, "group_id"]]
    frame = pd.concat([pd.DataFrame(rows, columns=GROUP_COLUMNS), gone.reindex(columns=GROUP_COLUMNS)],
                      ignore_index=True)
    for table in ("group_members", "group_vehicles", "groups"):
        store.con.execute(f"DELETE FROM {table}")
    _insert(store, "groups", frame, GROUP_COLUMNS)
    if members:
        _insert(store, "group_members", pd.concat(members, ignore_index=True),
                ["group_id", "person_id", "role", "degree", "betweenness", "eigenvector", "is_broker", "is_key_player",
                 "incidents", "run_id"])
    if vehicles:
        _insert(store, "group_vehicles", pd.concat(vehicles, ignore_index=True),
                ["group_id", "vehicle_id", "incidents", "run_id"])
    if events:
        first = _next(store, "linkage_events", "event_id")
        ev = pd.DataFrame([{"event_id": first + k, "run_id": run_id, "entity": "group", "event": e["event"],
                            "entity_id": e["entity_id"], "other_ids": json.dumps(e["other_ids"]),
                            "mentions": e["mentions"]} for k, e in enumerate(events)])
        _insert(store, "linkage_events", ev, ["event_id", "run_id", "entity", "event", "entity_id", "other_ids",
                                              "mentions"])


# -- reading ----------------------------------------------------------------------------------------------------
def _forces_text(value) -> str:
    try:
        return ", ".join(json.loads(value or "[]"))
    except (TypeError, ValueError):
        return ""


def list_groups(store: Store) -> pd.DataFrame:
    """The active groups, largest first: group_id, label, members, vehicles, incidents, forces (text), first_seen,
    last_seen, density, modularity, created_run_id, run_id."""
    frame = store.query("linkage/groups_list")
    frame["forces"] = frame.forces.map(_forces_text)
    return frame


def _check_id(group_id) -> str:
    text = str(group_id).strip()
    if not text or len(text) > GROUP_ID_MAX:
        raise WorkbenchError(f"{text[:40]!r} is not a group id (like GR00001)")
    return text


def group_detail(store: Store, group_id: str) -> dict:
    """One group (active, merged or retired): summary (one row), members (with names, roles, centrality),
    vehicles (VRM, make, colour), tactics (code, name, incidents) and events (what runs did to it)."""
    gid = _check_id(group_id)
    summary = store.query("linkage/groups_one", group_id=gid)
    if summary.empty:
        raise WorkbenchError(f"no group {gid[:40]!r} (see `workbench groups list`)")
    tactics = json.loads(summary.tactics.iloc[0] or "{}")
    names = store.query("linkage/groups_tactic_names")
    names = dict(zip(names.tactic_code, names.name))
    summary = summary.copy()
    summary["forces"] = summary.forces.map(_forces_text)
    return {"summary": summary,
            "members": store.query("linkage/groups_members", group_id=gid),
            "vehicles": store.query("linkage/groups_vehicles", group_id=gid),
            "tactics": pd.DataFrame([{"tactic_code": k, "name": names.get(k), "incidents": int(v)}
                                     for k, v in tactics.items()], columns=["tactic_code", "name", "incidents"]),
            "events": store.query("linkage/groups_events", group_id=gid)}
