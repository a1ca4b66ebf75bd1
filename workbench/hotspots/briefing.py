"""Rendering of patrol plans and hotspot maps (never computes: takes the DataFrames plan.py returns).

- `plan_map`: offline single-file map built with workbench.maps.ForceMap (marking, attribution,
  inlined assets) plus its PNG;
- `briefing_html` / `write_briefing`: a printable A4 briefing with the security marking at the top and
  bottom of every page, the period, date range, method and its measured backtest accuracy, the
  table of places, the stores in them and the day x hour profile; PDF by weasyprint, PNG of the
  first page by headless chromium;
- `plan_outputs`: the tables (plan, stores, profile, accuracy CSVs) through the shared formula-safe writer
  workbench.exports, then the map and briefing; it returns every file written, for the audit.

Pages are Jinja2 templates (workbench/templates/briefing.html.j2, map.html.j2) rendered with
autoescaping by workbench.render: every text that reaches a page is escaped, nothing is assembled as
HTML here.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import exports, geography, maps, render
from workbench.errors import WorkbenchError
from workbench.hotspots import cells

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
        props.append({"tooltip": render.tooltip(heading=f"#{int(r['rank'])}", text=r["label"],
                                                lines=[f"expected {v:.1f}; last period {int(r['last_period'])}; "
                                                       f"stores {int(r['stores_n'])}"]),
                      "colour": maps.colour_for(max(v, 0.01), breaks)})
    if len(polys):
        fm._add_polygons(polys, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#8c2d04",
                                                  "weight": 1.5, "fillOpacity": 0.7}, "Patrol places", "plan-cell")
        b = polys.total_bounds
        _fit(fm, [[b[1] - 0.02, b[0] - 0.03], [b[3] + 0.02, b[2] + 0.03]])
    if len(plan.stores):
        fm.add_points(plan.stores.assign(label=plan.stores["name"].astype(str)), label="label", name="Stores")
    fm.set_legend("Expected incidents next period", _legend_rows(breaks))
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
        try:
            screenshot(Path(out), png_path)
        except BaseException:    # no half product: the map is written with its PNG or not at all
            Path(out).unlink(missing_ok=True)
            png_path.unlink(missing_ok=True)
            raise
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


def _legend_rows(breaks: list[float]) -> list[tuple[str, str]]:
    palette = maps.PALETTE[-len(breaks):] if breaks and len(breaks) < len(maps.PALETTE) else maps.PALETTE
    rows, lower = [], 0.0
    for bound, colour in zip(breaks, palette):
        rows.append((colour, f"{lower:.2f} to {bound:.2f}"))
        lower = bound
    return rows


# Gi* confidence classes, darkest for the most confident: one hue (ColorBrewer RdBu's red half), lightness falling
# with confidence so the classes read in greyscale and for colour-blind viewers (tests/test_accessibility.py)
GI_COLOURS = {"Hot spot 99%": "#b2182b", "Hot spot 95%": "#ef8a62", "Hot spot 90%": "#fddbc7"}


def hotspot_map(gi: pd.DataFrame, unit: cells.Unit, out: str | Path, title: str, subtitle: str,
                force_counts: pd.DataFrame | None = None, png: bool = True, max_cells: int = 3000) -> dict:
    """Significant Gi* hot spots (unit polygons coloured by confidence) over the force outlines."""
    fm = maps.ForceMap(title, subtitle=subtitle)
    fm.add_force_outlines()
    hot = gi[gi["category"].str.startswith("Hot spot")].sort_values("gi_z", ascending=False).head(max_cells)
    colours = GI_COLOURS
    if len(hot):
        polys = cells.unit_polygons(unit, hot["unit_id"]).merge(hot[["unit_id", "category", "value", "gi_z"]],
                                                                  on="unit_id")
        props = [{"tooltip": render.tooltip(lines=[r.category, f"incidents {int(r.value)}; Gi* z {r.gi_z:.1f}"]),
                  "colour": colours[r.category]} for r in polys.itertuples()]
        fm._add_polygons(polys, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#67001f",
                                                  "weight": 0.5, "fillOpacity": 0.85}, "Hot spots", "hot-cell")
    fm.set_legend("Getis-Ord Gi* (FDR)", [(c, k) for k, c in colours.items()])
    if force_counts is not None and len(force_counts):
        fm.add_table("Hot spot cells by force", [(r.force_name, f"{int(r.hot_cells):,}")
                                                 for r in force_counts.itertuples()])
    return _save(fm, out, png)


# -- briefing -----------------------------------------------------------------------------------------
def _rows(frame: pd.DataFrame, columns: dict[str, str], fmt: dict | None = None) -> dict:
    """{"columns": labels, "rows": display values} for a data table of the briefing template."""
    fmt = fmt or {}
    rows = [[fmt[c](getattr(r, c)) if c in fmt else getattr(r, c) for c in columns]
            for r in frame.itertuples(index=False)]
    return {"columns": list(columns.values()), "rows": rows}


def _profile(profile: pd.DataFrame) -> dict:
    peak = max(float(profile.to_numpy().max()), 1.0)
    # each cell: its background from the map's sequential palette, the text colour that reads on it (WCAG AA),
    # the count (blank for none)
    rows = [(day, [(maps.palette_colour(v / peak), maps.text_colour_on(maps.palette_colour(v / peak)),
                    int(v) if v else "") for v in row.to_numpy()]) for day, row in profile.iterrows()]
    return {"hours": [int(h) for h in profile.columns], "rows": rows, "note": profile.attrs.get("note") or ""}


def briefing_html(plan, map_png: str | Path | None = None) -> str:
    """The briefing page: templates/briefing.html.j2 on the marked base page; every value escaped."""
    m = plan.meta
    image = ""
    if map_png and Path(map_png).exists():
        image = base64.b64encode(Path(map_png).read_bytes()).decode()
    acc = plan.accuracy
    acc_rows = acc.assign(cov=acc["coverage"].map(lambda c: f"{c:.0%}"))
    places = _rows(plan.cells, {"rank": "#", "label": "Place", "expected": "Expected", "last_period": "Last period",
                                "stores_n": "Stores", "stores": "Stores inside"},
                   {"expected": lambda v: f"{v:.1f}", "last_period": lambda v: f"{int(v)}",
                    "stores": lambda v: (v[:160] + "...") if len(str(v)) > 160 else v})
    stores = _rows(plan.stores, {"rank": "Place #", "store_id": "Store", "name": "Name", "town": "Town"}) \
        if len(plan.stores) and "town" in plan.stores else None
    accuracy = _rows(acc_rows, {"method": "Method", "cov": "Area flagged", "hit_rate": "Hit rate", "pai": "PAI",
                                "pei_star": "PEI*"},
                     {"hit_rate": lambda v: f"{v:.0%}", "pai": lambda v: f"{v:.1f}", "pei_star": lambda v: f"{v:.2f}"})
    period_note = ("the calendar week (Monday to Sunday) after the last week of data" if m["period"] == "week"
                   else f"the {m['period']} after the latest data")
    return render.render("briefing.html.j2", title=f"Patrol briefing: {m['force_name']}", meta=m,
                         period_note=period_note, map_png_base64=image, places=places, stores=stores,
                         accuracy=accuracy, profile=_profile(plan.profile), attribution=geography.ATTRIBUTION,
                         map_alt=(f"Map of the top {m['cells_planned']} places to patrol in {m['force_name']}, "
                                  f"{m['period_start']} to {m['period_end']}, darker where more incidents are "
                                  "expected; the same places are listed in the table below"))


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


PLAN_TABLES = ("plan.csv", "stores.csv", "profile.csv", "accuracy.csv")


def plan_outputs(plan, out_dir: str | Path, png: bool = True) -> dict:
    """Everything a planner gets: plan.csv, stores.csv, profile.csv, accuracy.csv (formula-safe, through
    workbench.exports), map.html/.png, briefing.html/.pdf/.png. `result["files"]` lists every file written;
    if a step fails, the files written so far and those of the failed step are deleted."""
    out_dir = exports.check_folder(out_dir)
    written: list[str] = []
    step: list[Path] = []
    try:
        tables = {"plan.csv": plan.cells, "stores.csv": plan.stores,
                  "profile.csv": plan.profile.reset_index(), "accuracy.csv": plan.accuracy}
        for name, frame in tables.items():
            step = [out_dir / name]
            written.append(exports.write_table(frame, out_dir / name)["file"])
        step = [out_dir / "map.html", out_dir / "map.png"]
        result = {"plan_csv": str(out_dir / "plan.csv")}
        result.update({f"map_{k}": v for k, v in plan_map(plan, out_dir / "map.html", png=png).items()})
        written += [result[k] for k in ("map_html", "map_png") if k in result]
        step = [out_dir / "briefing.html", out_dir / "briefing.pdf", out_dir / "briefing.png"]
        # the map image of this plan only (never an older plan's map.png left in the folder)
        briefing = write_briefing(plan, out_dir, png=png, map_png=result.get("map_png"))
        result.update(briefing)
        written += [briefing[k] for k in ("briefing_html", "pdf", "png") if k in briefing]
    except BaseException:
        exports.discard(written + step)
        raise
    result["files"] = written
    return result
