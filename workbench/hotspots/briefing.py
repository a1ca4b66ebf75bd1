"""Rendering of patrol plans and hotspot maps (never computes: takes the DataFrames plan.py returns).

- `plan_map`: offline single-file map built with workbench.maps.ForceMap (marking, attribution,
  inlined assets) plus its PNG;
- `briefing_html` / `write_briefing`: a printable A4 briefing with the security marking at the top and
  bottom of every page, the period, date range, method and its measured backtest accuracy, the
  table of places, the stores in them and the day x hour profile; PDF by weasyprint, PNG of the
  first page by headless chromium. Every text that reaches a page is HTML-escaped.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import config, geography, maps
from workbench.errors import WorkbenchError
from workbench.hotspots import cells
from workbench.maps import esc

A4_PX = (794, 1123)


def plan_map(plan, out: str | Path, png: bool = True) -> dict:
    m = plan.meta
    fm = maps.ForceMap(f"Patrol plan: {m['force_name']}",
                       subtitle=f"{m['period_start']} to {m['period_end']} - top {m['cells_planned']} places by "
                                f"{m['method']} ({m['unit']})")
    if m.get("force_code"):
        fm.add_force_outlines([m["force_code"]])
    polys = cells.unit_polygons(plan.unit, plan.cells["unit_id"])
    table = plan.cells.set_index("unit_id")
    polys = polys[polys["unit_id"].isin(table.index)]
    values = polys["unit_id"].map(table["expected"]).to_numpy(dtype=float)
    breaks = _breaks(values)
    props = []
    for uid, v in zip(polys["unit_id"], values):
        r = table.loc[uid]
        props.append({"tooltip": f"<b>#{int(r['rank'])}</b> {esc(r['label'])}<br>expected {v:.1f}; last period "
                                 f"{int(r['last_period'])}; stores {int(r['stores_n'])}",
                      "colour": maps.colour_for(max(v, 0.01), breaks)})
    if len(polys):
        fm._add_polygons(polys, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#8c2d04",
                                                  "weight": 1.5, "fillOpacity": 0.7}, "Patrol places", "plan-cell")
        b = polys.total_bounds
        _fit(fm, [[b[1] - 0.02, b[0] - 0.03], [b[3] + 0.02, b[2] + 0.03]])
    if len(plan.stores):
        fm.add_points(plan.stores.assign(label=plan.stores["name"].astype(str)), label="label", name="Stores")
    fm.legend_html = _legend("Expected incidents next period", breaks)
    fm.add_table("Patrol places (rank: expected)",
                 [(f"#{int(r.rank)} {r.label}", f"{r.expected:.1f}") for r in plan.cells.itertuples()])
    fm.notes.append(m["accuracy_short"])
    return _save(fm, out, png)


def screenshot(html_path, png_path, **kw):
    """workbench.maps.screenshot, run in a worker thread when this thread has a running asyncio loop
    (Jupyter kernels do; Playwright's sync API refuses to run inside one)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return maps.screenshot(html_path, png_path, **kw)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(maps.screenshot, html_path, png_path, **kw).result()


def _save(fm, out, png: bool) -> dict:
    result = fm.save(out, png=False)
    if png:
        png_path = Path(out).with_suffix(".png")
        screenshot(Path(out), png_path)
        result.update({"png": str(png_path), "png_bytes": png_path.stat().st_size})
    return result


def _fit(fm, bounds) -> None:
    """Point the map's initial view at `bounds` (replaces ForceMap's national view rather than adding a
    second, animated fitBounds that headless chromium does not finish before the screenshot)."""
    from folium.map import FitBounds

    for child in fm.map._children.values():
        if isinstance(child, FitBounds):
            child.bounds = bounds
            return
    fm.map.fit_bounds(bounds)


def _breaks(values) -> list[float]:
    v = np.asarray([x for x in values if x > 0], dtype=float)
    if not len(v):
        return []
    qs = np.quantile(v, np.linspace(0, 1, min(5, len(v)) + 1)[1:])
    return sorted(set(float(np.round(q, 2)) for q in qs))


def _legend(label: str, breaks: list[float]) -> str:
    palette = maps.PALETTE[-len(breaks):] if breaks and len(breaks) < len(maps.PALETTE) else maps.PALETTE
    rows, lower = [], 0.0
    for bound, colour in zip(breaks, palette):
        rows.append(f'<div><span class="wb-swatch" style="background:{colour}"></span>{lower:.2f} to {bound:.2f}</div>')
        lower = bound
    return f'<div class="wb-legend-title">{esc(label)}</div>' + "".join(rows)


def hotspot_map(gi: pd.DataFrame, unit: cells.Unit, out: str | Path, title: str, subtitle: str,
                force_counts: pd.DataFrame | None = None, png: bool = True, max_cells: int = 3000) -> dict:
    """Significant Gi* hot spots (unit polygons coloured by confidence) over the force outlines."""
    fm = maps.ForceMap(title, subtitle=subtitle)
    fm.add_force_outlines()
    hot = gi[gi["category"].str.startswith("Hot spot")].sort_values("gi_z", ascending=False).head(max_cells)
    colours = {"Hot spot 99%": "#b2182b", "Hot spot 95%": "#ef8a62", "Hot spot 90%": "#fddbc7"}
    if len(hot):
        polys = cells.unit_polygons(unit, hot["unit_id"]).merge(hot[["unit_id", "category", "value", "gi_z"]],
                                                                  on="unit_id")
        props = [{"tooltip": f"{esc(r.category)}<br>incidents {int(r.value)}; Gi* z {r.gi_z:.1f}",
                  "colour": colours[r.category]} for r in polys.itertuples()]
        fm._add_polygons(polys, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#67001f",
                                                  "weight": 0.5, "fillOpacity": 0.85}, "Hot spots", "hot-cell")
    fm.legend_html = ('<div class="wb-legend-title">Getis-Ord Gi* (FDR)</div>'
                      + "".join(f'<div><span class="wb-swatch" style="background:{c}"></span>{esc(k)}</div>'
                                for k, c in colours.items()))
    if force_counts is not None and len(force_counts):
        fm.add_table("Hot spot cells by force", [(r.force_name, f"{int(r.hot_cells):,}")
                                                 for r in force_counts.itertuples()])
    return _save(fm, out, png)


