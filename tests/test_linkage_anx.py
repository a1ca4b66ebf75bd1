"""i2 ANX export of a Network (workbench.linkage.anx, written with anxwritter): parsed back as XML."""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from tests.linkage_chart_helpers import EVIL, FORMULA, hand_network
from workbench import config
from workbench.errors import WorkbenchError
from workbench.linkage import anx

REPRESENTATIONS = {"Icon": "IconStyle", "Theme": "ThemeStyle", "Event": "EventStyle"}


def read_chart(path):
    raw = path.read_bytes()
    root = ET.fromstring(raw)          # UTF-16 with its declaration: a parse failure fails the test
    grades = {tag: [s.get("Text") for s in root.find(tag).iter("String")]
              for tag in ("GradeOne", "GradeTwo", "GradeThree")}
    entity_types = {e.get("Name"): e.get("IconFile") for e in root.iter("EntityType")}
    ids = {}
    entities, links = {}, []
    for item in root.find("ChartItemCollection"):
        entity = item.find("End/Entity")
        attrs = {a.get("AttributeClass"): a.get("Value") for a in item.iter("Attribute")}
        if entity is not None:
            representation = next(child.tag for child in entity if child.tag in REPRESENTATIONS)
            style = entity.find(f"{representation}/{REPRESENTATIONS[representation]}")
            ids[entity.get("EntityId")] = entity.get("Identity")
            entities[entity.get("Identity")] = {
                "label": item.get("Label"), "representation": representation, "type": style.get("Type"),
                "date": item.get("DateTime"), "x": item.find("End").get("X"), "attrs": attrs,
                "cards": [c.attrib for c in entity.iter("Card")], "item": item.attrib}
        else:
            link = item.find("Link")
            links.append({"ends": (link.get("End1Id"), link.get("End2Id")), "type": link.find("LinkStyle").get("Type"),
                          "date": item.get("DateTime"), "label": item.get("Label"), "attrs": attrs,
                          "cards": [c.attrib for c in link.iter("Card")], "item": item.attrib})
    for link in links:
        link["ends"] = tuple(ids[e] for e in link["ends"])
    summary = {f.get("Type"): f.get("Field") for f in root.iter("Field")}
    custom = {p.get("Name"): p.get("Value") for p in root.iter("CustomProperty")}
    return {"root": root, "raw": raw, "grades": grades, "entity_types": entity_types, "entities": entities,
            "links": links, "summary": summary, "custom": custom}


def grade_text(chart, card):
    return tuple(chart["grades"][tag][int(card[f"{tag}Index"])] for tag in ("GradeOne", "GradeTwo", "GradeThree"))


