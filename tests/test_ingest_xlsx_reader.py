"""The fast XLSX reader (python-calamine) stands in for openpyxl only where it gives the same raw rows: plain
sheets. A sheet with a formula or an error cell is read by openpyxl (formulas arrive as their '=...' text,
never evaluated, and errors as '#N/A'). Both readers are run on the same files and their raw and raw_bad tables
compared row for row: typed cells of every kind, blank rows and cells, rows wider than the header, and the
sample world's own XLSX extracts."""
from __future__ import annotations

import datetime as dt

import duckdb
import openpyxl
import pytest

from workbench.ingest import readers
from workbench.sample.generate import generate_world


def _raw(path, monkeypatch, plain: bool | None):
    """raw and raw_bad of `path` as loaded, with the fast reader allowed (plain=None: as detected) or refused."""
    if plain is False:
        monkeypatch.setattr(readers, "_sheet_parts_plain", lambda _p: False)
    con = duckdb.connect()
    try:
        result = readers.read_header(path)
        readers.load(con, result)
        raw = con.execute("SELECT * FROM raw ORDER BY _row").fetchall()
        bad = con.execute("SELECT * FROM raw_bad ORDER BY 1").fetchall()
        return result.engine, raw, bad
    finally:
        con.close()
        monkeypatch.undo()


def _typed_workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ref", "occurred", "day", "time", "flag", "count", "value", "big", "note"])
    ws.append(["R1", dt.datetime(2024, 10, 1, 7, 5), dt.date(2024, 10, 2), dt.time(13, 45, 10), True, 262, 12.5,
               12345678901234, "  padded  "])
    ws.append(["R2", dt.datetime(2024, 10, 3, 0, 0), dt.date(2025, 2, 28), None, False, 0, 0.1 + 0.2, 1.25e14,
               "£ü — naïve"])
    ws.append([None] * 9)                                           # a blank row: skipped, numbering kept
    ws.append(["R3", None, None, dt.timedelta(hours=30), None, -3, -0.0, 2 ** 49, "0012"])
    ws.append(["R4", "2024-13-40", "not a date", "", None, None, None, None, None, "beyond the header"])
    ws.cell(row=8, column=2).value = "after a gap"
    ws.cell(row=9, column=4).value = 45000.5
    ws.cell(row=9, column=4).number_format = "0.00%"
    wb.save(path)
    return path


def test_plain_sheet_gives_the_same_rows_by_both_readers(tmp_path, monkeypatch):
    path = _typed_workbook(tmp_path / "typed.xlsx")
    fast = _raw(path, monkeypatch, None)
    slow = _raw(path, monkeypatch, False)
    assert fast[0] == "calamine" and slow[0] == "openpyxl"
    assert fast[1] == slow[1] and fast[2] == slow[2]
    rows = {r[1]: r for r in fast[1]}
    assert rows["R1"][2:5] == ("2024-10-01 07:05:00", "2024-10-02 00:00:00", "13:45:10")
    assert rows["R1"][5:] == ("true", "262", "12.5", "12345678901234", "  padded  ")
    assert [r[0] for r in fast[1]] == [1, 2, 4, 7, 8]              # data rows numbered as the sheet is
    assert len(fast[2]) == 1 and fast[2][0][0] == 5 and "header has 9" in fast[2][0][2]


def test_formula_or_error_cells_send_the_file_to_openpyxl(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ref", "note"])
    ws.append(["R1", '=HYPERLINK("http://example.invalid","click")'])
    wb.save(tmp_path / "formula.xlsx")
    engine, raw, _bad = _raw(tmp_path / "formula.xlsx", monkeypatch, None)
    assert engine == "openpyxl" and raw[0][2] == '=HYPERLINK("http://example.invalid","click")'

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ref", "value"])
    ws.append(["R1", "x"])
    ws.cell(row=2, column=2).value = "#N/A"
    ws.cell(row=2, column=2).data_type = "e"
    wb.save(tmp_path / "error.xlsx")
    engine, raw, _bad = _raw(tmp_path / "error.xlsx", monkeypatch, None)
    assert engine == "openpyxl" and raw[0][2] == "#N/A"
    assert readers._sheet_parts_plain(_typed_workbook(tmp_path / "plain.xlsx"))


def test_a_number_whose_text_only_openpyxl_knows_sends_the_file_to_openpyxl(tmp_path, monkeypatch):
    """Whole numbers of 16 digits and more: openpyxl turns the cell's text into an int or a float by how it is
    written, calamine gives a float either way; the file is read again by openpyxl rather than guessed."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ref", "card", "huge"])
    ws.append(["R1", 12345678901234567, 1e20])
    wb.save(tmp_path / "long.xlsx")
    fast = _raw(tmp_path / "long.xlsx", monkeypatch, None)
    slow = _raw(tmp_path / "long.xlsx", monkeypatch, False)
    assert fast == slow and fast[0] == "openpyxl" and fast[1][0][3] == "1e+20"


@pytest.fixture(scope="module")
def world_xlsx(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    generate_world(5, 0.02, out)
    files = sorted((out / "extracts").glob("*.xlsx"))
    assert files, "the sample world writes XLSX extracts"
    return files


def test_sample_world_extracts_read_the_same_by_both_readers(world_xlsx, monkeypatch):
    for path in world_xlsx:
        fast = _raw(path, monkeypatch, None)
        slow = _raw(path, monkeypatch, False)
        assert slow[0] == "openpyxl" and fast[1] == slow[1] and fast[2] == slow[2], path.name
        assert len(fast[1]) > 0
    assert any(_raw(p, monkeypatch, None)[0] == "calamine" for p in world_xlsx)
