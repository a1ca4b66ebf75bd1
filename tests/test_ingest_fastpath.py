"""The ingest fast path (single-row referrals loaded in one pass; dedup against the store skipped when no stored
incident shares a crime key or a store with the batch) stores exactly what the general path stores: the same
rows in every written table (ids replaced by natural keys), the same quarantine rows and reasons, the same flags
and the same report counts, file after file, for good and bad inputs, a fresh store and one that already holds
the batch's incidents or referrals. Two realistic bugs in the fast path's checks must make the comparison fail."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.ingest_helpers import BAD, FIX, template_store

COUNT_KEYS = ("status", "rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule", "warnings_by_rule",
              "referrals_new", "referrals_revised", "referrals_unchanged", "referral_versions_superseded",
              "incidents_new", "duplicates_merged", "merge_suspects", "quarantine_resolved")
BAD_BRIGHTMART = ("bad_grading.csv", "feb_31st.csv", "formula_cells.csv", "negative_values.csv",
                  "rule_dob_implausible.csv", "rule_referral_ref_missing.csv", "truncated_mid_row.csv")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Files to ingest in order: generated extracts with realistic noise (within-batch crime-number collisions,
    bad values, formulas), the fixture extracts, bad inputs, and a corrected re-submission of one extract."""
    from benchmarks.bench_ingest import make_extract

    d = tmp_path_factory.mktemp("fastpath_in")
    big = d / "gen" / "brightmart_incidents.csv"
    big.parent.mkdir()
    make_extract(big, 600, seed=5)
    text = big.read_text().splitlines()
    header = text[0].split(",")
    col = {name: header.index(name) for name in header}
    # a crime number repeated within the file: once at the same store and time (merged), once at another store
    # (MERGE_SUSPECT); rows made valid so that none is quarantined
    rows = [line.split(",") for line in text[1:4]]
    for row, store in zip(rows, ("7", "7", "8")):
        row[col["crime_ref"]], row[col["police_force"]] = "13/55555555/24", "West Yorkshire Police"
        row[col["store_no"]], row[col["occurred"]], row[col["referred_at"]] = store, "2024-05-01 10:00", "2024-05-03 10:00"
        row[col["loss_gbp"]], row[col["grading"]], row[col["num_offenders"]] = "10.00", "2B P", "1"
    big.write_text("\n".join([text[0]] + [",".join(r) for r in rows] + text[4:]) + "\n")
    # a second extract: new references, some incidents already in the store (same crime number, store and time)
    second = d / "gen2" / "brightmart_incidents_2.csv"
    second.parent.mkdir()
    lines = big.read_text().splitlines()
    ri = col["referral_id"]
    out = [lines[0]]
    for line in lines[1:200]:
        cells = line.split(",")
        if len(cells) == len(header):
            cells[ri] = cells[ri].replace("BRM-", "BRM2-")
            out.append(",".join(cells))
    second.write_text("\n".join(out) + "\n")
    # a correction of the second extract: the same references, other values (versions revised, general path)
    third = d / "gen2" / "brightmart_incidents_3.csv"
    li = col["loss_gbp"]
    corrected = [out[0]]
    for line in out[1:50]:
        cells = line.split(",")
        cells[li] = "999.99"
        corrected.append(",".join(cells))
    third.write_text("\n".join(corrected) + "\n")
    # a file whose references repeat: two incidents of one referral, two versions of another (general path)
    fourth = d / "gen2" / "brightmart_incidents_4.csv"
    rows = [line.split(",") for line in lines[400:440] if len(line.split(",")) == len(header)]
    for row in rows:
        row[ri] = row[ri].replace("BRM-", "BRM4-")
    rows[1][ri] = rows[0][ri]
    rows[3][ri] = rows[2][ri]
    rows[3][col["referred_at"]] = "2025-01-05 10:00"
    fourth.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n")
    files = [big.parent / "store_directory.csv", big, second, third, fourth]
    files += [FIX / n for n in ("brightmart_clean.csv", "merge_suspect.csv", "wmp_same_incident.csv",
                                "quarantine_id_unknown.csv")]
    files += [BAD / n for n in BAD_BRIGHTMART if (BAD / n).exists()]
    return files


