"""Shared fixtures: fresh stores, a small seeded sample world, the shared reference data and chromium."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def tmp_store(tmp_path):
    from workbench.store import open_store

    store = open_store(tmp_path / "test.duckdb")
    yield store
    store.close()


@pytest.fixture(scope="session")
def shared_force_boundaries():
    path = SHARED_DATA / "force_boundaries_ugc.geojson"
    if not path.exists():
        pytest.skip(f"reference force boundaries not available at {path} (../shared/data is absent)")
    return path


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Debian chromium is not installed (make test installs it)")
    return path
