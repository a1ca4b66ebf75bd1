"""The link network (workbench.linkage.network) and groups (workbench.linkage.groups) on small stores filled by
hand: known persons, vehicles, incidents and referrals, so every count and edge can be stated exactly."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from workbench.errors import WorkbenchError
from workbench.linkage.network import EDGE_COLUMNS, NODE_COLUMNS, build_network
from workbench.store import open_store

SCRIPT = "<script>alert(1)</script> Smith"


# -- a small store -------------------------------------------------------------------------------------------
def _insert(con, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    con.register("_rows", frame)
    con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT {', '.join(frame.columns)} FROM _rows")
    con.unregister("_rows")


def tiny_store(path):
    """Persons A, B, C, D (RP0000001..4), vehicle RV0000001, incidents 1-5 at two stores in forces 13 and 20.
    A+B at 1, A+B+C at 2 (vehicle at 1 and 2), A alone at 3 (force 20), D alone at 4, C at 5 only through a
    superseded referral (so not linked to it in the network)."""
    store = open_store(path)
    con = store.con
    _insert(con, "retailers", [{"retailer_id": "TST", "name": "Test Mart", "sector": "supermarket"}])
    _insert(con, "stores", [
        {"store_id": "TST-1", "retailer_id": "TST", "store_ref": "1", "name": "Test Mart Leeds", "town": "Leeds",
         "latitude": 53.8, "longitude": -1.55, "force_code": "13"},
        {"store_id": "TST-2", "retailer_id": "TST", "store_ref": "2", "name": "=cmd|' /C calc'!A0", "town": "York",
         "latitude": 53.96, "longitude": -1.08, "force_code": "20"}])
    t0 = datetime(2025, 3, 1, 10, 0)
    incidents = [(1, "13", "TST-1", t0), (2, "13", "TST-1", t0 + timedelta(days=1)),
                 (3, "20", "TST-2", t0 + timedelta(days=2, hours=13)), (4, "13", "TST-1", t0 + timedelta(days=10)),
                 (5, "13", "TST-1", t0 + timedelta(days=11))]
    _insert(con, "incidents", [{"incident_id": i, "crime_number": f"CR{i}", "force_code": f, "store_id": s,
                                "occurred_at": t, "value_gbp": 100.0 * i} for i, f, s, t in incidents])
    # referral k covers incident k; referral 6 is a second, better graded referral of incident 2; referral 7 is
    # a superseded one of incident 5
    grades = {1: ("2", "B", "P"), 2: ("2", "C", "P"), 3: ("3", "B", "C"), 4: (None, None, None), 5: ("2", "B", "P"),
              6: ("1", "A", "P"), 7: ("1", "A", "P")}
    _insert(con, "referrals", [{"referral_id": k, "source_name": "test", "source_type": "other",
                                "source_ref": f"T-{k}", "source_row": k, "received_at": t0,
                                "is_current": k != 7, "source_evaluation": g[0], "intelligence_assessment": g[1],
                                "handling_code": g[2]} for k, g in grades.items()])
    _insert(con, "referral_incidents", [{"referral_id": k, "incident_id": {6: 2, 7: 5}.get(k, k)} for k in grades])
    mentions = [(101, 1, 1, "A"), (102, 1, 1, "B"), (103, 2, 2, "A"), (104, 2, 2, "B"), (105, 6, 2, "C"),
                (106, 3, 3, "A"), (107, 4, 4, "D"), (108, 7, 5, "C")]
    names = {"A": "Alan Archer", "B": SCRIPT, "C": "Cara Cole", "D": "Dan Dale"}
    _insert(con, "person_mentions", [{"mention_id": m, "referral_id": r, "incident_id": i, "role": "offender",
                                      "full_name": names[p]} for m, r, i, p in mentions])
    pid = {p: f"RP000000{k}" for k, p in enumerate("ABCD", start=1)}
    _insert(con, "resolved_persons", [{"person_id": pid[p], "status": "active", "display_name": names[p],
                                       "mentions": 1} for p in "ABCD"])
    _insert(con, "person_links", [{"mention_id": m, "person_id": pid[p], "run_id": 1, "joined_by": "model"}
                                  for m, _r, _i, p in mentions])
    _insert(con, "vehicle_mentions", [{"mention_id": 201, "referral_id": 1, "incident_id": 1, "vrm_raw": "ab12 cde",
                                       "vrm_norm": "AB12CDE"},
                                      {"mention_id": 202, "referral_id": 6, "incident_id": 2, "vrm_raw": "AB12CDE",
                                       "vrm_norm": "AB12CDE"}])
    _insert(con, "resolved_vehicles", [{"vehicle_id": "RV0000001", "status": "active", "vrm": "AB12CDE",
                                        "make": "Ford", "colour": "blue", "mentions": 2}])
    _insert(con, "vehicle_links", [{"mention_id": m, "vehicle_id": "RV0000001", "run_id": 2, "joined_by": "exact"}
                                   for m in (201, 202)])
    _insert(con, "incident_tactics", [{"incident_id": 2, "tactic_code": "FOIL", "referral_id": 2}])
    return store


@pytest.fixture
def tiny(tmp_path):
    with tiny_store(tmp_path / "tiny.duckdb") as store:
        yield store


def _edge(net, a, b):
    e = net.edges
    found = e[((e.source == a) & (e.target == b)) | ((e.source == b) & (e.target == a))]
    assert len(found) <= 1
    return None if found.empty else found.iloc[0]


# -- the network ---------------------------------------------------------------------------------------------
def test_network_nodes_and_edges(tiny):
    net = build_network(tiny)
    assert list(net.nodes.columns) == NODE_COLUMNS and list(net.edges.columns) == EDGE_COLUMNS
    assert net.nodes.node_id.is_unique
    kinds = net.nodes.groupby("kind").node_id.apply(set).to_dict()
    assert kinds["person"] == {"P:RP0000001", "P:RP0000002", "P:RP0000003", "P:RP0000004"}
    assert kinds["vehicle"] == {"V:RV0000001"}
    assert kinds["incident"] == {"I:1", "I:2", "I:3", "I:4", "I:5"}
    assert kinds["store"] == {"S:TST-1", "S:TST-2"}
    a, b, c = "P:RP0000001", "P:RP0000002", "P:RP0000003"
    assert _edge(net, a, b).weight == 2 and _edge(net, a, b).kind == "co_offended"
    assert _edge(net, a, c).weight == 1 and _edge(net, b, c).weight == 1
    assert _edge(net, a, "P:RP0000004") is None
    assert _edge(net, a, "V:RV0000001").weight == 2 and _edge(net, a, "V:RV0000001").kind == "travelled_in"
    assert _edge(net, c, "V:RV0000001").weight == 1
    assert _edge(net, c, "I:5") is None                            # C is there only in a superseded referral
    assert _edge(net, "I:3", "S:TST-2").kind == "at"
    co = net.edges[net.edges.kind == "co_offended"]
    assert (co.source < co.target).all() and len(co) == 3
    counts = net.edges.kind.value_counts().to_dict()
    assert counts == {"involved": 7, "used": 2, "at": 5, "co_offended": 3, "travelled_in": 3}
    assert _edge(net, a, b).first_seen == pd.Timestamp("2025-03-01 10:00")
    assert _edge(net, a, b).last_seen == pd.Timestamp("2025-03-02 10:00")


def test_network_gradings_sources_and_attrs(tiny):
    net = build_network(tiny).nodes.set_index("node_id")
    # incident 2 has referrals graded 2CP and 1AP: the most reliable is shown, both are kept
    assert net.loc["I:2", "grading"] == "1AP"
    assert json.loads(net.loc["I:2", "attrs"])["gradings"] == ["1AP", "2CP"]
    assert json.loads(net.loc["I:2", "attrs"])["tactics"] == ["FOIL"]
    assert net.loc["I:4", "grading"] is None or pd.isna(net.loc["I:4", "grading"])
    assert "test:T-2 row 2" in net.loc["I:2", "source_ref"] and "test:T-6 row 6" in net.loc["I:2", "source_ref"]
    assert net.loc["P:RP0000001", "grading"] == "2BP"             # referrals 1 (2BP), 2 (2CP), 3 (3BC)
    assert net.loc["P:RP0000001", "force_code"] == "13"
    assert net.loc["P:RP0000001", "first_seen"] == pd.Timestamp("2025-03-01 10:00")
    assert net.loc["P:RP0000001", "last_seen"] == pd.Timestamp("2025-03-03 23:00")
    assert json.loads(net.loc["V:RV0000001", "attrs"])["make"] == "Ford"
    assert net.loc["V:RV0000001", "label"] == "AB12CDE"
    assert json.loads(net.loc["S:TST-1", "attrs"])["chain"] == "Test Mart"
    assert net.loc["S:TST-1", "lat"] == pytest.approx(53.8)
    # labels are raw: escaping and formula neutralising are the renderers' and exporters' job
    assert net.loc["P:RP0000002", "label"] == SCRIPT
    assert net.loc["S:TST-2", "label"].startswith("=cmd|")


def test_network_filters(tiny):
    by_force = build_network(tiny, force_code="20")
    assert set(by_force.nodes.node_id) == {"P:RP0000001", "I:3", "S:TST-2"}
    # a bare `until` date includes the whole day: incident 3 is at 23:00 on 3 March
    dated = build_network(tiny, since="2025-03-02", until="2025-03-03")
    assert set(dated.of_kind("incident").node_id) == {"I:2", "I:3"}
    assert set(dated.of_kind("person").node_id) == {"P:RP0000001", "P:RP0000002", "P:RP0000003"}
    assert _edge(dated, "P:RP0000001", "P:RP0000002").weight == 1   # only incident 2 inside the dates
    one = build_network(tiny, person_ids=["RP0000003"])
    assert set(one.nodes.node_id) == {"P:RP0000003", "I:2", "V:RV0000001", "S:TST-1"}
    with pytest.raises(WorkbenchError, match="no resolved person 'RP9'"):
        build_network(tiny, person_ids=["RP9"])
    with pytest.raises(WorkbenchError, match="no active group"):
        build_network(tiny, group_id="GR99999")
    with pytest.raises(WorkbenchError, match="not a date"):
        build_network(tiny, since="yesterday-ish")
    with pytest.raises(WorkbenchError, match="since is after until"):
        build_network(tiny, since="2025-04-01", until="2025-03-01")


def test_subgraph_and_neighbours(tiny):
    net = build_network(tiny)
    sub = net.subgraph(["P:RP0000001", "P:RP0000002", "I:1", "nonsense"])
    assert set(sub.nodes.node_id) == {"P:RP0000001", "P:RP0000002", "I:1"}
    assert set(sub.edges.kind) == {"involved", "co_offended"} and len(sub.edges) == 3
    near = net.neighbours("P:RP0000004")
    assert set(near.nodes.node_id) == {"P:RP0000004", "I:4"}
    two = net.neighbours("P:RP0000004", depth=2)
    assert set(two.nodes.node_id) == {"P:RP0000004", "I:4", "S:TST-1"}
    assert set(net.neighbours("P:RP0000004", depth=0).nodes.node_id) == {"P:RP0000004"}
    with pytest.raises(WorkbenchError, match="no node"):
        net.neighbours("P:nobody")
    g = net.graph(edge_kinds=["co_offended"])
    assert g["P:RP0000001"]["P:RP0000002"]["weight"] == 2


def test_empty_store_gives_empty_network(tmp_path):
    with open_store(tmp_path / "empty.duckdb") as store:
        net = build_network(store)
    assert net.nodes.empty and net.edges.empty
    assert list(net.nodes.columns) == NODE_COLUMNS and list(net.edges.columns) == EDGE_COLUMNS
