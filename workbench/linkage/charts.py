"""Link charts and network exports: the offline HTML chart, GraphML and node/edge CSVs (ANX is in anx.py).

Each writer takes a `Network` (workbench.linkage.network: `nodes` and `edges` DataFrames, see its
docstring) and writes ONE product, audited through `exports.audit_export` (sha256, bytes, marking,
purpose) in the store's audit log; a product that cannot be audited is deleted.

- `write_link_chart(network, path, *, title)`: a self-contained HTML page for people without Jupyter on
  locked-down networks. The graph library (cytoscape.js, MIT) is pinned in workbench/maps_assets.lock.json,
  fetched at setup by `make assets` (npm registry, integrity checked) and inlined; the page loads nothing.
  Node types are styled (person, vehicle, incident, store); a click shows the node's card (label,
  grading, source reference, dates, extras); date and force filters; search by name or VRM. The data
  enter the page as JSON through Jinja2's `tojson` inside a `<script type="application/json">` block, so
  a name holding `</script>` stays data, and the page builds every card with `textContent`, never HTML.
  The configured security marking opens and closes the page (base template); `marking=` adds a
  handling line under it (it never replaces the configured marking).
- `write_graphml(network, path)`: networkx GraphML with every node/edge column; the marking is a
  graph attribute.
- `write_network_csv(network, folder)`: nodes.csv and edges.csv through `exports.write_table`
  (formula-safe, headers too).

    net = build_network(store, group_id="GR00001")
    write_link_chart(net, "out/charts/GR00001.html", title="Group GR00001", store=store)
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import config, exports, render
from workbench.errors import WorkbenchError

CYTOSCAPE_URL = "https://cdn.jsdelivr.net/npm/cytoscape@3.35.0/dist/cytoscape.min.js"
NODE_KINDS = ("person", "vehicle", "incident", "store")
EDGE_KINDS = ("involved", "used", "at", "co_offended", "travelled_in")
NODE_COLUMNS = ("node_id", "kind", "entity_id", "label", "force_code", "first_seen", "last_seen", "group_id",
                "grading", "source_ref", "lat", "lon", "attrs")
EDGE_COLUMNS = ("source", "target", "kind", "first_seen", "last_seen", "weight", "grading", "source_ref")
CHART_SUFFIXES = (".html", ".htm")
DEFAULT_MAX_NODES = 20_000       # beyond this a browser chart is unusable: filter by force or dates
COSE_MAX_NODES = 1_500           # force-directed layout up to this size, a grid beyond


# -- checking and reading the Network -------------------------------------------------------------
def frames(network) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(nodes, edges) of a Network, checked: the contract's columns, unique node ids, known kinds, and
    edges only between nodes present (a WorkbenchError naming what is wrong otherwise)."""
    nodes, edges = getattr(network, "nodes", None), getattr(network, "edges", None)
    if not isinstance(nodes, pd.DataFrame) or not isinstance(edges, pd.DataFrame):
        raise WorkbenchError("a link chart needs a Network (nodes and edges DataFrames)")
    for name, frame, columns in (("nodes", nodes, NODE_COLUMNS), ("edges", edges, EDGE_COLUMNS)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise WorkbenchError(f"network {name} lack column(s) {', '.join(missing)}")
    if nodes["node_id"].duplicated().any():
        dup = nodes.loc[nodes["node_id"].duplicated(), "node_id"].iloc[0]
        raise WorkbenchError(f"network node id {dup!r} appears twice")
    bad = sorted(set(nodes["kind"].dropna()) - set(NODE_KINDS))
    if bad:
        raise WorkbenchError(f"unknown node kind(s) {', '.join(map(repr, bad))}: use {', '.join(NODE_KINDS)}")
    known = set(nodes["node_id"])
    dangling = edges[~edges["source"].isin(known) | ~edges["target"].isin(known)]
    if len(dangling):
        row = dangling.iloc[0]
        raise WorkbenchError(f"network edge {row['source']} -> {row['target']} names a node that is not in the network")
    return nodes.reset_index(drop=True), edges.reset_index(drop=True)


def missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def text(value: Any) -> str | None:
    """A cell as plain text (None when missing)."""
    return None if missing(value) else str(value)


def day(value: Any) -> str | None:
    """A timestamp as YYYY-MM-DD (None when missing or unreadable)."""
    if missing(value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.strftime("%Y-%m-%d")


def attrs_of(value: Any) -> dict:
    """A node's `attrs` JSON text as a dict (text that is not a JSON object is kept under 'attrs')."""
    if missing(value) or value == "":
        return {}
    if isinstance(value, dict):
        return dict(value)
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {"attrs": str(value)}
    return parsed if isinstance(parsed, dict) else {"attrs": parsed}


def finite(value: Any) -> Any:
    """`value` with every NaN or infinity (which JSON cannot hold: a browser's JSON.parse refuses the page's data)
    replaced by None, in nested lists and dicts too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def number(value: Any) -> float | None:
    if missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def force_names() -> dict[str, str]:
    from workbench import reference

    table = reference.forces()
    return dict(zip(table["force_code"].astype(str), table["name"].astype(str)))


# -- auditing -------------------------------------------------------------------------------------
def audit(store, action: str, path: Path, details: dict, purpose: str | None, files=None) -> dict:
    """Record the product in the audit log (deleted, with a one-line error, if that fails)."""
    return exports.audit_export(store, action, path, details, purpose, files=files)


def _atomic_write(path: Path, data: str, what: str, encoding: str = "utf-8") -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(data, encoding=encoding)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"{path}: cannot write the {what}: {exc.strerror or exc}") from None


def _summary(nodes: pd.DataFrame, edges: pd.DataFrame) -> dict:
    counts = nodes["kind"].value_counts()
    return {"nodes": int(len(nodes)), "edges": int(len(edges)),
            **{f"{k}s": int(counts.get(k, 0)) for k in NODE_KINDS}}


# -- the offline HTML chart -----------------------------------------------------------------------
def chart_data(network) -> dict:
    """What the HTML chart's script reads (plain JSON values; labels and text raw, never escaped here)."""
    nodes, edges = frames(network)
    node_rows = []
    for row in nodes.itertuples(index=False):
        node_rows.append({
            "id": str(row.node_id), "kind": str(row.kind), "entity_id": text(row.entity_id),
            "label": text(row.label) or str(row.node_id), "force": text(row.force_code),
            "first": day(row.first_seen), "last": day(row.last_seen), "group": text(row.group_id),
            "grading": text(row.grading), "source_ref": text(row.source_ref),
            "lat": number(row.lat), "lon": number(row.lon), "attrs": finite(attrs_of(row.attrs)),
        })
    edge_rows = []
    for n, row in enumerate(edges.itertuples(index=False)):
        weight = number(row.weight)
        edge_rows.append({
            "id": f"e{n}", "source": str(row.source), "target": str(row.target), "kind": text(row.kind),
            "first": day(row.first_seen), "last": day(row.last_seen),
            "weight": int(weight) if weight is not None else 1,
            "grading": text(row.grading), "source_ref": text(row.source_ref),
        })
    return {"nodes": node_rows, "edges": edge_rows,
            "layout": "cose" if len(node_rows) <= COSE_MAX_NODES else "grid"}


def cytoscape_js() -> str:
    """cytoscape.min.js from the offline assets (a one-line error to run `make assets` if absent)."""
    from workbench import maps

    return maps.asset_path(CYTOSCAPE_URL).read_text(encoding="utf-8").replace("</script", "<\\/script")


def render_link_chart(network, *, title: str, marking: str | None = None) -> str:
    """The chart page as text (see write_link_chart)."""
    data = chart_data(network)
    names = force_names()
    forces = sorted({n["force"] for n in data["nodes"] if n["force"]})
    dates = sorted(d for n in data["nodes"] for d in (n["first"], n["last"]) if d)
    kinds = {k: sum(n["kind"] == k for n in data["nodes"]) for k in NODE_KINDS}
    page = render.render(
        "linkchart.html.j2", title=str(title), handling=(str(marking).strip() or None) if marking else None,
        data=data, forces=[(code, names.get(code, code)) for code in forces],
        date_min=dates[0] if dates else "", date_max=dates[-1] if dates else "",
        kinds=kinds, edges=len(data["edges"]), library=render.trusted(cytoscape_js()),
    )
    from workbench import maps

    if maps._REMOTE_RE.search(page):  # the page must never load anything
        raise WorkbenchError("rendered link chart references a remote script or stylesheet; refusing to write it")
    return page


def write_link_chart(network, path, *, title: str, marking: str | None = None, store=None,
                     purpose: str | None = None, max_nodes: int | None = None) -> Path:
    """Write the self-contained offline HTML link chart of `network` to `path` (.html) and audit it in
    `store` (an open Store or a database path; None: the default store). `marking` is an optional handling
    line printed under the configured security marking, top and bottom."""
    path = exports.check_output(path, CHART_SUFFIXES)
    purpose = exports.check_purpose(purpose)
    nodes, edges = frames(network)
    limit = int(max_nodes or config.get("linkage.chart_max_nodes", DEFAULT_MAX_NODES))
    if len(nodes) > limit:
        raise WorkbenchError(f"the network has {len(nodes):,} nodes, over the {limit:,} a browser chart can show; "
                             "narrow it (--force, --since/--until, or one group)")
    page = render_link_chart(network, title=title, marking=marking)
    _atomic_write(path, page, "link chart")
    audit(store, "link-chart", path, {"format": "html", "title": str(title), "handling": marking,
                                      **_summary(nodes, edges)}, purpose)
    return path


# -- GraphML --------------------------------------------------------------------------------------
def _graph_value(value: Any):
    """A GraphML attribute value: str, int, float or bool (missing values are left out)."""
    if missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("int")):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def network_graph(network):
    """The Network as a networkx MultiDiGraph (edges keep their kind, dates, weight, grading, source)."""
    import networkx as nx

    nodes, edges = frames(network)
    graph = nx.MultiDiGraph()
    graph.graph["security_marking"] = config.security_marking()
    for row in nodes.to_dict(orient="records"):
        values = {k: _graph_value(v) for k, v in row.items() if k != "node_id"}
        graph.add_node(str(row["node_id"]), **{k: v for k, v in values.items() if v is not None})
    for row in edges.to_dict(orient="records"):
        values = {k: _graph_value(v) for k, v in row.items() if k not in ("source", "target")}
        graph.add_edge(str(row["source"]), str(row["target"]), **{k: v for k, v in values.items() if v is not None})
    return graph


def write_graphml(network, path, *, store=None, purpose: str | None = None) -> Path:
    """Write `network` as GraphML (every node and edge column as a data key) and audit it."""
    import networkx as nx

    path = exports.check_output(path, (".graphml",))
    purpose = exports.check_purpose(purpose)
    nodes, edges = frames(network)
    graph = network_graph(network)
    body = "\n".join(nx.generate_graphml(graph, encoding="utf-8", prettyprint=True))
    _atomic_write(path, body + "\n", "GraphML file")
    audit(store, "link-graphml", path, {"format": "graphml", **_summary(nodes, edges)}, purpose)
    return path


# -- CSV ------------------------------------------------------------------------------------------
def _csv_frames(network) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes, edges = frames(network)
    node_table = nodes.loc[:, list(NODE_COLUMNS) + [c for c in nodes.columns if c not in NODE_COLUMNS]].copy()
    edge_table = edges.loc[:, list(EDGE_COLUMNS) + [c for c in edges.columns if c not in EDGE_COLUMNS]].copy()
    return node_table, edge_table


def write_network_csv(network, folder, *, store=None, purpose: str | None = None) -> tuple[Path, Path]:
    """Write FOLDER/nodes.csv and FOLDER/edges.csv (formula-safe, headers too) and audit both as one export."""
    folder = exports.check_folder(folder)
    purpose = exports.check_purpose(purpose)
    node_table, edge_table = _csv_frames(network)
    nodes_path, edges_path = Path(folder) / "nodes.csv", Path(folder) / "edges.csv"
    written = []
    try:
        written.append(exports.write_table(node_table, nodes_path)["file"])
        written.append(exports.write_table(edge_table, edges_path)["file"])
    except BaseException:
        exports.discard(written)
        raise
    audit(store, "link-csv", Path(folder), {"format": "csv", **_summary(node_table, edge_table)}, purpose,
          files=[nodes_path, edges_path])
    return nodes_path, edges_path


# -- one entry point for the CLI and the notebook --------------------------------------------------
EXPORT_FORMATS = ("html", "anx", "anx-timeline", "graphml", "csv")
_BY_SUFFIX = {".html": "html", ".htm": "html", ".anx": "anx", ".graphml": "graphml"}


def export_format(out, fmt: str | None = None) -> str:
    """The export format: `fmt` when given (one of EXPORT_FORMATS), else from the extension of `out`
    (.html, .anx, .graphml; a path without an extension is a folder for the CSVs)."""
    if fmt is not None:
        fmt = str(fmt).strip().lower()
        if fmt not in EXPORT_FORMATS:
            raise WorkbenchError(f"unknown format {fmt[:40]!r}: use {', '.join(EXPORT_FORMATS)}")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix == "":
        return "csv"
    raise WorkbenchError(f"{out}: cannot tell the format from {suffix!r}; give --format "
                         f"({', '.join(EXPORT_FORMATS)})")


def export(network, out, fmt: str | None = None, *, title: str, store=None, purpose: str | None = None) -> dict:
    """Write `network` in format `fmt` (see export_format) to `out`, audited; what was written."""
    from workbench.linkage import anx

    fmt = export_format(out, fmt)
    nodes, edges = frames(network)
    if fmt == "html":
        files = [write_link_chart(network, out, title=title, store=store, purpose=purpose)]
    elif fmt in ("anx", "anx-timeline"):
        files = [anx.write_anx(network, out, timeline=fmt == "anx-timeline", title=title, store=store,
                               purpose=purpose)]
    elif fmt == "graphml":
        files = [write_graphml(network, out, store=store, purpose=purpose)]
    else:
        files = list(write_network_csv(network, out, store=store, purpose=purpose))
    return {"format": fmt, "out": str(out), "files": [str(f) for f in files], "marking": config.security_marking(),
            "purpose": exports.check_purpose(purpose), **_summary(nodes, edges)}


def check_export(out, fmt: str | None = None) -> str:
    """The export format for `out` (see export_format), with `out` checked before any work is done: the
    right extension for the format, and a place that can be written (one-line errors otherwise)."""
    fmt = export_format(out, fmt)
    if fmt == "csv":
        exports.check_folder(out)
    else:
        exports.check_output(out, {"html": CHART_SUFFIXES, "graphml": (".graphml",)}.get(fmt, (".anx",)))
    return fmt
