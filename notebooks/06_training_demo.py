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
# # 06 Training demonstration: from referrals to a package, step by step
#
# For trainers (retailers' and forces' virtual sessions). A pseudonymised case built by
# `workbench training build --out ../out/training` (`make demo` builds it): one group working across three forces,
# the stores it hit and another force's look-alike incidents. Every name is a pseudonym ("Subject A") and every
# product is marked **TRAINING - NOT REAL INTELLIGENCE**. Press **Next** and **Back** (or pick a step): referrals
# arrive (one is quarantined, with its reason), the triage queue, people and vehicles resolved (press
# "Analyst: same person" for the analyst's decision), the group's network, its route across forces, MO candidates
# in another force, and the package. Each step is computed live from the training store. "Trainer's notes" hides
# the notes before sharing the screen; "Presenter view" enlarges the text. **Reset case** puts the case back to
# its starting state for the next session. Serve it as a page: `voila notebooks/06_training_demo.ipynb
# --template=workbench` (docs/training.md). This kernel opens only the training store and refuses real data.

# %% tags=["parameters"]
training_dir = "../out/training"          # a folder built by `workbench training build`
session_dir = None                        # where the session's package is written (None: training_dir/session)
presenter = False                         # start in the large-text presenter view

# %%
from widgets.training_demo import demo_page

demo, page = demo_page(training_dir, session_dir, presenter=presenter)
page
