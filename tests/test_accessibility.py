"""Accessibility basics of the pages people read (issue 14 item 7; docs/accessibility.md): text contrast of at least
WCAG AA 4.5:1 (3:1 for large text), in the product templates' CSS and in the rendered pages (Chromium's computed
colours, each text element against the backgrounds behind it); colour scales of hot spot maps and the briefing's
day x hour heat whose lightness (CIE L*) falls class by class, so they read in greyscale and for colour-blind
viewers (checked again after simulating protanopia, deuteranopia and tritanopia); every <img> in a briefing and a
package has alt text; every control of a rendered map page is reached with Tab."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from workbench import maps
from workbench.hotspots import briefing

TEMPLATES = Path(maps.__file__).resolve().parent / "templates"
PRODUCT_TEMPLATES = ("base.html.j2", "map.html.j2", "briefing.html.j2", "package.html.j2")
AA, AA_LARGE = 4.5, 3.0
# text a reader is not meant to read as text, each with why
DECORATIVE = {
    ".pk-draft": "the package's faint diagonal DRAFT watermark behind the text (WCAG 1.4.3: decoration)",
}
MIN_STEP_L = 3.0            # adjacent classes at least this far apart in CIE L* (about a just-noticeable grey step)


# -- colour arithmetic checked against known values --------------------------------------------------------------
def test_contrast_and_lightness_agree_with_published_values():
    assert maps.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert maps.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)     # the classic AA near miss
    assert maps.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert maps.lightness("#ffffff") == pytest.approx(100.0) and maps.lightness("#000000") == pytest.approx(0.0)
    assert maps.lightness("#808080") == pytest.approx(53.59, abs=0.05)
    for background in ["#ffffff", "#000000", *maps.PALETTE, "#777777", "#d94801", "#b00020"]:
        assert maps.contrast_ratio(background, maps.text_colour_on(background)) >= AA, background


# -- CSS of the product templates --------------------------------------------------------------------------------
def _hex(value: str) -> str | None:
    match = re.fullmatch(r"\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\s*(!important)?\s*", value)
    return match.group(1) if match else None


def _rules(css: str) -> list[tuple[str, dict]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {}
        for decl in body.split(";"):
            if ":" in decl:
                name, value = decl.split(":", 1)
                props[name.strip().lower()] = value.strip()
        out.append((" ".join(selector.split()), props))
    return out


def _template_css(name: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    return "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S))


def _background(props: dict, body: str) -> str:
    for key in ("background-color", "background"):
        if key in props and _hex(props[key].split()[0]):
            return _hex(props[key].split()[0])
    return body


@pytest.mark.parametrize("name", PRODUCT_TEMPLATES)
def test_template_text_colours_reach_aa(name):
    """Each CSS rule that sets a text colour, against its own background or the page's (white unless the body
    rule says otherwise). Colours written other than as hex (rgba) must be decorative and listed."""
    rules = _rules(_template_css(name))
    body = next((_background(p, "#ffffff") for s, p in rules if s == "body"), "#ffffff")
    checked, failures = 0, []
    for selector, props in rules:
        colour = props.get("color")
        if colour is None or selector.startswith("@"):
            continue
        if not _hex(colour):
            assert any(d in selector for d in DECORATIVE), f"{name}: {selector} {{color: {colour}}} is not a hex colour"
            continue
        ratio = maps.contrast_ratio(_hex(colour), _background(props, body))
        checked += 1
        if ratio < AA:
            failures.append(f"{selector}: {colour} on {_background(props, body)} is {ratio:.2f}:1")
    assert not failures, f"{name}: " + "; ".join(failures)
    if name != "base.html.j2":                     # the base page sets no colours of its own
        assert checked, f"{name}: no text colour found to check"


# -- colour scales -----------------------------------------------------------------------------------------------
# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _simulate(colour: str, matrix) -> str:
    linear = np.array([maps._linear(c) for c in maps._rgb(colour)])
    out = np.clip(np.array(matrix) @ linear, 0, 1)
    srgb = [12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055 for c in out]
    return "#" + "".join(f"{round(c * 255):02x}" for c in srgb)


SCALES = {
    "map classes (zero, then maps.PALETTE)": [maps.ZERO_COLOUR, *maps.PALETTE],
    "Gi* confidence 90/95/99%": [briefing.GI_COLOURS[k] for k in ("Hot spot 90%", "Hot spot 95%", "Hot spot 99%")],
    "briefing day x hour heat": [maps.palette_colour(s) for s in (0, 0.1, 0.3, 0.45, 0.6, 0.75, 0.9, 1.0)],
}


@pytest.mark.parametrize("vision", ["normal", *CVD])
@pytest.mark.parametrize("scale", SCALES)
def test_colour_scales_get_darker_class_by_class(scale, vision):
    colours = SCALES[scale]
    if vision != "normal":
        colours = [_simulate(c, CVD[vision]) for c in colours]
    levels = [maps.lightness(c) for c in dict.fromkeys(colours)]       # repeated shares map to one class
    steps = np.diff(levels)
    assert len(levels) >= 3 and (steps <= -MIN_STEP_L).all(), (scale, vision, [round(v, 1) for v in levels])


def test_legend_and_cells_use_the_same_scale():
    breaks = maps.class_breaks(range(1, 200))
    legend = maps.ForceMap("t")._legend("Referrals", breaks)["rows"]
    assert [r["colour"] for r in legend] == [maps.ZERO_COLOUR, *maps.PALETTE[-len(breaks):]]
    assert [maps.colour_for(b, breaks) for b in breaks] == [r["colour"] for r in legend[1:]]
    assert maps.palette_colour(0) == maps.ZERO_COLOUR and maps.palette_colour(1.0) == maps.PALETTE[-1]


# -- rendered pages ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plan_pages(tmp_path_factory):
    """A patrol plan written by the CLI (briefing.html with its map image, map.html) for West Yorkshire."""
    from tests.hotspot_fixtures import fill_store, world
    from workbench.cli import main
    from workbench.store import open_store

    incidents, stores = world(str(tmp_path_factory.getbasetemp() / "hotspot_world"))
    folder = tmp_path_factory.mktemp("a11y_plan")
    db = folder / "plan.duckdb"
    with open_store(db) as store:
        fill_store(store, incidents, stores, force_codes=["13"])
    assert main(["hotspots", "plan", "--force", "West Yorkshire", "--period", "next-week", "--out",
                 str(folder / "plan"), "--db", str(db)]) == 0
    return {"briefing": folder / "plan" / "briefing.html", "map": folder / "plan" / "map.html"}


@pytest.fixture(scope="module")
def package_page(tmp_path_factory):
    """The package page of the quick linkage world's smallest group crossing three or more forces (the world the
    package tests share)."""
    from benchmarks import bench_crossborder, bench_linkage
    from workbench import crossborder, packages
    from workbench.packages import formats
    from workbench.store import open_store

    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    _world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    with open_store(db, read_only=True) as store:
        several = crossborder.several_forces(store)
        group = several[several.forces >= 3].sort_values(["incidents", "group_id"]).group_id.iloc[0]
        pkg = packages.compute(store, group, settings={"body_incidents_max": 30})
    # what a build stamps on the page, as the PackageBuilder's preview does (no build: nothing written)
    pkg.meta.update(version="(preview)", state="draft", document_date="(not built)", author="(preview)",
                    approved_by=None, approved_at=None, reviewed_by=None)
    page = tmp_path_factory.mktemp("a11y_package") / "package.html"
    page.write_text(formats.page_html(pkg), encoding="utf-8")
    return page


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _images(path: Path) -> list[dict]:
    parser = _Images()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.images


def test_briefing_images_have_alt_text(plan_pages):
    images = _images(plan_pages["briefing"])
    assert images, "the briefing shows its map as an image"
    for image in images:
        alt = (image.get("alt") or "").strip()
        assert len(alt) > 20 and "West Yorkshire" in alt, image.get("alt")


def test_package_images_have_alt_text_and_charts_a_caption(package_page):
    text = package_page.read_text(encoding="utf-8")
    for image in _images(package_page):
        assert (image.get("alt") or "").strip(), {k: v[:60] for k, v in image.items()}
    for svg in re.findall(r"<svg\b[^>]*>", text):
        assert re.search(r'\b(role="img"|aria-label=|aria-labelledby=)', svg) or "<figure" in text, svg


TEXT_COLOURS_JS = """() => {
  const parse = s => { const m = (s || '').match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const background = el => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let rgb = [255, 255, 255];
    for (const c of layers.reverse()) rgb = rgb.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return rgb;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'TITLE', 'NOSCRIPT'].includes(el.tagName)) continue;
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!text) continue;
    const st = getComputedStyle(el), box = el.getBoundingClientRect();
    if (st.display === 'none' || st.visibility === 'hidden' || !box.width || !box.height) continue;
    const svg = el instanceof SVGElement;
    const fg = parse(svg ? st.fill : st.color);
    if (!fg) continue;
    const bg = background(svg ? el.closest('svg').parentElement : el);
    const blended = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    out.push({tag: el.tagName, cls: String(el.getAttribute('class') || ''), text: text.slice(0, 50),
              fg: blended, bg, size: parseFloat(st.fontSize), weight: parseInt(st.fontWeight) || 400,
              decorative: !!el.closest('.pk-draft, [aria-hidden="true"]')});
  }
  return out;
}"""


def _to_hex(rgb) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v))):02x}" for v in rgb)


def _contrast_failures(page) -> tuple[int, list[str]]:
    found = page.evaluate(TEXT_COLOURS_JS)
    failures = []
    for item in found:
        if item["decorative"]:
            continue
        large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
        ratio = maps.contrast_ratio(_to_hex(item["fg"]), _to_hex(item["bg"]))
        if ratio < (AA_LARGE if large else AA):
            failures.append(f"{item['tag']}.{item['cls']} {item['text']!r}: {_to_hex(item['fg'])} on "
                            f"{_to_hex(item['bg'])} {ratio:.2f}:1")
    return len(found), failures


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, args=maps.CHROMIUM_ARGS)
        yield launched
        launched.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    outside = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file://", "data:"))
               else (outside.append(r.request.url), r.abort()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    return page, outside


def _assert_aa(browser, path: Path) -> None:
    page, outside = _open(browser, path)
    try:
        count, failures = _contrast_failures(page)
    finally:
        page.close()
    assert count > 20, f"{path.name}: only {count} text elements found"
    assert not failures, f"{path.name}: {len(failures)} of {count} text elements below AA:\n" + "\n".join(failures[:20])
    assert not outside, outside


@pytest.mark.browser
@pytest.mark.parametrize("which", ["briefing", "map"])
def test_rendered_plan_text_reaches_aa(which, plan_pages, browser):
    _assert_aa(browser, plan_pages[which])


@pytest.mark.browser
def test_rendered_package_text_reaches_aa(package_page, browser):
    _assert_aa(browser, package_page)


FOCUSABLE_JS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter(e => { const b = e.getBoundingClientRect(), s = getComputedStyle(e);
                 return b.width > 0 && b.height > 0 && s.visibility !== 'hidden' && !e.disabled; })
  .map((e, i) => { e.setAttribute('data-a11y-control', String(i));
                   return (e.getAttribute('title') || e.getAttribute('aria-label') || e.textContent || e.tagName).trim(); })"""


@pytest.mark.browser
def test_map_controls_are_reached_with_tab(plan_pages, browser):
    page, _ = _open(browser, plan_pages["map"])
    try:
        controls = page.evaluate(FOCUSABLE_JS)
        assert len(controls) >= 3, controls                  # zoom in, zoom out, the layer switcher at least
        reached = set()
        for _ in range(len(controls) + 10):
            page.keyboard.press("Tab")
            index = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-a11y-control')")
            if index is not None:
                reached.add(int(index))
        missed = [controls[i] for i in range(len(controls)) if i not in reached]
        assert not missed, f"not reached with Tab: {missed}"
        labels = " ".join(controls).lower()
        assert "zoom in" in labels and "zoom out" in labels and "layers" in labels, controls
    finally:
        page.close()
