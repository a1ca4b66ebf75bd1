"""workbench.ingest.quarantine read side, written to kill mutants that survived `make mutation` (docs/testing.md):
list_entries' filters and defaults (source, status with exported counted as open, batch), exact row numbers,
show() decoding the raw row and its reasons, and an unknown id as one actionable error."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from tests.ingest_helpers import FIX, fresh_copy, template_store

with open(FIX / "brightmart_clean.csv", newline="", encoding="utf-8") as _fh:
    BASE = next(csv.DictReader(_fh))
T0 = dt.datetime(2025, 1, 10, 14, 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("q"))


@pytest.fixture
def store(template, tmp_path):
    from workbench.store import open_store

    s = open_store(fresh_copy(template, tmp_path, "s"))
    yield s
    s.close()


def _file(tmp_path, name: str, bad_rows: set[int], n: int = 4):
    """n data rows (1-based); those in bad_rows have no crime number (CRIME_NUMBER_MISSING: quarantined)."""
    rows = []
    for i in range(1, n + 1):
        when = T0 + dt.timedelta(days=i)
        rows.append({**BASE, "incident_id": f"{name}-{i}", "referral_id": f"{name}-R{i}",
                     "crime_ref": "" if i in bad_rows else f"13/4{i:04d}/25",
                     "occurred": when.strftime("%Y-%m-%d %H:%M"),
                     "referred_at": (when + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
                     "narrative": f"row {i} of {name}"})
    path = tmp_path / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(BASE))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_list_entries_filters_and_defaults(store, tmp_path):
    from workbench.ingest import ingest_file, quarantine

    a = ingest_file(store, _file(tmp_path, "a", {2, 4}), source="retailer_brightmart")
    b = ingest_file(store, _file(tmp_path, "b", {3}), source="retailer_brightmart")
    assert (a["rows_quarantined"], b["rows_quarantined"]) == (2, 1)

    everything = quarantine.list_entries(store)                  # default: open rows of every source and batch
    assert len(everything) == 3 and set(everything["status"]) == {"open"}
    # newest batch first, then by row: the exact 1-based data rows that broke the rule
    assert list(zip(everything["batch_id"], everything["row_number"])) == [
        (b["batch_id"], 3), (a["batch_id"], 2), (a["batch_id"], 4)]
    assert set(everything["rules"]) == {"CRIME_NUMBER_MISSING"}
    assert list(quarantine.list_entries(store, batch_id=a["batch_id"])["row_number"]) == [2, 4]
    assert quarantine.list_entries(store, source="retailer_brightmart").equals(everything)
    assert quarantine.list_entries(store, source="force_met").empty

    # exported rows still count as open (not yet corrected); resolved ones do not
    first = int(everything["quarantine_id"].iloc[0])
    store.con.execute("UPDATE quarantine SET status = 'exported' WHERE quarantine_id = $q", {"q": first})
    last = int(everything["quarantine_id"].iloc[2])
    store.con.execute("UPDATE quarantine SET status = 'resolved' WHERE quarantine_id = $q", {"q": last})
    open_now = quarantine.list_entries(store)
    assert sorted(open_now["quarantine_id"]) == sorted([first, int(everything["quarantine_id"].iloc[1])])
    assert list(quarantine.list_entries(store, status="resolved")["quarantine_id"]) == [last]
    assert len(quarantine.list_entries(store, status=None)) == 3
    reasons = quarantine.summary(store)
    assert len(reasons) >= 1 and reasons.to_string().count("CRIME_NUMBER_MISSING") >= 1


def test_show_decodes_the_raw_row_and_every_reason(store, tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest import ingest_file, quarantine

    ingest_file(store, _file(tmp_path, "c", {1}), source="retailer_brightmart")
    qid = int(quarantine.list_entries(store)["quarantine_id"].iloc[0])
    entry = quarantine.show(store, qid)
    assert isinstance(entry["raw"], dict) and entry["raw"]["narrative"] == "row 1 of c"
    assert entry["raw"]["crime_ref"] is None and entry["raw"]["store_no"] == BASE["store_no"]
    assert [r["rule"] for r in entry["reasons"]] == ["CRIME_NUMBER_MISSING"]
    with pytest.raises(WorkbenchError, match=f"no quarantine entry {qid + 1000}"):
        quarantine.show(store, qid + 1000)
