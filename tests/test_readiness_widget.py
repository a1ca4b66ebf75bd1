"""The ReadinessCheck widget driven headlessly (upload, form, template download, ingest only when ticked) and
notebook 07 executed headless and paired without outputs."""
from __future__ import annotations

import base64
import io
import shutil

import pytest

from tests import notebook_runner
from tests.ingest_helpers import table_counts, template_store
from tests.test_readiness import N_GOOD, PLANTED, write_planted
from workbench.store import open_store

NOTEBOOK = notebook_runner.NOTEBOOKS / "07_referral_readiness.py"


@pytest.fixture
def store(tmp_path_factory, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(template_store(tmp_path_factory.mktemp("rw")), db)
    s = open_store(db, read_only=True)
    yield s
    s.close()


def test_upload_shows_rows_score_and_offers_the_template(store, tmp_path):
    from widgets.readiness_check import ReadinessCheck

    planted = write_planted(tmp_path / "brightmart_incidents_p.csv")
    check = ReadinessCheck(store, work_dir=tmp_path / "work")
    before = table_counts(store)
    result = check.check_bytes("../../evil <b>name.csv", planted.read_bytes())
    page = check.view.value
    assert result is not None and result.file == "evil_b_name.csv"      # no path, no markup in the saved name
    assert "NOT READY" in page and "CRIME_NUMBER_MISSING" in page and f"of {N_GOOD + len(PLANTED)} rows ready" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert check.ingest_button.disabled and table_counts(store) == before
    out = check.make_template(".xlsx")
    assert out.is_file() and 'download="evil_b_name_corrected.xlsx"' in check.download.value
    data = check.download.value.split("base64,")[1].split('"')[0]
    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data))).active
    assert [c.value for c in next(ws.iter_rows(max_row=1))][:3] == ["_row", "_ready", "_reasons"]
    assert check.ingest() is None and table_counts(store) == before          # not ticked: nothing stored
    check.allow_ingest.value = True
    assert not check.ingest_button.disabled
    report = check.ingest()
    assert report["status"] == "committed" and "ingested" in check.status.value
    assert table_counts(store)["ingest_batches"] == before["ingest_batches"] + 1


def test_form_and_bad_input_in_the_status_line(store, tmp_path):
    from widgets.readiness_check import ReadinessCheck

    check = ReadinessCheck(store, work_dir=tmp_path / "work")
    result = check.check_form({"crime_ref": "", "police_force": "WYP", "occurred": "2025-03-01 10:00",
                               "store_no": "101", "loss_gbp": "300", "num_offenders": "3", "cctv": "Y",
                               "dems_ref": "DEMS-1", "grading": "2B P"})
    assert list(result.problems[result.problems.severity == "must fix"].rule) == ["CRIME_NUMBER_MISSING"]
    assert check.check_bytes("x.csv", b"") is None and "error: " in check.status.value and "empty" in check.status.value
    assert check.view.value == "" and check.template_button.disabled


def test_notebook_07_runs_headless_and_is_paired(store, tmp_path):
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)
    planted = write_planted(tmp_path / "brightmart_incidents_nb.csv")
    db = store.path
    store.close()
    notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(db), "work_dir": str(tmp_path / "work"),
                                                 "example_file": str(planted)})
