"""Getis-Ord Gi* hot spot statistics with false discovery rate control.

Weights are binary: a unit's neighbourhood is itself plus every unit whose centre lies within
`threshold_m` of its centre (default 1.5 x the unit spacing: the six H3 neighbours, the eight grid
neighbours; for LSOAs, whose sizes vary, the `k` nearest LSOAs). With binary weights Gi* is a
monotone function of the neighbourhood sum S (the unit's own value plus its neighbours'), so the
whole inference is about S.

Null hypothesis (total randomisation): the n observed values are assigned to the n units at random,
so a neighbourhood of m units holds m values drawn without replacement from all n (the unit itself
is drawn too: Gi* counts it). Under it S has exact mean m * ybar and variance
m (n - m) / (n - 1) * s2 (s2 the variance of the n values, divided by n); `gi_z` is the analytical
Gi* z-score with these exact moments (identical to esda's `G_Local(star=True).Zs`).

p-values (two-sided, reported side by side):
- `p_value` (the default, `p_method="exact"`): the exact null distribution of S for counts
  (non-negative integers): the sum of m values drawn without replacement, computed by dynamic
  programming over the distinct values; two-sided = 2 x the smaller tail, P(S >= s) or P(S <= s),
  capped at 1. Nothing is sampled, so it does not depend on a seed and is right for skewed counts,
  where the normal tail is far too small (a lone very busy cell). For very large problems the
  same distribution is computed with replacement by FFT convolution (`attrs["null"]` says which;
  the variance differs by the factor (n - 1) / (n - m), slightly conservative). Values that are
  not counts fall back to the normal p-value.
- `p_norm`: 2 x the normal tail of gi_z (what ArcGIS reports).
- `p_perm` (when `permutations` > 0): Monte Carlo permutation p-value under the same null,
  two-sided with ties counted in both tails: min(1, 2 (1 + min(#S_r >= s, #S_r <= s)) / (P + 1)),
  seeded by `seed`. Its floor 2 / (P + 1) limits what false discovery rate control can keep.

Significance: Benjamini-Hochberg q-values of the chosen p (esda.fdr gives the same threshold) at
`alpha`. Categories as ArcGIS reads its two-sided confidence levels with FDR: Hot/Cold spot (the sign
of gi_z) with 99% (q <= 0.01), 95% (q <= 0.05) or 90% (q <= 0.10) confidence, else Not significant.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError

P_METHODS = ("exact", "permutation", "normal")
EXACT_BUDGET = 3e8          # element operations allowed for the exact (without replacement) recursion
LEVELS = ((0.01, "99%"), (0.05, "95%"), (0.10, "90%"))


def weights(units: pd.DataFrame, spacing_m: float, kind: str, threshold_m: float | None = None, k: int = 6):
    """Binary libpysal weights over unit centres (x, y metric)."""
    from libpysal import weights as lw

    xy = units[["x", "y"]].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "lsoa" and threshold_m is None:
            w = lw.KNN(xy, k=min(k, len(xy) - 1))
        else:
            w = lw.DistanceBand(xy, threshold=float(threshold_m or 1.5 * spacing_m), binary=True,
                                silence_warnings=True)
    return w


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values)."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def neighbourhoods(y: np.ndarray, w) -> tuple[np.ndarray, np.ndarray]:
    """(S, m): each unit's neighbourhood sum and size, the unit itself included, in the order of y
    (weights built by `weights`, whose ids are the positions 0..n-1)."""
    from scipy import sparse

    W = sparse.csr_matrix(w.sparse, dtype=float)
    W.setdiag(0)
    W.eliminate_zeros()
    W.data[:] = 1.0
    S = y + W @ y
    m = 1 + np.diff(W.indptr).astype(np.int64)
    return S, m


def exact_moments(y: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the sum of m values drawn without replacement from y."""
    n = len(y)
    s2 = float(np.mean((y - y.mean()) ** 2))
    mean = m * float(y.mean())
    var = m * (n - m) / max(n - 1, 1) * s2
    return mean, var


