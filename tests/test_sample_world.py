"""The synthetic sample world: determinism, realism, noise at the configured rates, ground truth kept apart."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from tests.conftest import REPO
from workbench import config
from workbench.sample.formats import SOURCE_FORMATS, BY_NAME
from workbench.sample.generate import generate_world
from workbench.sample.vocab import CHAINS, NICKNAMES
from workbench.sample.world import to_km

SEED, SCALE = 11, 0.3
REAL_RETAILERS = ("tesco", "sainsbury", "asda", "morrisons", "boots", "superdrug", "co-op", "aldi", "lidl",
                  "iceland", "waitrose", "marks", "primark", "currys", "argos", "wickes", "b&q", "poundland",
                  "home bargains", "greggs", "lush", "next", "jd sports", "sports direct", "matalan")


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    manifest = generate_world(SEED, SCALE, out)
    truth = {name: pd.read_parquet(out / "ground_truth" / f"{name}.parquet")
             for name in ("incidents", "persons", "groups", "vehicles", "stores", "referral_rows",
                          "person_mentions", "vehicle_mentions")}
    return out, manifest, truth


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(world, tmp_path):
    out, _, _ = world
    again = tmp_path / "again"
    generate_world(SEED, SCALE, again)
    assert _digest(out) == _digest(again)
    other = tmp_path / "other"
    generate_world(SEED + 1, SCALE, other)
    differing = [k for k, v in _digest(other).items() if _digest(out).get(k) != v]
    assert "extracts/brightmart_incidents.csv" in differing


def test_manifest_counts_match_the_files(world):
    out, manifest, truth = world
    assert manifest["incidents"] == len(truth["incidents"]) == truth["incidents"].world_incident_id.max()
    assert abs(manifest["incidents"] - SCALE * config.get("sample.incidents_per_scale")) < 0.02 * manifest["incidents"]
    for source in manifest["sources"]:
        assert source["rows"] == (truth["referral_rows"].source_name == source["name"]).sum()
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / "extracts" / name).read_bytes()).hexdigest() == digest
    # what linkage should find, as `workbench summary --world` prints it beside what was found
    seen_vehicles = set(truth["vehicle_mentions"].vehicle_id)
    twins = truth["vehicles"].dropna(subset=["cloned_from"])
    assert manifest["to_find"] == {
        "persons": truth["person_mentions"].person_id.nunique(), "vehicles": len(seen_vehicles),
        "cloned_plates": int((twins.vehicle_id.isin(seen_vehicles) & twins.cloned_from.isin(seen_vehicles)).sum()),
        "groups": len(truth["groups"])}


def test_stores_chains_and_forces(world):
    _, manifest, truth = world
    stores = truth["stores"]
    assert len(stores) >= 2000 and stores.retailer_code.nunique() == 12 >= 12
    assert stores.force_code.nunique() == 43
    for _, name, *_ in CHAINS:
        assert not any(real in name.lower() for real in REAL_RETAILERS), name
    # real towns: every store town is a local authority name from the open LSOA data
    places = pd.read_csv(REPO / "sample_data/geography/lsoa_centroids.csv.gz")
    assert set(stores.town) <= set(places.town)


def test_each_store_lies_in_its_true_force(world, shared_force_boundaries):
    import geopandas as gpd
    from workbench.reference import forces

    _, _, truth = world
    stores = truth["stores"]
    areas = gpd.read_file(shared_force_boundaries).to_crs(27700)
    areas["force_code"] = areas.PFA16CD.map(dict(zip(forces().ons_code, forces().force_code)))
    points = gpd.GeoDataFrame(stores, geometry=gpd.points_from_xy(stores.longitude, stores.latitude), crs=4326).to_crs(27700)
    joined = gpd.sjoin(points, areas[["force_code", "geometry"]], how="left", predicate="within",
                       lsuffix="store", rsuffix="area")
    wrong = joined[joined.force_code_store != joined.force_code_area]
    # the reference is ultra-generalised: allow points near a border, but only there
    assert len(wrong) <= 0.01 * len(stores)
    by_code = areas.set_index("force_code").geometry
    for row in wrong.itertuples():
        assert by_code[row.force_code_store].distance(row.geometry) < 2000, row.store_id


def test_seasonality_weekly_and_daily_rhythm(world):
    _, _, truth = world
    inc = truth["incidents"]
    background = inc[inc.kind.isin(["background", "near_repeat"])]
    per_day = background.groupby(background.occurred_at.dt.to_period("M")).size() / \
        background.groupby(background.occurred_at.dt.to_period("M")).occurred_at.first().dt.days_in_month
    december = per_day[[p.month == 12 for p in per_day.index]].mean()
    others = per_day[[p.month not in (11, 12) for p in per_day.index]].mean()
    assert december > 1.2 * others
    weekday = background.occurred_at.dt.day_of_week.value_counts()
    assert weekday[5] > 1.3 * weekday[6]                       # Saturday busier than Sunday
    hours = background.occurred_at.dt.hour.value_counts()
    assert hours.get(16, 0) > 2 * hours.get(8, 0) and hours.get(3, 0) < 0.01 * len(background)


def test_store_heterogeneity_gives_real_hotspots(world):
    _, _, truth = world
    counts = truth["incidents"].query("kind == 'background'").store_id.value_counts()
    counts = counts.reindex(truth["stores"].store_id, fill_value=0).sort_values(ascending=False)
    top_decile_share = counts.iloc[: len(counts) // 10].sum() / counts.sum()
    assert top_decile_share > 0.3      # a uniform world would give about 0.1


def test_stores_open_and_close_and_no_one_offends_at_a_shut_store(world):
    _, _, truth = world
    stores = truth["stores"]
    opened, closed = stores.opened_on.notna(), stores.closed_on.notna()
    assert 0.03 < opened.mean() < 0.09 and 0.03 < closed.mean() < 0.09 and not (opened & closed).any()
    inc = truth["incidents"].merge(stores[["store_id", "opened_on", "closed_on"]], on="store_id")
    shut = (inc.occurred_at < inc.opened_on) | (inc.occurred_at >= inc.closed_on)
    assert not shut.any(), inc.loc[shut, ["kind", "store_id", "occurred_at", "opened_on", "closed_on"]].head()
    # a store that opens trades afterwards: together the new stores take a share of the later incidents
    late = inc[inc.occurred_at >= inc.opened_on.max()]
    assert late.opened_on.notna().mean() > 0.01


def test_hot_spots_move_so_memory_goes_stale(world):
    """Store-level counts in the first and last six months agree less than two halves of one period would
    if every store kept its pull (a static world): the rank correlation of first vs last is well below the
    split-half correlation inside the last six months. Both are averaged over 20 random halvings (one halving
    alone moves the difference by about 0.02, a third of the margin)."""
    _, _, truth = world
    inc = truth["incidents"].query("kind == 'background'")
    months = (inc.occurred_at.dt.year * 12 + inc.occurred_at.dt.month)
    first, last = inc[months < months.min() + 6], inc[months > months.max() - 6]
    index = truth["stores"].store_id
    def counts(frame):
        return frame.store_id.value_counts().reindex(index, fill_value=0)
    split_half, across = [], []
    for k in range(20):
        half = np.random.default_rng(k).random(len(last)) < 0.5
        split_half.append(counts(last[half]).corr(counts(last[~half]), method="spearman"))
        across.append(counts(first.sample(frac=0.5, random_state=k)).corr(counts(last[half]), method="spearman"))
    split_half, across = float(np.mean(split_half)), float(np.mean(across))
    assert across < split_half - 0.05, (across, split_half)


def test_a_static_world_keeps_every_store_open(tmp_path):
    from workbench.sample.world import WorldSpec, store_dynamics
    stores = truth_like = pd.DataFrame({"town": ["A", "B", "A"], "attractiveness": [1.0, 2.0, 3.0]})
    pull, is_open = store_dynamics(WorldSpec(seed=3, change=False), truth_like)
    assert (pull == 1).all() and is_open.all() and stores.opened_on.isna().all()


def test_near_repeat_effect(world):
    """Pairs close in space (<1 km) are over-represented among pairs close in time (<7 days): a Knox ratio."""
    _, _, truth = world
    inc = truth["incidents"].merge(truth["stores"][["store_id", "latitude", "longitude"]], on="store_id")
    inc = inc[inc.kind.isin(["background", "near_repeat"])]
    pairs = cKDTree(to_km(inc.latitude.values, inc.longitude.values)).query_pairs(1.0, output_type="ndarray")
    days = inc.occurred_at.values.astype("datetime64[m]").astype(np.int64) / 1440
    observed = np.sum(np.abs(days[pairs[:, 0]] - days[pairs[:, 1]]) <= 7)
    rng = np.random.default_rng(0)
    shuffled = [np.sum(np.abs(s[pairs[:, 0]] - s[pairs[:, 1]]) <= 7) for s in (rng.permutation(days) for _ in range(5))]
    assert observed > 1.2 * np.mean(shuffled)


def test_organised_groups_cross_forces_on_day_long_runs(world):
    _, _, truth = world
    groups, inc = truth["groups"], truth["incidents"]
    assert len(groups) >= 10
    grouped = inc[inc.kind == "group"]
    forces_per_group = grouped.groupby("group_id").force_code.nunique()
    assert set(forces_per_group.index) == set(groups.group_id)
    assert (forces_per_group >= 3).all(), forces_per_group.to_dict()
    runs = grouped.groupby("run_id").occurred_at.agg(["min", "max", "size"])
    assert ((runs["max"] - runs["min"]) < pd.Timedelta(hours=16)).all() and (runs["size"] >= 4).all()
    # escalating groups use more violence later in the period than earlier
    escalating = grouped[grouped.group_id.isin(groups.loc[groups.escalates, "group_id"])]
    midpoint = inc.occurred_at.min() + (inc.occurred_at.max() - inc.occurred_at.min()) / 2
    assert escalating[escalating.occurred_at > midpoint].violence.mean() > \
        2 * escalating[escalating.occurred_at <= midpoint].violence.mean()
    # every group has a tactic signature used in its incidents
    for g in groups.itertuples():
        tactics = grouped.loc[grouped.group_id == g.group_id, "tactics"]
        assert tactics.str.contains(g.methods.split(";")[0]).all()


def test_people_include_juveniles_prolific_offenders_and_cloned_plates(world):
    _, _, truth = world
    persons, inc, vehicles = truth["persons"], truth["incidents"], truth["vehicles"]
    assert (persons.kind == "prolific_juvenile").sum() > 0
    prolific_ids = set(persons.loc[persons.kind.str.startswith("prolific"), "person_id"])
    per_offender = inc[inc.kind == "prolific"].offender_ids.value_counts()
    assert per_offender[per_offender.index.isin(prolific_ids)].median() >= 10
    cloned = vehicles.dropna(subset=["cloned_from"])
    assert len(cloned) >= 1
    for v in cloned.itertuples():
        assert vehicles.set_index("vehicle_id").loc[v.cloned_from, "vrm"] == v.vrm


def test_each_source_writes_its_own_format(world):
    out, _, _ = world
    ext = out / "extracts"
    headers_seen = set()
    for fmt in SOURCE_FORMATS:
        path = ext / fmt.file_name
        assert path.exists(), path
        headers = [h for h, _ in fmt.columns]
        if fmt.file_type == "csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == (fmt.encoding == "utf-8-sig")
            text = raw.decode(fmt.encoding)
            first = next(csv.reader(io.StringIO(text), delimiter=fmt.delimiter))
            assert first == headers
        elif fmt.file_type == "xlsx":
            sheet = openpyxl.load_workbook(path, read_only=True).active
            assert [c.value for c in next(sheet.iter_rows(max_row=1))] == headers
        elif fmt.file_type == "jsonl":
            first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
            assert list(first) == headers
        else:
            records = json.loads(path.read_text(encoding="utf-8"))
            assert list(records[0]) == headers
        headers_seen.add(tuple(headers))
    assert len(headers_seen) == len(SOURCE_FORMATS)          # no two sources share a layout
    assert "£" in (ext / "valueden_export.csv").read_bytes().decode("cp1252")


def _rate(flags: pd.Series, flag: str) -> float:
    return flags.str.split(";").map(lambda f: flag in f).mean()


def _close(observed: float, expected: float, n: int) -> bool:
    return abs(observed - expected) <= 4 * np.sqrt(expected * (1 - expected) / n) + 0.002


def test_noise_rates_are_as_configured(world):
    _, manifest, truth = world
    rates = config.get("sample.noise")
    assert manifest["noise_rates"] == rates
    people = truth["person_mentions"]
    assert _close(_rate(people.noise, "name_misspelt"), rates["name_misspelt"], len(people))
    has_nick = people[people.true_forename.isin(NICKNAMES)]
    assert _close(_rate(has_nick.noise, "name_alias"), rates["name_alias"], len(has_nick))
    assert _close(_rate(people.noise, "dob_omitted"), rates["dob_omitted"], len(people))
    dates = pd.to_datetime(people.true_dob)
    swappable = people[(dates.dt.day <= 12) & (dates.dt.day != dates.dt.month) & ~people.noise.str.contains("dob_omitted")]
    assert _close(_rate(swappable.noise, "dob_day_month_swapped"), rates["dob_day_month_swapped"] * (1 - 0), len(swappable))
    vehicles = truth["vehicle_mentions"]
    assert _close(_rate(vehicles.noise, "vrm_partial"), rates["vrm_partial"], len(vehicles))
    rows = truth["referral_rows"].merge(truth["incidents"][["world_incident_id", "crime_number"]], on="world_incident_id")
    retail = rows[rows.source_name.str.startswith("retailer") & rows.crime_number.ne("") & ~rows.resubmission]
    first_rows = retail.drop_duplicates(["source_name", "world_incident_id"])
    assert _close(_rate(first_rows.noise, "crime_number_omitted"), rates["crime_number_omitted"], len(first_rows))


def test_noise_flags_match_what_was_written(world):
    """The truth's flags describe the files: a swapped DOB really is swapped, a clean one really is clean."""
    _, _, truth = world
    people = truth["person_mentions"]
    for row in people.sample(400, random_state=1).itertuples():
        fmt = BY_NAME[row.source_name]
        if "dob_omitted" in row.noise:
            assert row.written_dob == ""
            continue
        written = datetime.strptime(row.written_dob, fmt.date_format).date()
        if "dob_day_month_swapped" in row.noise:
            assert (written.day, written.month) == (row.true_dob.month, row.true_dob.day)
        else:
            assert written == row.true_dob
        if not row.noise or row.noise in ("dob_day_month_swapped",):
            assert row.true_surname.lower() in row.written_name.lower()
    vehicles = truth["vehicle_mentions"]
    clean = vehicles[vehicles.noise == ""]
    assert (clean.written_vrm.str.upper().str.replace(" ", "") == clean.true_vrm.str.replace(" ", "")).all()
    misread = vehicles[vehicles.noise == "vrm_misread"]
    assert len(misread) and (misread.written_vrm.str.upper().str.replace(" ", "")
                             != misread.true_vrm.str.replace(" ", "")).all()


