"""Clustering scored pairs into entities, with an analyst's decisions and the context as hard constraints.

Splink has no must-link / cannot-link (its issues #806 and #1175), so we cluster ourselves:

1. confirmed pairs (must-link) are merged first, whatever the model says;
2. then every pair at or above the auto-link weight, strongest first (single linkage on the match weight,
   which does not saturate as the probability does near 1.0);
3. a merge is refused when it would put two records of a cannot-link pair (an analyst's rejection, a
   context conflict such as impossible travel or two people of one referral, or a pair whose weight is
   below `separate_below`) into one cluster. Because the check is made on whole clusters, a rejected pair
   never ends up together through a third record;
4. with `dobs` (record id -> ISO date of birth), a merge through a pair that lacks a date of birth on either
   side is also refused when no date of birth of one cluster agrees with any of the other's within the
   tolerated errors (equal, day and month swapped, at most `dob_max_edits` digits apart): a mention without a date of birth
   cannot chain two people of one name but different births into one (at national scale every common name
   has many such people). A pair with both dates was scored on them by the model and may join (a date of
   birth recorded against the wrong person of a referral still links by name and place). Confirmed pairs
   override it.

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


def dobs_compatible(a: str, b: str, max_edits: int = 1) -> bool:
    """Two ISO dates of birth one person could have been recorded with: equal, day and month swapped, or at
    most max_edits digit edits (a typo or two adjacent digits swapped) apart: the model's own DOB levels."""
    if a == b:
        return True
    if a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return True
    return _edits_within(a, b, max_edits)


def _edits_within(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein (optimal string alignment) distance of a and b is at most limit."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)] <= limit


class _Clusters:
    def __init__(self, ids: list[str], dobs: dict[str, str] | None = None, dob_max_edits: int = 1):
        self.parent = {i: i for i in ids}
        self.members = {i: {i} for i in ids}
        self.forbidden: dict[str, set[str]] = {}
        self.flagged: dict[str, set[str]] = {}
        self.dobs: dict[str, set[str]] = {i: {d} for i, d in (dobs or {}).items() if i in self.parent and d}
        self.has_dob = set(self.dobs)
        self.dob_max_edits = dob_max_edits

    def dob_conflict(self, ra: str, rb: str) -> bool:
        da, db = self.dobs.get(ra), self.dobs.get(rb)
        if not da or not db:
            return False
        return not any(dobs_compatible(x, y, self.dob_max_edits) for x in da for y in db)

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
        for x in (a, b):                      # the members of each cluster that some cannot-link names
            self.flagged.setdefault(self.find(x), set()).add(x)

    def conflict(self, ra: str, rb: str) -> bool:
        """A member of one cluster is cannot-linked with a member of the other (only flagged members are
        looked at: a prolific offender's cluster of hundreds is not walked on every merge)."""
        fa, fb = self.flagged.get(ra, ()), self.flagged.get(rb, ())
        if not fa or not fb:
            return False
        small, other = (fa, rb) if len(fa) <= len(fb) else (fb, ra)
        other_members = self.members[other]
        for member in small:
            if not self.forbidden[member].isdisjoint(other_members):
                return True
        return False

    def union(self, ra: str, rb: str) -> str:
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        flagged = self.flagged.pop(rb, None)
        if flagged:
            self.flagged.setdefault(ra, set()).update(flagged)
        moved = self.dobs.pop(rb, None)
        if moved:
            self.dobs.setdefault(ra, set()).update(moved)
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
            cannot_link: Iterable[tuple] = (), separate_below: float | None = None,
            dobs: dict[str, str] | None = None, dob_max_edits: int = 1) -> pd.DataFrame:
    """Cluster `ids` from `pairs` (columns id_l, id_r, match_weight; optional cannot_link bool); `dobs`: record
    id -> ISO date of birth for the conflicting-births rule (module docstring, step 4).

    Returns DataFrame(record_id, cluster_id, match_weight, joined_by)."""
    ids = [str(i) for i in ids]
    known = set(ids)
    must = [(str(a), str(b)) for a, b in must_link]
    cannot = [(str(a), str(b)) for a, b in cannot_link]
    check_decisions(must, cannot)
    clusters = _Clusters(ids, None if dobs is None else {str(k): v for k, v in dobs.items()}, dob_max_edits)
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
    for a, b, w in zip(left[candidates].tolist(), right[candidates].tolist(), weight[candidates].tolist()):
        if a not in known or b not in known:
            continue
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            if clusters.conflict(ra, rb):
                continue
            if clusters.dobs and not (a in clusters.has_dob and b in clusters.has_dob) \
                    and clusters.dob_conflict(ra, rb):
                continue          # a link without both births would chain two births together
            clusters.union(ra, rb)
        elif ra == rb and a in best and b in best:
            continue
        for x in (a, b):
            if x not in best or best[x][0] < w:
                best[x] = (w, MODEL)
    label = {root: (min(members) if len(members) > 1 else root) for root, members in clusters.members.items()}
    cluster_ids, weights, how = [], [], []
    for i in ids:
        root = clusters.find(i)
        w, joined = best.get(i, (None, SINGLETON))
        if len(clusters.members[root]) == 1:
            w, joined = None, SINGLETON
        cluster_ids.append(label[root])
        weights.append(None if w is None or math.isinf(w) else w)
        how.append(joined)
    return pd.DataFrame({"record_id": ids, "cluster_id": cluster_ids, "match_weight": weights, "joined_by": how},
                        columns=["record_id", "cluster_id", "match_weight", "joined_by"])


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
