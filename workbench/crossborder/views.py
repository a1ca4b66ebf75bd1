"""Views of a cross-border analysis: figures and maps built from the frames of `analyse` and `tactic_trends`.

    cb = xb.analyse(store, "GR00004")
    timeline_figure(cb)                 # plotly: one theme line per force, every incident, runs joined in time order
    route_map(cb)                       # folium.Map of the runs: legs coloured per run, arrows in the direction driven,
                                        #   times in the tooltips (route_force_map(cb) for the marked page, .to_html())
    flow_matrix_figure(cb.flows)        # plotly heat matrix: legs of runs from force (rows) to force (columns)
    flow_sankey_figure(cb.flows)        # plotly Sankey: forces left a run leg from -> forces it went to
    day_hour_figure(cb.series.incidents)  # plotly day x hour heat matrix of a series' incidents
    tactic_spread_maps(trends)          # plotly small multiples: per tactic, each force by the month it was first seen
    tactic_spread_figure(trends)        # plotly lines: forces that have seen each tactic so far, and its share, by month
    render_group(store, "GR00004", "out/crossborder")   # every product of one group written, marked and audited
    render_tactics(store, "out/crossborder")            # the national tactic-trend map and table

Computation stays in forces.py, runs.py and trends.py; nothing here changes a number. Every text taken from the
data (store, chain, town and force names, crime numbers) is HTML-escaped before it reaches plotly (whose labels
understand a few tags) or Leaflet (whose tooltips are HTML), and every page is a Jinja2 template on the marked
base page (workbench/templates/crossborder_*.html.j2) with plotly.js inlined and the map's assets inlined: the
files open with no network.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import config, render
from workbench.errors import WorkbenchError

RUN_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#393b79", "#637939", "#843c39"]
SINGLE_COLOUR = "#7f7f7f"
VIOLENT_COLOUR = "#b00020"
HOME_COLOUR = "#000000"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PRODUCT_SUFFIX = ".html"
MAX_SPREAD_PANELS = 12
SPREAD_SIMPLIFY_M = 4000       # force outlines of the small multiples: simplified to 4 km (size, not precision)


def esc(value) -> str:
    """Escaped text for a plotly label or a Leaflet tooltip ('' for None/NaN)."""
    return render.text(value)


def _when(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _codes(value) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def force_labels(cb) -> dict[str, str]:
    """force code -> "code name" for the forces of an analysis (names from its forces table)."""
    labels = {}
    for row in cb.forces.itertuples():
        if isinstance(row.force_code, str):
            name = row.force_name if isinstance(row.force_name, str) else ""
            labels[row.force_code] = f"{row.force_code} {name}".strip()
    return labels


def _label(code, names: dict | None) -> str:
    if not isinstance(code, str):
        return "unknown force"
    return (names or {}).get(code, code)


# -- timeline --------------------------------------------------------------------------------------------
def timeline_frame(cb) -> pd.DataFrame:
    """The series' timed incidents with their run (None for a single visit) and force label, in time order."""
    inc = cb.series.incidents
    run_of = dict(zip(cb.runs.route.incident_id, cb.runs.route.run_id))
    seq_of = dict(zip(cb.runs.route.incident_id, cb.runs.route.seq))
    frame = inc[inc.occurred_at.notna()].copy()
    frame["run_id"] = frame.incident_id.map(run_of)
    frame["seq"] = frame.incident_id.map(seq_of)
    names = force_labels(cb)
    frame["force_label"] = [_label(f, names) for f in frame.force_code]
    return frame.sort_values(["occurred_at", "incident_id"]).reset_index(drop=True)


def _incident_hover(row) -> str:
    lines = [f"<b>{esc(_when(row.occurred_at))}</b>", f"{esc(row.store_name)}, {esc(row.town)}",
             f"force {esc(row.force_label)}", f"crime number {esc(row.crime_number)}",
             f"tactics: {esc(_codes(row.tactics))}"]
    if isinstance(getattr(row, "run_id", None), str):
        lines.append(f"run {esc(row.run_id)}, stop {int(row.seq)}")
    if pd.notna(row.value_gbp):
        lines.append(f"value GBP {float(row.value_gbp):,.0f}")
    if bool(row.violence):
        lines.append("violence or threats")
    return "<br>".join(lines)


