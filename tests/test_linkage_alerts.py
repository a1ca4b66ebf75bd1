"""Alerts: a new batch matched against the resolved store (workbench.linkage.alerts).

A store resolved once (persons with a prolific offender seen in 11 incidents, a plate flagged as cloned),
then second batches ingested through the real pipeline: a misspelt name of the known offender raises exactly
one alert naming him, an unrelated name none, the flagged plate written with a confusable character a vehicle
alert; nothing is retrained (linkage_runs unchanged, training refused); thresholds on both sides of their
edge; groups (migration 0008) once present; hostile names stored raw and escaped in the widget; an empty
batch, no linkage run, a failing alert step (the batch stays), and the CLI (list, ack, scan)."""
from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.ingest_helpers import template_store
from tests.linkage_helpers import fill_store, person_records
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.linkage import alerts
from workbench.linkage import run as lrun
from workbench.linkage.settings import load_settings
from workbench.store import open_store

HEADER = ("incident_id,store_no,occurred,crime_ref,police_force,loss_gbp,num_offenders,violence,detained,tactic_codes,"
          "offender_names,offender_dobs,vehicle_reg,cctv,dems_ref,narrative,referral_id,referred_at,grading")
KNOWN_DOB = "1988-07-14"
HOSTILE = "=cmd|' /C calc'!A0 <script>alert(1)</script>"


def _row(n: int, name: str, dob: str, vrm: str) -> str:
    return (f"BRM-INC-{n:04d},101,2025-06-{n % 27 + 1:02d} 14:00,13/{49000 + n}/25,West Yorkshire Police,80.00,1,N,N,"
            f"FOIL,{name},{dob},{vrm},Y,DEMS-{n:04d},Took razors.,BRM-N-{n:04d},2025-06-28 10:00,2B P")


def _csv(path, rows):
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """A store file with the fixture store directory, 25 synthetic people, a prolific offender (11 incidents),
    a plate seen in Leeds and London 30 minutes apart (cloned) and an ordinary plate, resolved once."""
    folder = tmp_path_factory.mktemp("alerts")
    path = template_store(folder)
    people = person_records(n_people=25, seed=5).drop(columns=["truth"])
    known = pd.DataFrame([{"record_id": f"K{i}", "forename": "Thaddeus", "surname": "Worthington", "dob": KNOWN_DOB,
                           "lat": 53.80 + i * 0.001, "lon": -1.54, "seen_at": datetime(2025, 2, 1) + timedelta(days=3 * i)}
                          for i in range(11)])
    vehicles = pd.DataFrame([
        {"record_id": "V1", "vrm": "OX73 FLP", "make": "Ford", "colour": "Blue", "lat": 53.80, "lon": -1.54,
         "seen_at": datetime(2025, 3, 1, 12)},
        {"record_id": "V2", "vrm": "OX73 FLP", "make": "Ford", "colour": "Blue", "lat": 51.50, "lon": -0.12,
         "seen_at": datetime(2025, 3, 1, 12, 30)},
        {"record_id": "V3", "vrm": "YK19 ZZT", "make": "Audi", "colour": "Red", "lat": 53.80, "lon": -1.54,
         "seen_at": datetime(2025, 3, 2, 12)}])
    with open_store(path) as store:
        ids = fill_store(store, pd.concat([people, known], ignore_index=True), vehicles, start_id=100000)
        lrun.run_all(store)
        person_of = dict(store.con.execute("SELECT mention_id, person_id FROM person_links").fetchall())
        vehicle_of = dict(store.con.execute("SELECT mention_id, vehicle_id FROM vehicle_links").fetchall())
    known_ids = {ids[f"K{i}"] for i in range(11)}
    assert len({person_of[m] for m in known_ids}) == 1      # the fixture: the offender resolved as one person
    other = ids[people.record_id.iloc[0]]
    return SimpleNamespace(path=path, known_person=person_of[min(known_ids)], known_mentions=known_ids,
                           cloned_vehicle=vehicle_of[ids["V1"]], plain_vehicle=vehicle_of[ids["V3"]],
                           other_person=person_of[other], other_name=(people.forename.iloc[0], people.surname.iloc[0],
                                                                      people.dob.iloc[0]),
                           other_place=(people.lat.iloc[0], people.lon.iloc[0]))


@pytest.fixture
def store(resolved, tmp_path):
    target = tmp_path / "s.duckdb"
    shutil.copy(resolved.path, target)
    s = open_store(target)
    yield s
    s.close()