def test_written_rows_are_where_the_truth_says(world):
    out, _, truth = world
    people = truth["person_mentions"]
    fmt = BY_NAME["retailer_pillbox"]
    rows = list(csv.reader(io.StringIO((out / "extracts" / fmt.file_name).read_text(encoding=fmt.encoding)),
                           delimiter=fmt.delimiter))
    name_col = [h for h, f in fmt.columns].index("Offender Name")
    mine = people[people.source_name == fmt.name].head(200)
    assert len(mine) > 50
    for m in mine.itertuples():
        assert rows[m.row_number][name_col] == m.written_name


def test_same_incident_referred_by_retailer_and_force_and_other_noise_present(world):
    _, _, truth = world
    rows = truth["referral_rows"]
    by_incident = rows.groupby("world_incident_id").source_name.agg(
        lambda s: {"retailer" if n.startswith("retailer") else "force" for n in s})
    assert (by_incident.map(len) == 2).sum() > 50
    assert rows.noise.str.contains("postcode_malformed").sum() > 0
    assert rows.resubmission.sum() > 0
    assert truth["incidents"].crime_number.eq("").sum() > 0


def test_ground_truth_is_kept_apart_from_extracts_and_the_library(world):
    out, _, _ = world
    assert not any("ground_truth" in str(p) for p in (out / "extracts").rglob("*"))
    for fmt in SOURCE_FORMATS:
        assert not {"person_id", "group_id", "world_incident_id"} & {f for _, f in fmt.columns}
    reads_truth = re.compile(r"(read_\w+|open|connect|load)\([^)]*ground_truth")
    readers = [p for p in (REPO / "workbench").rglob("*.py") if reads_truth.search(p.read_text())]
    assert readers == []
    assert reads_truth.search('pd.read_parquet(out / "ground_truth" / "x.parquet")')