def timeline_figure(cb, title: str | None = None):
    """A group timeline (i2-style theme lines): one line per force (first seen at the top), each incident a
    marker at its time, the incidents of each run joined in order; violent incidents ringed in red."""
    import plotly.graph_objects as go

    frame = timeline_frame(cb)
    # the force labels are plotly categories, shown as tick labels (which understand a few tags): escaped once here
    frame["force_label"] = [esc(label) for label in frame.force_label]
    order = frame.groupby("force_label").occurred_at.min().sort_values().index.tolist()
    fig = go.Figure()
    in_run = frame[frame.run_id.notna()]
    xs, ys = [], []
    for _run, sub in in_run.groupby("run_id", sort=True):
        xs += sub.occurred_at.tolist() + [None]
        ys += sub.force_label.tolist() + [None]
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="run (same-day chain)", hoverinfo="skip",
                                 line={"color": "#9ecae1", "width": 1.5}))
    for name, sub, colour in (("incident in a run", in_run, RUN_COLOURS[0]),
                              ("single visit", frame[frame.run_id.isna()], SINGLE_COLOUR)):
        if len(sub):
            fig.add_trace(go.Scatter(x=sub.occurred_at, y=sub.force_label, mode="markers", name=name,
                                     marker={"color": colour, "size": 7, "opacity": 0.85},
                                     hovertext=[_incident_hover(r) for r in sub.itertuples()], hoverinfo="text"))
    violent = frame[frame.violence.astype(bool)]
    if len(violent):
        fig.add_trace(go.Scatter(x=violent.occurred_at, y=violent.force_label, mode="markers",
                                 name="violence or threats", hoverinfo="skip",
                                 marker={"color": "rgba(0,0,0,0)", "size": 13,
                                         "line": {"color": VIOLENT_COLOUR, "width": 2}}))
    s = cb.series
    heading = title or f"Timeline of {s.kind} {s.series_id}" + (f" ({s.label})" if s.label else "")
    fig.update_layout(title={"text": esc(heading)}, template="plotly_white", hovermode="closest",
                      height=max(320, 90 + 34 * len(order)), margin={"l": 220, "r": 20, "t": 60, "b": 50},
                      legend={"orientation": "h", "y": -0.12},
                      yaxis={"categoryorder": "array", "categoryarray": list(reversed(order)), "title": ""},
                      xaxis={"title": "date and time of the incident"})
    return fig


# -- flows -----------------------------------------------------------------------------------------------
def flow_matrix_frame(flows: pd.DataFrame) -> pd.DataFrame:
    """Legs of runs from force (index) to force (columns), every force of the flows on both axes, zeros kept."""
    if flows.empty:
        return pd.DataFrame(dtype=int)
    forces = sorted(set(flows.from_force.dropna()) | set(flows.to_force.dropna()))
    matrix = flows.pivot_table(index="from_force", columns="to_force", values="legs", aggfunc="sum", fill_value=0)
    return matrix.reindex(index=forces, columns=forces, fill_value=0).astype(int)


def flow_matrix_figure(flows: pd.DataFrame, names: dict | None = None, title: str = "Run legs crossing a force border"):
    """The force-to-force flow matrix: from force (rows) x to force (columns), legs of runs; counts written in."""
    import plotly.graph_objects as go

    matrix = flow_matrix_frame(flows)
    fig = go.Figure()
    if matrix.empty:
        fig.add_annotation(text="no run leg crosses a force border", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5)
    else:
        labels = [esc(_label(c, names)) for c in matrix.index]
        z = matrix.to_numpy()
        fig.add_trace(go.Heatmap(z=z, x=labels, y=labels, colorscale="Oranges", colorbar={"title": "legs"},
                                 text=[[str(v) if v else "" for v in row] for row in z], texttemplate="%{text}",
                                 hovertemplate="from %{y}<br>to %{x}<br>%{z} legs<extra></extra>"))
        fig.update_yaxes(autorange="reversed", title="from force")
        fig.update_xaxes(title="to force", tickangle=-35)
    n = len(matrix)
    fig.update_layout(title={"text": esc(title)}, template="plotly_white", height=max(360, 160 + 36 * n),
                      margin={"l": 200, "r": 20, "t": 60, "b": 160})
    return fig


