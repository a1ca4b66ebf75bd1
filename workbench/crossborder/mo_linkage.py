"""Same MO, no shared name: the groups and incidents in other forces most likely to be one offender group's work.

    c = candidates(store, "GR00003")            # or an incident id (123), a list of incident ids, an RP/RV id
    c.groups                                    # ranked groups: score, agreeing features, nearest linked incidents
    c.incidents                                 # the top incidents in other forces (linked or not) with their scores
    c.coefficients                              # the pair model's coefficients (interpretable: per SD of a feature)
    unlinked_series(store)                      # clusters of incidents no group is tied to that look like one series

The pair model (mo_model.py) scores two incidents on tactics, goods, time of day, weekday, road time, days apart,
chain, sector, group size, vehicle use and violence (mo_features.py). A candidate group's score for a query is
the mean over the query's incidents of the mean of its best `top_pairs_per_group` pair scores with the group's
incidents (outside the query's forces when `other_forces_only`), so one look-alike incident cannot carry a
group and a group active over two years is not favoured for its size. Settings: `mo_linkage:` in
workbench/config/crossborder.yaml. docs/crossborder.md ("Same MO, no shared name") gives the method and its
measured accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.crossborder.mo_features import (Encoded, concat, grid_features, load_encoded, pair_features,
                                               pair_matrix, subset)
from workbench.crossborder.mo_model import PairModel, fit_model, linkage_data, mo_settings
from workbench.crossborder.runs import EARTH_KM
from workbench.crossborder.settings import crossborder_settings
from workbench.errors import WorkbenchError

GROUP_COLUMNS = ["rank", "group_id", "label", "score", "query_incidents", "group_incidents", "forces", "agrees",
                 "nearest", "already_linked"]
INCIDENT_COLUMNS = ["rank", "incident_id", "score", "occurred_at", "force_code", "store_name", "town", "tactics",
                    "group_id", "nearest_query_incident", "agrees"]
CLUSTER_COLUMNS = ["series_id", "incidents", "incident_ids", "forces", "force_codes", "first_seen", "last_seen",
                   "methods", "goods", "mean_score"]

# how an agreeing feature reads in an explanation
_PHRASES = {
    "methods_jaccard": lambda f: f"methods alike (Jaccard {f.methods_jaccard:.2f})",
    "goods_jaccard": lambda f: f"goods alike (Jaccard {f.goods_jaccard:.2f})",
    "hour_diff": lambda f: f"time of day within {f.hour_diff:.1f} h",
    "weekday_diff": lambda f: f"weekday within {f.weekday_diff:.1f} days",
    "log_road_hours": lambda f: f"{f.distance_km:.0f} km apart ({f.road_hours:.1f} h by road)",
    "log_days_apart": lambda f: f"{f.days_apart:.0f} days apart",
    "travel_infeasible": lambda f: "reachable by road in the time between",
    "same_chain": lambda f: f"same chain ({f.same_chain:.0%} of pairs)",
    "same_sector": lambda f: f"same sector ({f.same_sector:.0%} of pairs)",
    "size_diff": lambda f: "similar number of offenders",
    "vehicle_agree": lambda f: "vehicle use agrees",
    "violence_agree": lambda f: "violence agrees",
}


@dataclass
class Candidates:
    query: pd.DataFrame          # the query incidents (crossborder/incidents columns, tactics as text)
    groups: pd.DataFrame         # GROUP_COLUMNS, best first
    incidents: pd.DataFrame      # INCIDENT_COLUMNS, best first
    coefficients: pd.DataFrame
    training: dict
    query_label: str


def agreeing(model: PairModel, features: pd.DataFrame, k: int = 4) -> str:
    """The features that push these pairs (on average) most towards a link, in words."""
    if features.empty:
        return ""
    contrib = model.contributions(features).mean()
    mean = features.mean(numeric_only=True)
    top = [n for n in contrib.sort_values(ascending=False).index if contrib[n] > 0][:k]
    return "; ".join(_PHRASES[n](mean) for n in top)


def group_scores(model: PairModel, q: Encoded, pool: Encoded, pool_groups: np.ndarray, top_k: int,
                 settings: dict | None = None, other_forces_only: bool = True, exclude_group: int | None = None,
                 chunk: int = 2_000_000):
    """Per candidate group code: (score, [(query row, pool row, pair score), ...] best first, pairs scored).

    pool_groups: group code per pool row (-1 rows are ignored). Rows of the pool in one of the query's forces
    are left out when other_forces_only."""
    keep = pool_groups >= 0
    if other_forces_only:
        keep &= ~np.isin(pool.force, q.force[q.force >= 0])
    if exclude_group is not None:
        keep &= pool_groups != exclude_group
    rows = np.flatnonzero(keep)
    if len(rows) == 0 or len(q) == 0:
        return {}
    codes = pool_groups[rows]
    sub = subset(pool, rows)
    step = max(1, chunk // max(1, len(rows)))
    grids = [_grid(model, subset(q, np.arange(a, min(len(q), a + step))), sub, settings)
             for a in range(0, len(q), step)]
    grid = np.vstack(grids)
    out: dict[int, tuple] = {}
    for g in np.unique(codes):
        cols = np.flatnonzero(codes == g)
        sg = grid[:, cols]
        kk = min(top_k, len(cols))
        idx = np.argpartition(-sg, kk - 1, axis=1)[:, :kk]
        best_vals = np.take_along_axis(sg, idx, axis=1)
        tops = best_vals.mean(axis=1)
        flat = np.argsort(-best_vals, axis=None)[: max(top_k, 3) * 3]
        qr, kc = np.unravel_index(flat, best_vals.shape)
        best = [(int(a), int(rows[cols[idx[a, c]]]), float(best_vals[a, c])) for a, c in zip(qr, kc)]
        out[int(g)] = (float(tops.mean()), best, len(cols))
    return out


def _grid(model, q: Encoded, pool: Encoded, settings) -> np.ndarray:
    """Scores of every (q, pool) pair: the model's fast grid when it has one (a baseline scorer has not)."""
    if hasattr(model, "score_grid"):
        return model.score_grid(q, pool, settings)
    return model.score(grid_features(q, pool, settings))


