"""MoPI review and disposal (workbench.retention): review dates follow the configured periods; decisions keep who,
when and why; a disposed referral leaves no trace in any table of the store or in any product built afterwards
(package, patrol plan and briefing, link chart and ANX, quarantine export, cross-border views); resolved persons and
groups are recomputed; the disposal's audit record holds no personal data; disposal is refused without a dispose
decision."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests import retention_helpers as rh
from workbench import retention
from workbench.errors import WorkbenchError
from workbench.store import open_store

PURPOSE = "MoPI review: test"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    # WORKBENCH_TEST_REUSE: a folder kept between runs while working on these tests (built once, reused)
    import os

    return rh.planted_world(Path(os.environ.get("WORKBENCH_TEST_REUSE") or tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def target(planted):
    with open_store(planted, read_only=True) as store:
        chain = store.sql("SELECT referral_id, is_current FROM referrals WHERE source_ref = $r ORDER BY referral_id",
                          {"r": rh.REF})
        person = store.sql("SELECT DISTINCT pl.person_id, gm.group_id FROM person_mentions pm JOIN person_links pl "
                           "USING (mention_id) LEFT JOIN group_members gm USING (person_id) WHERE pm.full_name = $n",
                           {"n": rh.NAME})
    assert len(chain) == 2 and chain.is_current.tolist() == [False, True], chain   # two versions
    assert len(person) == 1 and isinstance(person.group_id[0], str), person       # one person, in a group
    return {"versions": chain.referral_id.astype(int).tolist(), "current": int(chain.referral_id.iloc[-1]),
            "person_id": person.person_id[0], "group_id": person.group_id[0]}


# -- review dates ----------------------------------------------------------------------------------------------
def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _expected(store, settings: dict) -> dict[int, dt.date]:
    """Review dates worked out here from the raw tables and the settings (not through workbench.retention)."""
    refs = store.sql("SELECT referral_id, source_name, source_ref, is_current, received_at, source_evaluation, "
                     "intelligence_assessment, handling_code FROM referrals")
    inc = store.sql("SELECT ri.referral_id, i.occurred_at, i.violence, i.detained, lower(i.offence_type) AS offence "
                    "FROM referral_incidents ri JOIN incidents i USING (incident_id)")
    members = set(store.sql("SELECT DISTINCT pm.referral_id FROM person_mentions pm JOIN person_links pl USING "
                            "(mention_id) JOIN group_members gm USING (person_id) JOIN groups g USING (group_id) "
                            "WHERE g.status = 'active'").referral_id)
    refs["chain"] = refs.source_name + "|" + refs.source_ref.fillna("id" + refs.referral_id.astype(str))
    inc = inc.merge(refs[["referral_id", "chain"]], on="referral_id")
    when = settings["group_2_when"]
    inc["serious"] = inc.offence.isin(when["offence_types"]) | (when["violence"] & inc.violence.fillna(False))
    per_inc = inc.groupby("chain").agg(serious=("serious", "any"), detained=("detained", lambda s: s.fillna(False)
                                                                             .any()), last=("occurred_at", "max"))
    refs["member"] = refs.referral_id.isin(members)
    current = refs.sort_values(["is_current", "referral_id"]).groupby("chain").tail(1).set_index("chain")
    chains = current.join(refs.groupby("chain").agg(received=("received_at", "max"), member_any=("member", "any"))
                          ).join(per_inc)
    out = {}
    flag = lambda v: bool(v) if pd.notna(v) else False  # noqa: E731  (no incident: NaN)
    for chain, row in chains.iterrows():
        years = settings["groups"]["group_2" if flag(row.serious) else "group_3"]
        for floor, applies in (("group_member", flag(row.member_any)), ("detained", flag(row.detained))):
            if applies and settings["floors"].get(floor) is not None:
                years = max(years, settings["floors"][floor])
        for field, table in settings["caps"].items():
            value = row[field]
            if isinstance(value, str) and value.strip().upper() in table:
                years = min(years, table[value.strip().upper()])
        days = [pd.Timestamp(row.received).date()]
        if pd.notna(row["last"]):
            days.append(pd.Timestamp(row["last"]).date())
        out[int(row.referral_id)] = _add_years(max(days), years)
    return out


def _computed(store, settings) -> dict[int, dt.date]:
    frame = retention.review_dates(store, settings)
    return dict(zip(frame.referral_id.astype(int), (pd.Timestamp(d).date() for d in frame.review_due)))


def test_review_dates_follow_the_configured_periods(planted, target):
    settings = retention.retention_settings()
    with open_store(planted, read_only=True) as store:
        computed, expected = _computed(store, settings), _expected(store, settings)
        frame = retention.review_dates(store, settings)
        # a policy where every rule bites differently
        other = retention.retention_settings({"groups": {"group_2": 8, "group_3": 4},
                                              "floors": {"group_member": 12, "detained": 5},
                                              "caps": {"intelligence_assessment": {"E": 1, "D": 2},
                                                       "source_evaluation": {"3": 3}}})
        computed_other, expected_other = _computed(store, other), _expected(store, other)
    assert len(computed) == len(expected) > 9000 and computed == expected
    assert computed_other == expected_other
    bases = " ".join(frame.review_basis)
    for part in ("group_2", "group_3", "floor group_member", "cap intelligence_assessment=D"):
        assert part in bases, part
    # the planted referral: group member (floor 10) from its latest version's receipt
    assert computed[target["current"]] == dt.date(2035, 3, 25)
    assert computed_other[target["current"]] == dt.date(2037, 3, 25)
    # a changed period changes the dates of exactly the referrals it governs
    with open_store(planted, read_only=True) as store:
        frame_other = retention.review_dates(store, other).set_index("referral_id")
    group3 = frame[(frame.review_basis == "group_3")]
    group3 = group3[(frame_other.loc[group3.referral_id, "review_basis"] == "group_3").to_numpy()]
    assert len(group3) > 100
    for row in group3.itertuples():
        trigger = pd.Timestamp(row.trigger_date).date()
        assert computed[int(row.referral_id)] == _add_years(trigger, 6)
        assert computed_other[int(row.referral_id)] == _add_years(trigger, 4)
    assert "floor detained" in " ".join(frame_other.review_basis)


def test_due_lists_what_is_due_as_of_a_date(planted):
    with open_store(planted, read_only=True) as store:
        dates = _computed(store, retention.retention_settings())
        for as_of in (dt.date(2030, 12, 31), dt.date(2031, 6, 30), dt.date(2033, 1, 1)):
            due = retention.due(store, as_of)
            want = {r for r, d in dates.items() if d <= as_of}
            assert set(due.referral_id.astype(int)) == want and want, as_of
            assert list(pd.to_datetime(due.review_due)) == sorted(pd.to_datetime(due.review_due))
        assert retention.due(store, dt.date(2000, 1, 1)).empty


def test_settings_refuse_bad_periods():
    for bad, needle in (({"groups": {"group_3": -1}}, "groups.group_3"), ({"groups": {"group_2": 2.5}}, "group_2"),
                        ({"floors": {"arrested": 3}}, "unknown floor"), ({"caps": {"grading": {"E": 1}}}, "unknown cap"),
                        ({"caps": {"intelligence_assessment": {"E": "soon"}}}, "caps.intelligence_assessment.E")):
        with pytest.raises(WorkbenchError, match=needle):
            retention.retention_settings(bad)


# -- decisions -------------------------------------------------------------------------------------------------
HOSTILE = "<script>alert(1)</script> =HYPERLINK(\"http://x\") '); DROP TABLE referrals; -- [bold]x[/bold]"


@pytest.fixture
def writable(planted, tmp_path):
    db = tmp_path / "retention.duckdb"
    shutil.copy(planted, db)
    return db


def test_decide_records_who_when_why_and_audits_the_hash_only(writable, target):
    with open_store(writable) as store:
        before = pd.Timestamp.now("UTC").tz_localize(None).floor("s")
        first = retention.decide(store, target["versions"][0], "retain", why=HOSTILE, purpose=PURPOSE)
        second = retention.decide(store, target["current"], "dispose", why="past review, no value", purpose=PURPOSE)
        rows = retention.decisions(store)
        audit = store.sql("SELECT details::VARCHAR AS d FROM audit_log WHERE action = 'review-decide' ORDER BY seq")
        assert store.sql("SELECT count(*) AS n FROM referrals").n[0] > 9000   # the SQL fragment did nothing
        with pytest.raises(WorkbenchError, match="--why is required"):
            retention.decide(store, target["current"], "retain", why="  ", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="one line"):
            retention.decide(store, target["current"], "retain", why="a\nb", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="retain or dispose"):
            retention.decide(store, target["current"], "keep", why="x", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="no referral with id 99999999"):
            retention.decide(store, 99999999, "retain", why="x", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="not a referral id"):
            retention.decide(store, "12; DROP TABLE x", "retain", why="x", purpose=PURPOSE)
    assert first["referral_id"] == second["referral_id"] == target["current"]   # any version names the chain
    assert first["versions"] == target["versions"]
    assert first["next_review"] == _add_years(dt.date.today(), 10) and second["next_review"] is None
    by_id = rows.set_index("decision_id")
    assert by_id.loc[first["decision_id"], "why"] == HOSTILE                       # stored verbatim, bound
    assert by_id.loc[first["decision_id"], "status"] == "superseded"
    assert by_id.loc[second["decision_id"], "status"] == "open"
    assert by_id.loc[second["decision_id"], "decided_by"] and pd.Timestamp(
        by_id.loc[second["decision_id"], "decided_at"]) >= before - pd.Timedelta(seconds=5)
    assert len(audit) == 2 and "DROP TABLE" not in "".join(audit.d) and "script" not in "".join(audit.d)
    assert json.loads(audit.d[0])["why_sha256"] == by_id.loc[first["decision_id"], "why_sha256"]


# -- disposal --------------------------------------------------------------------------------------------------
def _products(db: Path, out: Path, group: str, label: str) -> Path:
    """Products built from the store: link chart (HTML), quarantine export (CSV), and with label 'after' also the
    link chart as ANX, the quarantine export as XLSX, a package of the group, a patrol plan and briefing for the planted force, the group's cross-border
    views. Through the command line (in this process), each one audited."""
    from workbench.cli import main

    folder = out / label
    folder.mkdir(parents=True)

    def run(*args):
        code = main([*map(str, args), "--db", str(db)])
        assert code == 0, args

    run("link", "export", "--out", folder / "chart.html", "--purpose", PURPOSE)
    run("quarantine", "export", "--out", folder / "quarantine.csv", "--source", "retailer_brightmart")
    if label == "after":
        run("link", "export", "--out", folder / "chart.anx", "--purpose", PURPOSE)
        run("quarantine", "export", "--out", folder / "quarantine.xlsx", "--source", "retailer_brightmart")
        run("package", "build", "--group", group, "--out", folder / "package", "--purpose", PURPOSE)
        run("hotspots", "plan", "--force", "12", "--out", folder / "plan", "--no-png", "--method", "average",
            "--purpose", PURPOSE)
        run("crossborder", "render", group, "--out", folder / "crossborder", "--purpose", PURPOSE)
        run("groups", "export", group, "--out", folder / "group.html", "--purpose", PURPOSE)
    return folder


@pytest.fixture(scope="module")
def disposed(planted, target, tmp_path_factory):
    root = tmp_path_factory.mktemp("disposed")
    db = root / "store.duckdb"
    shutil.copy(planted, db)
    from workbench.packages import states

    with open_store(db) as store:
        # the analyst wrote the name and plate into the group's package, and decided a link about the mention
        states.save_words(store, target["group_id"], "assessment", f"{rh.NAME} drove {rh.PLATE} for the group.")
        mention = int(store.sql("SELECT mention_id FROM person_mentions WHERE full_name = $n ORDER BY mention_id",
                                {"n": rh.NAME}).mention_id.iloc[-1])
        other = int(store.sql("SELECT mention_id FROM person_mentions WHERE full_name = 'Mark Byrne' LIMIT 1")
                    .mention_id[0])
        from workbench.linkage.run import decide as link_decide

        link_decide(store, "reject", mention, other, why="different DOB, different build")
        persons_before = store.sql("SELECT count(*) AS n FROM resolved_persons WHERE status = 'active'").n[0]
        runs_before = int(store.sql("SELECT max(run_id) AS r FROM linkage_runs").r[0])
    before = _products(db, root, target["group_id"], "before")
    with open_store(db) as store:
        decision = retention.decide(store, target["versions"][0], "dispose", why=f"review of {rh.REF}: no value",
                                    purpose=PURPOSE)
        result = retention.dispose(store, PURPOSE, referral_ids=[target["current"]])
    after = _products(db, root, target["group_id"], "after")
    return {"db": db, "before": before, "after": after, "result": result, "decision": decision,
            "persons_before": int(persons_before), "runs_before": runs_before}


ALLOWED = {("retention_decisions", "why_sha256")}   # a hash, and the test's own reason names the reference


def test_disposed_referral_leaves_no_trace_in_any_table(planted, disposed):
    wanted = rh.needles()
    before = rh.hits_in_store(planted, wanted)
    assert {k for _t, _c, k, _v in before} == set(wanted), before     # the scan sees every needle beforehand
    after = [h for h in rh.hits_in_store(disposed["db"], wanted) if (h[0], h[1]) not in ALLOWED]
    assert not after, after[:20]


def test_products_built_afterwards_hold_none_of_it(disposed):
    wanted = rh.needles()
    seen = rh.hits_in_files(disposed["before"], wanted)
    assert {"name", "plate", "ref", "crime"} <= {k for _f, k, _e in seen}, seen   # the scan finds them in files
    after = disposed["after"]
    kinds = {p.suffix.lower() for p in after.rglob("*") if p.is_file()}
    assert {".html", ".anx", ".csv", ".xlsx", ".docx", ".pdf"} <= kinds, kinds
    left = rh.hits_in_files(after, wanted)
    assert not left, left[:20]


def test_no_disposed_bytes_remain_in_the_database_file(planted, disposed):
    """DuckDB keeps a deleted row's bytes in the file until the space is reused: disposal rewrites the file."""
    raw = [v.encode() for v in ("Zarbeck", rh.EVIDENCE, rh.REF, rh.INCIDENT_REF)]
    planted_bytes = planted.read_bytes()
    present = [v for v in raw if v in planted_bytes]
    assert len(present) >= 3, present                       # stored plainly enough to be found beforehand
    files = [p for p in (disposed["db"], disposed["db"].with_name(disposed["db"].name + ".wal")) if p.exists()]
    for path in files:
        data = path.read_bytes()
        assert not [v for v in present if v in data], path
    assert disposed["result"]["compacted_bytes"] > 0


