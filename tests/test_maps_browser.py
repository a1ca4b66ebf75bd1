"""Rendered maps opened in headless Debian chromium with every network request blocked."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.browser_helpers import open_offline

from workbench import config, geography, maps

pytestmark = pytest.mark.browser

EVIL_NAME = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Evil & Sons'
STORES = [  # store_id, name, lat, lon, stated force of its incidents
    ("TST-1", "Leeds Briggate", 53.7975, -1.5425, "13"),
    ("TST-2", "Manchester Arndale", 53.4831, -2.2394, "06"),
    ("TST-3", EVIL_NAME, 51.4816, -3.1791, "62"),
    ("TST-4", "Cheapside", 51.5139, -0.0937, "01"),   # in the City; stated Met: a mismatch
]


@pytest.fixture
def populated_store(tmp_store, tmp_path):
    incident = 0
    for n, (store_id, name, lat, lon, force) in enumerate(STORES, start=1):
        tmp_store.con.execute(
            "INSERT INTO stores (store_id, retailer_id, store_ref, name, latitude, longitude) "
            "VALUES ($id, 'TST', $ref, $name, $lat, $lon)",
            {"id": store_id, "ref": str(n), "name": name, "lat": lat, "lon": lon},
        )
        for _ in range(n * 3):
            incident += 1
            tmp_store.con.execute(
                "INSERT INTO incidents (incident_id, crime_number, force_code, store_id) VALUES ($i, $c, $f, $s)",
                {"i": incident, "c": f"CN{incident}", "f": force, "s": store_id},
            )
    geography.enrich_store(tmp_store, geo_dir=tmp_path / "no-imports")
    return tmp_store


def _open_offline(chromium_path, html_path, action=None):
    def inspect(page):
        page.wait_for_timeout(300)
        state = page.evaluate("""() => ({
            paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
            pwned: window.__pwned === undefined ? null : window.__pwned,
            top: document.getElementById('wb-marking-top').innerText,
            bottom: document.getElementById('wb-marking-bottom').innerText,
            attribution: document.getElementById('wb-attribution').innerText,
            title: document.title,
            leaflet: typeof L === 'object' && typeof L.map === 'function',
        })""")
        if action:
            state.update(action(page))
        return state

    seen = open_offline(chromium_path, html_path, inspect, viewport=(1100, 1300))
    return seen.result, seen.attempted, seen.console_errors, seen.page_errors


def test_national_force_map_offline(populated_store, tmp_path, chromium_path):
    out = tmp_path / "maps" / "forces.html"
    result = maps.national_force_map(populated_store, out)
    assert result["forces"] == 43 and result["forces_affected"] == 4 and result["incidents"] == 30
    page = out.read_text()
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.IGNORECASE)
    assert tags and not [t for t in tags if re.search(r"\b(src|href)\s*=", t, flags=re.IGNORECASE)]
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page
    assert result["html_bytes"] < 3_000_000

    def hover_leeds(page):
        # a tooltip for West Yorkshire shows its count
        box = page.locator(".leaflet-overlay-pane svg").bounding_box()
        assert box
        texts = page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-overlay-pane svg path'))
            .map(p => p.getAttribute('fill'))""")
        rows = page.evaluate("""() => Array.from(document.querySelectorAll('#wb-table tr'))
            .map(r => [r.cells[0].innerText, r.cells[1].innerText])""")
        return {"fills": texts, "table": rows}

    state, attempted, console_errors, page_errors = _open_offline(chromium_path, out, hover_leeds)
    assert attempted == [] and console_errors == [] and page_errors == []
    assert state["leaflet"] and state["paths"] >= 43
    assert state["top"] == state["bottom"] == config.security_marking()
    assert " ".join(state["attribution"].split()) == geography.ATTRIBUTION
    # four forces have referrals: coloured differently from the zero forces
    assert sum(f != maps.ZERO_COLOUR for f in state["fills"]) == 4
    # every force listed with its count: Cardiff store 3x3=9 incidents, City 4x3=12 placed in the City
    table = dict(state["table"])
    assert len(table) == 43
    assert table["City of London"] == "12" and table["South Wales"] == "9" and table["Cumbria"] == "0"
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert img.size == (1100, 1300)
        assert len(colours) > 20        # drawn, not blank


def test_script_in_store_name_does_not_execute(populated_store, tmp_path, chromium_path):
    stores = populated_store.sql("SELECT name, latitude, longitude, location_force_code FROM stores ORDER BY store_id")
    stores = pd.concat([stores[stores["name"] != EVIL_NAME], stores[stores["name"] == EVIL_NAME]])  # drawn last
    m = maps.ForceMap("Stores <i>near</i> " + EVIL_NAME)
    m.add_force_outlines(["62", "13"])
    m.add_lsoa_outlines(["62"])
    m.add_points(stores, label="name", popup="name")
    out = tmp_path / "stores.html"
    m.save(out, png=False)

    def open_popup(page):
        page.locator(".leaflet-overlay-pane path.leaflet-interactive").last.click(force=True)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        return page.evaluate("""() => ({
            popup: document.querySelector('.leaflet-popup-content').innerText,
            injected: document.querySelectorAll('.leaflet-popup-content script, .leaflet-popup-content img').length,
            heading: document.querySelector('#wb-title h1').innerText,
            pwned_after: window.__pwned === undefined ? null : window.__pwned,
        })""")

    state, attempted, console_errors, page_errors = _open_offline(chromium_path, out, open_popup)
    assert attempted == [] and console_errors == [] and page_errors == []
    lsoas_in_south_wales = len(geography.lsoa_polygons(["62"]))
    assert state["paths"] >= 2 + lsoas_in_south_wales + len(STORES)
    assert state["pwned"] is None and state["pwned_after"] is None and state["injected"] == 0
    assert "<script>window.__pwned = 1</script>" in state["popup"]      # shown as text
    assert state["heading"].startswith("Stores <i>near</i> <script>")
    assert state["title"].startswith("Stores <i>near</i>")


def test_png_export_blocks_network(populated_store, tmp_path, chromium_path):
    out = tmp_path / "empty.html"
    m = maps.ForceMap("Outline only")
    m.add_force_outlines()
    result = m.save(out, png=True)
    assert result["png_bytes"] > 10_000 and out.with_suffix(".png").exists()
