"""Linkage at national scale: a million person mentions resolved end to end on one machine.

Two inputs, both seeded, both scored against their own ground truth (never read by library code):

1. **Sample worlds** (scale 1, and scale 30 when already built under --out: about 200k person mentions) generated
   and ingested through the CLI (`bench_linkage.build`), then `workbench.linkage.run.run_all` (persons: load,
   train, predict, cluster, write; vehicles; groups: network, Leiden, centrality, stability, write) in a process
   of its own, with the time and memory of every stage (`workbench.linkage.stages`).
2. **A persons-only national extract** (`persons_extract`): the sample world grows person mentions slowly with
   scale (a 1M-mention world is scale 150, hours to generate here), so the million comes from a synthetic list of
   person mentions drawn with the sample world's own name, nickname, misspelling and DOB noise model
   (`workbench.sample.extracts.written_name` / `written_dob`, the `sample.noise` rates, `vocab` names, places
   from the embedded LSOA centroids), with co-offending (organised crews with joint incidents, occasional
   companions) and its own truth. It is NOT a sample world: no stores, vehicles, referral files or ingest. It runs
   through the same library path as `workbench link records` (`prepare_person_records`, `resolve_persons`:
   collapse, train, predict, cluster) and then the groups analysis (`groups.analyse`: projection, Leiden,
   centrality, candidate groups, stability) on a network of resolved persons and incidents built from it.

Targets (issue 11): 1M person mentions in <= 5 minutes and <= 8 GB on 2 cores. The baseline in the same run is the
scale-1 world. Quick (`make bench --quick`): scale 0.1 world and a 50k-mention extract.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import bench_linkage
from benchmarks.common import measure

IN_DEFAULT_RUN = "quick"      # `make bench` runs only its quick sizes under --quick; the full run only when named
FULL_WORLDS = (1.0, 30.0)     # scale 30 only when already built (bench_linkage.build marker present)
QUICK_WORLDS = (0.1,)
FULL_EXTRACT = 1_000_000
QUICK_EXTRACT = 50_000
TARGET_S, TARGET_MB = 300, 8192
SEED = 7
EXTRACT_ROLES = {"full_name": "full_name", "dob": "dob", "gender": "gender", "latitude": "latitude",
                 "longitude": "longitude", "seen_at": "seen_at", "group": "incident_id"}


# -- the persons-only extract ---------------------------------------------------------------------------------
def persons_extract(n_mentions: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mentions, persons): about n_mentions person mentions with the sample world's noise model, and the truth.

    mentions: mention_id, full_name (as written), dob (ISO text or empty), gender, latitude, longitude, seen_at,
    incident_id, person_id (truth), written_flags. persons: person_id, forename, surname, dob, gender, kind
    (one_off, repeat, prolific, crew), crew_id.

    Mix (like the sample world, where one-off identified offenders are what grows with volume): 60% of mentions
    are one-off offenders, 25% repeat offenders (2-10 mentions), 10% prolific (40-400), 5% organised crews (6-12
    members) at joint incidents of 2-4 members. A one-off or repeat offender is occasionally (4%) seen with a
    companion at one incident. Sightings are near the person's home LSOA (a 10 km spread), one in ten anywhere in
    England and Wales; times uniform over two years."""
    from workbench.sample import extracts, vocab, world
    from workbench.sample.generate import spec_from_config

    rng = np.random.default_rng(seed)
    rates = spec_from_config(seed, 1.0).noise
    places = world.load_places()
    ref = date(2026, 10, 1)
    start = datetime(2024, 10, 1)

    def people(n, kind, start_id):
        female = rng.random(n) < 0.3
        fore = np.where(female, np.array(vocab.FORENAMES_F)[rng.integers(len(vocab.FORENAMES_F), size=n)],
                        np.array(vocab.FORENAMES_M)[rng.integers(len(vocab.FORENAMES_M), size=n)])
        sur = np.array(vocab.SURNAMES)[rng.integers(len(vocab.SURNAMES), size=n)]
        days = rng.integers(int(16 * 365.25), int(60 * 365.25), size=n)
        dobs = [ref - timedelta(days=int(d)) for d in days]
        home = rng.integers(len(places), size=n)
        return pd.DataFrame({"person_id": [f"X{start_id + i:08d}" for i in range(n)], "forename": fore,
                             "surname": sur, "dob": dobs, "gender": np.where(female, "F", "M"), "kind": kind,
                             "crew_id": None, "home": home})

    n_one = int(n_mentions * 0.60)
    repeat_counts = rng.integers(2, 11, size=int(n_mentions * 0.25 / 6))
    prolific_counts = rng.integers(40, 401, size=max(1, int(n_mentions * 0.10 / 220)))
    crew_sizes = rng.integers(6, 13, size=max(2, int(n_mentions * 0.05 / 3 / 60)))
    frames, next_id = [], 0
    for n, kind in ((n_one, "one_off"), (len(repeat_counts), "repeat"), (len(prolific_counts), "prolific"),
                    (int(crew_sizes.sum()), "crew")):
        frames.append(people(n, kind, next_id))
        next_id += n
    persons = pd.concat(frames, ignore_index=True)
    crew_people = persons.index[persons.kind == "crew"].to_numpy()
    crew_of = np.repeat(np.arange(len(crew_sizes)), crew_sizes)
    persons.loc[crew_people, "crew_id"] = [f"C{c:04d}" for c in crew_of]
    crew_home = rng.integers(len(places), size=len(crew_sizes))
    persons.loc[crew_people, "home"] = crew_home[crew_of]

    # sightings: (person row, incident id); incidents numbered as they are made
    person_rows, incidents = [], []
    counts = np.concatenate([np.ones(n_one, int), repeat_counts, prolific_counts])
    solo_rows = np.repeat(np.arange(len(counts)), counts)
    person_rows.append(solo_rows)
    incidents.append(np.arange(len(solo_rows)))
    next_incident = len(solo_rows)
    # companions: a one-off or repeat sighting shares its incident with another such sighting
    eligible = np.flatnonzero(persons.kind.to_numpy()[solo_rows] != "prolific")
    chosen = rng.choice(eligible, size=(int(len(eligible) * 0.04) // 2) * 2, replace=False).reshape(-1, 2)
    solo_incidents = incidents[0]
    solo_incidents[chosen[:, 1]] = solo_incidents[chosen[:, 0]]
    # crews: joint incidents of 2-4 members, 60 per crew on average
    crew_target = int(n_mentions * 0.05)
    made = 0
    members_of = [crew_people[crew_of == c] for c in range(len(crew_sizes))]
    crew_rows, crew_incidents = [], []
    while made < crew_target:
        c = int(rng.integers(len(crew_sizes)))
        k = int(rng.integers(2, 5))
        who = rng.choice(members_of[c], size=min(k, len(members_of[c])), replace=False)
        crew_rows.append(who)
        crew_incidents.append(np.full(len(who), next_incident))
        next_incident += 1
        made += len(who)
    person_rows.append(np.concatenate(crew_rows))
    incidents.append(np.concatenate(crew_incidents))
    rows = np.concatenate(person_rows)
    incident = np.concatenate(incidents)
    n = len(rows)

    # where and when: per incident (companions and crew members share both)
    uniq, first = np.unique(incident, return_index=True)
    far = rng.random(len(uniq)) < 0.1
    place = np.where(far, rng.integers(len(places), size=len(uniq)), persons.home.to_numpy()[rows[first]])
    lat = places.latitude.to_numpy()[place] + rng.normal(0, 10 / 111, size=len(uniq))
    lon = places.longitude.to_numpy()[place] + rng.normal(0, 10 / 70, size=len(uniq))
    when = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, 730 * 24 * 60, size=len(uniq)), unit="min")
    at = np.searchsorted(uniq, incident)

    # the written name and DOB: the sample world's noise functions, a source style per mention
    styles = np.array(["plain", "upper", "surname_first"])[rng.choice(3, size=n, p=[0.7, 0.15, 0.15])]
    fore, sur, dob = persons.forename.to_numpy(), persons.surname.to_numpy(), persons.dob.to_numpy()
    written, written_dobs, flags = [], [], []
    for r, style in zip(rows, styles):
        name, name_flags = extracts.written_name(fore[r], sur[r], style, rng, rates)
        text, dob_flags = extracts.written_dob(dob[r], "%Y-%m-%d", rng, rates)
        written.append(name)
        written_dobs.append(text)
        flags.append(",".join(name_flags + dob_flags))
    order = np.argsort(incident, kind="stable")
    mentions = pd.DataFrame({
        "mention_id": np.arange(1, n + 1), "full_name": np.array(written, dtype=object)[order],
        "dob": np.array(written_dobs, dtype=object)[order], "gender": persons.gender.to_numpy()[rows][order],
        "latitude": lat[at][order].round(5), "longitude": lon[at][order].round(5),
        "seen_at": when[at][order], "incident_id": incident[order].astype(str),
        "person_id": persons.person_id.to_numpy()[rows][order], "written_flags": np.array(flags, dtype=object)[order]})
    mentions.loc[mentions.dob == "", "dob"] = None
    return mentions, persons.drop(columns="home")


