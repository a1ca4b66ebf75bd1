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


ENGINES = ("auto", "sweep", "pairs")


def knox(events: pd.DataFrame | None = None, space_edges=DEFAULT_SPACE_EDGES, time_edges=DEFAULT_TIME_EDGES,
         iterations: int = 999, seed: int = 0, xy: np.ndarray | None = None, days: np.ndarray | None = None,
         chunk: int = 2_000_000, n_jobs: int = 1, engine: str = "auto") -> pd.DataFrame:
    """Knox table: one row per spatial x temporal band with observed, expected, ratio, p_value.

    Give `events` (latitude, longitude, occurred_at) or metric coordinates `xy` and times `days`.
    `n_jobs` > 1 splits the permutations over forked processes (results depend on seed and n_jobs,
    never on the engine).

    `engine`: "pairs" lists every pair within the largest distance once and recounts them per
    permutation, grouping events that share a location ("grouped"); "sweep" sorts each grid cell's
    events by time per permutation and visits only pairs within the largest time band (compiled with
    numba when installed, plain Python otherwise: slow, for small data); "auto" uses "sweep" when
    numba is installed and at least half the events have a location of their own, else "pairs".
    Every engine gives the same counts for the same permutations."""
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
    if engine not in ENGINES:
        raise HotspotError(f"unknown Knox engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "auto":
        distinct = len(np.unique(xy, axis=0))
        engine = "sweep" if _numba_available() and distinct * 2 >= len(xy) else "pairs"
    counter = _SweepCounter(xy, s_edges, t_edges) if engine == "sweep" else _PairCounter(xy, s_edges, t_edges, chunk)
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


# -- sweep engine ------------------------------------------------------------------------------------
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _sweep_kernel(members, cell_start, pair_a, pair_b, x, y, ts, s_edges, t_edges_s, s_lut, t_lut, t_shift,
                  table):
    """Count pairs by band for one assignment of times `ts` (whole seconds, int64) to events.

    members[cell_start[c]:cell_start[c + 1]] are the events of grid cell c; (pair_a[p], pair_b[p])
    are the cell pairs to visit (each unordered pair once, a cell with itself too). Within each cell
    the events are sorted by time, and for each event only the events of the other cell within the
    largest time edge are visited (a sliding window), then binned exactly by distance and time."""
    n = len(members)
    st = np.empty(n, dtype=np.int64)
    sx = np.empty(n, dtype=np.float64)
    sy = np.empty(n, dtype=np.float64)
    for c in range(len(cell_start) - 1):
        lo, hi = cell_start[c], cell_start[c + 1]
        ids = members[lo:hi]
        order = np.argsort(ts[ids])
        for k in range(hi - lo):
            e = ids[order[k]]
            st[lo + k] = ts[e]
            sx[lo + k] = x[e]
            sy[lo + k] = y[e]
    ns = len(s_edges) - 1
    nt = len(t_edges_s) - 1
    s_first = s_edges[0]
    s_max = s_edges[ns]
    t_max = t_edges_s[nt]
    # Bands come from two small look-up tables: squared distance and time difference are cut into
    # buckets, and a bucket that holds no band edge (nor next to one) has a single band. In a bucket at
    # an edge the band is decided exactly: np.hypot against the edges (as _PairCounter does) and whole
    # seconds against the time edges. Row ns collects the pairs outside the spatial bands.
    nb_s = len(s_lut) - 1
    nb_t = len(t_lut) - 1
    inv_w = nb_s / (2 * s_max * s_max)                  # the table spans squared distances to 2 s_max^2
    flat = np.zeros((ns + 1) * nt, dtype=np.int64)
    for p in range(len(pair_a)):
        ca, cb = pair_a[p], pair_b[p]
        a0, a1 = cell_start[ca], cell_start[ca + 1]
        b0, b1 = cell_start[cb], cell_start[cb + 1]
        lo = b0
        for i in range(a0, a1):
            ti = st[i]
            xi = sx[i]
            yi = sy[i]
            if ca == cb:
                j = i + 1
            else:
                while lo < b1 and st[lo] < ti - t_max:
                    lo += 1
                j = lo
            while j < b1:
                dt = st[j] - ti
                if dt > t_max:
                    break
                dt = abs(dt)
                dx = xi - sx[j]
                dy = yi - sy[j]
                j += 1
                d2 = dx * dx + dy * dy
                bs = min(int(d2 * inv_w), nb_s)
                row = s_lut[bs]
                if row < 0:                      # at a spatial edge: exact distance
                    d = np.hypot(dx, dy)
                    if d > s_max or d < s_first:
                        row = ns
                    else:
                        row = 0
                        while d > s_edges[row + 1]:
                            row += 1
                col = t_lut[min(dt >> t_shift, nb_t)]
                if col < 0:                      # at a time edge: exact seconds
                    col = 0
                    while dt > t_edges_s[col + 1]:
                        col += 1
                flat[row * nt + col] += 1
    for r in range(ns):
        for c in range(nt):
            table[r, c] += flat[r * nt + c]


def _luts(s_edges: np.ndarray, t_edges_s: np.ndarray, buckets: int = 4096):
    """Look-up tables for _sweep_kernel: band per bucket, -1 where an edge is in or next to the bucket."""
    ns, nt = len(s_edges) - 1, len(t_edges_s) - 1
    w = float(s_edges[-1]) ** 2 / buckets
    start = np.arange(2 * buckets + 1) * w                  # bucket b: squared distances [b w, (b + 1) w)
    s_lut = np.searchsorted(s_edges[1:] ** 2, start, side="left").astype(np.int64)   # edges below the bucket
    s_lut[start + w <= s_edges[0] ** 2] = ns                # wholly below the first edge: not counted
    s_lut[2 * buckets] = ns                                 # 2 s_max^2 and beyond (the kernel clamps here)
    for e2 in s_edges ** 2:
        near = (start - 2 * w <= e2) & (e2 <= start + 3 * w)
        s_lut[near] = -1
    shift = max(0, int(np.ceil(np.log2(max(int(t_edges_s[-1]), 1) / buckets))))
    size = 1 << shift
    n_t = int(t_edges_s[-1] >> shift) + 1
    t_start = np.arange(n_t + 1, dtype=np.int64) * size     # bucket b: seconds [b size, (b + 1) size)
    t_lut = np.searchsorted(t_edges_s[1:], t_start, side="left").astype(np.int64)
    t_lut = np.minimum(t_lut, nt - 1)
    for e in t_edges_s:
        near = (t_start - size <= e) & (e <= t_start + 2 * size)
        t_lut[near] = -1
    return s_lut, t_lut, shift


_COMPILED = None


def _kernel():
    """The sweep kernel, compiled with numba once per process when numba is installed."""
    global _COMPILED
    if _COMPILED is None:
        if _numba_available():
            import numba

            _COMPILED = numba.njit(cache=True, nogil=True)(_sweep_kernel)
        else:
            _COMPILED = _sweep_kernel
    return _COMPILED


class _SweepCounter:
    """Counts event pairs by band with a grid of cells and a sliding time window per cell pair.

    Locations are fixed under the permutations, so the cells and the cell pairs that can hold a pair
    within the largest distance are found once; per permutation only the time order inside each cell
    changes. The work per permutation grows with the pairs close in space *and* time (plus the events
    times the neighbouring cells), not with every pair within the largest distance."""

    strategy = "sweep"

    def __init__(self, xy: np.ndarray, s_edges: np.ndarray, t_edges: np.ndarray, reach: int = 3):
        self.s_edges, self.t_edges = s_edges, t_edges
        self.ns, self.nt = len(s_edges) - 1, len(t_edges) - 1
        self.t_edges_s = np.round(t_edges * 86400.0).astype(np.int64)   # whole seconds, as _PairCounter
        s_max = float(s_edges[-1])
        # cells a little wider than s_max / reach: points within s_max differ by <= reach cells in x and y
        size = s_max / reach * (1 + 1e-9)
        x, y = np.ascontiguousarray(xy[:, 0], dtype=float), np.ascontiguousarray(xy[:, 1], dtype=float)
        ix = np.floor((x - x.min()) / size).astype(np.int64)
        iy = np.floor((y - y.min()) / size).astype(np.int64)
        width = int(iy.max()) + 2 * reach + 2
        code = ix * width + iy
        cells, cell_of = np.unique(code, return_inverse=True)
        cell_of = cell_of.ravel()
        self.members = np.argsort(cell_of, kind="stable").astype(np.int64)
        self.cell_start = np.concatenate([[0], np.cumsum(np.bincount(cell_of, minlength=len(cells)))]).astype(np.int64)
        # offsets to visit: each unordered cell pair once (the cell itself included) whose nearest points
        # can be within s_max
        offsets = [(i, j) for i in range(0, reach + 1) for j in range(-reach, reach + 1)
                   if (i > 0 or j >= 0)
                   and (max(abs(i) - 1, 0) ** 2 + max(abs(j) - 1, 0) ** 2) * size * size <= s_max * s_max]
        pa, pb = [], []
        for i, j in offsets:
            target = cells + i * width + j
            pos = np.searchsorted(cells, target)
            pos_ok = np.minimum(pos, len(cells) - 1)
            hit = (pos < len(cells)) & (cells[pos_ok] == target)
            pa.append(np.flatnonzero(hit))
            pb.append(pos[hit])
        self.pair_a = np.concatenate(pa).astype(np.int64)
        self.pair_b = np.concatenate(pb).astype(np.int64)
        self.x, self.y = x, y
        self.cell_pairs = int(len(self.pair_a))
        self._pairs = None
        self.s_lut, self.t_lut, self.t_shift = _luts(self.s_edges.astype(np.float64), self.t_edges_s)

    @property
    def pairs(self) -> int:
        """Event pairs within the spatial bands (counted once, on demand)."""
        if self._pairs is None:
            from scipy.spatial import cKDTree

            tree = cKDTree(np.column_stack([self.x, self.y]))
            within = int(tree.count_neighbors(tree, float(self.s_edges[-1])))
            below = int(tree.count_neighbors(tree, np.nextafter(float(self.s_edges[0]), -np.inf))) \
                if self.s_edges[0] > 0 else len(self.x)
            self._pairs = (within - below) // 2
        return self._pairs

    def count(self, t: np.ndarray) -> np.ndarray:
        ts = np.round(np.asarray(t, dtype=float) * 86400.0)
        ts = (ts - ts.min()).astype(np.int64)
        table = np.zeros((self.ns, self.nt), dtype=np.int64)
        _kernel()(self.members, self.cell_start, self.pair_a, self.pair_b, self.x, self.y, ts,
                  self.s_edges.astype(np.float64), self.t_edges_s, self.s_lut, self.t_lut, self.t_shift, table)
        return table.ravel()