def null_pmfs(y_int: np.ndarray, sizes, budget: float = EXACT_BUDGET) -> tuple[dict, str]:
    """{m: pmf of the sum of m values drawn from y_int}, and "without replacement" (exact) or
    "with replacement (FFT)" when the exact recursion would exceed `budget` element operations."""
    sizes = sorted({int(s) for s in sizes})
    M = max(sizes)
    y_int = np.asarray(y_int, dtype=np.int64)
    n = len(y_int)
    top = np.sort(y_int)[::-1][:M]
    L = int(top.sum()) + 1
    vals, cnts = np.unique(y_int, return_counts=True)
    cost = len(vals) * (M + 1) * M / 2 * L
    log10_ways = (math.lgamma(n + 1) - math.lgamma(M + 1) - math.lgamma(n - M + 1)) / math.log(10)
    if cost <= budget and log10_ways < 280:
        # dp[k, s] = number of ways to choose k of the values seen so far with total s
        dp = np.zeros((M + 1, L))
        dp[0, 0] = 1.0
        for v, c in zip(vals.tolist(), cnts.tolist()):
            new = dp.copy()
            for j in range(1, min(c, M) + 1):
                shift = j * v
                if shift >= L:
                    break
                new[j:, shift:] += math.comb(c, j) * dp[:M + 1 - j, :L - shift]
            dp = new
        return {m: dp[m] / math.comb(n, m) for m in sizes}, "without replacement"
    one = np.bincount(y_int).astype(float) / n
    support = M * int(y_int.max()) + 1              # with replacement the largest value can recur
    size = 1 << int(math.ceil(math.log2(max(support, 2))))   # no circular wrap-around
    spec = np.fft.rfft(one, size)
    out = {}
    for m in sizes:
        pmf = np.fft.irfft(spec ** m, size)[:m * int(y_int.max()) + 1]
        out[m] = np.clip(pmf, 0.0, None)
    return out, "with replacement (FFT)"


def exact_p(y: np.ndarray, S: np.ndarray, m: np.ndarray, budget: float = EXACT_BUDGET) -> tuple[np.ndarray, str]:
    """Two-sided exact p-value of every neighbourhood sum S (counts only)."""
    pmfs, how = null_pmfs(y, np.unique(m), budget)
    p = np.ones(len(S))
    s_int = np.rint(S).astype(np.int64)
    for size, pmf in pmfs.items():
        idx = np.flatnonzero(m == size)
        cdf = np.cumsum(pmf)                         # P(S <= s)
        sf = np.cumsum(pmf[::-1])[::-1]              # P(S >= s)
        s = np.clip(s_int[idx], 0, len(pmf) - 1)
        p[idx] = np.minimum(1.0, 2.0 * np.minimum(cdf[s], sf[s]))
    return np.clip(p, 0.0, 1.0), how


def permutation_p(y: np.ndarray, S: np.ndarray, m: np.ndarray, permutations: int, seed: int) -> np.ndarray:
    """Two-sided Monte Carlo p-value (ties in both tails, +1 correction); draws shared by units of one size."""
    n = len(y)
    kmax = int(min(m.max(), n))
    rng = np.random.default_rng(seed)
    draws = np.empty((permutations, kmax), dtype=np.int64)
    for r in range(permutations):
        draws[r] = rng.choice(n, kmax, replace=False)
    sums = np.cumsum(y[draws], axis=1)               # sums[:, k-1] = a random neighbourhood of size k
    p = np.ones(len(S))
    for size in np.unique(m):
        idx = np.flatnonzero(m == size)
        col = np.sort(sums[:, min(size, kmax) - 1])
        eps = 1e-9 * max(1.0, float(np.abs(col).max()))
        ge = permutations - np.searchsorted(col, S[idx] - eps, side="left")
        le = np.searchsorted(col, S[idx] + eps, side="right")
        p[idx] = np.minimum(1.0, 2.0 * (1.0 + np.minimum(ge, le)) / (permutations + 1.0))
    return p


