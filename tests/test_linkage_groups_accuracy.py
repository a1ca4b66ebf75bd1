"""Groups against the sample world's ground truth (tests only; the library never reads it): the quick linkage
world (scale 0.1, seed 7; built once per session in the same folder as tests/test_linkage_accuracy.py's, so the
two share it), resolved by `run_all` (persons, vehicles, then groups), scored by benchmarks/bench_groups.score.

Measured (docs/performance.md, "Groups"): 12 of 12 true groups matched with member Jaccard 1.0, no spurious
group, adjusted Rand index 1.0 over mentions and over resolved persons."""
from __future__ import annotations

import json

import duckdb
import pytest

from benchmarks import bench_groups, bench_linkage


@pytest.fixture(scope="session")
def grouped(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT entity, max(run_id) AS run_id FROM linkage_runs GROUP BY entity").df()
    finally:
        con.close()
    latest = dict(zip(runs.entity, runs.run_id))
    if "group" not in latest or latest["group"] < max(latest.get("person", 0), latest.get("vehicle", 0)):
        from workbench.linkage.run import run_all
        from workbench.store import open_store

        with open_store(db) as store:
            run_all(store)
    return world, db, bench_groups.score(db, world)


def test_every_true_group_is_found(grouped):
    _world, _db, acc = grouped
    assert acc["true_groups"] == 12
    low = {g: v for g, v in acc["per_group"].items() if v["best_jaccard"] < 0.8}
    assert not low, low
    assert acc["all_matched"] and acc["matched"] == 12
    assert acc["spurious"] == 0, acc["spurious_groups"]
    # no two true groups are matched by one found group
    found = [v["found"] for v in acc["per_group"].values()]
    assert len(set(found)) == len(found)


def test_member_to_group_agreement(grouped):
    _world, _db, acc = grouped
    assert acc["ari_mentions"] >= 0.9, acc
    assert acc["ari_persons"] >= 0.9, acc


def test_run_records_modularity_and_stability(grouped):
    _world, db, _acc = grouped
    con = duckdb.connect(str(db), read_only=True)
    try:
        details = json.loads(con.execute("SELECT details FROM linkage_runs WHERE entity = 'group' "
                                         "ORDER BY run_id DESC LIMIT 1").fetchone()[0])
        roles = con.execute("SELECT role, count(*) AS n FROM group_members GROUP BY role").df()
    finally:
        con.close()
    assert details["groups"] == 12 and details["modularity"] > 0.8
    assert details["stability"]["mean_best_jaccard"] >= 0.95 and details["stability"]["ari"] >= 0.95
    assert dict(zip(roles.role, roles.n)).get("key_player") == 12
