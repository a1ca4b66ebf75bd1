"""The planners' and managers' dashboards (notebooks/dashboards/) served by Voila on 127.0.0.1 with the offline
"workbench" template (tests/voila_helpers.py) and driven in headless Debian chromium, as a planner uses them:
NOTHING is asked of another address, no page errors (plotly's setData one included), the plotly charts are drawn
(.main-svg), changing force and week changes the map and the table, and the planner downloads the briefing PDF
(marked on every page, audited with the purpose typed). The planner's screenshot is kept as
out/screenshots/planner.png."""
from __future__ import annotations

import io
import json
import shutil

import pytest

from tests import notebook_runner
from tests.test_crossborder_explorer import linked_world
from tests.voila_helpers import offline_page, voila_app  # noqa: F401  (voila_app is a fixture)
from workbench import config
from workbench.store import open_store

pytestmark = pytest.mark.browser
DASHBOARDS = notebook_runner.NOTEBOOKS / "dashboards"
SCREENSHOTS = notebook_runner.NOTEBOOKS.parent / "out" / "screenshots"
LOAD_MS = 150_000


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """The session's ingested and linked world (groups found), shared with the other browser tests."""
    return linked_world(tmp_path_factory.getbasetemp())


def _dropdown(page, label: str):
    return page.locator(f".widget-dropdown:has(label:text-is('{label}')) select").first


def _options(page, label: str) -> list[str]:
    """The dropdown's option labels (ipywidgets writes their spaces as no-break spaces)."""
    return [o.replace("\xa0", " ").strip() for o in _dropdown(page, label).locator("option").all_inner_texts()]


def _pick(page, label: str, text: str) -> None:
    """Choose the option reading `text` (by index: ipywidgets' option values are indices)."""
    select = _dropdown(page, label)
    options = _options(page, label)
    assert text in options, f"dropdown {label!r} has no {text!r}: {options}"
    select.select_option(index=options.index(text))


def _map_cells(page, css: str) -> int:
    """Polygons drawn by leaflet in the map iframe of the panel `css` (the map is an offline srcdoc page)."""
    frame = page.frame_locator(f"{css} iframe").first
    frame.locator(".leaflet-container").first.wait_for(timeout=60_000)
    return frame.locator("path.leaflet-interactive").count()


def _srcdoc(page, css: str) -> str:
    return page.locator(f"{css} iframe").first.get_attribute("srcdoc") or ""


def test_planner_changes_force_and_week_and_downloads_the_briefing(voila_app, chromium_path, tmp_path, linked):
    from pypdf import PdfReader

    db = tmp_path / "planner.duckdb"
    shutil.copy(linked, db)
    out = tmp_path / "briefings"
    url = voila_app(DASHBOARDS / "patrol_plan.py", {"db_path": str(db), "out_dir": str(out), "force": "West Yorkshire"},
                    name="patrol_plan")
    # a tall window: the planner's screenshot holds the controls, map, places, heat and download link
    with offline_page(chromium_path, url, accept_downloads=True, viewport=(1400, 1800)) as (page, seen):
        panel = ".wb-patrol-plan"
        page.wait_for_selector(f"{panel} .wb-places", timeout=LOAD_MS)
        page.wait_for_selector(f"{panel} .js-plotly-plot .main-svg", timeout=60_000)   # the day x hour heat, drawn
        heading0, places0, map0 = page.inner_text(f"{panel} h3"), page.inner_text(f"{panel} .wb-places"), _srcdoc(page, panel)
        assert "West Yorkshire" in heading0 and _options(page, "week")[0].endswith("(next week)")
        assert _map_cells(page, panel) > 0
        assert page.locator(f"{panel} .js-plotly-plot .heatmaplayer, {panel} .js-plotly-plot .hm").count() > 0

        # another force: the heading, the places, the map all change
        _pick(page, "force", "Merseyside")
        page.wait_for_function("document.querySelector('.wb-patrol-plan h3').innerText.includes('Merseyside')",
                               timeout=LOAD_MS)
        page.wait_for_function("(t) => document.querySelector('.wb-patrol-plan .wb-places').innerText !== t",
                               arg=places0, timeout=60_000)
        places1, map1 = page.inner_text(f"{panel} .wb-places"), _srcdoc(page, panel)
        assert places1 != places0 and map1 != map0 and "Patrol plan: Merseyside" in map1
        assert _map_cells(page, panel) > 0

        # an earlier week: the dates planned change (and the status says what happened in that week)
        heading1 = page.inner_text(f"{panel} h3")
        weeks = _options(page, "week")
        assert len(weeks) >= 3, weeks
        _pick(page, "week", weeks[2])
        page.wait_for_function("(t) => document.querySelector('.wb-patrol-plan h3').innerText !== t", arg=heading1,
                               timeout=LOAD_MS)
        heading2 = page.inner_text(f"{panel} h3")
        assert "Merseyside" in heading2 and weeks[2].split(" (")[0][:6] in _day_month(heading2)
        assert "fell in these places" in page.inner_text(panel)
        page.wait_for_selector(f"{panel} .js-plotly-plot .main-svg", timeout=60_000)

        # no purpose: refused, nothing written; with one: the PDF is offered and downloads
        page.locator(f"{panel} button", has_text="Briefing PDF").click()
        page.wait_for_function("document.querySelector('.wb-patrol-plan').innerText.includes('say why')",
                               timeout=60_000)
        assert not out.exists() or not any(out.rglob("*.pdf"))
        page.locator(f"{panel} .widget-text input").fill("patrol briefing for the Merseyside neighbourhood team")
        page.locator(f"{panel} .widget-text input").press("Tab")
        page.locator(f"{panel} button", has_text="Briefing PDF").click()
        link = page.locator(f"{panel} a.wb-download")
        link.wait_for(timeout=120_000)
        with page.expect_download(timeout=60_000) as info:
            link.click()
        download = info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        page.locator(f"{panel} h2").scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "planner.png"), full_page=True)

    assert saved.name.startswith("patrol-briefing-merseyside-") and saved.suffix == ".pdf"
    reader = PdfReader(io.BytesIO(saved.read_bytes()))
    texts = [p.extract_text() or "" for p in reader.pages]
    marking = config.security_marking()
    assert texts and all(marking in " ".join(t.split()) for t in texts), [t[:200] for t in texts]
    assert "Merseyside" in texts[0]
    # the download went through the audited export: one hotspots-plan row with the purpose and the PDF's sha256
    with open_store(db, read_only=True) as store:
        rows = store.con.execute("SELECT object, details FROM audit_log WHERE action = 'hotspots-plan'").fetchall()
    assert len(rows) == 1, rows
    details = json.loads(rows[0][1])
    assert details["purpose"] == "patrol briefing for the Merseyside neighbourhood team"
    assert details["marking"] == marking and details["via"] == "patrol plan dashboard"
    import hashlib
    pdf_digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert pdf_digest in [f["sha256"] for f in details["files"]]
    assert not seen.page_errors, seen.page_errors


