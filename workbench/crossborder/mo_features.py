"""Pair features for behavioural crime linkage: how alike two incidents' modus operandi, place and time are.

    enc = encode(signatures)                       # arrays over the signature rows (signatures.SIGNATURE_COLUMNS)
    feats = pair_features(enc, i, j, settings)     # one row per pair (row positions i[k], j[k] into enc)
    X = model_matrix(feats)                        # the columns the model uses (MODEL_FEATURES), gaps filled

Why these features: the crime-linkage literature (Tonkin et al., Porter) finds target selection, distance and
time carry most of the signal; travel time filters better than straight-line distance, so road hours
(great-circle km x detour factor / speed limit, the runs' settings) stand beside km, and a pair whose incidents
are closer in time than the drive between them cannot be one crew (`travel_infeasible`).
Tactic codes are kept as bit masks so Jaccard over millions of pairs is a popcount, and places as unit vectors so
a distance is one arccos.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.crossborder.runs import EARTH_KM
from workbench.crossborder.settings import crossborder_settings
from workbench.crossborder.signatures import VIOLENT_CODES

# every feature reported for a pair (explanations show them); the model uses MODEL_FEATURES
PAIR_COLUMNS = ["methods_jaccard", "goods_jaccard", "tactics_jaccard", "hour_diff", "weekday_diff", "distance_km",
                "road_hours", "days_apart", "travel_infeasible", "same_chain", "same_sector", "size_diff",
                "vehicle_agree", "violence_agree", "same_force"]
MODEL_FEATURES = ["methods_jaccard", "goods_jaccard", "hour_diff", "weekday_diff", "log_road_hours",
                  "log_days_apart", "travel_infeasible", "same_chain", "same_sector", "size_diff", "vehicle_agree",
                  "violence_agree"]


@dataclass
class Encoded:
    """Incidents as arrays (one entry per row of `frame`, which holds the incidents query's columns)."""
    frame: pd.DataFrame
    incident_id: np.ndarray
    methods: np.ndarray      # uint64 bit masks over the code vocabulary (vocab["tactics"]: code -> bit)
    goods: np.ndarray
    hour: np.ndarray         # float hours since midnight, NaN when unknown
    weekday: np.ndarray
    days: np.ndarray         # days since the epoch (float), NaN when unknown
    xyz: np.ndarray          # unit vectors of the places (n x 3), NaN when unplaced
    chain: np.ndarray        # int codes, -1 unknown
    sector: np.ndarray
    force: np.ndarray
    offenders: np.ndarray    # float, NaN unknown
    vehicle: np.ndarray      # bool
    violence: np.ndarray

    def __len__(self) -> int:
        return len(self.incident_id)

    @property
    def tactics(self) -> np.ndarray:
        return self.methods | self.goods

    def codes(self, row: int, vocab: dict, which: str = "tactics") -> list[str]:
        """The tactic codes of one row, decoded from its mask."""
        mask = int(getattr(self, which)[row])
        return sorted(c for c, bit in vocab["tactics"].items() if mask >> bit & 1)


def _category(values: pd.Series, vocab: dict) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int64)
    for k, v in enumerate(values.astype(object)):
        if isinstance(v, str) and v:
            out[k] = vocab.setdefault(v, len(vocab))
    return out


def _bits(codes, vocab: dict) -> np.ndarray:
    bits = np.array([vocab.setdefault(c, len(vocab)) for c in codes], dtype=np.uint64)
    if len(vocab) > 64:
        raise ValueError("more than 64 tactic codes: the bit masks cannot hold them")
    return np.left_shift(np.uint64(1), bits) if len(bits) else np.zeros(0, dtype=np.uint64)


