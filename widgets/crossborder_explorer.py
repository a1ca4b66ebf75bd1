"""Cross-border explorer: pick a group and its summary (lead force, runner-up, home base), forces table, timeline,
route map, flows and day x hour matrix update in place; pick an incident and its MO candidates (groups in other
forces whose incidents look like the same offenders' work) are listed with their explanations. An ipywidgets panel
composing library calls only: workbench.crossborder (analyse, several_forces, lead_summary), its views (figures and
the route map) and mo_linkage.candidates.

    from widgets.crossborder_explorer import CrossBorderExplorer
    explorer = CrossBorderExplorer(store)            # the group spanning most forces first, or group_id="GR00004"
    explorer.panel                                   # display in JupyterLab or Voila
    explorer.pick_group("GR00002"); explorer.pick_incident(12345)

Tables and summaries are rendered from workbench/templates/explorer_crossborder.html.j2 (autoescaped: a store or
person named `<script>...` shows as those characters); figures are shown as plotly's mime bundle in Output widgets
(JupyterLab's plotly renderer draws them, no network) and the route map as its self-contained offline page in an
iframe (srcdoc).
"""
from __future__ import annotations

import json

import ipywidgets as w
import pandas as pd

from workbench import crossborder as xb
from workbench.crossborder import mo_linkage, views
from workbench.errors import WorkbenchError
from workbench.render import fragment

TEMPLATE = "explorer_crossborder.html.j2"
CRIME_NUMBERS_SHOWN = 6
RUNS_SHOWN = 25
CANDIDATES_SHOWN = 10
FORCE_COLUMNS = [("force_code", "force"), ("force_name", "name"), ("incidents", "incidents"),
                 ("crime_numbers", "crime numbers"), ("crime_numbers_shown", "crime numbers held"),
                 ("referrals", "referrals"), ("violent", "violent"), ("juvenile_incidents", "with a juvenile"),
                 ("value_gbp", "value GBP"), ("runs", "runs"), ("first_seen", "first seen"),
                 ("last_seen", "last seen"), ("is_home", "home base")]
QUERY_COLUMNS = [("incident_id", "incident"), ("occurred_at", "when"), ("force_code", "force"),
                 ("store_name", "store"), ("town", "town"), ("tactics", "tactics"), ("offenders_count", "offenders"),
                 ("persons", "persons named"), ("vehicles", "vehicles named")]
CANDIDATE_GROUP_COLUMNS = [("rank", "#"), ("group_id", "group"), ("label", "label"), ("score", "score"),
                           ("agrees", "features that agree"),
                           ("nearest", "nearest linked incidents (force, pair score) ~ query incident"),
                           ("group_incidents", "group incidents"), ("forces", "group forces"),
                           ("already_linked", "already linked to the query")]
CANDIDATE_INCIDENT_COLUMNS = [("rank", "#"), ("incident_id", "incident"), ("score", "score"), ("occurred_at", "when"),
                              ("force_code", "force"), ("store_name", "store"), ("town", "town"),
                              ("tactics", "tactics"), ("group_id", "tied to group"),
                              ("nearest_query_incident", "nearest query incident"), ("agrees", "features that agree")]
RUN_COLUMNS = [("run_id", "run"), ("date", "date"), ("start_at", "start"), ("end_at", "end"),
               ("incidents", "incidents"), ("force_path", "forces in order"), ("border_crossings", "borders crossed"),
               ("road_km", "road km"), ("max_speed_kmh", "top speed km/h")]


def _cell(value) -> str:
    if value is None or (not isinstance(value, (str, bool)) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def table_rows(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Labels and text cells of the columns present in frame (the template escapes them)."""
    present = [(c, label) for c, label in columns if c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame[[c for c, _ in present]].itertuples(index=False)]
    return [label for _, label in present], rows


def _table(title: str, frame: pd.DataFrame, columns, empty: str, note: str | None = None) -> str:
    labels, rows = table_rows(frame, columns)
    return str(fragment(TEMPLATE, part="table", title=title, columns=labels, rows=rows, empty=empty, note=note))


def _message(text: str) -> str:
    return str(fragment(TEMPLATE, part="message", message=text))


def _crime_numbers_shown(text) -> str:
    numbers = [n for n in str(text).split(";") if n] if isinstance(text, str) else []
    more = len(numbers) - CRIME_NUMBERS_SHOWN
    return "; ".join(numbers[:CRIME_NUMBERS_SHOWN]) + (f" (+{more} more)" if more > 0 else "")


def figure_bundle(fig) -> dict:
    """A plotly figure as a display_data output (plotly's mime type, and text), for an Output widget."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(fig, validate=False))
    spec["config"] = {"displaylogo": False, "responsive": True}
    title = ((spec.get("layout") or {}).get("title") or {}).get("text") or "figure"
    return {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.plotly.v1+json": spec, "text/plain": f"<plotly figure: {title}>"}}


def _group_option(g) -> str:
    """A picker line (plain text: a dropdown shows it as text, never as HTML)."""
    label = f" {g.label[:40]}" if isinstance(g.label, str) and g.label else ""
    return f"{g.group_id}{label}: {g.forces} force{'s' if g.forces != 1 else ''}, {g.incidents} incidents"


def frame_html(page: str, height: int = 520) -> str:
    """A whole offline page (a route map) inside an iframe (srcdoc, escaped once), for a widget or a notebook."""
    return str(fragment(TEMPLATE, part="map", page=page, height=int(height)))


def offline_page(page: str, height: int = 520) -> w.HTML:
    """A notebook cell's view of an offline page: folium's own notebook view asks CDNs for its scripts, this one
    shows the page with its assets inlined (views.route_map_html), so it draws with no network."""
    return w.HTML(frame_html(page, height), layout=w.Layout(width="100%"))


class CrossBorderExplorer:
    """One panel for the question "where does this group go, who holds its crimes, who should lead, and what else
    looks like its work": every number comes from the library, the panel only shows it."""

    def __init__(self, store, group_id: str | None = None, top: int = CANDIDATES_SHOWN, map_height: int = 640):
        self.store = store
        self.top = int(top)
        self.map_height = int(map_height)
        self.groups = xb.several_forces(store, min_forces=1)   # every active group, most forces first
        self.group = w.Dropdown(description="group", options=[
            (_group_option(g), g.group_id) for g in self.groups.itertuples()], layout=w.Layout(width="560px"))
        self.incident = w.Combobox(description="incident", placeholder="incident id", ensure_option=False,
                                   continuous_update=False, layout=w.Layout(width="260px"))
        self.candidates_button = w.Button(description="MO candidates", tooltip="groups in other forces with this MO")
        self.look_alikes_button = w.Button(description="look-alikes of the group",
                                           tooltip="incidents in other forces that look like this group's work")
        self.status = w.HTML()
        self.summary_html = w.HTML()
        self.forces_html = w.HTML()
        self.runs_html = w.HTML()
        self.route_html = w.HTML(layout=w.Layout(width="100%"))
        self.timeline_out = w.Output()
        self.flows_out = w.Output()
        self.sankey_out = w.Output()
        self.heat_out = w.Output()
        self.candidates_html = w.HTML()
        self.cb = None
        self.figures: dict = {}
        self.candidates = pd.DataFrame()
        self.candidate_incidents = pd.DataFrame()
        self.picked_incident: int | None = None
        self.candidates_of: str | None = None    # "incident" or "group": what the candidates panel answers
        self.refreshes = 0
        self.group.observe(lambda change: self.pick_group(change["new"]), names="value")
        self.incident.observe(lambda change: self.pick_incident(change["new"]), names="value")
        self.candidates_button.on_click(lambda _b: self.pick_incident(self.incident.value))
        self.look_alikes_button.on_click(lambda _b: self.look_alikes())
        self.panel = w.VBox([self.group, self.status, self.summary_html, self.forces_html, self.timeline_out,
                             self.route_html, w.HBox([self.flows_out, self.sankey_out]), self.heat_out, self.runs_html,
                             w.HBox([self.incident, self.candidates_button, self.look_alikes_button]),
                             self.candidates_html])
        if group_id is not None and str(group_id) not in [v for _, v in self.group.options]:
            raise WorkbenchError(f"no active group {str(group_id)[:40]!r} (see `workbench crossborder groups`)")
        if self.group.options:
            self.pick_group(str(group_id) if group_id is not None else self.group.value)
        else:
            self.status.value = _message("no active group in this store: run `workbench link run` first")

    # -- computation (library calls) ------------------------------------------------------------------
    def pick_group(self, group_id: str | None) -> None:
        """Analyse the group (series, runs, forces, flows, home base, lead) and show it in place."""
        if group_id is None:
            return
        if self.group.value != group_id:
            self.group.value = group_id            # the observer comes back here with the same id
            return
        try:
            self.cb = xb.analyse(self.store, group_id)
        except WorkbenchError as exc:
            self.cb = None
            self._clear(str(exc))
            return
        self.incident.options = tuple(str(i) for i in self.cb.series.incidents.sort_values(
            "occurred_at", ascending=False).incident_id.head(200))
        if self.candidates_of == "group":        # the last group's look-alikes: not this group's
            self._no_candidates(None)
        self._show_group()

    def pick_incident(self, incident_id) -> None:
        """The MO candidates of one incident: the groups in other forces most like its offenders' work, each with
        the features that agree and its nearest linked incidents, and the look-alike incidents elsewhere."""
        text = str(incident_id or "").strip()
        if not text:
            return
        try:
            number = int(text)
        except ValueError:
            self._no_candidates(f"incident id must be a whole number, not {text[:40]!r}")
            return
        self.picked_incident = number
        self.candidates_of = "incident"
        self._candidates(f"incident {number}", incident_id=number)

    def look_alikes(self) -> None:
        """The incidents in other forces that look like the picked group's work (named or not), and the other
        groups with a like MO; their ids become the incident picker's first choices."""
        if self.cb is None:
            return
        self.picked_incident = None
        self.candidates_of = "group"
        found = self._candidates(f"group {self.cb.series.series_id}", series_id=self.cb.series.series_id)
        if found is not None and len(found.incidents):
            own = [o for o in self.incident.options if o not in set(found.incidents.incident_id.astype(str))]
            self.incident.options = tuple(found.incidents.incident_id.astype(str)) + tuple(own)

    def _candidates(self, what: str, **query):
        try:
            found = mo_linkage.candidates(self.store, top=self.top, **query)
        except WorkbenchError as exc:
            self._no_candidates(str(exc))
            return None
        self.candidates = found.groups.reset_index(drop=True)
        self.candidate_incidents = found.incidents.reset_index(drop=True)
        named = ""
        if "incident_id" in query and len(found.query):
            q = found.query.iloc[0]
            persons, vehicles = int(q.get("persons") or 0), int(q.get("vehicles") or 0)
            named = ("no named offender or vehicle: only behaviour can link it" if not persons and not vehicles
                     else f"{persons} person and {vehicles} vehicle mentions")
        self.candidates_html.value = (
            _table(f"Who else works like this? The query: {what}", found.query, QUERY_COLUMNS, "no incident",
                   note=named or None)
            + _table(f"Groups in other forces most likely to be the same offenders ({len(self.candidates)})",
                     self.candidates, CANDIDATE_GROUP_COLUMNS, "no candidate group in another force",
                     note="score: the pair model's probability that the query and the group's nearest incidents "
                          "are one offender group's work (trained on the store's own linked incidents)")
            + _table(f"Look-alike incidents in other forces ({len(self.candidate_incidents)})",
                     self.candidate_incidents, CANDIDATE_INCIDENT_COLUMNS, "no look-alike incident",
                     note="tied to group: empty when no named person or vehicle ties the incident to any group"))
        return found

    def _no_candidates(self, message: str | None) -> None:
        self.candidates = pd.DataFrame()
        self.candidate_incidents = pd.DataFrame()
        self.candidates_html.value = _message(message) if message else ""

    # -- display (no computation) ---------------------------------------------------------------------
    def _clear(self, message: str) -> None:
        self.figures = {}
        self.status.value = _message(message)
        for box in (self.summary_html, self.forces_html, self.runs_html, self.route_html):
            box.value = ""
        for out in (self.timeline_out, self.flows_out, self.sankey_out, self.heat_out):
            out.outputs = ()

    def _show_group(self) -> None:
        cb = self.cb
        summary = xb.lead_summary(cb)
        legs_across = int(cb.runs.legs.crosses_border.sum()) if len(cb.runs.legs) else 0
        self.summary_html.value = str(fragment(
            TEMPLATE, part="summary", series_id=cb.series.series_id, label=cb.series.label,
            incidents=len(cb.series.incidents), forces=int(cb.forces.force_code.notna().sum()),
            runs=len(cb.runs.runs), legs_across=legs_across, lead=_rounded(summary["recommended"]),
            runner_up=_rounded(summary["runner_up"]), home=summary["home_base"]))
        forces = cb.forces.assign(crime_numbers_shown=cb.forces.crime_number_list.map(_crime_numbers_shown))
        self.forces_html.value = _table("Forces affected: who holds crime numbers for this group", forces,
                                        FORCE_COLUMNS, "no force known")
        runs = cb.runs.runs.sort_values("start_at", ascending=False).head(RUNS_SHOWN)
        self.runs_html.value = _table(f"Runs (latest {min(RUNS_SHOWN, len(cb.runs.runs))} of {len(cb.runs.runs)})",
                                      runs, RUN_COLUMNS, "no same-day run found")
        skipped = len(cb.runs.skipped)
        line = (f"{cb.series.series_id}: {len(cb.series.incidents)} incidents"
                + (f", {skipped} without a time or place left out of runs" if skipped else ""))
        try:
            self._show_views()
        except WorkbenchError as exc:            # a view the library refuses: the tables stay, the reason shows
            line += f"; {exc}"
        self.refreshes += 1
        self.status.value = str(fragment(TEMPLATE, part="status", text=line))

    def _show_views(self) -> None:
        """Timeline, route map, flows and day x hour from workbench.crossborder.views."""
        cb = self.cb
        self.figures = {}
        for out in (self.timeline_out, self.flows_out, self.sankey_out, self.heat_out):
            out.outputs = ()
        self.route_html.value = ""
        names = views.force_labels(cb)
        self.figures = {"timeline": views.timeline_figure(cb), "flow_matrix": views.flow_matrix_figure(cb.flows, names),
                        "flow_sankey": views.flow_sankey_figure(cb.flows, names),
                        "day_hour": views.day_hour_figure(cb.series.incidents)}
        for key, out in (("timeline", self.timeline_out), ("flow_matrix", self.flows_out),
                         ("flow_sankey", self.sankey_out), ("day_hour", self.heat_out)):
            out.outputs = (figure_bundle(self.figures[key]),)
        page = views.route_map_html(cb)       # the marked offline page, its assets inlined
        self.route_html.value = frame_html(page, self.map_height)

    def state(self) -> dict:
        """What is on screen, as plain data (for tests and for a notebook's record)."""
        cb = self.cb
        return {"group": cb.series.series_id if cb is not None else None,
                "incidents": len(cb.series.incidents) if cb is not None else 0,
                "forces": int(cb.forces.force_code.notna().sum()) if cb is not None else 0,
                "runs": len(cb.runs.runs) if cb is not None else 0, "figures": sorted(self.figures),
                "incident": self.picked_incident, "candidates": int(len(self.candidates)),
                "candidate_incidents": int(len(self.candidate_incidents)),
                "refreshes": self.refreshes}


def _rounded(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {**row, "score": f"{row['score']:.2f}" if row.get("score") is not None else ""}
