"""workbench.ingest.quarantine read side, written to kill mutants that survived `make mutation` (docs/testing.md):
list_entries' filters and defaults (source, status with exported counted as open, batch), exact row numbers,
show() decoding the raw row and its reasons, and an unknown id as one actionable error."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from tests.ingest_helpers import FIX, fresh_copy, store, template, template_store  # noqa: F401 (fixtures)

with open(FIX / "brightmart_clean.csv", newline="", encoding="utf-8") as _fh:
    BASE = next(csv.DictReader(_fh))
T0 = dt.datetime(2025, 1, 10, 14, 0)


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


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        return next(reader), list(reader)


def test_export_layout_reasons_and_filters(store, tmp_path):
    """The export holds the source's own columns then _reasons and _quarantine_id (each once, also when the rows
    came back from an earlier export), every reason with its field and value, only the asked batch, and the
    purpose in the audit row."""
    import json

    from workbench.errors import WorkbenchError
    from workbench.ingest import ingest_file, quarantine, rules
    from workbench.ingest.mapping import load_mapping

    a = ingest_file(store, _file(tmp_path, "a", {2}), source="retailer_brightmart")
    unknown = _file(tmp_path, "b", {1})
    text = unknown.read_text(encoding="utf-8").replace("West Yorkshire Police", "Gotham Police", 1)
    unknown.write_text(text, encoding="utf-8")
    b = ingest_file(store, unknown, source="retailer_brightmart")

    out = tmp_path / "only_a.csv"
    done = quarantine.export(store, out, source="retailer_brightmart", batch_id=a["batch_id"], purpose="fix rows")
    header, rows = _read_csv(out)
    columns = list(load_mapping("retailer_brightmart").columns)
    assert header == columns + ["_reasons", "_quarantine_id"]
    assert done["rows"] == len(rows) == 1 and rows[0][header.index("narrative")] == "row 2 of a"
    assert rows[0][header.index("_reasons")] == f"CRIME_NUMBER_MISSING: {rules.message('CRIME_NUMBER_MISSING')}"
    assert done["purpose"] == "fix rows" and done["headers_from"] == "mapping"
    (details,), = store.con.execute("SELECT details FROM audit_log WHERE action = 'quarantine-export'").fetchone(),
    details = json.loads(details)
    assert details["purpose"] == "fix rows" and details["rows"] == 1 and details["batch_id"] == a["batch_id"]

    out_b = tmp_path / "b.csv"
    quarantine.export(store, out_b, batch_id=b["batch_id"])
    header, rows = _read_csv(out_b)
    force = f"FORCE_UNKNOWN: {rules.message('FORCE_UNKNOWN')} [force = Gotham Police]"   # with its value
    number = f"CRIME_NUMBER_MISSING: {rules.message('CRIME_NUMBER_MISSING')}"             # no value: no brackets
    assert rows[0][header.index("_reasons")] in (f"{number}; {force}", f"{force}; {number}")

    # the exported file sent back uncorrected: quarantined again, with _reasons and _quarantine_id in its raw row
    again = ingest_file(store, out, source="retailer_brightmart")
    assert again["rows_quarantined"] == 1
    out_again = tmp_path / "again.csv"
    quarantine.export(store, out_again, batch_id=again["batch_id"])
    header, _ = _read_csv(out_again)
    assert header[-2:] == ["_reasons", "_quarantine_id"]
    assert header.count("_reasons") == 1 and header.count("_quarantine_id") == 1 and "_line" not in header
    assert header[:len(columns)] == columns
    with pytest.raises(WorkbenchError, match="no open quarantine entries"):
        quarantine.export(store, tmp_path / "none.csv", source="force_met")


def test_export_refuses_rows_of_two_sources_together(store, tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest import ingest_file, quarantine

    ingest_file(store, _file(tmp_path, "a", {1}), source="retailer_brightmart")
    wmp = tmp_path / "wmp.csv"
    lines = (FIX / "wmp_same_incident.csv").read_text(encoding="utf-8").splitlines()
    wmp.write_text("\n".join([lines[0], ";" + lines[1].split(";", 1)[1]]) + "\n", encoding="utf-8")  # no crime ref
    w = ingest_file(store, wmp, source="force_wmp")
    assert w["rows_quarantined"] == 1
    with pytest.raises(WorkbenchError, match="several sources"):
        quarantine.export(store, tmp_path / "both.csv")
    done = quarantine.export(store, tmp_path / "wmp_out.csv", source="force_wmp")
    assert done["source"] == "force_wmp" and done["rows"] == 1
