"""The bad-input corpus: every hostile or malformed file gives a clear message or quarantine entries,
never a traceback and never a lost row (rows read = accepted + quarantined, checked in the store too)."""
from __future__ import annotations

import json

import pytest

from tests.ingest_helpers import BAD, fresh_copy, template_store

# file -> (rows_read, rows_accepted, rows_quarantined, error rules expected, warning rules expected)
COUNTED = {
    "header_only.csv": (0, 0, 0, set(), set()),
    "wrong_delimiter_rows.csv": (3, 0, 3, {"ROW_MALFORMED"}, set()),
    "semicolon_instead_of_comma.csv": (3, 3, 0, set(), set()),
    "truncated_mid_row.csv": (4, 3, 1, {"ROW_MALFORMED"}, set()),
    "truncated_open_quote.csv": (4, 3, 1, {"ROW_MALFORMED"}, set()),
    "too_many_fields.csv": (3, 2, 1, {"ROW_MALFORMED"}, set()),
    "cp1252_encoded.csv": (2, 2, 0, set(), set()),
    "utf8_bom.csv": (2, 2, 0, set(), set()),
    "utf16_encoded.csv": (2, 2, 0, set(), set()),
    "extra_columns.csv": (2, 2, 0, set(), set()),
    "formula_cells.csv": (3, 3, 0, set(), {"FORMULA_IN_CELL"}),
    "formula_cells.xlsx": (2, 1, 1, {"VALUE_NEGATIVE"}, {"FORMULA_IN_CELL"}),
    "script_in_narrative.csv": (2, 2, 0, set(), {"MARKUP_IN_TEXT"}),
    "sql_fragments.csv": (2, 2, 0, set(), set()),
    "feb_31st.csv": (3, 2, 1, {"DATE_UNPARSEABLE"}, set()),
    "future_dates.csv": (3, 2, 1, {"DATE_FUTURE"}, set()),
    "incident_after_referral.csv": (2, 1, 1, {"INCIDENT_AFTER_REFERRAL"}, set()),
    "swapped_lat_lon.csv": (2, 2, 0, set(), {"COORDS_SWAPPED"}),
    "out_of_range_coords.csv": (3, 2, 1, {"COORDS_OUTSIDE_GB"}, {"COORDS_REPLACED"}),
    "negative_values.csv": (3, 1, 2, {"VALUE_NEGATIVE"}, set()),
    "unknown_force.csv": (2, 1, 1, {"FORCE_UNKNOWN"}, set()),
    "very_long_field.csv": (2, 2, 0, set(), {"FIELD_TOO_LONG"}),
    "non_latin_names.csv": (3, 3, 0, set(), set()),
    "bad_grading.csv": (3, 2, 1, {"GRADING_INVALID"}, {"GRADING_LEGACY"}),
    "unknown_tactic.csv": (2, 2, 0, set(), {"TACTIC_UNKNOWN"}),
    "bad_vrm.csv": (3, 3, 0, set(), {"VRM_UNRECOGNISED", "VRM_PARTIAL"}),
    "malformed_postcode.csv": (2, 2, 0, set(), {"POSTCODE_MALFORMED"}),
    "value_not_number.csv": (2, 1, 1, {"VALUE_UNPARSEABLE"}, set()),
    "offender_rows_partly_bad.csv": (4, 1, 3, {"CRIME_NUMBER_MISSING", "REFERRAL_INCOMPLETE"}, set()),
    "blank_lines_quoted_newlines.csv": (3, 3, 0, set(), set()),
    "truncated.jsonl": (3, 2, 1, {"ROW_MALFORMED"}, set()),
    "jsonl_with_non_objects.jsonl": (4, 2, 2, {"ROW_MALFORMED"}, set()),
    "truncated_array.json": (3, 2, 1, {"ROW_MALFORMED"}, set()),
    "police_uk_2018-07-west-yorkshire-street.csv": (4, 2, 2, {"DATE_UNPARSEABLE", "COORDS_OUTSIDE_GB"}, set()),
    "brightmart_extract.parquet": (2, 1, 1, {"VALUE_NEGATIVE"}, set()),
}
# file -> words the one-line message must contain (file-level problems: nothing can be read as rows)
REFUSED = {
    "empty.csv": "empty",
    "whitespace_only.csv": "whitespace",
    "binary_junk.csv": "binary",
    "duplicated_column.csv": "repeats column 'crime_ref'",
    "missing_crime_column.csv": "cannot tell which source",
    "unknown_header.csv": "matches no known source",
    "not_really.xlsx": "not an XLSX",
    "corrupt.xlsx": "not a readable XLSX",
}


