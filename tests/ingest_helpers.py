"""Shared helpers for the ingest tests: a template store holding the fixture store directory."""
from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
BAD = HERE / "bad_inputs"
FIX = HERE / "ingest_fixtures"


def template_store(directory: Path) -> Path:
    """A store file with the fixture store directory ingested (copy it per test for isolation)."""
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    path = directory / "template.duckdb"
    if not path.exists():
        with open_store(path) as store:
            ingest_file(store, FIX / "store_directory.csv")
    return path


def fresh_copy(template: Path, directory: Path, name: str) -> Path:
    target = directory / f"{name}.duckdb"
    shutil.copy(template, target)
    return target


def table_counts(store) -> dict:
    tables = ("referrals", "incidents", "referral_incidents", "person_mentions", "vehicle_mentions",
              "evidence_items", "incident_tactics", "quarantine", "validation_flags", "ingest_batches", "stores",
              "retailers", "recorded_crimes")
    return {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# The fixtures most ingest tests share: a module's template store (the fixture store directory ingested
# once) and a fresh copy of it per test. Import them by name into a test module to use them.
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("ingest"))


@pytest.fixture
def store(template, tmp_path):
    from workbench.store import open_store

    s = open_store(fresh_copy(template, tmp_path, "s"))
    yield s
    s.close()
