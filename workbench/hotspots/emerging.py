"""Emerging hot spot analysis: Gi* per period plus a Mann-Kendall trend, classified as ArcGIS does.

For each period the Gi* z-score and p-value of every unit are computed over its spatial
neighbourhood in that period (binary weights as in gistar; analytical normal p-values, so many
periods stay fast; significance after Benjamini-Hochberg correction per period at `alpha`). The
Mann-Kendall test (pymannkendall.original_test) on each unit's z-score series gives the trend of
the clustering intensity. Only units with crime in at least one period are classified.

Categories (ESRI "Emerging Hot Spot Analysis" definitions; "hot" = significant hot in a period; "final"
= the last period; cold categories mirror them with cold spots):
- New: hot in the final period only, never hot before.
- Consecutive: an uninterrupted run of at least two hot periods ending with the final one, never hot
  before the run, hot in less than 90% of periods.
- Intensifying: hot in at least 90% of periods including the final, significant upward trend.
- Persistent: hot in at least 90% of periods including the final, no significant trend.
- Diminishing: hot in at least 90% of periods including the final, significant downward trend.
- Sporadic: hot in the final period, hot in less than 90% of periods, never significant cold.
- Oscillating: hot in the final period, hot in less than 90% of periods, significant cold in some period.
- Historical: not hot in the final period, hot in at least 90% of the other periods.
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
    """Category of one unit from its per-period significance (booleans, oldest first) and trend."""
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    n = len(hot)
    if n == 0:
        return "No pattern detected"
    for flags, other, prefix in ((hot, cold, "hot"), (cold, hot, "cold")):
        label = _classify_one(flags, other, trend if prefix == "hot" else _flip(trend))
        if label:
            return label if prefix == "hot" else label.replace(" hot spot", " cold spot")
    return "No pattern detected"


def _flip(trend: str) -> str:
    return {"increasing": "decreasing", "decreasing": "increasing"}.get(trend, trend)


def _classify_one(sig, opposite, trend) -> str | None:
    n = len(sig)
    share = sig.mean()
    final = bool(sig[-1])
    if final:
        if sig[:-1].sum() == 0:
            return "New hot spot"
        if share >= 0.9:
            if trend == "increasing":
                return "Intensifying hot spot"
            if trend == "decreasing":
                return "Diminishing hot spot"
            return "Persistent hot spot"
        run = n - np.flatnonzero(~sig)[-1] - 1 if (~sig).any() else n
        if run >= 2 and sig[:n - run].sum() == 0:
            return "Consecutive hot spot"
        if opposite.any():
            return "Oscillating hot spot"
        return "Sporadic hot spot"
    if n > 1 and sig[:-1].mean() >= 0.9:
        return "Historical hot spot"
    return None


def emerging_hot_spots(cm: CountMatrix, periods: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Per unit with crime: category, trend, periods hot/cold, Mann-Kendall on the z series."""
    counts = cm.counts[:, -periods:] if periods else cm.counts
    if counts.shape[1] < 2:
        raise HotspotError("emerging hot spot analysis needs at least two periods")
    w = gistar.weights(cm.units, cm.unit.spacing_m, cm.unit.kind)
    zs, hot, cold = [], [], []
    for j in range(counts.shape[1]):
        res = gistar.gi_star(counts[:, j], cm.units, cm.unit.spacing_m, cm.unit.kind, permutations=0,
                             alpha=alpha, w=w)
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
