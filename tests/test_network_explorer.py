"""The NetworkExplorer widget (widgets/network_explorer.py) over a small resolved store: what it shows is the
library's Network (build_network, neighbours), a click lists the node's mentions (node_mentions) in an escaped
table, expanding adds exactly the neighbours, the force and date filters and the group picker rebuild the network,
and a name written with <script> is handed to sigma.js as raw text and shown escaped in the table."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.review_fixtures import HOSTILE_FORENAME, copy_of, review_store
from workbench.errors import WorkbenchError
from workbench.linkage.network import build_network
from workbench.linkage.review import node_mentions
from workbench.store import open_store


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return review_store(tmp_path_factory.mktemp("explorer"))


@pytest.fixture
def store(built, tmp_path):
    with open_store(copy_of(built, tmp_path)) as s:
        yield s


def _person_of(store, mention_id) -> str:
    return store.sql("SELECT person_id FROM person_links WHERE mention_id = $m", {"m": mention_id}).person_id.iloc[0]


def test_shows_the_networks_persons_and_vehicles_with_their_links(store):
    from widgets.network_explorer import NetworkExplorer

    x = NetworkExplorer(store)
    net = build_network(store)
    people_and_vehicles = set(net.nodes.loc[net.nodes.kind.isin(["person", "vehicle"]), "node_id"])
    assert x.shown == people_and_vehicles and len(x.shown) > 40
    g = x.graph()
    assert set(g.nodes) == people_and_vehicles
    expected = net.subgraph(people_and_vehicles).edges
    assert g.number_of_edges() == len(expected)
    assert x.sigma is not None and x.graph_box.children == (x.sigma,)
    x.view.value = "with incidents and stores"
    assert x.shown == set(net.nodes.node_id)


def test_click_lists_the_mentions_escaped_and_labels_stay_raw_text(built, store):
    from widgets.network_explorer import NetworkExplorer

    x = NetworkExplorer(store)
    node = "P:" + _person_of(store, built["ids"]["H1"])
    assert x.graph().nodes[node]["label"].startswith(HOSTILE_FORENAME)   # raw: sigma.js draws it as text
    x.sigma.selected_node = node                                          # what a click in the graph sets
    assert x.selected == node and not x.expand_button.disabled
    assert list(x.mentions.mention_id) == [built["ids"]["H1"]]
    html = x.mentions_html.value
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=cmd|" in html                                               # shown as written (not a spreadsheet)


def test_node_mentions_of_persons_vehicles_and_incidents(built, store):
    ids = built["ids"]
    person = _person_of(store, ids["C1"])
    mine = node_mentions(store, f"P:{person}")
    expected = set(store.sql("SELECT mention_id FROM person_links WHERE person_id = $p", {"p": person}).mention_id)
    assert set(mine.mention_id) == expected and (mine.kind == "person").all()
    assert mine.occurred_at.is_monotonic_decreasing
    vehicle = store.sql("SELECT vehicle_id FROM vehicle_links WHERE mention_id = $m", {"m": ids["V3"]}).vehicle_id.iloc[0]
    assert set(node_mentions(store, f"V:{vehicle}").mention_id) == set(store.sql(
        "SELECT mention_id FROM vehicle_links WHERE vehicle_id = $v", {"v": vehicle}).mention_id)
    incident = int(store.sql("SELECT incident_id FROM person_mentions WHERE mention_id = $m",
                             {"m": ids["C1"]}).incident_id.iloc[0])
    assert list(node_mentions(store, f"I:{incident}").mention_id) == [ids["C1"]]
    for bad, message in (("RP1", "not a network node id"), ("P:RP9999999", "no person"), ("I:x", "whole number")):
        with pytest.raises(WorkbenchError, match=message):
            node_mentions(store, bad)


def test_expand_adds_exactly_the_neighbours(built, store):
    from widgets.network_explorer import NetworkExplorer

    x = NetworkExplorer(store)
    node = "P:" + _person_of(store, built["ids"]["C4"])
    before = set(x.shown)
    x.select(node)
    x.expand()
    neighbours = set(x.full.neighbours(node, depth=1).nodes.node_id)
    assert x.shown == before | neighbours and any(n.startswith("I:") for n in x.shown - before)
    assert set(x.graph().nodes) == x.shown
    x.reset_button.click()
    assert x.shown == before


def test_force_and_date_filters_rebuild_the_network(store):
    from widgets.network_explorer import NetworkExplorer

    x = NetworkExplorer(store)
    everything = len(x.full.nodes)
    assert [v for _, v in x.force.options][1:] == ["13"]           # the fixture's incidents are all force 13
    x.since.value = date(2025, 6, 1)
    incidents = x.full.nodes[x.full.nodes.kind == "incident"]
    assert 0 < len(x.full.nodes) < everything
    assert (pd.to_datetime(incidents.first_seen) >= pd.Timestamp("2025-06-01")).all()
    expected = build_network(store, since=date(2025, 6, 1))
    assert set(x.full.nodes.node_id) == set(expected.nodes.node_id)
    # a selected person's mentions are those inside the filter
    node = next(n for n in sorted(x.shown) if n.startswith("P:"))
    x.select(node)
    assert (pd.to_datetime(x.mentions.occurred_at) >= pd.Timestamp("2025-06-01")).all()
    assert len(x.mentions) <= len(node_mentions(store, node))
    x.until.value = date(2025, 5, 1)                                 # since after until: one line, nothing drawn
    assert "since is after until" in x.status.value and x.shown == set() and x.sigma is None


def test_group_picker_shows_one_group(store, built):
    from widgets.network_explorer import NetworkExplorer
    from workbench.linkage import groups, load_settings

    groups.find_groups(store, load_settings(built["settings"]))
    listed = groups.list_groups(store)
    x = NetworkExplorer(store)
    assert [v for _, v in x.group.options][1:] == list(listed.group_id)
    if listed.empty:
        pytest.skip("no co-offending group in this small store")
    gid = listed.group_id.iloc[0]
    x.group.value = gid
    members = set(groups.group_detail(store, gid)["members"].person_id)
    assert {n[2:] for n in x.shown if n.startswith("P:")} == members
    with pytest.raises(WorkbenchError, match="no active group"):
        NetworkExplorer(store, group_id="GR99999")
