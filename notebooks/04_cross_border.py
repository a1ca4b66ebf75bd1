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
# # 04 Cross-border: one group, several forces
#
# The case Opal exists for: a group works one chain's stores in one region and uses the same tactics in other
# force areas, while each force holds its own crime numbers and none knows the others are on the same group.
# This notebook follows the store's most cross-border group: **where** it goes and in what order (timeline,
# same-day runs feasible by road, route map), **which forces** hold crime numbers for it and how its runs cross
# their borders, **when** it works (day x hour), and **which force should lead**, with the reasons and the
# runner-up. Then it asks what no identifier can answer: which incidents elsewhere, with no name or plate,
# look like this group's work (**same MO, no shared name**), and which tactics are spreading nationally.
# Every step is a library call; the same runs from the command line (`workbench crossborder
# series|runs|flows|forces|lead|candidates|tactics|render`). Methods and their measured accuracy:
# `docs/crossborder.md`, `docs/performance.md`.

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"        # the store after `make demo` (groups: notebook 03 or `workbench link run`)
out_dir = "../out/crossborder/notebook"    # where the group's views and the tactic-trend map are written
group_id = None                            # a group id (GR00001...), or None: the group spanning most forces
top = 10                                   # candidates shown

# %%
import pandas as pd

from workbench import crossborder as xb
from workbench.crossborder import mo_linkage, trends, views
from workbench.errors import WorkbenchError
from workbench.store import open_store

store = open_store(db_path, read_only=True)   # others keep using it; the audited exports write inside store.writing()

# %% [markdown]
# ## Several forces on one group
# Every active group whose incidents lie in two or more force areas, most forces first: for each force, its
# incidents, crime numbers and referrals. This list is what tells several forces they are looking at one group.

# %%
several = xb.several_forces(store)
if several.empty:
    raise WorkbenchError("no group in this store spans two forces: find groups first (`workbench link run`)")
print(f"{len(several)} groups span two or more forces")
several[["group_id", "label", "forces", "force_codes", "incidents", "crime_numbers", "referrals"]].head(12)

# %%
group_id = group_id or several.group_id.iloc[0]
cb = xb.analyse(store, group_id)
names = views.force_labels(cb)
print(f"{group_id} ({cb.series.label}): {len(cb.series.incidents)} incidents in {cb.forces.force_code.notna().sum()} "
      f"forces, {len(cb.runs.runs)} runs, {len(cb.runs.skipped)} incidents without a time or place")
forces_hit = cb.forces.force_code.dropna().tolist()
one_force = len(forces_hit) <= 1       # a group inside one force: no border crossed, no flows, that force leads
if one_force:
    print(f"this group stays in one force ({', '.join(forces_hit) or 'no known force'}): no run crosses a border, "
          "so there are no flows, and the lead is that force")
xb.series_profile(cb.series.incidents).query("share >= 0.1")   # its signature: the tactics, goods and times it repeats

# %% [markdown]
# ## Where and when: the timeline
# One theme line per force (the force it reached first at the top), every incident at its time, the incidents of
# one same-day run joined; violent incidents ringed. Hover for the store, crime number and tactics.

# %%
views.timeline_figure(cb)

# %% [markdown]
# ## Runs: same-day chains feasible by road
# A run joins a day's incidents when each leg could be driven in the time between them (straight-line distance
# times a detour factor, under the national speed limit; `workbench/config/crossborder.yaml`). The route map
# draws every leg in the direction driven, with times, and the estimated home base (where runs start and end).

# %%
cb.runs.runs[["run_id", "date", "start_at", "end_at", "incidents", "force_path", "border_crossings", "road_km",
              "max_speed_kmh"]].tail(10)

# %%
from widgets.crossborder_explorer import offline_page

offline_page(views.route_map_html(cb))        # the marked offline page (assets inlined): it draws with no network

# %% [markdown]
# ## Force-to-force flows
# Legs of runs that cross a border, from force (rows) to force (columns), and the same as a Sankey: the forces
# that share this group's runs, and in which direction it travels.

# %%
views.flow_matrix_figure(cb.flows, names)

# %%
views.flow_sankey_figure(cb.flows, names)

# %% [markdown]
# ## When it works: day of week x hour
# Patrols and CCTV checks are planned for the hours the group is out.

# %%
views.day_hour_figure(cb.series.incidents)

# %% [markdown]
# ## Who should lead
# Each force affected scores the weighted sum of its shares: home base, offences, violence, value, juveniles
# (weights in the configuration). The recommendation comes with its reasons and the runner-up; the forces table
# is the handover list (who holds which crime numbers).

# %%
lead = xb.lead_summary(cb)
for role in ("recommended", "runner_up"):
    row = lead[role]
    if row:
        print(f"{role}: {row['force_code']} {row['force_name']} (score {row['score']:.2f}): {row['reasons']}")