def flow_sankey_figure(flows: pd.DataFrame, names: dict | None = None, title: str = "Where the runs cross borders"):
    """A Sankey of the flows: forces a leg left (left column) to forces it entered (right column), width = legs
    (two columns, so a flow back and forth between two forces is drawn rather than looping)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if flows.empty:
        fig.add_annotation(text="no run leg crosses a force border", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5)
    else:
        sources = sorted(flows.from_force.dropna().unique())
        targets = sorted(flows.to_force.dropna().unique())
        node = [f"from {esc(_label(c, names))}" for c in sources] + [f"to {esc(_label(c, names))}" for c in targets]
        src = {c: k for k, c in enumerate(sources)}
        dst = {c: len(sources) + k for k, c in enumerate(targets)}
        fig.add_trace(go.Sankey(
            arrangement="snap",
            node={"label": node, "pad": 14, "thickness": 14, "color": "#6baed6"},
            link={"source": [src[f] for f in flows.from_force], "target": [dst[t] for t in flows.to_force],
                  "value": [int(v) for v in flows.legs],
                  "customdata": [f"{int(r.runs)} runs, {esc(_when(r.first_at))} to {esc(_when(r.last_at))}"
                                 for r in flows.itertuples()],
                  "hovertemplate": "%{source.label} %{target.label}<br>%{value} legs, %{customdata}<extra></extra>"}))
    fig.update_layout(title={"text": esc(title)}, template="plotly_white", height=520,
                      margin={"l": 20, "r": 20, "t": 60, "b": 20})
    return fig


# -- day x hour ------------------------------------------------------------------------------------------
def day_hour_frame(signatures: pd.DataFrame) -> pd.DataFrame:
    """Incidents by weekday (rows Mon..Sun) x hour (columns 0..23); incidents with no time left out."""
    timed = signatures.dropna(subset=["weekday", "hour"])
    grid = pd.crosstab(timed.weekday.astype(int), timed.hour.astype(int)) if len(timed) else pd.DataFrame()
    grid = grid.reindex(index=range(7), columns=range(24), fill_value=0).fillna(0).astype(int)
    grid.index = list(DAY_NAMES)
    return grid


def day_hour_figure(signatures: pd.DataFrame, title: str = "Incidents by day of week and hour"):
    """The day x hour heat matrix of a series' incidents (signatures: weekday 0 = Monday, hour)."""
    import plotly.graph_objects as go

    grid = day_hour_frame(signatures)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[f"{h:02d}" for h in grid.columns], y=list(grid.index),
                               colorscale="Blues", colorbar={"title": "incidents"},
                               hovertemplate="%{y} %{x}:00-%{x}:59<br>%{z} incidents<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="")
    fig.update_xaxes(title="hour of the day (as recorded)", dtick=1)
    untimed = int(len(signatures) - grid.to_numpy().sum())
    fig.update_layout(title={"text": esc(title + (f" ({untimed} without a time left out)" if untimed else ""))},
                      template="plotly_white", height=360, margin={"l": 60, "r": 20, "t": 60, "b": 50})
    return fig


