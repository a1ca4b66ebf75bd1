"""The clerical review queue: pairs the model could not settle, listed for an analyst, most uncertain first.

- `review_queue(store, entity="person"|"vehicle", blind=False, limit=None)` -> DataFrame, one row per pair:
  `rank`, `entity`, `mention_a`, `mention_b`, `reason`, the model's view (`match_weight`, `match_probability`,
  `uncertainty`; not in blind mode) and both mentions' attributes (`<column>_a`, `<column>_b`).
- Persons: the pairs in the review band `[review, auto_link)` of the latest person run's model, re-scored from
  the stored model (no training), that are not in one resolved person, not cut by context (impossible travel,
  one referral) and not already decided. Most uncertain first: the match probability nearest 0.5
  (`uncertainty = 1 - |2p - 1|`, p = 2^w / (1 + 2^w) for match weight w).
- Vehicles: a partial plate that fits several known vehicles (one pair per candidate: the fragment and a
  sighting of that vehicle, probability 1 / candidates), and each `description_conflict` flag (one plate, two
  descriptions: a misrecorded colour or a cloned plate?), which has no model probability and comes last.
- `blind=True` leaves out every column of the model's view (`BLIND_HIDDEN`) so the analyst decides unprompted;
  the order stays (most uncertain first) and the decision goes through `run.decide` (`workbench link decide`).

Computation only: no rendering, no printing.
"""
from __future__ import annotations

import json
import math

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.settings import LinkageSettings, load_settings
from workbench.store import Store

ENTITIES = ("person", "vehicle")
BLIND_HIDDEN = ("match_weight", "match_probability", "uncertainty", "candidates")
PERSON_ATTRIBUTES = ("person_id", "full_name", "alias", "dob", "gender", "role", "occurred_at", "force_code",
                     "location", "source_name", "source_ref")
VEHICLE_ATTRIBUTES = ("vehicle_id", "vrm_raw", "make", "model", "colour", "occurred_at", "force_code", "location",
                      "source_name", "source_ref")


def probability(weight: float) -> float:
    """Match probability of a match weight (log2 Bayes factor including the prior)."""
    if weight is None or pd.isna(weight):
        return math.nan
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0 ** float(weight)
    return odds / (1.0 + odds)


def uncertainty(p: float) -> float:
    """1 for a coin toss (p = 0.5), 0 for a certain answer either way; NaN when there is no probability."""
    return math.nan if p is None or pd.isna(p) else 1.0 - abs(2.0 * float(p) - 1.0)


def _check_entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise WorkbenchError(f"unknown entity {str(entity)[:40]!r} (person or vehicle)")
    return entity


def _check_limit(limit) -> int | None:
    if limit is None:
        return None
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise WorkbenchError(f"--limit must be a whole number, got {str(limit)[:40]!r}") from None
    if value < 1:
        raise WorkbenchError(f"--limit must be at least 1 (got {value})")
    return value


def _decided(store: Store, entity: str) -> set[frozenset]:
    rows = store.query("linkage/decisions", entity=entity)
    return {frozenset((int(a), int(b))) for a, b in zip(rows.mention_a, rows.mention_b)}


def _with_attributes(pairs: pd.DataFrame, mentions: pd.DataFrame, attributes) -> pd.DataFrame:
    info = mentions.set_index("mention_id").loc[:, list(attributes)]
    out = pairs.reset_index(drop=True)
    for side in ("a", "b"):
        part = info.reindex(out[f"mention_{side}"].to_numpy())
        part.columns = [f"{c}_{side}" for c in part.columns]
        out = pd.concat([out, part.reset_index(drop=True)], axis=1)
    return out


def _order(queue: pd.DataFrame) -> pd.DataFrame:
    """Most uncertain first (no probability last), then by the mention ids: a stable, repeatable order."""
    key = queue["uncertainty"].fillna(-1.0)
    queue = queue.assign(_key=-key).sort_values(["_key", "mention_a", "mention_b"], kind="mergesort")
    queue = queue.drop(columns="_key").reset_index(drop=True)
    queue.insert(0, "rank", range(1, len(queue) + 1))
    return queue


def _finish(queue: pd.DataFrame, blind: bool, limit: int | None) -> pd.DataFrame:
    queue = _order(queue)
    if limit is not None:
        queue = queue.head(limit)
    if blind:
        queue = queue.drop(columns=[c for c in BLIND_HIDDEN if c in queue.columns])
    return queue.reset_index(drop=True)


# -- persons --------------------------------------------------------------------------------------------
PERSON_COLUMNS = ["entity", "mention_a", "mention_b", "reason", "match_weight", "match_probability", "uncertainty"]


