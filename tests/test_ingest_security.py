"""A source mapping is data, never SQL: a hostile mapping YAML given by path to `validate` and `ingest` (CLI and
library) leaves every table and every audit row intact, and its values are stored literally as data.

Before the fix, `defaults: {handling_conditions: "$p1", address: ") ... ; DROP TABLE referrals; ..."}` broke out
of the quoting of the staging view (the inliner replaced `$p1` inside an already-inlined literal), so a dry run
dropped a table and emptied the audit log."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.ingest_helpers import FIX

BRIGHTMART = Path(__file__).resolve().parent.parent / "workbench" / "sources" / "retailer_brightmart.yaml"
BREAKOUT = ") AS handling_conditions FROM raw; DROP TABLE referrals; DELETE FROM audit_log; SELECT ("

# (handling_conditions default, address default): the first field's literal precedes the second's in the SQL
PAYLOADS = {
    "dollar-param-reference": ("$p1", BREAKOUT),
    "dollar-param-reference-suffix": ("x$p1y", BREAKOUT),
    "dollar-params-everywhere": ("$p0 $p2 $p10 $1 ? $$", "$p0"),
    "quote-break": ("'); DROP TABLE audit_log; --", "x' || (SELECT 1) || '"),
    "classic": ("'; DROP TABLE audit_log; --", "\"; DROP TABLE referrals; --"),
    "semicolons": ("a; b; c;", ";;; DELETE FROM audit_log;"),
    "unicode-quotes": ("\u2019; DROP TABLE audit_log; --\u2018", "\uff07\u201c\u201d; DELETE FROM audit_log; --"),
    "backslash": ("\\'; DROP TABLE audit_log; --", "C:\\temp\\$p1\\"),
}


def _hostile_mapping(directory: Path, hc: str, address: str, name: str = "retailer_hostile") -> Path:
    data = yaml.safe_load(BRIGHTMART.read_text(encoding="utf-8"))
    data["name"] = name
    data["file_patterns"] = []
    data["defaults"] = {"handling_conditions": hc, "address": address, "offence_type": "shoplifting"}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _tables(con) -> list[str]:
    return sorted(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog <> 'temp' "
        "AND table_schema = 'main'").fetchall())


def _snapshot(db: Path) -> dict:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        con = store.con
        tables = _tables(con)
        return {"tables": tables,
                "counts": {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables},
                "audit": con.execute("SELECT * FROM audit_log ORDER BY ALL").fetchall()}


@pytest.fixture
def seeded_db(tmp_path) -> Path:
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        ingest_file(store, FIX / "store_directory.csv")
    return db


def _assert_intact(before: dict, after: dict, new_actions: list[str], db: Path) -> None:
    from workbench.store import open_store

    assert after["tables"] == before["tables"]
    # every audit row that was there is still there, unchanged; the new rows are the ones this run writes
    assert set(before["audit"]) <= set(after["audit"])
    assert len(after["audit"]) == len(before["audit"]) + len(new_actions)
    with open_store(db, read_only=True) as store:
        actions = [r[0] for r in store.con.execute("SELECT action FROM audit_log").fetchall()]
    for action in set(new_actions):
        assert actions.count(action) >= new_actions.count(action)


def _assert_stored_literally(db: Path, hc: str, address: str) -> None:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        con = store.con
        n = con.execute("SELECT count(*) FROM referrals").fetchone()[0]
        assert n > 0
        assert con.execute("SELECT DISTINCT handling_conditions FROM referrals").fetchall() == [(hc,)]
        assert con.execute("SELECT DISTINCT location_text FROM incidents").fetchall() == [(address,)]


@pytest.mark.parametrize("variant", sorted(PAYLOADS))
def test_hostile_mapping_by_path_through_the_cli(tmp_path, seeded_db, variant):
    from workbench.cli import main

    hc, address = PAYLOADS[variant]
    mapping = _hostile_mapping(tmp_path, hc, address)
    data = FIX / "brightmart_clean.csv"
    before = _snapshot(seeded_db)
    code = main(["validate", str(data), "--source", str(mapping), "--db", str(seeded_db)])
    assert code in (0, 1)
    after_validate = _snapshot(seeded_db)
    assert after_validate["counts"] == before["counts"] | {"audit_log": before["counts"]["audit_log"] + 1}
    _assert_intact(before, after_validate, ["validate"], seeded_db)
    code = main(["ingest", str(data), "--source", str(mapping), "--db", str(seeded_db)])
    assert code == 0
    after_ingest = _snapshot(seeded_db)
    assert after_ingest["tables"] == before["tables"]
    assert set(after_validate["audit"]) <= set(after_ingest["audit"])
    assert ("ingest",) in {(r,) for r in _actions(seeded_db)}
    _assert_stored_literally(seeded_db, hc, address)


def _actions(db: Path) -> list[str]:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        return [r[0] for r in store.con.execute("SELECT action FROM audit_log").fetchall()]


@pytest.mark.parametrize("variant", ["dollar-param-reference", "classic", "unicode-quotes"])
def test_hostile_mapping_by_path_through_the_library(tmp_path, seeded_db, variant):
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import open_store

    hc, address = PAYLOADS[variant]
    mapping = _hostile_mapping(tmp_path, hc, address)
    data = FIX / "brightmart_clean.csv"
    before = _snapshot(seeded_db)
    with open_store(seeded_db) as store:
        dry = validate_file(store, data, source=str(mapping))
    assert dry["status"] == "dry-run" and dry["rows_read"] > 0
    _assert_intact(before, _snapshot(seeded_db), ["validate"], seeded_db)
    with open_store(seeded_db) as store:
        report = ingest_file(store, data, source=str(mapping))
    assert report["status"] == "committed"
    assert report["rows_accepted"] == dry["rows_accepted"] == report["rows_read"]
    after = _snapshot(seeded_db)
    assert after["tables"] == before["tables"]
    assert set(before["audit"]) <= set(after["audit"])
    _assert_stored_literally(seeded_db, hc, address)


def test_inline_is_single_pass_and_skips_string_literals():
    import duckdb

    from workbench.ingest.validate import _inline

    sql = "SELECT $p0 AS a, $p1 AS b, '$p0 in a constant' AS c, $p10 AS d"
    out = _inline(sql, {"p0": "$p1", "p1": "') ; DROP TABLE x; --", "p10": "$p0"})
    # each value inlined once, as a literal that evaluates back to the value; the constant literal untouched
    assert duckdb.connect().execute(out).fetchone() == ("$p1", "') ; DROP TABLE x; --", "$p0 in a constant", "$p0")
    assert out.count("$p0 in a constant") == 1


def test_inline_refuses_an_unknown_parameter():
    from workbench.ingest.validate import _inline

    with pytest.raises(KeyError):
        _inline("SELECT $p3", {"p0": "x"})


def test_generated_sql_must_be_one_statement():
    import duckdb

    from workbench.errors import WorkbenchError
    from workbench.ingest.validate import execute_one

    con = duckdb.connect()
    con.execute("CREATE TABLE keep (x INTEGER)")
    with pytest.raises(WorkbenchError, match="one statement"):
        execute_one(con, "CREATE TEMP VIEW w AS SELECT 1; DROP TABLE keep")
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'keep'").fetchone()[0] == 1
    execute_one(con, "CREATE TEMP VIEW w AS SELECT 1 AS one")
    assert con.execute("SELECT one FROM w").fetchone()[0] == 1


@pytest.mark.parametrize("change, key", [
    (lambda d: d["defaults"].update(address="bad\x00value"), "defaults.address"),
    (lambda d: d["defaults"].update(address="two\nlines"), "defaults.address"),
    (lambda d: d["defaults"].update(address="\u202eevil"), "defaults.address"),
    (lambda d: d["defaults"].update(address="x" * 201), "defaults.address"),
    (lambda d: d["defaults"].update(address=["a", "b"]), "defaults.address"),
    (lambda d: d["defaults"].update(address=None), "defaults.address"),
    (lambda d: d["value_maps"]["offence_type"].update({"bad\x07key": "shoplifting"}), "value_maps.offence_type"),
    (lambda d: d["value_maps"]["offence_type"].update(theft="shop\x1blifting"), "value_maps.offence_type"),
    (lambda d: d["value_maps"]["offence_type"].update(theft={"nested": "map"}), "value_maps.offence_type"),
    (lambda d: d.update(nested_keys={"offenders": {"name": "name') || x; --"}}), "nested_keys.offenders.name"),
    (lambda d: d.update(nested_keys={"offenders": {"name": "a.b"}}), "nested_keys.offenders.name"),
    (lambda d: d.update(nested_keys={"offenders": {"nickname": "nick"}}), "nested_keys.offenders.nickname"),
    (lambda d: d.update(datetime_formats=["%Y-%m-%d\x00"]), "datetime_formats"),
    (lambda d: d.update(booleans={"true": ["Y\r"], "false": ["N"]}), "booleans.true"),
    (lambda d: d.update(multi_sep="\x00"), "multi_sep"),
    (lambda d: d.update(retailer="BRM'; DROP TABLE stores; --"), "retailer"),
])
def test_mapping_values_are_held_to_a_strict_grammar(tmp_path, change, key):
    from workbench.errors import WorkbenchError
    from workbench.ingest.mapping import load_mapping

    data = yaml.safe_load(BRIGHTMART.read_text(encoding="utf-8"))
    data["name"] = "retailer_strict"
    change(data)
    path = tmp_path / "retailer_strict.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(WorkbenchError) as info:
        load_mapping(str(path))
    message = str(info.value)
    assert "retailer_strict.yaml" in message and f"'{key}'" in message
    assert "\n" not in message and "\x00" not in message


def test_a_mapping_name_must_be_a_plain_identifier(tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest.mapping import load_mapping

    name = "x'; DROP TABLE referrals; --"
    data = yaml.safe_load(BRIGHTMART.read_text(encoding="utf-8"))
    data["name"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(WorkbenchError, match="key 'name'"):
        load_mapping(str(path))


def test_plain_text_with_quotes_and_semicolons_is_accepted(tmp_path):
    from workbench.ingest.mapping import load_mapping

    path = _hostile_mapping(tmp_path, "O'Neill's; Leeds \u2019quoted\u2019", "$p1")
    mapping = load_mapping(str(path))
    assert mapping.defaults["handling_conditions"] == "O'Neill's; Leeds \u2019quoted\u2019"
    assert mapping.defaults["address"] == "$p1"


HOSTILE_KEYS = {"notes": "notes\\", "crimeNumber": "crime \"Number\" '; DROP TABLE referrals; --",
                "ref": "$p1 ref", "storeCode": "store\\\"Code"}


def test_hostile_json_keys_in_a_mapping_by_path_are_read_literally(tmp_path, seeded_db):
    """JSON sources address their keys by a JSON path: any key text (quotes, backslashes, $p1) is one key."""
    import json

    from workbench.ingest import ingest_file
    from workbench.store import open_store

    glow = Path(__file__).resolve().parent.parent / "workbench" / "sources" / "retailer_glow.yaml"
    data = yaml.safe_load(glow.read_text(encoding="utf-8"))
    data.update(name="retailer_glowish", file_patterns=[])
    data["columns"] = {HOSTILE_KEYS.get(k, k): v for k, v in data["columns"].items()}
    mapping = tmp_path / "retailer_glowish.yaml"
    mapping.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    record = json.loads((Path(__file__).resolve().parent / "bad_inputs" / "truncated.jsonl").read_text(
        encoding="utf-8").splitlines()[0])
    record = {HOSTILE_KEYS.get(k, k): v for k, v in record.items()}
    src = tmp_path / "glowish.jsonl"
    src.write_text(json.dumps(record) + "\n", encoding="utf-8")
    before = _snapshot(seeded_db)
    with open_store(seeded_db) as store:
        report = ingest_file(store, src, source=str(mapping))
        assert report["rows_accepted"] == 1 and report["missing_columns"] == []
        row = store.con.execute("SELECT r.source_ref, i.crime_number, i.narrative, i.store_id FROM referrals r "
                                "JOIN referral_incidents USING (referral_id) JOIN incidents i USING (incident_id)"
                                ).fetchone()
    assert row[:3] == ("GLW-T-1", "13/60001/25", "took perfume")  # (GLW stores are not in the fixture directory)
    after = _snapshot(seeded_db)
    assert after["tables"] == before["tables"] and set(before["audit"]) <= set(after["audit"])