def _query_ids(store, target, settings) -> tuple[list[int], str, str | None]:
    """(incident ids, label, series id or None) of an incident id, a list of them or a series id."""
    from workbench.crossborder.series import PARAM, QUERY, entity_status

    if isinstance(target, str) and not target.strip().lstrip("-").isdigit():
        info = entity_status(store, target)          # unknown, merged and retired ids: one-line errors
        kind, sid = info["kind"], info["series_id"]
        ties = store.query(QUERY[kind], **{PARAM[kind]: sid})
        if ties.empty:
            raise WorkbenchError(f"{kind} {sid} has no incidents with a current referral")
        return sorted(ties.incident_id.astype(int).unique().tolist()), f"{kind} {sid}", sid
    items = target if isinstance(target, (list, tuple, set, np.ndarray, pd.Series)) else [target]
    ids = []
    for item in items:
        try:
            ids.append(int(str(item).strip()))
        except ValueError:
            shown = str(item)[:40].encode("unicode_escape").decode("ascii")
            raise WorkbenchError(f"'{shown}' is not an incident id (a whole number) or a series id "
                                 "(GR00001, RP0000001, RV0000001)") from None
    if not ids:
        raise WorkbenchError("no incident ids given")
    known = set(store.query("crossborder/mo_incidents_known", incident_ids=ids).incident_id.astype(int))
    missing = [i for i in ids if i not in known]
    if missing:
        raise WorkbenchError(f"no incident {missing[0]} in this store" + (f" (and {len(missing) - 1} more unknown ids)"
                                                                          if len(missing) > 1 else ""))
    ids = sorted(set(ids))
    return ids, (f"incident {ids[0]}" if len(ids) == 1 else f"{len(ids)} incidents"), None


_MODEL_CACHE: dict = {}


def trained(store, settings: dict | None = None):
    """(LinkageData, PairModel) for this store, cached while the store's latest group run is unchanged."""
    cfg = mo_settings(settings)
    try:
        run = store.con.execute("SELECT max(run_id) FROM linkage_runs WHERE entity = 'group'").fetchone()[0]
    except Exception:  # an old store without linkage runs: no cache key, train afresh
        run = None
    key = (str(getattr(store, "path", "")), run, repr(settings or crossborder_settings()))
    if run is not None and key in _MODEL_CACHE:
        return _MODEL_CACHE[key]
    data = linkage_data(store, settings)
    model = fit_model(data.encoded, data.labels, data.multi, settings, cfg, data.others)
    if run is not None:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = (data, model)
    return data, model


