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
# # 00 Start here
#
# Pegasus Workbench turns retailers' and forces' referrals to Opal into intelligence: where and when to patrol,
# who offends together, which groups cross force borders, and the package a force can act on. Each notebook
# answers one question for one kind of user. Run this one first: the table at the bottom says whether this
# machine is ready for the others and, for anything that is not, what to run.
#
# | Notebook | The question it answers | For |
# |---|---|---|
# | `01_ingest_and_triage` | Which referrals came in, which were held back and why, how complete each retailer's referrals are, and which to look at first? | Analyst |
# | `02_hotspots_for_patrol` | Where and when should officers patrol next week, and how far can that forecast be trusted? Writes the map and briefing a planner opens. | Analyst, for planners |
# | `03_people_vehicles_groups` | Which mentions are the same person or vehicle, and who offends together as a group? | Analyst |
# | `04_cross_border` | Which groups work across force borders: their route, their tactics, and the lead force? | Analyst |
# | `05_intelligence_package` | What goes in the handover package for the lead force, and where does every figure come from? | Analyst |
# | `06_training_demo` | A safe, repeatable demonstration case that walks from referrals to the package, step by step. | Trainer |
# | `07_referral_readiness` | Is this retailer's referral ready for Opal, and what must be fixed? | Trainer, retailers |
#
# Patrol planners and managers do not need a notebook: `make dashboards` serves the patrol plan and the national
# picture as pages (Voila, on this machine only). Trainers present notebook 06 the same way. Every notebook
# has the same from the command line: `workbench --help`.

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"        # the store the notebooks read (after `make demo`)
assets_dir = None                          # offline map assets (None: the configured folder)
voila_prefix = None                        # environment holding the Voila template (None: this one)

# %%
import pandas as pd

from workbench import setup_check

checks = setup_check.run(db_path=db_path, assets_dir=assets_dir, voila_prefix=voila_prefix)
todo = setup_check.problems(checks)
if todo.empty:
    print("Ready: every check passed.")
else:
    print(f"{len(todo)} of {len(checks)} checks need attention:")
    for row in todo.itertuples():
        print(f"  {row.check}: {row.detail} -> {row.how_to_fix}")

# %% [markdown]
# ## Every check
# Problems first, then what passed and the versions (give these in a bug report).

# %%
with pd.option_context("display.max_colwidth", 120):
    display(checks)
