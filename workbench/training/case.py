"""Build a training case from a real (sample-world) store: one cross-border group and its context, pseudonymised.

The case is drawn from the source store through the cross-border library (`several_forces`, `get_series`,
`candidates`) and written as pseudonymised extracts (a store directory CSV and Opal national referral forms,
JSON), which are ingested into a new store through `workbench.ingest` exactly as real referrals are; people and
vehicles are then resolved and groups found by `workbench.linkage` on the training data alone. Nothing of the
source store is copied except what the extracts carry:

- every person is "Subject A", "Subject B" ... (one letter per person the source store resolved; the order is
  shuffled by the seed), date of birth moved by a per-person offset, alias dropped;
- every plate is masked to the pattern TR<nn> T<xx> (one plate per resolved vehicle), every crime number
  replaced by TRN/<force>/<serial>/<yy>, every evidence reference by DEMS-TRN<serial>, every referral
  reference by TRN-<serial>;
- store names and addresses are the sample world's invented ones; referrers are organisations, never staff.

Held back for the demonstration (arriving/): the group's last referrals and one that fails Opal's threshold
(no crime number), which the demonstration ingests; one person mention of the group is written with a variant
date of birth so the analyst has a linkage decision to make.
"""
from __future__ import annotations

import csv
import json
import string
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import config
from workbench.errors import WorkbenchError

TRAINING_MARKING = config.TRAINING_MARKING


@dataclass(frozen=True)
class CaseSpec:
    name: str
    description: str
    min_forces: int = 3            # the group touches at least this many forces in the source store
    group_incidents: int = 24      # the group's earliest incidents taken into the case
    arriving: int = 3              # of those, the last ones held back as referrals still to arrive
    background_per_store: int = 2  # other incidents at the group's stores
    background_max: int = 16
    mo_incidents: int = 5          # MO look-alikes from one other force, not tied to the group


CASES = {
    "cross-border": CaseSpec(
        "cross-border", "a group working across three or more forces, the stores it hit, and another force's "
                        "incidents with the same way of working"),
}


def case_spec(name: str) -> CaseSpec:
    if name not in CASES:
        raise WorkbenchError(f"unknown training case {name!r}: one of {', '.join(sorted(CASES))}")
    return CASES[name]


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values if not pd.isna(v)})


def select_case(src, spec: CaseSpec) -> dict:
    """Which group, incidents and stores make the case (ids of the source store)."""
    from workbench import crossborder as xb

    several = xb.several_forces(src)
    several = several[several.forces >= spec.min_forces].sort_values(["incidents", "group_id"])
    if several.empty:
        raise WorkbenchError(f"the source store {src.path} has no group touching {spec.min_forces} or more forces: "
                             "resolve it first (`workbench link run` finds the groups)")
    group = str(several.group_id.iloc[0])
    incidents = xb.get_series(src, group).incidents.sort_values(["occurred_at", "incident_id"])
    take = spec.group_incidents
    while take < len(incidents) and incidents.head(take).force_code.nunique() < 2:
        take += 4
    chosen = incidents.head(take)
    group_ids = [int(i) for i in chosen.incident_id]
    arriving = group_ids[-spec.arriving:]
    stores = sorted({s for s in chosen.store_id.dropna()})
    background = src.query("training/case_background", store_ids=stores, exclude=group_ids,
                           per_store=spec.background_per_store).head(spec.background_max)
    background_ids = [int(i) for i in background.incident_id]
    mo_ids: list[int] = []
    try:
        cands = xb.candidates(src, group).incidents
    except WorkbenchError:
        cands = pd.DataFrame()
    if len(cands):
        group_forces = set(chosen.force_code.dropna())
        other = cands[~cands.force_code.isin(group_forces) & cands.group_id.isna()]
        other = other if len(other) else cands[~cands.force_code.isin(group_forces)]
        if len(other):
            force = other.force_code.value_counts().sort_index().idxmax()
            mo_ids = [int(i) for i in other[other.force_code == force].sort_values("rank").incident_id
                      .head(spec.mo_incidents) if int(i) not in group_ids and int(i) not in background_ids]
    return {"group": group, "group_incidents": group_ids, "arriving": arriving, "background": background_ids,
            "mo": mo_ids}


