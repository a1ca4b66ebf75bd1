"""Chart geometry for a package: the incident map and the association chart as plain coordinates (no markup).

The templates draw them as inline SVG (HTML and PDF); formats.py draws the same geometry as PNG for the DOCX.
Layouts are deterministic (projection and a circle ordered by id), so the same store gives the same picture.
"""
from __future__ import annotations

import math

import pandas as pd

# colours with a contrast of at least 4.5:1 on the chart's background (WCAG 1.4.11 asks 3:1 of graphics; the
# legend's text is black): tests/test_packages_sections.py checks every one
BACKGROUND = "#fbfbf8"
PALETTE = ("#1b7a5e", "#c0500a", "#6a5fa8", "#c2186f", "#4d7f16", "#8a6a00", "#8c5f14", "#555555", "#1f6aa5",
           "#3b7d3b", "#b03a48", "#7a4f9a")
PERSON, VEHICLE = "#1f6aa5", "#a05a00"
CO_OFFENDED, TRAVELLED_IN = "#444444", "#888888"
ROUTE = "#777777"
ALT_LINKS_MAX = 5
WIDTH, HEIGHT, PAD = 640, 480, 24


def _project(lat, lon, box):
    lat0 = (box[0] + box[1]) / 2
    kx = math.cos(math.radians(lat0))
    span_x = max((box[3] - box[2]) * kx, 1e-6)
    span_y = max(box[1] - box[0], 1e-6)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    x = PAD + (lon - box[2]) * kx * scale
    y = HEIGHT - PAD - (lat - box[0]) * scale
    return round(float(x), 1), round(float(y), 1)


def map_geometry(incidents: pd.DataFrame, route: pd.DataFrame, home: pd.DataFrame) -> dict:
    """Incident points coloured by force, same-day runs as lines, the home base as a ring."""
    placed = incidents.dropna(subset=["latitude", "longitude"])
    if placed.empty:
        return {"width": WIDTH, "height": HEIGHT, "points": [], "lines": [], "home": None, "legend": [],
                "alt": f"Map of the incidents: none of the {len(incidents):,} incidents has a place to draw."}
    lats, lons = placed.latitude.astype(float), placed.longitude.astype(float)
    box = (lats.min() - 0.05, lats.max() + 0.05, lons.min() - 0.05, lons.max() + 0.05)
    forces = sorted({str(f) for f in placed.force_code.dropna()})
    colour = {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(forces)}
    points = []
    for r in placed.sort_values("incident_id").itertuples():
        x, y = _project(r.latitude, r.longitude, box)
        points.append({"x": x, "y": y, "colour": colour.get(str(r.force_code), "#999999"),
                       "title": f"{r.crime_number or r.incident_id} ({r.force_code})"})
    lines = []
    if len(route):
        for run_id, legs in route.dropna(subset=["latitude", "longitude"]).groupby("run_id", sort=True):
            legs = legs.sort_values("seq")
            if len(legs) > 1:
                lines.append([_project(a, b, box) for a, b in zip(legs.latitude, legs.longitude)])
    spot = None
    if len(home) and not pd.isna(home.latitude.iloc[0]):
        x, y = _project(float(home.latitude.iloc[0]), float(home.longitude.iloc[0]), box)
        spot = {"x": x, "y": y, "label": f"home base: {home.town.iloc[0]}"}
    names = incidents.dropna(subset=["force_code"]).drop_duplicates("force_code").set_index("force_code").force_name
    legend = [{"colour": colour[f], "label": f"{f} {names.get(f, '') if isinstance(names.get(f, ''), str) else ''}"}
              for f in forces]
    per_force = placed.groupby(placed.force_code.astype(str)).size()
    alt = (f"Map of the {len(placed):,} incidents with a place" +
           (f" ({len(incidents) - len(placed):,} more have none)" if len(placed) < len(incidents) else "") +
           f", coloured by force area: " + "; ".join(f"{item['label'].strip()}: {int(per_force.get(f, 0)):,}"
                                                   for f, item in zip(forces, legend)) +
           f". {len(lines):,} same-day runs are drawn as grey lines between their incidents" +
           (f"; the estimated home base is ringed, near {home.town.iloc[0]}." if spot else "; no home base estimated."))
    return {"width": WIDTH, "height": HEIGHT, "points": points,
            "lines": [" ".join(f"{x},{y}" for x, y in line) for line in lines], "line_points": lines,
            "home": spot, "legend": legend, "alt": alt}