def test_reuse_keeps_an_intact_world_and_rebuilds_a_tampered_one(tmp_path):
    out = tmp_path / "w"
    first = generate_world(5, 0.05, out)
    assert "reused" not in first
    again = generate_world(5, 0.05, out, reuse=True)
    assert again.get("reused") is True and again["files"] == first["files"]
    (out / "extracts" / "brightmart_incidents.csv").write_text("tampered")
    rebuilt = generate_world(5, 0.05, out, reuse=True)
    assert "reused" not in rebuilt
    assert hashlib.sha256((out / "extracts" / "brightmart_incidents.csv").read_bytes()).hexdigest() == \
        first["files"]["brightmart_incidents.csv"]
    assert "reused" not in generate_world(6, 0.05, out, reuse=True)    # another seed is another world


# -- world version 2: realism for cross-border work (issue 12 item 8; docs/sample-world.md) ----------------------
def test_world_version_is_in_the_manifest_and_the_fingerprint(world, monkeypatch):
    from workbench.sample import generate, world as sample_world

    _, manifest, _ = world
    assert manifest["world_version"] == sample_world.WORLD_VERSION >= 2
    spec = generate.spec_from_config(SEED, SCALE)
    before = generate.generator_fingerprint(spec)
    monkeypatch.setattr(sample_world, "WORLD_VERSION", sample_world.WORLD_VERSION + 1)
    assert generate.generator_fingerprint(spec) != before      # a reused world of another version is rebuilt


