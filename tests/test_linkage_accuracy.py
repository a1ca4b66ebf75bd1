"""Accuracy against the sample world's ground truth (tests and benchmarks only): a small world made by the CLI
(`workbench sample --scale 0.1`, `workbench ingest`), resolved by the quick linkage benchmark, scored per mention.

Floors sit a little below what was measured (docs/performance.md, "Linkage"), so a real regression fails:
measured at scale 0.1, seed 7: persons pairwise F1 0.989, B-cubed F1 0.991 (exact names: 0.885 / 0.882);
vehicles pairwise F1 0.991."""
from __future__ import annotations

import pytest

from benchmarks import bench_linkage


@pytest.fixture(scope="session")
def measured(tmp_path_factory):
    # a fixed folder of the session, so tests/test_linkage_groups_accuracy.py reuses the same world and store
    records = bench_linkage.run(tmp_path_factory.getbasetemp() / "bench_linkage_quick", quick=True)
    by_step = {r["step"]: r for r in records}
    assert not by_step["resolve_persons_and_vehicles"]["error"], by_step["resolve_persons_and_vehicles"]["error"]
    return by_step


def test_every_mention_is_mapped_to_the_truth(measured):
    acc = measured["accuracy"]
    runs = {r["entity"]: r for r in measured["resolve_persons_and_vehicles"]["runs"]}
    assert acc["person_mentions"] == runs["person"]["records"] > 1000
    assert acc["vehicle_mentions"] == runs["vehicle"]["records"] > 100


def test_persons_accuracy_floors(measured):
    acc = measured["accuracy"]
    assert acc["persons_bcubed"]["f1"] >= 0.975, acc["persons_bcubed"]
    assert acc["persons_pairwise"]["f1"] >= 0.97, acc["persons_pairwise"]
    assert acc["persons_pairwise"]["precision"] >= 0.99 and acc["persons_bcubed"]["precision"] >= 0.99
    # the model beats exact-name matching measured in the same run, clearly
    assert acc["persons_bcubed"]["f1"] >= acc["baseline_exact_name_bcubed"]["f1"] + 0.05
    assert acc["persons_pairwise"]["f1"] >= acc["baseline_exact_name_pairwise"]["f1"] + 0.05


def test_vehicles_accuracy_and_clone_flags(measured):
    acc = measured["accuracy"]
    assert acc["vehicles_pairwise"]["f1"] >= 0.98, acc["vehicles_pairwise"]
    assert acc["false_clone_flags"] == []
    assert set(acc["cloned_plates_observable"]) <= set(acc["cloned_plates_found"])
    assert abs(acc["found_vehicles"] - acc["true_vehicles"]) <= 3
