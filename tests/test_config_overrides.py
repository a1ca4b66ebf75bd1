"""Configuration overrides: a YAML file named by WORKBENCH_CONFIG changes a rule's severity, the dedup windows and the
security marking, through the real command line (a process of its own reads the file) and in the library
(workbench.config caches the merged settings per file path: cleared here so a rewritten file is read again)."""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.ingest_helpers import FIX, fresh_copy, template_store

with open(FIX / "brightmart_clean.csv", newline="", encoding="utf-8") as _fh:
    BASE = next(csv.DictReader(_fh))  # store 101 (Leeds, West Yorkshire), 13/40001/25, £120.50, two offenders
T0 = dt.datetime(2025, 1, 10, 14, 0)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch):
    from workbench import config

    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
    config._load.cache_clear()
    yield
    config._load.cache_clear()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("overrides"))


def override(tmp_path: Path, text: str, name: str = "override.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def row(ref: str, when: dt.datetime, **changes) -> dict:
    r = {**BASE, "incident_id": f"INC-{ref}", "referral_id": ref, "occurred": when.strftime("%Y-%m-%d %H:%M"),
         "referred_at": (when + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")}
    r.update(changes)
    return r


def extract(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    path = tmp_path / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(BASE))
        writer.writeheader()
        writer.writerows(rows)
    return path


def cli(args: list[str], config_file: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_CONFIG"}
    if config_file is not None:
        env["WORKBENCH_CONFIG"] = str(config_file)
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def ingest(db: Path, path: Path, config_file: Path | None) -> dict:
    batch, = cli(["ingest", str(path), "--source", "retailer_brightmart", "--db", str(db)], config_file)["batches"]
    assert batch["status"] == "committed" and batch["rows_read"] == batch["rows_accepted"] + batch["rows_quarantined"]
    return batch


def query(db: Path, sql: str, params: dict | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


# -- rule severity --------------------------------------------------------------------------------------
def test_a_rule_made_a_warning_lets_its_rows_in(template, tmp_path):
    rows = [row("R-1", T0, crime_ref=""), row("R-2", T0 + dt.timedelta(days=1), crime_ref="13/40002/25")]
    path = extract(tmp_path, "no_number", rows)
    default_db, relaxed_db = fresh_copy(template, tmp_path, "default"), fresh_copy(template, tmp_path, "relaxed")

    strict = ingest(default_db, path, None)
    assert (strict["rows_accepted"], strict["rows_quarantined"]) == (1, 1)
    assert strict["errors_by_rule"] == {"CRIME_NUMBER_MISSING": 1}
    assert query(default_db, "SELECT count(*) FROM quarantine")[0][0] == 1

    cfg = override(tmp_path, "ingest:\n  rule_severity: {CRIME_NUMBER_MISSING: warning}\n")
    relaxed = ingest(relaxed_db, path, cfg)
    assert (relaxed["rows_accepted"], relaxed["rows_quarantined"]) == (2, 0)
    assert relaxed["errors_by_rule"] == {} and relaxed["warnings_by_rule"]["CRIME_NUMBER_MISSING"] == 1
    assert query(relaxed_db, "SELECT count(*) FROM quarantine")[0][0] == 0
    assert query(relaxed_db, "SELECT count(*) FROM incidents")[0][0] == 2
    (flagged,), = query(relaxed_db, "SELECT count(*) FROM validation_flags WHERE rule_code = 'CRIME_NUMBER_MISSING'")
    assert flagged == 1


def test_a_warning_made_an_error_quarantines(template, tmp_path):
    rows = [row("R-1", T0, referred_at=""), row("R-2", T0 + dt.timedelta(days=1), crime_ref="13/40002/25")]
    path = extract(tmp_path, "no_referral_date", rows)
    batch = ingest(fresh_copy(template, tmp_path, "s"), path, None)
    assert batch["rows_quarantined"] == 0 and batch["warnings_by_rule"].get("RECEIVED_MISSING") == 1
    cfg = override(tmp_path, "ingest:\n  rule_severity: {RECEIVED_MISSING: error}\n")
    batch = ingest(fresh_copy(template, tmp_path, "t"), path, cfg)
    assert (batch["rows_accepted"], batch["rows_quarantined"]) == (1, 1)
    assert batch["errors_by_rule"] == {"RECEIVED_MISSING": 1} and "RECEIVED_MISSING" not in batch["warnings_by_rule"]


def test_rules_apply_valid_overrides_only(tmp_path, monkeypatch):
    from workbench.ingest import rules

    defaults = rules.rules()
    assert defaults["CRIME_NUMBER_MISSING"].severity == "error" and defaults["VRM_PARTIAL"].severity == "warning"
    default_errors = rules.error_codes()
    assert default_errors == sorted(c for c, r in rules._BY_CODE.items() if r.severity == "error")
    assert "CRIME_NUMBER_MISSING" in default_errors and "VRM_PARTIAL" not in default_errors

    cfg = override(tmp_path, "ingest:\n  rule_severity:\n    CRIME_NUMBER_MISSING: warning\n    RECEIVED_MISSING: error\n"
                             "    MERGE_SUSPECT: warning\n")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(cfg))
    got = rules.rules()
    assert set(got) == set(defaults)
    assert got["CRIME_NUMBER_MISSING"].severity == "warning" and got["RECEIVED_MISSING"].severity == "error"
    changed = {c for c in got if got[c].severity != defaults[c].severity}
    assert changed == {"CRIME_NUMBER_MISSING", "RECEIVED_MISSING"}
    for code, rule in got.items():                                     # messages and codes are never changed
        assert (rule.code, rule.message) == (code, defaults[code].message)
        assert rules.message(code) == defaults[code].message
    assert rules.error_codes() == sorted(set(default_errors) - {"CRIME_NUMBER_MISSING"} | {"RECEIVED_MISSING"})


@pytest.mark.parametrize("entry, needle", [
    ("VRM_PARTIAL: error", "VRM_PARTIAL: decided after quarantine"),        # per mention: always a warning
    ("DOB_IMPLAUSIBLE: error", "DOB_IMPLAUSIBLE: decided after quarantine"),
    ("MERGE_SUSPECT: error", "MERGE_SUSPECT: decided after quarantine"),    # against the store
    ("DATE_MISSING: fatal", "DATE_MISSING: 'fatal' is not a severity"),
    ("NO_SUCH_RULE: warning", "NO_SUCH_RULE: no such rule"),
])
def test_an_override_that_cannot_apply_is_refused(tmp_path, monkeypatch, entry, needle):
    from workbench.errors import WorkbenchError
    from workbench.ingest import rules

    monkeypatch.setenv("WORKBENCH_CONFIG", str(override(tmp_path, f"ingest:\n  rule_severity:\n    {entry}\n")))
    with pytest.raises(WorkbenchError) as caught:
        rules.rules()
    message = str(caught.value)
    assert message.startswith("configuration ingest.rule_severity.") and needle in message and "\n" not in message


def test_the_ingest_command_refuses_a_silent_override(template, tmp_path, capsys):
    """Through the CLI: one line naming the key, exit 2, nothing ingested."""
    path = extract(tmp_path, "one", [row("R-1", T0)])
    db = fresh_copy(template, tmp_path, "refuse")
    cfg = override(tmp_path, "ingest:\n  rule_severity: {VRM_PARTIAL: error}\n")
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "ingest", str(path), "--db", str(db)],
                          capture_output=True, text=True, env={**os.environ, "WORKBENCH_CONFIG": str(cfg)}, timeout=300)
    assert proc.returncode == 2 and "ingest.rule_severity.VRM_PARTIAL" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert query(db, "SELECT count(*) FROM referrals")[0][0] == 0


# -- dedup windows --------------------------------------------------------------------------------------
def test_the_store_and_time_dedup_window(template, tmp_path):
    """Two reports at one store 30 minutes apart with the same value but different crime numbers: one incident
    under the default 60-minute window, two under a 20-minute one."""
    first = extract(tmp_path, "first", [row("R-1", T0)])
    near = extract(tmp_path, "near", [row("R-2", T0 + dt.timedelta(minutes=30), crime_ref="13/49999/25")])
    cfg = override(tmp_path, "ingest:\n  dedup_window_minutes: 20\n")
    for name, config_file, merged in (("wide", None, 1), ("narrow", cfg, 0)):
        db = fresh_copy(template, tmp_path, name)
        ingest(db, first, config_file)
        batch = ingest(db, near, config_file)
        assert (batch["incidents_new"], batch["duplicates_merged"]) == (1 - merged, merged), name
        assert batch["warnings_by_rule"].get("CRIME_NUMBER_DIFFERS", 0) == merged, name
        assert query(db, "SELECT count(*) FROM incidents")[0][0] == 2 - merged


def test_the_crime_number_merge_window_through_the_cli(template, tmp_path):
    """The same crime number at the same store 3 days apart: merged under the default 30 days; kept apart and
    flagged MERGE_SUSPECT under crime_number_merge_max_days: 2."""
    first = extract(tmp_path, "first", [row("R-1", T0)])
    later = extract(tmp_path, "later", [row("R-2", T0 + dt.timedelta(days=3))])
    cfg = override(tmp_path, "ingest:\n  crime_number_merge_max_days: 2\n")
    for name, config_file, merged in (("default", None, 1), ("narrow", cfg, 0)):
        db = fresh_copy(template, tmp_path, name)
        ingest(db, first, config_file)
        batch = ingest(db, later, config_file)
        assert batch["duplicates_merged"] == merged and batch["merge_suspects"] == 1 - merged, name
        assert query(db, "SELECT count(*) FROM incidents")[0][0] == 2 - merged


def test_a_bad_override_is_one_line_naming_the_key(template, tmp_path):
    cfg = override(tmp_path, "ingest:\n  crime_number_merge_max_days: soon\n")
    env = {**os.environ, "WORKBENCH_CONFIG": str(cfg)}
    path = extract(tmp_path, "x", [row("R-1", T0)])
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "ingest", str(path), "--source",
                           "retailer_brightmart", "--db", str(fresh_copy(template, tmp_path, "bad"))],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "crime_number_merge_max_days" in proc.stderr + proc.stdout


# -- security marking -----------------------------------------------------------------------------------
def test_the_configured_marking_is_on_every_product(template, tmp_path):
    """A force that marks its products OFFICIAL with the caveat SENSITIVE [OPAL TEST]: the map, the quarantine
    export and their audit rows carry that marking, and none carries the packaged default's."""
    from workbench import config

    default = config.security_marking()
    cfg = override(tmp_path, "markings:\n  classification: OFFICIAL\n  caveat: SENSITIVE [OPAL TEST]\n")
    db = fresh_copy(template, tmp_path, "marked")
    ingest(db, extract(tmp_path, "rows", [row("R-1", T0), row("R-2", T0 + dt.timedelta(days=2), crime_ref="")]), cfg)
    marking = "OFFICIAL-SENSITIVE [OPAL TEST]"
    html = tmp_path / "maps" / "forces.html"
    cli(["map", "forces", "--out", str(html), "--no-png", "--db", str(db)], cfg)
    text = html.read_text(encoding="utf-8")
    assert text.count(marking) >= 2                           # top and bottom
    assert f"{default}<" not in text and f"{default} " not in text.replace(marking, "")
    export = tmp_path / "quarantine.csv"
    cli(["quarantine", "export", "--source", "retailer_brightmart", "--out", str(export), "--db", str(db)], cfg)
    assert export.exists()
    audits = {a: json.loads(d) for a, d in query(db, "SELECT action, details FROM audit_log WHERE action IN "
                                                     "('map-forces', 'quarantine-export', 'export') OR action LIKE 'map%'")}
    assert audits and all(d.get("marking") == marking for d in audits.values()), audits
