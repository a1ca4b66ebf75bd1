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
# # 05 Intelligence package: a handover a force can act on
#
# Opal's work ends in a package for the lead force, copied to the other forces a group touches. This notebook
# computes one for the store's most cross-border group (or the group named below): the NIM subject-profile
# sections, every figure with the query and annex rows behind it, the 3x5x2 gradings and handling conditions,
# and the intelligence gaps. The analyst's words (summary, assessment, recommendations) are saved with versions
# in the store; everything else is recomputed from the store on each build. The build writes HTML, PDF, DOCX,
# the annex workbook, the i2 chart and a manifest, reads every output back for withheld values, and is audited
# with its purpose. `verify` then recomputes every figure. The same from the command line: `workbench package
# build|verify|diff|words|review|approve|disseminate|list` (docs/packages.md).

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"        # the store after `make demo` (groups found by `workbench link run`)
out_dir = "../out/packages/notebook"       # the package folder written
group_id = None                            # a group id (GR00001...), or None: the group spanning most forces
purpose = "notebook 05: demonstration package on synthetic data"
summary_text = None                        # the analyst's summary to save as a new version (None: keep the latest)
omit_sections = []                         # sections to leave out, e.g. ["tactics", "timeline"] (the summary stays)

# %%
import pandas as pd

from workbench import crossborder as xb
from workbench import packages
from workbench.store import open_store

store = open_store(db_path, read_only=True)   # others keep using it; words and builds write briefly

# %%
group_id = group_id or xb.several_forces(store).group_id.iloc[0]
if summary_text:
    with store.writing():
        saved = packages.save_words(store, group_id, "summary", summary_text)
    print(f"summary saved as version {saved['version']}")
pkg = packages.compute(store, group_id)
print(pkg.meta["title"], "-", pkg.meta["label"])
print("lead force:", pkg.meta["lead_force"], pkg.meta["lead_force_name"], "| copies:", ", ".join(pkg.meta["copies"]))
print(pkg.section("summary")["paragraphs"][0])

# %% [markdown]
# ## Every figure and where it comes from
# Each figure names the query and parameters that computed it and the annex rows it counts, so a reader can
# trace it, and `verify` can recompute it.

# %%
pd.DataFrame(pkg.figures.values())[["label", "value", "query", "annex"]]

# %% [markdown]
# ## Intelligence gaps and handling
# Computed, not typed: what the package cannot yet say, and the handling conditions the referrals impose.

# %%
print(pkg.section("summary")["paragraphs"][1])
gaps = pkg.section("gaps")["tables"][0]
pd.DataFrame(gaps["rows"], columns=gaps["columns"])

# %% [markdown]
# ## Build, read back, verify
# The build writes every format, searches every output for withheld values (sources' own references,
# narratives, configured forbidden terms) and refuses to finish if one appears; then the folder is verified
# against the store.

# %%
result = packages.build(store, group_id, out_dir, purpose=purpose, omit=omit_sections or None)
print(f"version {result['version']} ({result['state']}), {len(result['files'])} files, PDF {result['pdf_pages']} pages, "
      f"{result['forbidden_values_checked']} withheld values searched for, none found")
print("sections:", ", ".join(result["sections"]))
check = packages.verify(store, out_dir)
print("verify:", "ok" if check["ok"] else check["problems"])

# %% [markdown]
# ## Edit, preview and build in the page
# The same steps as a panel: pick a subject, edit the analyst's words (saved as new versions), preview the package
# inline and build it with a stated purpose. The store stays open (read-only) while you work; a writer elsewhere
# waits for it. `store.close()` when done.

# %%
from pathlib import Path

from widgets.package_builder import PackageBuilder

builder = PackageBuilder(store, Path(out_dir).parent, subject=group_id)   # builds go to a folder per subject
builder.panel