# -- route map -------------------------------------------------------------------------------------------
def bearing_deg(lat1, lon1, lat2, lon2) -> float:
    """Initial compass bearing (0 = north, clockwise) from point 1 to point 2."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def route_legs(cb) -> pd.DataFrame:
    """Every leg of every run with both end points placed, its colour (per run) and direction (bearing)."""
    route = cb.runs.route[cb.runs.route.run_id.notna()]
    place = {r.incident_id: r for r in route.itertuples()}
    rows = []
    run_ids = list(dict.fromkeys(cb.runs.runs.run_id))
    colour = {rid: RUN_COLOURS[k % len(RUN_COLOURS)] for k, rid in enumerate(run_ids)}
    for leg in cb.runs.legs.itertuples():
        a, b = place.get(leg.from_incident), place.get(leg.to_incident)
        if a is None or b is None:
            continue
        rows.append({"run_id": leg.run_id, "leg": int(leg.leg), "from_lat": float(a.latitude),
                     "from_lon": float(a.longitude), "to_lat": float(b.latitude), "to_lon": float(b.longitude),
                     "from_at": leg.from_at, "to_at": leg.to_at, "from_place": a.town, "to_place": b.town,
                     "from_force": leg.from_force, "to_force": leg.to_force, "road_km": leg.road_km,
                     "speed_kmh": leg.speed_kmh, "crosses_border": bool(leg.crosses_border),
                     "colour": colour.get(leg.run_id, RUN_COLOURS[0]),
                     "bearing": bearing_deg(a.latitude, a.longitude, b.latitude, b.longitude)})
    return pd.DataFrame(rows, columns=["run_id", "leg", "from_lat", "from_lon", "to_lat", "to_lon", "from_at",
                                       "to_at", "from_place", "to_place", "from_force", "to_force", "road_km",
                                       "speed_kmh", "crosses_border", "colour", "bearing"])


def recent_runs(cb, keep: int):
    """The analysis with only its `keep` most recent runs on the route, and the single visits since the first of
    them: what the route map shows of a series too large for its size bound (the series itself is unchanged).
    Returns (analysis, since)."""
    import dataclasses

    runs = cb.runs.runs.sort_values("start_at")
    kept = runs.tail(max(1, int(keep)))
    since = kept.start_at.min()
    ids = set(kept.run_id)
    route = cb.runs.route
    on_route = route.run_id.isin(ids) | (route.run_id.isna() & (route.occurred_at >= since))
    thinned = dataclasses.replace(cb.runs, runs=cb.runs.runs[cb.runs.runs.run_id.isin(ids)],
                                  legs=cb.runs.legs[cb.runs.legs.run_id.isin(ids)], route=route[on_route])
    return dataclasses.replace(cb, runs=thinned), since


def route_force_map(cb, title: str | None = None, playback: bool | None = None, note: str | None = None):
    """The route map as a workbench.maps.ForceMap (offline, marked, attributed page: `.to_html()`, `.save()`).
    `note`: said under the title (e.g. that only the recent runs are shown)."""
    import folium

    from workbench import maps

    s = cb.series
    fm = maps.ForceMap(title or f"Runs of {s.kind} {s.series_id}",
                       subtitle=f"{len(cb.runs.runs)} runs (same-day chains feasible by road) from "
                                f"{len(s.incidents)} incidents in {s.incidents.force_code.nunique()} forces"
                                + (f". {note}" if note else ""))
    forces = [f for f in s.incidents.force_code.dropna().unique()]
    fm.add_force_outlines(forces)
    names = force_labels(cb)
    legs = route_legs(cb)
    features = []
    for leg in legs.itertuples():
        tip = render.tooltip(heading=f"{leg.run_id} leg {leg.leg}",
                             lines=[f"{_when(leg.from_at)} {leg.from_place or ''} ({_label(leg.from_force, names)})",
                                    f"to {_when(leg.to_at)} {leg.to_place or ''} ({_label(leg.to_force, names)})",
                                    f"{float(leg.road_km):.0f} road km at {float(leg.speed_kmh):.0f} km/h"
                                    + ("; crosses a force border" if leg.crosses_border else "")])
        features.append({"type": "Feature", "properties": {"tooltip": tip, "colour": leg.colour,
                                                           "border": bool(leg.crosses_border)},
                         "geometry": {"type": "LineString",
                                      "coordinates": [[round(leg.from_lon, 6), round(leg.from_lat, 6)],
                                                      [round(leg.to_lon, 6), round(leg.to_lat, 6)]]}})
    if features:
        folium.GeoJson({"type": "FeatureCollection", "features": features}, name="Run legs",
                       style_function=lambda f: {"color": f["properties"]["colour"], "weight": 3,
                                                 "opacity": 0.8, "dashArray": None if f["properties"]["border"]
                                                 else "6 4"},
                       tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True)).add_to(fm.map)
        arrows = folium.FeatureGroup(name="Direction of travel")
        for leg in legs.itertuples():
            icon = folium.DivIcon(html=str(render.fragment("crossborder_arrow.html.j2", colour=leg.colour,
                                                           angle=round(float(leg.bearing), 1))),
                                  icon_size=(16, 16), icon_anchor=(8, 8), class_name="wb-arrow")
            folium.Marker([(leg.from_lat + leg.to_lat) / 2, (leg.from_lon + leg.to_lon) / 2], icon=icon,
                          interactive=False).add_to(arrows)
        arrows.add_to(fm.map)
    stops = []
    route = cb.runs.route
    inc = s.incidents.set_index("incident_id")
    for r in route.itertuples():
        extra = inc.loc[r.incident_id] if r.incident_id in inc.index else None
        lines = [_when(r.occurred_at), f"{r.store_name or ''}, {r.town or ''}", f"force {_label(r.force_code, names)}"]
        if extra is not None:
            lines += [f"crime number {extra.crime_number}", f"tactics: {_codes(extra.tactics)}"]
        heading = f"{r.run_id} stop {int(r.seq)}" if isinstance(r.run_id, str) else "single visit"
        stops.append({"type": "Feature", "properties": {"tooltip": render.tooltip(heading=heading, lines=lines),
                                                        "colour": SINGLE_COLOUR if not isinstance(r.run_id, str)
                                                        else VIOLENT_COLOUR if (extra is not None and bool(extra.violence))
                                                        else "#08306b"},
                      "geometry": {"type": "Point", "coordinates": [round(float(r.longitude), 6),
                                                                    round(float(r.latitude), 6)]}})
    if stops:
        folium.GeoJson({"type": "FeatureCollection", "features": stops}, name="Incidents",
                       marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=0.85),
                       style_function=lambda f: {"color": f["properties"]["colour"],
                                                 "fillColor": f["properties"]["colour"]},
                       tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False)).add_to(fm.map)
    if len(cb.home):
        h = cb.home.iloc[0]
        folium.CircleMarker([float(h.latitude), float(h.longitude)], radius=11, color=HOME_COLOUR, weight=3,
                            fill=False,
                            tooltip=render.tooltip(heading="Estimated home base",
                                                   lines=[f"near {h.town or ''} ({_label(h.force_code, names)})",
                                                          f"{int(h.points_near)} of {int(h.points)} run ends within "
                                                          "the home-base radius"])).add_to(fm.map)
    if playback is None or playback:
        _add_playback(fm, cb, required=bool(playback))
    placed = route.dropna(subset=["latitude", "longitude"])
    if len(placed):
        fm.map.fit_bounds([[float(placed.latitude.min()), float(placed.longitude.min())],
                           [float(placed.latitude.max()), float(placed.longitude.max())]], padding=(30, 30))
    fm.set_legend("Route", [(RUN_COLOURS[0], "run leg (colour per run; solid: crosses a force border)"),
                            ("#08306b", "incident in a run"), (VIOLENT_COLOUR, "incident with violence or threats"),
                            (SINGLE_COLOUR, "single visit"), (HOME_COLOUR, "estimated home base (ring)")])
    runs = cb.runs.runs
    fm.add_table(f"Runs ({len(runs)})", [(f"{r.run_id} {r.date}", f"{_when(r.start_at)[11:]}-{_when(r.end_at)[11:]} "
                                          f"{r.force_path}") for r in runs.head(40).itertuples()])
    if len(runs) > 40:
        fm.notes.append(f"the first 40 of {len(runs)} runs are listed; every run is drawn")
    if len(cb.runs.skipped):
        fm.notes.append(f"{len(cb.runs.skipped)} incidents without a time or a place are not drawn")
    folium.LayerControl(collapsed=True).add_to(fm.map)
    fm._layer_control = True
    return fm


PLAYBACK_JS = [("iso8601", "https://cdn.jsdelivr.net/npm/iso8601-js-period@0.2.1/iso8601.min.js"),
               ("leaflet.timedimension",
                "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js"),
               ("moment", "https://cdnjs.cloudflare.com/ajax/libs/moment.js/2.18.1/moment.min.js")]
PLAYBACK_STEP = "P1D"          # ISO 8601: the player's step and how long a stop stays shown
PLAYBACK_CSS = [("leaflet.timedimension_css",
                 "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css")]


def playback_available() -> bool:
    """Whether the playback assets (pinned in workbench/maps_assets.lock.json) have been fetched (make assets)."""
    from workbench import maps

    try:
        for _, url in PLAYBACK_JS + PLAYBACK_CSS:
            maps.asset_path(url)
    except WorkbenchError:
        return False
    return True


def _add_playback(fm, cb, required: bool) -> bool:
    """Playback of the stops by time (folium TimestampedGeoJson) when its assets are fetched: the control steps
    a day at a time from the first stop (an hourly step would be some 17,000 frames over two years) and each frame
    shows the stops of the day up to it. Only leaflet-timedimension, iso8601-js-period and moment are loaded
    (folium also lists jQuery, jQuery UI and a highlight.js stylesheet, which the player does not use)."""
    import folium
    import folium.plugins

    from workbench import maps

    if not playback_available():
        if required:
            for _, url in PLAYBACK_JS + PLAYBACK_CSS:
                maps.asset_path(url)       # raises the one-line error naming the missing asset
        fm.notes.append("playback by time is not available: its assets are not fetched (make assets)")
        return False
    route = cb.runs.route.dropna(subset=["latitude", "longitude", "occurred_at"])
    if route.empty:
        return False
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(r.longitude), 6),
                                                                                  round(float(r.latitude), 6)]},
                 "properties": {"time": pd.Timestamp(r.occurred_at).strftime("%Y-%m-%dT%H:%M:%S"),
                                "icon": "circle", "iconstyle": {"color": "#000", "fillColor": "#ffd700",
                                                                "fillOpacity": 0.9, "radius": 6}}}
                for r in route.itertuples()]
    layer = folium.plugins.TimestampedGeoJson({"type": "FeatureCollection", "features": features},
                                              period=PLAYBACK_STEP, duration=PLAYBACK_STEP, add_last_point=False,
                                              auto_play=False, loop=False, date_options="YYYY-MM-DD HH:mm")
    layer.default_js = list(PLAYBACK_JS)
    layer.default_css = list(PLAYBACK_CSS)
    layer.add_to(fm.map)
    fm.map.get_root().header.add_child(folium.Element(str(render.fragment("crossborder_playback_style.html.j2"))))
    fm.notes.append("playback: the time control (bottom left) steps day by day from the first stop; each frame "
                    "shows the stops of the 24 hours up to it")
    return True


def route_map(cb, title: str | None = None):
    """The route map of a series' runs as a folium.Map (for a notebook); its offline, marked page is
    `route_force_map(cb).to_html()`."""
    return route_force_map(cb, title=title).map


def route_map_html(cb, title: str | None = None) -> str:
    """The self-contained, marked HTML page of the route map (assets inlined), e.g. for an iframe srcdoc."""
    return route_force_map(cb, title=title).to_html()


# -- tactic spread (small multiples) ----------------------------------------------------------------------
def _force_outlines():
    """Force polygons simplified for small maps, as lists of (lon, lat) rings per force code."""
    import shapely

    from workbench import geography

    areas = geography.force_areas()
    metric = areas.to_crs(geography.METRIC_CRS)
    simple = shapely.coverage_simplify(shapely.make_valid(metric.geometry.values), SPREAD_SIMPLIFY_M)
    lonlat = metric.set_geometry(simple).to_crs(4326)
    rings: dict[str, list] = {}
    for code, name, geom in zip(lonlat.force_code, lonlat.name, lonlat.geometry):
        polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
        rings[code] = [(name, [(round(x, 3), round(y, 3)) for x, y in p.exterior.coords])
                       for p in polys if p.area > 1e-4]
    return rings


def tactic_spread_maps(trends, tactics: list[str] | None = None, max_panels: int = MAX_SPREAD_PANELS,
                       title: str = "Tactic spread across force areas"):
    """Small multiples: one map of England & Wales per tactic (rising ones first, then by incidents), each
    force shaded by the month the tactic was first seen there (darker = later; grey = never seen)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    table = trends.trends
    if tactics is None:
        ranked = table.sort_values(["rising", "q_value", "incidents"], ascending=[False, True, False])
        tactics = ranked.tactic_code.head(max_panels).tolist()
    if not tactics:
        raise WorkbenchError("no tactic to map: the store has no incidents with a tactic code")
    first = trends.force_first
    months = sorted(trends.spread.month.unique())
    month_index = {m: k for k, m in enumerate(months)}
    cols = min(4, len(tactics))
    rows = math.ceil(len(tactics) / cols)
    info = table.set_index("tactic_code")

    def panel_title(code):
        r = info.loc[code] if code in info.index else None
        if r is None:
            return esc(code)
        arrow = " rising" if bool(r.rising) else " falling" if bool(r.falling) else ""
        return esc(f"{code}{arrow} (q={float(r.q_value):.3f})" if pd.notna(r.q_value) else code)

    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[panel_title(c) for c in tactics],
                        horizontal_spacing=0.01, vertical_spacing=0.06)
    outlines = _force_outlines()
    scale = "Viridis"
    import plotly.colors as pc

    n_months = max(1, len(months) - 1)
    for k, code in enumerate(tactics):
        r, c = divmod(k, cols)
        sub = first[first.tactic_code == code].set_index("force_code")
        for force, polys in outlines.items():
            seen = force in sub.index
            if seen:
                month = sub.loc[force, "first_month"]
                pos = month_index.get(month, 0) / n_months
                colour = pc.sample_colorscale(scale, [pos])[0]
                hover = (f"<b>{esc(polys[0][0] if polys else force)}</b><br>{esc(code)} first seen "
                         f"{esc(pd.Timestamp(month).strftime('%Y-%m'))}<br>{int(sub.loc[force, 'incidents'])} incidents")
            else:
                colour, hover = "#e6e6e6", f"<b>{esc(polys[0][0] if polys else force)}</b><br>{esc(code)} not seen"
            xs, ys = [], []
            for _name, ring in polys:
                xs += [p[0] for p in ring] + [None]
                ys += [p[1] for p in ring] + [None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=colour,
                                     line={"color": "#555", "width": 0.4}, hoverinfo="text", hoveron="fills",
                                     text=hover, showlegend=False), row=r + 1, col=c + 1)
    # a colour bar for the months (an invisible trace carries it)
    if months:
        ticks = [0, len(months) // 2, len(months) - 1]
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker={"colorscale": scale, "cmin": 0, "cmax": n_months, "color": [0],
                                         "colorbar": {"title": "first seen", "tickvals": ticks,
                                                      "ticktext": [pd.Timestamp(months[t]).strftime("%Y-%m")
                                                                   for t in ticks], "len": 0.6}}),
                      row=1, col=1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    for k in range(len(tactics)):
        axis = "" if k == 0 else str(k + 1)
        fig.layout[f"yaxis{axis}"].update(scaleanchor=f"x{axis}", scaleratio=1 / math.cos(math.radians(52.5)))
    fig.update_layout(title={"text": esc(title)}, template="plotly_white", height=330 * rows + 80,
                      margin={"l": 10, "r": 10, "t": 80, "b": 10}, plot_bgcolor="#ffffff")
    return fig


