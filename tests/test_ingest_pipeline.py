"""Ingest behaviour: dedup with provenance, idempotency, supersession, one transaction per file, quarantine
correction round trip, audit, dry run and the CLI."""
from __future__ import annotations

import csv
import hashlib
import json

import pytest

from tests.ingest_helpers import BAD, FIX, fresh_copy, store, table_counts, template, template_store  # noqa: F401 (fixtures)


def _brm_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_retailer_and_force_referrals_of_one_incident_are_merged_with_provenance(store):
    from workbench.ingest import ingest_file

    first = ingest_file(store, FIX / "brightmart_clean.csv")
    assert first["incidents_new"] == 5 and first["duplicates_merged"] == 0
    second = ingest_file(store, FIX / "wmp_same_incident.csv")
    assert second["source"] == "force_wmp"
    assert second["duplicates_merged"] == 2 and second["incidents_new"] == 1
    assert store.con.execute("SELECT count(*) FROM incidents").fetchone()[0] == 6
    # the crime number written differently ('20wm 40003 25') meets '20WM/40003/25'
    sources = store.con.execute("""
        SELECT list(r.source_name ORDER BY r.source_name) FROM incidents i JOIN referral_incidents ri USING (incident_id)
        JOIN referrals r USING (referral_id) WHERE i.crime_number_norm = '20WM4000325' GROUP BY i.incident_id""").fetchall()
    assert sources == [(["force_wmp", "retailer_brightmart"],)]
    # the different crime number merged on store, time and value, and is flagged for an analyst
    merged = store.con.execute("""
        SELECT count(DISTINCT r.source_name) FROM incidents i JOIN referral_incidents ri USING (incident_id)
        JOIN referrals r USING (referral_id) WHERE i.crime_number_norm = '20WM4000425'""").fetchone()[0]
    assert merged == 2
    flags = store.con.execute("SELECT rule_code FROM validation_flags WHERE batch_id = $b",
                              {"b": second["batch_id"]}).fetchall()
    assert ("CRIME_NUMBER_DIFFERS",) in flags
    # the force referral matched the Birmingham store from its coordinates/postcode
    assert store.con.execute("SELECT store_id FROM incidents WHERE crime_number_norm = '20WM5555525'"
                             ).fetchone()[0] == "BRM-201"


def test_reingesting_the_same_content_is_a_no_op(store, tmp_path):
    from workbench.ingest import ingest_file

    ingest_file(store, FIX / "brightmart_clean.csv")
    before = table_counts(store)
    copy = tmp_path / "renamed_copy.csv"
    copy.write_bytes((FIX / "brightmart_clean.csv").read_bytes())
    again = ingest_file(store, copy)
    assert again["status"] == "no-op" and again["rows_accepted"] == 0
    assert table_counts(store) == before
    assert store.con.execute("SELECT count(*) FROM audit_log WHERE action = 'ingest' AND "
                             "json_extract_string(details, '$.status') = 'no-op'").fetchone()[0] == 1


def test_corrected_resubmission_supersedes_and_keeps_history(store, tmp_path):
    from workbench.ingest import ingest_file

    rows = _brm_rows(FIX / "brightmart_clean.csv")[:1]
    ingest_file(store, _write(tmp_path / "v1.csv", rows))
    corrected = [dict(rows[0], loss_gbp="150.00", referred_at="2025-04-12 10:00")]
    report = ingest_file(store, _write(tmp_path / "v2.csv", corrected))
    assert report["referrals_revised"] == 1 and report["referral_versions_superseded"] == 1
    versions = store.con.execute("SELECT referral_id, version, is_current, superseded_by FROM referrals "
                                 "WHERE source_ref = $r ORDER BY version", {"r": rows[0]["referral_id"]}).fetchall()
    assert [(v[1], v[2]) for v in versions] == [(1, False), (2, True)]
    assert versions[0][3] == versions[1][0]
    assert store.con.execute("SELECT count(*), max(value_gbp) FROM incidents").fetchone() == (1, 150)
    # an older version arriving late is kept as history, not made current
    late = [dict(rows[0], loss_gbp="99.00", referred_at="2025-04-01 09:00")]
    ingest_file(store, _write(tmp_path / "late.csv", late))
    current = store.con.execute("SELECT version FROM referrals WHERE source_ref = $r AND is_current",
                                {"r": rows[0]["referral_id"]}).fetchall()
    assert current == [(2,)]
    assert store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == 3


def test_corrections_within_one_extract(store, tmp_path):
    """Original and corrected version in the same file: both kept, the later one current."""
    from workbench.ingest import ingest_file

    rows = _brm_rows(FIX / "brightmart_clean.csv")[:2]
    rows.append(dict(rows[0], loss_gbp="999.00", referred_at="2025-05-01 10:00"))
    report = ingest_file(store, _write(tmp_path / "both.csv", rows))
    assert report["rows_accepted"] == 3 and report["incidents_new"] == 2
    assert store.con.execute("SELECT count(*) FILTER (WHERE is_current), count(*) FROM referrals").fetchone() == (2, 3)


