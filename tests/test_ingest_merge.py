"""Merges that look wrong are flagged, not made: a crime-number match (same normalised number, same force) merges
only when the store agrees and the dates are within ingest.crime_number_merge_max_days; otherwise the report is
kept as its own incident, flagged MERGE_SUSPECT with the evidence, and the incident is marked for review."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from tests.ingest_helpers import FIX, fresh_copy, store, template, template_store  # noqa: F401 (fixtures)


with open(FIX / "brightmart_clean.csv", newline="", encoding="utf-8") as _fh:
    BASE = next(csv.DictReader(_fh))  # store 101 (Leeds, West Yorkshire), 13/40001/25, two offenders

T0 = dt.datetime(2025, 1, 10, 14, 0)


def _row(ref: str, when: dt.datetime, **changes) -> dict:
    row = {**BASE, "incident_id": f"INC-{ref}", "referral_id": ref, "occurred": when.strftime("%Y-%m-%d %H:%M"),
           "referred_at": (when + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")}
    row.update(changes)
    return row


def _ingest(store, tmp_path: Path, name: str, rows: list[dict]) -> dict:
    from workbench.ingest import ingest_file

    path = tmp_path / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(BASE))
        writer.writeheader()
        writer.writerows(rows)
    report = ingest_file(store, path, source="retailer_brightmart")
    assert report["status"] == "committed" and report["rows_accepted"] == len(rows)
    return report


def _window_days() -> float:
    from workbench import config

    return float(config.get("ingest.crime_number_merge_max_days"))


def _incidents(store) -> list[tuple]:
    return store.con.execute("SELECT incident_id, force_code, store_id, offenders_count, review_reason "
                             "FROM incidents ORDER BY incident_id").fetchall()


def test_the_same_crime_number_in_two_forces_never_merges(store, tmp_path):
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    # West Midlands' own 13/40001/25, at its Birmingham store a day later: another crime altogether
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(days=1), police_force="West Midlands Police",
                                                 store_no="201")])
    assert report["incidents_new"] == 1 and report["duplicates_merged"] == 0
    assert sorted(r[1] for r in _incidents(store)) == ["13", "20"]
    assert report["merge_suspects"] == 0  # different crime keys: nothing to suspect


def test_another_forces_crime_number_at_another_store_months_later_is_flagged_not_merged(store, tmp_path):
    """The reported case: a Birmingham store's row cites West Yorkshire's crime number, 11 months on, 5 offenders."""
    first = _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    later = T0 + dt.timedelta(days=335)
    report = _ingest(store, tmp_path, "b", [_row("R-2", later, store_no="201", num_offenders="5")])
    assert report["incidents_new"] == 1 and report["duplicates_merged"] == 0
    assert report["merge_suspects"] == 1 and report["warnings_by_rule"].get("MERGE_SUSPECT") == 1
    (old_id, _, old_store, old_count, old_review), (new_id, force, new_store, new_count, review) = _incidents(store)
    assert (old_store, old_count, old_review) == ("BRM-101", 2, None)  # the first incident is untouched
    assert (force, new_store, new_count) == ("13", "BRM-201", 5)
    # the evidence: the other incident, both stores, both dates
    for text in (str(old_id), "BRM-101", "BRM-201", T0.strftime("%Y-%m-%d %H:%M"), later.strftime("%Y-%m-%d %H:%M")):
        assert text in review
    assert review.startswith("MERGE_SUSPECT")
    flag = store.con.execute("SELECT incident_id, field, message FROM validation_flags WHERE rule_code = "
                             "'MERGE_SUSPECT' AND batch_id = $b", {"b": report["batch_id"]}).fetchall()
    assert len(flag) == 1 and flag[0][0] == new_id and flag[0][1] == "crime_number"
    assert f"incident {old_id}" in flag[0][2] and "BRM-101" in flag[0][2]
    assert first["batch_id"] != report["batch_id"]


def test_a_different_store_the_same_day_is_flagged(store, tmp_path):
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(minutes=5), store_no="102")])
    assert report["merge_suspects"] == 1 and report["duplicates_merged"] == 0
    assert [r[2] for r in _incidents(store)] == ["BRM-101", "BRM-102"]


def test_the_time_window_boundary(store, tmp_path):
    days = _window_days()
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    inside = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(days=days) - dt.timedelta(minutes=1))])
    assert inside["duplicates_merged"] == 1 and inside["incidents_new"] == 0 and inside["merge_suspects"] == 0
    outside = _ingest(store, tmp_path, "c", [_row("R-3", T0 + dt.timedelta(days=days) + dt.timedelta(minutes=1))])
    assert outside["duplicates_merged"] == 0 and outside["incidents_new"] == 1 and outside["merge_suspects"] == 1
    assert len(_incidents(store)) == 2


def test_the_window_is_configurable(store, tmp_path, monkeypatch):
    from workbench import config

    override = tmp_path / "narrow.yaml"
    override.write_text("ingest:\n  crime_number_merge_max_days: 2\n", encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(override))
    assert config.get("ingest.crime_number_merge_max_days") == 2
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(days=3))])
    assert report["merge_suspects"] == 1 and report["duplicates_merged"] == 0


def test_within_one_file_too(store, tmp_path):
    report = _ingest(store, tmp_path, "a", [
        _row("R-1", T0), _row("R-2", T0 + dt.timedelta(minutes=30)),        # the same incident: one
        _row("R-3", T0 + dt.timedelta(hours=2), store_no="102"),            # another store: apart, flagged
    ])
    assert report["incidents_new"] == 2 and report["merge_suspects"] == 1
    stores = [r[2] for r in _incidents(store)]
    assert stores == ["BRM-101", "BRM-102"]
    reviews = [r[4] for r in _incidents(store)]
    assert reviews[0] is None and "BRM-101" in reviews[1]