def test_link_chart_entities_links_cards(tmp_path, tmp_store):
    net = hand_network()
    out = anx.write_anx(net, tmp_path / "group.anx", title="Group GR00001", store=tmp_store, purpose="to WYP")
    chart = read_chart(out)
    kinds = dict(zip(net.nodes.node_id, net.nodes.kind))
    # one entity per node, typed by kind, with the ANB icon types
    assert set(chart["entities"]) == set(net.nodes.node_id)
    assert {i: e["type"] for i, e in chart["entities"].items()} == {i: anx.ENTITY_TYPES[k][0] for i, k in kinds.items()}
    assert all(e["representation"] == "Icon" for e in chart["entities"].values())
    assert chart["entity_types"] == {"Person": "Person", "Vehicle": "Car", "Location": "Building", "Event": "Event"}
    # one link per edge, typed and dated
    got = sorted((l["ends"], l["type"], l["date"][:10]) for l in chart["links"])
    want = sorted(((s, t), anx.LINK_TYPES[k], f.strftime("%Y-%m-%d"))
                  for s, t, k, f in zip(net.edges.source, net.edges.target, net.edges.kind, net.edges.first_seen))
    assert got == want
    travelled = next(l for l in chart["links"] if l["type"] == "Travelled in")
    assert travelled["attrs"]["Times"] == "2" and travelled["label"] == "Travelled in (2)"
    # every item has a card with its source reference and its 3x5x2 grading
    items = list(chart["entities"].values()) + chart["links"]
    assert all(item["cards"] for item in items)
    assert all(card.get("SourceReference") for item in items for card in item["cards"])
    evil = chart["entities"]["P:RP0000001"]
    (card,) = evil["cards"]
    assert grade_text(chart, card) == ("2 Untested", "B Known indirectly but corroborated", "P Lawful sharing permitted")
    assert card["SourceReference"] == "REF-1 row 2" and card["DateTime"].startswith("2024-01-10")
    assert grade_text(chart, evil["item"]) == grade_text(chart, card)
    # two gradings with two sources: one card each, paired in order
    formula = chart["entities"]["P:RP0000002"]
    assert [(grade_text(chart, c)[0][0] + grade_text(chart, c)[1][0] + grade_text(chart, c)[2][0], c["SourceReference"])
            for c in formula["cards"]] == [("2BP", "REF-2 row 4"), ("3CC", "REF-7 row 9")]
    # an ungraded item says so and points at the '-' grades
    (ungraded,) = chart["entities"]["P:RP0000003"]["cards"]
    assert ungraded["Text"] == "not graded" and grade_text(chart, ungraded) == ("-", "-", "-")
    assert chart["entities"]["I:101"]["date"] == "2024-01-10T14:30:00.000"
    assert chart["entities"]["V:RV0000001"]["attrs"]["Vrm"] == "AB12CDE"
    assert chart["entities"]["P:RP0000001"]["attrs"]["Force"] == "13 West Yorkshire"
    # marked and audited
    marking = config.security_marking()
    assert chart["custom"]["Security marking"] == marking and chart["summary"]["SummaryFieldKeywords"] == marking
    assert chart["summary"]["SummaryFieldTitle"] == "Group GR00001"
    (obj, details), = [(o, json.loads(d)) for o, d in tmp_store.con.execute(
        "SELECT object, details FROM audit_log WHERE action = 'link-anx'").fetchall()]
    assert obj == str(out) and details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert details["purpose"] == "to WYP" and details["marking"] == marking and details["format"] == "anx"


def test_hostile_text_is_data_not_markup(tmp_path, tmp_store):
    net = hand_network()
    control = "Bad\x01name\x0bwith controls"
    net.nodes.loc[net.nodes.node_id == "P:RP0000003", "label"] = control
    net.nodes.loc[net.nodes.node_id == "P:RP0000003", "source_ref"] = '"/><Entity Identity="X'
    out = anx.write_anx(net, tmp_path / "c.anx", store=tmp_store)
    chart = read_chart(out)
    assert chart["entities"]["P:RP0000001"]["label"] == EVIL
    assert chart["entities"]["P:RP0000002"]["label"] == FORMULA
    assert chart["entities"]["P:RP0000003"]["label"] == "Bad\ufffdname\ufffdwith controls"
    assert chart["entities"]["P:RP0000003"]["cards"][0]["SourceReference"] == '"/><Entity Identity="X'
    assert len(chart["entities"]) == len(net.nodes) and "X" not in chart["entities"]
    text = chart["raw"].decode("utf-16")
    assert "<script>" not in text and "<img" not in text and "&lt;script&gt;" in text
    assert {el.tag for el in chart["root"].iter()} & {"script", "img"} == set()


def test_timeline_theme_lines_and_event_frames(tmp_path, tmp_store):
    net = hand_network()
    out = anx.write_anx(net, tmp_path / "t.anx", timeline=True, store=tmp_store)
    chart = read_chart(out)
    people = set(net.nodes.node_id[net.nodes.kind == "person"])
    incidents = net.nodes[net.nodes.kind == "incident"]
    themes = {i for i, e in chart["entities"].items() if e["representation"] == "Theme"}
    frames = {i: e for i, e in chart["entities"].items() if e["representation"] == "Event"}
    assert themes == people and set(frames) == set(incidents.node_id)
    assert not [i for i in chart["entities"] if i.startswith("S:")]          # stores are attributes here
    assert frames["I:101"]["attrs"]["Store"] == "Leeds Briggate"
    # event frames left to right in date order
    order = [i for i, _ in sorted(frames.items(), key=lambda kv: int(kv[1]["x"]))]
    assert order == list(incidents.sort_values("first_seen").node_id)
    assert all(frames[i]["cards"] and frames[i]["cards"][0].get("SourceReference") for i in frames)
    # offenders wired to their incidents, vehicles to theirs; no co-offending or store links
    involved = {l["ends"] for l in chart["links"] if l["type"] == "Involved in"}
    assert involved == set(zip(net.edges.source[net.edges.kind == "involved"],
                               net.edges.target[net.edges.kind == "involved"]))
    assert {l["type"] for l in chart["links"]} == {"Involved in", "Used in", "Travelled in"}
    details = json.loads(tmp_store.con.execute(
        "SELECT details FROM audit_log WHERE action = 'link-anx'").fetchone()[0])
    assert details["format"] == "anx-timeline"


