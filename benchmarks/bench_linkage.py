"""Linkage accuracy and time: persons and vehicles of a sample world resolved, scored against its ground truth.

The world is generated (`workbench sample`) and ingested (`workbench ingest`) through the CLI, then
`workbench.linkage.run.run_all` is measured in its own process. Scores (here and in tests, never in library code):

- persons: pairwise precision/recall/F1 over pairs of mentions, and B-cubed precision/recall/F1 per mention,
  for the model and, in the same run, for exact-name matching (lower-cased written name) as the baseline;
- vehicles: pairwise precision/recall/F1 (an unresolved partial plate counts as a vehicle of its own);
  cloned plates found (a flagged VRM that the truth clones) and false clone flags (flagged VRMs it does not).

How store mentions meet the truth: the ingest keeps each referral's source and reference (referrals.source_name,
source_ref) and its version (a resubmission is version 2); the ground truth's referral_rows give the
referral_ref of every file row, and person_mentions / vehicle_mentions the person / vehicle of every row. Within a
referral, person mentions pair with truth rows by written name (full_name = written_name) in order.

Quick: scale 0.1 (about 3k person mentions); full: scale 1 (about 31k).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks.common import measure

SEED = 7
QUICK_SCALE = 0.1
FULL_SCALE = 1.0


# -- truth mapping ------------------------------------------------------------------------------------------
def _truth(world: Path, name: str) -> pd.DataFrame:
    gt = Path(world) / "ground_truth"
    rows = pd.read_parquet(gt / "referral_rows.parquet")
    mentions = pd.read_parquet(gt / f"{name}.parquet")
    return mentions.merge(rows[["source_name", "file_name", "row_number", "referral_ref", "resubmission"]],
                          on=["source_name", "file_name", "row_number"], how="left")


def person_truth(con, world: Path) -> pd.DataFrame:
    """Store person mentions (mention_id, full_name) with the true person_id."""
    store = con.execute("""SELECT m.mention_id, m.full_name, r.source_name, r.source_ref, r.version > 1 AS resubmission
                           FROM person_mentions m JOIN referrals r USING (referral_id) ORDER BY m.mention_id""").df()
    truth = _truth(world, "person_mentions")
    truth["k"] = truth.groupby(["source_name", "referral_ref", "resubmission", "written_name"]).cumcount()
    store["k"] = store.groupby(["source_name", "source_ref", "resubmission", "full_name"]).cumcount()
    merged = store.merge(truth[["source_name", "referral_ref", "resubmission", "written_name", "k", "person_id"]],
                         left_on=["source_name", "source_ref", "resubmission", "full_name", "k"],
                         right_on=["source_name", "referral_ref", "resubmission", "written_name", "k"], how="left")
    return merged[["mention_id", "full_name", "person_id"]]


def vehicle_truth(con, world: Path) -> pd.DataFrame:
    store = con.execute("""SELECT v.mention_id, r.source_name, r.source_ref, r.version > 1 AS resubmission
                           FROM vehicle_mentions v JOIN referrals r USING (referral_id) ORDER BY v.mention_id""").df()
    truth = _truth(world, "vehicle_mentions").drop_duplicates(["source_name", "referral_ref", "resubmission"])
    merged = store.merge(truth[["source_name", "referral_ref", "resubmission", "vehicle_id"]],
                         left_on=["source_name", "source_ref", "resubmission"],
                         right_on=["source_name", "referral_ref", "resubmission"], how="left")
    return merged[["mention_id", "vehicle_id"]]


def cloned_vrms(world: Path, observable: bool = False) -> set[str]:
    """VRMs the truth clones; observable: only those where the clone and the genuine car both have a mention
    (a clone no referral ever saw beside its twin cannot be found by any method)."""
    gt = Path(world) / "ground_truth"
    vehicles = pd.read_parquet(gt / "vehicles.parquet")
    cloned = vehicles[vehicles.cloned_from.notna()]
    if observable:
        seen = set(pd.read_parquet(gt / "vehicle_mentions.parquet").vehicle_id)
        cloned = cloned[cloned.vehicle_id.isin(seen) & cloned.cloned_from.isin(seen)]
    return {v.replace(" ", "").upper() for v in cloned.vrm}


# -- metrics ------------------------------------------------------------------------------------------------
def _pairs(sizes: pd.Series) -> float:
    return float((sizes * (sizes - 1) / 2).sum())


def pairwise(truth: pd.Series, predicted: pd.Series) -> dict:
    frame = pd.DataFrame({"t": truth.to_numpy(), "p": predicted.to_numpy()})
    tp = _pairs(frame.groupby(["t", "p"]).size())
    pp, tt = _pairs(frame.groupby("p").size()), _pairs(frame.groupby("t").size())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def bcubed(truth: pd.Series, predicted: pd.Series) -> dict:
    frame = pd.DataFrame({"t": truth.to_numpy(), "p": predicted.to_numpy()})
    both = frame.groupby(["t", "p"])["t"].transform("size")
    precision = float((both / frame.groupby("p")["p"].transform("size")).mean())
    recall = float((both / frame.groupby("t")["t"].transform("size")).mean())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score(db: str | Path, world: str | Path) -> dict:
    """Accuracy of the store's current person_links / vehicle_links / vehicle_flags against the world's truth."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        persons = person_truth(con, Path(world))
        links = con.execute("SELECT mention_id, person_id FROM person_links").df()
        persons = persons.merge(links, on="mention_id", how="left", suffixes=("", "_found"))
        persons = persons[persons.person_id.notna()]
        found = persons.person_id_found.fillna("unlinked:" + persons.mention_id.astype(str))
        baseline = persons.full_name.fillna("").str.lower().str.split().str.join(" ")
        vehicles = vehicle_truth(con, Path(world))
        vlinks = con.execute("SELECT mention_id, vehicle_id AS found FROM vehicle_links").df()
        vehicles = vehicles.merge(vlinks, on="mention_id", how="left")
        vehicles = vehicles[vehicles.vehicle_id.notna()]
        vfound = vehicles.found.fillna("unresolved:" + vehicles.mention_id.astype(str))
        flagged = set(con.execute("SELECT DISTINCT vrm FROM vehicle_flags WHERE run_id = "
                                  "(SELECT max(run_id) FROM linkage_runs WHERE entity = 'vehicle')").df().vrm)
    finally:
        con.close()
    clones = cloned_vrms(Path(world))
    observable = cloned_vrms(Path(world), observable=True)
    return {
        "person_mentions": int(len(persons)), "true_persons": int(persons.person_id.nunique()),
        "found_persons": int(found.nunique()),
        "persons_pairwise": pairwise(persons.person_id, found), "persons_bcubed": bcubed(persons.person_id, found),
        "baseline_exact_name_pairwise": pairwise(persons.person_id, baseline),
        "baseline_exact_name_bcubed": bcubed(persons.person_id, baseline),
        "vehicle_mentions": int(len(vehicles)), "true_vehicles": int(vehicles.vehicle_id.nunique()),
        "found_vehicles": int(vehicles.found.dropna().nunique()),
        "vehicles_pairwise": pairwise(vehicles.vehicle_id, vfound),
        "cloned_plates_true": sorted(clones), "cloned_plates_found": sorted(clones & flagged),
        "false_clone_flags": sorted(flagged - clones),
        "cloned_plates_observable": sorted(observable),
        "clone_recall": round(len(observable & flagged) / len(observable), 4) if observable else None,
    }


