"""Honest CLI errors: each class of user mistake is one line on stderr, exit 2, no traceback, nothing done."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.ingest_helpers import FIX
from workbench.cli import main


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err and "internal error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("args, option", [
    (["hotspots", "backtest", "--origins", "0"], "--origins"),
    (["hotspots", "backtest", "--origins", "-3"], "--origins"),
    (["hotspots", "backtest", "--origins", "many"], "--origins"),
    (["hotspots", "backtest", "--bandwidth", "0"], "--bandwidth"),
    (["hotspots", "backtest", "--bandwidth", "-250"], "--bandwidth"),
    (["hotspots", "emerging", "--force", "WYP", "--periods", "0"], "--periods"),
    (["hotspots", "emerging", "--force", "WYP", "--periods", "-1"], "--periods"),
    (["hotspots", "plan", "--force", "WYP", "--out", "OUT", "--top", "0"], "--top"),
    (["hotspots", "map", "--out", "OUT/m.html", "--weeks", "0"], "--weeks"),
    (["hotspots", "map", "--out", "OUT/m.html", "--permutations", "0"], "--permutations"),
    (["hotspots", "knox", "--iterations", "-9"], "--iterations"),
])
def test_non_positive_counts_and_bandwidths_are_refused_before_any_work(tmp_path, capsys, args, option):
    args = [a.replace("OUT", str(tmp_path / "o")) for a in args]
    code, out, err = run_cli(args + ["--db", str(tmp_path / "none.duckdb")], capsys)
    assert_one_line_error(code, out, err, option, "--help")
    assert not (tmp_path / "o").exists() and not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize("option, value", [("--space-bands", "0,200,100"), ("--space-bands", "-10,100"),
                                           ("--time-bands", "7"), ("--time-bands", "0,7,x")])
def test_knox_band_edges_must_be_increasing_numbers(tmp_path, capsys, option, value):
    code, out, err = run_cli(["hotspots", "knox", option, value, "--db", str(tmp_path / "none.duckdb")], capsys)
    assert_one_line_error(code, out, err, option)


def test_valid_band_edges_are_accepted_by_the_check(tmp_path, capsys):
    # the same command with good edges gets past the check to the next honest error: no store
    code, out, err = run_cli(["hotspots", "knox", "--space-bands", "0,100,200", "--time-bands", "0,7,14",
                              "--db", str(tmp_path / "none.duckdb")], capsys)
    assert_one_line_error(code, out, err, "does not exist")


def test_unknown_command_and_option_are_one_line(capsys):
    assert_one_line_error(*run_cli(["load-sample"], capsys), "No such command 'load-sample'")
    assert_one_line_error(*run_cli(["summary", "--colour"], capsys), "--colour")


def test_ingest_of_an_empty_directory_or_missing_file_is_refused(tmp_path, capsys):
    empty = tmp_path / "extracts"
    empty.mkdir()
    (empty / ".hidden").write_text("x")
    db = tmp_path / "s.duckdb"
    assert_one_line_error(*run_cli(["ingest", str(empty), "--db", str(db)], capsys), "holds no files")
    assert_one_line_error(*run_cli(["ingest", str(tmp_path / "nope.csv"), "--db", str(db)], capsys),
                          "no such file")
    assert_one_line_error(*run_cli(["validate", str(tmp_path / "nope.csv"), "--db", str(db)], capsys),
                          "no such file")
    assert not db.exists()


def test_db_in_a_missing_folder_is_refused_not_created(tmp_path, capsys):
    db = tmp_path / "typo" / "store.duckdb"
    code, out, err = run_cli(["ingest", str(FIX / "store_directory.csv"), "--db", str(db)], capsys)
    assert_one_line_error(code, out, err, "--db", str(tmp_path / "typo"), "does not exist")
    assert not (tmp_path / "typo").exists()
    code, out, err = run_cli(["db", "init", "--db", str(tmp_path)], capsys)
    assert_one_line_error(code, out, err, "is a directory")


def test_db_in_an_existing_folder_is_created(tmp_path, capsys):
    db = tmp_path / "store.duckdb"
    code, out, _ = run_cli(["db", "init", "--db", str(db), "--json"], capsys)
    assert code == 0 and db.exists() and json.loads(out)["db"] == str(db)


def test_summary_with_a_missing_world_is_an_error(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    assert run_cli(["db", "init", "--db", str(db)], capsys)[0] == 0
    code, out, err = run_cli(["summary", "--db", str(db), "--world", str(tmp_path / "no_world")], capsys)
    assert_one_line_error(code, out, err, "--world", "not a sample world")


def test_sample_scale_beyond_free_disk_is_refused_before_writing(tmp_path, capsys, monkeypatch):
    from workbench.sample import generate

    free = shutil.disk_usage(tmp_path).free
    per_scale = generate.resource_estimate(1)["disk_bytes"]
    too_big = round(2 * free / per_scale) + 1
    code, out, err = run_cli(["sample", "--scale", str(too_big), "--out", str(tmp_path / "w")], capsys)
    assert_one_line_error(code, out, err, "GB of disk", "--scale")
    assert not (tmp_path / "w").exists()

    # the check reads the real free space: with little disk left even scale 1 is refused
    monkeypatch.setattr(generate.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9, 10**6))
    code, out, err = run_cli(["sample", "--scale", "1", "--out", str(tmp_path / "w")], capsys)
    assert_one_line_error(code, out, err, "GB of disk")


def test_sample_scale_beyond_memory_is_refused(tmp_path, capsys, monkeypatch):
    import psutil

    from workbench.sample import generate

    class LowMemory:
        available = generate.resource_estimate(1)["memory_bytes"] - 1

    monkeypatch.setattr(psutil, "virtual_memory", lambda: LowMemory())
    code, out, err = run_cli(["sample", "--scale", "1", "--out", str(tmp_path / "w")], capsys)
    assert_one_line_error(code, out, err, "GB of memory")
    assert not (tmp_path / "w").exists()


HOSTILE_NAME = "\x1b[2J\x1b]0;pwned\x07[red]brightmart[bold]\u202eevil.csv"


def test_file_names_with_escape_codes_and_brackets_print_safely(tmp_path, capsys):
    hostile = tmp_path / HOSTILE_NAME
    shutil.copy(FIX / "store_directory.csv", hostile)
    db = tmp_path / "s.duckdb"
    code, out, err = run_cli(["ingest", str(hostile), "--db", str(db)], capsys)
    assert code == 0, err
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "\\x1b[2J" in out and "[red]brightmart[bold]" in out and "\\u202e" in out

    # an error naming the file is one line and just as safe
    missing = tmp_path / ("gone\n" + HOSTILE_NAME)
    code, out, err = run_cli(["ingest", str(missing), "--db", str(db)], capsys)
    assert_one_line_error(code, out, err, "\\x0a", "\\x1b")
    assert "\x1b" not in err


def test_tables_and_rich_output_do_not_interpret_markup(capsys):
    from workbench.commands.common import console, print_table

    print_table("t [bold]x[/bold]", [{"file": "[link=file:///etc/passwd]a[/link]\x1b[31m"}])
    console.print("[blink]wrote[/blink] \x1b[5m")
    out = capsys.readouterr().out
    assert "[bold]x[/bold]" in out and "[link=file:///etc/passwd]a[/link]" in out and "[blink]wrote[/blink]" in out
    assert "\x1b" not in out and "\\x1b[31m" in out


@pytest.mark.parametrize("args", [
    ["hotspots", "backtest", "--origins", "1", "--bandwidth", "0.5"],
    ["hotspots", "emerging", "--force", "WYP", "--periods", "4"],
    ["hotspots", "knox", "--iterations", "19"],
])
def test_smallest_allowed_values_pass_the_checks(tmp_path, capsys, args):
    # past the option checks, the next honest error is the missing store
    code, out, err = run_cli(args + ["--db", str(tmp_path / "none.duckdb")], capsys)
    assert_one_line_error(code, out, err, "does not exist")
