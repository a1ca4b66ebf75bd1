"""Fixtures for the linkage tests: seeded synthetic person records with known truth, and a small store filled
with person and vehicle mentions directly (no sample world needed)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

FORENAMES = ["James", "Robert", "Sarah", "Emma", "Lee", "Jordan", "Kelly", "Hassan", "Marius", "Zoe", "Tomasz",
             "Chloe", "Declan", "Patricia", "Ionut", "Ravi", "Aisha", "Gary", "Dean", "Nicola", "Bethany", "Callum",
             "Dmitri", "Eilidh", "Farah", "Gethin", "Harriet", "Imran", "Jasmine", "Kieran", "Leanne", "Mateusz",
             "Niamh", "Oluwaseun", "Priya", "Quentin", "Rhiannon", "Stefan", "Tyrone", "Ursula", "Vikram", "Wiktoria"]
SURNAMES = ["Smith", "Jones", "Scott", "Khan", "Popescu", "Kowalski", "Murphy", "Begum", "Taylor", "Barker",
            "Robinson", "Gallagher", "Okafor", "Nowak", "Fletcher", "Hughes", "Demir", "Patel", "Abernethy",
            "Bellamy", "Cartwright", "Dunleavy", "Ellison", "Fairbairn", "Grimshaw", "Hollingworth", "Ingram",
            "Jablonski", "Kavanagh", "Lindqvist", "Mahmood", "Nakamura", "Oyelaran", "Pemberton", "Quigley",
            "Radcliffe", "Szymanski", "Thistlethwaite", "Underwood", "Vasquez", "Whitlock", "Yardley"]
NICK = {"James": "Jim", "Robert": "Bob", "Patricia": "Trish", "Nicola": "Nicky"}


def _misspell(word: str, rng) -> str:
    i = int(rng.integers(1, len(word) - 1))
    return word[:i] + word[i + 1:]


def person_records(n_people: int = 50, seed: int = 3) -> pd.DataFrame:
    """Records of n_people (2-8 records each) with misspellings, nicknames, day/month swaps, one-digit DOB
    typos, missing DOBs and forename/surname swaps; each person is seen within about a kilometre of their home. Columns: record_id,
    forename, surname, dob, town_lat, town_lon, seen_at, truth."""
    rng = np.random.default_rng(seed)
    rows = []
    used = set()
    for p in range(n_people):
        while True:
            fore, sur = FORENAMES[rng.integers(len(FORENAMES))], SURNAMES[rng.integers(len(SURNAMES))]
            if (fore, sur) not in used:
                used.add((fore, sur))
                break
        dob = date(1970, 1, 1) + timedelta(days=int(rng.integers(0, 12000)))
        home = (50.6 + float(rng.uniform(0, 4.2)), -3.8 + float(rng.uniform(0, 5.2)))   # a home anywhere in England
        for _ in range(int(rng.integers(2, 9))):
            f, s, d = fore, sur, dob.isoformat()
            r = rng.random()
            if r < 0.12:
                s = _misspell(s, rng) if len(s) > 3 else s
            elif r < 0.18 and fore in NICK:
                f = NICK[fore]
            elif r < 0.24 and dob.day <= 12 and dob.day != dob.month:
                d = dob.replace(day=dob.month, month=dob.day).isoformat()
            elif r < 0.28:
                digits = list(d)
                digits[9] = str((int(digits[9]) + 1) % 10)
                candidate = "".join(digits)
                try:
                    date.fromisoformat(candidate)
                    d = candidate
                except ValueError:
                    pass
            elif r < 0.31:
                f, s = s, f
            if rng.random() < 0.2:
                d = None
            seen = datetime(2025, 1, 1) + timedelta(hours=float(rng.uniform(0, 24 * 300)))
            rows.append({"forename": f, "surname": s, "dob": d,
                         "lat": home[0] + float(rng.normal(0, 0.01)), "lon": home[1] + float(rng.normal(0, 0.01)),
                         "seen_at": seen, "truth": f"T{p:03d}"})
    frame = pd.DataFrame(rows)
    frame.insert(0, "record_id", [f"R{i:05d}" for i in range(len(frame))])
    return frame


def pairwise_f1(truth: pd.Series, found: pd.Series) -> tuple[float, float, float]:
    frame = pd.DataFrame({"t": truth.to_numpy(), "p": found.to_numpy()})
    c2 = lambda s: float((s * (s - 1) / 2).sum())  # noqa: E731
    tp, pp, tt = c2(frame.groupby(["t", "p"]).size()), c2(frame.groupby("p").size()), c2(frame.groupby("t").size())
    precision, recall = (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def fill_store(store, people: pd.DataFrame, vehicles: pd.DataFrame | None = None, start_id: int = 1) -> dict:
    """Insert one referral + incident per person record (and per vehicle row) straight into the store.
    people: forename, surname, dob, lat, lon, seen_at (+ optional full_name). Returns record_id -> mention_id."""
    ids = {}
    con = store.con
    now = datetime(2026, 1, 1)
    k = start_id
    for row in people.itertuples():
        con.execute("INSERT INTO referrals (referral_id, source_name, source_type, source_ref, received_at) "
                    "VALUES ($r, 'test', 'other', $ref, $t)", {"r": k, "ref": f"T-{k}", "t": now})
        con.execute("INSERT INTO incidents (incident_id, occurred_at, latitude, longitude, force_code) "
                    "VALUES ($i, $t, $la, $lo, '13')", {"i": k, "t": row.seen_at, "la": row.lat, "lo": row.lon})
        full = getattr(row, "full_name", None)
        full = full if isinstance(full, str) else f"{row.forename} {row.surname}"
        con.execute("INSERT INTO person_mentions (mention_id, referral_id, incident_id, role, full_name, forename, "
                    "surname, dob_raw, dob) VALUES ($m, $r, $r, 'offender', $n, $f, $s, $d, $d::DATE)",
                    {"m": 1000 + k, "r": k, "n": full, "f": row.forename, "s": row.surname,
                     "d": row.dob if isinstance(row.dob, str) else None})
        ids[row.record_id] = 1000 + k
        k += 1
    for row in (vehicles.itertuples() if vehicles is not None else []):
        con.execute("INSERT INTO referrals (referral_id, source_name, source_type, source_ref, received_at) "
                    "VALUES ($r, 'test', 'other', $ref, $t)", {"r": k, "ref": f"T-{k}", "t": now})
        con.execute("INSERT INTO incidents (incident_id, occurred_at, latitude, longitude, force_code) "
                    "VALUES ($i, $t, $la, $lo, '13')", {"i": k, "t": row.seen_at, "la": row.lat, "lo": row.lon})
        con.execute("INSERT INTO vehicle_mentions (mention_id, referral_id, incident_id, vrm_raw, vrm_norm, make, colour) "
                    "VALUES ($m, $r, $r, $v, upper(replace($v, ' ', '')), $mk, $c)",
                    {"m": 1000 + k, "r": k, "v": row.vrm, "mk": row.make if isinstance(row.make, str) else None,
                     "c": row.colour if isinstance(row.colour, str) else None})
        ids[row.record_id] = 1000 + k
        k += 1
    return ids
