"""The synthetic world: stores, people, groups and their offending, as ground-truth tables.

Everything is drawn from numpy Generators seeded from one SeedSequence, one child stream per
component (and one per month for background crime), so a seed always gives the same world and
months can be generated one at a time in bounded memory.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from workbench.config import data_dir
from workbench.sample import vocab

CENTROIDS_FILE = data_dir("sample_data") / "geography" / "lsoa_centroids.csv.gz"

# Relative weights of when shoplifting happens (background profile).
MONTH_FACTOR = {1: 0.92, 2: 0.90, 3: 0.97, 4: 0.97, 5: 1.0, 6: 0.98, 7: 1.0, 8: 1.0, 9: 0.98, 10: 1.02,
                11: 1.12, 12: 1.40}
WEEKDAY_FACTOR = np.array([0.95, 0.95, 1.0, 1.05, 1.12, 1.22, 0.72])          # Mon..Sun
HOUR_FACTOR = np.array([0, 0, 0, 0, 0, 0, 0, 0.2, 0.5, 0.8, 1.0, 1.1, 1.3, 1.3, 1.35, 1.5, 1.6, 1.55,
                        1.3, 1.0, 0.7, 0.45, 0.15, 0])
ANNUAL_GROWTH = 0.18          # recorded shoplifting grew ~20% a year 2023-2025
NEAR_REPEAT_PROB = 0.22       # chance an incident triggers a follow-up nearby
NEAR_REPEAT_MEAN_DAYS = 3.0
NEAR_REPEAT_RADIUS_KM = 1.0
# Change over time (WorldSpec.change): stores open and close, each store's pull drifts, and some towns heat up
# or cool down, so a hot spot map built from memory alone goes stale (docs/sample-world.md, "Change").
STORE_OPEN_SHARE = 0.06       # stores that open during the window (closed before)
STORE_CLOSE_SHARE = 0.06      # stores that close during the window (closed after)
DRIFT_RHO = 0.85              # month-to-month persistence of a store's log pull
DRIFT_SD = 0.18               # monthly innovation of a store's log pull (stationary sd ~0.34)
SHIFTING_TOWNS = 6            # towns that heat up (x3) and as many that cool down (x0.35) over RAMP_MONTHS
RAMP_MONTHS = 8

# World version 2 (docs/sample-world.md, "World versions"): realism for cross-border work (issue 12 item 8). A seed
# gives the same files within a version; version 2 files differ from version 1's for every seed.
WORLD_VERSION = 2
CCTV_ONLY_SHARE = 0.3         # group incidents referred with no offender name or plate: only CCTV of the crew
# How background (and near-repeat) thieves work: mostly concealment, but every tactic organised groups use also
# appears among ordinary shoplifting (self-checkout abuse and tag removal most; gang rushes and push-outs rarely).
BACKGROUND_METHODS = {"CONCEAL": 0.60, "SCO": 0.10, "TAGREM": 0.06, "DIST": 0.05, "FOIL": 0.05, "SWEEP": 0.05,
                      "REFUND": 0.03, "RUSH": 0.03, "PUSHOUT": 0.03}
CREW_METHODS = ("RUSH",)      # a background gang rush has 2-4 offenders
# Pairs of groups with overlapping signatures: the second copies the first's methods and goods (so sectors and
# chains), and both live in the town their corridors share, so they work the same area.
OVERLAP_PAIRS = (("M1", "M18-M180", "Sheffield"), ("M4", "M5", "Bristol"))
AWAY_GROUPS = 3               # groups living at one end of their corridor but offending mostly in other forces
AWAY_HOME_STOP_OUT = 0.5      # chance an away group's run starts at a store near home on the way out
AWAY_HOME_STOP_BACK = 0.35    # ... and ends at one near home on the way back
DRIVE_KMH = (60.0, 85.0)      # an away group's average road speed between towns
LAST_HOUR = 21.5              # a run stops when its next town would be reached after 21:30 (and it has 4+ stores)


@dataclass
class WorldSpec:
    seed: int
    scale: float = 1.0
    start: date = date(2024, 10, 1)
    months: int = 24
    incidents_per_scale: int = 50_000
    n_groups: int = 12
    noise: dict = field(default_factory=dict)
    change: bool = True           # stores open/close and hot spots move; False gives a static world

    @property
    def target_incidents(self) -> int:
        return int(round(self.incidents_per_scale * self.scale))

    def month_starts(self) -> list[date]:
        out, y, m = [], self.start.year, self.start.month
        for _ in range(self.months):
            out.append(date(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def end(self) -> datetime:
        last = self.month_starts()[-1]
        return datetime(last.year, last.month, calendar.monthrange(last.year, last.month)[1], 23, 59)


def streams(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per named component, stable whatever else changes."""
    key = [seed] + [ord(c) for c in name]
    return np.random.default_rng(np.random.SeedSequence(key))


