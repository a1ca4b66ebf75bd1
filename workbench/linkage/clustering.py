"""Clustering scored pairs into entities, with an analyst's decisions and the context as hard constraints.

Splink has no must-link / cannot-link (its issues #806 and #1175), so we cluster ourselves:

1. confirmed pairs (must-link) are merged first, whatever the model says;
2. then every pair at or above the auto-link weight, strongest first (single linkage on the match weight,
   which does not saturate as the probability does near 1.0);
3. a merge is refused when it would put two records of a cannot-link pair (an analyst's rejection, a
   context conflict such as impossible travel or two people of one referral, or a pair whose weight is
   below `separate_below`) into one cluster. Because the check is made on whole clusters, a rejected pair
   never ends up together through a third record.

Returns one row per record: cluster (the smallest record id in it, stable for the same input), the
strongest weight linking it to another member, and how it joined (model, confirmed, singleton).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

CONFIRMED = "confirmed"
MODEL = "model"
SINGLETON = "singleton"


class _Clusters:
    def __init__(self, ids: list[str]):
        self.parent = {i: i for i in ids}
        self.members = {i: {i} for i in ids}
        self.forbidden: dict[str, set[str]] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def forbid(self, a: str, b: str) -> None:
        self.forbidden.setdefault(a, set()).add(b)
        self.forbidden.setdefault(b, set()).add(a)

    def conflict(self, ra: str, rb: str) -> bool:
        small, large = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        large_members = self.members[large]
        for member in self.members[small]:
            banned = self.forbidden.get(member)
            if banned and not banned.isdisjoint(large_members):
                return True
        return False

    def union(self, ra: str, rb: str) -> str:
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        return ra


def check_decisions(must_link: Iterable[tuple[str, str]], cannot_link: Iterable[tuple[str, str]]) -> None:
    """Refuse contradictory decisions: a rejected pair joined by a chain of confirmed pairs."""
    must = [(str(a), str(b)) for a, b in must_link]
    ids = sorted({x for pair in must for x in pair})
    clusters = _Clusters(ids)
    for a, b in must:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            clusters.union(ra, rb)
    for a, b in cannot_link:
        a, b = str(a), str(b)
        if a in clusters.parent and b in clusters.parent and clusters.find(a) == clusters.find(b):
            raise WorkbenchError(f"decisions contradict each other: {a} and {b} are rejected as one person but "
                                 "joined by confirmed pairs")


def cluster(ids: Iterable, pairs: pd.DataFrame, threshold: float, must_link: Iterable[tuple] = (),
            cannot_link: Iterable[tuple] = (), separate_below: float | None = None) -> pd.DataFrame:
    """Cluster `ids` from `pairs` (columns id_l, id_r, match_weight; optional cannot_link bool).

    Returns DataFrame(record_id, cluster_id, match_weight, joined_by)."""
    ids = [str(i) for i in ids]
    known = set(ids)
    must = [(str(a), str(b)) for a, b in must_link]
    cannot = [(str(a), str(b)) for a, b in cannot_link]
    check_decisions(must, cannot)
    clusters = _Clusters(ids)
    for a, b in cannot:
        if a in known and b in known:
            clusters.forbid(a, b)
    if pairs is None or len(pairs) == 0:
        pairs = pd.DataFrame({"id_l": [], "id_r": [], "match_weight": []})
    left = pairs["id_l"].astype(str).to_numpy()
    right = pairs["id_r"].astype(str).to_numpy()
    weight = pairs["match_weight"].to_numpy(dtype=float)
    context = pairs["cannot_link"].to_numpy(dtype=bool) if "cannot_link" in pairs else np.zeros(len(pairs), bool)
    negative = context | ((weight < separate_below) if separate_below is not None else np.zeros(len(pairs), bool))
    for a, b in zip(left[negative], right[negative]):
        if a in known and b in known:
            clusters.forbid(a, b)
    best: dict[str, tuple[float, str]] = {}
    for a, b in must:
        if a not in known or b not in known:
            continue
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            clusters.union(ra, rb)
        for x in (a, b):
            best[x] = (math.inf, CONFIRMED)
    order = np.argsort(-weight, kind="stable")
    candidates = order[(weight[order] >= threshold) & ~negative[order]]
    for k in candidates:
        a, b, w = left[k], right[k], float(weight[k])
        if a not in known or b not in known:
            continue
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            if clusters.conflict(ra, rb):
                continue
            clusters.union(ra, rb)
        elif ra == rb and a in best and b in best:
            continue
        for x in (a, b):
            if x not in best or best[x][0] < w:
                best[x] = (w, MODEL)
    rows = []
    label: dict[str, str] = {}
    for root, members in clusters.members.items():
        label[root] = min(members)
    for i in ids:
        root = clusters.find(i)
        w, how = best.get(i, (None, SINGLETON))
        if len(clusters.members[root]) == 1:
            w, how = None, SINGLETON
        rows.append({"record_id": i, "cluster_id": label[root],
                     "match_weight": None if w is None or math.isinf(w) else w, "joined_by": how})
    return pd.DataFrame(rows, columns=["record_id", "cluster_id", "match_weight", "joined_by"])


def context_cannot_link(pairs: pd.DataFrame, context: dict) -> pd.Series:
    """Pairs the context rules out: impossible travel (speed above max_speed_kmh between the two places and
    times, with slack), or two records of one group (one referral) when distinct_within_group."""
    max_speed = float(context.get("max_speed_kmh", 130))
    slack_h = float(context.get("slack_minutes", 30)) / 60.0
    min_km = float(context.get("min_km", 5))
    km = pd.to_numeric(pairs.get("km"), errors="coerce") if "km" in pairs else pd.Series(np.nan, index=pairs.index)
    hours = pd.to_numeric(pairs.get("hours"), errors="coerce") if "hours" in pairs else \
        pd.Series(np.nan, index=pairs.index)
    travel = (km > min_km) & (km > max_speed * (hours + slack_h))
    travel = travel.fillna(False).astype(bool)
    if context.get("distinct_within_group", True) and "group_l" in pairs and "group_r" in pairs:
        same = (pairs["group_l"].notna() & (pairs["group_l"] == pairs["group_r"])).fillna(False).astype(bool)
    else:
        same = pd.Series(False, index=pairs.index)
    values = ["same referral" if s else "impossible travel" if t else None
              for t, s in zip(travel.to_numpy(), same.to_numpy())]
    return pd.Series(values, index=pairs.index, dtype=object)