def test_a_failure_mid_file_leaves_the_store_unchanged(store, monkeypatch):
    from workbench.ingest import ingest_file
    from workbench.ingest import load as load_mod

    ingest_file(store, FIX / "brightmart_clean.csv")
    before = table_counts(store)

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash after incidents and mentions were written")

    monkeypatch.setattr(load_mod, "_evidence", boom)
    with pytest.raises(RuntimeError):
        ingest_file(store, FIX / "wmp_same_incident.csv")
    assert table_counts(store) == before
    assert store.con.execute("SELECT count(*) FROM audit_log WHERE action = 'ingest-failed'").fetchone()[0] == 1
    monkeypatch.undo()
    report = ingest_file(store, FIX / "wmp_same_incident.csv")  # and the same file then goes in cleanly
    assert report["status"] == "committed"


def test_killed_process_leaves_the_store_unchanged(template, tmp_path):
    """A real kill -9 while the batch is being written: the next open sees the store as it was."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from workbench.store import open_store

    db = fresh_copy(template, tmp_path, "kill")
    with open_store(db) as s:
        before = table_counts(s)
    script = (
        "import sys, time\n"
        "from workbench.ingest import load as L\n"
        "orig = L._evidence\n"
        "def slow(*a, **k):\n"
        "    orig(*a, **k); print('WRITING', flush=True); time.sleep(60)\n"
        "L._evidence = slow\n"
        "from workbench.store import open_store\n"
        "from workbench.ingest import ingest_file\n"
        f"ingest_file(open_store({str(db)!r}), {str(FIX / 'brightmart_clean.csv')!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "WRITING"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    with open_store(db) as s:
        assert table_counts(s) == before


def test_quarantine_export_correct_and_reingest(store, tmp_path):
    from workbench.ingest import ingest_file, quarantine

    first = ingest_file(store, BAD / "feb_31st.csv")
    assert first["rows_quarantined"] == 1
    out = tmp_path / "to_fix.csv"
    result = quarantine.export(store, out, source="retailer_brightmart")
    assert result["rows"] == 1
    with open(out, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["occurred"] == "2025-02-31 10:00"
    assert "DATE_UNPARSEABLE" in rows[0]["_reasons"]
    assert store.con.execute("SELECT status FROM quarantine").fetchone()[0] == "exported"
    rows[0]["occurred"] = "2025-02-28 10:00"
    _write(tmp_path / "fixed.csv", rows)
    second = ingest_file(store, tmp_path / "fixed.csv")
    assert second["rows_accepted"] == 1 and second["quarantine_resolved"] == 1
    status, resolved = store.con.execute("SELECT status, resolved_batch_id FROM quarantine").fetchone()
    assert status == "resolved" and resolved == second["batch_id"]
    assert store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == 3
    actions = [r[0] for r in store.con.execute("SELECT action FROM audit_log ORDER BY audit_id").fetchall()]
    assert "quarantine-export" in actions and "quarantine" in actions
    export_audit = json.loads(store.con.execute("SELECT details FROM audit_log WHERE action = 'quarantine-export'"
                                                ).fetchone()[0])
    assert export_audit["sha256"] == result["sha256"] and export_audit["rows"] == 1


def test_export_neutralises_formulas(store, tmp_path):
    from workbench.ingest import ingest_file, quarantine

    rows = _brm_rows(FIX / "brightmart_clean.csv")[:1]
    rows[0].update(crime_ref="", narrative='=HYPERLINK("http://evil.example","x")')
    ingest_file(store, _write(tmp_path / "f.csv", rows))
    quarantine.export(store, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ',=HYPERLINK' not in text


def test_audit_records_user_time_file_hash_and_counts(store):
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import os_user

    report = ingest_file(store, FIX / "brightmart_clean.csv")
    # the hash is computed on a worker thread while the file is read: it must still be the file's SHA-256
    assert report["sha256"] == hashlib.sha256((FIX / "brightmart_clean.csv").read_bytes()).hexdigest()
    assert report["bytes"] == (FIX / "brightmart_clean.csv").stat().st_size
    validate_file(store, BAD / "feb_31st.csv")
    rows = store.con.execute("SELECT action, os_user, logged_at, object, details FROM audit_log "
                             "WHERE action IN ('ingest', 'validate') ORDER BY audit_id").fetchall()
    ingest_row = [r for r in rows if r[0] == "ingest" and r[3] == "brightmart_clean.csv"][0]
    details = json.loads(ingest_row[4])
    assert ingest_row[1] == os_user() and ingest_row[2] is not None
    assert details["sha256"] == report["sha256"] and details["rows_read"] == 5 and details["rows_accepted"] == 5
    validate_row = [r for r in rows if r[0] == "validate"][0]
    assert json.loads(validate_row[4])["rows_quarantined"] == 1


def test_validate_is_a_dry_run_with_the_same_report(store):
    from workbench.ingest import ingest_file, validate_file

    before = table_counts(store)
    dry = validate_file(store, BAD / "negative_values.csv")
    assert table_counts(store) == before
    real = ingest_file(store, BAD / "negative_values.csv")
    for key in ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule"):
        assert dry[key] == real[key]


def test_cli_ingest_json_and_validate(template, tmp_path, capsys):
    from workbench.cli import main

    db = fresh_copy(template, tmp_path, "cli")
    assert main(["ingest", str(FIX / "brightmart_clean.csv"), str(FIX / "wmp_same_incident.csv"),
                 "--db", str(db), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    batches = payload["batches"]
    assert [b["source"] for b in batches] == ["retailer_brightmart", "force_wmp"]
    for b in batches:
        assert {"rows_read", "rows_accepted", "rows_quarantined", "duplicates_merged", "warnings_by_rule",
                "batch_id"} <= set(b)
    assert main(["validate", str(BAD / "feb_31st.csv"), "--source", "retailer_brightmart", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "quarantined 1" in out and "DATE_UNPARSEABLE" in out
    assert main(["validate", str(BAD / "feb_31st.csv"), "--source", "no_such_source", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no source called 'no_such_source'" in err


def test_cli_quarantine_verbs(template, tmp_path, capsys):
    from workbench.cli import main

    db = fresh_copy(template, tmp_path, "cliq")
    assert main(["ingest", str(BAD / "negative_values.csv"), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["quarantine", "list", "--db", str(db), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    assert len(entries) == 2 and all("VALUE_NEGATIVE" in e["rules"].split(", ") for e in entries)
    assert main(["quarantine", "show", str(entries[0]["quarantine_id"]), "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "VALUE_NEGATIVE" in shown and "negative_values.csv row" in shown
    out = tmp_path / "q.xlsx"
    assert main(["quarantine", "export", "--out", str(out), "--db", str(db)]) == 0
    assert out.exists() and "wrote 2 quarantined rows" in capsys.readouterr().out
    assert main(["quarantine", "show", "999", "--db", str(db)]) == 2
    assert "no quarantine entry 999" in capsys.readouterr().err


def test_auto_detection_lists_candidates_when_ambiguous(tmp_path):
    from workbench.ingest.mapping import parse_mapping
    from workbench.ingest.pipeline import IngestError, detect_source
    from workbench.ingest.readers import read_header

    path = tmp_path / "x.csv"
    path.write_text("a,b,crime\n1,2,3\n")
    maps = {}
    for name in ("one", "two"):
        maps[name] = parse_mapping(tmp_path / f"{name}.yaml", {
            "name": name, "kind": "referrals", "source_type": "force",
            "columns": {"a": "referral_ref", "b": "narrative", "crime": "crime_number"}})
    with pytest.raises(IngestError, match="fits several sources \\(one, two\\)"):
        detect_source(read_header(path), maps)


def test_offender_rows_make_one_incident_and_surname_first_names_split(store, tmp_path):
    from tests.bad_inputs.make_corpus import PILLBOX_HEADER
    from workbench.ingest import ingest_file

    rows = list(csv.DictReader(open(BAD / "offender_rows_partly_bad.csv", encoding="utf-8-sig"), delimiter=";"))
    for r in rows:
        r["Crime No."] = "13/77777/25" if r["Report Ref"] == "PHL-T-1" else r["Crime No."]
    rows[0]["Offender Name"] = "LEE, Amy"
    path = tmp_path / "pill.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=PILLBOX_HEADER, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    report = ingest_file(store, path)
    assert (report["rows_accepted"], report["incidents_new"], report["referrals_new"]) == (4, 2, 2)
    people = store.sql("SELECT full_name, forename, surname FROM person_mentions WHERE full_name LIKE '%,%'")
    assert people.values.tolist() == [["LEE, Amy", "Amy", "LEE"]]
    assert store.con.execute("SELECT offenders_count FROM incidents WHERE crime_number_norm = '137777725'"
                             ).fetchone()[0] == 3


def test_json_lines_quarantine_round_trip(store, tmp_path):
    """A JSON Lines source: export the held rows as .jsonl, correct them, re-ingest, entries resolved."""
    from workbench.ingest import ingest_file, quarantine

    lines = (BAD / "truncated.jsonl").read_text().splitlines()[:2]
    records = [json.loads(x) for x in lines]
    records[1]["crimeNumber"] = ""
    src = tmp_path / "glow.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    first = ingest_file(store, src)
    assert (first["rows_accepted"], first["rows_quarantined"]) == (1, 1)
    out = tmp_path / "fix.jsonl"
    assert quarantine.export(store, out)["rows"] == 1
    fixed = [json.loads(x) for x in out.read_text().splitlines()]
    assert "CRIME_NUMBER_MISSING" in fixed[0]["_reasons"]
    fixed[0]["crimeNumber"] = "13/60002/25"
    (tmp_path / "fixed.jsonl").write_text("\n".join(json.dumps(r) for r in fixed) + "\n")
    second = ingest_file(store, tmp_path / "fixed.jsonl")
    assert second["rows_accepted"] == 1 and second["quarantine_resolved"] == 1
    assert store.con.execute("SELECT status FROM quarantine").fetchone()[0] == "resolved"
