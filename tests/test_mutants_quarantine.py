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


# -- export: the second mutation run's survivors (docs/testing.md) ----------------------------------------------
def test_export_errors_name_the_source_exactly(store, tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest import ingest_file, quarantine

    with pytest.raises(WorkbenchError, match=r"^no open quarantine entries$"):
        quarantine.export(store, tmp_path / "none.csv")
    with pytest.raises(WorkbenchError, match=r"^no open quarantine entries for source force_met$"):
        quarantine.export(store, tmp_path / "none.csv", source="force_met")
    ingest_file(store, _file(tmp_path, "a", {1}), source="retailer_brightmart")
    wmp = tmp_path / "wmp.csv"
    lines = (FIX / "wmp_same_incident.csv").read_text(encoding="utf-8").splitlines()
    wmp.write_text("\n".join([lines[0], ";" + lines[1].split(";", 1)[1]]) + "\n", encoding="utf-8")
    ingest_file(store, wmp, source="force_wmp")
    with pytest.raises(WorkbenchError, match=r"^open quarantine entries come from several sources "
                                             r"\(force_wmp, retailer_brightmart\); pass --source NAME$"):
        quarantine.export(store, tmp_path / "both.csv")
    # the force's own delimiter (';' in its mapping) in the CSV sent back to it
    out = tmp_path / "wmp_back.csv"
    quarantine.export(store, out, source="force_wmp")
    first = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert first.split(";")[-2:] == ["_reasons", "_quarantine_id"] and "," not in first.replace(", ", "")


def test_export_uses_the_mapping_of_the_asked_batch(store, tmp_path):
    """A batch ingested under a mapping given by path (its columns in another order) exports in that mapping's
    layout, even after a later batch of the same source used the shipped mapping."""
    import json

    from workbench.ingest import ingest_file, quarantine
    from workbench.ingest.mapping import load_mapping

    shipped = load_mapping("retailer_brightmart")
    text = shipped.text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith('  "narrative":'))
    first_col = next(i for i, line in enumerate(lines) if line.startswith("columns:")) + 1
    moved = lines[:first_col] + [lines[at]] + [x for i, x in enumerate(lines[first_col:], first_col) if i != at]
    (tmp_path / "mine").mkdir()
    custom = tmp_path / "mine" / "retailer_brightmart.yaml"        # the file stem must be the mapping's name
    custom.write_text("\n".join(moved) + "\n", encoding="utf-8")
    custom_columns = list(load_mapping(str(custom)).columns)
    assert custom_columns[0] == "narrative" != list(shipped.columns)[0]

    a = ingest_file(store, _file(tmp_path, "a", {2}), source=str(custom))
    ingest_file(store, _file(tmp_path, "b", {3}), source="retailer_brightmart")     # newer, shipped mapping
    out = tmp_path / "a.csv"
    done = quarantine.export(store, out, batch_id=a["batch_id"])
    header, rows = _read_csv(out)
    assert header == custom_columns + ["_reasons", "_quarantine_id"]
    assert rows[0][0] == "row 2 of a" and done["headers_from"] == "mapping"
    details = json.loads(store.con.execute("SELECT details FROM audit_log WHERE action = 'quarantine-export' "
                                           "ORDER BY audit_id DESC").fetchone()[0])
    assert details["source"] == "retailer_brightmart" and details["format"] == "csv"
    assert details["mapping"] == "loaded" and details["quarantine_ids"] == [int(rows[0][-1])]


def test_export_jsonl_and_xlsx_read_back(store, tmp_path):
    import json

    import openpyxl

    from workbench.ingest import ingest_file, quarantine, rules

    ingest_file(store, _file(tmp_path, "a", {1, 3}), source="retailer_brightmart")
    qids = sorted(int(q) for q in quarantine.list_entries(store)["quarantine_id"])
    out = tmp_path / "rows.jsonl"
    done = quarantine.export(store, out)
    assert done["format"] == "jsonl" and done["rows"] == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
    records = [r for r in records if "_quarantine_id" in r]
    assert sorted(r["_quarantine_id"] for r in records) == qids
    for r in records:
        assert r["_reasons"] == f"CRIME_NUMBER_MISSING: {rules.message('CRIME_NUMBER_MISSING')}"
        assert r["narrative"] in ("row 1 of a", "row 3 of a") and r["crime_ref"] is None
        assert list(r)[-2:] == ["_reasons", "_quarantine_id"] and "_line" not in r

    # exported rows stay open for correction: export again, as XLSX, on the sheet "quarantine"
    book = openpyxl.load_workbook(quarantine.export(store, tmp_path / "rows.xlsx")["file"], read_only=True)
    assert book.sheetnames == ["quarantine"]
    cells = list(book["quarantine"].iter_rows(values_only=True))
    header = list(cells[0])
    assert header[-2:] == ["_reasons", "_quarantine_id"]
    body = [dict(zip(header, row)) for row in cells[1:]]
    assert sorted(int(r["_quarantine_id"]) for r in body) == qids
    assert sorted(r["narrative"] for r in body) == ["row 1 of a", "row 3 of a"]


def test_export_of_a_row_that_could_not_be_split(store, tmp_path, monkeypatch):
    """A malformed row (ROW_MALFORMED: its raw line only) goes back with the whole line in column one; without
    a loadable mapping the export has the single column _line."""
    import json

    from tests.ingest_helpers import BAD
    from workbench.ingest import ingest_file, quarantine

    report = ingest_file(store, BAD / "truncated_mid_row.csv", source="retailer_brightmart")
    assert report["rows_quarantined"] == 1
    raw_line = json.loads(store.con.execute("SELECT raw FROM quarantine").fetchone()[0])["_line"]
    assert raw_line.startswith("BRM-INC-0004")
    out = tmp_path / "bad.csv"
    quarantine.export(store, out)
    header, rows = _read_csv(out)
    assert rows[0][0] == raw_line and set(rows[0][1:-2]) == {""}
    assert header[:-2] == list(quarantine.load_mapping("retailer_brightmart").columns)
    jl = tmp_path / "bad.jsonl"
    quarantine.export(store, jl)
    rec = [json.loads(x) for x in jl.read_text(encoding="utf-8").splitlines() if '"_quarantine_id"' in x][0]
    assert rec["_line"] == raw_line and rec["_reasons"].startswith("ROW_MALFORMED: ")

    monkeypatch.setattr(quarantine, "_mapping_for", lambda *a, **k: None)      # no mapping can be loaded
    out2 = tmp_path / "bad_nomap.csv"
    done = quarantine.export(store, out2, purpose="send back")
    assert done["headers_from"] == "rows"
    header, rows = _read_csv(out2)
    assert header == ["_line", "_reasons", "_quarantine_id"] and rows[0][0] == raw_line
    details = json.loads(store.con.execute("SELECT details FROM audit_log WHERE action = 'quarantine-export' "
                                           "ORDER BY audit_id DESC").fetchone()[0])
    assert details["mapping"] == "not loadable: the rows' own columns"
