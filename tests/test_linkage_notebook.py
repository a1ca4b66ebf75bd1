"""notebooks/03_people_vehicles_groups runs headless (papermill) against a store built by `workbench sample`,
`workbench ingest` and `workbench geo enrich` (tests/hotspot_fixtures.ingested_world: the session's shared world,
never ground truth): it resolves, shows the review queue and an explanation waterfall, records a decision whose
effect it checks, finds groups, drives the network explorer and writes the explanation and link charts (both
audited)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import notebook_runner
from tests.hotspot_fixtures import ingested_world

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "03_people_vehicles_groups.py"


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path):
    built = ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")
    db = tmp_path / "nb.duckdb"
    shutil.copy(built["db"], db)
    return db


def test_notebook_executes_headless(demo_db, tmp_path):
    from workbench.store import open_store

    out = tmp_path / "linkage"
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(demo_db), "out_dir": str(out),
                                                        "review_limit": 5, "record_decision": True})
    assert "person: " in text and "vehicle: " in text and "pairs shown" in text and "groups" in text
    assert "are now RP" in text and "'selected': 'P:RP" in text
    explanation, chart = out / "explanation.html", out / "link_chart.html"
    assert "Plotly.newPlot" in explanation.read_text(encoding="utf-8") and chart.stat().st_size > 10_000
    with open_store(demo_db, read_only=True) as store:
        decisions = store.sql("SELECT decision, why FROM link_decisions")
        audited = {(o, a): json.loads(d) for o, a, d in store.sql(
            "SELECT object, action, details FROM audit_log").itertuples(index=False)}
    assert list(decisions.decision) == ["confirm"] and decisions.why.iloc[0].startswith("notebook 03")
    assert audited[(str(explanation), "export")]["kind"] == "link-explain-chart"
    assert (str(chart), "link-chart") in audited


def test_notebook_is_kept_without_outputs():
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)
