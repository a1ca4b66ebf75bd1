"""Rolling-origin backtest: how well each forecast method would have picked next period's hot spots.

For each origin period t (the last `origins` periods holding crime), every method is trained on the
periods before t, units are ranked by score (ties broken by one fixed random order shared by all
methods and origins, drawn from `seed`), and the top units are flagged until they cover p of the
study area (1%, 5%, 10%).

    H    = n / N            crimes in flagged units / all crimes in period t   (hit rate)
    PAI  = H / (a / A)      flagged area a over study area A                     (predictive accuracy index)
    PEI* = n / n*           n* = crimes in the best set of units of the same total AREA a (see best_in_area)

Summary figures pool the origins (sum of n over sum of N, sum of n over sum of n*; PAI uses the
mean flagged share of area), so a quiet week does not count as much as a busy one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import cells, forecast
from workbench.hotspots.counts import CountMatrix, count_matrix
from workbench.hotspots.events import HotspotError

COVERAGES = (0.01, 0.05, 0.10)


def best_in_area(actual: np.ndarray, area: np.ndarray, budget: float) -> float:
    """Crimes in the best set of units whose total area is at most `budget`, greedy by density:
    units in order of crimes per km2 (more crimes first among equal densities), each taken when it
    still fits. Greedy is exact for equal areas (the top k counts) and, for unequal areas (LSOAs),
    a close lower bound of the knapsack optimum."""
    actual = np.asarray(actual, dtype=float)
    area = np.asarray(area, dtype=float)
    density = np.divide(actual, area, out=np.zeros_like(actual), where=area > 0)
    order = np.lexsort((-actual, -density))
    order = order[actual[order] > 0]
    limit = budget * (1 + 1e-9)
    cum = np.cumsum(area[order])
    j = int(np.searchsorted(cum, limit, side="right"))      # the prefix that fits as a whole
    used, total = (float(cum[j - 1]), float(actual[order[:j]].sum())) if j else (0.0, 0.0)
    rest = order[j:]
    smallest = area[rest].min() if len(rest) else np.inf
    for i in rest:                                            # then every later unit that still fits
        if limit - used < smallest:
            break
        if used + area[i] <= limit:
            used += area[i]
            total += actual[i]
    return total


def evaluate(score: np.ndarray, actual: np.ndarray, area: np.ndarray, coverage: float,
             tie_key: np.ndarray | None = None) -> dict:
    """Hit rate, PAI and PEI* of one forecast against one period's actual counts. Units are flagged
    by score (ties by `tie_key`, ascending) until they cover `coverage` of the area (at least one).
    PEI* = n / n*, n* = the crimes of the best units of the same total area as those flagged
    (`best_in_area`; at least n, since the flagged set is itself a candidate, so PEI* <= 1)."""
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
    n_star = max(best_in_area(actual, area, float(cum[k - 1])), n)
    a_share = float(cum[k - 1] / total_area)
    hit = n / N if N else np.nan
    return {"coverage": coverage, "cells_flagged": k, "area_share": a_share, "n": n, "N": N, "n_star": n_star,
            "hit_rate": hit, "pai": hit / a_share if N else np.nan, "pei_star": n / n_star if n_star else np.nan}


SPATIAL_METHODS = ("prospective", "kde")      # methods that need unit centres (not for coordinate-free areas)


def origin_columns(cm: CountMatrix, origins: int | None) -> list[int]:
    """Columns tested: the last `origins` periods holding crime that have at least one period before
    them (0 or None: all of them)."""
    candidates = [t for t in range(1, cm.counts.shape[1]) if cm.counts[:, t].sum() > 0]
    chosen = candidates[-int(origins):] if origins else candidates
    if not chosen:
        raise HotspotError("the backtest needs at least two periods with crime (one to learn from, one to test)")
    return chosen


def tie_break(n: int, seed: int = 0) -> np.ndarray:
    """The one random order, shared by every method and origin, that breaks ties between equal scores
    (e.g. the many zero cells of the naive forecast), so no method gains from the units' order."""
    return np.random.default_rng(seed).random(n)


def backtest(cm: CountMatrix, methods=("naive", "prospective", "kde"), coverages=COVERAGES, origins: int = 12,
             seed: int = 0, **method_params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, detail): summary one row per method x coverage; detail one row per origin too."""
    if "naive" not in methods:
        methods = ("naive",) + tuple(methods)
    if not cm.unit.has_coordinates:
        spatial = [m for m in methods if m in SPATIAL_METHODS]
        if spatial:
            raise HotspotError(f"method(s) {', '.join(spatial)} need unit locations; a count table of areas the "
                               "geography does not know supports only methods without space (e.g. naive, average)")
    chosen = origin_columns(cm, origins)
    tie_key = tie_break(len(cm.units), seed)
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
    summary.attrs.update({"unit": cm.unit.label, "period": cm.period, "units": int(len(cm.units)), "seed": seed,
                          "periods": cells.period_label(cm.period, cm.end if cm.anchor == "until" else None),
                          "area_km2": round(cm.total_area, 1), "first_origin": str(cm.periods[chosen[0]].date()),
                          "last_origin": str(cm.periods[chosen[-1]].date()), "origins": len(chosen),
                          "events": int(cm.counts.sum())})
    return summary, detail


def backtest_events(events: pd.DataFrame, unit="h3:8", period: str = "week", methods=("naive", "prospective", "kde"),
                    origins: int = 12, periods: str = "full", force_codes=None, end=None, **kw):
    cm = count_matrix(events, unit, period, periods=periods, force_codes=force_codes, end=end)
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
