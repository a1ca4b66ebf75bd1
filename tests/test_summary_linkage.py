"""`workbench summary` reports what linkage found beside what the sample world says there is to find (its
manifest's headline counts; the library never reads ground truth)."""
from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from tests.linkage_helpers import fill_store, person_records
from workbench.cli import main
from workbench.linkage.run import run_all
from workbench.store import open_store


def _summary(capsys, *args):
    code = main(["summary", *map(str, args)])
    out = capsys.readouterr().out
    return code, out


@pytest.fixture
def linked(tmp_path):
    db = tmp_path / "s.duckdb"
    vehicles = pd.DataFrame([
        {"record_id": "V1", "vrm": "AE71 USM", "make": "Citroen Berlingo", "colour": "red", "lat": 53.80,
         "lon": -1.55, "seen_at": datetime(2025, 3, 1, 10, 0)},
        {"record_id": "V2", "vrm": "AE71USM", "make": "Renault Clio", "colour": "blue", "lat": 51.50,
         "lon": -0.12, "seen_at": datetime(2025, 3, 1, 10, 45)}])
    with open_store(db) as store:
        fill_store(store, person_records(n_people=12, seed=5), vehicles)
        run_all(store)
        found = store.sql("SELECT (SELECT count(*) FROM resolved_persons WHERE status = 'active') AS p, "
                          "(SELECT count(*) FROM resolved_vehicles WHERE status = 'active') AS v, "
                          "(SELECT count(DISTINCT vrm) FROM vehicle_flags) AS c").iloc[0]
    world = tmp_path / "world"
    world.mkdir()
    (world / "manifest.json").write_text(json.dumps({
        "seed": 1, "scale": 0.1, "incidents": 14, "stores": 3, "retailers": 1, "groups": 0,
        "forces_with_stores": 1, "period": {}, "to_find": {"persons": 12, "vehicles": 2, "cloned_plates": 1,
                                                          "groups": 0}}))
    return db, world, found


def test_summary_prints_found_beside_the_world(linked, capsys):
    db, world, found = linked
    assert found.c == 1 and found.p >= 12                 # the clone (400 km in 45 minutes) is flagged
    code, out = _summary(capsys, "--db", db, "--world", world)
    assert code == 0
    text = " ".join(out.split())                          # the console wraps at its width
    line = text[text.index("Linkage found:"):]
    assert f"persons {found.p:,} (the world: 12)" in line
    assert f"vehicles {found.v:,} (the world: 2)" in line and "cloned plates flagged 1 (the world: 1)" in line
    assert "groups" in line


def test_summary_json_carries_the_linkage_counts(linked, capsys):
    db, _, found = linked
    code = main(["summary", "--db", str(db), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["linkage"]["persons"] == found.p and payload["linkage"]["vehicles"] == found.v
    assert payload["linkage"]["cloned_plates"] == found.c


def test_summary_before_linkage_says_so(tmp_path, capsys, linked):
    _, world, _ = linked
    db = tmp_path / "empty.duckdb"
    with open_store(db):
        pass
    code, out = _summary(capsys, "--db", db, "--world", world)
    assert code == 0 and "Linkage has not run yet" in out and "Linkage found" not in out
