"""Notebook 07 (the referral-readiness page) served by Voila on 127.0.0.1 with the offline "workbench" template and
used in headless Debian chromium as a retailer would: upload an extract holding a planted bad row (no crime number)
and a cell a spreadsheet would run as a formula, see that row flagged in plain English, make the corrected CSV
template and download it; the downloaded file is formula-safe. Nothing is asked of any other address."""
from __future__ import annotations

import csv
import shutil

import pytest

from tests import notebook_runner
from tests.ingest_helpers import table_counts, template_store
from tests.test_readiness import HEADER, _row
from tests.voila_helpers import offline_page, voila_app  # noqa: F401
from workbench.ingest import rules as ingest_rules
from workbench.store import open_store

pytestmark = pytest.mark.browser
NOTEBOOK = notebook_runner.NOTEBOOKS / "07_referral_readiness.py"
SCREENSHOTS = notebook_runner.NOTEBOOKS.parent / "out" / "screenshots"
FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def _extract(path):
    rows = [_row(1, {}), _row(2, {}), _row(3, {"crime_ref": ""}), _row(4, {"narrative": FORMULA})]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path, rows


def test_readiness_page_flags_the_planted_row_and_downloads_a_formula_safe_template(voila_app, chromium_path,
                                                                                    tmp_path):
    db = tmp_path / "r.duckdb"
    shutil.copy(template_store(tmp_path / "template"), db)
    with open_store(db, read_only=True) as s:
        before = table_counts(s)
    extract, rows = _extract(tmp_path / "brightmart_incidents_page.csv")
    url = voila_app(NOTEBOOK, {"db_path": str(db), "work_dir": str(tmp_path / "work"), "example_file": None},
                    name="readiness")
    message = ingest_rules.message("CRIME_NUMBER_MISSING")       # "no crime number: Opal accepts ..."
    with offline_page(chromium_path, url, accept_downloads=True) as (page, seen):
        upload = page.get_by_role("button", name="Upload extract")
        upload.wait_for(timeout=240_000)
        detect = page.locator("select").first.evaluate("s => s.options[s.selectedIndex]?.text")
        with page.expect_file_chooser() as chooser:          # the upload button opens the browser's file chooser
            upload.click()
        chooser.value.set_files(str(extract))
        page.wait_for_selector(".wb-readiness-rows", timeout=120_000)
        bad = page.locator("tr.wb-not-ready")
        assert bad.count() == 1
        text = bad.first.inner_text()
        score = page.inner_text(".wb-readiness-score")
        # the template as CSV: pick the format, press the button, follow the download link
        page.locator("select").filter(has=page.locator("option", has_text="CSV")).select_option(label="CSV")
        page.get_by_role("button", name="Make corrected template").click()
        link = page.locator("a.wb-readiness-download")
        link.wait_for(timeout=60_000)
        with page.expect_download() as info:
            link.click()
        download = info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "readiness.png"), full_page=True)
        status = page.inner_text(".wb-readiness-status")
    # row 3 (no crime number) is the one not ready, said in plain English with the column the retailer used
    assert rows[2][HEADER.index("referral_id")] in text and "NOT READY" in text
    assert "CRIME_NUMBER_MISSING" in text and "must fix" in text and f"crime_ref: {message}" in text
    assert detect.replace("\xa0", " ") == "(detect from the header)"    # says what it does before any upload
    assert "3 of 4 rows ready" in score and "corrected template written" in status and "audited" in status
    # the downloaded corrected template: the file's rows, the verdicts, and the formula cell defused
    assert saved.name == "brightmart_incidents_page_corrected.csv"
    with open(saved, encoding="utf-8-sig", newline="") as fh:         # written with a BOM for Excel
        got = list(csv.reader(fh))
    header, body = got[0], got[1:]
    assert header[:3] == ["_row", "_ready", "_reasons"] and "crime_ref" in header and len(body) == 4
    cells = [c for r in body for c in r]
    assert not any(c.lstrip().startswith(("=", "+", "@")) for c in cells), [c for c in cells if "HYPERLINK" in c]
    narrative = body[3][header.index("narrative")]
    assert narrative == "'" + FORMULA
    assert "CRIME_NUMBER_MISSING" in body[2][header.index("_reasons")]
    assert not seen.page_errors, seen.page_errors
    with open_store(db, read_only=True) as s:
        after = table_counts(s)
    assert after == before                      # the check and the template stored nothing but their audit row
