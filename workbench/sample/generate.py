"""Generate the synthetic national sample world: extracts, store directory, manifest and ground truth.

    generate_world(seed=42, scale=1.0, out_dir=Path("out/sample_world"))

Same seed and scale give byte-identical files. Months are generated and written one at a time,
so memory stays bounded at any scale (scale 200 is about 10 million incidents).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from workbench import config
from workbench.errors import WorkbenchError
from workbench.sample import extracts as ex
from workbench.sample import vocab, world
from workbench.sample.formats import (DEFAULT_FORCE_SOURCE, FORCE_SOURCE_OVERRIDES, RETAILER_SOURCE,
                                      SOURCE_FORMATS, SourceFormat)

FORCE_REFERRAL_PROB = {"group": 0.5, "prolific": 0.1}
CRIME_REPORTED_PROB = {"group": 0.95, "prolific": 0.9, "background": 0.78, "near_repeat": 0.78}
ONE_OFF_IDENTIFIED_PROB = 0.2
TARGET_CODES = set(world.TARGET_SECTORS)
HANDLING_CONDITIONS = ("Not to be disclosed to the subject or their representatives",
                       "Share with investigating force only", "Retailer consent needed before court use")


def spec_from_config(seed: int, scale: float) -> world.WorldSpec:
    sample = config.get("sample", {})
    return world.WorldSpec(
        seed=seed, scale=scale, start=date.fromisoformat(str(sample.get("start_date", "2024-10-01"))),
        months=int(sample.get("months", 24)), incidents_per_scale=int(sample.get("incidents_per_scale", 50_000)),
        noise=dict(sample.get("noise", {})), change=bool(sample.get("change", True)),
    )


def generator_fingerprint(spec: world.WorldSpec) -> str:
    """Changes whenever the generator's code, inputs or settings change, so a stale world is rebuilt."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")) + [world.CENTROIDS_FILE]:
        digest.update(path.read_bytes())
    digest.update(json.dumps({**asdict(spec), "start": spec.start.isoformat(), "world_version": world.WORLD_VERSION},
                             sort_keys=True).encode())
    return digest.hexdigest()


def _up_to_date(out_dir: Path, fingerprint: str) -> dict | None:
    """The existing manifest when the world on disk was made by this generator and is intact."""
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != fingerprint:
        return None
    for name, digest in manifest.get("files", {}).items():
        path = out_dir / "extracts" / name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return None
    return manifest


def resource_estimate(scale: float) -> dict:
    """Disk and memory a world of this scale needs, from the measured figures in config `sample.resources`."""
    r = config.get("sample.resources") or {}
    return {"disk_bytes": int((r.get("disk_mb_base", 5) + r.get("disk_mb_per_scale", 12) * scale) * 1e6),
            "memory_bytes": int((r.get("memory_mb_base", 250) + r.get("memory_mb_per_scale", 9) * scale) * 1e6)}


def check_resources(scale: float, out_dir: Path) -> None:
    """Refuse, before writing anything, a scale whose world would not fit the free disk or memory."""
    import psutil

    need = resource_estimate(scale)
    probe = Path(out_dir).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_disk = shutil.disk_usage(probe).free
    free_memory = psutil.virtual_memory().available
    if need["disk_bytes"] > free_disk:
        raise WorkbenchError(f"--scale {scale:g} needs about {need['disk_bytes'] / 1e9:.1f} GB of disk under {out_dir}, "
                             f"but {free_disk / 1e9:.1f} GB is free; choose a smaller --scale or another --out")
    if need["memory_bytes"] > free_memory:
        raise WorkbenchError(f"--scale {scale:g} needs about {need['memory_bytes'] / 1e9:.1f} GB of memory, but "
                             f"{free_memory / 1e9:.1f} GB is available; choose a smaller --scale")