# ---------------------------------------------------------------- places and stores
def load_places() -> pd.DataFrame:
    return pd.read_csv(CENTROIDS_FILE, dtype={"force_code": str}).sort_values("lsoa_code").reset_index(drop=True)


def towns(places: pd.DataFrame) -> pd.DataFrame:
    grouped = places.groupby("town")
    frame = pd.DataFrame({
        "latitude": grouped["latitude"].mean(), "longitude": grouped["longitude"].mean(),
        "force_code": grouped["force_code"].agg(lambda s: s.value_counts().index[0]),
        "lsoas": grouped.size(),
    })
    return frame


def to_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular km about 52.5N: good enough for neighbour searches within Great Britain."""
    return np.column_stack([np.asarray(lon) * 111.32 * np.cos(np.radians(52.5)), np.asarray(lat) * 110.57])


def _postcode(rng: np.random.Generator, force_code: str) -> str:
    areas = vocab.POSTCODE_AREAS[force_code]
    area = areas[rng.integers(len(areas))]
    district = rng.integers(1, 30 if len(area) == 2 else 20)
    inward = f"{rng.integers(1, 10)}{vocab.POSTCODE_INWARD_LETTERS[rng.integers(20)]}{vocab.POSTCODE_INWARD_LETTERS[rng.integers(20)]}"
    return f"{area}{district} {inward}"


def build_stores(spec: WorldSpec, places: pd.DataFrame) -> pd.DataFrame:
    rng = streams(spec.seed, "stores")
    town_factor = {t: rng.gamma(3.0, 1 / 3.0) for t in sorted(places["town"].unique())}
    rows = []
    for code, name, sector, n_stores, report_rate, mean_loss, goods in vocab.CHAINS:
        picks = _pick_lsoas(rng, places, n_stores, national=sector in ("supermarket", "pharmacy", "convenience"))
        used_names: set[str] = set()
        for i, idx in enumerate(sorted(picks)):
            place = places.iloc[idx]
            store_name = f"{name} {place.town}"
            suffixes = iter(vocab.STORE_SUFFIXES)
            while store_name in used_names:
                store_name = f"{name} {place.town} {next(suffixes, str(i))}"
            used_names.add(store_name)
            jitter = rng.normal(0, 0.0006, size=2)  # ~60 m
            rows.append({
                "store_id": f"{code}-{_store_ref(code, i)}", "retailer_code": code, "retailer_name": name,
                "sector": sector, "store_ref": _store_ref(code, i), "store_name": store_name,
                "address": f"{rng.integers(1, 240)} {vocab.STREETS[rng.integers(len(vocab.STREETS))]}, {place.town}",
                "town": place.town, "postcode": _postcode(rng, place.force_code),
                "latitude": round(float(place.latitude + jitter[0]), 6),
                "longitude": round(float(place.longitude + jitter[1]), 6),
                "force_code": place.force_code, "lsoa_code": place.lsoa_code,
                "attractiveness": float(rng.gamma(0.7, 1.0) * town_factor[place.town]),
                "report_rate": report_rate, "mean_loss": mean_loss, "goods": goods,
            })
    return pd.DataFrame(rows)


def _pick_lsoas(rng: np.random.Generator, places: pd.DataFrame, n: int, national: bool) -> np.ndarray:
    """LSOAs for a chain's stores: population-weighted (LSOAs hold similar populations); national
    chains have at least one store in every force area."""
    chosen: list[int] = []
    if national:
        for _, members in sorted(places.groupby("force_code").indices.items()):
            chosen.append(int(rng.choice(members)))
    rest = np.setdiff1d(np.arange(len(places)), chosen)
    chosen += rng.choice(rest, size=n - len(chosen), replace=False).tolist()
    return np.array(chosen)


def _store_ref(code: str, i: int) -> str:
    styles = {"BRM": "{:04d}", "HGR": "H{:04d}", "PHL": "PB{:03d}", "GLW": "G-{:03d}", "VLU": "{:05d}",
              "CRN": "CW{:04d}", "FTH": "{:03d}", "TKN": "TD{:03d}", "BLD": "B{:03d}", "CLR": "CV{:03d}",
              "THD": "T{:04d}", "NST": "N{:03d}"}
    return styles[code].format(100 + i * 3)


def store_dynamics(spec: WorldSpec, stores: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(pull, open): months x stores arrays. `pull` multiplies each store's attractiveness month by month (an
    AR(1) drift on the log scale times town ramps: some towns heat up, some cool down); `open` says whether the
    store trades that month. Adds opened_on/closed_on (truth) to `stores`. A static world gives ones."""
    n, months = len(stores), spec.months
    pull, is_open = np.ones((months, n)), np.ones((months, n), dtype=bool)
    stores["opened_on"], stores["closed_on"] = pd.NaT, pd.NaT
    if not spec.change or n == 0:
        return pull, is_open
    rng = streams(spec.seed, "store-change")
    starts = spec.month_starts()
    life = rng.random(n)
    opens, closes = life < STORE_OPEN_SHARE, (life >= STORE_OPEN_SHARE) & (life < STORE_OPEN_SHARE + STORE_CLOSE_SHARE)
    change_month = rng.integers(min(3, months - 1), max(4, months - 3), size=n)
    for i in np.flatnonzero(opens):
        is_open[:change_month[i], i] = False
    for i in np.flatnonzero(closes):
        is_open[change_month[i]:, i] = False
    stores.loc[opens, "opened_on"] = [pd.Timestamp(starts[m]) for m in change_month[opens]]
    stores.loc[closes, "closed_on"] = [pd.Timestamp(starts[m]) for m in change_month[closes]]
    log_pull = np.zeros((months, n))
    log_pull[0] = rng.normal(0, DRIFT_SD / np.sqrt(1 - DRIFT_RHO ** 2), size=n)
    for m in range(1, months):
        log_pull[m] = DRIFT_RHO * log_pull[m - 1] + rng.normal(0, DRIFT_SD, size=n)
    town_names = np.array(sorted(stores.town.unique()))
    picked = rng.choice(len(town_names), size=min(len(town_names), 2 * SHIFTING_TOWNS), replace=False)
    for k, t in enumerate(picked):
        factor = 3.0 if k < SHIFTING_TOWNS else 0.35
        begin = int(rng.integers(0, max(1, months - RAMP_MONTHS)))
        ramp = np.clip((np.arange(months) - begin) / RAMP_MONTHS, 0, 1)
        log_pull[:, (stores.town == town_names[t]).values] += (ramp * np.log(factor))[:, None]
    return np.exp(log_pull) * is_open, is_open


