"""notebooks/02_hotspots_for_patrol runs headless (papermill) against a store built by `workbench sample`, `workbench
ingest` and `workbench geo enrich` (tests/hotspot_fixtures.ingested_world, never ground truth), and the
HotspotExplorer widget's filters update its map, chart and table in place."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import notebook_runner
from tests.hotspot_fixtures import ingested_world

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "02_hotspots_for_patrol.py"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    import shutil

    built = ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")
    db = tmp_path_factory.mktemp("nb") / "nb.duckdb"
    shutil.copy(built["db"], db)
    return db


def test_notebook_executes_headless(small_db, tmp_path, chromium_path):
    plans = tmp_path / "plan"
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(small_db), "out_dir": str(plans),
                                                        "knox_iterations": 99, "gi_permutations": 199})
    assert "West Yorkshire" in text and "Backtest" in text and "naive" in text and "Hot spot" in text
    assert (plans / "briefing.pdf").read_bytes().startswith(b"%PDF") and (plans / "map.png").exists()


def test_notebook_is_kept_without_outputs():
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)


def test_explorer_filters_update_map_chart_and_table(small_db, tmp_path):
    import shutil

    from widgets.hotspot_explorer import HotspotExplorer
    from workbench.hotspots import cube
    from workbench.store import open_store

    db = tmp_path / "x.duckdb"
    shutil.copy(small_db, db)
    with open_store(db) as store:
        x = HotspotExplorer(store, permutations=49)
        assert cube.exists(store) and x.refreshes == 1
        national = x.layer.copy()
        # every incident of the window that has a place (a store or coordinates; a force referral whose malformed
        # postcode matched no store has none and cannot be mapped)
        assert national["value"].sum() == store.con.execute(
            "SELECT count(*) FROM incidents i LEFT JOIN stores s USING (store_id) WHERE i.occurred_at >= $s "
            "AND i.occurred_at < $e AND coalesce(i.latitude, s.latitude) IS NOT NULL",
            {"s": x.start.value, "e": x.filters()["end"]}).fetchone()[0]

        x.force.value = "13"                                            # a filter change refreshes in place
        assert x.refreshes == 2 and 0 < x.layer["value"].sum() < national["value"].sum()
        wy_map = x.map_html.value
        assert "srcdoc" in wy_map and "West Yorkshire" in wy_map and x.layer["unit_id"].iloc[0] in x.table_html.value
        chart = x.chart.value

        x.retailer.value = x.retailer.options[1][1]
        expected = store.con.execute(
            "SELECT count(*) FROM incidents i JOIN stores s USING (store_id) WHERE s.retailer_id = $r AND "
            "s.location_force_code = '13' AND i.occurred_at >= $s AND i.occurred_at < $e",
            {"r": x.retailer.value, "s": x.start.value, "e": x.filters()["end"]}).fetchone()[0]
        assert x.layer["value"].sum() == expected and x.chart.value != chart
        x.retailer.value = None

        x.tactic.value = "CONCEAL"
        expected = store.con.execute(
            "SELECT count(DISTINCT i.incident_id) FROM incidents i JOIN stores s USING (store_id) JOIN incident_tactics t "
            "USING (incident_id) WHERE t.tactic_code = 'CONCEAL' AND s.location_force_code = '13' "
            "AND i.occurred_at >= $s AND i.occurred_at < $e",
            {"s": x.start.value, "e": x.filters()["end"]}).fetchone()[0]
        assert x.layer["value"].sum() == expected
        x.tactic.value = None

        x.cell.value = 7
        assert x.layer["unit_id"].map(len).eq(15).all() and x.layer["value"].sum() > 0
        x.method.value = "kde"
        assert "expected" in x.layer["label"].iloc[0] and x.layer["value"].is_monotonic_decreasing
        x.method.value = "gistar"
        assert x.layer.empty or x.layer["category"].str.startswith("Hot spot").all()
        x.offence.value = "robbery"
        x.method.value = "counts"
        assert x.map_html.value != wy_map and "ms" in x.status.value