def _runs(store):
    return store.sql("SELECT * FROM linkage_runs ORDER BY run_id")


def _alerts(store):
    return alerts.list_alerts(store, None)


# -- the core behaviour -------------------------------------------------------------------------------------
def test_misspelt_offender_and_confusable_plate_raise_exactly_the_expected_alerts(store, resolved, tmp_path,
                                                                                   monkeypatch):
    from workbench.ingest import ingest_file
    from workbench.linkage.model import PersonModel

    def no_training(self):
        raise AssertionError("alerts must not retrain the model")

    monkeypatch.setattr(PersonModel, "train", no_training)
    runs_before = _runs(store)
    links_before = store.sql("SELECT * FROM person_links ORDER BY mention_id")
    report = ingest_file(store, _csv(tmp_path / "second.csv", [
        _row(901, "Thadeus Worthington", KNOWN_DOB, "0X73 FLP"),            # misspelt forename; O written as zero
        _row(902, "Marigold Featherstonehaugh", "1971-02-03", "LM68 QRT")]))  # nobody known, an unknown plate
    assert report["status"] == "committed"
    batch = report["batch_id"]
    assert report["alerts"]["status"] == "scanned" and report["alerts"]["alerts"] == 2
    found = _alerts(store)
    assert len(found) == 2 and set(found.batch_id) == {batch} and set(found.status) == {"open"}
    person = found[found.entity == "person"].iloc[0]
    assert person.entity_id == resolved.known_person and person.mention_text == "Thadeus Worthington"
    assert person.reason == "prolific_offender" and person.matched_by == "model"
    assert person.match_weight >= load_settings().review
    assert int(person.matched_mention) in resolved.known_mentions
    assert json.loads(person.details)["incidents"] == 11
    new_mention = store.sql("SELECT m.mention_id FROM person_mentions m JOIN referrals r USING (referral_id) "
                            "WHERE r.batch_id = $b AND m.full_name = 'Thadeus Worthington'", {"b": batch})
    assert int(person.mention_id) == int(new_mention.mention_id.iloc[0]) and person.source_ref == "BRM-N-0901"
    vehicle = found[found.entity == "vehicle"].iloc[0]
    assert vehicle.entity_id == resolved.cloned_vehicle and vehicle.reason == "flagged_vehicle"
    assert vehicle.mention_text == "0X73 FLP" and vehicle.matched_by == "confusable"
    assert [f["kind"] for f in json.loads(vehicle.details)["flags"]] == ["impossible_travel"]
    # nothing was retrained or re-clustered
    pd.testing.assert_frame_equal(_runs(store), runs_before)
    pd.testing.assert_frame_equal(store.sql("SELECT * FROM person_links ORDER BY mention_id"), links_before)
    audit = store.sql("SELECT details FROM audit_log WHERE action = 'alerts-raise'")
    assert len(audit) == 1 and json.loads(audit.details.iloc[0])["alerts"] == 2
    # a rescan raises nothing new; a batch of unrelated names raises nothing, and leaves batch 2's alerts alone
    again = alerts.scan_batch(store, batch)
    assert again["alerts"] == 0 and again["already"] == 2 and len(_alerts(store)) == 2
    third = ingest_file(store, _csv(tmp_path / "third.csv", [_row(903, "Marigold Featherstonehaugh", "1971-02-03",
                                                                    "YK19 ZZT")]))
    assert third["alerts"]["status"] == "scanned" and third["alerts"]["person_mentions"] == 1
    assert third["alerts"]["alerts"] == 0 and len(_alerts(store)) == 2


def _second_batch(store, people: pd.DataFrame, vehicles: pd.DataFrame | None = None, start_id: int = 300000) -> int:
    """New mentions written straight into the store as one ingest batch (for names the CSV cannot carry)."""
    batch = store.con.execute("INSERT INTO ingest_batches (source_name, file_name, file_sha256, started_at, os_user, "
                              "status) VALUES ('test', 't.csv', 'x', now(), 'me', 'committed') RETURNING batch_id"
                              ).fetchone()[0]
    fill_store(store, people, vehicles, start_id=start_id)
    store.con.execute("UPDATE referrals SET batch_id = $b WHERE referral_id >= $s", {"b": batch, "s": start_id})
    return int(batch)