def gi_star(values: np.ndarray, units: pd.DataFrame, spacing_m: float, kind: str = "h3", permutations: int = 0,
            alpha: float = 0.05, seed: int = 0, threshold_m: float | None = None, w=None,
            p_method: str = "exact") -> pd.DataFrame:
    """Gi* for one vector of values over `units`: gi_z, p_value (the one BH acts on), p_exact, p_norm,
    p_perm (when permutations > 0), q_value (BH), significant, category. See the module docstring."""
    from scipy.stats import norm

    if p_method not in P_METHODS:
        raise HotspotError(f"unknown p_method {p_method!r}: use {', '.join(P_METHODS)}")
    if p_method == "permutation" and not permutations:
        raise HotspotError("p_method 'permutation' needs permutations > 0")
    y = np.asarray(values, dtype=float)
    if len(y) != len(units):
        raise HotspotError("values and units differ in length")
    if len(y) < 3:
        raise HotspotError("Gi* needs at least three units")
    w = w if w is not None else weights(units, spacing_m, kind, threshold_m)
    S, m = neighbourhoods(y, w)
    mean, var = exact_moments(y, m)
    sd = np.sqrt(var)
    z = np.divide(S - mean, sd, out=np.zeros_like(S), where=sd > 0)
    p_norm = np.minimum(1.0, 2.0 * norm.sf(np.abs(z)))
    counts = bool(np.all(y >= 0) and np.allclose(y, np.rint(y)))
    null = "normal (values are not counts)"
    p_exact = p_norm
    if counts:
        p_exact, null = exact_p(np.rint(y), S, m)
    p_perm = permutation_p(y, S, m, permutations, seed) if permutations else None
    p = {"exact": p_exact, "normal": p_norm, "permutation": p_perm}[p_method]
    q = bh_adjust(p)
    out = units[["unit_id"]].copy()
    out["value"] = y
    out["neighbourhood_sum"] = S
    out["neighbourhood_size"] = m
    out["gi_z"] = z
    out["p_value"] = p
    out["p_exact"] = p_exact
    out["p_norm"] = p_norm
    if p_perm is not None:
        out["p_perm"] = p_perm
    out["q_value"] = q
    out["significant"] = q <= alpha
    out["category"] = categories(z, q)
    out.attrs.update({"alpha": alpha, "permutations": permutations, "seed": seed, "p_method": p_method,
                      "null": null if p_method == "exact" else p_method, "two_sided": True,
                      "fdr_threshold": float(p[q <= alpha].max()) if (q <= alpha).any() else 0.0})
    return out


def categories(z: np.ndarray, q: np.ndarray) -> list[str]:
    """ArcGIS-style confidence bins on BH-adjusted two-sided p-values; hot or cold by the sign of z."""
    out = []
    for zi, qi in zip(np.asarray(z, dtype=float), np.asarray(q, dtype=float)):
        level = next((label for cut, label in LEVELS if qi <= cut), None)
        if level is None or zi == 0:
            out.append("Not significant")
        else:
            out.append(f"{'Hot' if zi > 0 else 'Cold'} spot {level}")
    return out


def hot_spots(cm: CountMatrix, periods: int | None = None, **kw) -> pd.DataFrame:
    """Gi* on the counts of the last `periods` periods (default: all) over the study area."""
    y = cm.counts[:, -periods:].sum(axis=1) if periods else cm.counts.sum(axis=1)
    out = gi_star(y, cm.units, cm.unit.spacing_m, cm.unit.kind, **kw)
    merged = cm.units.merge(out, on="unit_id")
    merged.attrs.update(out.attrs)
    return merged
