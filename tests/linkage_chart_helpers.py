"""A small hand-made network in the `Network` shape (workbench.linkage.network) for the chart/export tests.

Three people (one with a hostile name, one with a spreadsheet formula for a name, one ungraded), two
vehicles, four incidents in two forces over four months, two stores.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

EVIL = ('</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2; alert(1)">'
        'Evil & "Sons"')
FORMULA = '=HYPERLINK("http://evil.example/x","click me")'
EVIL_HEADER = "=cmd|' /C calc'!A0"
T = pd.Timestamp
NAN = float("nan")


@dataclass
class HandNetwork:
    nodes: pd.DataFrame
    edges: pd.DataFrame


def node(node_id, kind, label, force=None, first=None, last=None, grading=None, source_ref=None, group=None,
         lat=NAN, lon=NAN, **attrs):
    return {"node_id": node_id, "kind": kind, "entity_id": node_id.split(":", 1)[1], "label": label,
            "force_code": force, "first_seen": T(first) if first else pd.NaT,
            "last_seen": T(last or first) if (last or first) else pd.NaT, "group_id": group, "grading": grading,
            "source_ref": source_ref, "lat": lat, "lon": lon, "attrs": json.dumps(attrs)}


def edge(source, target, kind, first=None, last=None, weight=1, grading=None, source_ref=None):
    return {"source": source, "target": target, "kind": kind, "first_seen": T(first) if first else pd.NaT,
            "last_seen": T(last or first) if (last or first) else pd.NaT, "weight": weight, "grading": grading,
            "source_ref": source_ref}


def hand_network() -> HandNetwork:
    nodes = pd.DataFrame([
        node("P:RP0000001", "person", EVIL, "13", "2024-01-10", "2024-02-15", "B2P", "REF-1 row 2", "GR00001",
             dob="1990-03-12", roles=["lookout"]),
        node("P:RP0000002", "person", FORMULA, "06", "2024-02-15", "2024-03-20", "2BP; C3C", "REF-2 row 4; REF-7 row 9",
             "GR00001", dob="1985-11-02"),
        node("P:RP0000003", "person", "Jon Smyth", "06", "2024-04-25", None, None, "REF-9 row 1",
             gender=NAN),   # json.dumps writes NaN, which is not JSON: the chart must still load
        node("V:RV0000001", "vehicle", "AB12 CDE", None, "2024-01-10", None, "B2P", "REF-1 row 3", vrm="AB12CDE",
             make="Ford", colour="Blue"),
        node("V:RV0000002", "vehicle", "XY99 ZZZ", None, "2024-03-20", None, "C3C", "REF-7 row 10", vrm="XY99ZZZ"),
        node("I:101", "incident", "CN/101/24", "13", "2024-01-10 14:30", None, "B2P", "REF-1 row 2", lat=53.79,
             lon=-1.54, value=120.5),
        node("I:102", "incident", "CN/102/24", "13", "2024-02-15 10:00", None, "2BP", "REF-2 row 4", lat=53.80,
             lon=-1.55),
        node("I:103", "incident", "MP-103", "06", "2024-03-20 16:45", None, "C3C", "REF-7 row 9", lat=53.48,
             lon=-2.24),
        node("I:104", "incident", "MP-104", "06", "2024-04-25 09:15", None, None, "REF-9 row 1", lat=53.48,
             lon=-2.24),
        node("S:TST-1", "store", "Leeds Briggate", "13", None, None, None, "stores TST-1", lat=53.79, lon=-1.54,
             chain="TST"),
        node("S:TST-2", "store", "Manchester Arndale", "06", None, None, None, "stores TST-2", lat=53.48,
             lon=-2.24, chain="TST"),
    ])
    edges = pd.DataFrame([
        edge("P:RP0000001", "I:101", "involved", "2024-01-10", grading="B2P", source_ref="REF-1 row 2"),
        edge("P:RP0000001", "I:102", "involved", "2024-02-15", grading="2BP", source_ref="REF-2 row 4"),
        edge("P:RP0000002", "I:102", "involved", "2024-02-15", grading="2BP", source_ref="REF-2 row 4"),
        edge("P:RP0000002", "I:103", "involved", "2024-03-20", grading="C3C", source_ref="REF-7 row 9"),
        edge("P:RP0000003", "I:104", "involved", "2024-04-25", source_ref="REF-9 row 1"),
        edge("V:RV0000001", "I:101", "used", "2024-01-10", grading="B2P", source_ref="REF-1 row 3"),
        edge("V:RV0000002", "I:103", "used", "2024-03-20", grading="C3C", source_ref="REF-7 row 10"),
        edge("I:101", "S:TST-1", "at", "2024-01-10", source_ref="REF-1 row 2"),
        edge("I:102", "S:TST-1", "at", "2024-02-15", source_ref="REF-2 row 4"),
        edge("I:103", "S:TST-2", "at", "2024-03-20", source_ref="REF-7 row 9"),
        edge("I:104", "S:TST-2", "at", "2024-04-25", source_ref="REF-9 row 1"),
        edge("P:RP0000001", "P:RP0000002", "co_offended", "2024-02-15", weight=1, grading="2BP",
             source_ref="REF-2 row 4"),
        edge("P:RP0000001", "V:RV0000001", "travelled_in", "2024-01-10", weight=2, grading="B2P",
             source_ref="REF-1 row 3"),
    ])
    return HandNetwork(nodes, edges)


def expected_visible(net, force: str | None = None, since: str | None = None, until: str | None = None) -> set[str]:
    """The chart's documented filter rule, computed independently: an incident shows when its force is
    the one chosen and its date is inside the range; a person, vehicle or store with incidents shows when
    one of its incidents shows; one without incidents is filtered on its own force and dates."""
    nodes = net.nodes.set_index("node_id")

    def own(node_id):
        row = nodes.loc[node_id]
        if force and ((row.force_code and row.force_code != force) or (not row.force_code and row.kind == "incident")):
            return False
        first = row.first_seen if pd.notna(row.first_seen) else row.last_seen
        last = row.last_seen if pd.notna(row.last_seen) else row.first_seen
        if pd.notna(first) and until and first.normalize() > T(until):
            return False
        if pd.notna(last) and since and last.normalize() < T(since):
            return False
        return True

    incidents = {n for n in nodes.index if nodes.loc[n, "kind"] == "incident" and own(n)}
    shown = set(incidents)
    for node_id in nodes.index:
        if nodes.loc[node_id, "kind"] == "incident":
            continue
        touching = {e.target if e.source == node_id else e.source for e in net.edges.itertuples()
                    if node_id in (e.source, e.target)}
        linked = {n for n in touching if nodes.loc[n, "kind"] == "incident"}
        if (linked and linked & incidents) or (not linked and own(node_id)):
            shown.add(node_id)
    return shown