def store_neighbours(stores: pd.DataFrame, radius_km: float) -> list[np.ndarray]:
    tree = cKDTree(to_km(stores.latitude.values, stores.longitude.values))
    return [np.array(sorted(n)) for n in tree.query_ball_point(
        to_km(stores.latitude.values, stores.longitude.values), r=radius_km)]


# ---------------------------------------------------------------- people and vehicles
def _random_dobs(rng, n, min_age, max_age, ref: date) -> list[date]:
    days = rng.integers(int(min_age * 365.25), int(max_age * 365.25), size=n)
    return [ref - timedelta(days=int(d)) for d in days]


def make_people(rng, n: int, kind: str, min_age: float, max_age: float, ref: date, start_id: int,
                group_id: str | None = None, female_share: float = 0.3) -> pd.DataFrame:
    female = rng.random(n) < female_share
    forenames = [vocab.FORENAMES_F[rng.integers(len(vocab.FORENAMES_F))] if f else
                 vocab.FORENAMES_M[rng.integers(len(vocab.FORENAMES_M))] for f in female]
    surnames = [vocab.SURNAMES[rng.integers(len(vocab.SURNAMES))] for _ in range(n)]
    dobs = _random_dobs(rng, n, min_age, max_age, ref)
    return pd.DataFrame({
        "person_id": [f"P{start_id + i:07d}" for i in range(n)], "forename": forenames, "surname": surnames,
        "dob": dobs, "gender": np.where(female, "F", "M"), "kind": kind, "group_id": group_id,
    })