def _person(forename, surname, dob, full_name=None, lat=53.8, lon=-1.54):
    return {"record_id": f"N-{forename}-{surname}", "forename": forename, "surname": surname, "dob": dob,
            "full_name": full_name, "lat": lat, "lon": lon, "seen_at": datetime(2025, 7, 1)}


def _override(tmp_path, text: str):
    path = tmp_path / "override.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_match_weight_threshold_is_inclusive_and_compared_the_right_way(store, resolved, tmp_path):
    batch = _second_batch(store, pd.DataFrame([_person("Thadeus", "Worthington", KNOWN_DOB)]))
    first = alerts.scan_batch(store, batch)
    weight = float(_alerts(store).match_weight.iloc[0])
    assert first["alerts"] == 1
    store.con.execute("DELETE FROM alerts")
    above = alerts.scan_batch(store, batch, _override(tmp_path, f"alerts: {{min_match_weight: {weight + 0.01}}}"))
    assert above["alerts"] == 0 and _alerts(store).empty
    at = alerts.scan_batch(store, batch, _override(tmp_path, f"alerts: {{min_match_weight: {weight!r}}}"))
    assert at["alerts"] == 1
    store.con.execute("DELETE FROM alerts")
    low = alerts.scan_batch(store, batch, _override(tmp_path, f"alerts: {{min_match_weight: {weight - 0.01}}}"))
    assert low["alerts"] == 1


def test_prolific_threshold_counts_incidents(store, resolved, tmp_path):
    batch = _second_batch(store, pd.DataFrame([_person("Thadeus", "Worthington", KNOWN_DOB)]))
    assert alerts.scan_batch(store, batch, _override(tmp_path, "alerts: {prolific_min_incidents: 12}"))["alerts"] == 0
    assert alerts.scan_batch(store, batch, _override(tmp_path, "alerts: {prolific_min_incidents: 11}"))["alerts"] == 1
    watched = alerts.watched_persons(store, alerts.alert_settings(_override(tmp_path, "alerts: {prolific_min_incidents: 11}")))
    assert set(watched.person_id) == {resolved.known_person}


def test_group_members_and_vehicles_alert_once_groups_exist(store, resolved):
    fore, sur, dob = resolved.other_name
    people = pd.DataFrame([_person(fore, sur, dob, lat=resolved.other_place[0], lon=resolved.other_place[1])])
    vehicles = pd.DataFrame([{"record_id": "NV", "vrm": "YK19 2ZT", "make": None, "colour": None, "lat": 53.8,
                              "lon": -1.54, "seen_at": datetime(2025, 7, 1)}])    # Z written as 2
    batch = _second_batch(store, people, vehicles)
    tables = alerts._tables(store)
    assert {"groups", "group_members", "group_vehicles"} <= tables     # migration 0008
    assert alerts.scan_batch(store, batch)["alerts"] == 0                 # no groups found yet: nobody watched
    store.con.execute("INSERT INTO groups (group_id, status, run_id) VALUES ('GR00001', 'active', 9)")
    store.con.execute("INSERT INTO group_members (group_id, person_id, role, is_broker, is_key_player, run_id) "
                      "VALUES ('GR00001', $p, 'member', false, false, 9)", {"p": resolved.other_person})
    store.con.execute("INSERT INTO group_vehicles (group_id, vehicle_id, run_id) VALUES ('GR00001', $v, 9)",
                      {"v": resolved.plain_vehicle})
    result = alerts.scan_batch(store, batch)
    found = _alerts(store).set_index("entity")
    assert result["alerts"] == 2, _alerts(store)[["entity", "entity_id", "reason", "match_weight"]]
    assert found.loc["person", "entity_id"] == resolved.other_person and found.loc["person", "reason"] == "group_member"
    assert found.loc["person", "group_id"] == "GR00001"
    assert found.loc["vehicle", "entity_id"] == resolved.plain_vehicle
    assert found.loc["vehicle", "reason"] == "group_vehicle" and found.loc["vehicle", "matched_by"] == "confusable"
    # without the groups tables (a store before 0008): no group alerts, no error
    cfg = alerts.alert_settings(load_settings())
    assert resolved.other_person not in set(alerts.watched_persons(store, cfg, tables=set()).person_id)
    assert resolved.other_person in set(alerts.watched_persons(store, cfg).person_id)
    mapping = load_settings().vehicles["confusable"]
    assert alerts.watched_vehicles(store, cfg, mapping, tables=set()).keys() == {"0X73FLP"}   # the flagged plate only
    store.con.execute("UPDATE groups SET status = 'retired'")                          # a retired group: not watched
    assert set(alerts.watched_persons(store, cfg).person_id) == {resolved.known_person}


