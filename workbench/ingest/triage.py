"""Triage views over the ingested store, for notebooks/01_ingest_and_triage and widgets/ingest_browser.

    batches(store)        ingest batches with counts, newest first
    completeness(store)   share of each source's referral rows meeting Opal's threshold (a crime number)
    reasons(store)        unresolved quarantined rows per source and rule
    referral_queue(store) current referrals by priority (violence, juvenile, prolific, multiple forces)
"""
from __future__ import annotations

import pandas as pd

from workbench import config
from workbench.store import Store


def batches(store: Store) -> pd.DataFrame:
    return store.query("ingest_batches")


def completeness(store: Store) -> pd.DataFrame:
    return store.query("ingest_completeness")


def reasons(store: Store) -> pd.DataFrame:
    return store.query("ingest_quarantine_reasons")


def referral_queue(store: Store, max_rows: int = 200) -> pd.DataFrame:
    prolific = int(config.get("priority.prolific_offender_min_incidents", 10))
    return store.query("ingest_referral_queue", prolific_min=prolific, max_rows=int(max_rows))


def completeness_chart(frame: pd.DataFrame):
    import plotly.express as px

    fig = px.bar(frame.sort_values("share_meeting_threshold"), x="share_meeting_threshold", y="source_name",
                 orientation="h", range_x=[0, 1], text_auto=".0%",
                 labels={"share_meeting_threshold": "share of referral rows with a crime number", "source_name": ""},
                 title="Completeness per source: referrals meeting Opal's threshold")
    fig.update_layout(height=120 + 24 * len(frame), margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def reasons_chart(frame: pd.DataFrame):
    import plotly.express as px

    fig = px.bar(frame, x="rows", y="source_name", color="rule", orientation="h",
                 labels={"rows": "quarantined rows (unresolved)", "source_name": ""},
                 title="Why rows are held in quarantine")
    fig.update_layout(height=150 + 24 * frame["source_name"].nunique(), margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig
