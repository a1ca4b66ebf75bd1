"""Alerts: a batch of new referrals matched against a resolved store, beside a full re-run of person resolution.

The store of the linkage benchmark (a sample world generated and ingested through the CLI; reused when
benchmarks/bench_linkage.py has built it) is copied and resolved once (`run_all`: persons, vehicles, groups).
Then 1,000 of its current referrals with a person mention (seeded choice) become a new ingest batch: their person
and vehicle links are removed, so that they are new mentions the resolved store has not seen. Measured, each
in its own process:

- `alerts_scan`: `workbench.linkage.alerts.scan_batch` for that batch (stored model, `predict_between`, vehicle
  keys; no retraining): the target is <= 10 s for 1,000 referrals;
- `baseline_full_person_run`: `run_persons` over the whole store (train, predict, cluster), what finding the
  same people by re-running resolution would cost.

Also reported (benchmark code reads the ground truth, library code never does): how many person alerts name
the person the full run had put the mention in (agreement), and how many name the true person (precision).
Quick: scale 0.1 and 200 referrals.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks import bench_linkage
from benchmarks.common import measure

BATCH = 1000
BATCH_QUICK = 200
SEED = 11


def _full_run(db: str) -> dict:
    from workbench.linkage.run import run_all
    from workbench.store import open_store

    with open_store(db) as store:
        results = run_all(store)
    return {r["entity"]: {k: v for k, v in r.items() if k != "resolution"} for r in results}


def _person_run(db: str) -> dict:
    from workbench.linkage.run import run_persons
    from workbench.store import open_store

    with open_store(db) as store:
        result = run_persons(store)
    return {k: v for k, v in result.items() if k != "resolution"}


def _make_batch(db: str, size: int) -> dict:
    """Turn `size` current referrals with person mentions into a new batch whose mentions are unresolved."""
    from workbench.store import open_store, utcnow

    with open_store(db) as store:
        con = store.con
        chosen = con.execute("""
            SELECT referral_id FROM referrals r
            WHERE is_current AND EXISTS (SELECT 1 FROM person_mentions m WHERE m.referral_id = r.referral_id)
            ORDER BY hash(referral_id + $seed) LIMIT $n""", {"seed": SEED, "n": size}).df().referral_id.tolist()
        con.execute("BEGIN TRANSACTION")
        batch_id = con.execute("INSERT INTO ingest_batches (source_name, file_name, file_sha256, started_at, os_user, "
                               "status) VALUES ('bench', 'bench_alerts', 'none', $t, 'bench', 'committed') "
                               "RETURNING batch_id", {"t": utcnow()}).fetchone()[0]
        con.register("_chosen", __import__("pandas").DataFrame({"referral_id": chosen}))
        con.execute("UPDATE referrals SET batch_id = $b WHERE referral_id IN (SELECT referral_id FROM _chosen)",
                    {"b": batch_id})
        before = con.execute("""SELECT l.mention_id, l.person_id FROM person_links l JOIN person_mentions m
                                USING (mention_id) WHERE m.referral_id IN (SELECT referral_id FROM _chosen)""").df()
        con.execute("DELETE FROM person_links WHERE mention_id IN (SELECT mention_id FROM person_mentions "
                    "WHERE referral_id IN (SELECT referral_id FROM _chosen))")
        con.execute("DELETE FROM vehicle_links WHERE mention_id IN (SELECT mention_id FROM vehicle_mentions "
                    "WHERE referral_id IN (SELECT referral_id FROM _chosen))")
        con.execute("COMMIT")
        mentions = con.execute("SELECT count(*) FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM "
                               "_chosen)").fetchone()[0]
    return {"batch_id": int(batch_id), "referrals": len(chosen), "person_mentions": int(mentions),
            "full_run_person_of": dict(zip(before.mention_id.astype(int), before.person_id))}


def _scan(db: str, batch_id: int) -> dict:
    from workbench.linkage import alerts
    from workbench.linkage.settings import load_settings
    from workbench.store import open_store

    with open_store(db) as store:
        result = alerts.scan_batch(store, batch_id)
        cfg = alerts.alert_settings(load_settings())
        result["watched_persons"] = int(len(alerts.watched_persons(store, cfg)))
    result.pop("alert_ids", None)
    return result


def _agreement(db: str, world: Path, batch: dict) -> dict:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        found = con.execute("SELECT mention_id, entity_id FROM alerts WHERE entity = 'person' AND batch_id = $b",
                            {"b": batch["batch_id"]}).df()
        truth = bench_linkage.person_truth(con, world)
        links = con.execute("SELECT mention_id, person_id FROM person_links").df()
    finally:
        con.close()
    full = batch["full_run_person_of"]
    agree = sum(full.get(int(m)) == e for m, e in zip(found.mention_id, found.entity_id))
    # the true person of an entity: the most frequent true person of its (resolved) mentions
    members = links.merge(truth[["mention_id", "person_id"]].rename(columns={"person_id": "true"}), on="mention_id")
    majority = members.groupby("person_id")["true"].agg(lambda s: s.value_counts().index[0]).to_dict()
    true_of = dict(zip(truth.mention_id.astype(int), truth.person_id))
    correct = sum(true_of.get(int(m)) is not None and majority.get(e) == true_of.get(int(m))
                  for m, e in zip(found.mention_id, found.entity_id))
    n = len(found)
    return {"person_alerts": int(n), "agree_with_full_run": int(agree),
            "agreement": round(agree / n, 4) if n else None, "true_person": int(correct),
            "precision": round(correct / n, 4) if n else None}


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    scale = bench_linkage.QUICK_SCALE if quick else bench_linkage.FULL_SCALE
    size = BATCH_QUICK if quick else BATCH
    source_root = Path(out_dir) / ("linkage_quick" if quick else "linkage_full")
    world, source_db = bench_linkage.build(source_root, scale)
    root = Path(out_dir) / ("alerts_quick" if quick else "alerts_full")
    root.mkdir(parents=True, exist_ok=True)
    db = root / "alerts.duckdb"
    shutil.copy(source_db, db)
    resolved = measure(_full_run, str(db))
    if resolved["error"]:
        return [{"step": "resolve", "scale": scale, "error": resolved["error"]}]
    batch = _make_batch(str(db), size)
    scan = measure(_scan, str(db), batch["batch_id"])
    records = [{"step": "alerts_scan", "scale": scale, "referrals": batch["referrals"],
                "person_mentions": batch["person_mentions"], "wall_s": scan["wall_s"],
                "peak_rss_mb": scan["peak_rss_mb"], "target_s": 10.0, "error": scan["error"], "result": scan["result"]}]
    if not scan["error"]:   # before the baseline, which rewrites the links
        records.append({"step": "alerts_accuracy", "scale": scale, **_agreement(str(db), world, batch)})
    baseline = measure(_person_run, str(db))
    records.append({"step": "baseline_full_person_run", "scale": scale, "wall_s": baseline["wall_s"],
                    "peak_rss_mb": baseline["peak_rss_mb"], "error": baseline["error"], "result": baseline["result"]})
    return records
