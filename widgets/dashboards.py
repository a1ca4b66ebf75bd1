"""Dashboards for patrol planners and managers, served as Voila pages (`make dashboards`, docs/dashboards.md).

    from widgets.dashboards import PatrolPlanDashboard, NationalPicture
    PatrolPlanDashboard(store, out_dir="out/dashboards").panel   # pick force and week: map, places, day x hour, PDF
    NationalPicture(store).panel                                  # referrals over time, hot spots, groups, forces

Planners never open a notebook, so each page is one panel of controls over library calls: the patrol plan is
`workbench.hotspots.plan.patrol_plan` (the same plan as `workbench hotspots plan`), its map and briefing PDF are
`workbench.hotspots.briefing`'s, the PDF is exported through `briefing.plan_outputs` and audited with the
planner's purpose by `workbench.exports.audit_export`; the national picture reads the hotspot cube, Gi* and the
cross-border group list. The functions at the top compute (and are what the headless tests check); the classes
only display. Every text shown is HTML-escaped; maps are the offline single-file maps in an iframe (srcdoc);
charts are plotly through widgets.plots (drawn in Voila and JupyterLab, offline).
"""
from __future__ import annotations

import base64
import html
import re
import tempfile
from datetime import date
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd

from widgets import plots
from workbench import exports, reference
from workbench.errors import WorkbenchError
from workbench.hotspots import briefing, cells, counts, cube, events, gistar, plan
from workbench.hotspots.events import HotspotError

WEEKS_BACK = 8            # the weeks a planner can pick: next week and the ones before it (to compare with what happened)
NATIONAL_WEEKS = 52
NATIONAL_UNIT = "h3:7"


# -- computation: library calls only ----------------------------------------------------------------------------
def _monday(day) -> pd.Timestamp:
    day = pd.Timestamp(day).normalize()
    return day - pd.Timedelta(days=day.day_of_week)


def plan_weeks(store, force_code: str | None = None, weeks: int = WEEKS_BACK) -> list[date]:
    """The Mondays a plan can be made for: the ISO week after the latest located incident ("next week", first)
    and the `weeks` - 1 weeks before it."""
    span = store.query("hotspots_date_range", force_code=force_code).iloc[0]
    if not span["incidents"]:
        raise HotspotError("no located incidents in the store" + (f" for force {force_code}" if force_code else ""))
    nxt = _monday(span["last_at"]) + pd.Timedelta(days=7)
    return [(nxt - pd.Timedelta(days=7 * i)).date() for i in range(max(1, int(weeks)))]


def week_plan(store, force_code: str, week_start, method: str = "auto", top: int = 15) -> plan.PatrolPlan:
    """The patrol plan for the 7 days from `week_start` (a Monday): the data before it only (`until`), exactly what
    `workbench hotspots plan --force F --until WEEK_START` plans."""
    start = pd.Timestamp(week_start)
    ev = events.from_store(store, force_code=force_code, end=start)
    if ev.empty:
        raise HotspotError(f"no located incidents for {plan.force_name(force_code)} before {start.date()}")
    stores = events.stores_frame(store, force_code=force_code)
    return plan.patrol_plan(ev, stores, force_code=force_code, method=method, top=top, until=start.date())


def week_outcome(store, p: plan.PatrolPlan) -> dict | None:
    """For a week already past: incidents that happened in it, and how many fell in the planned places (None when
    the week is not over in the data)."""
    start = pd.Timestamp(p.meta["period_start"])
    end = pd.Timestamp(p.meta["period_end"]) + pd.Timedelta(days=1)
    span = store.query("hotspots_date_range", force_code=p.meta["force_code"]).iloc[0]
    if not span["incidents"] or pd.Timestamp(span["last_at"]) < end:
        return None
    ev = events.from_store(store, force_code=p.meta["force_code"], start=start, end=end)
    inside = cells.assign(ev, p.unit).isin(set(p.cells["unit_id"])) if len(ev) else pd.Series(dtype=bool)
    return {"incidents": int(len(ev)), "in_plan": int(inside.sum())}


