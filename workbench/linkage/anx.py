"""i2 Analyst's Notebook exchange (ANX) export of a Network, written with the registry package anxwritter (MIT).

`write_anx(network, path)` writes a link chart: persons as Person icons, vehicles as Vehicle icons, stores
as Location icons and incidents as Event icons (entity types with ANB icon files "Person", "Car",
"Building" and "Event"), and one link per network edge with its type ("Involved in", "Used in",
"At", "Co-offended with", "Travelled in"), its first date and its weight.

`write_anx(network, path, timeline=True)` writes the timeline variant: one theme line per offender
(person), one event frame per incident (dated; its store as an attribute), vehicles as icons; offenders
are wired to the incidents they were involved in, vehicles to the incidents they were used in, and the
event frames are placed left to right by date.

Every entity and link carries at least one card with its 3x5x2 grading (GradeOne = source evaluation
1-3, GradeTwo = intelligence assessment A-E, GradeThree = handling code P/C, as chart-level grade lists)
and its source reference; the item itself carries the first grading. A network grading is read as
"B2P" or "2BP" (letter, digit, handling code in either order; several separated by ';' or ','): one
card per grading, paired with the source references when they are as many. An ungraded item's card
says so ('-' grades). The configured security marking is in the chart summary (keywords, category,
comments) and a custom property. All text is written by anxwritter's XML builder (escaped); characters
XML cannot hold are replaced by U+FFFD first. The file is audited like every export.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import config, exports
from workbench.errors import WorkbenchError
from workbench.linkage.charts import attrs_of, audit, day, frames, missing, text

SOURCE_EVALUATION = ("1 Reliable", "2 Untested", "3 Not reliable")
INTELLIGENCE_ASSESSMENT = ("A Known directly to the source", "B Known indirectly but corroborated",
                           "C Known indirectly", "D Not known", "E Suspected to be false or malicious")
HANDLING_CODE = ("P Lawful sharing permitted", "C Lawful sharing permitted with conditions")
ENTITY_TYPES = {  # node kind -> (ANB entity type, ANB icon file)
    "person": ("Person", "Person"),
    "vehicle": ("Vehicle", "Car"),
    "store": ("Location", "Building"),
    "incident": ("Event", "Event"),
}
LINK_TYPES = {"involved": "Involved in", "used": "Used in", "at": "At", "co_offended": "Co-offended with",
              "travelled_in": "Travelled in"}
ANX_SUFFIXES = (".anx",)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_GRADE_LETTER_FIRST = re.compile(r"^([A-E])([1-3])([PC])$")
_GRADE_DIGIT_FIRST = re.compile(r"^([1-3])([A-E])([PC])$")
_SPLIT = re.compile(r"\s*[;,|]\s*")
TIMELINE_DAY_WIDTH = 40     # canvas units per day between event frames on the timeline


def xml_text(value: Any) -> str | None:
    """Text for the XML (None when missing): characters XML 1.0 cannot hold become U+FFFD."""
    value = text(value)
    return None if value is None else _XML_ILLEGAL.sub("\ufffd", value)


def parse_grading(value: Any) -> tuple[int, int, int] | None:
    """One 3x5x2 grading ("B2P", "2BP", "2/B/P") as 0-based indexes (source, assessment, handling)."""
    raw = text(value)
    if not raw:
        return None
    compact = re.sub(r"[\s/\-.]", "", raw.upper())
    match = _GRADE_LETTER_FIRST.match(compact)
    if match:
        letter, digit, handling = match.groups()
    else:
        match = _GRADE_DIGIT_FIRST.match(compact)
        if not match:
            return None
        digit, letter, handling = match.groups()
    return int(digit) - 1, "ABCDE".index(letter), "PC".index(handling)


def gradings(value: Any) -> list[tuple[str, tuple[int, int, int] | None]]:
    """Each grading in a network cell with its parsed indexes (None when it is not a 3x5x2 grading)."""
    raw = text(value)
    if not raw or not raw.strip():
        return []
    return [(part, parse_grading(part)) for part in _SPLIT.split(raw.strip()) if part]


def source_of(item: dict) -> str:
    """An item's source reference: the referrals behind it, or (a store, known from the store list only)
    the workbench record it comes from."""
    source = xml_text(item.get("source_ref"))
    if source:
        return source
    if "node_id" in item:
        return f"workbench {item.get('kind')} {xml_text(item.get('entity_id')) or xml_text(item['node_id'])}"
    return f"workbench {item.get('kind')} link {xml_text(item.get('source'))} - {xml_text(item.get('target'))}"


def cards(item: dict, summary: str) -> list:
    """The cards of one entity or link: its grading(s), source reference(s) and date."""
    from anxwritter import Card

    grades = gradings(item.get("grading"))
    source = source_of(item)
    refs = [r for r in _SPLIT.split(source) if r] if source else []
    when = day(item.get("first_seen"))
    out = []
    if not grades:
        return [Card(summary=summary, date=when, source_ref=source, description="not graded")]
    paired = len(grades) == len(refs) and len(grades) > 1
    for n, (raw, parsed) in enumerate(grades):
        ref = refs[n] if paired else source
        description = f"3x5x2 grading {xml_text(raw)}"
        if parsed is None:
            description = f"grading {xml_text(raw)} (not a 3x5x2 grading)"
        every = [str(g) for g in attrs_of(item.get("attrs")).get("gradings") or [] if str(g) != raw]
        if every and n == 0:
            description += f"; all gradings of its referrals: {xml_text(', '.join([raw] + every))}"
        card = Card(summary=summary, date=when, source_ref=ref, description=description)
        if parsed is not None:
            card.grade_one, card.grade_two, card.grade_three = parsed
        out.append(card)
    return out


def _item_grades(item: dict) -> dict:
    parsed = next((p for _, p in gradings(item.get("grading")) if p is not None), None)
    if parsed is None:
        return {}
    return dict(zip(("grade_one", "grade_two", "grade_three"), parsed))


def _attributes(node: dict, names: dict[str, str]) -> dict:
    out = {}
    for key, label in (("entity_id", "Id"), ("force_code", "Force"), ("group_id", "Group")):
        value = xml_text(node.get(key))
        if value:
            out[label] = value
    if out.get("Force") in names:
        out["Force"] = f"{out['Force']} {names[out['Force']]}"
    for key, value in attrs_of(node.get("attrs")).items():
        name = xml_text(key)
        if not name or missing(value) or _missing_text(value):
            continue
        name = name.replace("_", " ").strip().capitalize()[:60] or "Extra"
        out[name] = xml_text(value if not isinstance(value, (list, dict)) else
                             ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return out


def _missing_text(value) -> bool:
    """A missing time written as text upstream (pandas' "NaT", e.g. the network's DOB of a person whose DOB is
    unknown, str()-ed into its attrs): no attribute rather than a Dob reading "NaT"."""
    return isinstance(value, str) and value.strip() == "NaT"


def _time(value) -> str | None:
    if missing(value):
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) or (stamp.hour, stamp.minute, stamp.second) == (0, 0, 0) else stamp.strftime("%H:%M:%S")


def build_chart(network, *, timeline: bool = False, title: str | None = None):
    """The anxwritter ANXChart of `network` (see the module docstring)."""
    from anxwritter import ANXChart, EntityType, EventFrame, GradeCollection, Icon, Link, LinkType, ThemeLine
    from anxwritter.models import CustomProperty, Settings, SummaryCfg

    from workbench.linkage.charts import force_names

    nodes, edges = frames(network)
    marking = config.security_marking()
    settings = Settings(summary=SummaryCfg(
        title=xml_text(title) or ("Timeline" if timeline else "Link chart"), keywords=marking, category=marking,
        comments=f"{marking}. Exported by Pegasus Workbench; gradings are 3x5x2 (source, intelligence, handling).",
        custom_properties=[CustomProperty(name="Security marking", value=marking)]))
    chart = ANXChart(settings=settings)
    chart.grades_one = GradeCollection(items=list(SOURCE_EVALUATION))
    chart.grades_two = GradeCollection(items=list(INTELLIGENCE_ASSESSMENT))
    chart.grades_three = GradeCollection(items=list(HANDLING_CODE))
    for type_name, icon in ENTITY_TYPES.values():
        chart.add_entity_type(EntityType(name=type_name, icon_file=icon))
    for link_name in LINK_TYPES.values():
        chart.add_link_type(LinkType(name=link_name))
    names = force_names()
    node_rows = nodes.to_dict(orient="records")
    kinds = {str(n["node_id"]): n["kind"] for n in node_rows}
    store_of: dict[str, str] = {}
    if timeline:
        labels = {str(n["node_id"]): xml_text(n["label"]) for n in node_rows}
        for e in edges.to_dict(orient="records"):
            if e["kind"] == "at" and kinds.get(str(e["target"])) == "store":
                store_of[str(e["source"])] = labels.get(str(e["target"])) or str(e["target"])
        dated = sorted(d for n in node_rows if n["kind"] == "incident" for d in [day(n["first_seen"])] if d)
        origin = pd.Timestamp(dated[0]) if dated else None
    for node in node_rows:
        node_id, kind = str(node["node_id"]), node["kind"]
        type_name, _ = ENTITY_TYPES[kind]
        label = xml_text(node["label"]) or node_id
        common = dict(id=node_id, type=type_name, label=label, date=day(node["first_seen"]),
                      time=_time(node["first_seen"]) if kind == "incident" else None,
                      attributes=_attributes(node, names), cards=cards(node, f"{type_name}: {label}"),
                      source_ref=source_of(node), **_item_grades(node))
        if timeline and kind == "store":
            continue        # on the timeline a store is its incidents' attribute
        if timeline and kind == "person":
            chart.add(ThemeLine(**common))
        elif timeline and kind == "incident":
            if node_id in store_of:
                common["attributes"]["Store"] = store_of[node_id]
            when = day(node["first_seen"])
            x = int((pd.Timestamp(when) - origin).days * TIMELINE_DAY_WIDTH) if when and origin is not None else None
            chart.add(EventFrame(**common, x=x, y=0 if x is not None else None))
        else:
            chart.add(Icon(**common))
    for edge in edges.to_dict(orient="records"):
        source, target, kind = str(edge["source"]), str(edge["target"]), edge["kind"]
        if timeline and (kind in ("at", "co_offended") or "store" in (kinds[source], kinds[target])):
            continue        # co-offending shows as shared event frames; stores are attributes
        link_type = LINK_TYPES.get(kind, xml_text(kind) or "Linked")
        weight = 1 if missing(edge.get("weight")) else int(edge["weight"])
        attributes = {"Times": weight}
        last = day(edge.get("last_seen"))
        if last:
            attributes["Last seen"] = last
        chart.add(Link(from_id=source, to_id=target, type=link_type, label=link_type if weight == 1 else
                       f"{link_type} ({weight})", date=day(edge.get("first_seen")), attributes=attributes,
                       cards=cards(edge, link_type), source_ref=source_of(edge),
                       **_item_grades(edge)))
    return chart


def write_anx(network, path, *, timeline: bool = False, title: str | None = None, store=None,
              purpose: str | None = None) -> Path:
    """Write `network` as an i2 ANX chart (the timeline variant with timeline=True) and audit it."""
    from anxwritter import ANXValidationError

    path = exports.check_output(path, ANX_SUFFIXES)
    purpose = exports.check_purpose(purpose)
    nodes, edges = frames(network)
    chart = build_chart(network, timeline=timeline, title=title)
    try:
        chart.to_anx(str(path))
    except ANXValidationError as exc:
        raise WorkbenchError(f"{path}: the ANX chart did not validate: {str(exc).splitlines()[0][:300]}") from None
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot write the ANX file: {exc.strerror or exc}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)      # anxwritter writes through mkstemp (0600): the usual mode, as other exports
    counts = nodes["kind"].value_counts()
    audit(store, "link-anx", path, {"format": "anx-timeline" if timeline else "anx", "title": title,
                                    "nodes": int(len(nodes)), "edges": int(len(edges)),
                                    **{f"{k}s": int(counts.get(k, 0)) for k in ENTITY_TYPES}}, purpose)
    return path
