"""The ground-truth guard (tests/gt_guard.py, installed by tests/conftest.py for every test, every Python
subprocess and, in strict mode, every notebook kernel) catches library code reading a sample world's
ground_truth/ through a path held in a variable, by every route a file can be read: open/pathlib, glob,
pandas/pyarrow (C++ reads, no audit event) and DuckDB SQL; and the library gives identical results with the
ground-truth folder absent."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import gt_guard, notebook_runner

REPO = Path(__file__).resolve().parent.parent
SUMMARY_PY = REPO / "workbench" / "summary.py"

# realistic planted bugs: world_summary "helpfully" counting groups from the ground truth, the folder held in a
# variable (the generator's own idiom, which a grep for read_*(...ground_truth...) misses)
PLANTED = {
    "pandas": '''
def world_summary(world_dir):
    truth = Path(world_dir) / "ground_truth"
    groups = pd.read_parquet(truth / "groups.parquet")
    return {"groups": len(groups), "dir": str(world_dir)}
''',
    "duckdb": '''
def world_summary(world_dir):
    truth = Path(world_dir) / "ground_truth"
    n = duckdb.connect().execute("SELECT count(*) FROM read_parquet($p)", {"p": str(truth / "groups.parquet")}
                                 ).fetchone()[0]
    return {"groups": n, "dir": str(world_dir)}
''',
    "duckdb_sql_text": '''
def world_summary(world_dir):
    truth = Path(world_dir) / "ground_truth"
    n = duckdb.sql(f"SELECT count(*) FROM '{truth}/groups.parquet'").fetchone()[0]
    return {"groups": n, "dir": str(world_dir)}
''',
    "open": '''
def world_summary(world_dir):
    truth = Path(world_dir) / "ground_truth"
    with open(truth / "groups.parquet", "rb") as fh:
        size = len(fh.read())
    return {"groups": size, "dir": str(world_dir)}
''',
    "glob": '''
def world_summary(world_dir):
    import glob
    truth = Path(world_dir) / "ground_truth"
    return {"groups": len(glob.glob(str(truth / "*.parquet"))), "dir": str(world_dir)}
''',
    "swallowed": '''
def world_summary(world_dir):
    truth = Path(world_dir) / "ground_truth"
    try:
        return {"groups": len(pd.read_parquet(truth / "groups.parquet")), "dir": str(world_dir)}
    except Exception:
        return {"groups": None, "dir": str(world_dir)}
''',
}


def _planted(route: str, filename: Path = SUMMARY_PY):
    """The planted function, compiled as if it were library source (its frames carry the library's file name)."""
    namespace: dict = {}
    header = "from pathlib import Path\nimport duckdb\nimport pandas as pd\n"
    exec(compile(header + PLANTED[route], str(filename), "exec"), namespace)
    return namespace["world_summary"]


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    from workbench.sample.generate import generate_world

    out = tmp_path_factory.mktemp("gtworld") / "world"
    generate_world(3, 0.02, out)     # the generator writes ground truth: allowed (no violation in this setup)
    assert (out / "ground_truth" / "groups.parquet").exists()
    return out


@pytest.fixture(scope="module")
def tiny_store(tiny_world, tmp_path_factory):
    from workbench.ingest import ingest_paths
    from workbench.store import open_store

    db = tmp_path_factory.mktemp("gtdb") / "w.duckdb"
    with open_store(db) as store:
        ingest_paths(store, [tiny_world / "extracts"])
    return db


@pytest.mark.parametrize("route", sorted(PLANTED))
def test_a_planted_read_through_a_variable_is_caught(route, tiny_world, tiny_store, monkeypatch, capsys):
    from workbench import summary
    from workbench.cli import main

    gt_guard.take()
    monkeypatch.setattr(summary, "world_summary", _planted(route))
    main(["summary", "--db", str(tiny_store), "--world", str(tiny_world), "--json"])
    capsys.readouterr()
    caught = gt_guard.take()   # (taken here, so this test itself does not fail on them)
    assert caught, f"the guard missed a {route} read of ground truth"
    assert {v["by"].split(":")[0] for v in caught} == {str(SUMMARY_PY)}
    assert all("ground_truth" in v["path"] for v in caught)


def test_the_same_reads_from_tests_and_from_the_generator_are_allowed(tiny_world):
    import pandas as pd

    gt_guard.take()
    assert len(pd.read_parquet(tiny_world / "ground_truth" / "groups.parquet")) > 0   # a test reading: fine
    generator = REPO / "workbench" / "sample" / "generate.py"
    for route in ("pandas", "duckdb", "open", "glob"):
        assert _planted(route, generator)(tiny_world)["groups"] > 0   # the generator's own code: allowed
    assert gt_guard.take() == []
    # a library helper the generator calls is the generator acting; the same helper called from a test is not
    helper = _planted("open", REPO / "workbench" / "exports.py")
    namespace: dict = {"helper": helper}
    exec(compile("def run(w):\n    return helper(w)\n", str(generator), "exec"), namespace)
    assert namespace["run"](tiny_world)["groups"] > 0
    assert gt_guard.take() == []
    with pytest.raises(gt_guard.GroundTruthRead):
        helper(tiny_world)
    assert len(gt_guard.take()) == 1


def test_a_library_write_into_ground_truth_is_caught_too(tiny_world):
    namespace: dict = {}
    exec(compile("def w(d):\n    (d / 'ground_truth' / 'extra.txt').write_text('x')\n",
                 str(REPO / "widgets" / "ingest_browser.py"), "exec"), namespace)
    with pytest.raises(gt_guard.GroundTruthRead):
        namespace["w"](tiny_world)
    assert gt_guard.take()[0]["by"].startswith(str(REPO / "widgets" / "ingest_browser.py"))
    assert not (tiny_world / "ground_truth" / "extra.txt").exists()


def test_a_python_subprocess_is_guarded(tiny_world, tiny_store, tmp_path):
    """The CLI in a subprocess, with the planted read: the subprocess's guard logs it (its own log here)."""
    log = tmp_path / "sub.jsonl"
    script = (
        "import sys\n"
        "from tests.test_ground_truth_guard import _planted\n"
        "from workbench import summary\n"
        "summary.world_summary = _planted('swallowed')\n"
        "from workbench.cli import main\n"
        f"sys.exit(main(['summary', '--db', {str(tiny_store)!r}, '--world', {str(tiny_world)!r}, '--json']))\n")
    env = {**os.environ, **gt_guard.subprocess_env(log)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["world"]["groups"] is None   # the library swallowed the refusal ...
    found, _ = gt_guard.read_log(log)
    assert len(found) == 1 and found[0]["by"].startswith(str(SUMMARY_PY))   # ... and the guard still saw it
    assert found[0]["pid"] != os.getpid()


NOTEBOOK = '''# %% tags=["parameters"]
world = ""
swallow = False

# %%
from pathlib import Path
import pandas as pd

truth = Path(world) / "ground_truth"
try:
    groups = pd.read_parquet(truth / "groups.parquet")
except Exception:
    if not swallow:
        raise
print("done")
'''


@pytest.mark.parametrize("swallow", [False, True])
def test_a_notebook_kernel_is_guarded(swallow, tiny_world, tmp_path):
    script = tmp_path / "reads_truth.py"
    script.write_text(NOTEBOOK, encoding="utf-8")
    with pytest.raises(AssertionError, match="ground-truth guard: the notebook kernel read ground truth"):
        notebook_runner.execute(script, tmp_path, {"world": str(tiny_world), "swallow": swallow})


def test_the_library_gives_identical_results_with_the_ground_truth_absent(tiny_world, tiny_store, tmp_path, capsys):
    """Belt and braces for any read the guard cannot see: ingest, enrich and summarise the same world with its
    ground_truth/ moved away, and require the same store and summary as with it present."""
    from workbench.cli import main
    from workbench.store import open_store

    def run(db: Path) -> dict:
        for args in (["ingest", str(tiny_world / "extracts")], ["geo", "enrich"]):
            assert main([*args, "--db", str(db), "--json"]) == 0
        capsys.readouterr()
        assert main(["summary", "--db", str(db), "--world", str(tiny_world), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        with open_store(db, read_only=True) as store:
            rows = store.con.execute(
                "SELECT crime_number_norm, force_code, store_id, occurred_at, value_gbp, offenders_count, lsoa_code, "
                "review_reason FROM incidents ORDER BY ALL").fetchall()
            flags = store.con.execute("SELECT rule_code, count(*) FROM validation_flags GROUP BY ALL ORDER BY ALL"
                                      ).fetchall()
            held = store.con.execute("SELECT source_file, row_number, reasons FROM quarantine ORDER BY ALL").fetchall()
        return {"tables": {k: v for k, v in out["tables"].items() if k != "audit_log"}, "world": out["world"],
                "incidents": rows, "flags": flags, "quarantine": held}

    present = run(tmp_path / "present.duckdb")
    aside = tmp_path / "truth_aside"
    shutil.move(tiny_world / "ground_truth", aside)
    try:
        absent = run(tmp_path / "absent.duckdb")
    finally:
        shutil.move(aside, tiny_world / "ground_truth")
    assert present["tables"]["incidents"] > 0 and present["flags"]
    assert absent == {**present, "world": {**present["world"]}}
