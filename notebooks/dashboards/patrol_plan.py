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
# # Patrol plan
#
# Pick a force and a week: where to send officers (the hotspot map and the places), when crime happens there
# (day x hour), and the marked briefing PDF to take to the patrol briefing (its download is audited with the
# purpose you give). The same plan as `workbench hotspots plan --force F --until WEEK`. Served by Voila
# (`make dashboards`); see docs/dashboards.md.

# %% tags=["parameters"]
db_path = None          # the store (None: WORKBENCH_DB, else out/workbench.duckdb)
out_dir = None          # where briefings are written (None: a folder "dashboards" beside the store)
force = "West Yorkshire"  # the force shown first (name, alias or code)

# %%
from pathlib import Path

from widgets.dashboards import PatrolPlanDashboard
from workbench import config, reference
from workbench.store import open_store

db = Path(db_path) if db_path else config.default_db_path()
assert db.is_file(), f"no store at {db.resolve()}: run `make demo` (or give db_path)"
store = open_store(db, read_only=True, prepare=True)   # read-only: the briefing's audit row uses a brief write
dashboard = PatrolPlanDashboard(store, out_dir=out_dir or db.parent / "dashboards",
                                force_code=reference.resolve_force(force))
dashboard.panel
