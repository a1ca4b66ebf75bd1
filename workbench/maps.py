"""Rendered maps: one self-contained HTML file that works with no network, and a PNG of it.

Every map built here:
  - inlines its JS/CSS from the offline assets fetched by `make assets` (pinned in
    workbench/maps_assets.lock.json); it never falls back on a CDN, and refuses to write a file that
    still references an http(s) script or stylesheet;
  - draws force (and, for maps of a few forces, LSOA) outlines as its basemap; a tile layer is added only
    when `maps.tile_url` is configured (e.g. an internal tile server);
  - shows the required open-data attribution and the security marking top and bottom;
  - is rendered from the Jinja2 templates in workbench/templates (map.html.j2 on the marked base page,
    tooltip.html.j2 for tooltips and popups) by workbench.render, with autoescaping: every text that reaches
    the page (titles, legends, tooltips, popups, force names, configured labels) is escaped;
  - stays small by aggregating: force polygons carry counts, and point layers beyond `max_points`
    become H3 cell counts, so a national map stays under `maps.max_html_mb` whatever the data volume.

Library use (later capabilities build on this):

    m = ForceMap("Referral volume by force")
    m.add_force_choropleth(counts)            # DataFrame force_code, value
    m.add_points(frame, label="name")          # latitude, longitude, label, optional popup
    m.save("out/maps/forces.html", png=True)
"""
from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from workbench import config, geography, render
from workbench.errors import WorkbenchError

LOCK_FILE = Path(__file__).resolve().parent / "maps_assets.lock.json"
MAP_SUFFIXES = (".html", ".htm")
ENGLAND_WALES_BOUNDS = [[49.85, -6.45], [55.82, 1.8]]
# sequential oranges (ColorBrewer Oranges): one hue, lightness falling class by class, so it reads in greyscale and
# for colour-blind viewers alike (tests/test_accessibility.py checks CIE L* is monotone); docs/accessibility.md
PALETTE = ["#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04"]
ZERO_COLOUR = "#fafafa"     # lighter than the first class by more than a grey step (L* 98 against 93)
DISPLAY_SIMPLIFY_M = 100
LSOA_OUTLINE_LIMIT = 8000     # LSOA outlines are drawn for maps of up to this many LSOAs (size bound)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
_TAG_RE = re.compile(
    r'<script\b[^>]*\bsrc="(?P<js>[^"]+)"[^>]*>\s*</script>|<link\b[^>]*\bhref="(?P<css>[^"]+)"[^>]*/?>',
    re.IGNORECASE,
)
_REMOTE_RE = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["\']?(?:https?:)?//', re.IGNORECASE)


def esc(value) -> str:
    """HTML-escape any value for a place that takes HTML (None and NaN -> ''); see workbench.render."""
    return render.text(value)


# -- offline assets ---------------------------------------------------------------------------------
def assets_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_ASSETS_DIR") or config.get("maps.assets_dir")
                or Path(sys.prefix) / "share" / "workbench-assets")


@lru_cache(maxsize=1)
def _lock() -> dict[str, tuple[str, str]]:
    """CDN URL -> (package@version, path inside the package)."""
    lock = json.loads(LOCK_FILE.read_text())
    index = {}
    for package in lock["packages"]:
        spec = f"{package['name']}@{package['version']}"
        for url, rel in package["urls"].items():
            index[url] = (spec, rel)
    return index


def _bundled_with_folium(url: str) -> Path | None:
    """folium ships some plugin scripts itself (e.g. leaflet_heat.min.js): use the installed copy."""
    import folium

    match = re.search(r"python-visualization/folium@[^/]+/folium/templates/([A-Za-z0-9_.]+)$", url)
    if match:
        path = Path(folium.__file__).parent / "templates" / match.group(1)
        return path if path.is_file() else None
    return None


def asset_path(url: str) -> Path:
    """Local file replacing a CDN URL; a clear error when it is not pinned or not fetched."""
    bundled = _bundled_with_folium(url)
    if bundled:
        return bundled
    if url not in _lock():
        raise WorkbenchError(f"map needs {url}, which is not pinned in {LOCK_FILE.name}; add it there and run make assets")
    spec, rel = _lock()[url]
    path = assets_dir() / spec / rel
    if not path.is_file():
        raise WorkbenchError(f"offline map asset {spec}/{rel} is missing from {assets_dir()}; run make assets")
    return path


