"""workbench.ingest.load's Python helpers, written for `make mutation` (docs/testing.md, "Mutation testing"): the
date-of-birth regex built from strftime formats (matched against real dates here), the crime-number merge
window from configuration (days to seconds, refusals), the id high-water mark, and the generated keys run in
DuckDB. The dedup itself is SQL: tests/test_ingest_dedup_edges.py and tests/test_ingest_merge.py pin it."""
from __future__ import annotations

import re
from types import SimpleNamespace

import duckdb
import pytest

from workbench import config
from workbench.errors import ConfigError
from workbench.ingest import load


@pytest.mark.parametrize("fmt, text, found", [
    ("%d/%m/%Y", "John 02/01/1990; Jane 6/5/1985", ["02/01/1990", "6/5/1985"]),
    ("%Y-%m-%d", "1990-01-02; 1985-05-06", ["1990-01-02", "1985-05-06"]),
    ("%d.%m.%y", "02.01.90 and 020190", ["02.01.90"]),                 # '.' is literal, not any character
    ("%d %b %Y", "2 Jan 1990, 14 February 1985", ["2 Jan 1990"]),
    ("%d %B %Y", "14 February 1985", ["14 February 1985"]),
    ("%Y%m%d %H:%M:%S", "19900102 10:20:30", ["19900102 10:20:30"]),
    ("%d-%m-%Y %Z", "02-01-1990 GMT", ["02-01-1990 GMT"]),            # an unknown directive: any word
])
def test_date_regex_finds_dates_written_in_the_format(fmt, text, found):
    assert re.findall(load._date_regex(fmt), text) == found


@pytest.mark.parametrize("fmt, text, found", [
    ("%d/%m/%y", "02/01/90;03/04/85", ["02/01/90", "03/04/85"]),        # each directive stops where it should
    ("%d %B", "14 February, 2 March", ["14 February", "2 March"]),
    ("%H:%M:%S", "10:20:30,11:21:31", ["10:20:30", "11:21:31"]),
])
def test_date_regex_directives_do_not_run_on(fmt, text, found):
    assert re.findall(load._date_regex(fmt), text) == found


def test_date_regex_exact_text():
    assert load._date_regex("%d/%m/%Y") == r"\d{1,2}\/\d{1,2}\/\d{4}"
    assert load._date_regex("Y%") == "Y\\%"                            # a trailing % is a literal
    assert load._date_regex("") == ""


def test_merge_window_seconds_from_configuration(monkeypatch):
    values = {}
    monkeypatch.setattr(config, "get", lambda key, default=None: values.get(key, default))
    assert load.merge_window_seconds() == 30 * 86400.0                 # default 30 days
    for days, seconds in ((0, 0.0), (1.5, 129600.0), ("2", 172800.0)):
        values["ingest.crime_number_merge_max_days"] = days
        assert load.merge_window_seconds() == seconds
    for bad in (-1, "soon", None, float("nan"), [3]):
        values["ingest.crime_number_merge_max_days"] = bad
        with pytest.raises(ConfigError) as err:
            load.merge_window_seconds()
        # the value as the analyst wrote it (a mutant showed "soon" reported as "got -1.0")
        assert str(err.value) == f"ingest.crime_number_merge_max_days must be a number of days, 0 or more (got {bad!r})"


def test_last_id_over_several_tables():
    con = duckdb.connect()
    con.execute("CREATE TABLE a (id BIGINT); CREATE TABLE b (mid BIGINT)")
    assert load.last_id(con, ("a", "id")) == 0                          # empty: 0
    assert load.last_id(con, ("a", "id"), ("b", "mid")) == 0
    con.execute("INSERT INTO a VALUES (3), (9); INSERT INTO b VALUES (12)")
    assert load.last_id(con, ("a", "id")) == 9
    assert load.last_id(con, ("a", "id"), ("b", "mid")) == 12


def test_group_and_incident_keys():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'R1', '2025-01-02 10:00', 'I1', NULL, NULL, NULL),"
                " (2, 'R1', NULL, 'I1', NULL, NULL, NULL), (3, 'R1', '2025-01-02 10:00', NULL, 'CN', '10:00', 'S1'),"
                " (4, 'R1', '2025-01-02 10:00', 'I1', NULL, NULL, NULL)) "
                "v(_row, ref, received_at, incident_ref, crime_number_norm, occurred_raw, store_ref)")
    keys = [r[0] for r in con.execute(f"SELECT {load.group_key_sql()} FROM t ORDER BY _row").fetchall()]
    assert keys == ["R1\x1f2025-01-02 10:00", "R1\x1f", "R1\x1f2025-01-02 10:00", "R1\x1f2025-01-02 10:00"]
    assert load.group_key_sql("a.") == "a.ref || chr(31) || coalesce(a.received_at, '')"
    assert load.GROUP_KEY == load.group_key_sql()
    incident = SimpleNamespace(shape="incident")
    offender = SimpleNamespace(shape="offender")
    assert load._incident_key_sql(incident, "x") == "a._row"
    sql = load._incident_key_sql(offender, load.group_key_sql("a."))
    got = con.execute(f"SELECT a._row, {sql} FROM t a ORDER BY 1").fetchall()
    # rows 1 and 4 (same referral version and incident reference) are one incident; row 2 is another version;
    # row 3 has no incident reference: its own key by crime number, time and store
    assert got == [(1, 1), (2, 2), (3, 3), (4, 1)]
