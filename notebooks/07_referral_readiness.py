# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 Referral readiness: is this referral ready for Opal?
#
# For retailers (in training and for real): upload an extract, or fill in one referral, and see row by row what
# Opal would need fixed before it can use it: the crime number, the police force, the incident date, the evidence
# reference (CCTV of the whole incident and a still, sent through DEMS), the 3x5x2 grading, and whether it meets
# the referral threshold. Each problem is said in plain English with its rule id. The score is the share of rows
# ready. Download the corrected template (your rows, their problems, blank columns to fill), fix it and send it
# back. Nothing is stored unless you tick the box and press "Ingest these rows". The same from the command line:
# `workbench readiness FILE [--out corrected.xlsx]` (docs/readiness.md).

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"        # the store (its store directory places retailer store numbers)
work_dir = "../out/readiness"              # uploads and corrected templates are written here
example_file = None                        # a file to check at once (None: wait for an upload)

# %%
from widgets.readiness_check import ReadinessCheck
from workbench.store import open_store

store = open_store(db_path, read_only=True, prepare=True)   # read-only: the check writes nothing
check = ReadinessCheck(store, work_dir=work_dir)
if example_file:
    from pathlib import Path

    check.check_bytes(Path(example_file).name, Path(example_file).read_bytes())
check.panel
