"""Tactic trends: where and when each tactic was first seen, how it spread across forces month by month, and
which tactics are rising nationally.

    t = tactic_trends(store)          # TacticTrends(first_seen, force_first, spread, trends, method)
    t.first_seen                      # per tactic: first incident (time, store, town, force), incidents, stores, forces
    t.force_first                     # per tactic and force: first month and time seen there, incidents
    t.spread                          # per tactic and month: incidents, share of the month's incidents, forces using
                                      #   it that month, forces that have used it so far, forces new that month
    t.trends                          # per tactic: Mann-Kendall trend of its monthly measure, Sen slope, p, FDR q,
                                      #   rising / falling

The trend test is Mann-Kendall (pymannkendall.original_test) on the tactic's monthly series over every calendar
month the store holds (months with no incident using it count as zero), with Sen's slope per month. The
measure (`trends.measure`) is by default the tactic's share of the month's incidents, so a tactic is "rising"
only when it grows faster than referrals as a whole (the number of incidents, `count`, is the other choice).
The p-values of all tactics are corrected together for the false discovery rate (Benjamini-Hochberg): a tactic
is rising when its q-value is at most `trends.alpha` and its slope is positive. Months outside the store's data
are not zeros: the first and last month may be part-months, which is why the share is the default. A tactic
first seen in the store's first month was probably in use before it (left-censored): `first_seen` says when
the store first holds it, not when it began.

Settings: the `trends:` section of workbench/config/crossborder.yaml (alpha, measure, min_months, fdr).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

DEFAULTS = {"alpha": 0.05, "measure": "share", "min_months": 6, "fdr": True}
MEASURES = ("share", "count")
TREND_COLUMNS = ["tactic_code", "kind", "name", "incidents", "forces", "months", "first_month", "first_force_code",
                 "first_force_name", "measure", "trend", "mk_trend", "tau", "s", "p_value", "q_value", "sen_slope",
                 "sen_slope_per_year", "first_level", "last_level", "rising", "falling"]
SPREAD_COLUMNS = ["tactic_code", "month", "incidents", "share", "forces_active", "forces_so_far", "new_forces",
                  "new_force_codes"]
FORCE_FIRST_COLUMNS = ["tactic_code", "force_code", "force_name", "first_month", "first_at", "incidents"]


@dataclass
class TacticTrends:
    first_seen: pd.DataFrame
    force_first: pd.DataFrame
    spread: pd.DataFrame
    trends: pd.DataFrame
    method: str


def trend_settings(settings: dict | None = None) -> dict:
    """The `trends:` settings (defaults for keys the file leaves out), checked."""
    from workbench.crossborder.settings import crossborder_settings

    raw = dict(DEFAULTS)
    raw.update(((settings or crossborder_settings()).get("trends")) or {})
    try:
        alpha = float(raw["alpha"])
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0 < alpha < 1:
        raise WorkbenchError(f"crossborder settings: trends.alpha must be between 0 and 1, not {raw['alpha']!r}")
    if raw["measure"] not in MEASURES:
        raise WorkbenchError(f"crossborder settings: trends.measure must be one of {', '.join(MEASURES)}, "
                             f"not {raw['measure']!r}")
    if int(raw["min_months"]) < 3:
        raise WorkbenchError("crossborder settings: trends.min_months must be at least 3 (Mann-Kendall needs a series)")
    return {"alpha": alpha, "measure": raw["measure"], "min_months": int(raw["min_months"]), "fdr": bool(raw["fdr"])}


def benjamini_hochberg(p_values) -> np.ndarray:
    """False-discovery-rate q-values (Benjamini-Hochberg step-up) of p-values; NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    values = p[ok]
    order = np.argsort(values)
    ranked = values[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(ranked, 0.0, 1.0)
    q[ok] = out
    return q


def month_grid(totals: pd.DataFrame, monthly: pd.DataFrame) -> pd.DatetimeIndex:
    """Every calendar month from the first to the last the store holds."""
    months = pd.concat([pd.to_datetime(totals.month), pd.to_datetime(monthly.month)])
    if months.empty:
        return pd.DatetimeIndex([])
    return pd.date_range(months.min(), months.max(), freq="MS")


def spread_from_frames(monthly: pd.DataFrame, totals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(force_first, spread) from the frames of tactics_force_months and tactics_month_totals."""
    monthly = monthly.assign(month=pd.to_datetime(monthly.month), first_at=pd.to_datetime(monthly.first_at))
    known = monthly[monthly.force_code.notna()]
    force_first = (known.sort_values(["tactic_code", "force_code", "month"])
                   .groupby(["tactic_code", "force_code"], as_index=False)
                   .agg(force_name=("force_name", "first"), first_month=("month", "min"), first_at=("first_at", "min"),
                        incidents=("incidents", "sum")))
    force_first = force_first.sort_values(["tactic_code", "first_at", "force_code"])[FORCE_FIRST_COLUMNS] \
        .reset_index(drop=True)
    grid = month_grid(totals, monthly)
    total = pd.to_datetime(totals.month).pipe(lambda m: pd.Series(totals.incidents.to_numpy(), index=m)) \
        .reindex(grid, fill_value=0)
    rows = []
    for code, sub in monthly.groupby("tactic_code", sort=True):
        per_month = sub.groupby("month").incidents.sum().reindex(grid, fill_value=0)
        active = sub[sub.force_code.notna()].groupby("month").force_code.nunique().reindex(grid, fill_value=0)
        firsts = force_first[force_first.tactic_code == code]
        new = firsts.groupby("first_month").force_code.agg(lambda s: sorted(s))
        so_far = 0
        for month in grid:
            codes = new.get(month, [])
            so_far += len(codes)
            n = int(per_month[month])
            denom = int(total[month])
            rows.append([code, month, n, round(n / denom, 6) if denom else 0.0, int(active[month]), so_far,
                         len(codes), ";".join(codes)])
    spread = pd.DataFrame(rows, columns=SPREAD_COLUMNS)
    return force_first, spread


def trend_table(spread: pd.DataFrame, first_seen: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Mann-Kendall and Sen slope of each tactic's monthly measure, FDR-corrected across tactics."""
    import pymannkendall as mk

    info = first_seen.set_index("tactic_code")
    rows = []
    for code, sub in spread.groupby("tactic_code", sort=True):
        series = sub.sort_values("month")[cfg["measure"] if cfg["measure"] == "share" else "incidents"] \
            .to_numpy(dtype=float)
        r = info.loc[code] if code in info.index else None
        base = {"tactic_code": code, "kind": None if r is None else r.kind, "name": None if r is None else r["name"],
                "incidents": int(sub.incidents.sum()), "forces": int(sub.forces_so_far.max()),
                "months": int(len(series)),
                "first_month": sub[sub.incidents > 0].month.min() if (sub.incidents > 0).any() else pd.NaT,
                "first_force_code": None if r is None else r.first_force_code,
                "first_force_name": None if r is None else r.first_force_name, "measure": cfg["measure"]}
        half = max(1, len(series) // 4)
        base["first_level"] = round(float(series[:half].mean()), 6) if len(series) else None
        base["last_level"] = round(float(series[-half:].mean()), 6) if len(series) else None
        if len(series) < cfg["min_months"] or np.all(series == series[0]):
            base.update(mk_trend="too few months" if len(series) < cfg["min_months"] else "no trend", tau=None, s=None,
                        p_value=None, sen_slope=0.0 if len(series) else None)
        else:
            test = mk.original_test(series, alpha=cfg["alpha"])
            base.update(mk_trend=str(test.trend), tau=round(float(test.Tau), 4), s=float(test.s),
                        p_value=float(test.p), sen_slope=float(test.slope))
        rows.append(base)
    out = pd.DataFrame(rows, columns=[c for c in TREND_COLUMNS if c not in ("trend", "q_value", "sen_slope_per_year",
                                                                                "rising", "falling")])
    p = pd.to_numeric(out.p_value, errors="coerce").to_numpy(dtype=float)
    out["q_value"] = benjamini_hochberg(p) if cfg["fdr"] else p
    slope = pd.to_numeric(out.sen_slope, errors="coerce")
    out["sen_slope_per_year"] = slope * 12
    significant = out.q_value.le(cfg["alpha"]).fillna(False)
    out["rising"] = significant & slope.gt(0).fillna(False)
    out["falling"] = significant & slope.lt(0).fillna(False)
    # the decision after the correction; mk_trend is Mann-Kendall's own verdict at alpha, uncorrected
    out["trend"] = np.where(out.rising, "rising", np.where(out.falling, "falling",
                                                           np.where(out.mk_trend == "too few months", "too few months",
                                                                    "no trend")))
    out = out.sort_values(["rising", "q_value", "incidents", "tactic_code"], ascending=[False, True, False, True],
                          na_position="last")
    return out[TREND_COLUMNS].reset_index(drop=True)


def trends_from_frames(first_seen: pd.DataFrame, monthly: pd.DataFrame, totals: pd.DataFrame,
                       settings: dict | None = None) -> TacticTrends:
    """Tactic trends from the three query frames (tactics_first_seen, tactics_force_months, tactics_month_totals)."""
    cfg = trend_settings(settings)
    force_first, spread = spread_from_frames(monthly, totals)
    first_seen = first_seen.assign(first_at=pd.to_datetime(first_seen.first_at))
    grid = month_grid(totals, monthly)
    # seen in the store's first month: probably in use before the store's data begin (left-censored)
    first_seen["left_censored"] = (first_seen.first_at.dt.to_period("M").dt.start_time == grid[0]) if len(grid) \
        else False
    table = trend_table(spread, first_seen, cfg)
    correction = "Benjamini-Hochberg FDR" if cfg["fdr"] else "no multiple-test correction"
    method = (f"Mann-Kendall on the monthly {'share of incidents' if cfg['measure'] == 'share' else 'incidents'}, "
              f"Sen slope; {correction}, alpha {cfg['alpha']:g}")
    return TacticTrends(first_seen.reset_index(drop=True), force_first, spread, table, method)


def tactic_trends(store, settings: dict | None = None) -> TacticTrends:
    """Where and when each tactic was first seen, its spread across forces by month, and its national trend."""
    first_seen = store.query("crossborder/tactics_first_seen")
    monthly = store.query("crossborder/tactics_force_months")
    totals = store.query("crossborder/tactics_month_totals")
    if first_seen.empty:
        raise WorkbenchError("no incident with a time has a tactic code in this store: no tactic trends "
                             "(ingest referrals first)")
    return trends_from_frames(first_seen, monthly, totals, settings)