def test_partial_plate_alerts_on_the_flagged_plate(store, resolved):
    vehicles = pd.DataFrame([{"record_id": "P1", "vrm": "ends 73FLP", "make": None, "colour": None, "lat": 53.8,
                              "lon": -1.54, "seen_at": datetime(2025, 7, 1)},
                             {"record_id": "P2", "vrm": "ends LP", "make": None, "colour": None, "lat": 53.8,
                              "lon": -1.54, "seen_at": datetime(2025, 7, 1)}])   # too short to match anything
    batch = _second_batch(store, pd.DataFrame(columns=["record_id", "forename", "surname", "dob", "lat", "lon",
                                                       "seen_at"]), vehicles)
    assert alerts.scan_batch(store, batch)["alerts"] == 1
    alert = _alerts(store).iloc[0]
    assert alert.entity_id == resolved.cloned_vehicle and alert.matched_by == "partial"
    assert alert.mention_text == "ends 73FLP"


def test_hostile_names_stored_raw_and_escaped_in_the_widget(store, resolved):
    from widgets.ingest_browser import IngestBrowser

    batch = _second_batch(store, pd.DataFrame([_person("Thadeus", "Worthington", KNOWN_DOB, full_name=HOSTILE)]))
    assert alerts.scan_batch(store, batch)["alerts"] == 1
    assert _alerts(store).mention_text.iloc[0] == HOSTILE                       # raw in the store
    browser = IngestBrowser(store)
    html = browser.queue_html.value
    assert "Open alerts (1)" in html and "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and resolved.known_person in html
    assert html.index("Open alerts") < html.index("Referral queue")