def test_a_share_of_group_incidents_is_cctv_only_no_name_no_plate(world):
    from workbench.sample.world import CCTV_ONLY_SHARE

    _, _, truth = world
    inc = truth["incidents"]
    grouped = inc[inc.kind == "group"]
    assert _close(grouped.cctv_only.mean(), CCTV_ONLY_SHARE, len(grouped))
    assert not inc.loc[inc.kind != "group", "cctv_only"].any()
    cctv = set(grouped.loc[grouped.cctv_only, "world_incident_id"])
    named = set(grouped.loc[~grouped.cctv_only, "world_incident_id"])
    referred = set(truth["referral_rows"].world_incident_id)
    assert len(cctv & referred) > 0.8 * len(cctv)              # referred all the same
    assert not cctv & set(truth["person_mentions"].world_incident_id)
    assert not cctv & set(truth["vehicle_mentions"].world_incident_id)
    assert len(named & set(truth["person_mentions"].world_incident_id)) > 0.8 * len(named & referred)
    # the truth keeps who it was, and the crew is still counted from the footage
    cctv_rows = grouped[grouped.cctv_only]
    assert (cctv_rows.offender_ids.str.len() > 0).all() and (cctv_rows.offenders_count >= 2).all()


def test_background_offending_uses_group_tactics_too(world):
    from workbench.sample.world import BACKGROUND_METHODS, METHODS

    _, _, truth = world
    inc = truth["incidents"]
    background = inc[inc.kind.isin(["background", "near_repeat"])]
    method = background.tactics.str.split(";").str[0]
    shares = method.value_counts(normalize=True)
    for code in METHODS:                                      # every group tactic appears, none dominates
        assert _close(shares.get(code, 0.0), BACKGROUND_METHODS[code], len(background)), (code, shares.to_dict())
    assert shares["CONCEAL"] > 0.5
    rush = background[method == "RUSH"]
    assert len(rush) and (rush.offenders_count >= 2).all()
    # so a group's own tactic is not proof: most incidents with one of a group's methods are not the group's
    groups = truth["groups"]
    for g in groups.itertuples():
        code = g.methods.split(";")[0]
        with_code = inc[inc.tactics.str.split(";").map(lambda t: code in t)]
        assert (with_code.group_id != g.group_id).sum() > 0, g.group_id


