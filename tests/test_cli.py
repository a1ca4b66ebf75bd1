"""The `workbench` CLI: help on every verb, JSON summaries, one-line errors with non-zero exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.cli import app, main


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _verbs(typer_app, prefix=()):
    import typer.main

    group = typer.main.get_command(typer_app)
    stack = [(prefix, group)]
    while stack:
        path, command = stack.pop()
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            stack.append((path + (name,), sub))


def test_every_verb_has_help(capsys):
    verbs = list(_verbs(app))
    assert ("sample",) in verbs and ("db", "info") in verbs and ("summary",) in verbs
    for verb in verbs:
        code, out, _ = run_cli([*verb, "--help"], capsys)
        assert code == 0 and "Usage" in out, verb


def test_db_init_and_info_json(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    code, out, _ = run_cli(["db", "init", "--db", str(db), "--json"], capsys)
    assert code == 0 and json.loads(out)["schema_version"] >= 2
    code, out, _ = run_cli(["db", "info", "--db", str(db), "--json"], capsys)
    tables = {t["table_name"]: t["row_count"] for t in json.loads(out)["tables"]}
    assert code == 0 and tables["forces"] == 46 and tables["tactics"] > 10


def test_sample_json_summary(tmp_path, capsys):
    code, out, _ = run_cli(["sample", "--seed", "3", "--scale", "0.05", "--out", str(tmp_path / "w"), "--json"], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["groups"] >= 10 and summary["stores"] >= 2000
    assert sum(summary["sources"].values()) > 1000 and (tmp_path / "w" / "manifest.json").exists()


@pytest.mark.parametrize("args, message", [
    (["sample", "--scale", "0", "--out", "OUT"], "--scale must be positive"),
    (["summary", "--db", "MISSING"], "does not exist"),
    (["db", "info", "--db", "MISSING"], "does not exist"),
])
def test_errors_are_one_line_with_nonzero_exit(tmp_path, capsys, args, message):
    args = [a.replace("OUT", str(tmp_path / "o")).replace("MISSING", str(tmp_path / "none.duckdb")) for a in args]
    code, out, err = run_cli(args, capsys)
    assert code != 0
    assert message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_unusable_database_file_is_a_clear_error(tmp_path, capsys):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    code, out, err = run_cli(["db", "init", "--db", str(junk)], capsys)
    assert code == 2 and "cannot open database" in err and "Traceback" not in err


def test_usage_errors_from_the_installed_command_exit_non_zero():
    result = subprocess.run([sys.executable, "-m", "workbench.cli", "sample", "--scale", "lots"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--scale'" in result.stderr
