"""The DuckDB store: migrations from empty and from the previous version, reference data, audit, queries."""
from __future__ import annotations

import duckdb
import pytest

from workbench import queries
from workbench.errors import DamagedStoreError, StoreError, WorkbenchError
from workbench.store import latest_version, open_store

CANONICAL_TABLES = {
    "forces", "force_aliases", "tactics", "tactic_synonyms", "retailers", "stores", "ingest_batches", "referrals",
    "incidents", "referral_incidents", "person_mentions", "vehicle_mentions", "evidence_items", "incident_tactics",
    "quarantine", "validation_flags", "audit_log", "postcodes", "schema_migrations",
}


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_migrates_empty_database_to_latest(tmp_path):
    path = tmp_path / "new.duckdb"
    with open_store(path) as store:
        assert store.schema_version() == latest_version() >= 2
        assert CANONICAL_TABLES <= _tables(store.con)
        applied = store.con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [v for (v,) in applied] == list(range(1, latest_version() + 1))
        assert store.sql("SELECT count(*) AS n FROM audit_log WHERE action = 'migrate'").n[0] == 1
    # a real file on disk that a plain DuckDB connection can read
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM forces WHERE territorial").fetchone()[0] == 43
    con.close()


def test_migrates_previous_version_and_keeps_rows(tmp_path):
    path = tmp_path / "v1.duckdb"
    store = open_store(path, migrate=False)
    store.migrate(target=1)
    assert store.schema_version() == 1
    store.con.execute("INSERT INTO stores (store_id, retailer_id, store_ref, name, latitude, longitude, force_code)"
                      " VALUES ('BRM-0100', 'BRM', '0100', 'Brightmart Leeds', 53.8, -1.55, '13')")
    store.con.execute("INSERT INTO incidents (crime_number, force_code, store_id) VALUES ('13/1/24', '13', 'BRM-0100')")
    assert "lsoa_code" not in store.sql("SELECT * FROM stores").columns
    store.close()

    with open_store(path) as upgraded:
        assert upgraded.schema_version() == latest_version()
        stores = upgraded.sql("SELECT store_id, name, lsoa_code, h3_r8 FROM stores")
        assert stores.store_id.tolist() == ["BRM-0100"] and stores.name.tolist() == ["Brightmart Leeds"]
        assert stores.lsoa_code.isna().all() and stores.h3_r8.isna().all()
        assert upgraded.sql("SELECT crime_number, force_mismatch FROM incidents").crime_number.tolist() == ["13/1/24"]


def test_reopening_is_idempotent(tmp_path):
    path = tmp_path / "again.duckdb"
    open_store(path).close()
    with open_store(path) as store:
        assert store.sql("SELECT count(*) AS n FROM forces").n[0] == 46
        assert store.sql("SELECT count(*) AS n FROM schema_migrations").n[0] == latest_version()
        assert store.sql("SELECT count(*) AS n FROM audit_log WHERE action = 'migrate'").n[0] == 1


def test_refuses_database_from_a_newer_workbench(tmp_path):
    path = tmp_path / "future.duckdb"
    with open_store(path) as store:
        store.con.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x', now())")
    with pytest.raises(StoreError, match="newer than this workbench"):
        open_store(path)


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    import workbench.store as store_module

    real_latest = latest_version()
    bad = tmp_path / "migrations"
    bad.mkdir()
    for version, name, path in store_module.migrations():
        (bad / path.name).write_text(path.read_text())
    (bad / "9000_broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;")
    monkeypatch.setattr(store_module, "MIGRATIONS_DIR", bad)
    with pytest.raises(StoreError, match="9000_broken.sql"):
        open_store(tmp_path / "broken.duckdb")
    con = duckdb.connect(str(tmp_path / "broken.duckdb"))
    assert "half_done" not in _tables(con)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == real_latest
    con.close()


def test_read_only_open_of_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "absent.duckdb", read_only=True)


def test_audit_records_user_action_and_details(tmp_store):
    tmp_store.audit("export", "out/maps/forces.html", {"rows": 3})
    row = tmp_store.sql("SELECT os_user, action, object, details FROM audit_log WHERE action = 'export'").iloc[0]
    assert row.os_user and row.object == "out/maps/forces.html" and '"rows": 3' in row.details


def test_every_query_file_has_a_valid_header():
    names = queries.available()
    assert "table_row_counts" in names
    for name in names:
        q = queries.load(name)
        assert q.purpose, name


def test_query_parameters_are_checked_by_name(tmp_store):
    with pytest.raises(WorkbenchError, match="unexpected parameters"):
        tmp_store.query("table_row_counts", force="13")


def test_query_header_must_declare_what_the_sql_uses():
    with pytest.raises(WorkbenchError, match="declares"):
        queries._parse_header("x", "-- purpose: p\n-- params: a VARCHAR\nSELECT $a, $b")
    with pytest.raises(WorkbenchError, match="no query named"):
        queries.load("../etc/passwd")


def test_force_aliases_resolve_names_codes_and_aliases():
    from workbench.reference import resolve_force

    assert resolve_force("Avon & Somerset Constabulary") == "52"
    assert resolve_force("GMP") == "06"
    assert resolve_force("1") == "01" and resolve_force("E23000010") == "13"
    assert resolve_force("Heddlu Gwent") == "61"
    assert resolve_force("Narnia Constabulary") is None


# -- damaged files ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def healthy_store(tmp_path_factory):
    """A small real store: migrated, the fixture store directory and a referral extract ingested."""
    from tests.ingest_helpers import FIX, fresh_copy, template_store
    from workbench.ingest import ingest_file

    folder = tmp_path_factory.mktemp("damage")
    path = fresh_copy(template_store(folder), folder, "healthy")
    with open_store(path) as store:
        ingest_file(store, FIX / "brightmart_clean.csv")
        store.con.execute("CHECKPOINT")
    return path