class Pseudonyms:
    """Deterministic replacements for one build (same source and seed: same replacements)."""

    def __init__(self, seed: int, persons, vehicles):
        rng = np.random.default_rng(seed)
        persons = sorted(persons)
        order = rng.permutation(len(persons))
        self.person = {p: f"Subject {_letters(int(k))}" for p, k in zip(persons, order)}
        self.dob_shift = {p: int(rng.integers(-400, 400)) for p in persons}
        vehicles = sorted(vehicles)
        order = rng.permutation(len(vehicles))
        self.plate = {v: f"TR{10 + int(k) % 90:02d} T{_letters(int(k), upper=True, width=2)}"
                      for v, k in zip(vehicles, order)}
        self.serial_start = int(rng.integers(1000, 9000))

    def crime_number(self, force_code, serial: int, when) -> str:
        year = pd.Timestamp(when).strftime("%y") if when is not None and not pd.isna(when) else "24"
        return f"TRN/{force_code or 'XX'}/{self.serial_start + serial:05d}/{year}"


def _letters(k: int, upper: bool = True, width: int = 0) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ... (width pads with A)."""
    alphabet = string.ascii_uppercase
    out = ""
    k += 1
    while k > 0:
        k, r = divmod(k - 1, 26)
        out = alphabet[r] + out
    return out.rjust(width, "A") if width else out


def _clean(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _grading(ref) -> dict:
    return {"sourceEvaluation": _clean(ref.source_evaluation) or "2",
            "intelligenceAssessment": _clean(ref.intelligence_assessment) or "B",
            "handlingCode": _clean(ref.handling_code) or "P", "conditions": _clean(ref.handling_conditions)}


def gather(src, selection: dict) -> dict:
    """The source rows of the case (DataFrames), read through queries/training/*.sql."""
    all_ids = sorted(set(selection["group_incidents"]) | set(selection["background"]) | set(selection["mo"]))
    incidents = src.query("training/case_incidents", incident_ids=all_ids)
    links = src.query("training/case_referral_incidents", incident_ids=all_ids)
    referral_ids = _ids(links.referral_id)
    return {
        "incidents": incidents, "links": links,
        "referrals": src.query("training/case_referrals", referral_ids=referral_ids),
        "persons": src.query("training/case_person_mentions", referral_ids=referral_ids),
        "vehicles": src.query("training/case_vehicle_mentions", referral_ids=referral_ids),
        "evidence": src.query("training/case_evidence", referral_ids=referral_ids),
        "tactics": src.query("training/case_tactics", referral_ids=referral_ids),
        "stores": src.query("training/case_stores", store_ids=sorted(set(incidents.store_id.dropna()))),
    }


def forms(rows: dict, selection: dict, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Opal referral forms, one per incident: (starting case, arriving later, the store directory rows)."""
    persons, vehicles = rows["persons"], rows["vehicles"]
    person_key = [f"P:{p}" if _clean(p) else f"M:{m}" for p, m in zip(persons.source_person_id, persons.mention_id)]
    persons = persons.assign(person_key=person_key)
    vehicle_key = [f"V:{v}" if _clean(v) else f"N:{n}" for v, n in zip(vehicles.source_vehicle_id, vehicles.vrm_norm)]
    vehicles = vehicles.assign(vehicle_key=vehicle_key)
    names = Pseudonyms(seed, set(persons.person_key), set(vehicles.vehicle_key))
    stores = {s.store_id: s for s in rows["stores"].itertuples()}
    referrals = {int(r.referral_id): r for r in rows["referrals"].itertuples()}
    first_ref = rows["links"].sort_values(["incident_id", "referral_id"]).groupby("incident_id").referral_id.first()
    group_set = set(selection["group_incidents"])
    variant_done = False
    start, arriving = [], []
    for serial, inc in enumerate(rows["incidents"].sort_values(["occurred_at", "incident_id"]).itertuples(), start=1):
        rid = int(first_ref.get(inc.incident_id, -1))
        if rid not in referrals:
            continue
        ref = referrals[rid]
        people = persons[persons.incident_id.eq(inc.incident_id) | (persons.incident_id.isna()
                                                                   & persons.referral_id.eq(rid))]
        people = people[people.referral_id.eq(rid)]
        offenders = []
        for p in people.itertuples():
            dob = _clean(p.dob)
            if dob is not None:
                dob = (pd.Timestamp(dob) + timedelta(days=names.dob_shift[p.person_key])).date()
                if not variant_done and inc.incident_id in group_set and serial > 6:
                    dob = dob.replace(day=min(dob.month, 28), month=min(dob.day, 12))  # day and month swapped
                    variant_done = True
            offenders.append({"name": names.person[p.person_key], "dob": dob.isoformat() if dob else None,
                              "gender": _clean(p.gender), "description": _clean(p.description),
                              "role": _clean(p.role) or "offender"})
        cars = [{"vrm": names.plate[v.vehicle_key], "make": " ".join(x for x in (_clean(v.make), _clean(v.model)) if x)
                 or None, "colour": _clean(v.colour)}
                for v in vehicles[vehicles.referral_id.eq(rid)].drop_duplicates("vehicle_key").itertuples()]
        evidence = [{"kind": e.kind, "reference": f"DEMS-TRN{serial:04d}{n}" if _clean(e.reference) else None}
                    for n, e in enumerate(rows["evidence"][rows["evidence"].referral_id.eq(rid)].itertuples())]
        tactic_rows = rows["tactics"]
        tactics = sorted({t for t in tactic_rows[tactic_rows.incident_id.eq(inc.incident_id)].tactic_code
                          if t and t != "UNKNOWN"})
        shop = stores.get(inc.store_id)
        location = ({"storeName": shop.name, "address": _clean(shop.address), "postcode": _clean(shop.postcode),
                     "latitude": _clean(shop.latitude), "longitude": _clean(shop.longitude)} if shop is not None else
                    {"storeName": None, "address": None, "postcode": _clean(inc.postcode),
                     "latitude": _clean(inc.latitude), "longitude": _clean(inc.longitude)})
        form = {
            "referralReference": f"TRN-{names.serial_start + serial:05d}",
            "receivedAt": pd.Timestamp(ref.received_at).strftime("%Y-%m-%dT%H:%M:%S"),
            "referrer": _clean(ref.referrer) if ref.source_type == "force" else (shop.retailer_name if shop is not None
                                                                                  else "Retailer"),
            "force": inc.force_code,
            "crimeNumber": names.crime_number(inc.force_code, serial, inc.occurred_at),
            "occurredAt": pd.Timestamp(inc.occurred_at).strftime("%Y-%m-%dT%H:%M:%S"),
            "offenceType": _clean(inc.offence_type) or "shoplifting",
            "location": location,
            "valueGbp": float(inc.value_gbp) if _clean(inc.value_gbp) is not None else None,
            "tactics": tactics,
            "violence": "true" if bool(_clean(inc.violence)) else "false",
            "offenders": offenders, "vehicles": cars, "evidence": evidence,
            "narrative": _narrative(inc, len(offenders), bool(cars)),
            "grading": _grading(ref),
        }
        (arriving if int(inc.incident_id) in selection["arriving"] else start).append(form)
    # the referral that fails Opal's threshold: a real-looking referral with no crime number
    if start:
        bad = json.loads(json.dumps(start[-1]))
        bad["referralReference"] = f"TRN-{names.serial_start + 99_000 % 100_000:05d}"
        bad["crimeNumber"] = None
        # received with the arrivals, never before its own incident (that would add a second, confusing reason)
        bad["receivedAt"] = max(bad["receivedAt"], arriving[-1]["receivedAt"]) if arriving else bad["receivedAt"]
        arriving.append(bad)
    directory = [{"retailer_code": s.retailer_id, "retailer_name": s.retailer_name, "sector": _clean(s.sector),
                  "store_ref": s.store_ref, "store_name": s.name, "address": _clean(s.address), "town": _clean(s.town),
                  "postcode": _clean(s.postcode), "latitude": _clean(s.latitude), "longitude": _clean(s.longitude),
                  "police_force": _clean(s.force_code)} for s in rows["stores"].itertuples()]
    return start, arriving, directory


def _narrative(inc, offenders: int, vehicle: bool) -> str:
    """A plain narrative from the incident's facts (the source narrative is not carried over)."""
    who = f"{offenders} offender(s)" if offenders else "Offender(s)"
    value = f" worth about £{float(inc.value_gbp):.2f}" if _clean(inc.value_gbp) is not None else ""
    away = " Left in a waiting vehicle." if vehicle else ""
    return f"{who} took goods{value}.{away}"


def write_extracts(folder: Path, start: list[dict], arriving: list[dict], directory: list[dict]) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"directory": folder / "extracts" / "store_directory.csv",
             "start": folder / "extracts" / "force_referral_forms_case.json",
             "arriving": folder / "arriving" / "force_referral_forms_arriving.json"}
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    with paths["directory"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(directory[0]) if directory else ["retailer_code"])
        writer.writeheader()
        for row in directory:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    paths["start"].write_text(json.dumps(start, indent=1, ensure_ascii=False), encoding="utf-8")
    paths["arriving"].write_text(json.dumps(arriving, indent=1, ensure_ascii=False), encoding="utf-8")
    return paths