def _incident_text(frame: pd.DataFrame, rows) -> str:
    return ", ".join(f"{int(frame.incident_id.iloc[r])} ({frame.force_code.iloc[r] or '?'}, "
                     f"{pd.Timestamp(frame.occurred_at.iloc[r]).date() if pd.notna(frame.occurred_at.iloc[r]) else '?'})"
                     for r in rows)


def candidates(store, target=None, top: int = 50, settings: dict | None = None, *, incident_id=None,
               incident_ids=None, series_id=None) -> Candidates:
    """The groups and incidents in other forces most likely to be the same offenders as an incident, a set of
    incidents or a series (group / person / vehicle id), ranked, each with its explanation. The query is
    `target` (any of those) or exactly one of the keywords."""
    given = [v for v in (target, incident_id, incident_ids, series_id) if v is not None]
    if len(given) != 1:
        raise WorkbenchError("give one query: an incident id, a list of incident ids or a series id")
    target = given[0]
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or int(top) < 1:
        raise WorkbenchError(f"top must be a whole number of at least 1, not {top!r}")
    settings = settings or crossborder_settings()
    cfg = mo_settings(settings)
    ids, label, series_id = _query_ids(store, target, settings)
    data, model = trained(store, settings)
    q = load_encoded(store, ids, data.vocab)
    q_sig = q.frame.assign(tactics=[";".join(q.codes(r, data.vocab)) for r in range(len(q))])
    # groups
    exclude = data.groups.index(series_id) if series_id in data.groups else None
    scored = group_scores(model, q, data.encoded, data.labels, int(cfg["top_pairs_per_group"]), settings,
                          bool(cfg["other_forces_only"]), exclude)
    labels = {}
    if data.groups:
        g = store.query("crossborder/groups_active")
        labels = dict(zip(g.group_id, g.label))
    linked_groups = set(data.ties[data.ties.incident_id.isin(ids)].group_id)
    rows = []
    for code, (score, best, n) in scored.items():
        gid = data.groups[code]
        shown = best[: int(cfg["explain_pairs"])]
        pairs = pair_features(q, [b[0] for b in best], [b[1] for b in best], settings, other=data.encoded)
        pool_rows = np.flatnonzero(data.labels == code)
        rows.append({"group_id": gid, "label": labels.get(gid), "score": round(score, 4), "query_incidents": len(ids),
                     "group_incidents": int(n),
                     "forces": int(len(set(data.encoded.frame.force_code.iloc[pool_rows].dropna()))),
                     "agrees": agreeing(model, pairs),
                     "nearest": "; ".join(f"{int(data.encoded.incident_id[b[1]])} ({data.encoded.frame.force_code.iloc[b[1]]}"
                                          f", {b[2]:.2f}) ~ query {int(q.incident_id[b[0]])}" for b in shown),
                     "already_linked": gid in linked_groups})
    groups = pd.DataFrame(rows, columns=[c for c in GROUP_COLUMNS if c != "rank"])
    groups = groups.sort_values(["score", "group_id"], ascending=[False, True]).head(int(top)).reset_index(drop=True)
    groups.insert(0, "rank", np.arange(1, len(groups) + 1))
    incidents = _top_incidents(store, model, data, q, q_sig, ids, int(top), settings, cfg)
    return Candidates(q_sig, groups, incidents, model.coefficients, model.training, label)


def characteristic_codes(q: Encoded, vocab: dict, share: float = 0.5) -> list[str]:
    """The tactic codes at least `share` of the query's incidents show (the most common one when none does)."""
    bits = {c: b for c, b in vocab["tactics"].items()}
    masks = q.methods | q.goods
    counts = {c: int(((masks >> np.uint64(b)) & np.uint64(1)).sum()) for c, b in bits.items()}
    counts = {c: n for c, n in counts.items() if n}
    if not counts:
        return []
    keep = sorted(c for c, n in counts.items() if n >= share * len(q))
    return keep or [max(counts, key=lambda c: (counts[c], c))]


