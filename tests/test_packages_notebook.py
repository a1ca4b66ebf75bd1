"""notebooks/05_intelligence_package runs headless (papermill) against the session's linked world
(tests/test_crossborder_explorer.linked_world: sample, ingest, geo enrich, run_all; never ground truth): it
computes the package of the group spanning most forces, saves the analyst's summary as a new version, builds
every format (read back, audited with its purpose) and verifies the folder against the store."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import notebook_runner
from tests.test_crossborder_explorer import linked_world
from workbench import crossborder as xb
from workbench.store import open_store

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "05_intelligence_package.py"


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path):
    db = tmp_path / "nb.duckdb"
    shutil.copy(linked_world(tmp_path_factory.getbasetemp()), db)
    return db


@pytest.mark.slow
def test_notebook_executes_headless(demo_db, tmp_path):
    with open_store(demo_db, read_only=True) as store:
        gid = xb.several_forces(store).group_id.iloc[0]
    out = tmp_path / "package"
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(demo_db), "out_dir": str(out),
                                                        "summary_text": "notebook 05 test summary",
                                                        "omit_sections": ["timeline"]})
    assert "summary saved as version 1" in text and "verify: ok" in text
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["package"]["subject_id"] == gid and manifest["words"]["summary"]["version"] == 1
    assert manifest["package"]["sections_omitted"] == ["timeline"] and "timeline" not in manifest["package"]["sections"]
    assert {f["name"] for f in manifest["files"]} >= {"package.html", "package.pdf", "package.docx",
                                                      "annex-incidents.xlsx", "associations.anx"}
    with open_store(demo_db, read_only=True) as store:
        audit = store.sql("SELECT action, details FROM audit_log WHERE action = 'package-build'")
    assert json.loads(audit.details.iloc[-1])["purpose"].startswith("notebook 05")


def test_notebook_is_kept_without_outputs():
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)
