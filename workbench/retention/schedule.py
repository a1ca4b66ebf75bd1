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
    (the decision's date, when that is earlier)."""
    settings = settings or retention_settings()
    facts = store.query("retention/chain_facts", serious=settings["group_2_when"]["offence_types"])
    rows = []
    for row in facts.astype(object).where(facts.notna(), None).to_dict(orient="records"):
        group, years, basis = period_for(row, settings)
        trigger = max(d for d in (_as_date(row["received_at"]), _as_date(row["last_occurred"])) if d is not None)
        due_day = _add_years(trigger, years)
        decided = _as_date(row["decided_at"])
        if row["decision"] == "retain" and decided is not None:
            due_day = _add_years(decided, years)
            basis.append(f"retained {decided.isoformat()}")
        elif row["decision"] == "dispose" and decided is not None:
            due_day = min(due_day, decided)
            basis.append(f"dispose decided {decided.isoformat()}")
        rows.append({**row, "mopi_group": group, "period_years": years, "trigger_date": trigger,
                     "review_due": due_day, "review_basis": "; ".join(basis)})
    columns = list(facts.columns) + ["mopi_group", "period_years", "trigger_date", "review_basis"]
    return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))


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
