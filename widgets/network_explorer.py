"""Network explorer: the link network of resolved persons, vehicles, incidents and stores, drawn with ipysigma.
Click a node to list its mentions below the graph, expand its neighbours, filter by date range and force, pick a
group. An ipywidgets panel composing library calls only: workbench.linkage.network.build_network (the Network),
Network.neighbours / subgraph, workbench.linkage.groups.list_groups and workbench.linkage.review.node_mentions.

    from widgets.network_explorer import NetworkExplorer
    explorer = NetworkExplorer(store)            # or NetworkExplorer(store, group_id="GR00001")
    explorer.panel                               # display in JupyterLab or Voila
    explorer.select("P:RP0000007"); explorer.expand()

Labels are raw text (names as written) handed to sigma.js, which draws them on a canvas and escapes them in its
search box and information panel: a name written `<script>...` shows as those characters. The mentions table is
HTML-escaped (pandas `to_html(escape=True)`).
"""
from __future__ import annotations


import ipywidgets as w
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.network import build_network
from workbench.linkage.review import node_mentions

ALL = "(all)"
VIEWS = {"people and vehicles": ("person", "vehicle"), "with incidents and stores": ("person", "vehicle", "incident",
                                                                                     "store")}
COLOURS = {"person": "#1f5fa8", "vehicle": "#d9822b", "incident": "#7a7a7a", "store": "#2e8b57"}
MAX_NODES = 400
MENTIONS_SHOWN = 200


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _groups(store) -> pd.DataFrame:
    """The store's active groups, or none when groups have not been found yet (no table or no run)."""
    try:
        from workbench.linkage.groups import list_groups

        frame = list_groups(store)
    except Exception:  # noqa: BLE001 - no groups tables/run yet: the picker simply offers none
        return pd.DataFrame(columns=["group_id"])
    if "status" in frame.columns:
        frame = frame[frame.status.astype(object).isin(["active", None]) | frame.status.isna()]
    return frame


def _mentions_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><i>no person or vehicle mentions behind this node</i></p>"
    more = f"<p>... {len(frame) - MENTIONS_SHOWN} more mentions</p>" if len(frame) > MENTIONS_SHOWN else ""
    shown = frame.head(MENTIONS_SHOWN).astype(object).where(frame.head(MENTIONS_SHOWN).notna(), "")
    return shown.to_html(index=False, escape=True, border=0, classes="wb-table") + more


