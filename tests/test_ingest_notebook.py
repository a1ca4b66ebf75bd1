"""notebooks/01_ingest_and_triage runs headless (papermill) against a store it builds from fixture extracts,
and the ingest browser widget and triage views work on it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import notebook_runner
from tests.ingest_helpers import BAD, FIX

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "01_ingest_and_triage.py"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extracts")
    for f in ("store_directory.csv", "brightmart_clean.csv", "wmp_same_incident.csv"):
        shutil.copy(FIX / f, folder / f)
    shutil.copy(BAD / "offender_rows_partly_bad.csv", folder / "pillbox_offender_report.csv")
    shutil.copy(BAD / "feb_31st.csv", folder / "brightmart_feb.csv")
    return folder


def test_notebook_executes_headless(extracts, tmp_path):
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(tmp_path / "nb.duckdb"),
                                                        "sample_dir": str(extracts)})
    assert "retailer_pillbox" in text and "CRIME_NUMBER_MISSING" in text


def test_notebook_is_kept_without_outputs():
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)


def test_triage_views_and_widget(extracts, tmp_path):
    from widgets.ingest_browser import IngestBrowser
    from workbench.ingest import ingest_paths, triage
    from workbench.store import open_store

    with open_store(tmp_path / "w.duckdb") as store:
        ingest_paths(store, [extracts])
        comp = triage.completeness(store).set_index("source_name")
        assert comp.loc["retailer_pillbox", "share_meeting_threshold"] == pytest.approx(0.75)
        assert comp.loc["force_wmp", "share_meeting_threshold"] == 1.0
        queue = triage.referral_queue(store)
        # the two incidents referred by Brightmart and West Midlands Police sit in one force; violence absent
        assert len(queue) == store.con.execute("SELECT count(*) FROM referrals WHERE is_current").fetchone()[0]
        assert queue["priority"].is_monotonic_decreasing
        browser = IngestBrowser(store, export_dir=str(tmp_path / "q"))
        assert "brightmart_clean.csv" in browser.batches_html.value
        browser.status.value = "open"
        browser.source.value = "retailer_pillbox"
        assert "PHL-T-1" not in browser.entries_html.value  # the list shows rules, not raw values
        entry = browser.show_entry()
        assert entry and entry["source_name"] == "retailer_pillbox"
        assert "CRIME_NUMBER_MISSING" in browser.entry_html.value or "REFERRAL_INCOMPLETE" in browser.entry_html.value
        result = browser.export()
        assert result["rows"] == 3 and Path(result["file"]).exists()


def test_widget_escapes_markup(tmp_path):
    from widgets.ingest_browser import IngestBrowser
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    with open_store(tmp_path / "x.duckdb") as store:
        ingest_file(store, FIX / "store_directory.csv")
        rows = (BAD / "script_in_narrative.csv").read_text().splitlines()
        bad = tmp_path / "script_quarantined.csv"
        bad.write_text(rows[0] + "\n" + rows[1].replace("13/40001/25", "") + "\n")
        ingest_file(store, bad)
        browser = IngestBrowser(store)
        browser.show_entry()
        assert "<script>" not in browser.entry_html.value and "&lt;script&gt;" in browser.entry_html.value
