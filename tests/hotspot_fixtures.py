"""Builders shared by the hotspot tests: a small sample world (ground truth read in TESTS only) and a
store filled with its incidents, enriched with geography."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

WORLD_SEED = 11
WORLD_SCALE = 0.2


@lru_cache(maxsize=2)
def world(root: str, seed: int = WORLD_SEED, scale: float = WORLD_SCALE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(incidents, stores) ground truth of a generated sample world under `root`."""
    from workbench.sample.generate import generate_world

    out = Path(root) / f"world_{seed}_{scale}"
    if not (out / "ground_truth" / "incidents.parquet").exists():
        generate_world(seed, scale, out)
    incidents = pd.read_parquet(out / "ground_truth" / "incidents.parquet")
    stores = pd.read_parquet(out / "ground_truth" / "stores.parquet")
    return incidents, stores


def world_events(root: str, **kw) -> pd.DataFrame:
    incidents, stores = world(root, **kw)
    ev = incidents.merge(stores[["store_id", "retailer_code", "latitude", "longitude", "lsoa_code"]], on="store_id")
    return ev.rename(columns={"retailer_code": "retailer_id"})


def fill_store(store, incidents: pd.DataFrame, stores: pd.DataFrame, force_codes=None) -> dict:
    """Insert retailers, stores, incidents and incident tactics from ground truth, then enrich."""
    from workbench import geography

    if force_codes is not None:
        stores = stores[stores["force_code"].isin(force_codes)]
        incidents = incidents[incidents["store_id"].isin(stores["store_id"])]
    retailers = stores[["retailer_code", "retailer_name", "sector"]].drop_duplicates("retailer_code")
    st = pd.DataFrame({"store_id": stores["store_id"], "retailer_id": stores["retailer_code"],
                       "store_ref": stores["store_ref"], "name": stores["store_name"], "address": stores["address"],
                       "town": stores["town"], "postcode": stores["postcode"], "latitude": stores["latitude"],
                       "longitude": stores["longitude"], "force_code": stores["force_code"]})
    inc = pd.DataFrame({"incident_id": incidents["world_incident_id"].astype("int64"),
                        "crime_number": incidents["crime_number"], "force_code": incidents["force_code"],
                        "store_id": incidents["store_id"], "occurred_at": incidents["occurred_at"],
                        "offence_type": np.where(incidents["violence"], "robbery", "shoplifting"),
                        "value_gbp": incidents["value_gbp"]})
    tac = incidents[["world_incident_id", "tactics"]].dropna()
    tac = tac.assign(tactic_code=tac["tactics"].str.split(";")).explode("tactic_code")
    tac = pd.DataFrame({"incident_id": tac["world_incident_id"].astype("int64"), "tactic_code": tac["tactic_code"]})
    con = store.con
    for name, frame, cols in (("retailers", retailers.rename(columns={"retailer_code": "retailer_id",
                                                                       "retailer_name": "name"}),
                               "retailer_id, name, sector"),
                              ("stores", st, ", ".join(st.columns)), ("incidents", inc, ", ".join(inc.columns)),
                              ("incident_tactics", tac, "incident_id, tactic_code")):
        con.register("_fill", frame)
        con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _fill")
        con.unregister("_fill")
    return geography.enrich_store(store)


# -- a store built the way an analyst builds one: `workbench sample`, `workbench ingest`, `workbench geo enrich` --
INGESTED_SEED = 7
INGESTED_SCALE = 0.05          # about 7,600 incidents, every force and store: about a minute to build
POLICE_UK_FILES = sorted((Path(__file__).resolve().parent.parent / "sample_data" / "police_uk").glob("*-street-*.csv"))


def _workbench(*args: str, env: dict | None = None) -> dict:
    """Run the workbench command line in a process of its own (`python -m workbench.cli`, the entry point the
    installed `workbench` script calls) with --json; its parsed output."""
    import json
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "workbench.cli", *args, "--json"], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=900)
    assert proc.returncode == 0, f"workbench {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def ingested_world(root: Path, police_uk: bool = True) -> dict:
    """A store filled only through the CLI: a small sample world generated, its extracts ingested, geography
    enriched, and (police_uk) the shipped police.uk street files ingested with the police_uk_street mapping.
    Built once under `root` (a completion marker; later calls reuse it). Returns the paths and the CLI reports;
    ground truth is never used."""
    import json

    root = Path(root)
    marker = root / "built.json"
    if marker.exists():
        return json.loads(marker.read_text())
    root.mkdir(parents=True, exist_ok=True)
    world_dir, db = root / "world", root / "ingested.duckdb"
    made = _workbench("sample", "--seed", str(INGESTED_SEED), "--scale", str(INGESTED_SCALE), "--out", str(world_dir))
    referrals = _workbench("ingest", str(world_dir / "extracts"), "--db", str(db))["batches"]
    enrich = _workbench("geo", "enrich", "--db", str(db))
    recorded = (_workbench("ingest", *map(str, POLICE_UK_FILES), "--source", "police_uk_street", "--db", str(db))
                ["batches"] if police_uk else [])
    built = {"world": str(world_dir), "db": str(db), "sample": made, "referral_batches": referrals,
             "enrich": enrich, "recorded_batches": recorded}
    marker.write_text(json.dumps(built, default=str))
    return built
