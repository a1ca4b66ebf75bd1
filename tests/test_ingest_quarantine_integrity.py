"""Quarantine integrity: a re-submission resolves only quarantine entries of its own source, by either correction
path (the `_quarantine_id` column, or the referral reference), each tested on its own so neither masks the
other; and every batch keeps the mapping it was ingested with, so a mapping given by path can be rebuilt."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from tests.ingest_helpers import BAD, fresh_copy, store, template, template_store  # noqa: F401 (fixtures)

BRIGHTMART = Path(__file__).resolve().parent.parent / "workbench" / "sources" / "retailer_brightmart.yaml"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _other_source(directory: Path) -> Path:
    """Source B: another retailer whose extract has Brightmart's layout, given by path."""
    data = yaml.safe_load(BRIGHTMART.read_text(encoding="utf-8"))
    data.update(name="retailer_othermart", retailer="OTH", file_patterns=[])
    path = directory / "retailer_othermart.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _held(store) -> tuple[int, dict]:
    """Quarantine A's bad row (Feb 31st); its entry id and the row corrected."""
    from workbench.ingest import ingest_file

    report = ingest_file(store, BAD / "feb_31st.csv")
    assert report["rows_quarantined"] == 1
    qid = store.con.execute("SELECT quarantine_id FROM quarantine WHERE source_name = 'retailer_brightmart'"
                            ).fetchone()[0]
    row = next(r for r in _rows(BAD / "feb_31st.csv") if r["occurred"].startswith("2025-02-31"))
    row["occurred"] = "2025-02-28 10:00"
    return qid, row


def _entry(store, qid: int) -> tuple:
    return store.con.execute("SELECT status, resolved_batch_id FROM quarantine WHERE quarantine_id = $q",
                             {"q": qid}).fetchone()


def test_another_sources_file_cannot_resolve_a_quarantine_entry(store, tmp_path):
    from workbench.ingest import ingest_file, validate_file

    qid, row = _held(store)
    mapping = _other_source(tmp_path)
    # B's file carries A's quarantine id AND A's referral reference: neither path may touch A's entry
    foreign = _write(tmp_path / "othermart.csv", [{**row, "_quarantine_id": str(qid)}])
    dry = validate_file(store, foreign, source=str(mapping))
    assert dry["warnings_by_rule"].get("QUARANTINE_ID_FOREIGN") == 1
    report = ingest_file(store, foreign, source=str(mapping))
    assert report["status"] == "committed" and report["quarantine_resolved"] == 0
    assert _entry(store, qid) == ("open", None)
    # the row is handled honestly: taken as B's own referral, flagged with the id it tried to resolve
    assert report["rows_accepted"] == 1 and report["rows_quarantined"] == 0
    assert report["warnings_by_rule"].get("QUARANTINE_ID_FOREIGN") == 1
    flag = store.con.execute("SELECT field, message FROM validation_flags WHERE batch_id = $b AND rule_code = "
                             "'QUARANTINE_ID_FOREIGN'", {"b": report["batch_id"]}).fetchall()
    assert len(flag) == 1 and flag[0][0] == "_quarantine_id" and f"({qid})" in flag[0][1]
    assert store.con.execute("SELECT source_name FROM referrals WHERE batch_id = $b",
                             {"b": report["batch_id"]}).fetchall() == [("retailer_othermart",)]


def test_own_source_resolves_by_quarantine_id_alone(store, tmp_path):
    from workbench.ingest import ingest_file

    qid, row = _held(store)
    # a new referral reference, so only the _quarantine_id can connect the correction to the entry
    fixed = _write(tmp_path / "fixed_by_id.csv", [{**row, "referral_id": "BRM-T-0002-R", "_quarantine_id": str(qid)}])
    report = ingest_file(store, fixed, source="retailer_brightmart")
    assert report["quarantine_resolved"] == 1
    assert _entry(store, qid) == ("resolved", report["batch_id"])
    assert "QUARANTINE_ID_FOREIGN" not in report["warnings_by_rule"]


def test_own_source_resolves_by_referral_reference_alone(store, tmp_path):
    from workbench.ingest import ingest_file

    qid, row = _held(store)
    fixed = _write(tmp_path / "fixed_by_ref.csv", [row])  # no _quarantine_id column
    report = ingest_file(store, fixed, source="retailer_brightmart")
    assert report["quarantine_resolved"] == 1
    assert _entry(store, qid) == ("resolved", report["batch_id"])


def test_an_unknown_quarantine_id_resolves_nothing_and_is_flagged(store, tmp_path):
    from workbench.ingest import ingest_file

    qid, row = _held(store)
    fixed = _write(tmp_path / "fixed_wrong_id.csv",
                   [{**row, "referral_id": "BRM-T-0002-R", "_quarantine_id": str(qid + 1000)}])
    report = ingest_file(store, fixed, source="retailer_brightmart")
    assert report["quarantine_resolved"] == 0 and _entry(store, qid) == ("open", None)
    assert report["warnings_by_rule"].get("QUARANTINE_ID_FOREIGN") == 1


def test_each_batch_keeps_the_mapping_it_was_ingested_with(store, tmp_path):
    import hashlib

    from workbench.ingest import ingest_file
    from workbench.ingest.mapping import load_mapping, mapping_from_batch

    mapping_path = _other_source(tmp_path)
    text = mapping_path.read_text(encoding="utf-8")
    rows = _rows(BAD / "feb_31st.csv")
    report = ingest_file(store, _write(tmp_path / "othermart.csv", rows), source=str(mapping_path))
    assert report["rows_quarantined"] == 1
    path, sha, stored = store.con.execute(
        "SELECT mapping_path, mapping_sha256, mapping_yaml FROM ingest_batches WHERE batch_id = $b",
        {"b": report["batch_id"]}).fetchone()
    assert path == str(mapping_path.resolve()) and stored == text
    assert sha == hashlib.sha256(text.encode("utf-8")).hexdigest() == report["mapping"]["sha256"]
    mapping_path.unlink()  # the file has gone: the stored text still rebuilds the mapping
    rebuilt = mapping_from_batch(path, stored)
    assert rebuilt.name == "retailer_othermart" and rebuilt.retailer == "OTH"
    assert rebuilt.columns == load_mapping("retailer_brightmart").columns
    # a shipped mapping is recorded too
    first = store.con.execute("SELECT mapping_path, mapping_sha256 FROM ingest_batches ORDER BY batch_id LIMIT 1"
                              ).fetchone()
    assert first[0].endswith("store_directory.yaml") and len(first[1]) == 64