def person_review_pairs(store: Store, settings: LinkageSettings | None = None, scoring=None) -> pd.DataFrame:
    """The review-band pairs of the latest person run's model: mention_a < mention_b, match_weight (unordered).

    Weights come from `run.stored_scoring`, the same scoring `run.explain` uses, so a pair's weight here is
    the total of its explanation."""
    from workbench.linkage.run import stored_scoring

    resolution = scoring or stored_scoring(store, settings)
    band = resolution.review_pairs()
    if band.empty:
        return pd.DataFrame(columns=["mention_a", "mention_b", "match_weight"])
    a, b = band.id_l.astype("int64"), band.id_r.astype("int64")
    return pd.DataFrame({"mention_a": a.where(a < b, b).to_numpy(), "mention_b": b.where(a < b, a).to_numpy(),
                         "match_weight": band.match_weight.astype(float).to_numpy()})


def person_queue(store: Store, *, settings: LinkageSettings | None = None) -> pd.DataFrame:
    pairs = person_review_pairs(store, settings)
    mentions = store.query("linkage/review_person_mentions")
    person = dict(zip(mentions.mention_id.astype("int64"), mentions.person_id))
    decided = _decided(store, "person")
    keep = pd.Series([frozenset((a, b)) not in decided and not (pd.notna(person.get(a))
                                                                 and person.get(a) == person.get(b))
                      for a, b in zip(pairs.mention_a, pairs.mention_b)], index=pairs.index, dtype=bool)
    pairs = pairs[keep].drop_duplicates(["mention_a", "mention_b"])
    p = pairs.match_weight.map(probability)
    queue = pd.DataFrame({"entity": "person", "mention_a": pairs.mention_a.to_numpy(),
                          "mention_b": pairs.mention_b.to_numpy(), "reason": "review band",
                          "match_weight": pairs.match_weight.round(3).to_numpy(),
                          "match_probability": p.round(4).to_numpy(), "uncertainty": p.map(uncertainty).round(4).to_numpy()},
                         columns=PERSON_COLUMNS)
    return _with_attributes(queue, mentions, PERSON_ATTRIBUTES)


# -- vehicles -------------------------------------------------------------------------------------------
def vehicle_queue(store: Store, settings: LinkageSettings | None = None) -> pd.DataFrame:
    from workbench.linkage.vehicles import confusable_key

    settings = settings or load_settings()
    mapping = {str(k): str(v) for k, v in (settings.vehicles.get("confusable") or {}).items()} or None
    if store.query("linkage/status").query("entity == 'vehicle'").empty:
        raise WorkbenchError("no vehicle linkage run yet: run `workbench link run` first")
    mentions = store.query("linkage/review_vehicle_mentions")
    mentions["mention_id"] = mentions["mention_id"].astype("int64")
    linked = mentions[mentions.vehicle_id.notna()]
    first = linked.groupby("vehicle_id")["mention_id"].min()                # one sighting of each vehicle
    vehicles = store.query("linkage/resolved_vehicles")
    vehicles = vehicles[(vehicles.status == "active") & vehicles.vehicle_id.isin(first.index)]
    keys = vehicles.vrm.map(lambda v: confusable_key(v, mapping))           # candidates are confusable keys
    by_vrm = vehicles.groupby(keys)["vehicle_id"].apply(sorted).to_dict()
    sighting = first.to_dict()
    vehicle = dict(zip(mentions.mention_id, mentions.vehicle_id))
    rows = []
    for mention, raw in zip(mentions.mention_id, mentions.candidates):
        plates = json.loads(raw) if isinstance(raw, str) and raw.strip() else []
        candidates = [v for plate in plates for v in by_vrm.get(plate, [])]
        if pd.notna(vehicle.get(mention)) or len(candidates) < 2:
            continue
        p = 1.0 / len(candidates)
        for cand in candidates:
            rows.append({"mention_a": int(mention), "mention_b": int(sighting[cand]),
                         "reason": f"partial plate fits {len(candidates)} vehicles", "match_probability": round(p, 4),
                         "uncertainty": round(uncertainty(p), 4), "candidates": len(candidates)})
    flags = store.query("linkage/vehicle_flags")
    for kind, a, b in zip(flags.kind, flags.mention_a, flags.mention_b):
        if kind != "description_conflict" or pd.isna(a) or pd.isna(b):
            continue
        rows.append({"mention_a": int(min(a, b)), "mention_b": int(max(a, b)),
                     "reason": "one plate, two descriptions", "match_probability": math.nan,
                     "uncertainty": math.nan, "candidates": math.nan})
    queue = pd.DataFrame(rows, columns=["mention_a", "mention_b", "reason", "match_probability", "uncertainty",
                                        "candidates"])
    decided = _decided(store, "vehicle")
    keep = pd.Series([frozenset((a, b)) not in decided and a != b for a, b in zip(queue.mention_a, queue.mention_b)],
                     index=queue.index, dtype=bool)
    queue = queue[keep].drop_duplicates(["mention_a", "mention_b"])
    queue.insert(0, "entity", "vehicle")
    return _with_attributes(queue, mentions, VEHICLE_ATTRIBUTES)