def _build(frame: pd.DataFrame, methods, goods, violence, offenders, vocab: dict) -> Encoded:
    cv, sv, fv = (vocab.setdefault(k, {}) for k in ("chain", "sector", "force"))
    when = pd.to_datetime(frame.occurred_at)
    epoch = (when - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    lat = np.radians(pd.to_numeric(frame.latitude, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    lon = np.radians(pd.to_numeric(frame.longitude, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    return Encoded(
        frame=frame, incident_id=frame.incident_id.to_numpy(dtype=np.int64), methods=methods, goods=goods,
        hour=(when.dt.hour + when.dt.minute / 60.0).to_numpy(dtype=float, na_value=np.nan),
        weekday=when.dt.day_of_week.to_numpy(dtype=float, na_value=np.nan), days=epoch / 86400.0, xyz=xyz,
        chain=_category(frame.chain, cv), sector=_category(frame.sector, sv), force=_category(frame.force_code, fv),
        offenders=np.asarray(offenders, dtype=float), vehicle=np.asarray(frame.vehicle_used, dtype=bool),
        violence=np.asarray(violence, dtype=bool))


def encode(signatures: pd.DataFrame, vocab: dict | None = None) -> Encoded:
    """Arrays of a signature frame (signatures.SIGNATURE_COLUMNS); `vocab` (code -> bit, category -> code) is
    shared so two frames encoded with one dict compare."""
    vocab = {} if vocab is None else vocab
    tv = vocab.setdefault("tactics", {})
    sig = signatures.reset_index(drop=True)

    def masks(column):
        out = np.zeros(len(sig), dtype=np.uint64)
        for k, codes in enumerate(sig[column]):
            for bit in _bits(list(codes or ()), tv):
                out[k] |= bit
        return out

    frame = sig.assign(vehicle_used=sig.vehicle_used.fillna(False).astype(bool))
    off = pd.to_numeric(sig.offenders, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return _build(frame, masks("methods"), masks("goods"), sig.violence.fillna(False).astype(bool), off, vocab)


def load_encoded(store, incident_ids=None, vocab: dict | None = None) -> Encoded:
    """The incidents (all, or those listed) encoded straight from the store's queries (crossborder/incidents and
    crossborder/incident_tactics), by the rules of signatures.py (UNKNOWN left out; offenders: the stated count,
    else the persons mentioned; violence: stated or an escalation code VIOL/THREAT), without building the
    per-incident code lists (fast at millions of rows)."""
    vocab = {} if vocab is None else vocab
    tv = vocab.setdefault("tactics", {})
    ids = [] if incident_ids is None else [int(i) for i in incident_ids]
    every = incident_ids is None
    frame = store.query("crossborder/incidents", incident_ids=ids, all=every)
    tactics = store.query("crossborder/incident_tactics", incident_ids=ids, all=every)
    tactics = tactics[tactics.tactic_code != "UNKNOWN"]
    pos = pd.Series(np.arange(len(frame)), index=frame.incident_id.to_numpy())
    rows = pos.reindex(tactics.incident_id.to_numpy()).to_numpy()
    ok = ~np.isnan(rows)
    rows, tactics = rows[ok].astype(np.int64), tactics[ok]
    bits = _bits(tactics.tactic_code.tolist(), tv)
    kind = tactics.kind.to_numpy()
    masks = {}
    for name, k in (("methods", "method"), ("goods", "target")):
        m = np.zeros(len(frame), dtype=np.uint64)
        sel = kind == k
        np.bitwise_or.at(m, rows[sel], bits[sel])
        masks[name] = m
    escalated = np.zeros(len(frame), dtype=bool)
    escalated[rows[np.isin(tactics.tactic_code.to_numpy(), VIOLENT_CODES)]] = True
    violence = frame.violence.fillna(False).astype(bool).to_numpy() | escalated
    stated = pd.to_numeric(frame.offenders_count, errors="coerce")
    mentioned = pd.to_numeric(frame.persons, errors="coerce").where(lambda s: s > 0)
    off = stated.where(stated > 0, mentioned).to_numpy(dtype=float, na_value=np.nan)
    frame = frame.assign(vehicle_used=pd.to_numeric(frame.vehicles, errors="coerce").fillna(0).to_numpy() > 0)
    return _build(frame.reset_index(drop=True), masks["methods"], masks["goods"], violence, off, vocab)


_ARRAYS = ("incident_id", "methods", "goods", "hour", "weekday", "days", "xyz", "chain", "sector", "force", "offenders",
           "vehicle", "violence")


def subset(enc: Encoded, rows) -> Encoded:
    """The rows given, as an Encoded of their own."""
    rows = np.asarray(rows, dtype=np.int64)
    kw = {f: getattr(enc, f)[rows] for f in _ARRAYS}
    return Encoded(frame=enc.frame.iloc[rows].reset_index(drop=True), **kw)


def concat(parts: list[Encoded]) -> Encoded:
    """Several Encoded (one vocab) as one."""
    kw = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _ARRAYS}
    return Encoded(frame=pd.concat([p.frame for p in parts], ignore_index=True), **kw)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jaccard of bit masks; two empty sets count as 0 (nothing known alike, not everything)."""
    inter = np.bitwise_count(a & b).astype(float)
    union = np.bitwise_count(a | b).astype(float)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _circular(a, b, period: float) -> np.ndarray:
    d = np.abs(a - b) % period
    return np.minimum(d, period - d)


def pair_features(enc: Encoded, i, j, settings: dict | None = None, other: Encoded | None = None) -> pd.DataFrame:
    """Features of the pairs (enc row i[k], other row j[k]); `other` defaults to enc itself (same vocab needed)."""
    return pd.DataFrame(_raw_pairs(enc, i, j, settings, other))


def pair_matrix(enc: Encoded, i, j, settings: dict | None = None, other: Encoded | None = None) -> np.ndarray:
    """The model's matrix (MODEL_FEATURES) of the pairs (enc row i[k], other row j[k])."""
    return model_matrix(_raw_pairs(enc, i, j, settings, other))


_FIELDS = ("methods", "goods", "hour", "weekday", "days", "chain", "sector", "force", "offenders", "vehicle",
           "violence")


def _raw_pairs(enc: Encoded, i, j, settings, other) -> dict:
    b = enc if other is None else other
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    cos = np.einsum("ij,ij->i", enc.xyz[i], b.xyz[j])
    return _raw({f: getattr(enc, f)[i] for f in _FIELDS}, {f: getattr(b, f)[j] for f in _FIELDS}, cos, settings)


def grid_features(q: Encoded, pool: Encoded, settings: dict | None = None) -> dict:
    """Features of every (q row, pool row) pair as len(q) x len(pool) arrays (broadcast, no index copies)."""
    cos = q.xyz @ pool.xyz.T
    return _raw({f: getattr(q, f)[:, None] for f in _FIELDS}, {f: getattr(pool, f)[None, :] for f in _FIELDS}, cos,
                settings)


def _raw(a: dict, b: dict, cos: np.ndarray, settings: dict | None) -> dict:
    runs = (settings or crossborder_settings())["runs"]
    km = EARTH_KM * np.arccos(np.clip(cos, -1.0, 1.0))
    road_hours = km * (float(runs["detour_factor"]) / float(runs["speed_limit_kmh"]))
    days_apart = np.abs(a["days"] - b["days"])
    return {
        "methods_jaccard": jaccard(a["methods"], b["methods"]),
        "goods_jaccard": jaccard(a["goods"], b["goods"]),
        "tactics_jaccard": jaccard(a["methods"] | a["goods"], b["methods"] | b["goods"]),
        "hour_diff": _circular(a["hour"], b["hour"], 24.0),
        "weekday_diff": _circular(a["weekday"], b["weekday"], 7.0),
        "distance_km": km,
        "road_hours": road_hours,
        "days_apart": days_apart,
        # closer in time than the drive between them (with a quarter hour in hand for clocks and parking)
        "travel_infeasible": (road_hours > days_apart * 24.0 + 0.25).astype(float),
        "same_chain": ((a["chain"] == b["chain"]) & (a["chain"] >= 0)).astype(float),
        "same_sector": ((a["sector"] == b["sector"]) & (a["sector"] >= 0)).astype(float),
        "size_diff": np.abs(np.log(np.maximum(a["offenders"], 1.0)) - np.log(np.maximum(b["offenders"], 1.0))),
        "vehicle_agree": (a["vehicle"] == b["vehicle"]).astype(float),
        "violence_agree": (a["violence"] == b["violence"]).astype(float),
        "same_force": ((a["force"] == b["force"]) & (a["force"] >= 0)).astype(float),
    }


# neutral values for unknown hours, places and times (so a gap neither links nor separates on its own)
NEUTRAL = {"hour_diff": 6.0, "weekday_diff": 1.75, "log_road_hours": np.log1p(1.0), "log_days_apart": np.log1p(30.0),
           "size_diff": 0.0, "travel_infeasible": 0.0}


def model_column(features, name: str) -> np.ndarray:
    """One model column (MODEL_FEATURES) of a frame or dict of raw features: road hours and days on a log scale,
    gaps neutral."""
    if name == "log_road_hours":
        v = np.log1p(np.asarray(features["road_hours"], dtype=float))
    elif name == "log_days_apart":
        v = np.log1p(np.asarray(features["days_apart"], dtype=float))
    else:
        v = np.asarray(features[name], dtype=float)
    return np.where(np.isnan(v), NEUTRAL.get(name, 0.0), v)


def model_matrix(features) -> np.ndarray:
    """The model's columns (MODEL_FEATURES) as a float matrix."""
    return np.column_stack([model_column(features, n) for n in MODEL_FEATURES])
