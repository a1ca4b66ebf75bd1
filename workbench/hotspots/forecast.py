"""Forecasts of the next period's crime per unit.

Every method scores every study-area unit for period column `t` using only columns before `t`:

- naive: the previous period's counts (the baseline every method is judged against);
- average: mean count over the previous `window` periods (a long-memory baseline);
- prospective: prospective hotspotting (Bowers, Johnson & Pease 2004), adapted to the unit: each past
  event adds 1 / ((1 + d) (1 + t)) to every unit within the spatial bandwidth, d = distance between
  unit centres in units of the cell spacing, t = periods since the event (0 = the latest period),
  for t < `periods` (default 8 weeks; 3 months);
- kde: kernel density with time decay: a Gaussian kernel of bandwidth `bandwidth_m` (default
  kde.DEFAULT_BANDWIDTH_M, truncated at 3 bandwidths) over unit centres, weighted by
  0.5 ** (t / half_life) over the last `window` periods;
- blend: (1 - a) x long-run average + a x mean of the last `recent` periods (4 weeks; 1 month), then,
  for units with locations, (1 - b) x that + b x its kernel-smoothed value (the kde kernel, no decay).
  a in {0, .25, .5, .75, 1} and b in {0, .5} are tuned at every origin on the `tune` (8) origins
  before it only (no look-ahead): the pair that flagged the most crime at 1% plus 5% of area, ties to
  the smaller b then a, so a blend no better than the long-run average on earlier origins is the
  long-run average (a = b = 0).

Scores rank units; `expected` rescales them so that they sum to the mean number of events per period
over the last four periods, which is what a planner reads as "expected incidents".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import kde
from workbench.hotspots.counts import CountMatrix, count_matrix
from workbench.hotspots.events import HotspotError

METHODS = ("naive", "average", "prospective", "kde", "blend")   # simplest first (choose.py's tie order)
BETTER_DEFAULT = "kde"
DESCRIPTIONS = {
    "naive": "naive baseline: last period's count in each cell",
    "average": "long-run average count per cell",
    "prospective": "prospective hotspotting (Bowers et al. 2004): recent crime in and around each cell, "
                   "weighted 1/((1+distance)(1+weeks ago))",
    "kde": "kernel density with time decay (Gaussian kernel, recent weeks weigh more)",
    "blend": "blend of the long-run average and recent counts (optionally smoothed over neighbours), "
             "weights tuned on earlier periods only",
}
BLEND_RECENT = (0.0, 0.25, 0.5, 0.75, 1.0)
BLEND_SMOOTH = (0.0, 0.5)
TUNE_COVERAGES = (0.01, 0.05)


def _defaults(cm: CountMatrix) -> dict:
    week = cm.period != "month"
    return {"periods": 8 if week else 3, "window": 26 if week else 12, "half_life": 8.0 if week else 3.0,
            "recent": 4 if week else 1, "tune": 8}


def spatial_kernel(cm: CountMatrix, kind: str, bandwidth_m: float | None = None):
    """Sparse units x units kernel matrix (cached on the count matrix)."""
    from scipy import sparse
    from scipy.spatial import cKDTree

    spacing = cm.unit.spacing_m
    if kind == "prospective":
        bw = float(bandwidth_m or max(400.0, 1.01 * spacing))
        reach = bw
    else:
        bw = float(bandwidth_m or kde.DEFAULT_BANDWIDTH_M)
        reach = 3.0 * bw
    key = (kind, round(bw, 3))
    if key in cm.cache:
        return cm.cache[key]
    xy = cm.units[["x", "y"]].to_numpy(dtype=float)
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(reach, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    d = np.hypot(*(xy[i] - xy[j]).T)
    if kind == "prospective":
        w = 1.0 / (1.0 + d / spacing)
    else:
        w = np.exp(-0.5 * (d / bw) ** 2)
    K = sparse.csr_matrix((w, (i, j)), shape=(n, n))
    cm.cache[key] = K
    return K


def scores(cm: CountMatrix, t: int, method: str, bandwidth_m: float | None = None, **params) -> np.ndarray:
    """Score of every unit for column t (t may equal len(periods): the period after the data)."""
    if method not in METHODS:
        raise HotspotError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if t < 1:
        raise HotspotError("a forecast needs at least one earlier period")
    p = {**_defaults(cm), **{k: v for k, v in params.items() if v is not None}}
    past = cm.counts[:, :t]
    if method == "naive":
        return past[:, -1].copy()
    if method == "average":
        return past[:, -int(p["window"]):].mean(axis=1)
    if method == "prospective":
        lags = min(int(p["periods"]), t)
        recent = past[:, -lags:][:, ::-1]                     # column 0 = latest period (t = 0)
        decayed = recent @ (1.0 / (1.0 + np.arange(lags)))
        return spatial_kernel(cm, "prospective", bandwidth_m) @ decayed
    if method == "blend":
        a, b = blend_weights(cm, t, bandwidth_m, p)
        return _blend(cm, t, a, b, bandwidth_m, p)
    lags = min(int(p["window"]), t)
    recent = past[:, -lags:][:, ::-1]
    decayed = recent @ (0.5 ** (np.arange(lags) / float(p["half_life"])))
    return spatial_kernel(cm, "kde", bandwidth_m) @ decayed


def _blend(cm: CountMatrix, t: int, a: float, b: float, bandwidth_m, p: dict) -> np.ndarray:
    past = cm.counts[:, :t]
    s = (1 - a) * past[:, -int(p["window"]):].mean(axis=1) + a * past[:, -int(p["recent"]):].mean(axis=1)
    if b > 0:
        K = spatial_kernel(cm, "kde", bandwidth_m)
        s = (1 - b) * s + b * (K @ s) / np.asarray(K.sum(axis=1)).ravel()
    return s


def _flagged_crime(score: np.ndarray, actual: np.ndarray, area: np.ndarray, tie_key: np.ndarray) -> float:
    """Crimes in the top units by score covering 1% plus those covering 5% of the area (as the backtest flags)."""
    order = np.lexsort((tie_key, -score))
    cum = np.cumsum(area[order])
    got = 0.0
    for cov in TUNE_COVERAGES:
        k = max(1, int(np.searchsorted(cum, cov * cum[-1] * (1 + 1e-9), side="right")))
        got += float(actual[order[:k]].sum())
    return got


def blend_weights(cm: CountMatrix, t: int, bandwidth_m=None, p: dict | None = None) -> tuple[float, float]:
    """(a, b) for the blend at column t, tuned on the `tune` columns with crime before t (each scored
    from the columns before it): most crime flagged at 1% + 5% of area, ties to the smaller b, then a.
    With no earlier column to learn from: (0, 0), the long-run average."""
    p = p or _defaults(cm)
    smooth = BLEND_SMOOTH if cm.unit.has_coordinates else (0.0,)
    grid = [(a, b) for b in smooth for a in BLEND_RECENT]
    key = ("blend", t, int(p["tune"]), int(p["window"]), int(p["recent"]), bandwidth_m)
    if key in cm.cache:
        return cm.cache[key]
    earlier = [u for u in range(1, t) if cm.counts[:, u].sum() > 0][-int(p["tune"]):]
    area = cm.units["area_km2"].to_numpy(dtype=float)
    tie_key = np.random.default_rng(0).random(len(area))
    totals = np.zeros(len(grid))
    for u in earlier:
        actual = cm.counts[:, u]
        for g, (a, b) in enumerate(grid):
            totals[g] += _flagged_crime(_blend(cm, u, a, b, bandwidth_m, p), actual, area, tie_key)
    best = max(range(len(grid)), key=lambda g: (totals[g], -grid[g][1], -grid[g][0])) if earlier else 0
    cm.cache[key] = (float(grid[best][0]), float(grid[best][1]))
    return cm.cache[key]


def expected_counts(cm: CountMatrix, t: int, s: np.ndarray) -> np.ndarray:
    level = cm.counts[:, max(0, t - 4):t].sum(axis=0).mean() if t > 0 else 0.0
    total = s.sum()
    return s * (level / total) if total > 0 else np.zeros_like(s)


def forecast_next(events: pd.DataFrame | None = None, unit="h3:8", period: str = "week", method: str = BETTER_DEFAULT,
                  cm: CountMatrix | None = None, **kw) -> pd.DataFrame:
    """Forecast for the period after the data: the study area with score, expected and rank (1 = hottest)."""
    cm = cm or count_matrix(events, unit, period, **{k: v for k, v in kw.items() if k in ("end", "periods", "force_codes")})
    t = cm.counts.shape[1]
    s = scores(cm, t, method, **{k: v for k, v in kw.items() if k in ("bandwidth_m", "window", "half_life", "recent",
                                                                       "tune")})
    out = cm.units.copy()
    out["score"] = s
    out["expected"] = expected_counts(cm, t, s)
    out["last_period"] = cm.counts[:, -1]
    out["history_total"] = cm.counts.sum(axis=1)
    rng = np.random.default_rng(0)
    order = np.lexsort((rng.random(len(s)), -s))
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs.update({"method": method, "unit": cm.unit.label, "period": cm.period,
                      "forecast_start": _next_start(cm)})
    return out


def _next_start(cm: CountMatrix) -> pd.Timestamp:
    last = cm.periods[-1]
    if cm.period == "month":
        return last + pd.offsets.MonthBegin(1)
    return last + pd.Timedelta(days=7 if cm.period == "week" else 1)