def make_vrm(rng, style: str = "current") -> str:
    letters = vocab.VRM_LETTERS
    if style == "prefix":
        return f"{letters[rng.integers(len(letters))]}{rng.integers(1, 999)} {''.join(letters[rng.integers(len(letters))] for _ in range(3))}"
    age = rng.choice([f"{y:02d}" for y in (15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74)])
    return (f"{''.join(letters[rng.integers(len(letters))] for _ in range(2))}{age} "
            f"{''.join(letters[rng.integers(len(letters))] for _ in range(3))}")


# ---------------------------------------------------------------- organised groups
METHODS = ("FOIL", "DIST", "RUSH", "SWEEP", "REFUND", "SCO", "TAGREM", "PUSHOUT")
TARGET_SECTORS = {
    "RAZOR": ("supermarket", "pharmacy"), "COSMET": ("cosmetics", "pharmacy", "discount"),
    "ALCOHOL": ("off-licence", "supermarket", "convenience"), "FORMULA": ("supermarket", "baby", "pharmacy"),
    "MEAT": ("supermarket", "convenience"), "ELEC": ("electronics", "discount"), "CLOTH": ("sports", "fashion"),
    "TOOLS": ("diy",), "CONFEC": ("supermarket", "convenience", "discount"),
}


def town_route_forces(town_table: pd.DataFrame, corridor: tuple[str, ...]) -> list[str]:
    return [town_table.loc[t, "force_code"] for t in corridor]


def build_groups(spec: WorldSpec, town_table: pd.DataFrame, person_start: int):
    """Groups, their members and vehicles (including cloned plates)."""
    rng = streams(spec.seed, "groups")
    corridor_names = sorted(vocab.CORRIDORS)
    order = rng.permutation(len(corridor_names))
    groups, members, vehicles = [], [], []
    targets = list(TARGET_SECTORS)
    next_person = person_start
    for g in range(spec.n_groups):
        corridor = corridor_names[order[g % len(order)]]
        towns_on_route = vocab.CORRIDORS[corridor]
        home_index = int(rng.integers(len(towns_on_route)))
        methods = list(rng.choice(METHODS, size=int(rng.integers(1, 3)), replace=False))
        goods = list(rng.choice(targets, size=int(rng.integers(1, 3)), replace=False))
        escalates = bool(g % 3 == 0)
        group_id = f"G{g + 1:02d}"
        n_members = int(rng.integers(3, 8))
        people = make_people(rng, n_members, "group_member", 19, 46, spec.start, next_person, group_id, 0.25)
        if g % 4 == 1:  # some groups use a juvenile
            people.loc[people.index[-1], "dob"] = spec.start - timedelta(days=int(rng.integers(14 * 365, 17 * 365)))
        next_person += n_members
        members.append(people)
        for v in range(int(rng.integers(1, 4))):
            vehicles.append({"vehicle_id": f"V{group_id}{v}", "vrm": make_vrm(rng), "group_id": group_id,
                             "make": vocab.VEHICLE_MAKES[rng.integers(len(vocab.VEHICLE_MAKES))],
                             "colour": vocab.COLOURS[rng.integers(len(vocab.COLOURS))], "cloned_from": None})
        groups.append({
            "group_id": group_id, "name": f"Group {g + 1:02d} ({corridor} corridor)", "corridor": corridor,
            "home_town": towns_on_route[home_index], "home_index": home_index,
            "methods": ";".join(methods), "targets": ";".join(goods),
            "sectors": ";".join(sorted({s for t in goods for s in TARGET_SECTORS[t]})),
            "escalates": escalates, "run_every_days": float(rng.uniform(6, 13)),
            "members": n_members, "forces_on_corridor": ";".join(dict.fromkeys(town_route_forces(town_table, towns_on_route))),
        })
    vehicles = pd.DataFrame(vehicles)
    groups = _place_homes(spec, pd.DataFrame(groups), town_table)
    # Two groups drive cars on cloned plates: the VRM also belongs to an innocent car.
    innocent = []
    for i, idx in enumerate(vehicles.groupby("group_id").head(1).index[:2]):
        innocent.append({"vehicle_id": f"VINNOCENT{i}", "vrm": vehicles.loc[idx, "vrm"], "group_id": None,
                         "make": vocab.VEHICLE_MAKES[rng.integers(len(vocab.VEHICLE_MAKES))],
                         "colour": vocab.COLOURS[rng.integers(len(vocab.COLOURS))], "cloned_from": None})
        vehicles.loc[idx, "cloned_from"] = f"VINNOCENT{i}"
    vehicles = pd.concat([vehicles, pd.DataFrame(innocent)], ignore_index=True)
    return groups, pd.concat(members, ignore_index=True), vehicles, next_person