def _top_incidents(store, model, data, q, q_sig, ids, top, settings, cfg) -> pd.DataFrame:
    codes = characteristic_codes(q, data.vocab)
    if not codes:
        return pd.DataFrame(columns=INCIDENT_COLUMNS)
    limit = int(cfg["pool_limit"])
    mine = q.force[q.force >= 0] if cfg["other_forces_only"] else np.zeros(0, dtype=np.int64)
    parts, have, seen = [], 0, set(ids)
    # the rarest code drives the pool; when its incidents all lie in the query's forces, the next one too
    for driver in store.query("crossborder/mo_code_counts", codes=codes).tactic_code:
        found = store.query("crossborder/mo_candidate_pool", driver=driver, codes=codes,
                            pool_limit=2 * limit).incident_id
        found = [i for i in found.tolist() if i not in seen]
        if not found:
            continue
        seen.update(found)
        part = load_encoded(store, found, data.vocab)
        part = subset(part, np.flatnonzero(~np.isin(part.force, mine)))
        parts.append(part)
        have += len(part)
        if have >= limit:
            break
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=INCIDENT_COLUMNS)
    pool = parts[0] if len(parts) == 1 else concat(parts)
    pool = subset(pool, np.arange(min(len(pool), limit)))
    best_score = np.full(len(pool), -1.0)
    best_q = np.zeros(len(pool), dtype=np.int64)
    step = max(1, 2_000_000 // len(pool))
    for start in range(0, len(q), step):
        qi = np.arange(start, min(len(q), start + step))
        s = _grid(model, subset(q, qi), pool, settings)
        arg = s.argmax(axis=0)
        better = s[arg, np.arange(len(pool))] > best_score
        best_score = np.where(better, s[arg, np.arange(len(pool))], best_score)
        best_q = np.where(better, qi[arg], best_q)
    order = np.lexsort((pool.incident_id, -best_score))[:top]
    listed = data.ties[data.ties.incident_id.isin(pool.incident_id[order])]
    tied = listed.sort_values("group_id").groupby("incident_id").group_id.agg(";".join)
    out = []
    for rank, r in enumerate(order, 1):
        f = pair_features(q, [best_q[r]], [r], settings, other=pool)
        sig = pool.frame.iloc[r]
        out.append({"rank": rank, "incident_id": int(sig.incident_id), "score": round(float(best_score[r]), 4),
                    "occurred_at": sig.occurred_at, "force_code": sig.force_code, "store_name": sig.store_name,
                    "town": sig.town, "tactics": ";".join(pool.codes(r, data.vocab)),
                    "group_id": tied.get(int(sig.incident_id)),
                    "nearest_query_incident": int(q.incident_id[best_q[r]]), "agrees": agreeing(model, f, 3)})
    return pd.DataFrame(out, columns=INCIDENT_COLUMNS)


def unlinked_series(store, settings: dict | None = None) -> pd.DataFrame:
    """Clusters of incidents no group is tied to that form a likely series of their own. Incidents with the same
    methods and goods are scored pairwise when within `window_days` and `max_road_hours` by road of each other,
    and joined when the pair score reaches `threshold` (single linkage); a signature shown by more than
    `max_signature_share` of ordinary offenders' incidents (resolved persons in no group) is commonplace
    (concealing alcohol, say) and cannot tell one series from the rest, so it is not clustered; nor is one shown
    by more than `max_unlinked_share` of the unlinked incidents. Clusters of `min_incidents` or more, ids
    UNL001... largest first."""
    settings = settings or crossborder_settings()
    cfg = mo_settings(settings)
    un = cfg["unlinked_series"]
    data, model = trained(store, settings)
    linked = data.ties.incident_id.astype(np.int64).to_numpy()
    every = load_encoded(store, None, data.vocab)
    keep = ~np.isin(every.incident_id, linked) & ~np.isnan(every.days) & (every.methods > 0)
    enc = subset(every, np.flatnonzero(keep))
    sig = enc.frame
    parent = np.arange(len(sig))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    runs = settings["runs"]
    km_per_hour = float(runs["speed_limit_kmh"]) / float(runs["detour_factor"])
    edges = []
    window, reach = float(un["window_days"]), float(un["max_road_hours"])
    keys = pd.Series(list(zip(enc.methods.tolist(), enc.goods.tolist())))
    blocks = keys.groupby(keys).indices
    # how common each signature is among ordinary offending: the incidents of resolved persons in no group (the
    # unlinked incidents themselves when there are none)
    known = (data.others >= 0) & (data.labels < 0)
    ref = data.encoded if known.any() else enc
    ref_keys = pd.Series(list(zip(ref.methods[known].tolist(), ref.goods[known].tolist()))) if known.any() else keys
    share = ref_keys.value_counts() / max(1, len(ref_keys))
    for key, rows in blocks.items():
        rows = np.asarray(rows)
        if len(rows) < int(un["min_incidents"]) or share.get(key, 0.0) > float(un["max_signature_share"]) \
                or len(rows) > float(un["max_unlinked_share"]) * len(enc):
            continue
        rows = rows[np.argsort(enc.days[rows])][-int(un["max_block"]):]
        days = enc.days[rows]
        # pairs within the window: for each row, the later rows up to `window` days on
        ends = np.searchsorted(days, days + window, side="right")
        counts = ends - np.arange(len(rows)) - 1
        if counts.sum() == 0:
            continue
        i = np.repeat(np.arange(len(rows)), counts)
        j = np.concatenate([np.arange(k + 1, e) for k, e in enumerate(ends) if e > k + 1])
        a, b = rows[i], rows[j]
        cos = np.clip(np.einsum("ij,ij->i", enc.xyz[a], enc.xyz[b]), -1.0, 1.0)
        near = np.arccos(cos) * EARTH_KM / km_per_hour <= reach
        a, b = a[near], b[near]
        if len(a) == 0:
            continue
        score = model.score(pair_matrix(enc, a, b, settings))
        hit = score >= float(un["threshold"])
        edges.append(pd.DataFrame({"a": a[hit], "b": b[hit], "score": score[hit]}))
    edges = pd.concat(edges, ignore_index=True) if edges else pd.DataFrame(columns=["a", "b", "score"])
    for x, y in zip(edges.a.to_numpy(), edges.b.to_numpy()):
        rx, ry = find(int(x)), find(int(y))
        if rx != ry:
            parent[rx] = ry
    roots = np.array([find(x) for x in range(len(sig))], dtype=np.int64)
    sizes = pd.Series(roots).value_counts()
    big = sizes[sizes >= int(un["min_incidents"])]
    mean_score = edges.assign(root=roots[edges.a.to_numpy(dtype=np.int64)]).groupby("root").score.mean() \
        if len(edges) else pd.Series(dtype=float)
    clusters = []
    # each cluster's members, times and forces from one grouping (not a scan and a frame slice per cluster)
    in_big = np.isin(roots, big.index.to_numpy())
    members_of = pd.Series(np.flatnonzero(in_big)).groupby(roots[in_big]).indices if in_big.any() else {}
    rows_of = {root: np.flatnonzero(in_big)[idx] for root, idx in members_of.items()}
    times = sig.occurred_at.iloc[np.flatnonzero(in_big)].groupby(roots[in_big]) if in_big.any() else None
    first_at, last_at = (times.min(), times.max()) if times is not None else ({}, {})
    incident_ids = sig.incident_id.to_numpy()
    force_codes = sig.force_code.to_numpy(dtype=object)
    for root in big.index:
        members = rows_of[root]
        forces = sorted({f for f in force_codes[members] if isinstance(f, str)})
        clusters.append({"incidents": len(members), "incident_ids": ";".join(str(int(i)) for i in incident_ids[members]),
                         "forces": len(forces), "force_codes": ";".join(forces), "first_seen": first_at[root],
                         "last_seen": last_at[root],
                         "methods": ";".join(enc.codes(members[0], data.vocab, "methods")),
                         "goods": ";".join(enc.codes(members[0], data.vocab, "goods")),
                         "mean_score": round(float(mean_score.get(root, np.nan)), 4)})
    out = pd.DataFrame(clusters, columns=[c for c in CLUSTER_COLUMNS if c != "series_id"])
    out = out.sort_values(["incidents", "first_seen"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "series_id", [f"UNL{k:03d}" for k in range(1, len(out) + 1)])
    return out