def test_two_pairs_of_groups_share_tactics_goods_chains_and_area(world):
    _, _, truth = world
    groups = truth["groups"].set_index("group_id")
    inc = truth["incidents"].merge(truth["stores"][["store_id", "retailer_code"]], on="store_id")
    pairs = {tuple(sorted((a, b))) for a, b in groups.overlaps_with.dropna().items()}
    assert len(pairs) >= 2, pairs
    for a, b in pairs:
        for column in ("methods", "targets", "sectors", "home_town"):
            assert groups.at[a, column] == groups.at[b, column], (a, b, column)
        chains_a = set(inc.loc[inc.group_id == a, "retailer_code"])
        chains_b = set(inc.loc[inc.group_id == b, "retailer_code"])
        assert len(chains_a & chains_b) / len(chains_a | chains_b) >= 0.5, (a, b)
        forces_a = set(inc.loc[inc.group_id == a, "force_code"])
        forces_b = set(inc.loc[inc.group_id == b, "force_code"])
        assert groups.at[a, "home_force_code"] in forces_a & forces_b
    others = groups.drop(index=[g for p in pairs for g in p])
    assert others.overlaps_with.isna().all()


def test_some_groups_live_outside_the_forces_they_hit_most(world):
    _, _, truth = world
    groups = truth["groups"].set_index("group_id")
    grouped = truth["incidents"].query("kind == 'group'")
    stores = truth["stores"].set_index("store_id")
    away = groups[groups.away_from_home]
    assert len(away) >= 2
    for gid, g in away.iterrows():
        mine = grouped[grouped.group_id == gid]
        per_force = mine.force_code.value_counts()
        assert g.most_affected_force != g.home_force_code
        assert per_force.get(g.home_force_code, 0) < 0.75 * per_force.iloc[0], (gid, per_force.to_dict())
        # runs start or end near home now and then (where a home base can be estimated from), never in between
        near_home = mine[mine.run_stop.isin(["home_out", "home_back"])]
        assert len(near_home) >= 0.2 * mine.run_id.nunique()
        places = stores.loc[near_home.store_id]
        km = np.hypot(*(to_km(places.latitude.values, places.longitude.values)
                        - to_km(np.array([g.home_lat]), np.array([g.home_lon]))).T)
        assert np.median(km) < 15, (gid, np.median(km))
        work = mine[mine.run_stop == "work"]            # (a store near a border town may lie across it)
        assert (work.force_code == g.home_force_code).mean() < 0.1, gid
    assert (groups.home_force_code != groups.most_affected_force).sum() >= len(away)