home = lead["home_base"]
print(f"home base: near {home['town']} (force {home['force_code']})" if home else "home base: not estimated")
cb.forces[["force_code", "force_name", "incidents", "crime_numbers", "referrals", "violent", "juvenile_incidents",
           "value_gbp", "runs", "first_seen", "last_seen", "is_home"]]

# %% [markdown]
# ## Same MO, no shared name
# Offenders are often unidentified: a referral may carry only CCTV. A pair model scores two incidents on their
# tactics and goods, time of day, weekday, road time, days apart, chain, sector, number of offenders, vehicle use
# and violence; it is a logistic regression trained on the store's own linked incidents (two incidents of one
# resolved group are a linked pair), never on ground truth. First, the incidents in other forces that look most
# like this group's work, and the other groups with a like MO:

# %%
alike = mo_linkage.candidates(store, series_id=group_id, top=top)
print(f"trained on {alike.training}")
alike.incidents[["rank", "incident_id", "score", "occurred_at", "force_code", "store_name", "tactics", "group_id",
                 "agrees"]]

# %%
alike.groups[["rank", "group_id", "label", "score", "agrees", "nearest"]]

# %% [markdown]
# The model is interpretable: each coefficient is the change in log-odds of "same offenders" per standard
# deviation of a feature.

# %%
alike.coefficients

# %% [markdown]
# Now the other way round: take a look-alike incident no name or plate ties to any group and ask which groups in
# other forces are most likely its offenders, with the features that agree and the nearest linked incidents.

# %%
unnamed = alike.incidents[alike.incidents.group_id.isna()]           # no name or plate ties it to any group
lead_incident = int(unnamed.incident_id.iloc[0]) if len(unnamed) else None
if lead_incident is not None:
    found = mo_linkage.candidates(store, incident_id=lead_incident, top=top)
    ranked = list(found.groups.group_id)
    print(f"incident {lead_incident}: {group_id} ranks "
          + (f"{ranked.index(group_id) + 1} of {len(ranked)}" if group_id in ranked else f"outside the top {top}"))
    display(found.groups[["rank", "group_id", "label", "score", "agrees", "nearest"]])
else:
    print("every look-alike incident is already tied to a group by a name or a plate")

# %% [markdown]
# Incidents no group is tied to can also form a likely series on their own: incidents with one set of methods,
# close in time, joined when their pair score is high. Single linkage chains look-alikes: a cluster spanning
# many forces is a tactic in common use, not one crew, until runs or a name say otherwise.

# %%
clusters = mo_linkage.unlinked_series(store)
print(f"{len(clusters)} likely series among unlinked incidents")
clusters[["series_id", "incidents", "forces", "first_seen", "last_seen", "methods", "goods", "mean_score"]].head(10)

# %% [markdown]
# ## Tactic trends
# Per tactic: where and when it was first seen, how it spread across forces month by month, and whether it is
# rising nationally (Mann-Kendall on its share of each month's incidents, Sen slope, false discovery rate
# corrected). The lines count the forces that have seen each tactic so far; the small multiples shade each force
# by the month the tactic was first seen there.

# %%
spread = trends.tactic_trends(store)
print(f"{len(spread.trends)} tactics, {int(spread.trends.rising.sum())} rising nationally ({spread.method})")
spread.trends[["tactic_code", "name", "incidents", "forces", "first_month", "first_force_name", "trend",
               "sen_slope_per_year", "q_value", "rising"]].head(12)

# %%
views.tactic_spread_figure(spread)

# %%
views.tactic_spread_maps(spread)

# %% [markdown]
# ## Products for the forces
# The same views as marked, self-contained files (timeline, route map, flows, day x hour, lead-force
# recommendation) and the national tactic-trend map, each audited: what `workbench crossborder render` writes.

# %%
with store.writing():                  # the exports are audited
    written = {} if one_force else views.render_group(store, group_id, out_dir, purpose="notebook 04 demonstration",
                                                      cb=cb)
    written.update(views.render_tactics(store, out_dir, purpose="notebook 04 demonstration", trends=spread))
if one_force:
    print(f"{group_id} stays in one force: its cross-border views are not written (`workbench crossborder runs` "
          "and `lead` still describe it)")
pd.DataFrame({"view": list(written), "path": list(written.values())})

# %% [markdown]
# ## Explore
# Pick a group: its summary, forces table, timeline, route map, flows and day x hour update in place. Type or pick
# an incident id: its MO candidates, with why. "look-alikes of the group" lists the incidents elsewhere that look
# like its work and offers them in the incident picker.

# %%
from widgets.crossborder_explorer import CrossBorderExplorer

explorer = CrossBorderExplorer(store, group_id=group_id, top=top)
if lead_incident is not None:
    explorer.pick_incident(lead_incident)
print(explorer.state())
explorer.panel

# %% [markdown]
# The store stays open (read-only) while you explore; a writer elsewhere waits for it. `store.close()` when done.
