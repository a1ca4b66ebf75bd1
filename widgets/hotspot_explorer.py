"""Hotspot explorer: filters (dates, force, retailer, tactic, offence type, method, cell size) that update
the map, the weekly chart (inline SVG) and the table in place. An ipywidgets panel composing library calls:
workbench.hotspots.cube (pre-aggregated counts), forecast, gistar, and workbench.maps for the map.

    from widgets.hotspot_explorer import HotspotExplorer
    explorer = HotspotExplorer(store)
    explorer.panel          # display in JupyterLab or Voila

Every text shown is HTML-escaped; the map is the same offline single-file map the CLI writes, shown in
an iframe (srcdoc), so it needs no network.
"""
from __future__ import annotations

import html
import time

import ipywidgets as w
import numpy as np
import pandas as pd

from workbench import maps, reference
from workbench.hotspots import cells, cube, forecast, gistar
from workbench.hotspots.events import HotspotError

METHODS = {"Counts": "counts", "Gi* hot spots (FDR)": "gistar", "Forecast next week (KDE)": "kde",
           "Forecast next week (prospective)": "prospective"}
ALL = "(all)"
MAP_CELLS = 1500


class HotspotExplorer:
    def __init__(self, store, max_cells: int = MAP_CELLS, permutations: int = 99):
        self.store = store
        self.max_cells = max_cells
        self.permutations = permutations
        if not cube.exists(store):  # built once; a store held read-only writes it through a brief write connection
            with store.writing():
                cube.ensure(store)
        opts = cube.options(store)
        if not opts.get("last_day"):
            raise HotspotError("no located incidents in the store to explore")
        names = reference.forces().set_index("force_code")["name"]
        first, last = pd.Timestamp(opts["first_day"]), pd.Timestamp(opts["last_day"])
        self.start = w.DatePicker(description="from", value=max(first, last - pd.Timedelta(days=364)).date())
        self.end = w.DatePicker(description="to", value=last.date())
        self.force = w.Dropdown(description="force", options=[(ALL, None)] + [
            (str(names.get(c, c)), c) for c in opts.get("force_code", [])], value=None)
        self.retailer = w.Dropdown(description="retailer", options=[(ALL, None)] + [(r, r) for r in opts.get("retailer_id", [])])
        self.tactic = w.Dropdown(description="tactic", options=[(ALL, None)] + [(t, t) for t in opts.get("tactic_code", [])])
        self.offence = w.Dropdown(description="offence", options=[(ALL, None)] + [(o, o) for o in opts.get("offence_type", [])])
        self.method = w.Dropdown(description="method", options=list(METHODS.items()), value="counts")
        self.cell = w.Dropdown(description="cell size", options=[("H3 r7 (~5 km2)", 7), ("H3 r8 (~0.7 km2)", 8)], value=8)
        self.map_html = w.HTML(layout=w.Layout(width="100%"))
        self.table_html = w.HTML()
        self.status = w.HTML()
        self.chart = self._chart()
        self.layer = pd.DataFrame()
        self.refreshes = 0
        self.last_timing: dict = {}
        for control in self.controls:
            control.observe(lambda change: self.refresh(), names="value")
        self.panel = w.VBox([w.HBox([self.start, self.end, self.force, self.cell]),
                             w.HBox([self.retailer, self.tactic, self.offence, self.method]),
                             self.status, self.map_html, w.HBox([self.chart, self.table_html])])
        self.refresh()

    @property
    def controls(self):
        return [self.start, self.end, self.force, self.retailer, self.tactic, self.offence, self.method, self.cell]

    def _chart(self):
        return w.HTML(layout=w.Layout(width="560px"))

    def filters(self) -> dict:
        end = pd.Timestamp(self.end.value) + pd.Timedelta(days=1) if self.end.value else None
        return {"resolution": self.cell.value, "start": self.start.value, "end": end, "force_code": self.force.value,
                "retailer_id": self.retailer.value, "offence_type": self.offence.value, "tactic_code": self.tactic.value}

    # -- computation (library calls) ------------------------------------------------------------------
    def compute(self) -> pd.DataFrame:
        """The layer for the current filters: unit_id, value (and category for Gi*), best first."""
        f = self.filters()
        method = self.method.value
        if method == "counts":
            layer = cube.layer(self.store, **f).rename(columns={"incidents": "value"})
            layer["label"] = layer["value"].map(lambda v: f"{int(v):,} incidents")
            return layer
        series = cube.series(self.store, **f)
        cm = cube.matrix(series, f["resolution"], f["force_code"])
        if method == "gistar":
            gi = gistar.gi_star(cm.counts.sum(axis=1), cm.units, cm.unit.spacing_m, "h3",
                                permutations=self.permutations)
            gi = gi[gi["category"].str.startswith("Hot spot")].sort_values("gi_z", ascending=False)
            return gi.assign(label=gi["category"] + " (" + gi["value"].astype(int).astype(str) + " incidents)")
        t = cm.counts.shape[1]
        s = forecast.scores(cm, t, method)
        exp = forecast.expected_counts(cm, t, s)
        out = pd.DataFrame({"unit_id": cm.units["unit_id"], "value": exp})
        out = out[out["value"] > 0].sort_values("value", ascending=False)
        return out.assign(label=out["value"].map(lambda v: f"expected {v:.2f} next week"))

    def refresh(self) -> None:
        t0 = time.perf_counter()
        try:
            layer = self.compute()
        except HotspotError as exc:
            self.layer = pd.DataFrame()
            self.status.value = f"<b>{html.escape(str(exc))}</b>"
            self.map_html.value = ""
            self.table_html.value = ""
            return
        t1 = time.perf_counter()
        self.layer = layer.reset_index(drop=True)
        self._render(self.layer)
        t2 = time.perf_counter()
        self.refreshes += 1
        self.last_timing = {"layer_s": t1 - t0, "render_s": t2 - t1}
        self.status.value = (f"{len(self.layer):,} cells; {html.escape(self._method_label())}; layer "
                             f"{(t1 - t0) * 1000:.0f} ms, map {(t2 - t1) * 1000:.0f} ms")

    def _method_label(self) -> str:
        return {v: k for k, v in METHODS.items()}[self.method.value]

    # -- rendering (no computation) -------------------------------------------------------------------
    def _render(self, layer: pd.DataFrame) -> None:
        unit = cells.Unit("h3", self.cell.value)
        shown = layer.head(self.max_cells)
        fm = maps.ForceMap(f"Hot spots: {self._method_label()}",
                           subtitle=f"{self.start.value} to {self.end.value}; {len(layer):,} cells")
        if self.force.value:
            fm.add_force_outlines([self.force.value])
        else:
            fm.add_force_outlines()
        if len(shown):
            polys = cells.unit_polygons(unit, shown["unit_id"]).merge(shown[["unit_id", "value", "label"]], on="unit_id")
            breaks = maps.class_breaks(np.ceil(polys["value"].to_numpy(dtype=float) * 100) / 100)
            props = [{"tooltip": maps.esc(r.label), "colour": maps.colour_for(r.value, breaks)} for r in polys.itertuples()]
            fm._add_polygons(polys, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#555",
                                                      "weight": 0.4, "fillOpacity": 0.8}, "Cells", "explorer-cell")
            if self.force.value:
                b = polys.total_bounds
                from workbench.hotspots.briefing import _fit
                _fit(fm, [[b[1], b[0]], [b[3], b[2]]])
        page = fm.to_html()
        self.map_html.value = (f'<iframe style="width:100%;height:520px;border:0" '
                               f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
        top = shown.head(15)
        rows = "".join(f"<tr><td>{i + 1}</td><td>{html.escape(str(r.unit_id))}</td><td>{html.escape(str(r.label))}</td></tr>"
                       for i, r in enumerate(top.itertuples()))
        self.table_html.value = f"<table><tr><th>#</th><th>cell</th><th>value</th></tr>{rows}</table>"
        self._update_chart()

    def _update_chart(self) -> None:
        f = self.filters()
        f["resolution"] = 7
        try:
            weekly = cube.series(self.store, **f).groupby("period_start")["incidents"].sum()
        except HotspotError:
            weekly = pd.Series(dtype=float)
        self.chart.value = weekly_svg(weekly)


def weekly_svg(weekly: pd.Series, width: int = 540, height: int = 200) -> str:
    """Incidents per week as an inline SVG bar chart (no plotting library, no network)."""
    if weekly.empty:
        return "<p><i>no incidents for these filters</i></p>"
    peak = max(float(weekly.max()), 1.0)
    bar = (width - 40) / len(weekly)
    bars = "".join(
        f'<rect x="{35 + i * bar:.1f}" y="{height - 20 - (v / peak) * (height - 40):.1f}" width="{max(bar - 1, 1):.1f}" '
        f'height="{(v / peak) * (height - 40):.1f}" fill="#d94801"><title>{html.escape(f"{d:%Y-%m-%d}: {int(v)}")}</title></rect>'
        for i, (d, v) in enumerate(weekly.items()))
    first, last = weekly.index[0], weekly.index[-1]
    return (f'<svg class="wb-weekly" width="{width}" height="{height}" role="img" aria-label="incidents per week">'
            f'<text x="35" y="12" font-size="12">Incidents per week (max {int(peak)})</text>{bars}'
            f'<text x="35" y="{height - 4}" font-size="10">{first:%d %b %Y}</text>'
            f'<text x="{width - 5}" y="{height - 4}" font-size="10" text-anchor="end">{last:%d %b %Y}</text></svg>')