class NetworkExplorer:
    def __init__(self, store, group_id: str | None = None, max_nodes: int = MAX_NODES, height: int = 520):
        self.store = store
        self.max_nodes = int(max_nodes)
        self.height = int(height)
        groups = _groups(store)
        self.group = w.Dropdown(description="group", options=[(ALL, None)] + [
            (f"{g} ({int(m)} members)" if "members" in groups.columns and pd.notna(m) else str(g), str(g))
            for g, m in zip(groups.group_id, groups["members"] if "members" in groups.columns else [None] * len(groups))])
        if group_id is not None:
            if str(group_id) not in [v for _, v in self.group.options]:
                raise WorkbenchError(f"no active group {str(group_id)[:40]!r} (see `workbench groups list`)")
            self.group.value = str(group_id)
        self.force = w.Dropdown(description="force", options=[(ALL, None)], value=None)
        self.since = w.DatePicker(description="from")
        self.until = w.DatePicker(description="to")
        self.view = w.ToggleButtons(options=list(VIEWS), value="people and vehicles")
        self.expand_button = w.Button(description="expand neighbours", disabled=True)
        self.reset_button = w.Button(description="reset view")
        self.graph_box = w.Box(layout=w.Layout(width="100%"))
        self.mentions_html = w.HTML()
        self.status = w.HTML()
        self.sigma = None
        self.full = None
        self.shown: set[str] = set()
        self.selected: str | None = None
        self.mentions = pd.DataFrame()
        self.refreshes = 0
        self._forces_known = False
        for control in (self.group, self.force, self.since, self.until):
            control.observe(lambda change: self.load(), names="value")
        self.view.observe(lambda change: self.reset(), names="value")
        self.expand_button.on_click(lambda _b: self.expand())
        self.reset_button.on_click(lambda _b: self.reset())
        self.panel = w.VBox([w.HBox([self.group, self.force]), w.HBox([self.since, self.until]),
                             w.HBox([self.view, self.expand_button, self.reset_button]), self.status,
                             self.graph_box, self.mentions_html])
        self.load()

    # -- computation (library calls) ------------------------------------------------------------------
    def filters(self) -> dict:
        return {"group_id": self.group.value, "force_code": self.force.value, "since": self.since.value,
                "until": self.until.value}

    def load(self) -> None:
        """Build the Network for the filters, then show its persons and vehicles (or everything: the view)."""
        try:
            self.full = build_network(self.store, **self.filters())
        except WorkbenchError as exc:
            self.full = None
            self.shown = set()
            self.status.value = f"<b>{_escape(str(exc))}</b>"
            self._draw()
            return
        if not self._forces_known:          # the force picker lists the forces of the unfiltered network once
            forces = sorted({f for f in self.full.nodes.loc[self.full.nodes.kind == "incident", "force_code"]
                             if _text(f)})
            self._forces_known = True
            with self.force.hold_trait_notifications():
                self.force.options = [(ALL, None)] + [(f, f) for f in forces]
        self.reset()

    def initial_nodes(self) -> set[str]:
        """The nodes of the view's kinds, at most max_nodes (the most connected first)."""
        nodes = self.full.nodes[self.full.nodes.kind.isin(VIEWS[self.view.value])]
        if len(nodes) > self.max_nodes:
            degree = pd.concat([self.full.edges.source, self.full.edges.target]).value_counts()
            nodes = nodes.assign(_d=nodes.node_id.map(degree).fillna(0)).sort_values(
                ["_d", "node_id"], ascending=[False, True]).head(self.max_nodes)
        return set(nodes.node_id)

    def reset(self) -> None:
        self.shown = self.initial_nodes() if self.full is not None else set()
        if self.selected not in self.shown:
            self.select(None)
        else:
            self.select(self.selected)      # the filters changed: its mentions within them
        self._draw()

    def current(self):
        """The Network on screen: the shown nodes of the filtered network and the edges between them."""
        return self.full.subgraph(self.shown) if self.full is not None else None

    def select(self, node_id: str | None) -> None:
        """A node clicked: its mentions in the table below (node_mentions)."""
        self.selected = node_id
        self.expand_button.disabled = node_id is None
        if node_id is None:
            self.mentions = pd.DataFrame()
            self.mentions_html.value = ""
            return
        mentions = node_mentions(self.store, node_id)
        if self.full is not None and any(v is not None for v in self.filters().values()):
            # filtered by date, force or group: the mentions at the incidents of the filtered network only
            incidents = set(self.full.nodes.loc[self.full.nodes.kind == "incident", "entity_id"].astype(str))
            mentions = mentions[mentions.incident_id.map(lambda i: pd.notna(i) and str(int(i)) in incidents)]
        self.mentions = mentions.reset_index(drop=True)
        label = self.full.nodes.loc[self.full.nodes.node_id == node_id, "label"] if self.full is not None else []
        title = f"{_text(label.iloc[0]) if len(label) else node_id} ({node_id}): {len(self.mentions)} mentions"
        self.mentions_html.value = f"<h4>{_escape(title)}</h4>" + _mentions_table(self.mentions)

    def expand(self, node_id: str | None = None, depth: int = 1) -> None:
        """Add the neighbours (within `depth` edges, any kind) of a node, by default the selected one."""
        node_id = node_id or self.selected
        if node_id is None or self.full is None:
            return
        self.shown |= set(self.full.neighbours(node_id, depth=depth).nodes.node_id)
        self._draw()

    # -- display --------------------------------------------------------------------------------------
    def graph(self):
        """networkx Graph of the nodes on screen with display attributes only (label raw: sigma draws text)."""
        import networkx as nx

        net = self.current()
        g = nx.Graph()
        if net is None:
            return g
        for row in net.nodes.itertuples():
            g.add_node(row.node_id, label=_text(row.label) or row.node_id, kind=row.kind,
                       force_code=_text(row.force_code) or "", group_id=_text(row.group_id) or "",
                       grading=_text(row.grading) or "", first_seen=_text(row.first_seen) or "",
                       last_seen=_text(row.last_seen) or "")
        for row in net.edges.itertuples():
            g.add_edge(row.source, row.target, kind=row.kind, weight=int(row.weight) if pd.notna(row.weight) else 1)
        return g

    def _draw(self) -> None:
        from ipysigma import Sigma

        g = self.graph()
        self.refreshes += 1
        counts = pd.Series([d["kind"] for _, d in g.nodes(data=True)]).value_counts().to_dict() if len(g) else {}
        total = len(self.full.nodes) if self.full is not None else 0
        if self.full is not None:
            self.status.value = _escape(f"{len(g):,} of {total:,} nodes shown ("
                                        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f"), "
                                        f"{g.number_of_edges():,} links; click a node for its mentions")
        if len(g) == 0:
            self.sigma = None
            self.graph_box.children = [w.HTML("<p><i>nothing to show for these filters</i></p>")]
            return
        self.sigma = Sigma(g, height=self.height, node_color="kind", node_color_palette=COLOURS, node_label="label",
                           node_size=g.degree, node_size_range=(3, 14), edge_color="kind", edge_size="weight",
                           edge_size_range=(0.5, 4), start_layout=3, hide_edges_on_move=True,
                           selected_node=self.selected if self.selected in g else None)
        self.sigma.observe(lambda change: self.select(change["new"]), names="selected_node")
        self.graph_box.children = [self.sigma]

    def state(self) -> dict:
        """What is on screen, as plain data (for tests and for a notebook's record)."""
        return {"filters": {k: (str(v) if v is not None else None) for k, v in self.filters().items()},
                "nodes": len(self.shown), "selected": self.selected, "mentions": int(len(self.mentions))}


def _escape(text: str) -> str:
    import html

    return html.escape(text)


