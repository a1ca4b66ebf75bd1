"""Emerging hot spot analysis: Gi* per period plus a Mann-Kendall trend, classified as ArcGIS does.

For each period the Gi* z-score and p-value of every unit are computed over its spatial
neighbourhood in that period (binary weights and the exact two-sided p-values of gistar, so nothing
is sampled; significance after Benjamini-Hochberg correction per period at `alpha`). The
Mann-Kendall test (pymannkendall.original_test) on each unit's z-score series gives the trend of
the clustering intensity. Only units with crime in at least one period are classified.

Categories (ESRI "Emerging Hot Spot Analysis" definitions; "hot" = significant hot in a period; "final"
= the last period; shares are of ALL periods, the final one included; cold categories mirror them
with cold spots; a unit significant in the final period is classified on that side first):
- New: hot in the final period only, never hot before.
- Consecutive: an uninterrupted run of at least two hot periods ending with the final one, never hot
  before the run, hot in less than 90% of periods.
- Intensifying: hot in at least 90% of periods including the final, significant upward trend.
- Persistent: hot in at least 90% of periods including the final, no significant trend.
- Diminishing: hot in at least 90% of periods including the final, significant downward trend.
- Sporadic: hot in the final period, hot in less than 90% of periods, never significant cold.
- Oscillating: hot in the final period, hot in less than 90% of periods, significant cold in some period.
- Historical: not hot in the final period, hot in at least 90% of all periods (ArcGIS: "at least 90
  percent of the time-step intervals"; so with 12 periods 11 hot ones are needed, 10 are not enough).
- No pattern detected: none of these.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import gistar
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError

CATEGORIES = ("New", "Consecutive", "Intensifying", "Persistent", "Diminishing", "Sporadic", "Oscillating",
              "Historical")


def mann_kendall(series, alpha: float = 0.05) -> str:
    """'increasing', 'decreasing' or 'no trend'."""
    import pymannkendall as mk

    s = np.asarray(series, dtype=float)
    if len(s) < 3 or np.allclose(s, s[0]):
        return "no trend"
    return mk.original_test(s, alpha=alpha).trend


def classify(hot, cold, trend: str) -> str:
    """Category of one unit from its per-period significance (booleans, oldest first) and the
    Mann-Kendall trend of its z-scores. The side significant in the final period is classified first
    (hot categories with the trend, cold ones with the trend reversed); a unit significant in
    neither side in the final period can only be Historical."""
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if len(hot) == 0:
        return "No pattern detected"
    sides = ((hot, cold, trend, "hot"), (cold, hot, _flip(trend), "cold"))
    if cold[-1] and not hot[-1]:
        sides = sides[::-1]
    for flags, other, tr, side in sides:
        label = _classify_one(flags, other, tr)
        if label:
            return f"{label} {side} spot"
    return "No pattern detected"


def _flip(trend: str) -> str:
    return {"increasing": "decreasing", "decreasing": "increasing"}.get(trend, trend)


def _classify_one(sig, opposite, trend) -> str | None:
    """The category word for one side (sig = significant on this side per period), or None."""
    n = len(sig)
    share = sig.sum() / n                      # of ALL periods, the final one included
    if sig[-1]:
        if sig[:-1].sum() == 0:
            return "New"
        if share >= 0.9:
            return {"increasing": "Intensifying", "decreasing": "Diminishing"}.get(trend, "Persistent")
        run = n - np.flatnonzero(~sig)[-1] - 1      # the uninterrupted run ending with the final period
        if run >= 2 and sig[:n - run].sum() == 0:
            return "Consecutive"
        if opposite[:-1].any():
            return "Oscillating"
        return "Sporadic"
    if share >= 0.9:
        return "Historical"
    return None


def emerging_hot_spots(cm: CountMatrix, periods: int | None = None, alpha: float = 0.05,
                       p_method: str = "exact") -> pd.DataFrame:
    """Per unit with crime: category, trend, periods hot/cold, Mann-Kendall on the z series.
    `p_method`: the per-period Gi* p-value (gistar: "exact" default, or "normal" as ArcGIS)."""
    counts = cm.counts[:, -periods:] if periods else cm.counts
    if counts.shape[1] < 2:
        raise HotspotError("emerging hot spot analysis needs at least two periods")
    w = gistar.weights(cm.units, cm.unit.spacing_m, cm.unit.kind)
    zs, hot, cold = [], [], []
    for j in range(counts.shape[1]):
        res = gistar.gi_star(counts[:, j], cm.units, cm.unit.spacing_m, cm.unit.kind, alpha=alpha, w=w,
                             p_method=p_method)
        zs.append(res["gi_z"].to_numpy())
        sig = res["q_value"].to_numpy() <= alpha
        hot.append(sig & (res["gi_z"].to_numpy() > 0))
        cold.append(sig & (res["gi_z"].to_numpy() < 0))
    Z, H, C = np.column_stack(zs), np.column_stack(hot), np.column_stack(cold)
    active = np.flatnonzero(counts.sum(axis=1) > 0)
    rows = []
    for i in active:
        trend = mann_kendall(Z[i])
        rows.append({"unit_id": cm.units["unit_id"].iat[i], "category": classify(H[i], C[i], trend), "trend": trend,
                     "periods_hot": int(H[i].sum()), "periods_cold": int(C[i].sum()), "total": float(counts[i].sum()),
                     "final_z": float(Z[i, -1])})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return cm.units.merge(out, on="unit_id").sort_values(["category", "total"], ascending=[True, False]).reset_index(drop=True)
