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
# # 03 People, vehicles and groups
#
# Referrals name offenders and vehicles as each retailer or force wrote them: "JON TRAN", "Jonathan Tran",
# "J. Tran"; "KE17 GVW", "ke17gvw", a witness's "KE1...". Before Opal can say who offends together, and where,
# those mentions have to become **people** and **vehicles**. This notebook resolves the store's mentions, opens
# one link to see *why* the model made it, works the clerical **review queue** (the pairs the model could not
# settle) and records a decision, looks at **cloned plates**, finds the **groups** that offend together and
# explores their network, then exports a link chart. Every step is a library call; the same runs from the
# command line (`workbench link run|review|explain|decide|export`). Methods: `docs/linkage.md`.

# %% tags=["parameters"]
db_path = "../out/workbench.duckdb"    # the store (after `make demo`); this notebook writes linkage runs to it
out_dir = "../out/linkage/notebook"    # where the explanation chart and the link chart are written
review_limit = 10                      # pairs of the review queue shown
record_decision = False                # True: confirm the most uncertain pair (a real, audited decision in db_path)

# %%
from pathlib import Path

import pandas as pd

from workbench.linkage import groups, review, run, waterfall
from workbench.linkage.charts import write_link_chart
from workbench.linkage.network import build_network
from workbench.store import open_store

out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
store = open_store(db_path, read_only=True)   # others keep using it; writes happen inside store.writing()

# %% [markdown]
# ## Resolve persons and vehicles
# One run each (and groups on top): decisions made earlier are re-applied and ids are kept from the last run, so
# RP0000007 is the same person tomorrow. The person model is trained without labels on the mentions themselves.

# %%
with store.writing():                  # resolution stores its runs, ids and decisions
    results = run.run_all(store)
for r in results:
    print(f"{r['entity']}: {r['records']:,} -> {r['entities']:,} (run {r['run_id']}, changes {r['events'] or 'none'})")
run.status(store)

# %%
store.query("linkage/resolved_persons").query("status == 'active'").sort_values(
    "mentions", ascending=False).head(10)[["person_id", "display_name", "dob", "mentions", "first_seen", "last_seen"]]

# %% [markdown]
# ## The review queue: what the model could not settle
# Pairs whose match weight lies in the review band (below the automatic link, above the floor), not already one
# person and not yet decided, **most uncertain first** (match probability nearest 0.5). In **blind** mode the
# weight and probability are hidden, so the analyst decides on the attributes alone.

# %%
queue = review.review_queue(store, limit=review_limit)
print(f"{len(queue)} pairs shown")
queue[["rank", "mention_a", "mention_b", "match_weight", "match_probability", "full_name_a", "full_name_b",
       "dob_a", "dob_b", "location_a", "location_b"]]

# %%
review.blind_view(queue)[["rank", "mention_a", "mention_b", "full_name_a", "full_name_b", "dob_a", "dob_b"]].head(5)

# %% [markdown]
# ## Why? The explanation of one link, as a waterfall
# The prior (how likely two random mentions are one person), then each comparison's evidence for (up) or
# against (down), in log2 Bayes factors; the total decides. The same chart comes from
# `workbench link explain A B --chart why.html`, marked and audited.

# %%
first = queue.iloc[0] if len(queue) else None
if first is not None:
    a, b = int(first.mention_a), int(first.mention_b)
    table = run.explain(store, a, b)
    with store.writing():              # the export is audited
        written = waterfall.write_explanation_chart(store, a, b, out / "explanation.html", table=table)
    print(f"wrote {written['path']} ({written['bytes']:,} bytes), total match weight {written['total']:+.2f}")
    display(waterfall.waterfall_figure(table, title=f"Mentions {a} and {b}"))
    display(table)

# %% [markdown]
# ## A decision and its effect
# The analyst looks at the two mentions (same DOB, names that differ) and decides. A decision is stored with
# who, when and why, audited, and applied as a constraint on every later run: a confirmed pair is always one
# person, a rejected pair never is, not even through a third mention. The notebook records one only when
# `record_decision` is set (the parameters cell), because the decision is the analyst's, not the notebook's.

# %%
if record_decision and first is not None:
    with store.writing():
        decision_id = run.decide(store, "confirm", a, b,
                                 "notebook 03 demonstration: the most uncertain pair confirmed to show the effect")
        before = len(review.review_queue(store))
        run.run_persons(store)
    links = store.query("linkage/person_links").set_index("mention_id")["person_id"]
    print(f"decision {decision_id}: mentions {a} and {b} are now {links[a]} and {links[b]}; "
          f"{before:,} pairs left for review")
    assert links[a] == links[b]

# %% [markdown]
# ## Cloned plates and partial plates
# One plate seen with two makes, or in two places too far apart for the time between them, is flagged with its
# evidence. Partial plates that fit several vehicles wait in the vehicle review queue.

# %%
flags = store.query("linkage/vehicle_flags")
print(f"{len(flags)} cloned-plate flags on {flags.vrm.nunique()} plates")
flags.head(10)

# %%
review.review_queue(store, "vehicle", limit=review_limit)[["rank", "reason", "vrm_raw_a", "vrm_raw_b",
                                                             "vehicle_id_b", "location_a", "location_b"]]

# %% [markdown]
# ## Groups that offend together
# People seen at the same incidents form a co-offending network; communities in it (Leiden, modularity) that
# pass the thresholds are groups, with their brokers and key players.

# %%
found = groups.list_groups(store)
print(f"{len(found)} groups")
found.head(10)

# %%
group_id = found.group_id.iloc[0] if len(found) else None
if group_id is not None:
    detail = groups.group_detail(store, group_id)
    display(detail["members"])

# %% [markdown]
# ## Explore the network
# The explorer draws a group's (or everyone's) persons and vehicles; click a node to list its mentions below the
# graph, expand its neighbours (incidents, stores), filter by date and force, pick another group.

# %%
from widgets.network_explorer import NetworkExplorer

explorer = NetworkExplorer(store, group_id=group_id)
people = sorted(n for n in explorer.shown if n.startswith("P:"))
if people:
    explorer.select(people[0])
    explorer.expand()
print(explorer.state())
explorer.panel

# %% [markdown]
# ## Export a link chart
# The group's network as a self-contained offline HTML link chart (marked, audited); `workbench link export`
# also writes i2 ANX, GraphML and CSV.

# %%
network = build_network(store, group_id=group_id)
with store.writing():                  # the export is audited
    chart = write_link_chart(network, out / "link_chart.html", title=f"Group {group_id}" if group_id else "Everyone",
                             store=store, purpose="notebook 03 demonstration")
print(f"wrote {chart} ({Path(chart).stat().st_size:,} bytes): {len(network.nodes):,} nodes, {len(network.edges):,} links")

# %% [markdown]
# The store stays open (read-only) while you explore the network above; a writer elsewhere waits for it.
# `store.close()` when done.
