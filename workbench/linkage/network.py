"""The link network: resolved persons and vehicles, the incidents they were seen at and the stores, as two frames.

    net = build_network(store)                                   # everything current
    net = build_network(store, group_id="GR00001")                # one group's members, incidents, vehicles, stores
    net = build_network(store, person_ids=["RP0000007"], force_code="13", since="2025-01-01", until="2025-06-30")
    net.nodes, net.edges                                         # DataFrames (columns NODE_COLUMNS, EDGE_COLUMNS)
    net.subgraph(["P:RP0000007", "I:42"]); net.neighbours("P:RP0000007", depth=2)

Nodes: node_id "P:<person_id>", "V:<vehicle_id>", "I:<incident_id>", "S:<store_id>"; kind person, vehicle,
incident, store; `label` is raw display text (names as written: escaping is the renderers' job); `grading` is the
most reliable grading (source evaluation, intelligence assessment, handling code, e.g. "B2P": the smallest
string) of the current referrals behind the node or edge, all of them in attrs["gradings"]; `source_ref` names those
referrals ("source:reference row N"). Edges: involved (person-incident), used (vehicle-incident), at
(incident-store), co_offended (two persons at one incident; weight = incidents shared) and travelled_in (a person
and a vehicle at one incident; weight = incidents shared). Only current referrals count (a corrected
re-submission replaces the original); persons and vehicles are the latest linkage run's (person_links,
vehicle_links).

Filters: group_id (that group's members) and person_ids choose the persons; force_code (the incident's force) and
since/until (the incident's time; a bare date for `until` includes that whole day) choose the incidents. The
network then holds the chosen persons' mentions at the chosen incidents, those incidents, the vehicles seen at
them and their stores.
"""
from __future__ import annotations

import json
from collections import Counter, deque
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import date, datetime

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

NODE_COLUMNS = ["node_id", "kind", "entity_id", "label", "force_code", "first_seen", "last_seen", "group_id",
                "grading", "source_ref", "lat", "lon", "attrs"]
EDGE_COLUMNS = ["source", "target", "kind", "first_seen", "last_seen", "weight", "grading", "source_ref"]
NODE_KINDS = ("person", "vehicle", "incident", "store")
EDGE_KINDS = ("involved", "used", "at", "co_offended", "travelled_in")
PREFIX = {"person": "P:", "vehicle": "V:", "incident": "I:", "store": "S:"}
SOURCE_REFS_SHOWN = 5


@dataclass
class Network:
    """Nodes and edges of a link network (columns NODE_COLUMNS and EDGE_COLUMNS)."""
    nodes: pd.DataFrame
    edges: pd.DataFrame

    def __len__(self) -> int:
        return len(self.nodes)

    def subgraph(self, node_ids) -> "Network":
        """The given nodes (unknown ids are ignored) and the edges between them."""
        keep = set(str(n) for n in node_ids)
        nodes = self.nodes[self.nodes.node_id.isin(keep)].reset_index(drop=True)
        present = set(nodes.node_id)
        edges = self.edges[self.edges.source.isin(present) & self.edges.target.isin(present)].reset_index(drop=True)
        return Network(nodes, edges)

    def neighbours(self, node_id: str, depth: int = 1) -> "Network":
        """The node and every node within `depth` edges of it (any kind of edge), with the edges between them."""
        node_id = str(node_id)
        if node_id not in set(self.nodes.node_id):
            raise WorkbenchError(f"no node {node_id[:60]!r} in this network")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise WorkbenchError(f"depth must be a whole number of at least 0, got {depth!r}")
        adjacency: dict[str, set] = {}
        for a, b in zip(self.edges.source, self.edges.target):
            adjacency.setdefault(a, set()).add(b)
            adjacency.setdefault(b, set()).add(a)
        seen, frontier = {node_id}, deque([(node_id, 0)])
        while frontier:
            current, d = frontier.popleft()
            if d == depth:
                continue
            for other in adjacency.get(current, ()):
                if other not in seen:
                    seen.add(other)
                    frontier.append((other, d + 1))
        return self.subgraph(seen)

    def of_kind(self, *kinds: str) -> pd.DataFrame:
        """The nodes of the given kinds."""
        return self.nodes[self.nodes.kind.isin(kinds)].reset_index(drop=True)

    def graph(self, edge_kinds=None):
        """A networkx Graph of the nodes (attributes from the columns) and edges (of edge_kinds, default all)."""
        import networkx as nx

        g = nx.Graph()
        for row in self.nodes.to_dict(orient="records"):
            g.add_node(row["node_id"], **{k: v for k, v in row.items() if k != "node_id"})
        edges = self.edges if edge_kinds is None else self.edges[self.edges.kind.isin(list(edge_kinds))]
        for row in edges.to_dict(orient="records"):
            g.add_edge(row["source"], row["target"], **{k: v for k, v in row.items() if k not in ("source", "target")})
        return g


