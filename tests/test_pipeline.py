"""The whole demo pipeline through the CLI, as `make demo` runs it: sample -> ingest -> enrich -> map -> summary."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from workbench.cli import main


def cli_json(args, capsys):
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


def test_demo_pipeline_end_to_end(pipeline, capsys):
    world, db = pipeline / "world", pipeline / "workbench.duckdb"
    made = cli_json(["sample", "--seed", "42", "--scale", "0.2", "--out", str(world)], capsys)
    batches = cli_json(["ingest", str(world / "extracts"), "--db", str(db)], capsys)["batches"]
    assert len(batches) == len(list((world / "extracts").iterdir())) == 16
    for b in batches:       # nothing lost: every row read is stored or quarantined
        assert b["status"] == "committed", b
        assert b["rows_read"] == b["rows_accepted"] + b["rows_quarantined"], b
    truth_rows = pd.read_parquet(world / "ground_truth" / "referral_rows.parquet")
    referral_rows_read = sum(b["rows_read"] for b in batches if b["source"] != "store_directory")
    assert referral_rows_read == len(truth_rows) == sum(made["sources"].values())

    cli_json(["geo", "enrich", "--db", str(db)], capsys)
    assert main(["map", "forces", "--out", str(pipeline / "maps" / "forces.html"), "--db", str(db)]) == 0
    capsys.readouterr()
    assert (pipeline / "maps" / "forces.html").stat().st_size > 10_000
    assert (pipeline / "maps" / "forces.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    summary = cli_json(["summary", "--db", str(db), "--world", str(world)], capsys)
    assert summary["tables"]["stores"] == made["stores"]
    # deduplication: one incident per real event that reached the store with a crime number, however
    # many sources referred it (rows without a crime number are quarantined, per Opal's threshold)
    truth_incidents = pd.read_parquet(world / "ground_truth" / "incidents.parquet")
    rows = truth_rows.merge(truth_incidents[["world_incident_id", "crime_number"]], on="world_incident_id")
    with_number = rows[(rows.crime_number != "") & ~rows.noise.str.contains("crime_number_omitted")]
    # two distinct events at one store inside the dedup window are merged by design and flagged
    # CRIME_NUMBER_DIFFERS (their crime numbers differ): each such merge accounts for one missing incident
    con = duckdb.connect(str(db), read_only=True)
    (differs,), = con.execute("SELECT count(*) FROM validation_flags WHERE rule_code = 'CRIME_NUMBER_DIFFERS'").fetchall()
    con.close()
    assert differs <= 5
    assert summary["tables"]["incidents"] + differs == with_number.world_incident_id.nunique()
    assert summary["territorial_forces_with_incidents"] == 43
    assert summary["world"]["groups"] == made["groups"] >= 10
    assert any(o.endswith("forces.html") for o in summary["outputs"])


def test_rerunning_ingest_changes_nothing(pipeline, capsys):
    world, db = pipeline / "world", pipeline / "workbench.duckdb"
    before = cli_json(["db", "info", "--db", str(db)], capsys)["tables"]
    again = cli_json(["ingest", str(world / "extracts"), "--db", str(db)], capsys)["batches"]
    assert {b["status"] for b in again} == {"no-op"}
    after = cli_json(["db", "info", "--db", str(db)], capsys)["tables"]
    changed = {t["table_name"] for t, u in zip(before, after) if t != u}
    assert changed <= {"audit_log"}
