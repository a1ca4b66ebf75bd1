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
# # 02 Hot spots for patrol planning
#
# Forces have committed to targeted hotspot patrols in the worst-affected areas. A planner needs to know where
# and when to send officers next week; an analyst needs to know how far to trust that map. This notebook
# finds the hot spots (Getis-Ord Gi* with false discovery rate control, emerging hot spots, near repeats),
# **measures** how well each forecast method would have picked next week's crime (rolling-origin backtest
# beside a naive baseline, on our referrals and on real police.uk data) and writes the patrol plan a
# planner opens: an offline map and a marked briefing. Every step is a library call; the same runs from
# the command line (`workbench hotspots backtest|plan|map|knox|emerging`). Methods: `docs/hotspots.md`.

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"    # the store (after `make demo`)
force = "West Yorkshire"               # force name, alias or code
unit = "h3:8"                          # h3:R, grid:M (metres) or lsoa
police_uk_files = None                 # police.uk street CSVs or folders (None: the shipped West Yorkshire sample)
out_dir = "../out/plans/notebook"      # where the patrol plan is written
knox_iterations = 999                  # Monte Carlo permutations for the Knox test
gi_permutations = 999                  # permutations for Gi*

# %%
import pandas as pd

from workbench import exports, reference
from workbench.hotspots import backtest, briefing, counts, emerging, events, gistar, kde, knox, plan, policeuk
from workbench.store import open_store

store = open_store(db_path, read_only=True, prepare=True)  # read-only: others read (and write) meanwhile
force_code = reference.resolve_force(force)
assert force_code, f"unknown force {force}"
ev = events.from_store(store, force_code=force_code)
stores = events.stores_frame(store, force_code=force_code)
print(f"{plan.force_name(force_code)}: {len(ev):,} located incidents, {events.date_range_text(ev)}; {len(stores):,} stores")

# %% [markdown]
# ## Counts per cell and week
# Every incident is placed in a cell of the study area: all cells covering the force area, including the
# many with no crime, so that "5% of the area" means 5% of the force.

# %%
cm = counts.count_matrix(ev, unit, "week", force_codes=force_code)
weekly = pd.Series(cm.counts.sum(axis=0), index=cm.periods, name="incidents")
print(f"{len(cm.units):,} {cm.unit.label} cells covering {cm.total_area:,.0f} km2; {int((cm.counts.sum(axis=1) > 0).sum()):,} "
      "had crime")
cm.long().groupby("unit_id")["count"].sum().sort_values(ascending=False).head(10).to_frame("incidents")

# %% [markdown]
# ## How far to trust a hotspot map: the backtest
# For each of the last 12 weeks, each method is trained on the weeks before, cells are ranked and the top
# 1%, 5% and 10% of the area flagged. Hit rate = share of that week's crime inside the flagged cells;
# PAI = hit rate / area share; PEI* = crime caught / the most the same number of cells could have caught.
# The naive baseline is last week's counts.

# %%
summary, detail = backtest.backtest(cm, methods=("naive", "average", "prospective", "kde"), origins=12)
summary.pivot(index="method", columns="coverage", values="hit_rate").round(3)

# %%
print(backtest.accuracy_sentence(summary, "kde", 0.05))
summary[["method", "coverage", "hit_rate", "pai", "pei_star"]].round(3)

# %% [markdown]
# ### Choosing the KDE bandwidth
# The default is a fixed 300 m (comparable between weeks and forces). Likelihood cross-validation suggests
# a bandwidth from the data; events at shops share locations, so expect it to prefer small bandwidths.

# %%
kde.choose_bandwidth(ev, candidates=(150, 300, 600, 1200))

# %% [markdown]
# ## Real data: police.uk street-level shoplifting
# The same backtest on police.uk data (West Yorkshire, July 2016, 2017 and 2018 by default: three months a
# year apart, so the forecast is year on year). Any police.uk street CSVs can be given instead.

# %%
puk = policeuk.read_street_csvs(police_uk_files)
puk_summary, _ = backtest.backtest_events(puk, unit=unit, period="month", periods="observed",
                                          methods=("naive", "prospective", "kde"))
puk_summary.pivot(index="method", columns="coverage", values="hit_rate").round(3)

# %% [markdown]
# ## Where is crime clustered? Getis-Ord Gi* with false discovery rate control
# Two-sided 90/95/99% confidence after FDR. The default p-value is exact (no sampling, right for skewed
# counts); beside it, what the normal approximation ArcGIS uses would call (more cells, too many on skewed
# counts). See docs/hotspots.md.

# %%
gi = gistar.hot_spots(cm, periods=26, permutations=gi_permutations)
gi_normal = gistar.hot_spots(cm, periods=26, p_method="normal")
pd.DataFrame({"exact p (default)": gi["category"].value_counts(),
              "normal p (ArcGIS)": gi_normal["category"].value_counts()}).fillna(0).astype(int)

# %% [markdown]
# ## Emerging hot spots (Gi* per week + Mann-Kendall trend)

# %%
eh = emerging.emerging_hot_spots(cm, periods=26)
eh["category"].value_counts().to_frame("cells") if len(eh) else "no cells with crime"

# %% [markdown]
# ## Near repeats (Knox test)
# Pairs of incidents by distance and days apart, against shuffled times. Ratio > 1 with a small p-value:
# more pairs close in space and time than chance would give.

# %%
kn = knox.knox(ev, space_edges=(0, 100, 400, 1000), time_edges=(0, 7, 14, 28), iterations=knox_iterations)
kn[["space_band", "time_band", "observed", "expected", "ratio", "p_value"]].round(3)

# %% [markdown]
# ## The patrol plan for next week
# The calendar week (Monday to Sunday) after the last week of data: top places by the KDE forecast, the stores in them, when crime
# happens there, and the method's measured accuracy, written as a table, an offline map and a briefing
# (PDF and PNG) with the security marking.

# %%
p = plan.patrol_plan(ev, stores, force_code=force_code, unit=unit, top=15)
outputs = briefing.plan_outputs(p, out_dir)
with store.writing():  # every product is audited, or deleted: a write connection just for the audit row
    exports.audit_export(store, "hotspots-plan", out_dir, {"source": "referrals", "force_code": force_code,
                         **{k: p.meta[k] for k in ("period_start", "period_end", "method", "unit")}},
                         files=outputs["files"])
print(p.meta["accuracy"])
print("wrote", outputs["map_html"], outputs["pdf"], outputs.get("png"))
p.cells[["rank", "label", "expected", "last_period", "stores_n"]].round(2)

# %%
p.profile

# %% [markdown]
# ## Explore: filters update the map, chart and table in place

# %%
from widgets.hotspot_explorer import HotspotExplorer

explorer = HotspotExplorer(store)
explorer.force.value = force_code
explorer.panel