def test_resolved_persons_and_groups_are_recomputed(disposed, target):
    result = disposed["result"]
    assert result["disposed"] == 1 and result["versions"] == target["versions"]
    assert [r["entity"] for r in result["relinked"]] == ["person", "vehicle", "group"]
    counts = result["counts"]
    assert counts["referrals"] == 2 and counts["incidents"] == 1 and counts["quarantine"] == 1
    assert counts["link_decisions"] == 1 and counts["package_words_redacted"] == 1 and counts["evidence_items"] >= 1
    with open_store(disposed["db"], read_only=True) as store:
        active = store.sql("SELECT count(*) AS n FROM resolved_persons WHERE status = 'active'").n[0]
        me = store.sql("SELECT status FROM resolved_persons WHERE person_id = $p", {"p": target["person_id"]})
        member = store.sql("SELECT count(*) AS n FROM group_members WHERE person_id = $p",
                           {"p": target["person_id"]}).n[0]
        runs = store.sql("SELECT entity, max(run_id) AS r FROM linkage_runs GROUP BY entity")
        groups = store.sql("SELECT count(*) AS n FROM groups WHERE status = 'active' AND label IS NULL").n[0]
        words = store.sql("SELECT body FROM package_words WHERE subject_id = $g ORDER BY version DESC LIMIT 1",
                          {"g": target["group_id"]}).body[0]
    assert active == disposed["persons_before"] - 1                # the person only that referral named is gone
    assert me.empty or me.status[0] != "active"
    assert member == 0
    assert (runs.r > disposed["runs_before"]).all() and len(runs) == 3
    assert groups == 0                                              # relabelled by the groups run
    assert "[disposed]" in words and "drove" in words