def test_corpus_is_complete():
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.suffix != ".py"}
    assert files == set(COUNTED) | set(REFUSED), "every corpus file needs an expectation (and vice versa)"
    assert len(files) >= 30


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name", sorted(COUNTED))
def test_counted_file(name, template, tmp_path):
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import open_store

    read, accepted, quarantined, errors, warnings = COUNTED[name]
    with open_store(fresh_copy(template, tmp_path, "s")) as store:
        dry = validate_file(store, BAD / name)  # the dry run's rule bits must agree with the full ingest
        report = ingest_file(store, BAD / name)
        assert report["status"] == "committed"
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule"):
            assert dry[key] == report[key], key
        assert dry["warnings_by_rule"] == {k: n for k, n in report["warnings_by_rule"].items()
                                           if k != "CRIME_NUMBER_DIFFERS"}
        assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (read, accepted, quarantined)
        assert report["rows_read"] == report["rows_accepted"] + report["rows_quarantined"]
        assert errors <= set(report["errors_by_rule"]), report["errors_by_rule"]
        assert warnings <= set(report["warnings_by_rule"]), report["warnings_by_rule"]
        batch = store.con.execute("SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_batches "
                                  "WHERE batch_id = $b", {"b": report["batch_id"]}).fetchone()
        assert batch == (read, accepted, quarantined)
        held = store.con.execute("SELECT row_number, source_file, raw, reasons FROM quarantine WHERE batch_id = $b "
                                 "ORDER BY quarantine_id", {"b": report["batch_id"]}).fetchall()
        assert len(held) == quarantined
        assert [h[0] for h in held] == sorted(h[0] for h in held), "quarantine ids follow the file's row order"
        for row_number, source_file, raw, reasons in held:
            assert source_file == name and row_number >= 1
            assert json.loads(raw)
            parsed = json.loads(reasons)
            assert parsed and all(r["rule"] and r["message"] for r in parsed)
            assert {r["rule"] for r in parsed if r["severity"] == "error"} & (errors | {"REFERRAL_INCOMPLETE"})


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_file_gives_one_line(name, template, tmp_path, capsys):
    from workbench.cli import main
    from workbench.store import open_store

    db = fresh_copy(template, tmp_path, "s")
    code = main(["ingest", str(BAD / name), "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 2
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert name in lines[0] and REFUSED[name] in lines[0]
    with open_store(db) as store:  # nothing written
        assert store.con.execute("SELECT count(*) FROM ingest_batches WHERE source_name <> 'store_directory'"
                                 ).fetchone()[0] == 0


def test_hostile_text_is_stored_verbatim(template, tmp_path):
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    expected = {
        "sql_fragments.csv": ("SELECT narrative FROM incidents", "'); DROP TABLE incidents; --"),
        "script_in_narrative.csv": ("SELECT narrative FROM incidents", "<script>alert('x')</script> took goods"),
        "non_latin_names.csv": ("SELECT full_name FROM person_mentions", "Иван Петров"),
        "formula_cells.csv": ("SELECT narrative FROM incidents", '=HYPERLINK("http://evil.example/x","click")'),
    }
    for name, (sql, value) in expected.items():
        with open_store(fresh_copy(template, tmp_path, name)) as store:
            report = ingest_file(store, BAD / name)
            assert value in {r[0] for r in store.con.execute(sql).fetchall()}, name
            assert store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == report["rows_accepted"]
            if name == "non_latin_names.csv":
                names = {r[0] for r in store.con.execute(sql).fetchall()}
                assert {"Иван Петров", "محمد علي", "王伟", "李娜"} <= names


def test_missing_column_with_source_quarantines_every_row(template, tmp_path):
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    with open_store(fresh_copy(template, tmp_path, "s")) as store:
        report = ingest_file(store, BAD / "missing_crime_column.csv", source="retailer_brightmart")
        assert report["missing_columns"] == ["crime_ref"]
        assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (3, 0, 3)
        assert report["errors_by_rule"] == {"CRIME_NUMBER_MISSING": 3}


def test_encodings_decode_names(template, tmp_path):
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    for name in ("cp1252_encoded.csv", "utf8_bom.csv", "utf16_encoded.csv"):
        with open_store(fresh_copy(template, tmp_path, name)) as store:
            ingest_file(store, BAD / name)
            names = {r[0] for r in store.con.execute("SELECT full_name FROM person_mentions").fetchall()}
            assert {"Zoë Brontë", "José Núñez"} <= names, name
            assert store.con.execute("SELECT count(*) FROM incidents WHERE narrative LIKE 'Café staff: £45%'"
                                     ).fetchone()[0] == 1