def export_briefing(store, p: plan.PatrolPlan, out_dir, purpose: str | None) -> dict:
    """The plan's products (plan.csv ... briefing.pdf, no PNGs) written by `briefing.plan_outputs` and audited as
    "hotspots-plan" with the planner's purpose; the files are deleted if the audit row cannot be written."""
    purpose = exports.check_purpose(purpose)
    if not purpose:
        raise WorkbenchError("say why the briefing is downloaded (the purpose is recorded in the audit log)")
    result = briefing.plan_outputs(p, out_dir, png=False)
    record = exports.audit_export(store, "hotspots-plan", out_dir, {
        "source": "referrals", "force_code": p.meta["force_code"], "via": "patrol plan dashboard",
        **{k: p.meta[k] for k in ("period_start", "period_end", "method", "unit")}}, purpose, files=result["files"])
    return {**result, "marking": record["marking"], "purpose": purpose}


def weekly_referrals(store, weeks: int | None = None) -> pd.Series:
    """Located referral incidents per ISO week, nationally (the hotspot cube; empty weeks are 0)."""
    _ensure_cube(store)
    opts = cube.options(store)
    if not opts.get("last_day"):
        return pd.Series(dtype=float, name="incidents")
    start = None if weeks is None else _monday(opts["last_day"]) - pd.Timedelta(days=7 * (int(weeks) - 1))
    series = cube.series(store, resolution=7, start=start)
    weekly = series.groupby("period_start")["incidents"].sum()
    full = pd.date_range(weekly.index.min(), weekly.index.max(), freq="7D")
    return weekly.reindex(full, fill_value=0).rename("incidents").rename_axis("week")


def national_hot_spots(store, weeks: int = NATIONAL_WEEKS, unit: str = NATIONAL_UNIT) -> tuple[pd.DataFrame, dict]:
    """Gi* (exact p, FDR 5%) on the last `weeks` ISO weeks, as `workbench hotspots map` computes it: (every unit's
    row, meta). Counts are aggregated in SQL (counts.store_counts), never loaded incident by incident."""
    u = cells.parse_unit(unit)
    span = store.query("hotspots_date_range", force_code=None).iloc[0]
    if not span["incidents"]:
        raise HotspotError("no located incidents in the store")
    stop = _monday(span["last_at"]) + pd.Timedelta(days=7)
    first = stop - pd.Timedelta(days=7 * int(weeks))
    long = counts.store_counts(store, unit=u.label, period="week", start=first, end=stop)
    if long.empty:
        raise HotspotError(f"no located incidents in the {weeks} weeks before {stop.date()}")
    long["period_start"] = pd.to_datetime(long["period_start"])
    cm = cube.matrix(long, u, None)
    gi = gistar.hot_spots(cm, permutations=0, p_method="exact")
    return gi, {"unit": u, "from": first.date(), "to": (stop - pd.Timedelta(days=1)).date(),
                "incidents": int(cm.counts.sum())}


def hot_spots_by_force(gi: pd.DataFrame) -> pd.DataFrame:
    """Hot spot cells (any confidence) per force, most first."""
    hot = gi[gi["category"].str.startswith("Hot spot")]
    out = hot.groupby("force_code").size().rename("hot_cells").reset_index()
    out["force_name"] = out["force_code"].map(plan.force_name)
    return out.sort_values(["hot_cells", "force_name"], ascending=[False, True]).reset_index(drop=True)


def groups_table(store) -> pd.DataFrame:
    """Active organised groups with the forces their incidents lie in (workbench.crossborder.several_forces);
    empty before the first linkage run."""
    from workbench import crossborder

    if not store.query("linkage/summary_tables").iloc[0]["has_groups_table"]:
        return pd.DataFrame(columns=["group_id", "label", "forces", "force_codes", "incidents", "crime_numbers",
                                     "referrals", "per_force"])
    return crossborder.several_forces(store, min_forces=1)


