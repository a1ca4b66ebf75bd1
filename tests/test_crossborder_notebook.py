"""notebooks/04_cross_border runs headless (papermill) against a store built by `workbench sample`, `ingest` and
`geo enrich` (tests/hotspot_fixtures.ingested_world, the session's shared world) and resolved by `run_all`
(tests/test_crossborder_explorer.linked_world; never ground truth): it follows the group spanning most forces
(several-forces list, analysis, timeline, route map, flows, day x hour, lead force), asks the MO model for
look-alike incidents and an unnamed incident's candidates, finds likely series among unlinked incidents, shows the
tactic trends, writes the group's views and the tactic-trend map (each audited) and drives the explorer."""
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
NOTEBOOK = REPO / "notebooks" / "04_cross_border.py"
VIEWS = ("timeline", "routes", "flows", "heat", "lead")


@pytest.fixture
def demo_db(tmp_path_factory, tmp_path):
    db = tmp_path / "nb.duckdb"
    shutil.copy(linked_world(tmp_path_factory.getbasetemp()), db)
    return db


def test_notebook_executes_headless(demo_db, tmp_path):
    with open_store(demo_db, read_only=True) as store:
        gid = xb.several_forces(store).group_id.iloc[0]
        cb = xb.analyse(store, gid)
        lead = xb.lead_summary(cb)["recommended"]
        audited_before = int(store.sql("SELECT count(*) AS n FROM audit_log").n.iloc[0])
    out = tmp_path / "crossborder"
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(demo_db), "out_dir": str(out), "top": 5})
    assert "groups span two or more forces" in text
    forces = cb.forces.force_code.notna().sum()
    assert f"{gid} ({cb.series.label}): {len(cb.series.incidents)} incidents in {forces} forces" in text
    assert f"recommended: {lead['force_code']} {lead['force_name']} (score {lead['score']:.2f})" in text
    assert "trained on {'series': " in text and f"{gid} ranks " in text
    assert "likely series among unlinked incidents" in text and "rising nationally" in text
    assert f"'group': '{gid}'" in text and "'candidates': " in text
    folder = out / gid
    for view in VIEWS:
        page = (folder / f"{view}.html").read_text(encoding="utf-8")
        assert "OFFICIAL" in page and gid in page, view
    assert "Plotly.newPlot" in (folder / "timeline.html").read_text(encoding="utf-8")
    assert (out / "tactics.html").stat().st_size > 10_000
    with open_store(demo_db, read_only=True) as store:
        rows = store.sql("SELECT object, action, details FROM audit_log ORDER BY 1")
    kinds = {o: json.loads(d).get("kind") for o, a, d in rows.itertuples(index=False) if a == "export"}
    for view in VIEWS:
        assert kinds[str(folder / f"{view}.html")] == f"crossborder-{view}"
    assert kinds[str(out / "tactics.html")] == "crossborder-tactics"
    assert len(rows) == audited_before + len(VIEWS) + 1          # the exports and nothing else were written


def test_notebook_is_kept_without_outputs():
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)


def test_notebook_on_a_group_inside_one_force(demo_db, tmp_path):
    """A group whose incidents all lie in one force (its stores and incidents moved into force 01 on a copy): the
    story says so and runs to the end; no flows to draw, its cross-border views are not written, the tactic map
    is."""
    import duckdb

    with open_store(demo_db, read_only=True) as store:
        gid = xb.several_forces(store).group_id.iloc[-1]
        ids = xb.get_series(store, gid).incidents.incident_id.tolist()
    con = duckdb.connect(str(demo_db))
    try:
        listed = ",".join(str(int(i)) for i in ids)
        con.execute(f"UPDATE stores SET force_code = '01' WHERE store_id IN "
                    f"(SELECT store_id FROM incidents WHERE incident_id IN ({listed}))")
        con.execute(f"UPDATE incidents SET force_code = '01' WHERE incident_id IN ({listed})")
    finally:
        con.close()
    with open_store(demo_db, read_only=True) as store:
        assert xb.analyse(store, gid).forces.force_code.dropna().tolist() == ["01"]
    out = tmp_path / "crossborder"
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(demo_db), "out_dir": str(out), "top": 3,
                                                        "group_id": gid})
    assert "this group stays in one force (01)" in text and f"{gid} stays in one force" in text
    assert "the only force affected" in text
    assert not (out / gid).exists() and (out / "tactics.html").exists()