@pytest.mark.parametrize("text,expected", [("B2P", (1, 1, 0)), ("2BP", (1, 1, 0)), ("2/b/c", (1, 1, 1)),
                                           ("A1P", (0, 0, 0)), ("E3C", (2, 4, 1)), (" c3c ", (2, 2, 1)),
                                           ("B4P", None), ("F2P", None), ("B2X", None), ("", None), (None, None),
                                           ("B2PP", None)])
def test_parse_grading(text, expected):
    assert anx.parse_grading(text) == expected


def test_unrecognised_grading_is_kept_as_text(tmp_path, tmp_store):
    net = hand_network()
    net.nodes.loc[net.nodes.node_id == "P:RP0000003", "grading"] = "5x5x5 B24"
    chart = read_chart(anx.write_anx(net, tmp_path / "c.anx", store=tmp_store))
    (card,) = chart["entities"]["P:RP0000003"]["cards"]
    assert card["Text"] == "grading 5x5x5 B24 (not a 3x5x2 grading)" and grade_text(chart, card) == ("-", "-", "-")


def test_bad_outputs_are_refused(tmp_path, tmp_store):
    with pytest.raises(WorkbenchError, match=r"\.anx"):
        anx.write_anx(hand_network(), tmp_path / "c.xml", store=tmp_store)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkbenchError, match="is a file"):
        anx.write_anx(hand_network(), blocker / "c.anx", store=tmp_store)


def test_real_store_network_exports(tmp_path):
    """A network built by build_network on a small store: every node an entity, graded cards from its referrals."""
    from tests.test_linkage_groups import SCRIPT, tiny_store
    from workbench.linkage.network import build_network

    with tiny_store(tmp_path / "tiny.duckdb") as store:
        net = build_network(store)
        out = anx.write_anx(net, tmp_path / "net.anx", store=store)
        chart = read_chart(out)
        timeline = read_chart(anx.write_anx(net, tmp_path / "timeline.anx", timeline=True, store=store))
        audited = store.con.execute("SELECT count(*) FROM audit_log WHERE action = 'link-anx'").fetchone()[0]
    assert set(chart["entities"]) == set(net.nodes.node_id) and len(chart["links"]) == len(net.edges)
    labels = {e["label"] for e in chart["entities"].values()}
    assert SCRIPT in labels
    for row in net.nodes.itertuples():
        cards = chart["entities"][row.node_id]["cards"]
        expected = row.source_ref if isinstance(row.source_ref, str) else f"workbench store {row.entity_id}"
        assert cards and cards[0]["SourceReference"] == expected
        if isinstance(row.grading, str):
            g = grade_text(chart, cards[0])
            assert sorted(g[0][0] + g[1][0] + g[2][0]) == sorted(row.grading)
    vehicle = net.nodes.set_index("node_id").loc["V:RV0000001"]
    assert chart["entities"]["V:RV0000001"]["cards"][0]["Text"] == (
        f"3x5x2 grading {vehicle.grading}; all gradings of its referrals: "
        + ", ".join([vehicle.grading] + [g for g in json.loads(vehicle["attrs"])["gradings"] if g != vehicle.grading]))
    people = set(net.nodes.node_id[net.nodes.kind == "person"])
    assert {i for i, e in timeline["entities"].items() if e["representation"] == "Theme"} == people
    assert audited == 2
