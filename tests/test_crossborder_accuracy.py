"""Cross-border accuracy against the sample world's truth (tests only; the library never reads it), on the quick
linkage world shared with tests/test_linkage_accuracy.py and tests/test_linkage_groups_accuracy.py (scale 0.1,
seed 7, same folder), resolved by `run_all`; scored by benchmarks/bench_crossborder.score_results. Also the CLI
on that store (read-only, --json, one-line errors).

Measured on sample world version 2 (docs/performance.md, "Cross-border"): 12 of 12 groups matched (the two
pairs with overlapping signatures found as four groups), forces exact for 12 of 12 (also against the forces of
incidents that name someone or give a plate: 30% of the groups' store incidents are CCTV-only), run pairs
precision 1.0 / recall 0.97, home base within 25 km of the truth's for 11 of 12 (target 10), lead force the
truth's most-affected or home force for 11 of 12 (target 12: the miss is a home estimated in another force, and its
reasons say another force holds most offences).
The floors below are the measured figures, so a regression fails; the target not met is in
docs/performance.md."""
from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from benchmarks import bench_crossborder, bench_linkage


@pytest.fixture(scope="session")
def crossborder_world(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    results = bench_crossborder.analyse_all(str(db))
    return world, db, results, bench_crossborder.score_results(results, db, world)


def test_forces_affected_exactly_as_truth(crossborder_world):
    _w, _db, _r, acc = crossborder_world
    assert acc["matched"] == 12
    assert len({v["matched"] for v in acc["per_group"].values()}) == 12       # twins found apart
    assert acc["forces_exact_named"] == 12 and 0.2 < acc["cctv_only_share_in_store"] < 0.4
    wrong = {g: (v["forces_found"], v["forces_true_referred"]) for g, v in acc["per_group"].items()
             if not v["forces_exact"]}
    assert not wrong, wrong


def test_run_recovery(crossborder_world):
    _w, _db, _r, acc = crossborder_world
    assert acc["run_pair_precision"] >= 0.98, acc
    assert acc["run_pair_recall"] >= 0.93, acc
    assert acc["runs_exact_share"] >= 0.9, acc


def test_home_base_and_lead_force(crossborder_world):
    _w, _db, _r, acc = crossborder_world
    groups = acc["per_group"].values()
    assert acc["home_within_25km"] >= 11, {g: v["home_km"] for g, v in acc["per_group"].items()}
    assert acc["home_km_median"] < 5
    assert acc["lead_ok"] >= 11, {g: (v["lead"], v["true_most_affected"], v["true_home_force"])
                                  for g, v in acc["per_group"].items()}
    for v in groups:   # every recommendation says why, and names a runner-up
        assert v["lead_reasons"] and "of offences" in v["lead_reasons"] and v["lead_runner_up"]
        # a lead is wrong only where the home base was placed in another force than the truth's, and then the
        # reasons say that another force holds the most offences
        if not v["lead_ok"]:
            assert v["home_force_found"] != v["true_home_force"], v
            assert "against: " in v["lead_reasons"] and "rests on the estimated home base" in v["lead_reasons"], v
    # the groups living away from the forces they hit most: their homes found (runs pass through the near end of
    # the working stretch, they do not set out from it)
    away = [v for v in groups if v["away_from_home"]]
    assert len(away) == 3 and all(v["home_km"] <= 25 for v in away), away


def test_signatures_follow_the_groups_tactics(crossborder_world):
    world, _db, results, acc = crossborder_world
    import pandas as pd
    from workbench.crossborder import series_profile

    truth = pd.read_parquet(world / "ground_truth" / "groups.parquet").set_index("group_id")
    for gid, cb in results.items():
        true_g = acc["per_group"][gid]["matched"]
        prof = series_profile(cb.series.incidents)
        methods = prof[prof.facet == "methods"].set_index("value").share
        for code in truth.loc[true_g, "methods"].split(";"):
            assert methods.get(code, 0) >= 0.9, (gid, code, methods.to_dict())


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", "crossborder", *args], capture_output=True,
                          text=True, timeout=600)


def test_cli_verbs_json_and_read_only(crossborder_world):
    _w, db, results, _acc = crossborder_world
    gid = max(results, key=lambda g: results[g].forces.force_code.nunique())
    before = db.stat().st_mtime_ns
    runs = json.loads(_cli("runs", gid, "--db", str(db), "--json").stdout)
    assert len(runs["runs"]) == len(results[gid].runs.runs) and runs["runs"][0]["run_id"].startswith(gid)
    lead = json.loads(_cli("lead", gid, "--db", str(db), "--json").stdout)
    assert lead["recommended"]["force_code"] == results[gid].lead.force_code.iloc[0]
    flows = json.loads(_cli("flows", gid, "--db", str(db), "--json").stdout)
    assert sum(f["legs"] for f in flows["flows"]) == int(results[gid].runs.legs.crosses_border.sum())
    series = json.loads(_cli("series", gid, "--db", str(db), "--json").stdout)
    assert len(series["incidents"]) == len(results[gid].series.incidents)
    text = _cli("lead", gid, "--db", str(db))
    assert text.returncode == 0 and "lead force:" in text.stdout and "runner-up:" in text.stdout
    assert db.stat().st_mtime_ns == before
    assert "--json" in _cli("runs", "--help").stdout


@pytest.mark.parametrize("args, message", [
    (("runs", "GR99999"), "no group GR99999"),
    (("lead", "<script>alert(1)</script>"), "is not a series id"),
    (("flows", "RP9999999"), "no person RP9999999"),
])
def test_cli_bad_ids_one_line(crossborder_world, args, message):
    _w, db, _r, _acc = crossborder_world
    proc = _cli(*args, "--db", str(db))
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def _copy_with(db, tmp_path, sql):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()
    return copy


def test_bad_series_one_incident_unplaced_one_force(crossborder_world, tmp_path):
    _w, db, results, _acc = crossborder_world
    gid = sorted(results)[0]
    inc = results[gid].series.incidents.incident_id.tolist()
    keep = ",".join(str(i) for i in inc[1:])
    # one incident: drop every other incident's mentions of the group
    one = _copy_with(db, tmp_path, [f"DELETE FROM person_mentions WHERE incident_id IN ({keep})",
                                    f"DELETE FROM vehicle_mentions WHERE incident_id IN ({keep})"])
    proc = _cli("runs", gid, "--db", str(one))
    assert proc.returncode == 2 and "has one incident" in proc.stderr and "Traceback" not in proc.stderr
    one.unlink()
    # no time or place anywhere
    ids = ",".join(str(i) for i in inc)
    blank = _copy_with(db, tmp_path, [f"UPDATE incidents SET occurred_at = NULL WHERE incident_id IN ({ids})"])
    proc = _cli("runs", gid, "--db", str(blank))
    assert proc.returncode == 2 and "has both a time and a place" in proc.stderr
    blank.unlink()
    # every incident in one force (stores and incidents moved into force 01)
    inside = _copy_with(db, tmp_path, ["UPDATE stores SET force_code = '01'", "UPDATE incidents SET force_code = '01'"])
    proc = _cli("flows", gid, "--db", str(inside))
    assert proc.returncode == 2 and "no border is crossed" in proc.stderr and "Traceback" not in proc.stderr
    lead = json.loads(_cli("lead", gid, "--db", str(inside), "--json").stdout)
    assert lead["runner_up"] is None and "the only force affected" in lead["recommended"]["reasons"]