def _place_homes(spec: WorldSpec, groups: pd.DataFrame, town_table: pd.DataFrame) -> pd.DataFrame:
    """Overlapping pairs (OVERLAP_PAIRS) share tactics, goods and home town; AWAY_GROUPS other groups live at a
    corridor end and work a stretch outside their home force. Adds home_lat/home_lon/home_force_code (the home
    town's centre and force), away_from_home and overlaps_with."""
    rng = streams(spec.seed, "group-homes")
    groups = groups.copy()
    groups["away_from_home"], groups["overlaps_with"] = False, None
    by_corridor = {c: i for i, c in zip(groups.index, groups.corridor)}
    paired = set()
    for first, second, town in OVERLAP_PAIRS:
        if first not in by_corridor or second not in by_corridor:
            continue
        a, b = by_corridor[first], by_corridor[second]
        for i in (a, b):
            groups.at[i, "home_index"] = vocab.CORRIDORS[groups.at[i, "corridor"]].index(town)
            groups.at[i, "home_town"] = town
        for column in ("methods", "targets", "sectors"):
            groups.at[b, column] = groups.at[a, column]
        groups.at[a, "overlaps_with"], groups.at[b, "overlaps_with"] = groups.at[b, "group_id"], groups.at[a, "group_id"]
        paired.update((a, b))
    away = [i for i in groups.index if i not in paired][:AWAY_GROUPS]
    for i in away:
        corridor = vocab.CORRIDORS[groups.at[i, "corridor"]]
        ends = [0, len(corridor) - 1] if rng.random() < 0.5 else [len(corridor) - 1, 0]
        # the end from which the working stretch covers the most forces (three wherever the corridor allows)
        home_index = max(ends, key=lambda e: min(3, len({town_table.loc[t, "force_code"]
                                                         for t in _away_stretch(corridor, e, town_table)})))
        groups.at[i, "home_index"], groups.at[i, "home_town"] = home_index, corridor[home_index]
        groups.at[i, "away_from_home"] = True
    groups["home_lat"] = [float(town_table.loc[t, "latitude"]) for t in groups.home_town]
    groups["home_lon"] = [float(town_table.loc[t, "longitude"]) for t in groups.home_town]
    groups["home_force_code"] = [town_table.loc[t, "force_code"] for t in groups.home_town]
    return groups


def _away_stretch(corridor, home_index, town_table) -> list[str]:
    """An away group's working towns, nearest home first: from the first town outside the home force, away from
    home, until three forces and four towns are covered, keeping at most two towns per force (the first
    and last of each force's run of towns) and never the home force."""
    forces_of = [town_table.loc[t, "force_code"] for t in corridor]
    home_force = forces_of[home_index]
    order = list(range(len(corridor))) if home_index == 0 else list(range(len(corridor) - 1, -1, -1))
    towns_seq = []
    for i in order:
        if forces_of[i] == home_force:
            if towns_seq:
                break
            continue
        towns_seq.append(i)
        if len({forces_of[j] for j in towns_seq}) >= 3 and len(towns_seq) >= 4:
            break
    kept = []
    for k, i in enumerate(towns_seq):
        block_start = k == 0 or forces_of[towns_seq[k - 1]] != forces_of[i]
        block_end = k == len(towns_seq) - 1 or forces_of[towns_seq[k + 1]] != forces_of[i]
        if block_start or block_end:
            kept.append(corridor[i])
    return kept