# -- the queue ------------------------------------------------------------------------------------------
def review_queue(store: Store, entity: str = "person", *, blind: bool = False, limit: int | None = None,
                 settings: LinkageSettings | None = None) -> pd.DataFrame:
    """The pairs for clerical review, most uncertain first, with both mentions' attributes (module docstring)."""
    entity = _check_entity(entity)
    limit = _check_limit(limit)
    queue = person_queue(store, settings=settings) if entity == "person" else vehicle_queue(store, settings)
    return _finish(queue, blind, limit)


def blind_view(queue: pd.DataFrame) -> pd.DataFrame:
    """A queue with the model's view removed (for a widget that toggles blind mode on a computed queue)."""
    return queue.drop(columns=[c for c in BLIND_HIDDEN if c in queue.columns])


# -- the mentions behind a node of a link network (workbench.linkage.network node ids) ---------------------
MENTION_COLUMNS = ["kind", "mention_id", "entity_id", "name_or_vrm", "detail", "occurred_at", "force_code", "location",
                   "incident_id", "source_name", "source_ref"]


def node_mentions(store: Store, node_id: str) -> pd.DataFrame:
    """The person and vehicle mentions behind a network node, newest first: a person's or a vehicle's own
    mentions ("P:RP...", "V:RV..."), or everyone and every vehicle mentioned at an incident ("I:<id>") or at the
    incidents of a store ("S:<id>"). Columns MENTION_COLUMNS; text as written (not escaped)."""
    node_id = str(node_id).strip()
    prefix, _, key = node_id.partition(":")
    if prefix not in ("P", "V", "I", "S") or not key:
        raise WorkbenchError(f"{node_id[:60]!r} is not a network node id (P:, V:, I: or S: and an id)")
    persons = store.query("linkage/review_person_mentions")
    vehicles = store.query("linkage/review_vehicle_mentions")
    if prefix in ("I", "S"):
        column = "incident_id" if prefix == "I" else "store_id"
        try:
            value = int(key) if prefix == "I" else key
        except ValueError:
            raise WorkbenchError(f"{node_id[:60]!r}: an incident id is a whole number") from None
        persons = persons[persons[column].astype(object) == value]
        vehicles = vehicles[vehicles[column].astype(object) == value]
    elif prefix == "P":
        persons, vehicles = persons[persons.person_id == key], vehicles.iloc[0:0]
    else:
        persons, vehicles = persons.iloc[0:0], vehicles[vehicles.vehicle_id == key]
    if persons.empty and vehicles.empty and prefix in ("P", "V"):
        raise WorkbenchError(f"no {'person' if prefix == 'P' else 'vehicle'} {key[:40]!r} with mentions "
                             "in the latest linkage run")
    people = pd.DataFrame({"kind": "person", "mention_id": persons.mention_id, "entity_id": persons.person_id,
                           "name_or_vrm": persons.full_name,
                           "detail": [" ".join(str(v) for v in (d, g, r) if v is not None and not pd.isna(v))
                                      for d, g, r in zip(persons.dob_raw, persons.gender, persons.role)],
                           "occurred_at": persons.occurred_at, "force_code": persons.force_code,
                           "location": persons.location, "incident_id": persons.incident_id,
                           "source_name": persons.source_name, "source_ref": persons.source_ref})
    cars = pd.DataFrame({"kind": "vehicle", "mention_id": vehicles.mention_id, "entity_id": vehicles.vehicle_id,
                         "name_or_vrm": vehicles.vrm_raw,
                         "detail": [" ".join(str(v) for v in (m, c) if v is not None and not pd.isna(v))
                                    for m, c in zip(vehicles.make, vehicles.colour)],
                         "occurred_at": vehicles.occurred_at, "force_code": vehicles.force_code,
                         "location": vehicles.location, "incident_id": vehicles.incident_id,
                         "source_name": vehicles.source_name, "source_ref": vehicles.source_ref})
    frames = [f for f in (people, cars) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=MENTION_COLUMNS)
    return out.sort_values(["occurred_at", "mention_id"], ascending=[False, True], na_position="last",
                           kind="mergesort").reset_index(drop=True).loc[:, MENTION_COLUMNS]