def extract_network(prepared: pd.DataFrame, clusters: pd.DataFrame):
    """A link network of resolved persons and incidents (involved and co_offended edges) from the extract, in the
    shape `workbench.linkage.network.Network` has, so that `groups.analyse` runs on it unchanged."""
    from workbench.linkage.network import EDGE_COLUMNS, NODE_COLUMNS, Network

    frame = pd.DataFrame({"person": "P:" + clusters.cluster_id.astype(str).to_numpy(),
                          "incident": "I:" + prepared.group_key.astype(str).to_numpy(),
                          "seen_at": prepared.seen_at.to_numpy()})
    involved = frame.groupby(["person", "incident"], as_index=False).agg(first_seen=("seen_at", "min"),
                                                                          weight=("seen_at", "size"))
    shared = involved.merge(involved[["person", "incident"]], on="incident", suffixes=("_a", "_b"))
    shared = shared[shared.person_a < shared.person_b]
    co = shared.groupby(["person_a", "person_b"], as_index=False).agg(first_seen=("first_seen", "min"),
                                                                       last_seen=("first_seen", "max"),
                                                                       weight=("incident", "nunique"))
    edges = pd.concat([
        pd.DataFrame({"source": involved.person, "target": involved.incident, "kind": "involved",
                      "first_seen": involved.first_seen, "last_seen": involved.first_seen, "weight": involved.weight}),
        pd.DataFrame({"source": co.person_a, "target": co.person_b, "kind": "co_offended",
                      "first_seen": co.first_seen, "last_seen": co.last_seen, "weight": co.weight})],
        ignore_index=True).reindex(columns=EDGE_COLUMNS)
    incidents = involved.groupby("incident", as_index=False).first_seen.min()
    persons = involved.groupby("person", as_index=False).agg(first_seen=("first_seen", "min"),
                                                             last_seen=("first_seen", "max"))
    nodes = pd.concat([
        pd.DataFrame({"node_id": persons.person, "kind": "person", "entity_id": persons.person.str[2:],
                      "label": persons.person.str[2:], "first_seen": persons.first_seen,
                      "last_seen": persons.last_seen, "attrs": "{}"}),
        pd.DataFrame({"node_id": incidents.incident, "kind": "incident", "entity_id": incidents.incident.str[2:],
                      "label": incidents.incident, "first_seen": incidents.first_seen,
                      "last_seen": incidents.first_seen, "attrs": '{"tactics": []}'})],
        ignore_index=True).reindex(columns=NODE_COLUMNS)
    return Network(nodes, edges)