def _stores_near(stores_km: np.ndarray, point_km: np.ndarray, mask: np.ndarray, radius_km: float, rng, k: int):
    d = np.hypot(*(stores_km - point_km).T)
    candidates = np.flatnonzero(mask & (d <= radius_km))
    if len(candidates) == 0:
        candidates = np.flatnonzero(mask)[np.argsort(d[mask])[:3]]
    return rng.choice(candidates, size=min(k, len(candidates)), replace=False)


def group_incidents(spec: WorldSpec, groups: pd.DataFrame, members: pd.DataFrame, vehicles: pd.DataFrame,
                    stores: pd.DataFrame, town_table: pd.DataFrame, is_open: np.ndarray | None = None) -> pd.DataFrame:
    """Day-long runs along each group's corridor, crossing force borders (at stores open that month). A group at
    home on its corridor sets out from home; an away group drives to its working stretch (and now and then hits a
    store near home on the way out or back). A share of incidents (CCTV_ONLY_SHARE) is seen only on CCTV."""
    rng = streams(spec.seed, "group-runs")
    away_rng = streams(spec.seed, "group-away-runs")
    stores_km = to_km(stores.latitude.values, stores.longitude.values)
    start = datetime.combine(spec.start, datetime.min.time())
    total_days = (spec.end - start).days
    rows = []
    for g in groups.itertuples():
        corridor = vocab.CORRIDORS[g.corridor]
        away = bool(getattr(g, "away_from_home", False))
        work_towns = _away_stretch(corridor, g.home_index, town_table) if away else None
        home_km = to_km([town_table.loc[g.home_town, "latitude"]], [town_table.loc[g.home_town, "longitude"]])[0]
        sector_mask = stores.sector.isin(g.sectors.split(";")).values
        group_members = members.loc[members.group_id == g.group_id, "person_id"].tolist()
        group_vehicles = vehicles.loc[vehicles.group_id == g.group_id, "vehicle_id"].tolist()
        day = float(rng.uniform(0, g.run_every_days))
        run = 0
        while day < total_days:
            run += 1
            # a contiguous stretch of the corridor starting at or near home, spanning >= 3 forces
            direction = 1 if rng.random() < 0.5 else -1
            stretch = _stretch(corridor, g.home_index, direction, town_table)
            run_date = start + timedelta(days=int(day))
            t = run_date + timedelta(hours=float(rng.uniform(8.5, 11)))
            progress = day / total_days
            p_violence = (0.03 + 0.35 * progress) if g.escalates else 0.03
            vehicle = group_vehicles[rng.integers(len(group_vehicles))]
            trading = sector_mask if is_open is None else sector_mask & is_open[_month_index(spec, run_date)]
            stops = [(town, "work") for town in stretch]
            if away:
                stops = [(town, "work") for town in (work_towns if direction > 0 else work_towns[::-1])]
                t = run_date + timedelta(hours=float(away_rng.uniform(7.5, 9.0)))
                if away_rng.random() < AWAY_HOME_STOP_OUT:
                    stops.insert(0, (g.home_town, "home_out"))
                if away_rng.random() < AWAY_HOME_STOP_BACK:
                    stops.append((g.home_town, "home_back"))
            run_id, order, last_km = f"{g.group_id}-R{run:03d}", 0, home_km
            for town, stop in stops:
                if order >= 4 and t - run_date >= timedelta(hours=LAST_HOUR):
                    break                      # shops shut: the run ends
                point = to_km([town_table.loc[town, "latitude"]], [town_table.loc[town, "longitude"]])[0]
                if away:   # drive time by road from the last place (home at the start of the day), then park
                    km = float(np.hypot(*(point - last_km))) * 1.3
                    t += timedelta(hours=km / float(away_rng.uniform(*DRIVE_KMH)),
                                   minutes=float(away_rng.uniform(5, 20)))
                picks = 1 if stop != "work" else int(rng.integers(1, 3))
                for s in _stores_near(stores_km, point, trading, 8.0, rng, picks):
                    crew = list(rng.choice(group_members, size=min(len(group_members), int(rng.integers(2, 5))),
                                           replace=False))
                    order += 1
                    rows.append({"store_idx": int(s), "occurred_at": t, "kind": "group", "group_id": g.group_id,
                                 "run_id": run_id, "run_order": order, "run_stop": stop, "offenders": crew,
                                 "vehicle_id": vehicle, "violence": bool(rng.random() < p_violence),
                                 "tactics": g.methods.split(";") + g.targets.split(";"),
                                 "value_factor": float(rng.uniform(2.5, 6))})
                    t += timedelta(minutes=float(rng.uniform(25, 70)))
                    last_km = stores_km[s]
                if not away:
                    t += timedelta(minutes=float(rng.uniform(20, 60)))
            day += float(rng.exponential(g.run_every_days)) + 1
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["cctv_only"] = streams(spec.seed, "cctv-only").random(len(frame)) < CCTV_ONLY_SHARE
    return frame