def _day_month(heading: str) -> str:
    """'Merseyside: 2026-09-14 to 2026-09-20' -> '14 Sep' (the week picker's label reads '14 Sep 2026')."""
    import re
    from datetime import date

    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", heading)
    return date(*map(int, found.groups())).strftime("%d %b") if found else ""


def test_national_picture_draws_its_charts_map_and_groups(voila_app, chromium_path, tmp_path, linked):
    db = tmp_path / "national.duckdb"
    shutil.copy(linked, db)
    url = voila_app(DASHBOARDS / "national_picture.py", {"db_path": str(db)}, name="national_picture")
    with offline_page(chromium_path, url) as (page, seen):
        panel = ".wb-national"
        page.wait_for_selector(f"{panel} .wb-forces", timeout=LOAD_MS)
        page.wait_for_function("document.querySelectorAll('.wb-national .js-plotly-plot .main-svg').length >= 2",
                               timeout=60_000)
        assert page.locator(f"{panel} .js-plotly-plot .bars path").count() > 10      # weekly bars, force bars
        text = page.inner_text(panel)
        assert "organised groups" in text and "forces affected" in text
        groups_all = page.locator(f"{panel} .wb-groups tbody tr").count()
        assert groups_all > 0
        # the groups list follows the force picked
        first_force = page.locator(f"{panel} .wb-forces tbody tr td").first.inner_text()
        _pick(page, "groups in", first_force)
        page.wait_for_function("(f) => { const rows = [...document.querySelectorAll('.wb-national .wb-groups tbody tr')];"
                               " return rows.length > 0 && rows.every(r => r.innerText.includes(f)); }",
                               arg=first_force, timeout=60_000)
        assert page.locator(f"{panel} .wb-groups tbody tr").count() < groups_all
        frame = page.frame_locator(f"{panel} iframe").first
        frame.locator(".leaflet-container").first.wait_for(timeout=60_000)
        assert frame.locator("path.leaflet-interactive").count() > 0                  # force outlines (and hot cells)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "manager.png"), full_page=True)
    assert not seen.page_errors, seen.page_errors


def test_notebook_01_draws_its_plotly_charts_in_voila(voila_app, chromium_path, tmp_path, linked):
    """Notebook 01's charts as cell outputs and inside the ingest browser: before widgets/plots.py each cell chart
    raised "setData is not a function" and the ingest browser's charts were never drawn."""
    db = tmp_path / "triage.duckdb"
    shutil.copy(linked, db)
    from workbench.ingest import triage

    with open_store(db, read_only=True) as store:       # each chart is drawn twice: in its cell and in the browser
        charts = 2 * (int(not triage.completeness(store).empty) + int(not triage.reasons(store).empty))
    assert charts >= 2
    url = voila_app(notebook_runner.NOTEBOOKS / "01_ingest_and_triage.py", {"db_path": str(db)}, name="triage")
    with offline_page(chromium_path, url) as (page, seen):
        page.wait_for_selector(".jupyter-widgets", timeout=LOAD_MS)
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {charts} && "
                                   f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                                   timeout=LOAD_MS)
        except PlaywrightTimeout:
            page.screenshot(path=str(tmp_path / "triage.png"), full_page=True)
            pytest.fail(f"{page.locator('.js-plotly-plot').count()} of {charts} plotly charts drawn; page errors "
                        f"{seen.page_errors}; console {seen.console_errors[:5]}; outputs "
                        f"{page.locator('.jp-OutputArea-output').count()}", pytrace=False)
        page.wait_for_timeout(1500)          # the renderer's PNG copy (setData) follows the drawing
        drawn = page.locator(".js-plotly-plot").count()
    assert drawn >= charts, (drawn, charts, seen.page_errors)
    assert not seen.page_errors, seen.page_errors
    assert not [e for e in seen.console_errors if "model not found" in e], seen.console_errors
