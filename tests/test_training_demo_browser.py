"""Notebook 06 (the guided training demonstration) served by Voila on 127.0.0.1 with the offline "workbench"
template and driven in headless Debian chromium as a trainer would: the first step shows the quarantined arrival,
Tab reaches Next and Enter advances, the analyst's decision is recorded, the notes hide, the presenter view enlarges
the text, Reset puts the case back to its starting state. Nothing is asked of any other address. Screenshot:
out/screenshots/trainer.png."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from tests import notebook_runner
from tests.test_training_demo import training_case  # noqa: F401  (the session's training case)
from tests.voila_helpers import offline_page, voila_app  # noqa: F401

pytestmark = pytest.mark.browser
NOTEBOOK = notebook_runner.NOTEBOOKS / "06_training_demo.ipynb"     # served as shipped, like `make dashboards`
SCREENSHOTS = notebook_runner.NOTEBOOKS.parent / "out" / "screenshots"
MARK = "TRAINING - NOT REAL INTELLIGENCE"


def _decisions(case) -> int:
    con = duckdb.connect(str(case / "training.duckdb"), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM link_decisions").fetchone()[0]
    finally:
        con.close()


def test_trainer_steps_decides_hides_notes_presents_and_resets(voila_app, chromium_path,  # noqa: F811
                                                               training_case, tmp_path):  # noqa: F811
    case = tmp_path / "case"
    shutil.copytree(training_case, case, ignore=shutil.ignore_patterns("session", "*.wal"))
    url = voila_app(NOTEBOOK, {"training_dir": str(case), "session_dir": str(tmp_path / "session")}, name="trainer")
    with offline_page(chromium_path, url) as (page, seen):
        title = page.locator(".wb-training-title")
        page.wait_for_selector("text=Step 1 of 7: Referrals arrive", timeout=240_000)
        first = page.inner_text(".wb-training-step")
        assert "CRIME_NUMBER_MISSING" in first and "1 quarantined" in first and first.count(MARK) == 2

        # keyboard: Tab until the Next button has the focus, then Enter
        next_button = page.get_by_role("button", name="Next", exact=True)
        page.locator("body").click(position={"x": 5, "y": 5})
        for _ in range(40):
            page.keyboard.press("Tab")
            if next_button.evaluate("b => b === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the Next button")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Step 2 of 7: Triage queue", timeout=120_000)

        next_button.click()
        page.wait_for_selector("text=Step 3 of 7: People and vehicles resolved", timeout=180_000)
        before = page.inner_text(".wb-training-step")
        page.get_by_role("button", name="Analyst: same person").click()
        page.wait_for_selector("text=The analyst has decided 1 pair(s)", timeout=180_000)
        after = page.inner_text(".wb-training-step")
        notes = page.locator(".wb-training-notes")
        assert notes.is_visible() and "analyst decides" in notes.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "trainer.png"), full_page=True)
        assert _decisions(case) == 1

        # the notes hide before the screen is shared; the presenter view enlarges the text
        page.get_by_role("button", name="Trainer's notes").click()
        notes.wait_for(state="hidden", timeout=30_000)
        normal = title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        page.get_by_role("button", name="Presenter view").click()
        page.wait_for_function("n => parseFloat(getComputedStyle(document.querySelector('.wb-training-title'))"
                               ".fontSize) > n * 1.4", arg=normal, timeout=30_000)
        page.get_by_role("button", name="Back", exact=True).click()
        page.wait_for_selector("text=Step 2 of 7: Triage queue", timeout=60_000)

        # Reset: back to step 1 and the case's starting state
        page.get_by_role("button", name="Reset case").click()
        page.wait_for_selector("text=The case is back to its starting state.", timeout=120_000)
        assert title.inner_text() == "Step 1 of 7: Referrals arrive"
        again = page.inner_text(".wb-training-step")
        text = page.inner_text("body")
    assert _decisions(case) == 0
    assert again == first
    subjects = [int(t.split(" subjects")[0].split()[-1]) for t in (before, after)]
    assert subjects[1] == subjects[0] - 1, subjects
    assert "Traceback" not in text and "Error" not in text
    assert not seen.page_errors, seen.page_errors