# -- building and running -----------------------------------------------------------------------------------
def _cli(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", *args, "--json"], capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"workbench {' '.join(args)}: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


def build(root: Path, scale: float, seed: int = SEED) -> tuple[Path, Path]:
    """A sample world and a store with its extracts ingested, under root (reused when already built)."""
    root = Path(root)
    world, db = root / "world", root / "linkage.duckdb"
    marker = root / "built.json"
    if marker.exists() and db.exists():
        return world, db
    root.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    _cli("sample", "--seed", str(seed), "--scale", str(scale), "--out", str(world), "--reuse")
    _cli("ingest", str(world / "extracts"), "--db", str(db))
    marker.write_text(json.dumps({"scale": scale, "seed": seed}))
    return world, db


def _resolve(db: str) -> dict:
    from workbench.linkage.run import run_all
    from workbench.store import open_store

    with open_store(db) as store:
        results = run_all(store)
    return [{k: v for k, v in r.items() if k != "resolution"} for r in results]


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    scale = QUICK_SCALE if quick else FULL_SCALE
    root = Path(out_dir) / ("linkage_quick" if quick else "linkage_full")
    world, db = build(root, scale)
    timed = measure(_resolve, str(db))
    record = {"step": "resolve_persons_and_vehicles", "scale": scale, "seed": SEED, "wall_s": timed["wall_s"],
              "peak_rss_mb": timed["peak_rss_mb"], "error": timed["error"], "runs": timed["result"]}
    records = [record]
    if not timed["error"]:
        records.append({"step": "accuracy", "scale": scale, **score(db, world)})
    return records