def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0) if not ref.startswith(("http:", "https:", "//")) else "url()"
        target = (path.parent / ref).resolve()
        if not target.is_file():
            return "url()"
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"

    css = re.sub(r"url\(([^)]+)\)", data_uri, css)
    return css.replace("</style", "<\\/style")


def inline_assets(page: str) -> str:
    """Replace every external <script src> / <link href> by the pinned file's contents."""
    def replace(match: re.Match) -> str:
        url = match.group("js") or match.group("css")
        if not url.startswith(("http://", "https://", "//")):
            return match.group(0)
        url = "https:" + url if url.startswith("//") else url
        path = asset_path(url)
        if match.group("js"):
            body = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
            return f"<script>/* {esc(path.parent.parent.name if path.parent.name == 'dist' else path.name)} */\n{body}\n</script>"
        return f"<style>\n{_inline_css(path)}\n</style>"

    page = _TAG_RE.sub(replace, page)
    if _REMOTE_RE.search(page):
        raise WorkbenchError("rendered map still references a remote script or stylesheet; refusing to write it")
    return page


# -- colours ----------------------------------------------------------------------------------------
def class_breaks(values: Iterable[float], classes: int = len(PALETTE)) -> list[float]:
    """Upper bounds of up to `classes` classes over the positive values (quantiles, deduplicated)."""
    positive = np.array([v for v in values if v and v > 0], dtype=float)
    if positive.size == 0:
        return []
    qs = np.quantile(positive, np.linspace(0, 1, classes + 1)[1:])
    return sorted(set(float(np.ceil(q)) for q in qs))


def _rgb(colour: str) -> tuple[float, float, float]:
    """'#rrggbb' or '#rgb' -> sRGB channels in 0..1."""
    h = colour.strip().lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance (0 black .. 1 white)."""
    r, g, b = (_linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1..21); AA asks 4.5 for body text."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def lightness(colour: str) -> float:
    """CIE L* (0..100) of an sRGB colour: what a palette looks like printed in greyscale."""
    y = relative_luminance(colour)
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def text_colour_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (one of them always reaches 4.5:1)."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff") else "#ffffff"


def palette_colour(share: float) -> str:
    """The sequential palette's colour for a share of the maximum (0 -> the zero colour)."""
    if not share or share <= 0:
        return ZERO_COLOUR
    return PALETTE[min(len(PALETTE) - 1, int(np.ceil(min(share, 1.0) * len(PALETTE))) - 1)]


def colour_for(value: float, breaks: list[float]) -> str:
    if not value or value <= 0 or not breaks:
        return ZERO_COLOUR
    palette = PALETTE[-len(breaks):] if len(breaks) < len(PALETTE) else PALETTE
    for bound, colour in zip(breaks, palette):
        if value <= bound:
            return colour
    return palette[-1]


# -- the map ----------------------------------------------------------------------------------------
def _display_geometry(gdf):
    """Force or LSOA polygons simplified for display (coverage-preserving), in lon/lat."""
    import shapely

    metric = gdf.to_crs(geography.METRIC_CRS)
    simplified = shapely.coverage_simplify(shapely.make_valid(metric.geometry.values), DISPLAY_SIMPLIFY_M)
    out = metric.set_geometry(simplified).to_crs(4326)
    return out.set_geometry(shapely.set_precision(out.geometry.values, 1e-5))


def _feature_collection(gdf, properties: list[dict]) -> dict:
    geometries = json.loads(gdf.geometry.to_json())["features"]
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": props, "geometry": geom["geometry"]}
                         for props, geom in zip(properties, geometries)]}