def test_the_disposal_record_holds_no_personal_data(disposed, target):
    with open_store(disposed["db"], read_only=True) as store:
        record = store.sql("SELECT * FROM retention_disposals")
        audit = store.sql("SELECT details::VARCHAR AS d, object FROM audit_log WHERE action = 'review-dispose'")
        decision = store.sql("SELECT * FROM retention_decisions WHERE decision_id = $d",
                             {"d": disposed["decision"]["decision_id"]})
        verify = store.sql("SELECT count(*) AS n FROM audit_log").n[0]
    assert len(record) == 1 and json.loads(record.referral_ids[0]) == target["versions"]
    assert len(json.loads(record.content_hashes[0])) == 2
    assert len(audit) == 1 and json.loads(audit.d[0])["referral_ids"] == target["versions"]
    text = rh.squeeze(" ".join(record.astype(str).iloc[0]) + audit.d[0] + audit.object[0])
    assert not [k for k, n in rh.needles().items() if n in text]
    assert decision.status[0] == "disposed" and decision.why.isna()[0] and len(decision.why_sha256[0]) == 64
    assert decision.disposal_id[0] == record.disposal_id[0] and verify > 0
    import duckdb

    from workbench.store import verify_audit

    con = duckdb.connect(str(disposed["db"]), read_only=True)
    try:
        assert verify_audit(con)["ok"]                       # the chain holds after a disposal
    finally:
        con.close()