def forces_affected(store, groups: pd.DataFrame | None = None, hot: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per territorial force: referral incidents and stores (query incidents_by_force), organised groups active in
    it and hot spot cells. Forces with any incident, most incidents first."""
    table = store.query("incidents_by_force")
    groups = groups_table(store) if groups is None else groups
    per_force = (groups.assign(force_code=groups["force_codes"].str.split(";")).explode("force_code")
                 .groupby("force_code").size() if len(groups) else pd.Series(dtype=int))
    table["groups"] = table["force_code"].map(per_force).fillna(0).astype(int)
    if hot is not None:
        table["hot_cells"] = table["force_code"].map(hot.set_index("force_code")["hot_cells"]).fillna(0).astype(int)
    table = table[table["incidents"] > 0]
    return table.sort_values(["incidents", "force_code"], ascending=[False, True]).reset_index(drop=True)


def _ensure_cube(store) -> None:
    if not cube.exists(store):            # built once; a read-only store writes it through a brief write connection
        with store.writing():
            cube.ensure(store)


# -- charts (plotly figures; drawn by widgets.plots) ---------------------------------------------------------------
def day_hour_figure(profile: pd.DataFrame, title: str):
    """The plan's day x hour profile as a heat map (a single-hue scale that reads in greyscale)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=profile.to_numpy(), x=[f"{int(h):02d}" for h in profile.columns],
                               y=list(profile.index), colorscale="Oranges", colorbar={"title": "incidents"},
                               hovertemplate="%{y} %{x}:00: %{z} incidents<extra></extra>"))
    fig.update_layout(title=title, height=320, margin={"l": 50, "r": 10, "t": 50, "b": 40},
                      xaxis_title="hour of day", yaxis={"autorange": "reversed"})
    return fig


def weekly_figure(weekly: pd.Series):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=weekly.index, y=weekly.to_numpy(), marker_color="#d94801",
                           hovertemplate="week of %{x|%d %b %Y}: %{y} incidents<extra></extra>"))
    fig.update_layout(title="Referral incidents per week (England and Wales)", height=300,
                      margin={"l": 50, "r": 10, "t": 50, "b": 40}, yaxis_title="incidents")
    return fig


def forces_figure(forces: pd.DataFrame, top: int = 15):
    import plotly.graph_objects as go

    shown = forces.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=shown["incidents"], y=shown["force_name"], orientation="h", marker_color="#08519c",
                           customdata=shown["groups"], hovertemplate="%{y}: %{x} incidents, %{customdata} groups"
                                                                     "<extra></extra>"))
    fig.update_layout(title=f"Forces most affected (top {len(shown)} by referral incidents)",
                      height=120 + 22 * len(shown), margin={"l": 10, "r": 10, "t": 50, "b": 40})
    return fig


# -- HTML pieces (escaped) ----------------------------------------------------------------------------------------
def table_html(frame: pd.DataFrame, columns: dict[str, str], css: str) -> str:
    if frame.empty:
        return f'<p class="{css}"><i>nothing to show</i></p>'
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(getattr(r, c)))}</td>" for c in columns) + "</tr>"
                   for r in frame.itertuples(index=False))
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.1f}"
    return "" if value is None else str(value)


def map_frame(page: str, height: int = 520, title: str = "map") -> str:
    return (f'<iframe title="{html.escape(title, quote=True)}" style="width:100%;height:{int(height)}px;border:0" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>')


