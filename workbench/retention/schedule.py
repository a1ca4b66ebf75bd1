"""Review dates: every referral (all its versions together) gets one, from the periods in retention.yaml.

    review_dates(store)          # one row per referral: referral_id, mopi_group, period_years, trigger_date,
                                 # review_due, review_basis, decision, ...
    due(store, as_of)            # those whose review date is on or before as_of
    refresh_review_dates(store)  # write review_due and review_basis to every version (audited)
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from workbench.retention.settings import retention_settings
from workbench.store import Store

DUE_COLUMNS = ["referral_id", "versions", "source_name", "mopi_group", "period_years", "trigger_date", "review_due",
               "review_basis", "decision", "decided_at", "decision_id"]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:          # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _as_date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def period_for(row: dict, settings: dict) -> tuple[str, int, list[str]]:
    """(MoPI group, years, basis parts) for one referral's facts (a chain_facts row)."""
    groups, when = settings["groups"], settings["group_2_when"]
    serious = bool(row.get("serious")) or (when["violence"] and bool(row.get("violence")))
    group = "group_2" if serious else "group_3"
    years = groups[group]
    basis = [group]
    floors = settings["floors"]
    for key, applies in (("group_member", row.get("group_member")), ("detained", row.get("detained"))):
        floor = floors.get(key)
        if applies and floor is not None and floor > years:
            years = floor
            basis.append(f"floor {key}")
    for field, table in settings["caps"].items():
        value = row.get(field)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        cap = table.get(str(value).strip().upper())
        if cap is not None and cap < years:
            years = cap
            basis.append(f"cap {field}={str(value).strip().upper()}")
    return group, years, basis


def review_dates(store: Store, settings: dict | None = None) -> pd.DataFrame:
    """One row per referral (keyed by its current version): its MoPI group, period, trigger date (the later of the
    latest version's receipt and its latest incident), review date and basis, and its latest decision. After a
    retain decision the review date is one period after the decision; a dispose decision makes it due at once
    (the decision's date, when that is earlier). Column-wise (period_for's rules), as every decision and every
    `review due` works this out for the whole store."""
    settings = settings or retention_settings()
    facts = store.query("retention/chain_facts", serious=settings["group_2_when"]["offence_types"])
    columns = list(dict.fromkeys(list(facts.columns) + ["mopi_group", "period_years", "trigger_date", "review_basis"]))
    if facts.empty:
        return facts.reindex(columns=columns)
    groups, when = settings["groups"], settings["group_2_when"]

    def flag(name: str) -> pd.Series:
        return facts[name].fillna(False).astype(bool)

    serious = flag("serious") | (flag("violence") if when["violence"] else False)
    group = pd.Series(["group_2" if s else "group_3" for s in serious], index=facts.index)
    years = pd.Series([groups["group_2"] if s else groups["group_3"] for s in serious], index=facts.index)
    basis = group.copy()
    for key in ("group_member", "detained"):
        floor = settings["floors"].get(key)
        if floor is None:
            continue
        hit = flag(key) & (years < floor)
        years = years.where(~hit, floor)
        basis = basis.where(~hit, basis + f"; floor {key}")
    for field, table in settings["caps"].items():
        value = facts[field].astype("string").str.strip().str.upper()
        cap = value.map(table).astype("Float64")
        hit = (cap.notna() & (cap < years)).fillna(False).astype(bool)
        years = years.where(~hit, cap.fillna(0).astype(int))
        basis = basis.where(~hit, basis + f"; cap {field}=" + value.fillna(""))
    received = pd.to_datetime(facts.received_at).dt.date
    occurred = pd.to_datetime(facts.last_occurred).dt.date
    trigger = [r if o is None or pd.isna(o) or o < r else o for r, o in zip(received, occurred)]
    due_days = [_add_years(t, int(y)) for t, y in zip(trigger, years)]
    decided = [_as_date(v) for v in facts.decided_at]
    for i, (decision, day) in enumerate(zip(facts.decision, decided)):
        if day is None:
            continue
        if decision == "retain":
            due_days[i] = _add_years(day, int(years.iloc[i]))
            basis.iloc[i] += f"; retained {day.isoformat()}"
        elif decision == "dispose":
            due_days[i] = min(due_days[i], day)
            basis.iloc[i] += f"; dispose decided {day.isoformat()}"
    out = facts.copy()
    out["mopi_group"] = group.to_numpy()
    out["period_years"] = years.astype(int).to_numpy()
    out["trigger_date"] = trigger
    out["review_due"] = due_days
    out["review_basis"] = basis.to_numpy()
    return out.reindex(columns=columns)


def due(store: Store, as_of: dt.date | None = None, settings: dict | None = None) -> pd.DataFrame:
    """Referrals whose review date is on or before `as_of` (default today), earliest first."""
    as_of = as_of or dt.date.today()
    frame = review_dates(store, settings)
    if frame.empty:
        return frame.reindex(columns=DUE_COLUMNS)
    hit = frame[pd.to_datetime(frame.review_due).dt.date <= as_of]
    return hit.sort_values(["review_due", "referral_id"]).reindex(columns=DUE_COLUMNS).reset_index(drop=True)


def refresh_review_dates(store: Store, settings: dict | None = None) -> int:
    """Write every referral's review date and basis to all its versions (rows changed, audited when any)."""
    from workbench import queries

    frame = review_dates(store, settings)
    if frame.empty:
        return 0
    dates = frame[["chain_key", "review_due", "review_basis"]].copy()
    dates["review_due"] = pd.to_datetime(dates["review_due"])
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            store.con.register("_review_dates", dates)
            changed = store.con.execute(queries.load("retention/update_review_dates").sql).fetchone()[0]
            store.con.unregister("_review_dates")
            if changed:
                store.audit("review-dates", "referrals", {"referrals": int(len(frame)), "rows_changed": int(changed)})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return int(changed)