def most_affected_forces(incidents: pd.DataFrame, stores: pd.DataFrame) -> dict[str, str]:
    """Each group's force with the most incidents (ties: the lower force code)."""
    forces = stores.force_code.values[incidents.store_idx.values]
    counts = pd.DataFrame({"group_id": incidents.group_id.values, "force_code": forces}).value_counts()
    counts = counts.rename("n").reset_index().sort_values(["group_id", "n", "force_code"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("group_id")[["group_id", "force_code"]].itertuples(index=False))


def _month_index(spec: WorldSpec, when) -> int:
    return min(spec.months - 1, (when.year - spec.start.year) * 12 + when.month - spec.start.month)


def _stretch(corridor, home_index, direction, town_table) -> list[str]:
    """Towns along the corridor from home, widened until the run spans three force areas and four towns."""
    forces_of = [town_table.loc[t, "force_code"] for t in corridor]
    lo = hi = home_index
    while len(set(forces_of[lo:hi + 1])) < 3 or hi - lo < 3:
        if direction > 0 and hi < len(corridor) - 1:
            hi += 1
        elif direction < 0 and lo > 0:
            lo -= 1
        elif hi < len(corridor) - 1:
            hi += 1
        elif lo > 0:
            lo -= 1
        else:
            break
    towns_seq = list(corridor[lo:hi + 1])
    return towns_seq if direction > 0 else towns_seq[::-1]


# ---------------------------------------------------------------- prolific local offenders
def build_prolific(spec: WorldSpec, stores: pd.DataFrame, person_start: int):
    rng = streams(spec.seed, "prolific")
    n = max(20, int(round(120 * spec.scale ** 0.5)))
    juvenile = rng.random(n) < 0.3
    adults = make_people(rng, n, "prolific", 18, 55, spec.start, person_start, None, 0.35)
    juvenile_dobs = _random_dobs(rng, n, 13, 17, spec.start)
    adults["dob"] = [j if is_j else a for a, j, is_j in zip(adults.dob, juvenile_dobs, juvenile)]
    adults["kind"] = np.where(juvenile, "prolific_juvenile", "prolific")
    stores_km = to_km(stores.latitude.values, stores.longitude.values)
    home = rng.choice(len(stores), size=n)
    haunts, rates, goods = [], [], []
    everything = np.ones(len(stores), dtype=bool)
    for h in home:
        haunts.append(_stores_near(stores_km, stores_km[h], everything, 3.0, rng, int(rng.integers(3, 7))).tolist())
        rates.append(float(rng.uniform(0.5, 3)))
        goods.append(str(rng.choice(["ALCOHOL", "MEAT", "CONFEC", "COSMET", "RAZOR"])))
    adults["haunts"] = haunts
    adults["monthly_rate"] = rates
    adults["target"] = goods
    return adults


def prolific_incidents(spec: WorldSpec, prolific: pd.DataFrame, is_open: np.ndarray | None = None) -> pd.DataFrame:
    """A prolific offender's incidents at their haunts; a haunt that is closed that month is swapped for one
    that trades (none trading: the offender offends elsewhere, outside the extracts)."""
    rng = streams(spec.seed, "prolific-incidents")
    rows = []
    for p in prolific.itertuples():
        for month, m_start in enumerate(spec.month_starts()):
            trading = [h for h in p.haunts if is_open is None or is_open[month, h]]
            days_in_month = calendar.monthrange(m_start.year, m_start.month)[1]
            for _ in range(rng.poisson(p.monthly_rate)):
                when = datetime.combine(m_start, datetime.min.time()) + timedelta(
                    days=int(rng.integers(days_in_month)), hours=float(rng.uniform(10, 20)))
                pick = int(rng.integers(len(p.haunts)))
                if not trading:
                    continue
                store = p.haunts[pick] if p.haunts[pick] in trading else trading[pick % len(trading)]
                rows.append({"store_idx": int(store), "occurred_at": when,
                             "kind": "prolific", "group_id": None, "run_id": None, "offenders": [p.person_id],
                             "vehicle_id": None, "violence": bool(rng.random() < 0.07),
                             "tactics": ["CONCEAL", p.target], "value_factor": float(rng.uniform(0.6, 1.5))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- background shoplifting
def month_weights(spec: WorldSpec) -> np.ndarray:
    w = []
    for i, m in enumerate(spec.month_starts()):
        days = calendar.monthrange(m.year, m.month)[1]
        w.append(MONTH_FACTOR[m.month] * days * (1 + ANNUAL_GROWTH) ** (i / 12))
    w = np.array(w)
    return w / w.sum()


def background_month(spec: WorldSpec, month_index: int, n: int, stores: pd.DataFrame,
                     neighbours: list[np.ndarray], pull: np.ndarray | None = None,
                     open_next: np.ndarray | None = None) -> pd.DataFrame:
    """n background incidents in one month: heterogeneous stores (each store's pull that month: `pull`, zero
    when closed), weekly and daily rhythm, near repeats (at a trading neighbour, else the same store)."""
    rng = streams(spec.seed, f"background-{month_index}")
    m_start = spec.month_starts()[month_index]
    days_in_month = calendar.monthrange(m_start.year, m_start.month)[1]
    n_parents = rng.binomial(n, 1 / (1 + NEAR_REPEAT_PROB))
    weight = stores.attractiveness.values * (1.0 if pull is None else pull)
    p_store = weight / weight.sum()
    store_idx = rng.choice(len(stores), size=n_parents, p=p_store)
    day_weekday = [(m_start + timedelta(days=d)).weekday() for d in range(days_in_month)]
    p_day = WEEKDAY_FACTOR[day_weekday]
    day = rng.choice(days_in_month, size=n_parents, p=p_day / p_day.sum())
    hour = rng.choice(24, size=n_parents, p=HOUR_FACTOR / HOUR_FACTOR.sum())
    base = np.datetime64(m_start.isoformat(), "m")
    minutes = day * 1440 + hour * 60 + rng.integers(0, 60, size=n_parents)
    when = base + minutes.astype("timedelta64[m]")
    # near repeats: a follow-up at the same or a neighbouring store within days
    n_children = n - n_parents
    parent_of = rng.integers(0, n_parents, size=n_children) if n_parents else np.zeros(0, dtype=int)
    child_store = np.array([neighbours[s][rng.integers(len(neighbours[s]))] for s in store_idx[parent_of]],
                           dtype=int)
    if len(child_store):
        parents = store_idx[parent_of]
        child_store = np.where(weight[child_store] > 0, child_store, parents)
    delay_days = np.floor(rng.exponential(NEAR_REPEAT_MEAN_DAYS, size=n_children)).astype(int)
    child_day = (day[parent_of] + delay_days).astype("timedelta64[D]")
    child_hour = rng.choice(24, size=n_children, p=HOUR_FACTOR / HOUR_FACTOR.sum())
    child_when = (np.datetime64(m_start.isoformat(), "D") + child_day).astype("datetime64[m]") \
        + (child_hour * 60 + rng.integers(0, 60, size=n_children)).astype("timedelta64[m]")
    child_when = np.minimum(child_when, np.datetime64(spec.end.isoformat(), "m"))
    if open_next is not None and n_children:
        # a follow-up that spills into next month at a store that closes then does not happen
        month_end = np.datetime64((m_start + timedelta(days=days_in_month)).isoformat(), "m")
        keep = (child_when < month_end) | open_next[child_store]
        child_store, child_when = child_store[keep], child_when[keep]
        n_children = len(child_store)
        n = n_parents + n_children
    frame = pd.DataFrame({
        "store_idx": np.concatenate([store_idx, child_store]),
        "occurred_at": np.concatenate([when, child_when]).astype("datetime64[us]"),
        "kind": np.array(["background"] * n_parents + ["near_repeat"] * n_children, dtype=object),
    })
    frame["violence"] = rng.random(n) < 0.035
    frame["value_factor"] = rng.lognormal(0, 0.6, size=n)
    return frame
