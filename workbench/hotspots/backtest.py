"""Rolling-origin backtest: how well each forecast method would have picked next period's hot spots.

For each origin period t (the last `origins` periods holding crime), every method is trained on the
periods before t, units are ranked by score (ties broken by one fixed random order shared by all
methods), and the top units are flagged until they cover p of the study area (1%, 5%, 10%).

    H    = n / N            crimes in flagged units / all crimes in period t   (hit rate)
    PAI  = H / (a / A)      flagged area a over study area A                     (predictive accuracy index)
    PEI* = n / n*           n* = crimes in the best possible set of the same number of units

Summary figures pool the origins (sum of n over sum of N, sum of n over sum of n*; PAI uses the
mean flagged share of area), so a quiet week does not count as much as a busy one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import forecast
from workbench.hotspots.counts import CountMatrix, count_matrix
from workbench.hotspots.events import HotspotError

COVERAGES = (0.01, 0.05, 0.10)


def evaluate(score: np.ndarray, actual: np.ndarray, area: np.ndarray, coverage: float,
             tie_key: np.ndarray | None = None) -> dict:
    """Hit rate, PAI and PEI* of one forecast against one period's actual counts."""
    score = np.asarray(score, dtype=float)
    actual = np.asarray(actual, dtype=float)
    area = np.asarray(area, dtype=float)
    tie_key = np.zeros(len(score)) if tie_key is None else tie_key
    order = np.lexsort((tie_key, -score))
    total_area = area.sum()
    cum = np.cumsum(area[order])
    k = max(1, int(np.searchsorted(cum, coverage * total_area * (1 + 1e-9), side="right")))
    flagged = order[:k]
    n, N = float(actual[flagged].sum()), float(actual.sum())
    n_star = float(np.sort(actual)[::-1][:k].sum())
    a_share = float(cum[k - 1] / total_area)
    hit = n / N if N else np.nan
    return {"coverage": coverage, "cells_flagged": k, "area_share": a_share, "n": n, "N": N, "n_star": n_star,
            "hit_rate": hit, "pai": hit / a_share if N else np.nan, "pei_star": n / n_star if n_star else np.nan}


def backtest(cm: CountMatrix, methods=("naive", "prospective", "kde"), coverages=COVERAGES, origins: int = 12,
             seed: int = 0, **method_params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, detail): summary one row per method x coverage; detail one row per origin too."""
    if "naive" not in methods:
        methods = ("naive",) + tuple(methods)
    T = cm.counts.shape[1]
    candidates = [t for t in range(1, T) if cm.counts[:, t].sum() > 0]
    chosen = candidates[-int(origins):] if origins else candidates
    if not chosen:
        raise HotspotError("the backtest needs at least two periods with crime (one to learn from, one to test)")
    rng = np.random.default_rng(seed)
    tie_key = rng.random(cm.counts.shape[0])
    area = cm.units["area_km2"].to_numpy(dtype=float)
    rows = []
    for t in chosen:
        actual = cm.counts[:, t]
        for method in methods:
            s = forecast.scores(cm, t, method, **method_params)
            for cov in coverages:
                rows.append({"method": method, "origin": cm.periods[t], **evaluate(s, actual, area, cov, tie_key)})
    detail = pd.DataFrame(rows)
    g = detail.groupby(["method", "coverage"], sort=False)
    summary = g.agg(n=("n", "sum"), N=("N", "sum"), n_star=("n_star", "sum"), area_share=("area_share", "mean"),
                    origins=("origin", "nunique")).reset_index()
    summary["hit_rate"] = summary["n"] / summary["N"]
    summary["pai"] = summary["hit_rate"] / summary["area_share"]
    summary["pei_star"] = summary["n"] / summary["n_star"]
    summary.attrs.update({"unit": cm.unit.label, "period": cm.period, "units": int(len(cm.units)),
                          "area_km2": round(cm.total_area, 1), "first_origin": str(cm.periods[chosen[0]].date()),
                          "last_origin": str(cm.periods[chosen[-1]].date()), "origins": len(chosen),
                          "events": int(cm.counts.sum())})
    return summary, detail


def backtest_events(events: pd.DataFrame, unit="h3:8", period: str = "week", methods=("naive", "prospective", "kde"),
                    origins: int = 12, periods: str = "full", force_codes=None, **kw):
    cm = count_matrix(events, unit, period, periods=periods, force_codes=force_codes)
    return backtest(cm, methods=methods, origins=origins, **kw)


def accuracy_sentence(summary: pd.DataFrame, method: str, coverage: float = 0.05) -> str:
    """Plain-English statement of a method's measured accuracy beside the naive baseline."""
    def row(m):
        sel = summary[(summary["method"] == m) & np.isclose(summary["coverage"], coverage)]
        return sel.iloc[0] if len(sel) else None
    r, base = row(method), row("naive")
    if r is None:
        return "no backtest available"
    a = summary.attrs
    text = (f"Backtest ({a.get('origins')} {a.get('period')}s from {a.get('first_origin')} to {a.get('last_origin')}): "
            f"the top {coverage:.0%} of the area by this method held {r.hit_rate:.0%} of the next {a.get('period')}'s "
            f"crime (PAI {r.pai:.1f}, PEI* {r.pei_star:.2f})")
    if base is not None and method != "naive":
        text += f"; the naive last-{a.get('period')} map held {base.hit_rate:.0%} (PAI {base.pai:.1f}, PEI* {base.pei_star:.2f})"
    return text + "."
