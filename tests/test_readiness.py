"""Referral-readiness check (workbench.readiness, docs/readiness.md): planted bad rows each named by its rule in
plain English, the score, the corrected template read back (formula-safe, marked, audited), nothing written to the
store by the check, hostile input as one line or row messages, and the CLI."""
from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from tests.cli_helpers import invoke, one_line_error
from tests.ingest_helpers import FIX, table_counts, template_store
from workbench import readiness as rd
from workbench.errors import WorkbenchError
from workbench.ingest import rules as ingest_rules
from workbench.store import open_store

HEADER = ["incident_id", "store_no", "occurred", "crime_ref", "police_force", "loss_gbp", "num_offenders", "violence",
          "detained", "tactic_codes", "offender_names", "offender_dobs", "vehicle_reg", "cctv", "dems_ref",
          "narrative", "referral_id", "referred_at", "grading"]
GOOD = dict(zip(HEADER, ["BRM-INC-{n}", "101", "2025-03-02 14:00", "13/4{n}/25", "West Yorkshire Police", "120.50",
                         "2", "N", "N", "FOIL; DIST", "John Smith; Jane Doe", "1990-01-02; 1985-05-06", "AB12 CDE",
                         "Y", "DEMS-{n}", "Two offenders took razors.", "BRM-R-{n}", "2025-04-02 10:00", "2B P"]))
ONE = {"offender_names": "John Smith", "offender_dobs": "1990-01-02"}   # one offender listed
# each planted row: what is changed from a good row, the rule that must name it, the column it must name, and
# whether that alone makes the row not ready
PLANTED = [
    ({"crime_ref": ""}, "CRIME_NUMBER_MISSING", "crime_ref", True),
    ({"police_force": "Gotham City PD"}, "FORCE_UNKNOWN", "police_force", True),
    ({"occurred": ""}, "DATE_MISSING", "occurred", True),
    ({"occurred": "2025-02-31 10:00"}, "DATE_UNPARSEABLE", "occurred", True),
    ({"occurred": "2099-01-01 10:00", "referred_at": "2099-01-02 10:00"}, "DATE_FUTURE", "occurred", True),
    ({"dems_ref": ""}, "READY_DEMS_MISSING", "dems_ref", True),
    ({"dems_ref": "", "cctv": "N"}, "READY_EVIDENCE_MISSING", "dems_ref", True),
    ({"grading": ""}, "READY_GRADING_MISSING", "grading", True),
    ({"grading": "9Z Q"}, "GRADING_INVALID", "grading", True),
    ({"loss_gbp": "12.00", "num_offenders": "1", **ONE}, "READY_BELOW_THRESHOLD", "loss_gbp", False),
    ({"loss_gbp": "", "num_offenders": ""}, "READY_THRESHOLD_UNKNOWN", "loss_gbp", False),
    ({"loss_gbp": "lots"}, "VALUE_UNPARSEABLE", "loss_gbp", True),
    ({"narrative": '=HYPERLINK("http://evil.example/x","click")'}, "FORMULA_IN_CELL", "narrative", False),
    ({"offender_names": "<script>alert(1)</script>"}, "MARKUP_IN_TEXT", "offender_names", False),
    ({"police_force": ""}, "FORCE_FROM_STORE", "police_force", False),
    ({"narrative": "'; DROP TABLE referrals; --"}, None, None, False),
    # at the threshold's edges: each meets it in one way only, so the row names no problem
    ({"loss_gbp": "50", "num_offenders": "2"}, None, None, False),
    ({"loss_gbp": "100.00", "num_offenders": "1", **ONE}, None, None, False),
    ({"loss_gbp": "5", "num_offenders": "1", "violence": "Y", **ONE}, None, None, False),
    ({"loss_gbp": "5", "num_offenders": "1", "detained": "Y", **ONE}, None, None, False),
]
N_GOOD = 3


def _row(n: int, changes: dict) -> list[str]:
    base = {k: v.replace("{n}", f"{n:04d}") for k, v in GOOD.items()}
    base.update(changes)
    return [base[h] for h in HEADER]


