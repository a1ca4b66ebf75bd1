"""Notebook 00 (Start here) and the set-up checks behind it (workbench/setup_check.py): each check reports a real
problem with what to run, and passes only when the thing is there; the notebook runs headless and is paired without
outputs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import notebook_runner
from workbench import maps, setup_check
from workbench.store import latest_version, open_store

NOTEBOOK = notebook_runner.NOTEBOOKS / "00_start_here.py"


def _row(frame, check: str) -> dict:
    rows = frame[frame.check == check]
    assert len(rows) == 1, f"{check!r} is not one row of {list(frame.check)}"
    return rows.iloc[0].to_dict()


@pytest.fixture
def assets(tmp_path) -> Path:
    """A complete copy of the map assets the lock names (empty files: presence is what is checked)."""
    folder = tmp_path / "assets"
    for package in json.loads(maps.LOCK_FILE.read_text())["packages"]:
        for rel in package["urls"].values():
            path = folder / f"{package['name']}@{package['version']}" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
    return folder


@pytest.fixture
def voila_prefix(tmp_path) -> Path:
    folder = setup_check.voila_template_dir(tmp_path / "env")
    (folder / "static" / "fontawesome-free" / "webfonts").mkdir(parents=True)
    (folder / "index.html.j2").write_text("{% extends 'lab/index.html.j2' %}")
    (folder / "static" / "fontawesome-free" / "webfonts" / "fa-solid-900.woff2").write_bytes(b"wOF2")
    return tmp_path / "env"


@pytest.fixture
def empty_store(tmp_path) -> Path:
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    return db


def test_map_assets_complete_missing_folder_and_one_missing_file(assets, tmp_path):
    assert _row(setup_check.run(assets_dir=assets), "map assets present")["ok"]
    gone = _row(setup_check.run(assets_dir=tmp_path / "nowhere"), "map assets present")
    assert not gone["ok"] and "nowhere" in gone["detail"] and gone["how_to_fix"] == "make assets"
    victim = next(assets.glob("leaflet@*/dist/leaflet.js"))
    victim.unlink()
    partial = _row(setup_check.run(assets_dir=assets), "map assets present")
    assert not partial["ok"] and "leaflet.js" in partial["detail"] and partial["how_to_fix"] == "make assets"


def test_voila_template_needs_its_page_and_fonts(voila_prefix, tmp_path):
    assert _row(setup_check.run(voila_prefix=voila_prefix), "voila offline template")["ok"]
    missing = _row(setup_check.run(voila_prefix=tmp_path / "bare"), "voila offline template")
    assert not missing["ok"] and "not installed" in missing["detail"] and missing["how_to_fix"] == "make assets"
    for font in (setup_check.voila_template_dir(voila_prefix) / "static").rglob("*.woff2"):
        font.unlink()
    fontless = _row(setup_check.run(voila_prefix=voila_prefix), "voila offline template")
    assert not fontless["ok"] and "Font Awesome" in fontless["detail"]


def test_chromium_found_or_said_missing(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    assert _row(setup_check.run(chromium=str(fake)), "chromium present")["ok"]
    gone = _row(setup_check.run(chromium=str(tmp_path / "no-chromium")), "chromium present")
    assert not gone["ok"] and gone["how_to_fix"] == "make browser"


def test_store_missing_empty_stale_and_never_created(tmp_path, empty_store):
    missing = tmp_path / "none.duckdb"
    row = _row(setup_check.run(db_path=missing), "store present")
    assert not row["ok"] and "make demo" in row["how_to_fix"]
    assert not missing.exists()                                   # the check never creates a store
    empty = setup_check.run(db_path=empty_store)
    assert _row(empty, "store present")["ok"] and _row(empty, "store schema version")["ok"]
    referrals = _row(empty, "store has referrals")
    assert not referrals["ok"] and referrals["detail"].startswith("0 rows") and "ingest" in referrals["how_to_fix"]
    assert not _row(empty, "store has groups")["ok"]
    stale = tmp_path / "stale.duckdb"
    with open_store(stale, migrate=False) as store:
        store.migrate(target=latest_version() - 1)
    row = _row(setup_check.run(db_path=stale), "store schema version")
    assert not row["ok"] and "needs migrating" in row["detail"] and "db init --db" in row["how_to_fix"]
    assert _row(setup_check.run(db_path=stale), "store present")["ok"]
    import duckdb

    with duckdb.connect(str(stale), read_only=True) as con:        # reported, not migrated behind the user's back
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == latest_version() - 1


def test_damaged_store_is_a_row_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    row = _row(setup_check.run(db_path=bad), "store present")
    assert not row["ok"] and str(bad) in row["detail"]


def test_problems_first_and_versions_listed(tmp_path, assets, voila_prefix):
    import duckdb

    import workbench

    frame = setup_check.run(db_path=tmp_path / "none.duckdb", assets_dir=assets, voila_prefix=voila_prefix)
    assert list(frame.columns) == setup_check.COLUMNS
    assert list(frame.ok) == sorted(frame.ok)                    # False before True
    assert list(setup_check.problems(frame).check) == ["store present"]
    assert _row(frame, "workbench version")["detail"] == workbench.__version__
    assert _row(frame, "duckdb version")["detail"] == duckdb.__version__
    assert _row(frame, "schema version (this workbench)")["detail"] == str(latest_version())
    assert (frame[frame.ok].how_to_fix == "").all() and (frame[~frame.ok].how_to_fix != "").all()


def test_filled_store_passes_its_checks(tmp_path_factory):
    from tests.hotspot_fixtures import ingested_world

    db = ingested_world(tmp_path_factory.getbasetemp() / "ingested_world")["db"]
    frame = setup_check.run(db_path=db)
    assert _row(frame, "store has referrals")["ok"]
    with open_store(db, read_only=True) as store:
        count = store.con.execute("SELECT count(*) FROM referrals").fetchone()[0]
    assert _row(frame, "store has referrals")["detail"].startswith(f"{count:,} rows")


def test_notebook_runs_headless_and_names_the_problems(tmp_path, empty_store, assets, voila_prefix):
    notebook_runner.assert_paired_without_outputs(NOTEBOOK)
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(empty_store), "assets_dir": str(assets),
                                                        "voila_prefix": str(voila_prefix)})
    assert "checks need attention" in text and "store has referrals: 0 rows" in text
    assert "store has groups" in text and "workbench link run" in text
    assert "  map assets present:" not in text and "  voila offline template:" not in text
    shutil.rmtree(assets)
    text = notebook_runner.execute(NOTEBOOK, tmp_path, {"db_path": str(empty_store), "assets_dir": str(assets),
                                                        "voila_prefix": str(voila_prefix)})
    assert "map assets present: no assets folder" in text