def test_empty_batch_and_unknown_batch(store, capsys):
    batch = _second_batch(store, pd.DataFrame(columns=["record_id", "forename", "surname", "dob", "lat", "lon",
                                                       "seen_at"]))
    result = alerts.scan_batch(store, batch)
    assert result["status"] == "scanned" and result["alerts"] == 0 and result["person_mentions"] == 0
    assert _alerts(store).empty
    with pytest.raises(WorkbenchError, match="no ingest batch with id 999"):
        alerts.scan_batch(store, 999)
    path = store.path
    store.close()
    code = main(["alerts", "scan", "--batch", str(batch), "--db", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and "0 new alerts" in out and "Traceback" not in out + err


# -- the ingest hook --------------------------------------------------------------------------------------
def test_no_linkage_run_raises_nothing_and_says_so_once(tmp_path, capsys):
    from tests.ingest_helpers import FIX

    db = tmp_path / "fresh.duckdb"
    first, second = _csv(tmp_path / "a.csv", [_row(1, "Thadeus Worthington", KNOWN_DOB, "0X73 FLP")]), \
        _csv(tmp_path / "b.csv", [_row(2, "Jo Bloggs", "1990-01-01", "AB12 CDE")])
    code = main(["ingest", str(FIX / "store_directory.csv"), str(first), str(second), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count(alerts.NO_RUN_NOTE) == 1 and "Traceback" not in out + err
    with open_store(db, read_only=True) as store:
        assert _alerts(store).empty


def test_a_failing_alert_step_keeps_the_batch_and_is_audited(store, tmp_path, monkeypatch):
    from workbench.ingest import ingest_file

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(alerts, "scan_batch", broken)
    report = ingest_file(store, _csv(tmp_path / "x.csv", [_row(905, "Thadeus Worthington", KNOWN_DOB, "0X73 FLP")]))
    assert report["status"] == "committed" and report["alerts"]["status"] == "failed"
    assert "disk on fire" in report["alerts"]["error"] and "\n" not in report["alerts"]["error"]
    assert store.sql("SELECT count(*) AS n FROM referrals WHERE batch_id = $b", {"b": report["batch_id"]}).n.iloc[0] == 1
    audit = store.sql("SELECT object, details FROM audit_log WHERE action = 'alerts-failed'")
    assert len(audit) == 1 and "disk on fire" in audit.details.iloc[0]
    monkeypatch.undo()
    assert alerts.scan_batch(store, report["batch_id"])["alerts"] == 2        # the rerun the message names


# -- the CLI ----------------------------------------------------------------------------------------------
def test_cli_list_ack_and_errors(store, capsys):
    batch = _second_batch(store, pd.DataFrame([_person("Thadeus", "Worthington", KNOWN_DOB, full_name=HOSTILE)]))
    alerts.scan_batch(store, batch)
    path = store.path
    store.close()
    assert main(["alerts", "list", "--json", "--db", str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)["alerts"]
    assert len(rows) == 1 and rows[0]["mention_text"] == HOSTILE and rows[0]["status"] == "open"
    alert_id = rows[0]["alert_id"]
    for args, needle in ((["ack", "424242", "--why", "x"], "no alert with id 424242"),
                         (["ack", "abc", "--why", "x"], "not an alert id"),
                         (["ack", str(alert_id), "--why", "  "], "needs a reason"),
                         (["list", "--status", "closed"], "--status must be")):
        code = main(["alerts", *args, "--db", str(path)])
        err = capsys.readouterr().err
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and needle in lines[0], err
    assert main(["alerts", "ack", str(alert_id), "--why", "seen by DS Patel", "--db", str(path)]) == 0
    assert f"alert {alert_id} acknowledged" in capsys.readouterr().out
    assert main(["alerts", "ack", str(alert_id), "--why", "again", "--db", str(path)]) == 2
    assert "already acknowledged" in capsys.readouterr().err
    assert main(["alerts", "list", "--db", str(path)]) == 0
    assert "(none)" in capsys.readouterr().out                                  # nothing open any more
    assert main(["alerts", "list", "--status", "acknowledged", "--json", "--db", str(path)]) == 0
    acked = json.loads(capsys.readouterr().out)["alerts"]
    assert acked[0]["ack_why"] == "seen by DS Patel" and acked[0]["acknowledged_by"]
    with open_store(path, read_only=True) as s:
        audit = s.sql("SELECT details FROM audit_log WHERE action = 'alerts-ack'")
    assert len(audit) == 1 and json.loads(audit.details.iloc[0])["alert_id"] == alert_id
    assert "DS Patel" not in audit.details.iloc[0]                    # the reason's hash only: it outlives disposal
    assert json.loads(audit.details.iloc[0])["why_sha256"] == hashlib.sha256(b"seen by DS Patel").hexdigest()


def test_alerts_follow_a_person_merged_into_another_when_listed_and_acknowledged(store, resolved, capsys):
    batch = _second_batch(store, pd.DataFrame([_person("Thadeus", "Worthington", KNOWN_DOB)]))
    alerts.scan_batch(store, batch)
    raised = _alerts(store)
    assert list(raised.entity_id) == [resolved.known_person] and list(raised.entity_status) == ["active"]
    # a later run merged the known person into another, and that one into a third (as run._write_entities
    # records merges: status 'merged', merged_into the surviving id)
    survivor, middle = resolved.other_person, "RP9999990"
    with store.writing():
        store.con.execute("INSERT INTO resolved_persons SELECT * REPLACE ('RP9999990' AS person_id, 'merged' AS status, "
                          "$s AS merged_into) FROM resolved_persons WHERE person_id = $k",
                          {"s": survivor, "k": resolved.known_person})
        store.con.execute("UPDATE resolved_persons SET status = 'merged', merged_into = $m WHERE person_id = $k",
                          {"m": middle, "k": resolved.known_person})
    survivor_name = store.sql("SELECT display_name FROM resolved_persons WHERE person_id = $s",
                              {"s": survivor}).display_name.iloc[0]
    listed = _alerts(store)
    row = listed.iloc[0]
    assert row.entity_id == survivor and row.raised_entity_id == resolved.known_person
    assert row.entity_status == "active" and row.entity_label == survivor_name
    assert alerts.list_alerts(store, "open").entity_id.tolist() == [survivor]
    acked = alerts.acknowledge(store, int(row.alert_id), "same person, merged")
    assert acked["entity_id"] == survivor and acked["raised_entity_id"] == resolved.known_person
    audit = store.sql("SELECT details FROM audit_log WHERE action = 'alerts-ack'")
    assert json.loads(audit.details.iloc[-1])["entity_id"] == survivor
    # a loop in the merge records stops at the last id it knows instead of hanging
    with store.writing():
        store.con.execute("UPDATE resolved_persons SET status = 'merged', merged_into = $k WHERE person_id = $s",
                          {"k": resolved.known_person, "s": survivor})
    assert _alerts(store).entity_id.iloc[0] in {survivor, middle, resolved.known_person}
