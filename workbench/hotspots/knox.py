"""Near-repeat (Knox) test: are events close in space also close in time more often than chance?

Every pair of events within the largest spatial band is counted in a spatial band x temporal band
table. The expected table comes from Monte Carlo permutations: event times are shuffled among the
events (locations fixed) and the pairs recounted. For each cell of the table:

    ratio = observed / mean of the permutations
    p     = (1 + number of permutations with count >= observed) / (iterations + 1)

Band convention (documented because Ratcliffe's Near Repeat Calculator is off by one at the lower
edge of its bands): bands are half-open on the left, (lo, hi], except the first, which is closed,
[0, hi]. With spatial edges (0, 100, 200) a pair 100 m apart is in band 1 "0-100 m" and a pair
100.5 m apart in band 2 "100-200 m"; pairs beyond the last edge are not counted. The same holds
for days (time difference in days, fractional). Pairs use straight-line distance in EPSG:27700.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import cells
from workbench.hotspots.events import HotspotError, validate

DEFAULT_SPACE_EDGES = (0, 100, 200, 400, 800, 1600)
DEFAULT_TIME_EDGES = (0, 7, 14, 28, 56)


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index for (lo, hi] bands with the first closed at its lower edge; -1 beyond the last edge."""
    idx = np.searchsorted(edges, values, side="left") - 1
    idx[values == edges[0]] = 0
    idx[(values > edges[-1]) | (values < edges[0])] = -1
    return idx


