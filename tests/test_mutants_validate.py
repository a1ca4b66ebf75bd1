"""workbench.ingest.validate's Python helpers, written for `make mutation` (docs/testing.md, "Mutation testing"):
the SQL they generate is run in DuckDB and its answers checked against values worked out here (haversine by
the textbook formula, the GB box on and off its edges, booleans, issue structs, error codes), and the
parameter handling (Params, JSON key paths, inlining, literals) is checked exactly. The rules' own SQL
conditions are tested by tests/test_rule_coverage.py (every rule fires, exact sets)."""
from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from workbench.errors import WorkbenchError
from workbench.ingest import rules, validate
from workbench.ingest.mapping import load_mapping


def _eval(sql: str, params: dict | None = None, **cols):
    con = duckdb.connect()
    if cols:
        names = ", ".join(f"${k}::VARCHAR AS {k}" for k in cols)
        con.execute(f"CREATE TABLE t AS SELECT {names}", cols)
        return con.execute(f"SELECT {sql} FROM t", params or {}).fetchone()[0]
    return con.execute(f"SELECT {sql}", params or {}).fetchone()[0]


def test_norm_header_and_formats():
    assert validate._norm_header("  Crime   Ref\tNo ") == "crime ref no"
    assert validate._norm_header(12) == "12"
    assert validate._formats(("%d/%m/%Y", "%Y-%m-%d"), ("%Y-%m-%d", "%Y%m%d")) == ["%d/%m/%Y", "%Y-%m-%d", "%Y%m%d"]
    assert validate._formats((), ("a", "b")) == ["a", "b"]


def test_params_add_and_bind_only_the_used_ones():
    p = validate.Params()
    names = [p.add(v) for v in ("a", 2, "c")] + [p.add(x) for x in range(8)]
    assert names[:3] == ["$p0", "$p1", "$p2"] and names[-1] == "$p10"
    assert p.bind("SELECT $p10, $p2") == {"p10": 7, "p2": "c"}      # $p10 is not $p1
    assert p.bind("SELECT 1") == {}
    assert validate.Params().values == {}


def test_json_key_path_reads_hostile_keys_literally():
    key = 'we"ird\\key'
    path = validate.json_key_path(key)
    assert path == '$."we\\"ird\\\\key"'
    assert validate.json_key_path("a", "[0]") == '$."a"[0]'
    doc = '{"we\\"ird\\\\key": "yes", "a": ["first"]}'
    assert _eval("json_extract_string($d, $p)", {"d": doc, "p": path}) == "yes"
    assert _eval("json_extract_string($d, $p)", {"d": doc, "p": validate.json_key_path("a", "[0]")}) == "first"


def test_literals_and_inlined_parameters():
    assert validate._literal("it's") == "'it''s'"
    assert validate._literal(3) == "3" and validate._literal(2.5) == "2.5"
    assert validate._literal(validate._ListLiteral("[1]")) == "[1]"
    with pytest.raises(ValueError, match="^cannot inline a NUL character$"):
        validate._literal("a\x00b")
    with pytest.raises(TypeError, match="^cannot inline parameter of type bool$"):
        validate._literal(True)
    with pytest.raises(TypeError, match="^cannot inline parameter of type NoneType$"):
        validate._literal(None)
    out = validate._inline_params({"p0": ["%Y", "it's"], "p1": dt.datetime(2025, 1, 2, 3, 4, 5), "p2": 7,
                                   "p3": [1, 2], "p4": "x"})
    assert out["p0"] == "['%Y', 'it''s']" and isinstance(out["p0"], validate._ListLiteral)
    assert out["p1"] == "TIMESTAMP '2025-01-02 03:04:05'" and isinstance(out["p1"], validate._ListLiteral)
    assert out["p2"] == 7 and out["p3"] == [1, 2] and out["p4"] == "x"
    sql = validate._inline("SELECT $p0 AS f, $p1 AS t, $p2 AS n, \"col$p2\" AS q", out)
    assert sql == "SELECT ['%Y', 'it''s'] AS f, TIMESTAMP '2025-01-02 03:04:05' AS t, 7 AS n, \"col$p2\" AS q"
    # a doubled quote inside a literal of the generated SQL does not end it
    assert validate._inline("SELECT 'a''$p0' || $p0", {"p0": "b"}) == "SELECT 'a''$p0' || 'b'"
    assert validate._inline("SELECT $x, $p0", {"p0": 1}) == "SELECT $x, 1"
    assert validate._inline("SELECT $p0a", {"p0": 1}) == "SELECT $p0a"           # not a parameter name


def test_execute_one_counts_the_statements():
    con = duckdb.connect()
    with pytest.raises(WorkbenchError, match=r"^refused to run generated SQL that is not exactly one statement "
                                             r"\(2 found\); this is a bug or a hostile source mapping$"):
        validate.execute_one(con, "SELECT 1; SELECT 2")
    assert validate.execute_one(con, "SELECT $a + 1", {"a": 41}).fetchone()[0] == 42
    assert validate.execute_one(con, "SELECT 5").fetchone()[0] == 5


