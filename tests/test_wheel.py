"""The workbench as a wheel: `pip install .` (not editable) gives a working `workbench` that carries its
queries, mappings, reference data, sample geography, police.uk sample, templates and migrations.

Built offline (--no-build-isolation with the venv's pinned setuptools, --no-index), installed --no-deps into a
folder, and run from a working directory outside the checkout with only that folder (and the venv's
dependencies) importable: the checkout's editable workbench must not be the one that runs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

FIXTURES = REPO / "tests" / "ingest_fixtures"
_SKIP_TOP = {".venv", "out", "build", "dist", ".git", ".pytest_cache"}
pytestmark = pytest.mark.slow


def _ignore(folder, names):
    top = Path(folder).resolve() == REPO
    return [n for n in names if (top and n in _SKIP_TOP) or n == "__pycache__" or n.endswith((".pyc", ".egg-info"))]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the checkout (the build leaves nothing in the working tree)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(REPO, src, ignore=_ignore, symlinks=True)
    dist = base / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-w", str(dist), str(src)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PIP_NO_INPUT": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deprecated = [line for line in (proc.stdout + proc.stderr).splitlines() if "deprecat" in line.lower()]
    assert not deprecated, deprecated                 # e.g. `project.license` as a TOML table
    (found,) = dist.glob("pegasus_workbench-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile",
                           "--disable-pip-version-check", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def _source_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_wheel_carries_every_package_file_and_data_folder(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"workbench/{rel}" for rel in _source_files(REPO / "workbench")}
    expected |= {f"widgets/{rel}" for rel in _source_files(REPO / "widgets")}
    for folder in ("queries", "sample_data"):
        files = _source_files(REPO / folder)
        assert files, folder
        expected |= {f"workbench/_data/{folder}/{rel}" for rel in files}
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing[:10]}"


def test_wheel_metadata_states_the_licence(wheel):
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    declared = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("License-Expression:"))
    assert "MIT" in declared and "OGL-UK-3.0" in declared
    licence_files = [n for n in archive.namelist() if "/licenses/" in n]
    assert any(n.endswith("/licenses/LICENSE") for n in licence_files)
    assert archive.read(next(n for n in licence_files if n.endswith("/LICENSE"))) == (REPO / "LICENSE").read_bytes()
    assert "Provides-Extra: dev" in text


def _env(installed: Path, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "PYTEST"))}
    env.update({"PYTHONPATH": str(installed), "PYTHONNOUSERSITE": "1", "WORKBENCH_DB": str(tmp_path / "default.duckdb"),
                "WORKBENCH_GEOGRAPHY_DIR": str(tmp_path / "geography")})
    return env


def _run(args, installed, tmp_path, **kw):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(installed, tmp_path), capture_output=True,
                          text=True, timeout=600, **kw)


def _workbench(args, installed, tmp_path):
    proc = _run(["-m", "workbench.cli", *args], installed, tmp_path)
    assert proc.returncode == 0, f"workbench {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc


def test_installed_workbench_finds_its_data_inside_the_install(installed, tmp_path):
    probe = """
import json, workbench, workbench.queries as q, workbench.geography as g, workbench.reference as r
from workbench.hotspots import policeuk
from workbench.ingest import mapping
from workbench.sample import world
from workbench import config
paths = {"package": workbench.__file__, "queries": q.QUERIES_DIR, "geography": g.default_dir(),
         "police_uk": policeuk.SAMPLE_DIR, "centroids": world.CENTROIDS_FILE, "forces": r.FORCES_FILE,
         "sources": mapping.SOURCES_DIR, "migrations": config.PACKAGE_DIR / "migrations",
         "templates": config.PACKAGE_DIR / "templates"}
print(json.dumps({k: str(v) for k, v in paths.items()} | {"queries_n": len(q.available())}))
"""
    proc = _run(["-c", probe], installed, tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found.pop("queries_n") == len(list((REPO / "queries").glob("**/*.sql")))
    for name, path in found.items():
        path = Path(path)
        assert path.is_relative_to(installed), f"{name} comes from {path}, not the installed wheel"
        assert path.exists(), f"{name}: {path} missing from the install"
    assert (Path(found["police_uk"]) / "README.md").is_file() and list(Path(found["police_uk"]).glob("*.csv"))


def test_installed_workbench_runs_from_outside_the_checkout(installed, tmp_path):
    assert "Usage" in _workbench(["--help"], installed, tmp_path).stdout
    db = tmp_path / "store" / "wb.duckdb"
    db.parent.mkdir()
    _workbench(["db", "init", "--db", str(db)], installed, tmp_path)
    for fixture in ("store_directory.csv", "brightmart_clean.csv"):
        _workbench(["ingest", str(FIXTURES / fixture), "--db", str(db)], installed, tmp_path)
    _workbench(["geo", "enrich", "--db", str(db)], installed, tmp_path)
    info = json.loads(_workbench(["db", "info", "--db", str(db), "--json"], installed, tmp_path).stdout)
    migrations = sorted(p.name for p in (REPO / "workbench" / "migrations").glob("*.sql"))
    assert info["schema_version"] == int(migrations[-1][:4]), info
    out = tmp_path / "maps" / "forces.html"
    proc = _workbench(["map", "forces", "--no-png", "--out", str(out), "--db", str(db)], installed, tmp_path)
    page = out.read_text(encoding="utf-8")
    assert "Open Government Licence" in page and "L.map(" in page and "cdn." not in page.lower()
    assert not out.with_suffix(".png").exists() and "PNG skipped" not in proc.stderr
    plan = tmp_path / "plan"
    _workbench(["hotspots", "plan", "--source", "police-uk", "--force", "West Yorkshire", "--period", "next-month",
                "--no-png", "--out", str(plan)], installed, tmp_path)
    assert (plan / "briefing.pdf").read_bytes()[:5] == b"%PDF-"


def test_console_script_runs_the_installed_package(installed, tmp_path):
    script = installed / "bin" / "workbench"
    assert script.is_file()
    proc = subprocess.run([sys.executable, str(script), "db", "init", "--db", str(tmp_path / "s.duckdb")],
                          cwd=tmp_path, env=_env(installed, tmp_path), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