def _map_page(render, *args) -> str:
    """An offline map page rendered by a workbench.hotspots.briefing function (which writes a file), read back."""
    with tempfile.TemporaryDirectory(prefix="wb-dash-map-") as tmp:
        out = Path(tmp) / "map.html"
        render(*args, out)
        return out.read_text(encoding="utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "force"


# -- the pages ----------------------------------------------------------------------------------------------------
class PatrolPlanDashboard:
    """Pick a force and a week: the hotspot map, the places, when crime happens there, and the briefing PDF."""

    def __init__(self, store, out_dir=None, force_code: str | None = None, method: str = "auto", top: int = 15):
        self.store = store
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="wb-dashboards-"))
        self.method, self.top = method, top
        self.plan: plan.PatrolPlan | None = None
        self.exported: dict | None = None
        by_force = store.query("incidents_by_force")
        codes = by_force[by_force["incidents"] > 0].sort_values("force_name")
        if codes.empty:
            raise HotspotError("no referral incidents in the store: nothing to plan")
        self.force = w.Dropdown(description="force", options=[(r.force_name, r.force_code) for r in codes.itertuples()],
                                value=force_code if force_code in set(codes["force_code"]) else codes["force_code"].iloc[0])
        self.week = w.Dropdown(description="week")
        self.purpose = w.Text(description="purpose", placeholder="why you need the briefing (audited)",
                              layout=w.Layout(width="480px"))
        self.download_button = w.Button(description="Briefing PDF", icon="file-pdf", tooltip="write the marked "
                                        "briefing PDF (audited) and offer it for download")
        self.download = w.HTML()
        self.status = w.HTML()
        self.heading = w.HTML()
        self.map_html = w.HTML(layout=w.Layout(width="100%"))
        self.places_html = w.HTML()
        self.heat = w.Output(layout=w.Layout(width="100%"))
        self.refreshes = 0
        self._quiet = False
        self._weeks_for_force()
        self.force.observe(lambda _: self._weeks_for_force(), names="value")
        self.week.observe(lambda _: self.refresh(), names="value")
        self.download_button.on_click(lambda _: self.make_briefing())
        self.panel = w.VBox([w.HTML("<h2>Choose the force and week</h2>"), w.HBox([self.force, self.week]), self.heading,
                             self.status, self.map_html, w.HBox([self.places_html]), self.heat,
                             w.HBox([self.purpose, self.download_button]), self.download],
                            layout=w.Layout(width="100%"))
        self.panel.add_class("wb-patrol-plan")
        self.refresh()

    def _weeks_for_force(self) -> None:
        try:
            weeks = plan_weeks(self.store, self.force.value)
        except HotspotError as exc:
            self.plan = None
            self.week.options = []
            self.status.value = f"<b>{html.escape(str(exc))}</b>"
            self.map_html.value = self.places_html.value = self.heading.value = ""
            plots.figure_output(None, self.heat)
            return
        options = [(f"{d:%d %b %Y}" + (" (next week)" if i == 0 else ""), d.isoformat()) for i, d in enumerate(weeks)]
        self._quiet = True            # one refresh for the new force, not one per trait change
        try:
            self.week.options = options
            self.week.value = options[0][1]
        finally:
            self._quiet = False
        self.refresh()

    def refresh(self) -> None:
        if self._quiet or self.week.value is None:
            return
        self.download.value = ""
        self.exported = None
        try:
            p = week_plan(self.store, self.force.value, self.week.value, method=self.method, top=self.top)
        except (HotspotError, WorkbenchError) as exc:
            self.plan = None
            self.status.value = f"<b>{html.escape(str(exc))}</b>"
            self.map_html.value = self.places_html.value = ""
            plots.figure_output(None, self.heat)
            return
        self.plan = p
        m = p.meta
        outcome = week_outcome(self.store, p)
        said = (f"; that week {outcome['in_plan']} of {outcome['incidents']} incidents fell in these places"
                if outcome else "")
        self.heading.value = (f"<h3>{html.escape(m['force_name'])}: {html.escape(m['period_start'])} to "
                              f"{html.escape(m['period_end'])}</h3>")
        self.status.value = html.escape(f"{m['cells_planned']} places by {m['method']} ({m['unit']}); "
                                        f"{m['accuracy_short']}{said}")
        self.map_html.value = map_frame(_map_page(lambda pl, out: briefing.plan_map(pl, out, png=False), p),
                                        title=f"Patrol plan map: {m['force_name']}")
        self.places_html.value = table_html(
            p.cells.assign(last_period=p.cells["last_period"].astype(int)), {"rank": "#", "label": "Place", "expected": "Expected incidents", "last_period": "Last week",
                      "stores_n": "Stores", "stores": "Stores inside"}, "wb-places")
        plots.figure_output(day_hour_figure(p.profile, f"When: day x hour of recent crime in these places "
                                                       f"(since {m['profile_from']})"), self.heat)
        self.refreshes += 1

    def make_briefing(self) -> dict | None:
        """Write the briefing (audited, with the purpose typed) and offer the PDF as a download link."""
        if self.plan is None:
            return None
        m = self.plan.meta
        folder = self.out_dir / f"{_slug(m['force_name'])}-{m['period_start']}"
        try:
            result = export_briefing(self.store, self.plan, folder, self.purpose.value)
        except WorkbenchError as exc:
            self.download.value = f"<b>{html.escape(str(exc))}</b>"
            return None
        name = f"patrol-briefing-{_slug(m['force_name'])}-{m['period_start']}.pdf"
        data = base64.b64encode(Path(result["pdf"]).read_bytes()).decode("ascii")
        self.download.value = (f'<a class="wb-download" download="{html.escape(name)}" '
                               f'href="data:application/pdf;base64,{data}">Download {html.escape(name)}</a> '
                               f'({html.escape(result["marking"])}; {result["pdf_pages"]} pages; audited)')
        self.exported = result
        return result