def _resolve_extract(path: str) -> dict:
    """Measured in its own process: prepare, resolve (collapse, train, predict, cluster), groups analysis."""
    from workbench.linkage.groups import analyse, group_settings
    from workbench.linkage.persons import resolve_persons
    from workbench.linkage.records import prepare_person_records
    from workbench.linkage.settings import load_settings
    from workbench.linkage.stages import recording, stage

    settings = load_settings()
    cell = float((settings.persons.get("context") or {}).get("place_cell_degrees", 0.5))
    with recording() as stages:
        with stage("load") as row:
            frame = pd.read_parquet(path).drop(columns=["person_id", "written_flags"])
            row["records"] = len(frame)
        with stage("prepare"):
            prepared = prepare_person_records(frame, "mention_id", EXTRACT_ROLES, place_cell_degrees=cell)
        del frame
        with stage("persons"):
            resolution = resolve_persons(prepared, settings)
        with stage("groups"):
            with stage("network") as row:
                network = extract_network(prepared, resolution.clusters)
                row["nodes"], row["edges"] = len(network.nodes), len(network.edges)
            result = analyse(network, group_settings(settings))
    clusters = resolution.clusters[["record_id", "cluster_id"]]
    clusters.to_parquet(Path(path).with_name("clusters.parquet"))
    groups = [g["members"] for g in result["groups"]]
    Path(path).with_name("groups.json").write_text(json.dumps(groups))
    return {"records": int(len(prepared)), "persons_found": int(clusters.cluster_id.nunique()),
            "pairs_kept": resolution.stats.get("pairs_kept"), "representatives": resolution.stats.get("representatives"),
            "projection_edges": int(len(result["edges"])), "groups": len(groups),
            "modularity": round(float(result["modularity"]), 4), "stability": result["stability"],
            "training": resolution.stats.get("training"), "stages": stages}