def knox(events: pd.DataFrame | None = None, space_edges=DEFAULT_SPACE_EDGES, time_edges=DEFAULT_TIME_EDGES,
         iterations: int = 999, seed: int = 0, xy: np.ndarray | None = None, days: np.ndarray | None = None,
         chunk: int = 2_000_000, n_jobs: int = 1) -> pd.DataFrame:
    """Knox table: one row per spatial x temporal band with observed, expected, ratio, p_value.

    Give `events` (latitude, longitude, occurred_at) or metric coordinates `xy` and times `days`.
    `n_jobs` > 1 splits the permutations over forked processes (results depend on seed and n_jobs)."""
    from scipy.spatial import cKDTree

    s_edges = np.asarray(space_edges, dtype=float)
    t_edges = np.asarray(time_edges, dtype=float)
    if len(s_edges) < 2 or len(t_edges) < 2 or np.any(np.diff(s_edges) <= 0) or np.any(np.diff(t_edges) <= 0):
        raise HotspotError("band edges must be increasing with at least two edges each")
    if t_edges[0] != 0 or s_edges[0] < 0:
        raise HotspotError("the first time band must start at 0 days and distances cannot be negative")
    if iterations < 1:
        raise HotspotError("the Knox test needs at least one permutation")
    if xy is None:
        ev = validate(events)
        x, y = cells.to_metric(ev["latitude"].to_numpy(), ev["longitude"].to_numpy())
        xy = np.column_stack([x, y])
        days = ((ev["occurred_at"] - ev["occurred_at"].min()) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    xy = np.asarray(xy, dtype=float)
    days = np.asarray(days, dtype=float)
    if len(xy) < 2:
        raise HotspotError("the Knox test needs at least two events")
    counter = _PairCounter(xy, s_edges, t_edges, chunk)
    observed = counter.count(days)
    jobs = max(1, min(int(n_jobs), iterations))
    seeds = np.random.SeedSequence(seed).spawn(jobs)
    shares = [iterations // jobs + (1 if k < iterations % jobs else 0) for k in range(jobs)]
    if jobs == 1:
        sims = _simulate(counter, days, shares[0], seeds[0])
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        global _SHARED
        _SHARED = (counter, days)   # inherited by forked workers, not pickled
        try:
            with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
                sims = np.vstack(list(pool.map(_simulate_shared, shares, seeds)))
        finally:
            _SHARED = None
    ns, nt = counter.ns, counter.nt
    expected = sims.mean(axis=0)
    exceed = (sims >= observed[None, :]).sum(axis=0)
    rows = []
    for si in range(ns):
        for ti in range(nt):
            j = si * nt + ti
            rows.append({"space_band": f"{s_edges[si]:g}-{s_edges[si + 1]:g} m", "time_band":
                         f"{t_edges[ti]:g}-{t_edges[ti + 1]:g} days", "space_lo": s_edges[si], "space_hi": s_edges[si + 1],
                         "time_lo": t_edges[ti], "time_hi": t_edges[ti + 1], "observed": int(observed[j]),
                         "expected": float(expected[j]),
                         "ratio": float(observed[j] / expected[j]) if expected[j] > 0 else np.nan,
                         "p_value": float((1 + exceed[j]) / (iterations + 1))})
    out = pd.DataFrame(rows)
    out.attrs.update({"events": int(len(xy)), "pairs": counter.pairs, "iterations": int(iterations),
                      "strategy": counter.strategy})
    return out


_SHARED = None


def _simulate(counter, days: np.ndarray, iterations: int, seed_seq) -> np.ndarray:
    rng = np.random.default_rng(seed_seq)
    sims = np.empty((iterations, counter.ns * counter.nt), dtype=np.int64)
    for k in range(iterations):
        sims[k] = counter.count(days[rng.permutation(len(days))])
    return sims


def _simulate_shared(iterations: int, seed_seq) -> np.ndarray:
    counter, days = _SHARED
    return _simulate(counter, days, iterations, seed_seq)


class _PairCounter:
    """Counts event pairs by spatial band x temporal band for any assignment of times to events.

    Events sharing a location (police.uk snap points, stores) are grouped: pairs at one location
    and, when cheaper, pairs between two nearby locations are counted by binary search in the
    sorted times of a location instead of one by one, so the cost per permutation grows with
    events x neighbouring locations rather than with the number of pairs."""

    def __init__(self, xy: np.ndarray, s_edges: np.ndarray, t_edges: np.ndarray, chunk: int):
        from scipy.spatial import cKDTree

        self.s_edges, self.t_edges, self.chunk = s_edges, t_edges, chunk
        self.ns, self.nt = len(s_edges) - 1, len(t_edges) - 1
        self.cum_edges = np.round(t_edges[1:] * 86400.0)   # whole seconds: exact integer arithmetic
        rounded = xy                    # exact coordinates: only identical points share a location
        locs, self.loc_of, sizes = np.unique(rounded, axis=0, return_inverse=True, return_counts=True)
        self.loc_of = self.loc_of.ravel().astype(np.int64)
        self.sizes = sizes
        lp = cKDTree(locs).query_pairs(s_edges[-1], output_type="ndarray")
        d = np.hypot(*(locs[lp[:, 0]] - locs[lp[:, 1]]).T) if len(lp) else np.zeros(0)
        sb = _band(d, s_edges) if len(lp) else np.zeros(0, dtype=np.int64)
        keep = sb >= 0
        lp, sb = lp[keep], sb[keep]
        self.self_band = 0 if s_edges[0] == 0 else -1     # co-located pairs are 0 m apart
        self.self_pairs = int((sizes * (sizes - 1) // 2).sum()) if self.self_band == 0 else 0
        cross_pairs = int((sizes[lp[:, 0]] * sizes[lp[:, 1]]).sum()) if len(lp) else 0
        self.pairs = self.self_pairs + cross_pairs
        members = np.argsort(self.loc_of, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        small_first = sizes[lp[:, 0]] <= sizes[lp[:, 1]]
        src = np.where(small_first, lp[:, 0], lp[:, 1])
        dst = np.where(small_first, lp[:, 1], lp[:, 0])
        queries = int(sizes[src].sum()) if len(lp) else 0
        self.strategy = "grouped" if queries * 2 * self.nt * 4 < cross_pairs else "pairs"
        if self.strategy == "grouped":
            # one query per (event at the smaller location, the larger location), with its spatial band
            reps = sizes[src]
            pair_idx = np.repeat(np.arange(len(src)), reps)
            offset = np.arange(len(pair_idx)) - np.repeat(np.cumsum(reps) - reps, reps)
            q_event = members[starts[src][pair_idx] + offset]
            q_band = sb[pair_idx]
            order = np.lexsort((q_event, dst[pair_idx], q_band))   # by band, then location: cache-friendly searches
            self.q_event = q_event[order]
            self.q_loc = dst[pair_idx].astype(np.int64)[order]
            bands_sorted = q_band[order]
            self.q_bounds = np.searchsorted(bands_sorted, np.arange(self.ns + 1))
            self.queries = int(len(order))
        else:
            # explicit event pairs between different locations (vectorised expansion of location pairs)
            u, v = lp[:, 0], lp[:, 1]
            n_pairs = sizes[u] * sizes[v]
            pid = np.repeat(np.arange(len(lp)), n_pairs)
            k = np.arange(len(pid)) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
            sv = sizes[v][pid]
            # narrow indices halve the memory traffic of the per-permutation gathers
            idx_type = np.uint16 if len(xy) <= 65536 else (np.int32 if len(xy) < 2**31 else np.int64)
            ea = members[starts[u][pid] + k // sv].astype(idx_type)
            eb = members[starts[v][pid] + k % sv].astype(idx_type)
            bands = sb[pid]
            order = np.argsort(bands, kind="stable")
            self.pa, self.pb = ea[order], eb[order]
            self.band_bounds = np.searchsorted(bands[order], np.arange(self.ns + 1))

    def _cum_to_bands(self, cum: np.ndarray) -> np.ndarray:
        """Cumulative counts (|dt| <= edge k) -> counts per (lo, hi] band (first band [0, hi])."""
        return np.diff(np.concatenate([[0], cum]))

    def count(self, t: np.ndarray) -> np.ndarray:
        t = np.round(np.asarray(t, dtype=float) * 86400.0)
        table = np.zeros((self.ns, self.nt), dtype=np.int64)
        span = float(t.max() - t.min()) + 4 * float(self.cum_edges[-1]) + 1.0
        key = self.loc_of * span + (t - t.min())
        sorted_key = np.sort(key)
        if self.self_band == 0 and self.self_pairs:
            # pairs (i < j in sorted order) at one location: key_j <= key_i + e; sorted needles search fast
            below = np.arange(len(sorted_key)) + 1
            cum = np.array([(np.searchsorted(sorted_key, sorted_key + e, side="right") - below).sum()
                            for e in self.cum_edges])
            table[0] += self._cum_to_bands(cum)
        if self.strategy == "grouped":
            if len(self.q_event):
                base = self.q_loc * span + (t[self.q_event] - t.min())
                for s in range(self.ns):
                    lo, hi = self.q_bounds[s], self.q_bounds[s + 1]
                    if hi <= lo:
                        continue
                    b = np.sort(base[lo:hi])
                    cum = np.array([(np.searchsorted(sorted_key, b + e, side="right")
                                     - np.searchsorted(sorted_key, b - e, side="left")).sum() for e in self.cum_edges])
                    table[s] += self._cum_to_bands(cum)
        else:
            ti = (t - t.min()).astype(np.int64 if t.max() - t.min() >= 2**31 else np.int32)
            for s in range(self.ns):
                lo, hi = self.band_bounds[s], self.band_bounds[s + 1]
                cum = np.zeros(self.nt, dtype=np.int64)
                for c in range(lo, hi, self.chunk):
                    stop = min(hi, c + self.chunk)
                    dt = np.take(ti, self.pa[c:stop])
                    np.subtract(dt, np.take(ti, self.pb[c:stop]), out=dt)
                    np.abs(dt, out=dt)
                    cum += np.array([np.count_nonzero(dt <= e) for e in self.cum_edges])
                table[s] += self._cum_to_bands(cum)
        return table.ravel()
