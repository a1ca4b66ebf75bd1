"""A small store for the review queue, waterfall and network explorer tests: seeded person records with known
near-misses (a dropped DOB, a nickname, a day/month swap, an initial), a person named with markup and a formula,
vehicles with one plate described two ways and a partial plate that fits two vehicles, two crews of three who
offend together; resolved with a widened
review band (`persons.thresholds.review: -12`) so the queue holds pairs on both sides of a coin toss."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from tests.linkage_helpers import fill_store, person_records

HOSTILE_FORENAME = "<script>alert(1)</script>"
HOSTILE_SURNAME = "=cmd|' /C calc'!A0"
REVIEW_YAML = "persons:\n  thresholds:\n    review: -12\n"


def _people() -> pd.DataFrame:
    def rec(rid, fore, sur, dob, lat, lon, month, truth):
        return {"record_id": rid, "forename": fore, "surname": sur, "dob": dob, "lat": lat, "lon": lon,
                "seen_at": datetime(2025, month, 1, 10, 0), "truth": truth}

    crafted = pd.DataFrame([
        rec("H1", HOSTILE_FORENAME, HOSTILE_SURNAME, "1990-01-01", 53.8, -1.55, 3, "H"),
        rec("C1", "Marcus", "Webb", "1985-02-03", 52.0, -1.0, 5, "C1"),
        rec("C2", "Marcus", "Webb", None, 52.0, -1.0, 6, "C1"),
        rec("C3", "Marc", "Webb", "1985-02-03", 54.5, -2.5, 7, "C1"),
        rec("C4", "Priya", "Hughes", "1979-06-01", 51.5, -0.1, 5, "C4"),
        rec("C5", "Priya", "Hughes", "1979-01-06", 53.5, -2.2, 8, "C4"),
        rec("C6", "P", "Hughes", None, 51.5, -0.1, 9, "C4")])
    return pd.concat([person_records(n_people=40, seed=5), crafted], ignore_index=True)


def _vehicles() -> pd.DataFrame:
    def veh(rid, vrm, make, colour, lat, lon, day, hour=10, minute=0):
        return {"record_id": rid, "vrm": vrm, "make": make, "colour": colour, "lat": lat, "lon": lon,
                "seen_at": datetime(2025, 3, day, hour, minute)}

    return pd.DataFrame([
        veh("V1", "AE71 USM", "Citroen Berlingo", "red", 53.80, -1.55, 1),
        veh("V2", "AE71USM", "Renault Clio", "blue", 51.50, -0.12, 1, 10, 45),
        veh("V3", "KE17 GVW", None, None, 53.79, -1.54, 4),
        veh("V4", "KE17 ABC", "Ford Focus", "black", 53.79, -1.54, 7),
        veh("V5", "KE17", None, None, 53.79, -1.54, 5),
        veh("V6", "KE1", None, None, 53.79, -1.54, 6)])


CREWS = (("T000", "T001", "T002"), ("T003", "T004", "T005"))


def _crews(store, people: pd.DataFrame, ids: dict) -> None:
    """Two crews of three who offend together (the k-th mention of each member at the k-th incident of the
    first), a vehicle seen at the first crew's first incident, and every mention's referral tied to its incident
    (referral_incidents, as the ingest does). fill_store gives mention 1000 + k incident k."""
    con = store.con
    for crew in CREWS:
        lead = people.loc[people.truth == crew[0], "record_id"].tolist()
        for member in crew[1:]:
            for k, rid in enumerate(people.loc[people.truth == member, "record_id"].tolist()[:len(lead)]):
                con.execute("UPDATE person_mentions SET incident_id = $i WHERE mention_id = $m",
                            {"i": ids[lead[k]] - 1000, "m": ids[rid]})
    con.execute("UPDATE vehicle_mentions SET incident_id = $i WHERE mention_id = $m",
                {"i": ids[people.loc[people.truth == CREWS[0][0], "record_id"].iloc[0]] - 1000, "m": ids["V1"]})
    con.execute("INSERT INTO referral_incidents (referral_id, incident_id) SELECT DISTINCT referral_id, incident_id "
                "FROM (SELECT referral_id, incident_id FROM person_mentions UNION ALL "
                "SELECT referral_id, incident_id FROM vehicle_mentions) WHERE incident_id IS NOT NULL")


def review_store(root: Path) -> dict:
    """Build (once under `root`) the store, resolved with the widened review band. Returns db, settings file,
    record id -> mention id and the records."""
    from workbench.linkage import load_settings
    from workbench.linkage import run as lrun
    from workbench.store import open_store

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    db, yaml = root / "review.duckdb", root / "review.yaml"
    people, vehicles = _people(), _vehicles()
    yaml.write_text(REVIEW_YAML)
    with open_store(db) as store:
        ids = fill_store(store, people, vehicles)
        _crews(store, people, ids)
        lrun.run_all(store, load_settings(yaml))
    return {"db": db, "settings": yaml, "ids": ids, "people": people, "vehicles": vehicles}


def copy_of(built: dict, folder: Path) -> Path:
    import shutil

    db = Path(folder) / "copy.duckdb"
    shutil.copy(built["db"], db)
    return db