def score_extract(root: Path) -> dict:
    """Pairwise and B-cubed accuracy of the extract's clusters, and crews found (member Jaccard >= 0.8)."""
    from workbench.linkage.groups import jaccard

    truth = pd.read_parquet(root / "mentions.parquet", columns=["mention_id", "person_id", "full_name"])
    found = pd.read_parquet(root / "clusters.parquet")
    found["mention_id"] = found.record_id.astype("int64")
    merged = truth.merge(found[["mention_id", "cluster_id"]], on="mention_id", how="left")
    baseline = merged.full_name.fillna("").str.lower().str.replace(",", " ").str.split().map(
        lambda parts: " ".join(sorted(parts)))
    persons = pd.read_parquet(root / "persons.parquet")
    crews = persons[persons.crew_id.notna()].groupby("crew_id").person_id.apply(set)
    majority = merged.groupby("cluster_id").person_id.agg(lambda s: s.mode().iloc[0])   # found person -> truth
    groups = [{majority.get(m) for m in g} for g in json.loads((root / "groups.json").read_text())]
    best = [max([jaccard(crew, g) for g in groups] + [0.0]) for crew in crews]
    return {"person_mentions": int(len(merged)), "true_persons": int(merged.person_id.nunique()),
            "found_persons": int(merged.cluster_id.nunique()),
            "persons_pairwise": bench_linkage.pairwise(merged.person_id, merged.cluster_id),
            "persons_bcubed": bench_linkage.bcubed(merged.person_id, merged.cluster_id),
            "baseline_exact_name_pairwise": bench_linkage.pairwise(merged.person_id, baseline),
            "baseline_exact_name_bcubed": bench_linkage.bcubed(merged.person_id, baseline),
            "crews_true": int(len(crews)), "crews_matched": int(sum(b >= 0.8 for b in best)),
            "groups_found": len(groups),
            "spurious_groups": int(sum(max([jaccard(c, g) for c in crews] + [0.0]) < 0.5 for g in groups))}


def build_extract(root: Path, n_mentions: int, seed: int = SEED) -> Path:
    """The extract under root (mentions.parquet with its truth, persons.parquet), reused when already built."""
    root = Path(root)
    marker = root / "built.json"
    if marker.exists() and json.loads(marker.read_text()) == {"mentions": n_mentions, "seed": seed}:
        return root / "mentions.parquet"
    root.mkdir(parents=True, exist_ok=True)
    mentions, persons = persons_extract(n_mentions, seed)
    mentions.to_parquet(root / "mentions.parquet", index=False)
    persons.assign(dob=persons.dob.astype(str)).to_parquet(root / "persons.parquet", index=False)
    marker.write_text(json.dumps({"mentions": n_mentions, "seed": seed}))
    return root / "mentions.parquet"


# -- the run ----------------------------------------------------------------------------------------------------
def _world_records(out_dir: Path, scale: float) -> list[dict]:
    names = {bench_linkage.QUICK_SCALE: "linkage_quick", bench_linkage.FULL_SCALE: "linkage_full", 30.0: "linkage_1m"}
    root = Path(out_dir) / names.get(scale, f"linkage_scale_{scale:g}")      # bench_linkage's worlds are reused
    if scale == 30.0 and not (root / "built.json").exists():
        return [{"step": "resolve end to end, world scale 30", "skipped": "not built (19 minutes): run "
                 "bench_linkage.build(out/bench/linkage_1m, 30) first"}]
    world, db = bench_linkage.build(root, scale)
    timed = measure(bench_linkage._resolve, str(db))
    runs = timed["result"] or []
    mentions = next((r.get("records") for r in runs if r.get("entity") == "person"), None)
    records = [{"step": f"resolve end to end, world scale {scale:g}", "input": "sample world", "scale": scale,
                "person_mentions": mentions, "wall_s": timed["wall_s"], "peak_rss_mb": timed["peak_rss_mb"],
                "error": timed["error"], "stages": [s for r in runs for s in r.get("stages", [])],
                "runs": [{k: v for k, v in r.items() if k != "stages"} for r in runs]}]
    if not timed["error"]:
        records.append({"step": f"accuracy, world scale {scale:g}", "scale": scale, **bench_linkage.score(db, world)})
    return records


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    records = []
    for scale in (QUICK_WORLDS if quick else FULL_WORLDS):
        records += _world_records(out_dir, scale)
    n = QUICK_EXTRACT if quick else FULL_EXTRACT
    root = Path(out_dir) / f"linkage_extract_{n}"
    built = measure(build_extract, root, n)
    path = root / "mentions.parquet"
    timed = measure(_resolve_extract, str(path))
    result = timed["result"] or {}
    record = {"step": f"resolve end to end, persons-only extract {n:,}", "input": "persons-only extract",
              "person_mentions": result.get("records"), "generate_s": built["wall_s"], "wall_s": timed["wall_s"],
              "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"] or built["error"],
              "cpu_s": round(sum(st.get("cpu_s", 0) for st in result.get("stages", []) if "/" not in st["stage"]), 1),
              **{k: v for k, v in result.items() if k != "records"},
              "target_s": TARGET_S, "target_peak_mb": TARGET_MB}
    if n >= FULL_EXTRACT:        # the target is for a million mentions; a quick run only checks the path
        record["met"] = (not record["error"]) and (result.get("records") or 0) >= FULL_EXTRACT * 0.99 \
            and timed["wall_s"] <= TARGET_S and timed["peak_rss_mb"] <= TARGET_MB
    records.append(record)
    if not record["error"]:
        records.append({"step": f"accuracy, persons-only extract {n:,}", **score_extract(root)})
    return records
