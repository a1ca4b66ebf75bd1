"""MoPI review and disposal (docs/retention.md).

    settings = retention_settings()                     # workbench/config/retention.yaml, validated
    dates = review_dates(store)                         # every referral: MoPI group, period, review date, basis
    due(store, as_of=date(2031, 1, 1))                  # what is due for review
    refresh_review_dates(store)                         # write review_due / review_basis to every version
    decide(store, 12, "retain", why="...", purpose="...")   # who/when/why recorded
    dispose(store, purpose="...", as_of=None)           # really delete what dispose decisions cover
    decisions(store)                                    # the decisions, newest first
"""
from __future__ import annotations

import pandas as pd

from workbench.retention.disposal import DECISIONS, decide, dispose
from workbench.retention.schedule import due, period_for, refresh_review_dates, review_dates
from workbench.retention.settings import retention_settings

__all__ = ["DECISIONS", "decide", "decisions", "dispose", "due", "period_for", "refresh_review_dates",
           "retention_settings", "review_dates"]


def decisions(store) -> pd.DataFrame:
    """Every retain/dispose decision, newest first."""
    return store.query("retention/decisions")
