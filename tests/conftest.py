"""Shared fixtures: fresh stores, a small seeded sample world, the shared reference data and chromium; and the
run-time ground-truth guard (tests/gt_guard.py) around every test, its subprocesses and notebook kernels."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests import gt_guard

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


# -- ground-truth guard: library code reading a sample world's ground_truth/ fails the test ---------------
def pytest_configure(config):
    gt_guard.install(strict_mode=False)
    # Python subprocesses (the CLI, scripts) install it too, through tests/gt_guard_site/sitecustomize.py, and
    # append what they catch to this process's log (one per pytest process, so xdist workers keep apart)
    log = Path(tempfile.mkdtemp(prefix="gt_guard_")) / "violations.jsonl"
    os.environ.update(gt_guard.subprocess_env(log))
    config._gt_guard_log = [log, 0]


def _guard_check(item, phase: str) -> None:
    found = gt_guard.take()
    state = getattr(item.config, "_gt_guard_log", None)
    if state:
        more, state[1] = gt_guard.read_log(state[0], state[1])
        found += [v for v in more if v.get("pid") != os.getpid()]  # (this process's own are in take())
    if found:
        lines = "\n".join("  " + gt_guard.describe(v) for v in found[:10])
        pytest.fail(f"ground-truth guard ({phase}): {len(found)} read(s) of ground truth by library code\n{lines}",
                    pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    try:
        return (yield)
    finally:
        _guard_check(item, "setup")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    finally:
        _guard_check(item, "call")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        _guard_check(item, "teardown")


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