def _ingest_all(db: Path, files) -> list[dict]:
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    reports = []
    with open_store(db) as store:
        for f in files:
            reports.append(ingest_file(store, f, source="store_directory" if f.name == "store_directory.csv"
                                       else None))
    return reports


def _dump(db: Path) -> dict:
    """Every written table as sorted rows, ids replaced by natural keys (ids are numbered in whatever order a
    parallel query produced them, on either path)."""
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        q = store.con.execute
        ref_key = {rid: f"{s}|{r}|v{v}" for rid, s, r, v in
                   q("SELECT referral_id, source_name, source_ref, version FROM referrals").fetchall()}
        inc_refs: dict = {}
        for rid, iid in q("SELECT referral_id, incident_id FROM referral_incidents").fetchall():
            inc_refs.setdefault(iid, []).append(ref_key[rid])
        inc_key = {iid: "inc[" + ",".join(sorted(refs)) + "]" for iid, refs in inc_refs.items()}
        missing = q("SELECT incident_id FROM incidents").fetchall()
        assert all(i in inc_key for (i,) in missing), "an incident no referral mentions"

        def ids_in_text(text):
            if text is None:
                return None
            return re.sub(r"incident (\d+)", lambda m: "incident " + inc_key.get(int(m.group(1)), "?"), text)

        def table(sql, ref_cols=(), inc_cols=(), text_cols=()):
            cur = q(sql)
            names = [c[0] for c in cur.description]
            out = []
            for row in cur.fetchall():
                row = dict(zip(names, row))
                for c in ref_cols:
                    row[c] = ref_key.get(row[c], row[c])
                for c in inc_cols:
                    row[c] = inc_key.get(row[c], row[c])
                for c in text_cols:
                    row[c] = ids_in_text(row[c])
                out.append(repr(sorted(row.items())))
            return sorted(out)

        return {
            "referrals": table("SELECT * EXCLUDE (referral_id), referral_id AS me FROM referrals",
                               ("me", "superseded_by")),
            "incidents": table("SELECT * EXCLUDE (incident_id), incident_id AS me FROM incidents", (), ("me",),
                               ("review_reason",)),
            "referral_incidents": table("SELECT * FROM referral_incidents", ("referral_id",), ("incident_id",)),
            "person_mentions": table("SELECT * EXCLUDE (mention_id) FROM person_mentions", ("referral_id",),
                                     ("incident_id",)),
            "vehicle_mentions": table("SELECT * EXCLUDE (mention_id) FROM vehicle_mentions", ("referral_id",),
                                      ("incident_id",)),
            "evidence_items": table("SELECT * EXCLUDE (evidence_id) FROM evidence_items", ("referral_id",),
                                    ("incident_id",)),
            "incident_tactics": table("SELECT * FROM incident_tactics", ("referral_id",), ("incident_id",)),
            "validation_flags": table("SELECT * EXCLUDE (flag_id) FROM validation_flags", ("referral_id",),
                                      ("incident_id",), ("message",)),
            "quarantine": table("SELECT * EXCLUDE (created_at) FROM quarantine"),
            "stores": table("SELECT * FROM stores"),
        }


def _counts(reports) -> list:
    return [(Path(r["file"]).name, {k: r.get(k) for k in COUNT_KEYS}) for r in reports]


def _run(tmp: Path, template: Path, files, name: str, monkeypatch, fast: bool, patch=None):
    from workbench.ingest import load

    db = tmp / f"{name}.duckdb"
    shutil.copy(template, db)
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(load, "fast_path_enabled", lambda: False)
        if patch:
            patch(m, load)
        reports = _ingest_all(db, files)
    return _dump(db), reports


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("fastpath_tpl"))


