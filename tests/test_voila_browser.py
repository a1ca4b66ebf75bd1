"""A curated notebook served by Voila on 127.0.0.1 (the offline "workbench" template, tests/voila_helpers.py) and
rendered in headless Debian chromium, as a trainer or analyst would open it: the widgets render, Font Awesome is
drawn from the local copy, NOTHING is asked of any other address, no page errors."""
from __future__ import annotations

import shutil

import pytest

from tests import notebook_runner
from tests.hotspot_fixtures import ingested_world
from tests.voila_helpers import free_port as _free_port, offline_page, voila_app, wait_for_port as _wait_for  # noqa: F401

pytestmark = pytest.mark.browser
NOTEBOOK = notebook_runner.NOTEBOOKS / "02_hotspots_for_patrol.py"


def test_patrol_notebook_renders_with_widgets_in_chromium(voila_app, chromium_path, tmp_path, tmp_path_factory):
    # a store built by the real ingest and enrichment of a small sample world (shared by the session)
    db = tmp_path / "voila.duckdb"
    shutil.copy(ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")["db"], db)
    url = voila_app(NOTEBOOK, {"db_path": str(db), "out_dir": str(tmp_path / "plan"), "knox_iterations": 99,
                               "gi_permutations": 199}, name="patrol")
    with offline_page(chromium_path, url) as (page, seen):
        # the notebook runs the backtest, the statistics and the patrol plan, then shows the HotspotExplorer
        page.wait_for_selector(".jupyter-widgets", timeout=240_000)
        text = page.inner_text("body")
        # Font Awesome's stylesheet and its font are the local copies (the lab template's CDN links rewritten)
        sheets = page.evaluate("[...document.styleSheets].map(s => s.href).filter(Boolean)")
    assert "West Yorkshire" in text and "Backtest" in text and "naive" in text and "Traceback" not in text
    local_fa = [s for s in sheets if "/voila/templates/workbench/static/fontawesome-free/css/all.min.css" in s]
    assert local_fa and all(s.startswith("http://127.0.0.1") for s in sheets), sheets
    assert not seen.outside                      # (offline_page fails the test on any, this says it here too)
    assert not seen.page_errors, seen.page_errors
