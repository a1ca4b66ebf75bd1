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
# # National picture
#
# For managers: referral incidents week by week, the national hot spots (Getis-Ord Gi* with FDR on the last
# year, as `workbench hotspots map`), the organised groups and the forces they operate in, and the forces most
# affected. Served by Voila (`make dashboards`); see docs/dashboards.md.

# %% tags=["parameters"]
db_path = None          # the store (None: WORKBENCH_DB, else out/workbench.duckdb)
weeks = 52              # weeks of history for the hot spots

# %%
from pathlib import Path

from widgets.dashboards import NationalPicture
from workbench import config
from workbench.store import open_store

db = Path(db_path) if db_path else config.default_db_path()
assert db.is_file(), f"no store at {db.resolve()}: run `make demo` (or give db_path)"
store = open_store(db, read_only=True, prepare=True)
picture = NationalPicture(store, weeks=weeks)
picture.panel