def write_planted(path, header=HEADER, encoding="utf-8"):
    rows = [_row(i + 1, {}) for i in range(N_GOOD)]
    rows += [_row(100 + i, changes) for i, (changes, *_rest) in enumerate(PLANTED)]
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        if header is HEADER:
            writer.writerows(rows)
        else:
            writer.writerows([r + [""] * (len(header) - len(HEADER)) for r in rows])
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("readiness"))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return write_planted(tmp_path_factory.mktemp("files") / "brightmart_incidents_planted.csv")


@pytest.fixture(scope="module")
def result(db, planted):
    with open_store(db, read_only=True) as store:
        return rd.check_file(store, planted)


def _audit_rows(db) -> int:
    with open_store(db, read_only=True) as store:
        return store.con.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def test_each_planted_problem_is_named_by_its_rule_in_plain_english(result):
    rules = rd.all_rules()
    assert result.source == "retailer_brightmart" and len(result.rows) == N_GOOD + len(PLANTED)
    assert result.rows.ready.iloc[:N_GOOD].all() and (result.rows.problems.iloc[:N_GOOD] == "").all()
    for i, (changes, rule, column, blocks) in enumerate(PLANTED):
        row = N_GOOD + i + 1
        mine = result.problems[result.problems.row == row]
        verdict = result.rows.set_index("row").loc[row]
        if rule is None:   # SQL in a cell is only text; a row at the threshold meets it: ready, no problem
            assert verdict.ready and mine.empty, mine
            continue
        hit = mine[(mine.rule == rule) & (mine.column == column)]
        assert len(hit) == 1, (rule, mine[["rule", "column"]].to_dict("records"))
        p = hit.iloc[0]
        assert p.column == column and p.message.startswith(f"{column}: {rules[rule].message}")
        assert p.severity == (rd.MUST_FIX if rules[rule].severity == "error" else rd.CHECK)
        assert rule in verdict.rules and p.message in verdict.problems
        assert bool(verdict.ready) is (not blocks), (rule, mine[["rule", "severity"]].to_dict("records"))


def test_given_values_are_quoted_and_missing_ones_are_not(result):
    p = result.problems.set_index("rule")
    assert "(given: 'Gotham City PD')" in p.loc["FORCE_UNKNOWN", "message"]
    assert "(given: '2025-02-31 10:00')" in p.loc["DATE_UNPARSEABLE", "message"]
    assert "given" not in p.loc["CRIME_NUMBER_MISSING", "message"]
    assert "West Yorkshire" in p.loc["FORCE_FROM_STORE", "message"]   # the store's force, named


def test_score_is_the_share_of_rows_ready_with_the_commonest_problems(result):
    blocking = sum(1 for *_x, blocks in PLANTED if blocks)
    rows = N_GOOD + len(PLANTED)
    score = result.score
    assert (score["rows"], score["ready"], score["not_ready"]) == (rows, rows - blocking, blocking)
    assert score["share_ready"] == round((rows - blocking) / rows, 4) and score["retailer"] == "BRM"
    must = result.problems[result.problems.severity == rd.MUST_FIX].drop_duplicates(["row", "rule"])
    counts = must.rule.value_counts()
    assert [t["rows"] for t in score["top_problems"]] == sorted(counts.values, reverse=True)[:3]
    assert all(counts[t["rule"]] == t["rows"] for t in score["top_problems"])
    table = rd.score_table([result, result])
    assert table.loc[0, "rows"] == 2 * rows and table.loc[0, "share_ready"] == score["share_ready"]


def test_threshold_and_requirements_follow_the_settings(db, planted):
    with open_store(db, read_only=True) as store:
        strict = rd.check_file(store, planted, settings=rd.readiness_settings(
            {"threshold": {"min_value_gbp": 1000, "min_offenders": 5}, "grading": {"require": False}}))
    below = set(strict.problems[strict.problems.rule == "READY_BELOW_THRESHOLD"].row)
    assert set(range(1, N_GOOD + 1)) <= below           # 120.50 and 2 offenders: now below
    assert "READY_GRADING_MISSING" not in set(strict.problems.rule)
    with pytest.raises(WorkbenchError, match="min_value_gbp"):
        rd.readiness_settings({"threshold": {"min_value_gbp": "lots"}})


