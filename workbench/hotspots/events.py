"""Events: the one input shape every hotspot method takes.

An events frame has one row per crime with at least `latitude`, `longitude` (WGS84) and
`occurred_at` (naive timestamp; police.uk rows carry the first day of their month), and optionally
`force_code`, `lsoa_code`, `store_id`, `retailer_id`, `offence_type`, `tactics` (';'-joined codes)
used for filtering and for the patrol plan.
"""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

REQUIRED = ("latitude", "longitude", "occurred_at")


class HotspotError(WorkbenchError):
    """Hotspot input that cannot be used (no events, unknown force, bad unit...)."""


def _ts(value) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)
    except (ValueError, TypeError):
        raise HotspotError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def from_store(store, force_code: str | None = None, start=None, end=None, retailer_id: str | None = None,
               tactic_code: str | None = None, offence_type: str | None = None) -> pd.DataFrame:
    """Referral incidents with a location, filtered (any filter None = all); end is exclusive."""
    frame = store.query("hotspots_events", force_code=force_code, start=_ts(start), end=_ts(end),
                        retailer_id=retailer_id, tactic_code=tactic_code, offence_type=offence_type)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame


def stores_frame(store, force_code: str | None = None) -> pd.DataFrame:
    """Stores with a location (store_id, retailer_id, name, town, latitude, longitude, force_code, lsoa_code)."""
    return store.query("hotspots_stores", force_code=force_code)


def validate(events: pd.DataFrame, what: str = "events") -> pd.DataFrame:
    """Check the columns, drop rows without a usable location or time; refuse an empty result."""
    if events is None:
        raise HotspotError(f"no {what} given")
    missing = [c for c in REQUIRED if c not in events.columns]
    if missing:
        raise HotspotError(f"{what} lack required columns: {', '.join(missing)}")
    out = events.copy()
    out["latitude"] = pd.to_numeric(out["latitude"], errors="coerce")
    out["longitude"] = pd.to_numeric(out["longitude"], errors="coerce")
    out["occurred_at"] = pd.to_datetime(out["occurred_at"], errors="coerce")
    ok = (out["latitude"].between(49.0, 61.5) & out["longitude"].between(-8.7, 2.1)
          & out["occurred_at"].notna())
    out = out[ok].reset_index(drop=True)
    if out.empty:
        raise HotspotError(f"no {what} with a location in Great Britain and a date to analyse")
    return out


def filter_events(events: pd.DataFrame, start=None, end=None, force_code=None, retailer_id=None,
                  tactic_code=None, offence_type=None) -> pd.DataFrame:
    """The same filters as the SQL, on an in-memory events frame (police.uk or referrals)."""
    mask = np.ones(len(events), dtype=bool)
    if start is not None:
        mask &= (events["occurred_at"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        mask &= (events["occurred_at"] < pd.Timestamp(end)).to_numpy()
    for column, value in (("force_code", force_code), ("retailer_id", retailer_id), ("offence_type", offence_type)):
        if value is not None and column in events.columns:
            mask &= (events[column] == value).to_numpy()
    if tactic_code is not None and "tactics" in events.columns:
        mask &= events["tactics"].fillna("").str.split(";").map(lambda xs: tactic_code in xs).to_numpy()
    return events[mask].reset_index(drop=True)


def date_range_text(events: pd.DataFrame) -> str:
    lo, hi = events["occurred_at"].min(), events["occurred_at"].max()
    return f"{lo:%d %b %Y} to {hi:%d %b %Y}"


def today() -> date:
    return date.today()