def empty_network() -> Network:
    return Network(_frame([], NODE_COLUMNS), _frame([], EDGE_COLUMNS))


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("first_seen", "last_seen"):
        frame[column] = pd.to_datetime(frame[column])
    if "weight" in frame:
        frame["weight"] = frame["weight"].astype("int64")
    for column in ("lat", "lon"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


# -- small helpers --------------------------------------------------------------------------------------------
def _present(value) -> bool:
    if value is None or value is pd.NaT:
        return False
    if isinstance(value, float):
        return value == value
    if isinstance(value, (str, int, list, dict, tuple, set)):
        return True
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _best(values) -> str | None:
    grades = sorted({str(v) for v in values if _present(v) and str(v)})
    return grades[0] if grades else None


def _gradings(values) -> list[str]:
    return sorted({str(v) for v in values if _present(v) and str(v)})


def _ref(source_name, source_ref, source_row) -> str:
    row = f" row {int(source_row)}" if _present(source_row) else ""
    return f"{source_name}:{source_ref if _present(source_ref) else '?'}{row}"


def _refs(refs) -> str | None:
    distinct = sorted(set(r for r in refs if r))
    if not distinct:
        return None
    shown = "; ".join(distinct[:SOURCE_REFS_SHOWN])
    return shown + (f"; +{len(distinct) - SOURCE_REFS_SHOWN} more" if len(distinct) > SOURCE_REFS_SHOWN else "")


def _mode(values):
    values = [v for v in values if _present(v)]
    return Counter(values).most_common(1)[0][0] if values else None


def _attrs(values: dict) -> str:
    clean = {k: v for k, v in values.items() if v is not None and v != [] and v != {}}
    return json.dumps(clean, sort_keys=True, default=str, ensure_ascii=False)


def _when(value, name: str, end_of_day: bool = False):
    if value is None:
        return None
    bare = isinstance(value, date) and not isinstance(value, datetime) or (isinstance(value, str) and len(value.strip()) <= 10)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise WorkbenchError(f"{name}: {str(value)[:40]!r} is not a date (use YYYY-MM-DD)") from None
    if ts is pd.NaT or pd.isna(ts):
        raise WorkbenchError(f"{name}: {str(value)[:40]!r} is not a date (use YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if end_of_day and bare:
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts


def _group_of(store) -> dict[str, str]:
    try:
        rows = store.query("linkage/network_group_members")
    except Exception:  # noqa: BLE001 - a store before migration 0008 (read-only, not migrated): no groups
        return {}
    return dict(zip(rows.person_id, rows.group_id))


# -- building -------------------------------------------------------------------------------------------------
def build_network(store, *, group_id: str | None = None, person_ids=None, force_code: str | None = None,
                  since=None, until=None) -> Network:
    """The link network of the store's resolved persons and vehicles (module docstring: nodes, edges, filters)."""
    since_ts, until_ts = _when(since, "since"), _when(until, "until", end_of_day=True)
    if since_ts is not None and until_ts is not None and since_ts > until_ts:
        raise WorkbenchError("since is after until: no incident can be in between")
    groups = _group_of(store)
    persons = store.query("linkage/network_persons")
    vehicles = store.query("linkage/network_vehicles")
    incidents = store.query("linkage/network_incidents")

    chosen: set | None = None
    if group_id is not None:
        group_id = str(group_id).strip()
        chosen = {p for p, g in groups.items() if g == group_id}
        if not chosen:
            raise WorkbenchError(f"no active group {group_id[:40]!r} (see `workbench groups list`)")
    if person_ids is not None:
        wanted = {str(p).strip() for p in ([person_ids] if isinstance(person_ids, str) else person_ids)}
        unknown = sorted(wanted - set(persons.person_id))
        if unknown:
            raise WorkbenchError(f"no resolved person {unknown[0][:40]!r} with a current mention"
                                 + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
        chosen = wanted if chosen is None else chosen & wanted

    # the incidents in play: filtered by force and time
    keep = pd.Series(True, index=incidents.index)
    if force_code is not None:
        keep &= incidents.force_code.astype(object) == str(force_code).strip()
    if since_ts is not None:
        keep &= incidents.occurred_at >= since_ts
    if until_ts is not None:
        keep &= incidents.occurred_at <= until_ts
    incidents = incidents[keep]
    incident_filter = force_code is not None or since_ts is not None or until_ts is not None
    allowed = set(incidents.incident_id)
    at_allowed = persons.incident_id.isin(allowed)
    persons = persons[at_allowed | ((not incident_filter) & persons.incident_id.isna())]
    if chosen is not None:
        persons = persons[persons.person_id.isin(chosen)]
        allowed = set(persons.incident_id.dropna().astype("int64"))
        incidents = incidents[incidents.incident_id.isin(allowed)]
        vehicles = vehicles[vehicles.incident_id.isin(allowed)]
    else:
        vehicles = vehicles[vehicles.incident_id.isin(allowed) | ((not incident_filter) & vehicles.incident_id.isna())]
    if persons.empty and vehicles.empty and (chosen is not None or incident_filter):
        incidents = incidents.iloc[0:0]
    tactics = store.query("linkage/network_incident_tactics")
    tactics = tactics[tactics.incident_id.isin(set(incidents.incident_id))]
    tactics_of = tactics.groupby("incident_id")["tactic_code"].apply(list).to_dict()
    stores = store.query("linkage/network_stores")
    stores = stores[stores.store_id.isin(set(incidents.store_id.dropna()))]
    return _assemble(persons, vehicles, incidents, stores, tactics_of, groups)


def _clean(value):
    return value if _present(value) else None


def _summarise(frame: pd.DataFrame, keys) -> pd.DataFrame:
    """Per key: first and last seen, the best grading, all gradings, source references, rows (plain Python: many
    small groups are far quicker this way than through pandas' per-group aggregation)."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    acc: dict = {}
    columns = [frame[k].tolist() for k in keys]
    for i, (when, grading, ref) in enumerate(zip(frame.occurred_at.tolist(), frame.grading.tolist(),
                                                 frame.ref.tolist())):
        key = tuple(c[i] for c in columns)
        if any(not _present(k) for k in key):
            continue
        a = acc.get(key)
        if a is None:
            a = acc[key] = {"times": [], "gradings": set(), "refs": set(), "rows": 0}
        a["rows"] += 1
        if _present(when):
            a["times"].append(when)
        if _present(grading) and grading:
            a["gradings"].add(str(grading))
        if ref:
            a["refs"].add(ref)
    rows = []
    for key in sorted(acc):
        a = acc[key]
        gradings = sorted(a["gradings"])
        refs = sorted(a["refs"])
        rows.append({**dict(zip(keys, key)), "first_seen": min(a["times"]) if a["times"] else None,
                     "last_seen": max(a["times"]) if a["times"] else None, "grading": gradings[0] if gradings else None,
                     "gradings": gradings, "source_ref": _refs(refs), "refs": refs, "rows": a["rows"]})
    return pd.DataFrame(rows, columns=keys + ["first_seen", "last_seen", "grading", "gradings", "source_ref", "refs",
                                              "rows"])


def _assemble(persons: pd.DataFrame, vehicles: pd.DataFrame, incidents: pd.DataFrame, stores: pd.DataFrame,
              tactics_of: dict, groups: dict) -> Network:
    nodes: list[dict] = []
    edges: list[dict] = []
    frames = []
    for frame in (persons, vehicles, incidents):
        frame = frame.copy()
        frame["ref"] = [_ref(a, b, c) for a, b, c in zip(frame.source_name, frame.source_ref, frame.source_row)]
        frames.append(frame)
    persons, vehicles, incidents = frames

    # incidents (one row per incident and referral in the query)
    inc = _summarise(incidents, "incident_id")
    first_rows = incidents.drop_duplicates("incident_id")
    first = {r["incident_id"]: r for r in first_rows.to_dict(orient="records")}
    referrals = incidents.groupby("incident_id")["referral_id"].nunique().to_dict()
    incident_info: dict[int, dict] = {}
    incident_crime: dict[int, str] = {}
    for r in inc.itertuples(index=False):
        iid = int(r.incident_id)
        f = SimpleNamespace(**first[r.incident_id])
        crime = _clean(f.crime_number)
        incident_info[iid] = {"occurred_at": r.first_seen, "grading": r.grading, "refs": r.refs}
        if crime:
            incident_crime[iid] = crime
        value = float(f.value_gbp) if _present(f.value_gbp) else None
        store_id = _clean(f.store_id)
        nodes.append({"node_id": f"I:{iid}", "kind": "incident", "entity_id": str(iid),
                      "label": crime or f"Incident {iid}", "force_code": _clean(f.force_code),
                      "first_seen": r.first_seen, "last_seen": r.first_seen, "group_id": None, "grading": r.grading,
                      "source_ref": r.source_ref, "lat": f.latitude, "lon": f.longitude,
                      "attrs": _attrs({"crime_number": crime, "offence_type": _clean(f.offence_type), "value": value,
                                       "violence": bool(f.violence) if _present(f.violence) else None,
                                       "store_id": store_id, "postcode": _clean(f.postcode),
                                       "location": _clean(f.location_text),
                                       "tactics": sorted(set(tactics_of.get(r.incident_id, []))),
                                       "gradings": r.gradings, "referrals": int(referrals[r.incident_id])})})
        if store_id:
            edges.append({"source": f"I:{iid}", "target": f"S:{store_id}", "kind": "at", "first_seen": r.first_seen,
                          "last_seen": r.first_seen, "weight": 1, "grading": r.grading, "source_ref": r.source_ref})

    # stores
    seen_at_store = first_rows.groupby("store_id")["occurred_at"].agg(["min", "max"])
    for s in stores.itertuples(index=False):
        seen = seen_at_store.loc[s.store_id] if s.store_id in seen_at_store.index else None
        name = str(s.name) if _present(s.name) else s.store_id
        label = f"{name}, {s.town}" if _present(s.town) and str(s.town) not in name else name
        nodes.append({"node_id": f"S:{s.store_id}", "kind": "store", "entity_id": s.store_id, "label": label,
                      "force_code": _clean(s.force_code), "first_seen": None if seen is None else seen["min"],
                      "last_seen": None if seen is None else seen["max"], "group_id": None, "grading": None,
                      "source_ref": None, "lat": s.latitude, "lon": s.longitude,
                      "attrs": _attrs({"chain": _clean(s.chain), "retailer_id": _clean(s.retailer_id),
                                       "sector": _clean(s.sector), "address": _clean(s.address),
                                       "town": _clean(s.town), "postcode": _clean(s.postcode)})})

    # persons
    if len(persons):
        per = _summarise(persons, "person_id")
        extra = persons.groupby("person_id", sort=True).agg(
            display_name=("display_name", "first"), person_dob=("person_dob", "first"), name_mode=("full_name", _mode),
            dob_mode=("dob", _mode), roles=("role", lambda r: dict(Counter(str(x) for x in r if _present(x)))),
            aliases=("alias", lambda a: sorted({str(x) for x in a if _present(x)})),
            names=("full_name", lambda a: sorted({str(x) for x in a if _present(x)})[:10]),
            incident_ids=("incident_id", lambda a: sorted({int(x) for x in a if _present(x)})),
            force_code=("force_code", _mode), gender=("gender", _mode)).reset_index()
        for r, e in zip(per.itertuples(index=False), extra.itertuples(index=False)):
            label = _clean(e.display_name) or e.name_mode or r.person_id
            dob = _clean(e.person_dob) or e.dob_mode
            crimes = sorted({incident_crime[i] for i in e.incident_ids if i in incident_crime})
            nodes.append({"node_id": f"P:{r.person_id}", "kind": "person", "entity_id": r.person_id, "label": label,
                          "force_code": e.force_code, "first_seen": r.first_seen, "last_seen": r.last_seen,
                          "group_id": groups.get(r.person_id), "grading": r.grading, "source_ref": r.source_ref,
                          "lat": np.nan, "lon": np.nan,
                          "attrs": _attrs({"dob": str(dob)[:10] if dob is not None else None, "roles": e.roles,
                                           "aliases": e.aliases, "names": e.names, "mentions": int(r.rows),
                                           "incidents": len(e.incident_ids), "crime_numbers": crimes[:20],
                                           "gender": e.gender, "gradings": r.gradings})})

    # vehicles
    if len(vehicles):
        veh = _summarise(vehicles, "vehicle_id")
        extra = vehicles.groupby("vehicle_id", sort=True).agg(
            vrm=("vrm", "first"), vrm_format=("vrm_format", "first"), make=("make", "first"),
            colour=("colour", "first"), make_mode=("make", _mode), model=("model", _mode),
            written=("vrm_raw", lambda a: sorted({str(x) for x in a if _present(x)})[:10]),
            force_code=("force_code", _mode)).reset_index()
        for r, e in zip(veh.itertuples(index=False), extra.itertuples(index=False)):
            vrm = _clean(e.vrm) or (e.written[0] if e.written else None)
            nodes.append({"node_id": f"V:{r.vehicle_id}", "kind": "vehicle", "entity_id": r.vehicle_id,
                          "label": vrm or r.vehicle_id, "force_code": e.force_code, "first_seen": r.first_seen,
                          "last_seen": r.last_seen, "group_id": None, "grading": r.grading, "source_ref": r.source_ref,
                          "lat": np.nan, "lon": np.nan,
                          "attrs": _attrs({"vrm": vrm, "vrm_format": _clean(e.vrm_format),
                                           "make": _clean(e.make) or e.make_mode, "model": e.model,
                                           "colour": _clean(e.colour), "plates_written": e.written,
                                           "mentions": int(r.rows), "gradings": r.gradings})})

    # person-incident and vehicle-incident edges, then the projections
    involved = _entity_incident_edges(persons, "person_id", "P:", "involved")
    used = _entity_incident_edges(vehicles, "vehicle_id", "V:", "used")
    edges += involved + used
    edges += _pair_edges(involved, involved, "co_offended", incident_info, same=True)
    edges += _pair_edges(involved, used, "travelled_in", incident_info, same=False)
    nodes_frame = _frame(nodes, NODE_COLUMNS)
    order = nodes_frame.kind.map({k: i for i, k in enumerate(NODE_KINDS)})
    nodes_frame = nodes_frame.assign(_o=order).sort_values(["_o", "node_id"]).drop(columns="_o").reset_index(drop=True)
    return Network(nodes_frame, _frame(edges, EDGE_COLUMNS))


def _entity_incident_edges(mentions: pd.DataFrame, id_col: str, prefix: str, kind: str) -> list[dict]:
    at = mentions[mentions.incident_id.notna()]
    if at.empty:
        return []
    summary = _summarise(at, [id_col, "incident_id"])
    return [{"source": f"{prefix}{r[0]}", "target": f"I:{int(r[1])}", "kind": kind, "first_seen": r[2],
             "last_seen": r[2], "weight": int(r[3]), "grading": r[4], "source_ref": r[5]}
            for r in zip(summary[id_col], summary.incident_id, summary.first_seen, summary.rows, summary.grading,
                         summary.source_ref)]


def _pair_edges(left: list[dict], right: list[dict], kind: str, incident_info: dict, same: bool) -> list[dict]:
    """Entities of `left` and `right` seen at one incident, one edge per pair: weight = incidents shared."""
    by_incident_right: dict[str, list[str]] = {}
    for e in right:
        by_incident_right.setdefault(e["target"], []).append(e["source"])
    pairs: dict[tuple, list[str]] = {}
    for e in left:
        for other in by_incident_right.get(e["target"], ()):
            a, b = e["source"], other
            if same and a >= b:
                continue
            pairs.setdefault((a, b), []).append(e["target"])
    out = []
    for (a, b), shared in sorted(pairs.items()):
        shared = sorted(set(shared))
        infos = [incident_info.get(int(i[2:]), {}) for i in shared]
        times = [i.get("occurred_at") for i in infos if _present(i.get("occurred_at"))]
        out.append({"source": a, "target": b, "kind": kind, "first_seen": min(times) if times else None,
                    "last_seen": max(times) if times else None, "weight": len(shared),
                    "grading": _best(i.get("grading") for i in infos),
                    "source_ref": _refs(r for i in infos for r in i.get("refs", []))})
    return out