def link_geometry(network) -> dict:
    """Persons and vehicles on a circle (persons first, each ordered by id), co-offending and travelled-in links
    with a width by incidents shared."""
    nodes = network.nodes[network.nodes.kind.isin(["person", "vehicle"])].copy()
    nodes = nodes.sort_values(["kind", "node_id"])
    n = len(nodes)
    cx, cy, radius = WIDTH / 2, HEIGHT / 2, min(WIDTH, HEIGHT) / 2 - 70
    pos, out_nodes = {}, []
    for i, r in enumerate(nodes.itertuples()):
        angle = 2 * math.pi * i / max(n, 1) - math.pi / 2
        x, y = round(cx + radius * math.cos(angle), 1), round(cy + radius * math.sin(angle), 1)
        pos[r.node_id] = (x, y)
        lx, ly = round(cx + (radius + 16) * math.cos(angle), 1), round(cy + (radius + 16) * math.sin(angle), 1)
        out_nodes.append({"x": x, "y": y, "lx": lx, "ly": ly, "kind": r.kind, "label": str(r.label or r.node_id),
                          "anchor": "start" if math.cos(angle) > 0.1 else ("end" if math.cos(angle) < -0.1 else "middle")})
    edges = network.edges[network.edges.kind.isin(["co_offended", "travelled_in"])]
    edges = edges[edges.source.isin(pos) & edges.target.isin(pos)].sort_values(["source", "target", "kind"])
    top = float(edges.weight.max()) if len(edges) else 1.0
    out_edges = []
    for e in edges.itertuples():
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        w = float(e.weight) if not pd.isna(e.weight) else 1.0
        out_edges.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "kind": e.kind,
                          "width": round(0.5 + 4.5 * w / max(top, 1.0), 2)})
    label = {r.node_id: str(r.label or r.node_id) for r in nodes.itertuples()}
    co = edges[edges.kind == "co_offended"].sort_values(["weight", "source", "target"], ascending=[False, True, True])
    persons, vehicles = int((nodes.kind == "person").sum()), int((nodes.kind == "vehicle").sum())
    alt = (f"Association chart: {persons:,} persons (blue) and {vehicles:,} vehicles (amber) on a circle, "
           f"{len(co):,} co-offending links (dark, wider for more incidents together) and "
           f"{int((edges.kind == 'travelled_in').sum()):,} person-vehicle links (grey). " +
           ("Strongest co-offending links: " + "; ".join(
               f"{label[e.source]} and {label[e.target]} ({int(e.weight) if not pd.isna(e.weight) else 1} incidents)"
               for e in co.head(ALT_LINKS_MAX).itertuples()) + ". " if len(co) else "No co-offending links. ") +
           "The full chart is in associations.anx.")
    return {"width": WIDTH, "height": HEIGHT, "nodes": out_nodes, "edges": out_edges, "alt": alt}


def draw_png(geometry: dict, kind: str, path) -> None:
    """The same geometry as a PNG (for the DOCX, which cannot hold SVG); deterministic bytes."""
    from PIL import Image, ImageDraw, ImageFont

    scale = 2
    img = Image.new("RGB", (geometry["width"] * scale, geometry["height"] * scale), BACKGROUND)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 9 * scale)
    except OSError:
        font = ImageFont.load_default()

    def s(v):
        return v * scale
    if kind == "map":
        for line in geometry.get("line_points", []):
            draw.line([(s(x), s(y)) for x, y in line], fill=ROUTE, width=scale)
        for p in geometry["points"]:
            draw.ellipse([s(p["x"]) - 3 * scale, s(p["y"]) - 3 * scale, s(p["x"]) + 3 * scale, s(p["y"]) + 3 * scale],
                         fill=p["colour"])
        if geometry.get("home"):
            h = geometry["home"]
            draw.ellipse([s(h["x"]) - 9 * scale, s(h["y"]) - 9 * scale, s(h["x"]) + 9 * scale, s(h["y"]) + 9 * scale],
                         outline="#000000", width=2 * scale)
            draw.text((s(h["x"]) + 11 * scale, s(h["y"]) - 5 * scale), h["label"], fill="#000000", font=font)
        for i, item in enumerate(geometry.get("legend", [])):
            y = s(8 + 12 * i)
            draw.rectangle([s(8), y, s(16), y + s(8)], fill=item["colour"])
            draw.text((s(20), y - scale), item["label"], fill="#000000", font=font)
    else:
        for e in geometry["edges"]:
            draw.line([(s(e["x1"]), s(e["y1"])), (s(e["x2"]), s(e["y2"]))],
                      fill=TRAVELLED_IN if e["kind"] == "travelled_in" else CO_OFFENDED,
                      width=max(1, int(round(e["width"] * scale))))
        for nd in geometry["nodes"]:
            fill = PERSON if nd["kind"] == "person" else VEHICLE
            draw.ellipse([s(nd["x"]) - 6 * scale, s(nd["y"]) - 6 * scale, s(nd["x"]) + 6 * scale,
                          s(nd["y"]) + 6 * scale], fill=fill)
            anchor = {"start": "lm", "end": "rm", "middle": "mm"}[nd["anchor"]]
            draw.text((s(nd["lx"]), s(nd["ly"])), nd["label"][:28], fill="#000000", font=font, anchor=anchor)
    img.save(path, format="PNG", optimize=False)


__all__ = ["draw_png", "link_geometry", "map_geometry"]