def test_haversine_against_the_textbook_formula():
    def ref(lat1, lon1, lat2, lon2):
        f1, f2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
        a = math.sin((f2 - f1) / 2) ** 2 + math.cos(f1) * math.cos(f2) * math.sin(dl / 2) ** 2
        return 2 * 6371000 * math.asin(math.sqrt(a))
    for pts in ((51.5074, -0.1278, 53.8008, -1.5491), (53.8, -1.5, 53.8, -1.49), (50.1, -5.5, 58.6, -3.0)):
        got = _eval(validate.haversine_m("$a", "$b", "$c", "$d"), dict(zip("abcd", pts)))
        assert got == pytest.approx(ref(*pts), rel=1e-9)
    assert ref(51.5074, -0.1278, 53.8008, -1.5491) == pytest.approx(272_000, rel=0.01)   # London-Leeds


@pytest.mark.parametrize("lat, lon, inside", [
    (53.8, -1.5, True), (49.8, 1.8, True), (60.95, -8.7, True),
    (49.79, 0.0, False), (60.96, 0.0, False), (55.0, -8.71, False), (55.0, 1.81, False), (48.85, 2.35, False)])
def test_in_gb_box_edges(lat, lon, inside):
    assert _eval(validate._in_gb("$lat", "$lon"), {"lat": lat, "lon": lon}) is inside


def test_booleans_and_bad_booleans():
    m = load_mapping("retailer_brightmart")          # true Y, false N (plus the usual words)
    p = validate.Params()
    good, bad = validate._bool(p, m, "v"), validate._bool_bad(p, m, "v")
    for value, want in (("Y", True), ("yes", True), ("TRUE", True), ("1", True), ("n", False), ("No", False),
                        ("false", False), ("0", False), ("maybe", None), (None, None)):
        assert _eval(good, p.bind(good), v=value) is want, value
        assert _eval(bad, p.bind(bad), v=value) is (value == "maybe"), value


def test_issue_struct_and_condition():
    issue = validate._issue("VALUE_NEGATIVE", "value_gbp", "try_cast(v AS DOUBLE) < 0", "v")
    assert (issue.code, issue.field) == ("VALUE_NEGATIVE", "value_gbp")
    assert issue.cond == "coalesce(try_cast(v AS DOUBLE) < 0, FALSE)"
    assert _eval(issue, v="-3") == {"code": "VALUE_NEGATIVE", "field": "value_gbp", "value": "-3"}
    assert _eval(issue, v="0") is None and _eval(issue, v=None) is None
    assert _eval(issue.cond, v=None) is False and _eval(issue.cond, v="-1") is True
    long = validate._issue("FIELD_TOO_LONG", None, "length(v) > 3", "v")
    got = _eval(long, v="x" * 300)
    assert got["field"] is None and got["value"] == "x" * 200 and got["code"] == "FIELD_TOO_LONG"
    plain = validate._issue("DATE_MISSING", "occurred_at", "v IS NULL")
    assert _eval(plain, v=None) == {"code": "DATE_MISSING", "field": "occurred_at", "value": None}


def test_has_error_sql_uses_the_rules_severities():
    every = rules.rules()
    error = next(c for c, r in every.items() if r.severity == "error")
    warning = next(c for c, r in every.items() if r.severity == "warning")
    sql = validate._has_error_sql("issues")
    def has(codes):
        lst = "[" + ", ".join(f"{{'code': '{c}', 'field': NULL}}" for c in codes) + "]"
        return duckdb.connect().execute(f"SELECT {sql} FROM (SELECT {lst} AS issues)").fetchone()[0]
    assert has([warning]) is False and has([warning, error]) is True and has([error]) is True
    assert set(rules.error_codes()) == {c for c, r in every.items() if r.severity == "error"}


@pytest.mark.parametrize("sql, want", [
    ("SELECT '' AS e, $p0 AS v", "SELECT '' AS e, 'x' AS v"),                 # an empty literal
    ("SELECT $p0, 'end'", "SELECT 'x', 'end'"),                                 # a literal at the very end
    ("SELECT 'a''' AS q, $p0", "SELECT 'a''' AS q, 'x'"),                       # a doubled quote before the close
    ("SELECT 'it''s', $p0, ''''", "SELECT 'it''s', 'x', ''''"),
    ("SELECT \"a\"\"b\", $p0", "SELECT \"a\"\"b\", 'x'"),                       # a quoted identifier
    ("SELECT $p0, 'open", "SELECT 'x', 'open"),                                 # unterminated: copied as it is
])
def test_inline_copies_every_quoted_text_exactly(sql, want):
    assert validate._inline(sql, {"p0": "x"}) == want


def test_booleans_accept_the_usual_words_beside_the_sources_own():
    from types import SimpleNamespace

    m = SimpleNamespace(true_values=("ja",), false_values=("nein",))       # a source with words of its own
    p = validate.Params()
    good, bad = validate._bool(p, m, "v"), validate._bool_bad(p, m, "v")
    for value, want in (("ja", True), ("Y", True), ("y", True), ("NEIN", False), ("N", False), ("n", False),
                        ("0", False), ("maybe", None)):
        assert _eval(good, p.bind(good), v=value) is want, value
        assert _eval(bad, p.bind(bad), v=value) is (want is None), value