def tactic_spread_figure(trends, tactics: list[str] | None = None, max_lines: int = MAX_SPREAD_PANELS,
                         title: str = "Forces that have seen each tactic, month by month"):
    """Lines per tactic: forces that have used it so far (left) and its share of the month's incidents (right),
    rising tactics first; hover says which forces were new that month."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    table = trends.trends
    if tactics is None:
        ranked = table.sort_values(["rising", "q_value", "incidents"], ascending=[False, True, False])
        tactics = ranked.tactic_code.head(max_lines).tolist()
    fig = make_subplots(rows=1, cols=2, subplot_titles=["forces that have seen it (cumulative)",
                                                         "share of the month's incidents"])
    for k, code in enumerate(tactics):
        sub = trends.spread[trends.spread.tactic_code == code].sort_values("month")
        colour = RUN_COLOURS[k % len(RUN_COLOURS)]
        hover = [f"<b>{esc(code)}</b> {esc(pd.Timestamp(m).strftime('%Y-%m'))}<br>{int(n)} forces so far"
                 + (f"<br>new: {esc(new.replace(';', ', '))}" if new else "")
                 for m, n, new in zip(sub.month, sub.forces_so_far, sub.new_force_codes)]
        fig.add_trace(go.Scatter(x=sub.month, y=sub.forces_so_far, mode="lines", name=esc(code), legendgroup=code,
                                 line={"color": colour}, hovertext=hover, hoverinfo="text"), row=1, col=1)
        fig.add_trace(go.Scatter(x=sub.month, y=sub.share * 100, mode="lines", name=esc(code), legendgroup=code,
                                 showlegend=False, line={"color": colour},
                                 hovertemplate=f"{esc(code)} %{{x|%Y-%m}}: %{{y:.1f}}%<extra></extra>"), row=1, col=2)
    fig.update_yaxes(title="forces", row=1, col=1)
    fig.update_yaxes(title="% of incidents", row=1, col=2)
    fig.update_layout(title={"text": esc(title)}, template="plotly_white", height=420,
                      margin={"l": 60, "r": 20, "t": 80, "b": 40})
    return fig


# -- pages -----------------------------------------------------------------------------------------------
def plotly_js():
    from plotly.offline import get_plotlyjs

    return render.trusted(get_plotlyjs())


def figures_page(title: str, figures: list, subtitle: str = "", notes=(), tables=()) -> str:
    """A marked page of plotly figures (plotly.js inlined) and tables (columns, rows), from
    crossborder_figures.html.j2; every text is escaped."""
    items = [{"id": f"wb-figure-{k + 1}", "figure": json.loads(fig.to_json()),
              "height": int(fig.layout.height or 450)} for k, fig in enumerate(figures)]
    return render.render("crossborder_figures.html.j2", title=title, subtitle=subtitle, notes=list(notes),
                         figures=items, tables=[dict(t) for t in tables], plotly_js=plotly_js())


def _cell(value):
    """A table cell as shown: lists joined, times to the minute (dates alone at midnight), floats to 4 figures
    (whole numbers from 1,000)."""
    if isinstance(value, (list, tuple)):
        return _codes(value)
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else _when(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.0f}" if abs(float(value)) >= 1000 else f"{float(value):.4g}"
    return value


def _table(frame: pd.DataFrame, columns: list[str], title: str) -> dict:
    rows = [[_cell(v) for v in r] for r in frame[columns].itertuples(index=False)]
    return {"title": title, "columns": columns, "rows": rows}


def lead_page(cb) -> str:
    """The lead-force recommendation: recommended force and runner-up with their reasons, the home base, and
    the "several forces on one group" table (crime numbers and referrals per force)."""
    from workbench.crossborder import lead_summary

    summary = lead_summary(cb)
    s = cb.series
    listed = cb.forces.assign(crime_number_list=cb.forces.crime_number_list.fillna("").str.replace(";", "; "))
    forces = _table(listed, ["force_code", "force_name", "incidents", "crime_numbers", "referrals", "violent",
                                "juvenile_incidents", "value_gbp", "runs", "first_seen", "last_seen", "is_home",
                                "crime_number_list"], "Forces affected")
    scores = _table(cb.lead, ["rank", "force_code", "force_name", "score", "share_home_base", "share_offences",
                              "share_violence", "share_value", "share_juveniles", "reasons"], "Lead-force scores")
    return render.render("crossborder_lead.html.j2", title=f"Lead-force recommendation for {s.kind} {s.series_id}",
                         label=s.label or "", series_id=s.series_id, recommended=summary["recommended"],
                         runner_up=summary["runner_up"], home=summary["home_base"], tables=[forces, scores],
                         incidents=len(s.incidents), runs=len(cb.runs.runs))


def _write(path: Path, page: str) -> Path:
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


def render_group(store, series_id, out_dir, purpose: str | None = None, playback: bool | None = None,
                 cb=None) -> dict:
    """Every view of one group (or person/vehicle) under out_dir/<id>/: timeline, route map, flows (matrix and
    Sankey), day x hour heat matrix and the lead-force recommendation, each audited. Returns {view: path}.
    One-line errors: unknown id, one incident, no time and place, a series inside one force. `cb`: an analysis
    of series_id already made (not recomputed)."""
    from workbench import exports
    from workbench.crossborder import analyse, flows_for

    cb = cb if cb is not None else analyse(store, series_id)
    flows = flows_for(cb)
    folder = exports.check_folder(Path(out_dir)) / cb.series.series_id
    names = force_labels(cb)
    s = cb.series
    label = f" ({s.label})" if s.label else ""
    pages = {
        "timeline": lambda: figures_page(f"Timeline of {s.kind} {s.series_id}{label}", [timeline_figure(cb)],
                                         subtitle=f"{len(s.incidents)} incidents, {len(cb.runs.runs)} runs"),
        "routes": lambda: _bounded_route_page(cb, playback),
        "flows": lambda: figures_page(f"Force-to-force flows of {s.kind} {s.series_id}{label}",
                                      [flow_matrix_figure(flows, names), flow_sankey_figure(flows, names)],
                                      tables=[_table(flows, list(flows.columns), "Flows")]),
        "heat": lambda: figures_page(f"Day and hour of {s.kind} {s.series_id}{label}",
                                     [day_hour_figure(s.incidents)]),
        "lead": lambda: lead_page(cb),
    }
    built = {view: build() for view, build in pages.items()}    # every page first: a failure writes nothing
    written = {}
    for view, page in built.items():
        path = _write(folder / f"{view}{PRODUCT_SUFFIX}", page)
        exports.audit_export(store, "export", path, {"kind": f"crossborder-{view}", "series_id": s.series_id}, purpose)
        written[view] = str(path)
    return written


def _bounded_route_page(cb, playback) -> str:
    """The route map page within maps.max_html_mb: the whole series if it fits, else its most recent runs (half
    as many each try), saying so on the map; the timeline and flows pages keep every incident."""
    limit = float(config.get("maps.max_html_mb", 3)) * 1_000_000
    page = route_force_map(cb, playback=playback).to_html()
    total = len(cb.runs.runs)
    keep = total
    while len(page.encode("utf-8")) > limit and keep > 1:
        keep = max(1, keep // 2)
        recent, since = recent_runs(cb, keep)
        page = route_force_map(recent, playback=playback,
                               note=f"Only the {keep} most recent of {total} runs and the single visits since "
                                    f"{_when(since)[:10]} are drawn: the whole series is over the map's "
                                    f"{limit / 1e6:g} MB bound (the timeline and flows hold every incident)").to_html()
    size = len(page.encode("utf-8"))
    if size > limit:
        raise WorkbenchError(f"{cb.series.series_id}: the route map would be {size / 1e6:.1f} MB even with one run, "
                             f"over the {limit / 1e6:g} MB bound (maps.max_html_mb); not written")
    return page


def render_tactics(store, out_dir, purpose: str | None = None, trends=None) -> dict:
    """The national tactic-trend map (small multiples of first-seen month per force) with the trends table,
    written to out_dir/tactics.html and audited. `trends`: tactic_trends(store) already made."""
    from workbench import exports
    from workbench.crossborder.trends import tactic_trends

    trends = trends if trends is not None else tactic_trends(store)
    folder = exports.check_folder(Path(out_dir))
    table = trends.trends
    rising = int(table.rising.sum())
    page = figures_page("National tactic trends", [tactic_spread_maps(trends), tactic_spread_figure(trends)],
                        subtitle=f"{len(table)} tactics; {rising} rising nationally ({trends.method})",
                        tables=[_table(table, [c for c in ("tactic_code", "name", "kind", "incidents", "forces",
                                                           "first_month", "first_force_code", "trend", "sen_slope_per_year",
                                                           "p_value", "q_value", "rising") if c in table.columns],
                                       "Tactic trends"),
                                _table(trends.first_seen, ["tactic_code", "name", "first_at", "first_store_name",
                                                           "first_town", "first_force_code", "first_force_name",
                                                           "left_censored", "incidents", "stores", "forces"],
                                       "Where and when each tactic was first seen (left_censored: in the store's "
                                       "first month, so probably in use before)")])
    path = _write(folder / "tactics.html", page)
    exports.audit_export(store, "export", path, {"kind": "crossborder-tactics", "tactics": int(len(table)),
                                                 "rising": rising}, purpose)
    return {"tactics": str(path)}