def generate_world(seed: int, scale: float, out_dir: Path,
                   progress: Callable[[str, int, int], None] | None = None, reuse: bool = False) -> dict:
    """Write the world under out_dir; with reuse=True an intact world from the same generator is kept."""
    if scale <= 0:
        raise WorkbenchError(f"--scale must be positive (got {scale})")
    spec = spec_from_config(seed, scale)
    out_dir = Path(out_dir)
    fingerprint = generator_fingerprint(spec)
    if reuse and (existing := _up_to_date(out_dir, fingerprint)):
        return {**existing, "reused": True}
    check_resources(scale, out_dir)
    extracts_dir, truth_dir = out_dir / "extracts", out_dir / "ground_truth"
    for d in (extracts_dir, truth_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    generator = _WorldGenerator(spec, extracts_dir, truth_dir, progress or (lambda *a: None))
    manifest = generator.run()
    manifest["fingerprint"] = fingerprint
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


class _WorldGenerator:
    def __init__(self, spec: world.WorldSpec, extracts_dir: Path, truth_dir: Path, progress):
        self.spec = spec
        self.extracts_dir = extracts_dir
        self.truth_dir = truth_dir
        self.progress = progress
        self.rates = spec.noise
        self.namer = ex.ForceNamer()
        self.noise_rng = world.streams(spec.seed, "noise")

    # ------------------------------------------------------------------ the whole run
    def run(self) -> dict:
        spec = self.spec
        self.progress("places and stores", 0, spec.months)
        places = world.load_places()
        self.towns = world.towns(places)
        self.stores = world.build_stores(spec, places)
        neighbours = world.store_neighbours(self.stores, world.NEAR_REPEAT_RADIUS_KM)
        pull, is_open = world.store_dynamics(spec, self.stores)
        groups, members, vehicles, next_person = world.build_groups(spec, self.towns, 1)
        prolific = world.build_prolific(spec, self.stores, next_person)
        self.next_person = next_person + len(prolific)
        known = pd.concat([members, prolific.drop(columns=["haunts", "monthly_rate", "target"])], ignore_index=True)
        self.people = {}                   # group members and prolific offenders: the whole run
        self.month_people = {}             # one-off offenders: only the month they appear in
        self._remember_people(known, self.people)
        self.vehicles = {v.vehicle_id: v for v in vehicles.itertuples(index=False)}
        self.innocent_vehicles = sorted(v for v in self.vehicles if v.startswith("VINNOCENT"))
        group_frame = world.group_incidents(spec, groups, members, vehicles, self.stores, self.towns, is_open)
        most = world.most_affected_forces(group_frame, self.stores) if len(group_frame) else {}
        groups["most_affected_force"] = groups.group_id.map(most)
        groups["home_force_is_most_affected"] = groups.home_force_code == groups.most_affected_force
        organised = pd.concat([group_frame, world.prolific_incidents(spec, prolific, is_open)], ignore_index=True)
        organised["month"] = organised["occurred_at"].map(lambda t: (t.year - spec.start.year) * 12
                                                          + t.month - spec.start.month)
        n_background = max(0, spec.target_incidents - len(organised))
        per_month = world.streams(spec.seed, "months").multinomial(n_background, world.month_weights(spec))

        self.truth = ex.TruthWriter(self.truth_dir)
        self.truth.append("persons", known)
        self.truth_buffer = {"referral_rows": [], "person_mentions": [], "vehicle_mentions": []}
        self.writers = {f.name: ex.ExtractWriter(f, self.extracts_dir) for f in SOURCE_FORMATS}
        self.referral_seq = {f.name: 0 for f in SOURCE_FORMATS}
        self._write_static(groups, vehicles)
        self.next_incident = 1
        self.mentioned = {"persons": set(), "vehicles": set()}
        for m in range(spec.months):
            self.progress("months", m, spec.months)
            month_frame = pd.concat([
                world.background_month(spec, m, int(per_month[m]), self.stores, neighbours, pull[m],
                                      is_open[min(m + 1, spec.months - 1)]),
                organised.loc[organised.month == m].drop(columns="month"),
            ], ignore_index=True)
            self._emit_month(m, month_frame)
            self.month_people.clear()
            for table, rows in self.truth_buffer.items():
                self.truth.append(table, rows)
                rows.clear()
        self.progress("months", spec.months, spec.months)
        for writer in self.writers.values():
            writer.close()
        self.truth.close()
        return self._manifest(groups)

    def _write_static(self, groups: pd.DataFrame, vehicles: pd.DataFrame) -> None:
        directory = self.stores.assign(police_force=self.stores.force_code.map(self.namer.names))[
            ["retailer_code", "retailer_name", "sector", "store_ref", "store_name", "address", "town", "postcode",
             "latitude", "longitude", "police_force"]]
        directory.to_csv(self.extracts_dir / "store_directory.csv", index=False, lineterminator="\n")
        groups.to_parquet(self.truth_dir / "groups.parquet", index=False)
        vehicles.to_parquet(self.truth_dir / "vehicles.parquet", index=False)
        self.stores.drop(columns=["goods"]).to_parquet(self.truth_dir / "stores.parquet", index=False)

    # ------------------------------------------------------------------ one month
    def _emit_month(self, month: int, frame: pd.DataFrame) -> None:
        rng = world.streams(self.spec.seed, f"month-detail-{month}")
        self._month = month
        frame = frame.sort_values(["occurred_at", "store_idx"], kind="stable").reset_index(drop=True)
        n = len(frame)
        frame["world_incident_id"] = np.arange(self.next_incident, self.next_incident + n)
        self.next_incident += n
        stores = self.stores.iloc[frame.store_idx.values].reset_index(drop=True)
        frame["store_id"] = stores.store_id.values
        frame["force_code"] = stores.force_code.values
        kind = frame["kind"].astype(str).values
        organised = np.isin(kind, ["group", "prolific"])
        frame = self._fill_background_detail(frame, stores, rng, organised)
        frame["value_gbp"] = np.round(stores.mean_loss.values * frame.value_factor.values, 2)
        cctv_only = frame.cctv_only.values.astype(bool)
        frame["detained"] = (rng.random(n) < np.where(kind == "group", 0.02, 0.06)) & ~cctv_only
        frame["offenders_count"] = [max(1, len(o)) + int(extra) for o, extra in
                                    zip(frame.offenders, rng.random(n) < np.where(organised, 0.1, 0.25))]
        crew = np.array([bool(set(t) & set(world.CREW_METHODS)) for t in frame.tactics]) & ~organised
        frame.loc[crew, "offenders_count"] = np.maximum(frame.offenders_count[crew],
                                                        2 + self._tactic_rng.integers(0, 3, size=int(crew.sum())))
        reported = rng.random(n) < np.array([CRIME_REPORTED_PROB[k] for k in kind])
        violence = frame.violence.values.astype(bool)
        force_refers = rng.random(n) < np.where(
            kind == "group", FORCE_REFERRAL_PROB["group"],
            np.where(kind == "prolific", FORCE_REFERRAL_PROB["prolific"], np.where(violence, 0.1, 0.003)))
        reported |= force_refers | violence
        frame["crime_number"] = [ex.crime_number(f, i, t) if r else "" for f, i, t, r in
                                 zip(frame.force_code, frame.world_incident_id, frame.occurred_at, reported)]
        frame["retailer_reported"] = rng.random(n) < np.where(organised, 0.93, stores.report_rate.values)
        frame["force_source"] = np.where(force_refers, [self._force_source(f).name for f in frame.force_code], None)
        frame["tactics"] = [t + (["VIOL"] if v and rng.random() < 0.6 else ["THREAT"] if v else [])
                            for t, v in zip(frame.tactics, violence)]
        self.truth.append("incidents", pd.DataFrame({
            "world_incident_id": frame.world_incident_id, "store_id": frame.store_id,
            "occurred_at": frame.occurred_at, "kind": frame.kind, "group_id": frame.group_id,
            "run_id": frame.run_id, "run_order": frame.run_order, "run_stop": frame.run_stop,
            "cctv_only": frame.cctv_only.astype(bool), "force_code": frame.force_code,
            "violence": frame.violence.astype(bool), "offenders_count": frame.offenders_count.astype(int),
            "tactics": [";".join(t) for t in frame.tactics], "value_gbp": frame.value_gbp,
            "crime_number": frame.crime_number, "offender_ids": [";".join(o) for o in frame.offenders],
            "vehicle_id": frame.vehicle_id, "retailer_reported": frame.retailer_reported,
            "force_source": frame.force_source,
        }))
        frame = pd.concat([frame, stores.drop(columns=["store_id", "force_code"])], axis=1)
        for fmt in SOURCE_FORMATS:
            if fmt.source_type == "retailer":
                mask = frame.retailer_reported.values & (frame.retailer_code.values == fmt.owner)
            else:
                mask = frame.force_source.values == fmt.name
            if mask.any():
                self._emit_source(fmt, frame.loc[mask].reset_index(drop=True), rng)

    def _fill_background_detail(self, frame, stores, rng, organised) -> pd.DataFrame:
        n = len(frame)
        for column, default in (("group_id", None), ("run_id", None), ("vehicle_id", None), ("run_stop", None)):
            if column not in frame:
                frame[column] = default
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), None)
        frame["run_order"] = pd.array(frame["run_order"] if "run_order" in frame else [None] * n, dtype="Int64")
        frame["cctv_only"] = frame["cctv_only"].fillna(False).astype(bool) if "cctv_only" in frame else False
        # background methods (world.BACKGROUND_METHODS), from their own stream
        self._tactic_rng = world.streams(self.spec.seed, f"background-tactics-{self._month}")
        codes, shares = list(world.BACKGROUND_METHODS), np.array(list(world.BACKGROUND_METHODS.values()))
        methods = np.array(codes, dtype=object)[self._tactic_rng.choice(len(codes), size=n, p=shares / shares.sum())]
        offenders, tactics = [], []
        new_people = []
        for i in range(n):
            if organised[i]:
                offenders.append(list(frame.at[i, "offenders"]))
                tactics.append(list(frame.at[i, "tactics"]))
                continue
            goods = stores.goods.iat[i]
            tactics.append([methods[i], goods[int(rng.integers(len(goods)))]])
            if rng.random() < ONE_OFF_IDENTIFIED_PROB:
                new_people.append(i)
                offenders.append([f"P{self.next_person + len(new_people) - 1:07d}"])
            else:
                offenders.append([])
        if new_people:
            people = world.make_people(rng, len(new_people), "one_off", 14, 70, self.spec.start,
                                       self.next_person)
            self.next_person += len(new_people)
            self.truth.append("persons", people)
            self._remember_people(people, self.month_people)
        frame["offenders"] = offenders
        frame["tactics"] = tactics
        # now and then an innocent car whose plate a group has cloned is seen near a background incident
        innocent = self.innocent_vehicles
        seen = (~organised) & (rng.random(n) < 0.002)
        frame.loc[seen, "vehicle_id"] = [innocent[int(rng.integers(len(innocent)))] for _ in range(int(seen.sum()))]
        return frame

    @staticmethod
    def _remember_people(people: pd.DataFrame, into: dict) -> None:
        for p in people.itertuples(index=False):
            into[p.person_id] = p

    def _force_source(self, force_code: str) -> SourceFormat:
        return FORCE_SOURCE_OVERRIDES.get(force_code, DEFAULT_FORCE_SOURCE)

    # ------------------------------------------------------------------ one source's rows for a month
    def _emit_source(self, fmt: SourceFormat, rows: pd.DataFrame, rng) -> None:
        records = [self._record(fmt, r, rng) for r in rows.itertuples(index=False)]
        resubmit = [r for r in records if fmt.source_type == "retailer"
                    and self.noise_rng.random() < self.rates.get("resubmitted", 0)]
        for original in resubmit:
            corrected = dict(original)
            corrected["received_at"] = original["received_at"] + timedelta(days=int(rng.integers(3, 11)))
            corrected["value_gbp"] = round(original["value_gbp"] * 1.1 + 5, 2)
            corrected["_resubmission"] = True
            records.append(corrected)
        table, located_rows = self._shape(fmt, records)
        located = self.writers[fmt.name].write(table)
        self._record_truth(fmt, records, located_rows, located)

    def _record(self, fmt: SourceFormat, r, rng) -> dict:
        rates = self.rates
        noise = []
        self.referral_seq[fmt.name] += 1
        seq = self.referral_seq[fmt.name]
        prefix = fmt.owner if fmt.source_type == "retailer" else f"OPAL-{r.force_code}"
        crime = r.crime_number
        if crime and fmt.source_type == "retailer" and self.noise_rng.random() < rates.get("crime_number_omitted", 0):
            crime, noise = "", noise + ["crime_number_omitted"]
        elif crime:
            crime, flags = ex.written_crime_number(crime, self.noise_rng, rates)
            noise += flags
        force_code = r.force_code
        if fmt.source_type == "retailer" and self.noise_rng.random() < rates.get("force_misstated", 0):
            force_code, noise = self.namer.neighbour(r.force_code, self.noise_rng), noise + ["force_misstated"]
        postcode = r.postcode
        if fmt.source_type == "force" and self.noise_rng.random() < rates.get("postcode_malformed", 0):
            postcode, noise = ex.malformed_postcode(postcode, self.noise_rng), noise + ["postcode_malformed"]
        delay_days = rng.uniform(1, 20) if fmt.source_type == "retailer" else rng.uniform(3, 40)
        received = min(r.occurred_at.to_pydatetime() + timedelta(days=float(delay_days)),
                       self.spec.end + timedelta(days=30))
        name_style = ex.NAME_STYLE.get(fmt.name, "first_last")
        offenders = []
        for position, person_id in enumerate([] if r.cctv_only else r.offenders):
            person = self.people.get(person_id) or self.month_people[person_id]
            name, name_flags = ex.written_name(person.forename, person.surname, name_style, self.noise_rng, rates)
            dob, dob_flags = ex.written_dob(person.dob, fmt.date_format, self.noise_rng, rates)
            offenders.append({"person_id": person_id, "position": position, "name": name, "dob": dob,
                              "gender": person.gender, "true_forename": person.forename,
                              "true_surname": person.surname, "true_dob": person.dob,
                              "description": ex.DESCRIPTIONS[int(rng.integers(len(ex.DESCRIPTIONS)))],
                              "role": "suspect" if rng.random() < 0.2 else "offender",
                              "noise": name_flags + dob_flags})
        vehicle = None
        if isinstance(r.vehicle_id, str) and not r.cctv_only and (r.kind != "group" or rng.random() < 0.6):
            v = self.vehicles[r.vehicle_id]
            vrm, vrm_flags = ex.written_vrm(v.vrm, self.noise_rng, rates)
            vehicle = {"vehicle_id": r.vehicle_id, "vrm": vrm, "true_vrm": v.vrm, "make": v.make,
                       "colour": v.colour, "noise": vrm_flags}
        source_eval = ("1", "2", "3")[int(rng.choice(3, p=[0.3, 0.62, 0.08]))]
        assessment = "ABCDE"[int(rng.choice(5, p=[0.15, 0.5, 0.28, 0.06, 0.01]))]
        handling = "C" if rng.random() < 0.15 else "P"
        legacy = fmt.name in ("force_met", "retailer_harvest") and rng.random() < 0.02
        return {
            "world_incident_id": r.world_incident_id, "referral_ref": f"{prefix}-{seq:07d}",
            "incident_ref": f"{fmt.owner if fmt.owner != '*' else 'F'}-INC-{r.world_incident_id:08d}",
            "received_at": received, "referrer": f"{self.namer.names[r.force_code]} Police" if fmt.source_type == "force" else r.retailer_name,
            "store_ref": r.store_ref, "store_name": r.store_name, "address": r.address, "postcode": postcode,
            "latitude": r.latitude, "longitude": r.longitude,
            "force": self.namer.write(force_code, ex.FORCE_STYLE.get(fmt.name, "name"), self.noise_rng),
            "crime_number": crime, "occurred_at": r.occurred_at.to_pydatetime(),
            "offence_type": "Robbery" if r.violence and rng.random() < 0.3 else "Shoplifting",
            "value_gbp": float(r.value_gbp), "offenders_count": int(r.offenders_count),
            "violence": bool(r.violence), "detained": bool(r.detained), "tactic_codes": list(r.tactics),
            "tactics_text": [ex.TACTIC_TEXT[c][int(rng.integers(len(ex.TACTIC_TEXT[c])))] for c in r.tactics],
            "offenders": offenders, "vehicle": vehicle, "cctv": bool(rng.random() < 0.85) or bool(r.cctv_only),
            "dems_ref": f"DEMS-{int(rng.integers(16 ** 8)):08X}" if rng.random() < 0.5 else "",
            "still_ref": f"IMG-{int(rng.integers(10 ** 6)):06d}" if rng.random() < 0.3 else "",
            "grading": (f"{'ABCDE'[int(source_eval) - 1]}{int(rng.integers(1, 6))} {int(rng.integers(1, 6))}"
                        if legacy else f"{source_eval}{assessment} {handling}"),
            "source_evaluation": source_eval, "intelligence_assessment": assessment, "handling_code": handling,
            "handling_conditions": HANDLING_CONDITIONS[int(rng.integers(3))] if handling == "C" else "",
            "narrative": self._narrative(r, rng), "noise": noise + (["legacy_grading"] if legacy else []),
            "_resubmission": False,
        }

    def _narrative(self, r, rng) -> str:
        count = {1: "One", 2: "Two", 3: "Three", 4: "Four"}.get(int(r.offenders_count), "Several")
        goods = next((ex.TACTIC_TEXT[c][0] for c in reversed(r.tactics) if c in TARGET_CODES), "goods")
        verb = ("entered and", "came in together and", "walked in,")[int(rng.integers(3))]
        text = f"{count} offender(s) {verb} took {goods} worth about £{r.value_gbp:,.2f}."
        if r.violence:
            text += ' Staff member was pushed when challenging them, said "get out of the way".'
        if isinstance(r.vehicle_id, str):
            text += " Left in a waiting vehicle."
        if rng.random() < 0.05:
            text += "\nSecond visit noted; see previous report."
        return text

    # ------------------------------------------------------------------ formatting to the source's layout
    def _shape(self, fmt: SourceFormat, records: list[dict]) -> tuple[pd.DataFrame, list[tuple[int, int | None]]]:
        """Rows in the source's layout, and for each row (record index, offender position or None)."""
        rows, located = [], []
        for index, rec in enumerate(records):
            if fmt.shape == "offender":
                for offender in rec["offenders"] or [None]:
                    rows.append(self._row(fmt, rec, offender))
                    located.append((index, offender["position"] if offender else None))
            else:
                rows.append(self._row(fmt, rec, None))
                located.append((index, None))
        return pd.DataFrame(rows, columns=[h for h, _ in fmt.columns]), located

    def _row(self, fmt: SourceFormat, rec: dict, offender: dict | None) -> dict:
        out = {}
        for header, fld in fmt.columns:
            out[header] = self._value(fmt, fld, rec, offender)
        return out

    def _value(self, fmt: SourceFormat, fld: str, rec: dict, offender: dict | None):
        yes, no = fmt.bool_values
        xlsx = fmt.file_type == "xlsx"
        v = rec.get(fld)
        if fld in ("occurred_at", "received_at"):
            return v if xlsx else v.strftime(fmt.datetime_format)
        if fld == "occurred_date":
            return rec["occurred_at"].strftime(fmt.date_format)
        if fld == "occurred_time":
            return rec["occurred_at"].strftime(fmt.time_format)
        if fld in ("violence", "detained", "cctv"):
            return yes if v else no
        if fld == "value_gbp":
            return f"£{v:.2f}" if fmt.name == "retailer_valueden" else v
        if fld == "tactics":
            if fmt.tactics_mode == "codes":
                return rec["tactic_codes"] if fmt.file_type in ("json", "jsonl") else fmt.multi_sep.join(rec["tactic_codes"])
            return ", ".join(rec["tactics_text"])
        if fld == "offender_names":
            return fmt.multi_sep.join(o["name"] for o in rec["offenders"])
        if fld == "offender_dobs":
            return fmt.multi_sep.join(o["dob"] for o in rec["offenders"]) if rec["offenders"] else ""
        if fld == "offender_genders":
            return fmt.multi_sep.join(o["gender"] for o in rec["offenders"])
        if fld.startswith("offender_"):
            key = fld[len("offender_"):]
            return "" if offender is None else offender[key]
        if fld == "offenders":
            return [{"name": o["name"], "dob": o["dob"] or None, "gender": o["gender"],
                     "description": o["description"], "role": o["role"]} for o in rec["offenders"]]
        if fld == "vrm":
            return rec["vehicle"]["vrm"] if rec["vehicle"] else ""
        if fld == "vehicle_make":
            return rec["vehicle"]["make"] if rec["vehicle"] else ""
        if fld == "vehicle_colour":
            return rec["vehicle"]["colour"] if rec["vehicle"] else ""
        if fld == "vehicles":
            veh = rec["vehicle"]
            return [{"vrm": veh["vrm"], "make": veh["make"], "colour": veh["colour"]}] if veh else []
        if fld == "location":
            return {"storeName": rec["store_name"], "address": rec["address"], "postcode": rec["postcode"],
                    "latitude": rec["latitude"], "longitude": rec["longitude"]}
        if fld == "evidence":
            items = [{"kind": "CCTV", "reference": None}] if rec["cctv"] else []
            if rec["dems_ref"]:
                items.append({"kind": "DEMS", "reference": rec["dems_ref"]})
            if rec["still_ref"]:
                items.append({"kind": "STILL", "reference": rec["still_ref"]})
            return items
        if fld == "grading_object":
            return {"sourceEvaluation": rec["source_evaluation"], "intelligenceAssessment": rec["intelligence_assessment"],
                    "handlingCode": rec["handling_code"], "conditions": rec["handling_conditions"] or None}
        if fld in ("received_at",):
            return v
        return v if v is not None else ""

    # ------------------------------------------------------------------ ground truth of what was written
    def _record_truth(self, fmt, records, located_rows, located) -> None:
        referral_rows, person_rows, vehicle_rows = [], [], []
        seen_vehicle_rows = set()
        for (index, position), (file_name, row_number) in zip(located_rows, located):
            rec = records[index]
            base = {"source_name": fmt.name, "file_name": file_name, "row_number": row_number,
                    "world_incident_id": int(rec["world_incident_id"])}
            referral_rows.append({**base, "referral_ref": rec["referral_ref"], "resubmission": rec["_resubmission"],
                                  "noise": ";".join(rec["noise"])})
            mentions = rec["offenders"] if position is None else [o for o in rec["offenders"]
                                                                   if o["position"] == position]
            for o in mentions:
                person_rows.append({**base, "position": o["position"], "person_id": o["person_id"],
                                    "written_name": o["name"], "written_dob": o["dob"],
                                    "true_forename": o["true_forename"], "true_surname": o["true_surname"],
                                    "true_dob": o["true_dob"], "noise": ";".join(o["noise"])})
            veh = rec["vehicle"]
            if veh and (index, file_name) not in seen_vehicle_rows:
                seen_vehicle_rows.add((index, file_name))
                vehicle_rows.append({**base, "vehicle_id": veh["vehicle_id"], "written_vrm": veh["vrm"],
                                     "true_vrm": veh["true_vrm"], "noise": ";".join(veh["noise"])})
        self.truth_buffer["referral_rows"] += referral_rows
        self.truth_buffer["person_mentions"] += person_rows
        self.truth_buffer["vehicle_mentions"] += vehicle_rows
        self.mentioned["persons"].update(r["person_id"] for r in person_rows)
        self.mentioned["vehicles"].update(r["vehicle_id"] for r in vehicle_rows)

    # ------------------------------------------------------------------ manifest
    def _manifest(self, groups: pd.DataFrame) -> dict:
        sources = []
        for fmt in SOURCE_FORMATS:
            writer = self.writers[fmt.name]
            sources.append({"name": fmt.name, "type": fmt.source_type, "owner": fmt.owner, "files": writer.files,
                            "rows": writer.rows_written, "format": fmt.file_type, "shape": fmt.shape})
        files = sorted(p for p in self.extracts_dir.iterdir())
        return {
            "generator": "workbench.sample", "world_version": world.WORLD_VERSION, "seed": self.spec.seed,
            "scale": self.spec.scale,
            "period": {"start": self.spec.start.isoformat(), "end": self.spec.end.isoformat()},
            "incidents": self.next_incident - 1, "stores": len(self.stores),
            "retailers": len(vocab.CHAINS), "forces_with_stores": int(self.stores.force_code.nunique()),
            "groups": len(groups), "persons": self.truth.counts.get("persons", 0),
            # what linkage should find (headline counts, so `workbench summary --world` can compare without
            # reading ground truth): distinct people and vehicles behind the mentions written, cloned plates
            # with both cars seen, organised groups
            "to_find": {"persons": len(self.mentioned["persons"]), "vehicles": len(self.mentioned["vehicles"]),
                        "cloned_plates": sum(1 for v in self.mentioned["vehicles"]      # both cars seen
                                             if (twin := getattr(self.vehicles.get(v), "cloned_from", None))
                                             and twin in self.mentioned["vehicles"]),
                        "groups": len(groups)},
            "noise_rates": self.rates, "sources": sources,
            "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
            "ground_truth": "ground_truth/ (tests and benchmarks only; never read by the workbench)",
        }