class ForceMap:
    """A folium map of England & Wales with the workbench's offline, marked, attributed layout."""

    def __init__(self, title: str, subtitle: str | None = None, geo_dir: Path | None = None):
        import folium

        self.title = title
        self.subtitle = subtitle
        self.geo_dir = geo_dir
        self.legend: dict | None = None      # {"title": str, "rows": [{"colour": "#...", "text": str}]}
        self.table: dict | None = None       # {"title": str, "rows": [(label, value), ...]}
        self.notes: list[str] = []
        self._layer_control = False
        self.map = folium.Map(location=[52.6, -1.9], zoom_start=6, tiles=None, max_zoom=18, min_zoom=5,
                              control_scale=True, prefer_canvas=False)
        # only what these maps use; anything else a layer adds must be pinned in the lock file
        self.map.default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
        self.map.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]
        tile_url = config.get("maps.tile_url")
        if tile_url:   # Leaflet shows the attribution as HTML: escaped text
            folium.TileLayer(tiles=str(tile_url), attr=render.text(config.get("maps.tile_attribution") or "tiles"),
                             name="Tiles", overlay=False, control=True, max_zoom=18).add_to(self.map)
        self.map.fit_bounds(ENGLAND_WALES_BOUNDS)

    # -- layers ---------------------------------------------------------------------------------
    def add_force_outlines(self, force_codes: Iterable[str] | None = None, name: str = "Force areas"):
        """Force outlines without values (the basemap when no choropleth is drawn)."""
        areas = geography.force_areas(self.geo_dir)
        if force_codes is not None:
            areas = areas[areas["force_code"].isin(list(force_codes))]
        return self._add_polygons(areas, [{"tooltip": render.tooltip(heading=r.name)} for r in areas.itertuples()],
                                  lambda _: {"fillColor": ZERO_COLOUR, "color": "#444", "weight": 1,
                                             "fillOpacity": 0.2}, name, "force-outline")

    def add_force_choropleth(self, counts: pd.DataFrame, value: str = "value", label: str = "Referrals",
                             extra: dict[str, str] | None = None, name: str = "Force areas"):
        """Colour every force area by `counts[value]` (force_code, value, optional extra columns to show)."""
        areas = geography.force_areas(self.geo_dir)
        table = counts.set_index("force_code")
        vals = areas["force_code"].map(table[value]).fillna(0).astype(float)
        breaks = class_breaks(vals)
        props = []
        for row, v in zip(areas.itertuples(), vals):
            lines = [f"{label}: {int(v):,}"]
            for column, caption in (extra or {}).items():
                if row.force_code in table.index:
                    lines.append(f"{caption}: {table.loc[row.force_code, column]}")
            props.append({"tooltip": render.tooltip(heading=row.name, lines=lines), "colour": colour_for(v, breaks)})
        self._add_polygons(areas, props, lambda f: {"fillColor": f["properties"]["colour"], "color": "#333",
                                                    "weight": 1, "fillOpacity": 0.75}, name, "force-area")
        self.legend = self._legend(label, breaks)
        return vals

    def add_lsoa_outlines(self, force_codes: Iterable[str], name: str = "LSOAs"):
        lsoas = geography.lsoa_polygons(force_codes, geo_dir=self.geo_dir)
        if len(lsoas) > LSOA_OUTLINE_LIMIT:
            raise WorkbenchError(f"{len(lsoas)} LSOAs is too many outlines for one map (limit {LSOA_OUTLINE_LIMIT}); "
                                 "choose fewer forces")
        props = [{"tooltip": render.text(f"{r.lsoa_name} ({r.lsoa_code})")} for r in lsoas.itertuples()]
        return self._add_polygons(lsoas, props, lambda _: {"fill": False, "color": "#777", "weight": 0.5},
                                  name, "lsoa-outline")

    def add_points(self, frame: pd.DataFrame, label: str = "label", popup: str | None = None,
                   max_points: int | None = None, name: str = "Locations"):
        """Points (latitude, longitude) with an escaped tooltip/popup; beyond max_points, H3 cell counts."""
        import folium

        max_points = int(max_points or config.get("maps.max_points", 2000))
        frame = frame.dropna(subset=["latitude", "longitude"])
        if len(frame) > max_points:
            return self.add_h3_counts(frame, name=name)
        features = []
        for row in frame.itertuples(index=False):
            props = {"tooltip": render.text(getattr(row, label))}
            if popup:
                value = getattr(row, popup)   # one line of the popup per line of the text
                props["popup"] = render.tooltip(lines=str(value).split("\n") if render.text(value) else [])
            features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [round(float(row.longitude), 6),
                                                                           round(float(row.latitude), 6)]}})
        layer = folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name=name,
            marker=folium.CircleMarker(radius=5, weight=1, color="#08306b", fill=True, fill_color="#2171b5",
                                       fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False) if features else None,
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if (popup and features) else None,
        )
        layer.add_to(self.map)
        return layer

    def add_h3_counts(self, frame: pd.DataFrame, resolution: int = 7, max_cells: int | None = None,
                      name: str = "Counts by H3 cell"):
        """Aggregate points to H3 cells and draw the busiest `max_cells` as coloured hexagons."""
        import h3

        max_cells = int(max_cells or config.get("maps.max_cells", 3000))
        column = f"h3_r{resolution}"
        if column in frame.columns:
            cells = frame[column].dropna()
        else:
            cells = geography.h3_cells(frame["latitude"], frame["longitude"], [resolution])[column].dropna()
        counts = cells.value_counts()
        shown = counts.head(max_cells)
        breaks = class_breaks(shown.to_numpy())
        features = []
        for cell, n in shown.items():
            ring = [[round(lng, 5), round(lat, 5)] for lat, lng in h3.cell_to_boundary(cell)]
            ring.append(ring[0])
            features.append({"type": "Feature", "properties": {"tooltip": f"{int(n):,}", "colour": colour_for(n, breaks)},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}})
        import folium

        folium.GeoJson({"type": "FeatureCollection", "features": features}, name=name,
                       style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#555",
                                                 "weight": 0.3, "fillOpacity": 0.8},
                       tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False) if features else None,
                       ).add_to(self.map)
        if len(counts) > max_cells:
            self.notes.append(f"{len(counts) - max_cells:,} quieter cells not drawn")
        return shown

    def _add_polygons(self, gdf, properties, style, name, css_class):
        """Polygons with a tooltip each; `properties[i]["tooltip"]` is HTML built by workbench.render."""
        import folium

        if gdf.empty:
            return None
        fc = _feature_collection(_display_geometry(gdf), properties)
        layer = folium.GeoJson(fc, name=name, style_function=style, smooth_factor=0.5,
                               tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True))
        layer.add_to(self.map)
        return layer

    def add_table(self, title: str, rows: list[tuple[str, str]]) -> None:
        """A side panel listing label/value pairs (e.g. every force with its count); text, escaped when drawn."""
        self.table = {"title": title, "rows": [(label, value) for label, value in rows]}

    def set_legend(self, title: str, rows: list[tuple[str, str]]) -> None:
        """The legend panel: a title and (colour, text) rows; text, escaped when drawn."""
        self.legend = {"title": title, "rows": [{"colour": colour, "text": text} for colour, text in rows]}

    # -- page furniture ---------------------------------------------------------------------------
    def _legend(self, label: str, breaks: list[float]) -> dict:
        palette = PALETTE[-len(breaks):] if breaks and len(breaks) < len(PALETTE) else PALETTE
        rows = [(ZERO_COLOUR, "0")]
        lower = 1
        for bound, colour in zip(breaks, palette):
            rows.append((colour, f"{lower:,.0f}" if bound <= lower else f"{lower:,.0f} to {bound:,.0f}"))
            lower = bound + 1
        self.set_legend(label, rows)
        return self.legend

    def to_html(self) -> str:
        """The page: templates/map.html.j2 (on the marked base page) around folium's generated map."""
        import folium

        layers = [c for c in self.map._children.values() if isinstance(c, (folium.GeoJson, folium.TileLayer))]
        if len(layers) > 1 and not self._layer_control:
            folium.LayerControl(collapsed=True).add_to(self.map)
            self._layer_control = True
        root = self.map.get_root()
        root.title = None       # folium prints its title unescaped: the page title comes from the template
        for child in root._children.values():   # what Figure.render does before its own (replaced) template
            child.render()
        page = render.render(
            "map.html.j2", title=self.title, subtitle=self.subtitle, notes=list(self.notes), legend=self.legend,
            table=self.table, attribution=geography.ATTRIBUTION,
            tile_attribution=(config.get("maps.tile_attribution") or "") if config.get("maps.tile_url") else "",
            folium_head=render.trusted(root.header.render()), folium_body=render.trusted(root.html.render()),
            folium_script=render.trusted(root.script.render()))
        return inline_assets(page)

    def save(self, path: str | Path, png: bool = True, max_mb: float | None = None) -> dict:
        """Write the self-contained HTML (and a PNG beside it, same stem); return paths and sizes."""
        path = check_map_output(path)
        page = self.to_html()
        size = len(page.encode("utf-8"))
        limit = float(max_mb or config.get("maps.max_html_mb", 3))
        if size > limit * 1_000_000:
            raise WorkbenchError(f"{path}: rendered map is {size / 1e6:.1f} MB, over the {limit:g} MB bound; "
                                 "aggregate further (fewer points or LSOAs)")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:   # the file appears complete or not at all
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(page, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WorkbenchError(f"{path}: cannot write map: {exc.strerror or exc}") from None
        result = {"html": str(path), "html_bytes": size}
        if png:
            png_path = path.with_suffix(".png")
            try:
                screenshot(path, png_path)
            except BaseException:    # no half product: the map is written with its PNG or not at all
                path.unlink(missing_ok=True)
                png_path.unlink(missing_ok=True)
                raise
            result.update({"png": str(png_path), "png_bytes": png_path.stat().st_size})
        return result


def check_map_output(path: str | Path) -> Path:
    """A map's output path: an .html file that can be written (one line naming the rule otherwise)."""
    from workbench import exports

    path = Path(path)
    if path.suffix.lower() not in MAP_SUFFIXES:
        raise WorkbenchError(f"{path}: map output must be an .html file (got {path.suffix or 'no extension'})")
    return exports.check_output(path, MAP_SUFFIXES)


# -- PNG ----------------------------------------------------------------------------------------------
def chromium_executable() -> str:
    import shutil

    candidate = os.environ.get("WORKBENCH_CHROMIUM") or config.get("maps.chromium") or shutil.which("chromium") \
        or "/usr/bin/chromium"
    if not Path(candidate).exists():
        raise WorkbenchError(f"PNG export needs Debian chromium, not found at {candidate} "
                             "(`make browser` or apt-get install chromium; or set WORKBENCH_CHROMIUM)")
    return candidate


def screenshot(html_path: Path, png_path: Path, width: int = 1100, height: int = 1300) -> Path:
    """PNG of a rendered map in headless chromium with all network requests blocked."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    allowed = _allowed_tile_prefix()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith("file://")
                           or (allowed and route.request.url.startswith(allowed)) else route.abort())
                page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
                page.wait_for_timeout(400)  # let Leaflet finish drawing paths
                page.screenshot(path=str(png_path), full_page=False)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise WorkbenchError(f"{png_path}: PNG export failed: {str(exc).splitlines()[0]}") from None
    return png_path


def _allowed_tile_prefix() -> str | None:
    url = config.get("maps.tile_url")
    if not url:
        return None
    match = re.match(r"^(https?://[^/{]+/)", str(url))
    return match.group(1) if match else None


# -- products -----------------------------------------------------------------------------------------
def force_counts(store) -> pd.DataFrame:
    """Referral volume per territorial force area (location force), zeros included."""
    return store.query("referrals_by_location_force")


def national_force_map(store, out: str | Path, png: bool = True, title: str | None = None) -> dict:
    """`workbench map forces`: a national map of referral volume (incidents referred) by force area."""
    counts = force_counts(store)
    total = int(counts["incidents"].sum())
    affected = int((counts["incidents"] > 0).sum())
    fm = ForceMap(title or "Referral volume by force area",
                  subtitle=f"{total:,} referred incidents; {affected} of {len(counts)} forces affected")
    counts = counts.assign(value=counts["incidents"], mismatches=counts["force_mismatches"].map("{:,}".format),
                           referral_n=counts["referrals"].map("{:,}".format))
    fm.add_force_choropleth(counts, value="value", label="Referred incidents",
                            extra={"referral_n": "Referrals", "mismatches": "Stated force differs"})
    ranked = counts.sort_values(["incidents", "force_name"], ascending=[False, True])
    fm.add_table("Referred incidents by force", [(r.force_name, f"{int(r.incidents):,}") for r in ranked.itertuples()])
    result = fm.save(out, png=png)
    result.update({"forces": int(len(counts)), "forces_affected": affected, "incidents": total})
    return result
