"""Every sample source through the ingest path: counts invariant per batch, every extract row accounted for,
incidents deduplicated across sources against the generator's ground truth, and a second run changes nothing."""
from __future__ import annotations

import json

import pytest

from tests.ingest_helpers import table_counts


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from workbench.sample.generate import generate_world

    out = tmp_path_factory.mktemp("world")
    manifest = generate_world(11, 0.01, out)
    return out, manifest


@pytest.fixture(scope="module")
def ingested(world, tmp_path_factory):
    from workbench.ingest import ingest_paths
    from workbench.store import open_store

    out, _ = world
    db = tmp_path_factory.mktemp("db") / "w.duckdb"
    with open_store(db) as store:
        reports = ingest_paths(store, [out / "extracts"])
    return db, reports


def test_every_sample_extract_is_ingested_and_counted(world, ingested):
    from workbench.ingest.mapping import all_mappings

    out, manifest = world
    db, reports = ingested
    assert all(r["status"] == "committed" for r in reports), [r.get("error") for r in reports]
    assert reports[0]["source"] == "store_directory"
    by_source: dict[str, int] = {}
    for r in reports:
        assert r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"]
        by_source[r["source"]] = by_source.get(r["source"], 0) + r["rows_read"]
    for src in manifest["sources"]:
        assert src["name"] in all_mappings(), f"no mapping for sample source {src['name']}"
        assert by_source.get(src["name"]) == src["rows"], src["name"]
    # warnings never swallow rows; errors in the sample are missing crime numbers only
    for r in reports:
        assert set(r["errors_by_rule"]) <= {"CRIME_NUMBER_MISSING", "REFERRAL_INCOMPLETE"}, r["errors_by_rule"]


def test_incidents_match_the_ground_truth(world, ingested):
    import duckdb

    out, _ = world
    db, _ = ingested
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS s (READ_ONLY)")
    truth = str(out / "ground_truth" / "referral_rows.parquet")
    incidents, worlds, overmerged, split = con.execute(f"""
      WITH acc AS (SELECT r.source_name, b.file_name, r.source_row, ri.incident_id FROM s.referrals r
                   JOIN s.ingest_batches b USING (batch_id) JOIN s.referral_incidents ri USING (referral_id)),
           j AS (SELECT acc.incident_id, t.world_incident_id FROM acc JOIN read_parquet($t) t
                 ON t.source_name = acc.source_name AND t.file_name = acc.file_name AND t.row_number = acc.source_row)
      SELECT count(DISTINCT incident_id), count(DISTINCT world_incident_id),
        (SELECT count(*) FROM (SELECT incident_id FROM j GROUP BY 1 HAVING count(DISTINCT world_incident_id) > 1)),
        (SELECT count(*) FROM (SELECT world_incident_id FROM j GROUP BY 1 HAVING count(DISTINCT incident_id) > 1))
      FROM j""", {"t": truth}).fetchone()
    assert incidents <= worlds
    assert split <= worlds * 0.002 and overmerged <= worlds * 0.002
    assert incidents >= worlds * 0.99
    # several sources referred some incidents: provenance is kept for each
    multi = con.execute("SELECT count(*) FROM (SELECT incident_id FROM s.referral_incidents ri JOIN s.referrals r "
                        "USING (referral_id) GROUP BY 1 HAVING count(DISTINCT r.source_name) > 1)").fetchone()[0]
    assert multi > 0


def test_second_run_changes_nothing(world, ingested):
    from workbench.ingest import ingest_paths
    from workbench.store import open_store

    out, _ = world
    db, _ = ingested
    with open_store(db) as store:
        before = table_counts(store)
        again = ingest_paths(store, [out / "extracts"])
        assert {r["status"] for r in again} == {"no-op"}
        assert table_counts(store) == before


def test_batch_reports_are_stored(ingested):
    from workbench.store import open_store

    db, reports = ingested
    with open_store(db, read_only=True) as store:
        rows = store.sql("SELECT batch_id, rows_read, rows_accepted, rows_quarantined, report FROM ingest_batches")
    assert len(rows) == len(reports)
    for row in rows.itertuples():
        assert row.rows_read == row.rows_accepted + row.rows_quarantined
        assert json.loads(row.report)["batch_id"] == row.batch_id


def test_dry_run_agrees_with_the_ingest_for_every_source(world, ingested, tmp_path):
    """`validate` keeps only rule bits and the mention columns: its counts, errors and warnings must match what
    the ingest did (on the store as it was before the ingest: it holds only the store directory)."""
    import shutil

    from workbench.ingest import validate_file
    from workbench.store import open_store

    db, reports = ingested
    copy = tmp_path / "dry.duckdb"
    shutil.copy(db, copy)
    with open_store(copy) as store:
        for r in reports:
            dry = validate_file(store, r["file"], source=r["source"])
            assert dry["status"] == "dry-run"
            for key in ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule"):
                assert dry[key] == r[key], (r["source"], key)
            # the same warnings, rule by rule, except the one that depends on deduplication against the store
            stored = {k: n for k, n in r["warnings_by_rule"].items() if k != "CRIME_NUMBER_DIFFERS"}
            assert dry["warnings_by_rule"] == stored, r["source"]


def test_bulk_ids_are_unique_across_batches_and_mention_kinds(ingested):
    """Ids are allocated per batch in bulk (migration 0004): every batch's rows get fresh ids, and person and
    vehicle mentions share one id space."""
    import duckdb

    db, reports = ingested
    con = duckdb.connect(str(db), read_only=True)
    assert len({r["batch_id"] for r in reports}) == len(reports) > 10
    shared = con.execute("SELECT count(*) FROM person_mentions JOIN vehicle_mentions USING (mention_id)").fetchone()[0]
    assert shared == 0
    assert con.execute("SELECT count(*) FROM vehicle_mentions").fetchone()[0] > 0
    # quarantine ids follow the file's row order within a batch (the order a retailer reads the export in)
    out_of_order = con.execute("""
        SELECT count(*) FROM (SELECT row_number, lag(row_number) OVER (PARTITION BY batch_id ORDER BY quarantine_id)
                              AS prev FROM quarantine) WHERE row_number < prev""").fetchone()[0]
    assert out_of_order == 0
    con.close()