def test_ground_truth_records_runs_home_bases_and_most_affected_forces(world):
    _, _, truth = world
    groups, inc = truth["groups"], truth["incidents"]
    grouped = inc[inc.kind == "group"].sort_values("occurred_at")
    assert grouped.run_id.notna().all() and inc.loc[inc.kind != "group", "run_id"].isna().all()
    for run_id, run in grouped.groupby("run_id"):
        assert run.run_order.tolist() == list(range(1, len(run) + 1)), run_id      # in time order, no gaps
        assert run.group_id.nunique() == 1 and run_id.startswith(run.group_id.iloc[0])
    places = pd.read_csv(REPO / "sample_data/geography/lsoa_centroids.csv.gz", dtype={"force_code": str})
    town_force = places.groupby("town").force_code.agg(lambda s: s.value_counts().index[0])
    town_centre = places.groupby("town")[["latitude", "longitude"]].mean()
    for g in groups.itertuples():
        assert g.home_force_code == town_force[g.home_town]
        assert abs(g.home_lat - town_centre.at[g.home_town, "latitude"]) < 1e-6
        assert abs(g.home_lon - town_centre.at[g.home_town, "longitude"]) < 1e-6
        counts = grouped.loc[grouped.group_id == g.group_id, "force_code"].value_counts()
        assert counts[g.most_affected_force] == counts.max()
        assert g.home_force_is_most_affected == (g.home_force_code == g.most_affected_force)