@pytest.fixture(scope="module")
def general(inputs, template, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        return _run(tmp_path_factory.mktemp("general"), template, inputs, "general", mp, fast=False)
    finally:
        mp.undo()


def _assert_same(fast, general):
    (fdump, freps), (gdump, greps) = fast, general
    assert _counts(freps) == _counts(greps)
    for tbl in gdump:
        assert fdump[tbl] == gdump[tbl], f"{tbl} differs between the fast and the general path"


def test_fast_path_stores_what_the_general_path_stores(inputs, template, general, tmp_path, monkeypatch):
    fast = _run(tmp_path, template, inputs, "fast", monkeypatch, fast=True)
    _assert_same(fast, general)
    reports = {Path(r["file"]).name: r for r in fast[1]}
    # the comparison covers both paths and both dedup branches, else it would prove nothing
    assert reports["brightmart_incidents.csv"]["load_path"] == "fast"
    assert reports["brightmart_incidents.csv"]["dedup_against_store"] is False
    assert reports["brightmart_incidents_2.csv"]["load_path"] == "fast"
    assert reports["brightmart_incidents_2.csv"]["dedup_against_store"] is True
    assert reports["brightmart_incidents_2.csv"]["duplicates_merged"] > 0
    assert reports["brightmart_incidents_3.csv"]["load_path"] == "general"
    assert reports["brightmart_incidents_3.csv"]["referrals_revised"] > 0
    assert reports["brightmart_incidents_4.csv"]["load_path"] == "general"
    assert reports["brightmart_incidents.csv"]["merge_suspects"] >= 1
    assert all(r["load_path"] == "general" for r in general[1] if r.get("kind") == "referrals"
               and r.get("status") == "committed")
    assert sum(r.get("rows_quarantined") or 0 for r in fast[1]) > 100
    assert sum(len(general[0][t]) for t in general[0]) > 2000


@pytest.fixture(scope="module")
def general_core(inputs, template, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        return _run(tmp_path_factory.mktemp("general_core"), template, inputs[:5], "core", mp, fast=False)
    finally:
        mp.undo()


def _differs(fast, general) -> bool:
    try:
        _assert_same(fast, general)
    except AssertionError:
        return True
    return False


def test_a_store_key_check_that_misses_stored_incidents_is_caught(inputs, template, general_core, tmp_path,
                                                                   monkeypatch):
    """Bug: the semi-join check says no stored incident shares a key, so dedup against the store is skipped."""
    fast = _run(tmp_path, template, inputs[:5], "bug1", monkeypatch, fast=True,
                patch=lambda m, load: m.setattr(load, "store_has_batch_keys", lambda con: False))
    assert _differs(fast, general_core)


def _skipping_check(reason_prefix: str):
    """A patch making fast_path_reason ignore one of its checks (the one whose reason starts so)."""
    def patch(m, load):
        real = load.fast_path_reason

        def reason(con, mapping):
            got = real(con, mapping)
            return None if got and got.startswith(reason_prefix) else got
        m.setattr(load, "fast_path_reason", reason)
    return patch


def _assert_bug_caught(inputs, template, general_core, tmp_path, monkeypatch, name: str, patch) -> None:
    try:
        fast = _run(tmp_path, template, inputs[:5], name, monkeypatch, fast=True, patch=patch)
    except Exception:  # the store refusing the rows is as good a catch as a difference
        return
    assert _differs(fast, general_core)


def test_a_referral_check_that_ignores_stored_versions_is_caught(inputs, template, general_core, tmp_path,
                                                                  monkeypatch):
    """Bug: the fast path taken although the store holds versions of the batch's references (a correction)."""
    _assert_bug_caught(inputs, template, general_core, tmp_path, monkeypatch, "bug2",
                       _skipping_check("the store already holds"))


def test_a_fast_path_taken_for_a_referral_on_several_rows_is_caught(inputs, template, general_core, tmp_path,
                                                                     monkeypatch):
    """Bug: the uniqueness check skipped, so a referral spanning two rows is loaded as two new referrals."""
    _assert_bug_caught(inputs, template, general_core, tmp_path, monkeypatch, "bug3",
                       _skipping_check("a referral reference occurs"))
