# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 Ingest and triage
#
# Take retailers' and forces' referral extracts into the workbench store, see what was held back and why, how
# complete each retailer's referrals are against Opal's threshold (a crime number), and which referrals to
# look at first. Every step is a library call; the same runs from the command line
# (`workbench ingest`, `workbench quarantine list|show|export`).

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"   # the store to use (created if missing)
sample_dir = None                      # a folder of extracts to ingest first, e.g. "../out/sample_world/extracts"

# %%
from pathlib import Path

import pandas as pd

from widgets import plots  # figures that draw in JupyterLab and in Voila (widgets/plots.py)
from workbench.ingest import ingest_paths, quarantine, triage
from workbench.store import open_store

# Read-only, so that colleagues and the CLI can read the store while this notebook is open; the cells that
# write (the ingest, a quarantine export) take a write connection only for that step (`store.writing()`).
store = open_store(db_path, read_only=True, prepare=True)
store.path

# %% [markdown]
# ## Ingest
# One batch per file, one transaction each; a file already ingested is skipped (same content hash).
# The store directory goes first so that retailer store numbers resolve. Only this cell writes: it holds a
# write connection (others wait for it, docs/architecture.md "Sharing a store") until the ingest is done.

# %%
if sample_dir:
    with store.writing():
        reports = ingest_paths(store, [Path(sample_dir)])
    report_table = pd.DataFrame(reports)[["file", "source", "status", "rows_read", "rows_accepted",
                                          "rows_quarantined", "duplicates_merged"]]
    report_table["file"] = report_table["file"].map(lambda f: Path(f).name)
    assert (report_table.dropna()["rows_read"] == report_table.dropna()["rows_accepted"]
            + report_table.dropna()["rows_quarantined"]).all()
    display(report_table)

# %% [markdown]
# ## Batches
# Rows read always equal rows accepted plus rows quarantined.

# %%
batches = triage.batches(store)
batches.head(30)

# %% [markdown]
# ## Completeness per retailer
# The share of each source's referral rows that carried a crime number (Opal's threshold). Rows without
# one are in quarantine: export them for the retailer to correct.

# %%
completeness = triage.completeness(store)
if not completeness.empty:
    plots.show(triage.completeness_chart(completeness))
completeness

# %% [markdown]
# ## Why rows are in quarantine

# %%
reasons = triage.reasons(store)
if not reasons.empty:
    plots.show(triage.reasons_chart(reasons))
reasons.pivot_table(index="source_name", columns="rule", values="rows", fill_value=0) if not reasons.empty else reasons

# %%
open_entries = quarantine.list_entries(store, status="open")
open_entries.head(20)

# %%
if not open_entries.empty:
    first = quarantine.show(store, int(open_entries["quarantine_id"].iloc[0]))
    print(first["source_file"], "row", first["row_number"])
    for reason in first["reasons"]:
        print(f"  {reason['rule']}: {reason['message']}")

# %% [markdown]
# ## Alerts
# New referrals whose person or vehicle matches a known group member, a prolific offender or a flagged
# (cloned) plate, raised when each batch committed and matched against the latest linkage run without
# retraining (docs/linkage.md "Alerts"). Acknowledge one with `workbench alerts ack ALERT_ID --why ...`.

# %%
from workbench.linkage import alerts

open_alerts = alerts.list_alerts(store, "open")
open_alerts[["alert_id", "reason", "mention_text", "entity_id", "entity_label", "match_weight", "matched_by",
             "batch_id"]].head(50)

# %% [markdown]
# ## Referral queue
# Current referrals ordered by priority: violence against staff (3), juvenile offender (2), prolific offender
# (2, named in at least `priority.prolific_offender_min_incidents` incidents), offenders or incidents in more
# than one force (2). Offender names are compared exactly here; record linkage refines this later.

# %%
queue = triage.referral_queue(store, max_rows=50)
queue

# %% [markdown]
# ## Browse interactively

# %%
from widgets.ingest_browser import IngestBrowser

browser = IngestBrowser(store)
browser.panel