def test_disposal_refused_without_a_dispose_decision(writable, target):
    with open_store(writable) as store:
        other = int(store.sql("SELECT min(referral_id) AS r FROM referrals WHERE is_current").r[0])
        with pytest.raises(WorkbenchError, match="no dispose decision"):
            retention.dispose(store, PURPOSE, referral_ids=[other])
        retention.decide(store, other, "retain", why="still of use", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="is retained"):
            retention.dispose(store, PURPOSE, referral_ids=[other])
        retention.decide(store, other, "dispose", why="no longer", purpose=PURPOSE)
        with pytest.raises(WorkbenchError, match="dated after --as-of"):
            retention.dispose(store, PURPOSE, as_of=dt.date(2020, 1, 1), referral_ids=[other])
        with pytest.raises(WorkbenchError, match="--purpose is required"):
            retention.dispose(store, "", referral_ids=[other])
        with pytest.raises(WorkbenchError, match="no referral with id 99999999"):
            retention.dispose(store, PURPOSE, referral_ids=[99999999])
        assert retention.dispose(store, PURPOSE, as_of=dt.date(2020, 1, 1))["disposed"] == 0
        count = store.sql("SELECT count(*) AS n FROM referrals").n[0]
        done = retention.dispose(store, PURPOSE, referral_ids=[other], relink=False)
        assert done["disposed"] == 1 and store.sql("SELECT count(*) AS n FROM referrals").n[0] == count - 1
        again = retention.dispose(store, PURPOSE, referral_ids=[other], relink=False)
        assert again["disposed"] == 0 and again["already"][0]["referral_id"] == other
        with pytest.raises(WorkbenchError, match=f"referral {other} was disposed"):
            retention.decide(store, other, "retain", why="x", purpose=PURPOSE)


def test_a_link_decision_reason_naming_the_person_does_not_outlive_the_disposal(writable, target):
    from workbench.linkage.run import decide as link_decide

    with open_store(writable) as store:
        mine = store.sql("SELECT mention_id FROM person_mentions WHERE full_name = $n ORDER BY mention_id",
                         {"n": rh.NAME}).mention_id
        other = store.sql("SELECT mention_id FROM person_mentions WHERE full_name = 'Jordan Lloyd' LIMIT 1").mention_id
        link_decide(store, "reject", int(mine.iloc[-1]), int(other.iloc[0]), why=f"{rh.NAME} is older than him")
        retention.decide(store, target["current"], "dispose", why="no value", purpose=PURPOSE)
        retention.dispose(store, PURPOSE, referral_ids=[target["current"]], relink=False)
    left = [h for h in rh.hits_in_store(writable, {"name": rh.squeeze(rh.NAME)}) if (h[0], h[1]) not in ALLOWED]
    assert not left, left