# -- briefing -----------------------------------------------------------------------------------------
def _table(frame: pd.DataFrame, columns: dict[str, str], fmt: dict | None = None) -> str:
    fmt = fmt or {}
    head = "".join(f"<th>{esc(label)}</th>" for label in columns.values())
    rows = []
    for r in frame.itertuples(index=False):
        cells_html = []
        for col in columns:
            v = getattr(r, col)
            cells_html.append(f"<td>{esc(fmt[col](v) if col in fmt else v)}</td>")
        rows.append("<tr>" + "".join(cells_html) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _profile_html(profile: pd.DataFrame) -> str:
    peak = max(float(profile.to_numpy().max()), 1.0)
    head = "<th></th>" + "".join(f"<th>{h:02d}</th>" for h in profile.columns)
    rows = []
    for day, row in profile.iterrows():
        tds = "".join(f'<td style="background: rgba(217,72,1,{v / peak:.2f})">{int(v) if v else ""}</td>'
                      for v in row.to_numpy())
        rows.append(f"<tr><th>{esc(day)}</th>{tds}</tr>")
    note = f'<p class="note">{esc(profile.attrs["note"])}</p>' if profile.attrs.get("note") else ""
    return f'<table class="profile"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}'


def briefing_html(plan, map_png: str | Path | None = None) -> str:
    m = plan.meta
    marking = esc(config.security_marking())
    image = ""
    if map_png and Path(map_png).exists():
        data = base64.b64encode(Path(map_png).read_bytes()).decode()
        image = f'<img class="map" alt="map of the patrol places" src="data:image/png;base64,{data}">'
    acc = plan.accuracy
    acc_rows = acc.assign(cov=acc["coverage"].map(lambda c: f"{c:.0%}"))
    places = _table(plan.cells, {"rank": "#", "label": "Place", "expected": "Expected", "last_period": "Last period",
                                 "stores_n": "Stores", "stores": "Stores inside"},
                    {"expected": lambda v: f"{v:.1f}", "last_period": lambda v: f"{int(v)}",
                     "stores": lambda v: (v[:160] + "...") if len(str(v)) > 160 else v})
    stores = _table(plan.stores, {"rank": "Place #", "store_id": "Store", "name": "Name", "town": "Town"}) \
        if len(plan.stores) and "town" in plan.stores else "<p>No stores recorded in these places.</p>"
    accuracy = _table(acc_rows, {"method": "Method", "cov": "Area flagged", "hit_rate": "Hit rate", "pai": "PAI",
                                 "pei_star": "PEI*"},
                      {"hit_rate": lambda v: f"{v:.0%}", "pai": lambda v: f"{v:.1f}", "pei_star": lambda v: f"{v:.2f}"})
    period_note = ("the 7 days after the latest incident in the data" if m["period"] == "week"
                   else f"the {esc(m['period'])} after the latest data")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Patrol briefing: {esc(m['force_name'])}</title>
<style>
  @page {{ size: A4; margin: 22mm 14mm 22mm 14mm; }}
  body {{ font: 10pt/1.35 "DejaVu Sans", sans-serif; color: #111; margin: 0; }}
  .marking {{ position: fixed; left: 0; right: 0; text-align: center; font-weight: bold; letter-spacing: 0.1em;
             color: #fff; background: #b00020; padding: 2px 0; }}
  .marking.top {{ top: -16mm; }} .marking.bottom {{ bottom: -16mm; }}
  @media screen {{ body {{ margin: 40px 30px; }} .marking.top {{ top: 0; }} .marking.bottom {{ bottom: 0; }} }}
  h1 {{ font-size: 16pt; margin: 0 0 4px; }} h2 {{ font-size: 12pt; margin: 14px 0 4px; }}
  .facts td {{ padding: 1px 8px 1px 0; vertical-align: top; }} .facts td:first-child {{ font-weight: bold; }}
  table {{ border-collapse: collapse; width: 100%; }}
  thead th {{ text-align: left; border-bottom: 1px solid #333; font-size: 9pt; }}
  tbody td {{ border-bottom: 1px solid #ddd; font-size: 9pt; padding: 1px 4px; }}
  .profile td, .profile th {{ font-size: 7pt; text-align: center; padding: 1px; border: 1px solid #eee; }}
  img.map {{ width: 100%; max-height: 120mm; object-fit: contain; border: 1px solid #999; }}
  .accuracy {{ background: #f4f4f4; padding: 6px; border-left: 4px solid #d94801; }}
  .note {{ color: #444; font-size: 8pt; }}
</style></head>
<body>
<div class="marking top" id="marking-top">{marking}</div>
<div class="marking bottom" id="marking-bottom">{marking}</div>
<h1>Patrol briefing: {esc(m['force_name'])}</h1>
<table class="facts">
<tr><td>Period planned</td><td>{esc(m['period_start'])} to {esc(m['period_end'])} ({period_note})</td></tr>
<tr><td>Data used</td><td>{m['events']:,} incidents from {esc(m['data_from'])} to {esc(m['data_to'])}</td></tr>
<tr><td>Method</td><td>{esc(m['method'])}: {esc(m['method_description'])}; units {esc(m['unit'])}</td></tr>
<tr><td>Places</td><td>top {m['cells_planned']} places, {m['planned_area_share']:.1%} of the {m['area_km2']:,} km&sup2; area,
 expected {m['expected_in_plan']:.1f} of {m['expected_total']:.1f} incidents</td></tr>
</table>
<p class="accuracy"><b>How far to trust this map.</b> {esc(m['accuracy'])}</p>
{image}
<h2>Places to patrol</h2>
{places}
<h2>When: day of week x hour of day (incidents in these places since {esc(m['profile_from'])})</h2>
{_profile_html(plan.profile)}
<h2>Stores in these places</h2>
{stores}
<h2>Measured accuracy (rolling-origin backtest)</h2>
{accuracy}
<p class="note">Hit rate: share of next period's crime inside the flagged area. PAI: hit rate divided by the share of
area flagged. PEI*: crime captured divided by the most the same number of places could have captured.
{esc(geography.ATTRIBUTION)}</p>
</body></html>
"""


def write_briefing(plan, out_dir: str | Path, png: bool = True, map_png: str | Path | None = None) -> dict:
    """briefing.html, briefing.pdf (weasyprint) and briefing.png (first page, chromium) in out_dir."""
    from weasyprint import HTML

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = briefing_html(plan, map_png)
    html_path = out_dir / "briefing.html"
    html_path.write_text(page, encoding="utf-8")
    doc = HTML(string=page, base_url=str(out_dir)).render()
    pdf_path = out_dir / "briefing.pdf"
    doc.write_pdf(pdf_path)
    result = {"briefing_html": str(html_path), "pdf": str(pdf_path), "pdf_pages": len(doc.pages),
              "pdf_bytes": pdf_path.stat().st_size}
    if png:
        png_path = out_dir / "briefing.png"
        screenshot(html_path, png_path, width=A4_PX[0], height=A4_PX[1])
        result["png"] = str(png_path)
    return result


def page_texts(pdf_document) -> list[str]:
    """Text laid out on each page of a rendered weasyprint document (for checks and tests)."""
    def walk(box, acc):
        text = getattr(box, "text", None)
        if text:
            acc.append(text)
        for child in getattr(box, "children", []) or []:
            walk(child, acc)
        return acc
    return [" ".join(walk(p._page_box, [])) for p in pdf_document.pages]


def plan_outputs(plan, out_dir: str | Path, png: bool = True) -> dict:
    """Everything a planner gets: plan.csv, stores.csv, profile.csv, map.html/.png, briefing.html/.pdf/.png."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"{out_dir}: cannot create output directory: {exc.strerror}") from None
    plan.cells.to_csv(out_dir / "plan.csv", index=False)
    plan.stores.to_csv(out_dir / "stores.csv", index=False)
    plan.profile.to_csv(out_dir / "profile.csv")
    plan.accuracy.to_csv(out_dir / "accuracy.csv", index=False)
    result = {"plan_csv": str(out_dir / "plan.csv")}
    result.update({f"map_{k}": v for k, v in plan_map(plan, out_dir / "map.html", png=png).items()})
    result.update(write_briefing(plan, out_dir, png=png, map_png=out_dir / "map.png"))
    return result
