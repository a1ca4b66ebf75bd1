"""Dedup and quarantine edge cases (extending tests/test_ingest_merge.py and test_ingest_quarantine_integrity.py):
the force is part of a crime number's identity, against the store and within one file, even at the same store;
the store-and-time match needs the value or the offender count to agree; both sides of the store-and-time
window (ingest.dedup_window_minutes) and the exact edge of the crime-number window; the quarantine round trip
with exact row numbers, and an XLSX export read back cell by cell."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from tests.ingest_helpers import BAD, FIX, fresh_copy, store, template, template_store  # noqa: F401 (fixtures)

with open(FIX / "brightmart_clean.csv", newline="", encoding="utf-8") as _fh:
    BASE = next(csv.DictReader(_fh))  # store 101 (Leeds, West Yorkshire), 13/40001/25, 120.50, two offenders

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
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = ingest_file(store, path, source="retailer_brightmart")
    assert report["status"] == "committed" and report["rows_accepted"] == len(rows), report
    return report


def _incidents(store) -> list[tuple]:
    return store.con.execute("SELECT force_code, store_id, crime_number_norm, value_gbp, offenders_count "
                             "FROM incidents ORDER BY incident_id").fetchall()


# a second report that could only merge through its crime number: other value, other offender count, days later
OTHER = {"loss_gbp": "999.00", "num_offenders": "4", "offender_names": "A One; B Two; C Three; D Four",
         "offender_dobs": ""}


def test_the_same_crime_number_of_two_forces_at_the_same_store_stays_two_incidents(store, tmp_path):
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(days=2), police_force="North Yorkshire Police",
                                                 **OTHER)])
    assert (report["incidents_new"], report["duplicates_merged"], report["merge_suspects"]) == (1, 0, 0)
    assert [(f, s) for f, s, *_ in _incidents(store)] == [("13", "BRM-101"), ("12", "BRM-101")]
    # ... and the same force's report of it does merge (the control: the crime number alone decides here)
    same = _ingest(store, tmp_path, "c", [_row("R-3", T0 + dt.timedelta(days=2), **OTHER)])
    assert (same["incidents_new"], same["duplicates_merged"]) == (0, 1)


def test_the_same_crime_number_of_two_forces_within_one_file(store, tmp_path):
    report = _ingest(store, tmp_path, "a", [
        _row("R-1", T0), _row("R-2", T0 + dt.timedelta(days=2), police_force="North Yorkshire Police", **OTHER),
        _row("R-3", T0 + dt.timedelta(days=3), **OTHER)])          # West Yorkshire's again: one with R-1
    assert (report["incidents_new"], report["merge_suspects"]) == (2, 0)
    assert sorted(f for f, *_ in _incidents(store)) == ["12", "13"]
    links = store.con.execute("SELECT i.force_code, count(*) FROM referral_incidents ri JOIN incidents i "
                              "USING (incident_id) GROUP BY ALL ORDER BY ALL").fetchall()
    assert links == [("12", 1), ("13", 2)]


@pytest.mark.parametrize("change, merged", [
    ({}, True),                                                                   # same value and count
    ({"loss_gbp": "55.00"}, True),                                                # count agrees
    ({"num_offenders": "3", "offender_names": "A; B; C"}, True),                  # value agrees
    ({"loss_gbp": "55.00", "num_offenders": "3", "offender_names": "A; B; C"}, False),   # neither: apart
])
def test_same_store_and_time_needs_the_value_or_the_count_to_agree(change, merged, store, tmp_path):
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(minutes=10), crime_ref="13/55555/25",
                                                 **change)])
    assert (report["duplicates_merged"], report["incidents_new"]) == ((1, 0) if merged else (0, 1))
    assert report["warnings_by_rule"].get("CRIME_NUMBER_DIFFERS", 0) == (1 if merged else 0)
    assert len(_incidents(store)) == (1 if merged else 2)


@pytest.mark.parametrize("minutes, merged", [(-60, True), (60, True), (61, False), (-61, False)])
def test_both_sides_of_the_store_and_time_window(minutes, merged, store, tmp_path):
    from workbench import config

    window = int(config.get("ingest.dedup_window_minutes"))
    assert window == 60   # (the cases are written around the default)
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    report = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(minutes=minutes), crime_ref="13/55555/25")])
    assert (report["duplicates_merged"], report["incidents_new"]) == ((1, 0) if merged else (0, 1))


def test_the_crime_number_window_includes_its_exact_edge(store, tmp_path):
    from workbench import config

    days = float(config.get("ingest.crime_number_merge_max_days"))
    _ingest(store, tmp_path, "a", [_row("R-1", T0)])
    edge = _ingest(store, tmp_path, "b", [_row("R-2", T0 + dt.timedelta(days=days), **OTHER)])
    assert (edge["duplicates_merged"], edge["merge_suspects"]) == (1, 0)
    before = _ingest(store, tmp_path, "c", [_row("R-3", T0 - dt.timedelta(days=days, minutes=1), **OTHER)])
    assert (before["duplicates_merged"], before["merge_suspects"]) == (0, 1)   # earlier side: as far, flagged


# -- quarantine round trip ---------------------------------------------------------------------------------
def _quarantine_rows(store) -> list[tuple]:
    return store.con.execute("SELECT quarantine_id, source_file, row_number, status FROM quarantine "
                             "ORDER BY quarantine_id").fetchall()


def test_quarantine_entries_carry_exact_row_numbers_through_list_and_show(store):
    from workbench.ingest import ingest_file, quarantine

    ingest_file(store, BAD / "negative_values.csv")          # rows 1 and 2 negative (BRM-T-0001, -0002)
    second = ingest_file(store, BAD / "feb_31st.csv")        # row 2 (BRM-T-0002): 31 February; rows 1, 3 good
    held = _quarantine_rows(store)
    # feb_31st's good row 1 is BRM-T-0001 again: a re-submission by referral reference, which resolves row 1
    assert [(f, n, st) for _, f, n, st in held] == [("negative_values.csv", 1, "resolved"),
                                                     ("negative_values.csv", 2, "open"), ("feb_31st.csv", 2, "open")]
    assert second["quarantine_resolved"] == 1
    listed = quarantine.list_entries(store, status=None)     # newest batch first, then by row
    assert list(zip(listed["source_file"], listed["row_number"])) == [
        ("feb_31st.csv", 2), ("negative_values.csv", 1), ("negative_values.csv", 2)]
    assert quarantine.list_entries(store)["row_number"].tolist() == [2, 2]   # open ones
    shown = quarantine.show(store, held[2][0])
    assert shown["row_number"] == 2 and shown["raw"]["occurred"] == "2025-02-31 10:00"
    with open(BAD / "negative_values.csv", newline="", encoding="utf-8") as fh:
        original = list(csv.DictReader(fh))
    assert [quarantine.show(store, q)["raw"] for q, *_ in held[:2]] == original[:2]   # row n is the file's nth row


def test_xlsx_export_reads_back_cell_for_cell(store, tmp_path):
    import openpyxl

    from workbench.ingest import ingest_file, quarantine
    from workbench.ingest.mapping import load_mapping

    rows = [_row("R-1", T0), _row("R-2", T0, loss_gbp="-5", narrative='=HYPERLINK("http://evil.example","x")'),
            _row("R-3", T0, crime_ref="", dems_ref="@SUM(1+1)")]
    report = _ingest_allowing_quarantine(store, tmp_path, rows)
    assert (report["rows_accepted"], report["rows_quarantined"]) == (1, 2)
    out = tmp_path / "fix.xlsx"
    result = quarantine.export(store, out, source="retailer_brightmart")
    assert result["rows"] == 2 and result["format"] == "xlsx"
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    cells = list(ws.iter_rows())
    header = [c.value for c in cells[0]]
    assert header == list(load_mapping("retailer_brightmart").columns) + ["_reasons", "_quarantine_id"]
    assert not [c.coordinate for row in cells for c in row if c.data_type == "f"], "no formula cells"
    body = [dict(zip(header, (c.value for c in row))) for row in cells[1:]]
    ids = [q for q, *_ in _quarantine_rows(store)]
    assert [b["_quarantine_id"] for b in body] == ids
    assert [b["referral_id"] for b in body] == ["R-2", "R-3"]
    assert body[0]["loss_gbp"] == "-5" and "VALUE_NEGATIVE" in body[0]["_reasons"]
    assert body[0]["narrative"] == "'" + rows[1]["narrative"]           # neutralised, text kept
    assert body[1]["dems_ref"] == "'@SUM(1+1)" and "CRIME_NUMBER_MISSING" in body[1]["_reasons"]
    for b, src in zip(body, rows[1:]):   # every other cell is the text the file had (an empty cell is empty)
        assert {k: v for k, v in b.items() if k not in ("narrative", "dems_ref", "_reasons", "_quarantine_id")} == \
            {k: (v if v != "" else None) for k, v in src.items() if k not in ("narrative", "dems_ref")}


def _ingest_allowing_quarantine(store, tmp_path, rows):
    from workbench.ingest import ingest_file

    path = tmp_path / "mixed.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ingest_file(store, path, source="retailer_brightmart")
