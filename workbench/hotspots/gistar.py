"""Getis-Ord Gi* hot spot statistics (esda.G_Local, star=True) with false discovery rate control.

Weights are binary: a unit's neighbourhood is itself plus every unit whose centre lies within
`threshold_m` of its centre (default 1.5 x the unit spacing: the six H3 neighbours, the eight grid
neighbours; for LSOAs, whose sizes vary, the `k` nearest LSOAs). Inference is by permutation
(`permutations`, default 999; see gi_star), and significance is decided after Benjamini-Hochberg
false discovery rate correction at `alpha` (esda.fdr gives the same threshold), so on pure noise
few units survive. Why not esda's own conditional permutation: it holds the unit's own value fixed,
so a lone very busy cell is never a hot spot and a unit whose neighbourhood is all zeros gets
p = 0.001; Gi* counts the unit itself, so it is permuted with its neighbours here. Categories follow ArcGIS: Hot/Cold spot with
99%, 95% or 90% confidence (BH-adjusted), else Not significant.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


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


def gi_star(values: np.ndarray, units: pd.DataFrame, spacing_m: float, kind: str = "h3", permutations: int = 999,
            alpha: float = 0.05, seed: int = 0, threshold_m: float | None = None, w=None,
            p_method: str = "z_sim") -> pd.DataFrame:
    """Gi* for one vector of values over `units`: gi_z, p_value, q_value (BH), significant, category.

    gi_z is esda's analytical Gi* z-score. Inference is by permutation under total randomisation:
    each unit's neighbourhood (itself included, as Gi* includes it) is compared with `permutations`
    random neighbourhoods of the same size drawn without replacement from all units. p_method
    "z_sim" (default) takes the p-value of the observed sum's z against the permutation mean and
    standard deviation, which lets FDR act over thousands of units; "pseudo" uses
    (1 + #(permuted >= observed)) / (permutations + 1) in the observed direction (its floor,
    1 / (permutations + 1), can keep every unit above a BH threshold when there are many units).
    permutations=0 uses esda's analytical p-values."""
    import esda
    from scipy.stats import norm

    if p_method not in ("z_sim", "pseudo"):
        raise HotspotError(f"unknown p_method {p_method!r}: use z_sim or pseudo")
    y = np.asarray(values, dtype=float)
    if len(y) != len(units):
        raise HotspotError("values and units differ in length")
    if len(y) < 3:
        raise HotspotError("Gi* needs at least three units")
    w = w if w is not None else weights(units, spacing_m, kind, threshold_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, w, transform="B", permutations=0, star=True)
    z = np.nan_to_num(np.asarray(g.Zs, dtype=float))
    if permutations:
        obs, sims_mean, sims_sd, upper, lower = _permute(y, w, permutations, seed)
        if p_method == "pseudo":
            p = (1.0 + np.where(obs >= sims_mean, upper, lower)) / (permutations + 1.0)
        else:
            zs = np.divide(obs - sims_mean, sims_sd, out=np.zeros_like(obs), where=sims_sd > 0)
            p = norm.sf(np.abs(zs))
    else:
        p = np.asarray(g.p_norm, dtype=float)
    p = np.minimum(np.nan_to_num(p, nan=1.0), 1.0)
    q = bh_adjust(p)
    out = units[["unit_id"]].copy()
    out["value"] = y
    out["gi_z"] = z
    out["p_value"] = p
    out["q_value"] = q
    out["significant"] = q <= alpha
    out["category"] = [_category(zi, qi) for zi, qi in zip(z, q)]
    out.attrs.update({"alpha": alpha, "permutations": permutations, "p_method": p_method,
                      "esda_fdr_threshold": float(esda.fdr(p, alpha))})
    return out


def _permute(y: np.ndarray, w, permutations: int, seed: int):
    """Observed neighbourhood sums (self included) and their permutation distribution per unit."""
    n = len(y)
    card = np.array([len(w.neighbors[i]) for i in w.id_order], dtype=np.int64)
    id_pos = {k: i for i, k in enumerate(w.id_order)}
    obs = np.array([y[i] + sum(y[id_pos[j]] for j in w.neighbors[k]) for i, k in enumerate(w.id_order)])
    m = card + 1                                   # neighbourhood size with the unit itself
    kmax = int(min(m.max(), n))
    rng = np.random.default_rng(seed)
    draws = np.empty((permutations, kmax), dtype=np.int64)
    for r in range(permutations):
        draws[r] = rng.choice(n, kmax, replace=False)
    sums = np.cumsum(y[draws], axis=1)             # sums[:, k-1] = a random neighbourhood of size k
    mean, sd = np.zeros(n), np.zeros(n)
    upper, lower = np.zeros(n), np.zeros(n)
    for size in np.unique(m):
        idx = np.flatnonzero(m == size)
        col = np.sort(sums[:, min(size, kmax) - 1])
        mean[idx], sd[idx] = col.mean(), col.std(ddof=1)
        upper[idx] = permutations - np.searchsorted(col, obs[idx] - 1e-9, side="left")
        lower[idx] = np.searchsorted(col, obs[idx] + 1e-9, side="right")
    return obs, mean, sd, upper, lower


def _category(z: float, q: float) -> str:
    if q > 0.10 or z == 0:
        return "Not significant"
    level = "99%" if q <= 0.01 else "95%" if q <= 0.05 else "90%"
    return f"{'Hot' if z > 0 else 'Cold'} spot {level}"


def hot_spots(cm: CountMatrix, periods: int | None = None, **kw) -> pd.DataFrame:
    """Gi* on the counts of the last `periods` periods (default: all) over the study area."""
    y = cm.counts[:, -periods:].sum(axis=1) if periods else cm.counts.sum(axis=1)
    out = gi_star(y, cm.units, cm.unit.spacing_m, cm.unit.kind, **kw)
    return cm.units.merge(out, on="unit_id")