class NationalPicture:
    """Referrals over time, national hot spots, organised groups and the forces affected, for managers."""

    def __init__(self, store, weeks: int = NATIONAL_WEEKS):
        self.store = store
        self.weeks = weeks
        self.weekly = weekly_referrals(store)
        self.gi, self.gi_meta = national_hot_spots(store, weeks=weeks)
        self.hot = hot_spots_by_force(self.gi)
        self.groups = groups_table(store)
        self.forces = forces_affected(store, self.groups, self.hot)
        names = reference.forces().set_index("force_code")["name"]
        self.group_force = w.Dropdown(description="groups in", options=[("(all forces)", None)] + [
            (str(names.get(c, c)), c) for c in self.forces["force_code"]], value=None)
        self.groups_html = w.HTML()
        self.group_force.observe(lambda _: self.show_groups(), names="value")
        m = self.gi_meta
        hot_n = int(self.hot["hot_cells"].sum()) if len(self.hot) else 0
        self.summary = w.HTML(html.escape(
            f"{int(self.weekly.sum()):,} located referral incidents; {len(self.forces)} forces affected; "
            f"{len(self.groups)} organised groups; {hot_n:,} hot spot cells ({m['unit'].label}, {m['from']} to "
            f"{m['to']})."))
        page = _map_page(lambda gi, out: briefing.hotspot_map(
            gi, m["unit"], out, "Shoplifting hot spots: England and Wales",
            f"{m['incidents']:,} incidents {m['from']:%d %b %Y} to {m['to']:%d %b %Y}; Gi* (exact p, two-sided, FDR "
            f"5%) on {m['unit'].label}; {hot_n:,} hot spot cells", self.hot, png=False), self.gi)
        self.map_html = w.HTML(map_frame(page, title="National hot spot map"))
        self.referrals_chart = plots.figure_output(weekly_figure(self.weekly))
        self.forces_chart = plots.figure_output(forces_figure(self.forces))
        self.forces_html = w.HTML(table_html(self.forces, {"force_name": "Force", "incidents": "Incidents",
                                                           "stores": "Stores", "groups": "Groups",
                                                           "hot_cells": "Hot spot cells"}, "wb-forces"))
        self.show_groups()
        self.panel = w.VBox([w.HTML("<h2>At a glance: referrals over time</h2>"), self.summary, self.referrals_chart,
                             w.HTML("<h3>Hot spots</h3>"), self.map_html, w.HTML("<h3>Organised groups</h3>"),
                             self.group_force, self.groups_html, w.HTML("<h3>Forces affected</h3>"),
                             self.forces_chart, self.forces_html], layout=w.Layout(width="100%"))
        self.panel.add_class("wb-national")

    def show_groups(self) -> None:
        g = self.groups
        if self.group_force.value and len(g):
            g = g[g["force_codes"].str.split(";").map(lambda codes: self.group_force.value in codes)]
        if not len(self.groups):
            self.groups_html.value = "<p><i>no organised groups yet: run `workbench link run`</i></p>"
            return
        self.groups_html.value = table_html(g, {"group_id": "Group", "label": "Label", "forces": "Forces",
                                                "incidents": "Incidents", "per_force": "Per force"}, "wb-groups")