def _copy(src, tmp_path, name):
    import shutil

    target = tmp_path / f"{name}.duckdb"
    shutil.copy(src, target)
    return target


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def _data_block_offset(path, table):
    """Where in the file one of `table`'s data blocks starts (after the file headers)."""
    con = duckdb.connect(str(path), read_only=True)
    block_size = con.execute("PRAGMA database_size").fetchone()[2]
    block_id = con.execute(f"SELECT max(block_id) FROM pragma_storage_info('{table}') WHERE block_id >= 0"
                           ).fetchone()[0]
    con.close()
    assert block_id is not None
    return 3 * 4096 + block_id * block_size


def _one_line_damaged(args, capsys):
    from workbench.cli import main

    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "is damaged" in lines[0] and "Traceback" not in err, (code, err)
    return lines[0]


def test_a_healthy_store_reads_as_healthy(healthy_store, tmp_path, capsys):
    from workbench.cli import main

    path = _copy(healthy_store, tmp_path, "ok")
    assert main(["db", "info", "--db", str(path)]) == 0
    assert "no damage found" in capsys.readouterr().out
    assert main(["summary", "--db", str(path)]) == 0
    with open_store(path, read_only=True) as store:
        checked = store.check_readable()
        tables = store.sql("SELECT count(*) AS n FROM duckdb_tables() WHERE NOT temporary").n[0]
        assert checked["tables"] == tables and checked["rows"] >= sum(store.table_counts().row_count) > 0


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_copy_is_reported_damaged(healthy_store, tmp_path, capsys, keep):
    import os

    path = _copy(healthy_store, tmp_path, "cut")
    size = path.stat().st_size
    os.truncate(path, int(size * keep))
    with pytest.raises(DamagedStoreError, match="is damaged"):
        open_store(path, read_only=True)
    line = _one_line_damaged(["db", "info", "--db", str(path)], capsys)
    assert str(path) in line
    _one_line_damaged(["summary", "--db", str(path)], capsys)
    _one_line_damaged(["db", "init", "--db", str(path)], capsys)  # never migrated or written over


def test_a_byte_flipped_data_block_is_reported_damaged(healthy_store, tmp_path, capsys):
    path = _copy(healthy_store, tmp_path, "flip")
    _flip(path, _data_block_offset(path, "referrals") + 200)
    line = _one_line_damaged(["db", "info", "--db", str(path)], capsys)
    assert "checksum" in line
    _one_line_damaged(["summary", "--db", str(path)], capsys)


def test_a_byte_flipped_header_is_reported_damaged(healthy_store, tmp_path, capsys):
    path = _copy(healthy_store, tmp_path, "head")
    _flip(path, 4096 + 40)
    with pytest.raises(DamagedStoreError):
        open_store(path, read_only=True)
    _one_line_damaged(["db", "info", "--db", str(path)], capsys)


def test_an_emptied_store_is_reported_damaged(tmp_path, capsys):
    path = tmp_path / "empty.duckdb"
    path.write_bytes(b"")
    _one_line_damaged(["summary", "--db", str(path)], capsys)
    _one_line_damaged(["db", "init", "--db", str(path)], capsys)


# -- messages name real commands -------------------------------------------------------------------------
def _command_paths():
    import typer.main

    from workbench.cli import app

    paths, stack = set(), [((), typer.main.get_command(app))]
    while stack:
        path, command = stack.pop()
        paths.add(path)
        for name, sub in getattr(command, "commands", {}).items():
            stack.append((path + (name,), sub))
    return paths


def _backticked_workbench_commands():
    """Every `workbench ...` inside backticks in a string literal (f-strings included) of workbench/*.py."""
    import ast
    import re
    from pathlib import Path

    import workbench

    pattern = re.compile(r"`workbench((?: +[a-z][a-z0-9|-]*)+)[^`]*`")
    found = []
    for source in sorted(Path(workbench.__file__).parent.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in pattern.finditer(node.value):
                    found.append((f"{source.name}:{node.lineno}", match.group(0), match.group(1).split()))
    return found


def test_missing_store_message_points_to_real_commands(tmp_path):
    with pytest.raises(StoreError) as caught:
        open_store(tmp_path / "absent.duckdb", read_only=True)
    message = str(caught.value)
    assert "load-sample" not in message and "`make demo`" in message and "`workbench ingest`" in message


def test_every_workbench_command_named_in_a_message_exists():
    paths = _command_paths()
    found = _backticked_workbench_commands()
    assert any("ingest" in words for _, _, words in found)  # the scan sees the messages
    for where, text, words in found:
        path: tuple = ()
        for word in words:
            options = word.split("|")
            if not all(path + (o,) in paths for o in options):
                # a word that is no sub-command of a group, or of a verb with arguments, must be an argument
                assert path and not any(p[:len(path)] == path and len(p) > len(path) for p in paths), (where, text)
                break
            path = path + (options[0],)
        assert path in paths and path, (where, text)


def test_training_mode_refuses_a_new_real_store_before_creating_its_file(tmp_path):
    from workbench import config

    config.enter_training(str(tmp_path / "case" / "training.duckdb"))
    try:
        with pytest.raises(StoreError, match="training mode: .* is not a training store"):
            open_store(tmp_path / "real.duckdb")
        assert not (tmp_path / "real.duckdb").exists()                 # nothing left behind by the refusal
    finally:
        config.leave_training()
    open_store(tmp_path / "real.duckdb").close()                      # out of training mode the same call works
    assert (tmp_path / "real.duckdb").exists()
