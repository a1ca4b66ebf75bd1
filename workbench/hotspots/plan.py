"""Patrol plans: where and when to send officers in the next period, with the method's measured accuracy.

    plan = patrol_plan(events, stores, force_code="13", unit="h3:8", method="kde")
    plan.cells     top units: rank, unit_id, label, expected incidents, last period, stores inside
    plan.stores    the stores inside those units
    plan.profile   day-of-week x hour-of-day counts of recent crime in those units
    plan.accuracy  backtest summary (method beside the naive baseline at 1/5/10% of area)
    plan.meta      force, period, data range, method, accuracy sentence ...

The period planned is the one after the data: with period "week" the ISO week (Monday to Sunday)
after the week of the latest event, or with `until` the 7 days from that date (periods are calendar
periods, never anchored on the latest event; see cells.period_starts).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import reference
from workbench.hotspots import backtest, cells, choose, forecast
from workbench.hotspots.counts import count_matrix
from workbench.hotspots.events import HotspotError, validate

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class PatrolPlan:
    cells: pd.DataFrame
    stores: pd.DataFrame
    profile: pd.DataFrame
    accuracy: pd.DataFrame
    meta: dict = field(default_factory=dict)
    unit: cells.Unit | None = None


def force_name(code: str | None) -> str:
    if code is None:
        return "all forces"
    table = reference.forces().set_index("force_code")
    return str(table.loc[code, "name"]) if code in table.index else code


def patrol_plan(events: pd.DataFrame, stores: pd.DataFrame | None = None, force_code: str | None = None,
                unit: str = "h3:8", method: str | None = None, period: str = "week", top: int = 15,
                profile_periods: int = 12, origins: int = 12, periods: str = "full", until=None) -> PatrolPlan:
    if top < 1:
        raise HotspotError("--top must be at least 1")
    ev = validate(events)
    cm = count_matrix(ev, unit, period, force_codes=force_code, periods=periods, end=until)
    if cm.counts.shape[1] < 2:
        raise HotspotError("a patrol plan needs at least two periods of history")
    choice = ""
    if method in (None, "auto"):          # chosen per force by its own backtest (choose.py)
        method, choice, summary = choose.choose_method(cm, origins=origins)
    else:
        summary, _ = backtest.backtest(cm, methods=tuple(dict.fromkeys(("naive", method))), origins=origins)
    fc = forecast.forecast_next(cm=cm, method=method)
    chosen = fc.head(top).copy()
    chosen = chosen[chosen["score"] > 0] if (chosen["score"] > 0).any() else chosen

    in_cells = pd.DataFrame(columns=["store_id", "name", "unit_id"])
    if stores is not None and len(stores):
        st = validate(stores.assign(occurred_at=pd.Timestamp("2000-01-01")), "stores").drop(columns="occurred_at")
        st["unit_id"] = cells.assign(st, cm.unit).to_numpy()
        in_cells = st[st["unit_id"].isin(chosen["unit_id"])].merge(chosen[["unit_id", "rank"]], on="unit_id")
        in_cells = in_cells.sort_values(["rank", "store_id"]).reset_index(drop=True)
    names = in_cells.groupby("unit_id")["name"].apply(lambda s: "; ".join(map(str, s))) if len(in_cells) else pd.Series(dtype=object)
    chosen["stores_n"] = chosen["unit_id"].map(in_cells.groupby("unit_id").size()).fillna(0).astype(int)
    chosen["stores"] = [str(names.get(u, "")) for u in chosen["unit_id"]]

    recent_start = cm.periods[max(0, len(cm.periods) - profile_periods)]
    recent = cm.events[(cm.events["unit_id"].isin(chosen["unit_id"])) & (cm.events["period_start"] >= recent_start)]
    profile = pd.crosstab(pd.Categorical(recent["occurred_at"].dt.day_of_week.map(dict(enumerate(DAYS))), DAYS),
                          pd.Categorical(recent["occurred_at"].dt.hour, range(24)), dropna=False)
    profile.index.name, profile.columns.name = "day", "hour"
    if period == "month" or (recent["occurred_at"].dt.hour == 0).all():
        profile.attrs["note"] = "times are not recorded finer than the day (e.g. police.uk months)"

    start = fc.attrs["forecast_start"]
    end = start + (pd.offsets.MonthBegin(1) if period == "month" else pd.Timedelta(days=7 if period == "week" else 1))
    acc = summary[summary["method"].isin([method, "naive", "average"])].reset_index(drop=True)
    acc.attrs = summary.attrs
    meta = {
        "force_code": force_code, "force_name": force_name(force_code), "unit": cm.unit.label,
        "period": period, "period_start": str(pd.Timestamp(start).date()),
        "period_end": str((pd.Timestamp(end) - pd.Timedelta(days=1)).date()),
        "data_from": str(ev["occurred_at"].min().date()), "data_to": str(ev["occurred_at"].max().date()),
        "events": int(cm.counts.sum()), "method": method, "method_description": forecast.DESCRIPTIONS[method],
        "method_choice": choice,
        "units_in_area": int(len(cm.units)), "area_km2": round(cm.total_area, 1),
        "cells_planned": int(len(chosen)),
        "planned_area_share": float(chosen["area_km2"].sum() / cm.total_area),
        "expected_in_plan": float(chosen["expected"].sum()),
        "expected_total": float(fc["expected"].sum()),
        "accuracy": backtest.accuracy_sentence(summary, method, 0.05),
        "accuracy_short": _short(summary, method),
        "profile_from": str(pd.Timestamp(recent_start).date()),
    }
    chosen["label"] = place_labels(chosen, cm.unit)
    cols = ["rank", "unit_id", "label", "expected", "last_period", "history_total", "stores_n", "stores",
            "latitude", "longitude", "area_km2", "score"]
    return PatrolPlan(cells=chosen[cols].reset_index(drop=True), stores=in_cells, profile=profile, accuracy=acc,
                      meta=meta, unit=cm.unit)


def place_labels(frame: pd.DataFrame, unit: cells.Unit) -> list[str]:
    """Readable names for units: the LSOA name for LSOAs, else 'near <nearest LSOA name>' plus the cell id."""
    from scipy.spatial import cKDTree

    from workbench import geography

    if unit.kind == "lsoa":
        return [f"{lab} ({uid})" for lab, uid in zip(frame["label"], frame["unit_id"])]
    cent = geography.lsoa_centroids()
    tree = cKDTree(np.column_stack([cent["latitude"], cent["longitude"] * 0.6]))
    _, idx = tree.query(np.column_stack([frame["latitude"], frame["longitude"] * 0.6]))
    names = cent["lsoa_name"].to_numpy()[idx]
    return [f"near {n} ({uid})" for n, uid in zip(names, frame["unit_id"])]


def _short(summary: pd.DataFrame, method: str) -> str:
    at5 = summary[np.isclose(summary["coverage"], 0.05)].set_index("method")["hit_rate"]
    text = f"Backtest hit rate at 5% of area: {at5.get(method, np.nan):.0%}"
    return text + (f" (naive {at5.get('naive', np.nan):.0%})" if method != "naive" else "")