def test_the_check_writes_nothing_to_the_store(db, planted):
    with open_store(db, read_only=True) as store:
        before = table_counts(store)
    audits = _audit_rows(db)
    with open_store(db) as store:              # even on a store open for writing
        rd.check_file(store, planted)
        rd.check_referral(store, {"crime_ref": "13/1/25", "store_no": "101"}, "retailer_brightmart")
        after = table_counts(store)
        temp = store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]
    assert after == before and _audit_rows(db) == audits and temp == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_corrected_template_reads_back_formula_safe_marked_and_audited(db, result, tmp_path, suffix):
    out = tmp_path / f"corrected{suffix}"
    audits = _audit_rows(db)
    with open_store(db, read_only=True) as store:
        written = rd.write_template(store, result, out, purpose="readiness test")
    if suffix == ".csv":
        back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        import openpyxl

        book = openpyxl.load_workbook(out)
        ws = book.active
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
        assert book.properties.keywords == written["marking"] and written["marking"] in ws.oddHeader.center.text
        values = list(ws.values)
        back = pd.DataFrame(values[1:], columns=values[0]).fillna("").astype(str)
    assert list(back.columns[:3]) == ["_row", "_ready", "_reasons"] and set(HEADER) <= set(back.columns)
    assert len(back) == len(result.rows)
    formula_row = back[back.narrative.str.contains("HYPERLINK")].iloc[0]
    assert formula_row.narrative.startswith("'=")          # neutralised, not a formula
    for i, (_c, rule, _col, blocks) in enumerate(PLANTED):
        row = back[back._row.astype(int) == N_GOOD + i + 1].iloc[0]
        if rule:
            assert f"[{rule}]" in row._reasons
        assert row._ready == ("no" if blocks else "yes")
    force_row = back[back._reasons.str.contains("FORCE_FROM_STORE")].iloc[0]
    assert force_row.police_force == "West Yorkshire" and "filled in from the store" in force_row._reasons
    with open_store(db, read_only=True) as store:
        audit = store.con.execute("SELECT action, object, details FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert _audit_rows(db) == audits + 1 and audit[0] == "readiness-template" and audit[1] == str(out)
    details = json.loads(audit[2])
    assert details["sha256"] == written["sha256"] and details["purpose"] == "readiness test"


def test_missing_columns_are_reported_and_added_blank_to_the_template(db, tmp_path):
    path = tmp_path / "brightmart_incidents_short.csv"
    keep = [h for h in HEADER if h not in ("dems_ref", "grading")]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(keep)
        w.writerow([v for h, v in zip(HEADER, _row(1, {})) if h in keep])
    with open_store(db, read_only=True) as store:
        res = rd.check_file(store, path, source="retailer_brightmart")
    missing = [fp for fp in res.file_problems if fp["rule"] == "READY_COLUMN_MISSING"]
    assert {m["message"].split("'")[1] for m in missing} == {"dems_ref", "grading"}
    assert {"dems_ref", "grading"} <= set(res.template.columns) and res.template.dems_ref.isna().all()
    assert {"READY_DEMS_MISSING", "READY_GRADING_MISSING"} <= set(res.problems.rule)


def test_a_single_referral_from_a_form(db):
    with open_store(db, read_only=True) as store:
        res = rd.check_referral(store, {"crime_ref": "", "police_force": "WYP", "occurred": "2025-03-01 10:00",
                                        "store_no": "101", "loss_gbp": "300", "num_offenders": "3", "cctv": "Y",
                                        "dems_ref": "DEMS-9", "grading": "1A P", "referral_id": "FORM-1",
                                        "referred_at": "2025-03-02 09:00"}, "retailer_brightmart")
        assert list(res.problems.rule) == ["CRIME_NUMBER_MISSING"] and not res.rows.ready.iloc[0]
        assert res.file == "referral form" and res.path.is_file()
        with pytest.raises(WorkbenchError, match="not a column of source retailer_brightmart"):
            rd.check_referral(store, {"<b>crime</b>": "x"}, "retailer_brightmart")
        with pytest.raises(WorkbenchError, match="every field is empty"):
            rd.check_referral(store, {"crime_ref": " "}, "retailer_brightmart")


def test_hostile_headers_cells_and_encodings(db, tmp_path):
    header = HEADER + ['=cmd|" /C calc"!A0', "<img src=x onerror=alert(1)>"]
    path = write_planted(tmp_path / "brightmart_incidents_cp1252.csv", header=header, encoding="cp1252")
    text = path.read_text(encoding="cp1252").replace("Two offenders", "Two offenders (£ café)", 1)
    path.write_bytes(text.encode("cp1252"))
    with open_store(db, read_only=True) as store:
        before = table_counts(store)
        res = rd.check_file(store, path)
        assert table_counts(store) == before
        assert store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == before["referrals"]
        out = tmp_path / "t.csv"
        rd.write_template(store, res, out)
    assert res.template.narrative.iloc[0] == "Two offenders (£ café) took razors."
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'=cmd|\" /C calc\"!A0" in back.columns        # a formula header is neutralised too
    assert (back.narrative == "'; DROP TABLE referrals; --").sum() == 1


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"), (b"   \n \n", "only whitespace"), (b"\x00\x01\x02\xff" * 200, "binary"),
    (b"a,b,c\n1,2,3\n", "matches no known source"),
])
def test_unreadable_files_are_one_line_errors(db, tmp_path, content, needle):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with open_store(db, read_only=True) as store, pytest.raises(WorkbenchError) as info:
        rd.check_file(store, path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_file_too_large_to_show_is_refused_in_one_line(db, planted):
    with open_store(db, read_only=True) as store, pytest.raises(WorkbenchError, match="max_rows 5") as info:
        rd.check_file(store, planted, settings=rd.readiness_settings({"max_rows": 5}))
    assert "workbench validate" in str(info.value)


def test_ingest_on_request_goes_through_the_normal_ingest(db, planted, tmp_path):
    import shutil

    copy = tmp_path / "ingest.duckdb"
    shutil.copy(db, copy)
    with open_store(copy, read_only=True) as store:
        res = rd.check_file(store, planted)
        report = rd.ingest_checked(store, res)
    errors = set(ingest_rules.error_codes())
    held = {r for r, g in res.problems.groupby("row") if set(g.rule) & errors}
    assert report["status"] == "committed" and report["rows_read"] == len(res.rows)
    assert report["rows_quarantined"] == len(held)     # ingest's own verdict on the same rows


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_reports_rows_and_writes_the_template(db, planted, tmp_path, capsys):
    out = tmp_path / "c.xlsx"
    r = invoke(capsys, "readiness", planted, "--db", db, "--out", out)
    assert r.exit_code == 1 and out.is_file() and "Traceback" not in r.output + r.err
    assert "rows ready" in r.output and "[CRIME_NUMBER_MISSING] must fix: crime_ref: no crime number" in r.output
    r = invoke(capsys, "readiness", planted, "--db", db, "--json")
    payload = json.loads(r.output)
    assert payload["score"]["rows"] == N_GOOD + len(PLANTED) and payload["rows"][N_GOOD]["problems"][0]["rule"] == \
        "CRIME_NUMBER_MISSING"
    clean = invoke(capsys, "readiness", FIX / "brightmart_clean.csv", "--db", db)
    assert clean.exit_code == 0 and "5 of 5 rows ready" in clean.output


@pytest.mark.parametrize("make, args, needle", [
    (None, ["readiness", "{tmp}/nope.csv"], "no such file"),
    (b"", ["readiness", "{tmp}/f.csv"], "empty"),
    (b"x", ["readiness", "{planted}", "--out", "{tmp}/t.pdf"], "must be a .csv or .xlsx"),
    (None, ["readiness", "{planted}", "--source", "no_such_source"], "no_such_source"),
    (None, ["readiness", str(FIX / "store_directory.csv")], "not referrals"),
])
def test_cli_errors_are_one_line(db, planted, tmp_path, capsys, make, args, needle):
    if make is not None:
        (tmp_path / "f.csv").write_bytes(make)
    args = [a.format(tmp=tmp_path, planted=planted) for a in args] + ["--db", str(db)]
    one_line_error(invoke(capsys, *args), needle)
    assert not (tmp_path / "t.pdf").exists()
