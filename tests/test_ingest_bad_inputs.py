"""The bad-input corpus: every hostile or malformed file gives a clear message or quarantine entries,
never a traceback and never a lost row (rows read = accepted + quarantined, checked in the store too)."""
from __future__ import annotations

import json

import pytest

from tests.ingest_helpers import BAD, fresh_copy, template_store

# file -> (rows_read, rows_accepted, rows_quarantined, errors by rule, warnings by rule, quarantined row numbers):
# exact, so a rule that stops firing or starts firing where it should not fails the test. Errors count issues
# (a row may break two), warnings the accepted rows' flags; row numbers are 1-based data rows (docs/ingest.md).
# rule_*.csv fire the rules no other file fires, with boundary rows (the limit passes, one step past fails).
COUNTED = {
    "header_only.csv": (0, 0, 0, {}, {}, []),
    "wrong_delimiter_rows.csv": (3, 0, 3, {"ROW_MALFORMED": 3}, {}, [1, 2, 3]),
    "semicolon_instead_of_comma.csv": (3, 3, 0, {}, {}, []),
    "truncated_mid_row.csv": (4, 3, 1, {"ROW_MALFORMED": 1}, {}, [4]),
    "truncated_open_quote.csv": (4, 3, 1, {"ROW_MALFORMED": 1}, {}, [4]),
    "too_many_fields.csv": (3, 2, 1, {"ROW_MALFORMED": 1}, {}, [3]),
    "cp1252_encoded.csv": (2, 2, 0, {}, {}, []),
    "utf8_bom.csv": (2, 2, 0, {}, {}, []),
    "utf16_encoded.csv": (2, 2, 0, {}, {}, []),
    "extra_columns.csv": (2, 2, 0, {}, {}, []),
    "formula_cells.csv": (3, 3, 0, {}, {"FORMULA_IN_CELL": 3}, []),
    # Fithaus store 101 is not in the fixture directory (BRM and PHL only): unknown store, location unresolved
    "formula_cells.xlsx": (2, 1, 1, {"VALUE_NEGATIVE": 1},
                           {"FORMULA_IN_CELL": 1, "STORE_UNKNOWN": 1, "LOCATION_UNRESOLVED": 1}, [2]),
    "script_in_narrative.csv": (2, 2, 0, {}, {"MARKUP_IN_TEXT": 2}, []),
    # "Robert'); DELETE ...; Jane Doe" splits on ';' into three names against two stated offenders
    "sql_fragments.csv": (2, 2, 0, {}, {"COUNT_MISMATCH": 1}, []),
    "feb_31st.csv": (3, 2, 1, {"DATE_UNPARSEABLE": 1}, {}, [2]),
    "future_dates.csv": (3, 2, 1, {"DATE_FUTURE": 2}, {}, [1]),   # incident and referral dates both future
    "incident_after_referral.csv": (2, 1, 1, {"INCIDENT_AFTER_REFERRAL": 1}, {}, [1]),
    "swapped_lat_lon.csv": (2, 2, 0, {}, {"COORDS_SWAPPED": 1}, []),
    "out_of_range_coords.csv": (3, 2, 1, {"COORDS_OUTSIDE_GB": 1}, {"COORDS_REPLACED": 1}, [1]),
    "negative_values.csv": (3, 1, 2, {"VALUE_NEGATIVE": 2}, {}, [1, 2]),
    "unknown_force.csv": (2, 1, 1, {"FORCE_UNKNOWN": 1}, {}, [1]),
    "very_long_field.csv": (2, 2, 0, {}, {"FIELD_TOO_LONG": 1}, []),
    "non_latin_names.csv": (3, 3, 0, {}, {}, []),
    "bad_grading.csv": (3, 2, 1, {"GRADING_INVALID": 1}, {"GRADING_LEGACY": 1}, [1]),
    "unknown_tactic.csv": (2, 2, 0, {}, {"TACTIC_UNKNOWN": 2}, []),   # 'XYZ' and 'climbed through roof'
    "bad_vrm.csv": (3, 3, 0, {}, {"VRM_UNRECOGNISED": 1, "VRM_PARTIAL": 1}, []),
    "malformed_postcode.csv": (2, 2, 0, {}, {"POSTCODE_MALFORMED": 2}, []),
    "value_not_number.csv": (2, 1, 1, {"VALUE_UNPARSEABLE": 1}, {}, [1]),
    "offender_rows_partly_bad.csv": (4, 1, 3, {"CRIME_NUMBER_MISSING": 1, "REFERRAL_INCOMPLETE": 2}, {}, [1, 2, 3]),
    "blank_lines_quoted_newlines.csv": (3, 3, 0, {}, {}, []),
    # Glow's store 101 is not in the fixture directory either
    "truncated.jsonl": (3, 2, 1, {"ROW_MALFORMED": 1}, {"STORE_UNKNOWN": 2, "LOCATION_UNRESOLVED": 2}, [3]),
    "jsonl_with_non_objects.jsonl": (4, 2, 2, {"ROW_MALFORMED": 2}, {"STORE_UNKNOWN": 2, "LOCATION_UNRESOLVED": 2},
                                     [2, 3]),
    "truncated_array.json": (3, 2, 1, {"ROW_MALFORMED": 1}, {}, [3]),
    "police_uk_2018-07-west-yorkshire-street.csv": (4, 2, 2, {"DATE_UNPARSEABLE": 1, "COORDS_OUTSIDE_GB": 1}, {},
                                                    [3, 4]),
    "brightmart_extract.parquet": (2, 1, 1, {"VALUE_NEGATIVE": 1}, {}, [2]),
    # one rule each (make_corpus.rule_fixtures)
    "rule_date_missing.csv": (2, 1, 1, {"DATE_MISSING": 1}, {}, [2]),
    "rule_force_missing.csv": (2, 1, 1, {"FORCE_MISSING": 1}, {}, [2]),
    "rule_store_key_missing.csv": (4, 2, 2, {"STORE_KEY_MISSING": 2}, {"COORDS_UNPARSEABLE": 1}, [2, 3]),
    "rule_force_from_store.csv": (2, 2, 0, {}, {"FORCE_FROM_STORE": 1}, []),
    "rule_store_unknown.csv": (2, 2, 0, {}, {"STORE_UNKNOWN": 1, "LOCATION_UNRESOLVED": 1}, []),
    "rule_referral_ref_missing.csv": (2, 2, 0, {}, {"REFERRAL_REF_MISSING": 1}, []),
    "rule_received_missing.csv": (2, 2, 0, {}, {"RECEIVED_MISSING": 1}, []),
    "rule_dob_unparseable.csv": (2, 2, 0, {}, {"DOB_UNPARSEABLE": 1}, []),
    "rule_dob_implausible.csv": (2, 2, 0, {}, {"DOB_IMPLAUSIBLE": 2}, []),   # after the incident; over 100 years
    "rule_bool_unrecognised.csv": (2, 2, 0, {}, {"BOOL_UNRECOGNISED": 1}, []),
    "rule_count_mismatch.csv": (2, 2, 0, {}, {"COUNT_MISMATCH": 1}, []),
    "rule_coords_unparseable.csv": (2, 2, 0, {}, {"COORDS_UNPARSEABLE": 1}, []),
    "rule_grading_conditions_missing.csv": (2, 2, 0, {}, {"GRADING_CONDITIONS_MISSING": 1}, []),
    # boundaries: value and count 0 accepted, -0.01 and -1 refused; incident at the referral's minute accepted,
    # one minute after refused; a field of exactly ingest.max_field_chars quiet, one more flagged; the GB box's
    # corner (49.8, -8.7) inside, 49.79 outside
    "rule_value_boundaries.csv": (5, 3, 2, {"VALUE_NEGATIVE": 2}, {}, [4, 5]),
    "rule_incident_referral_edge.csv": (3, 2, 1, {"INCIDENT_AFTER_REFERRAL": 1}, {}, [3]),
    "rule_field_length_edge.csv": (3, 3, 0, {}, {"FIELD_TOO_LONG": 1}, []),
    "rule_gb_box_edge.csv": (2, 1, 1, {"COORDS_OUTSIDE_GB": 1}, {}, [2]),
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

    read, accepted, quarantined, errors, warnings, held_rows = COUNTED[name]
    with open_store(fresh_copy(template, tmp_path, "s")) as store:
        dry = validate_file(store, BAD / name)  # the dry run's rule bits must agree with the full ingest
        report = ingest_file(store, BAD / name)
        assert report["status"] == "committed"
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule", "warnings_by_rule"):
            assert dry[key] == report[key], key
        assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (read, accepted, quarantined)
        assert report["rows_read"] == report["rows_accepted"] + report["rows_quarantined"]
        assert report["errors_by_rule"] == errors      # exactly these rules, this often: no more, no fewer
        assert report["warnings_by_rule"] == warnings
        batch = store.con.execute("SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_batches "
                                  "WHERE batch_id = $b", {"b": report["batch_id"]}).fetchone()
        assert batch == (read, accepted, quarantined)
        held = store.con.execute("SELECT row_number, source_file, raw, reasons FROM quarantine WHERE batch_id = $b "
                                 "ORDER BY quarantine_id", {"b": report["batch_id"]}).fetchall()
        assert [h[0] for h in held] == held_rows, "the quarantined rows, by number, in the file's row order"
        stored_errors: dict = {}
        for row_number, source_file, raw, reasons in held:
            assert source_file == name
            assert json.loads(raw)
            parsed = json.loads(reasons)
            assert parsed and all(r["rule"] and r["message"] for r in parsed)
            for r in parsed:
                if r["severity"] == "error":
                    stored_errors[r["rule"]] = stored_errors.get(r["rule"], 0) + 1
        assert stored_errors == errors, "the reasons stored with the quarantined rows"
        flags = dict(store.con.execute("SELECT rule_code, count(*) FROM validation_flags WHERE batch_id = $b "
                                       "GROUP BY ALL", {"b": report["batch_id"]}).fetchall())
        assert flags == warnings, "the warnings stored as flags"


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
