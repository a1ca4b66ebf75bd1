"""Vehicle resolution: VRM normalisation and format classes, the confusable-character key, partial plates,
make/colour agreement, and cloned-plate flags with their evidence.

- `normalise_vrm("ab12 cde")` -> "AB12CDE"; `vrm_format(...)` -> current, prefix, suffix, dateless,
  northern_ireland, foreign_unknown (and `partial` for a fragment, see `partial_pattern`);
- `confusable_key(vrm)` maps letters that witnesses and ANPR misread to the digit they resemble
  (O->0, I->1, S->5, B->8, Z->2, G->6 ...: `vehicles.confusable` in linkage.yaml), so "0X73FLP" and
  "OX73FLP" share a key;
- `partial_pattern("AB12?CD")`, `partial_pattern("ends KRB")` -> a regular expression over keys;
- `resolve_vehicles(frame, settings)` -> links (one row per mention), vehicles and flags.

A VRM seen with two different makes (or colours of different families) is two vehicles on one plate: each
description becomes its own vehicle and the plate is flagged `description_conflict`. Sightings of one VRM
too far apart for the time between them (implied straight-line speed above `vehicles.max_speed_kmh`) are
flagged `impossible_travel` with both places, both times, the distance and the speed.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.linkage.settings import LinkageSettings

FORMATS = ("current", "prefix", "suffix", "dateless", "northern_ireland", "foreign_unknown", "partial")
_CURRENT = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z]{3}$")
_PREFIX = re.compile(r"^[A-Z][0-9]{1,3}[A-Z]{3}$")
_SUFFIX = re.compile(r"^[A-Z]{3}[0-9]{1,3}[A-Z]$")
_NI = re.compile(r"^[A-Z]*[IZ][A-Z]*[0-9]{1,4}$")
_DATELESS = re.compile(r"^(?:[A-Z]{1,3}[0-9]{1,4}|[0-9]{1,4}[A-Z]{1,3})$")
_PARTIAL_WORDS = re.compile(r"^\s*(ends?|ending( in| with)?|starts?|starting( with)?|begins?( with)?|contains?)\s+",
                            re.IGNORECASE)


def normalise_vrm(raw: object) -> str | None:
    """Upper case, letters and digits only (spaces, dashes, dots dropped); None when nothing is left."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    norm = re.sub(r"[^A-Z0-9]", "", str(raw).upper())
    return norm or None


def vrm_format(norm: str | None) -> str:
    """The GB/NI format class of a normalised VRM (Northern Ireland marks carry I or Z in their letters)."""
    if not isinstance(norm, str) or not norm:
        return "foreign_unknown"
    if _CURRENT.match(norm):
        return "current"
    if _PREFIX.match(norm):
        return "prefix"
    if _SUFFIX.match(norm):
        return "suffix"
    if _NI.match(norm) and len(norm) <= 7 and re.match(r"^[A-Z]{1,3}[0-9]", norm):
        return "northern_ireland"
    if _DATELESS.match(norm):
        return "dateless"
    return "foreign_unknown"


def confusable_key(norm: str | None, mapping: dict[str, str] | None = None) -> str | None:
    """The VRM with every confusable letter replaced by the digit it is mistaken for."""
    if not norm:
        return None
    mapping = mapping or {"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2", "G": "6"}
    return "".join(mapping.get(ch, ch) for ch in norm)


def partial_pattern(raw: object, mapping: dict[str, str] | None = None) -> re.Pattern | None:
    """A pattern over confusable keys for a partial plate, or None when `raw` is not written as partial.

    `AB12?CD` (? one character, * any run), "ends KRB", "starts AB12", "contains 12K"."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    text = str(raw).strip()
    words = _PARTIAL_WORDS.match(text)
    if words:
        kind = words.group(1).lower()
        body = confusable_key(normalise_vrm(text[words.end():]), mapping)
        if not body:
            return None
        if kind.startswith("end"):
            return re.compile(re.escape(body) + "$")
        if kind.startswith(("start", "begin")):
            return re.compile("^" + re.escape(body))
        return re.compile(re.escape(body))
    if "?" in text or "*" in text:
        parts = []
        for ch in re.sub(r"\s+", "", text.upper()):
            if ch == "?":
                parts.append(".")
            elif ch == "*":
                parts.append(".*")
            elif ch.isalnum():
                parts.append(re.escape(confusable_key(ch, mapping)))
        return re.compile("^" + "".join(parts) + "$") if parts else None
    return None


def colour_family(colour: object, families: dict[str, list[str]]) -> str | None:
    if colour is None or (isinstance(colour, float) and math.isnan(colour)):
        return None
    c = " ".join(str(colour).lower().split())
    if not c:
        return None
    for family, members in families.items():
        if c == family or c in [m.lower() for m in members]:
            return family
    return c


def _make(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    m = " ".join(str(value).lower().split())
    return m or None


def haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * np.arcsin(np.sqrt(a))


def implied_speed_kmh(km: float, hours: float, slack_minutes: float) -> float:
    return km / max(hours + slack_minutes / 60.0, 1e-9)


def travel_flag(km: float, hours: float, cfg: dict) -> bool:
    """True when one vehicle cannot have made the journey: farther than min_km and faster than max_speed_kmh
    (the time between sightings taken with slack_minutes added)."""
    if km is None or hours is None or (isinstance(km, float) and math.isnan(km)) or \
            (isinstance(hours, float) and math.isnan(hours)):
        return False
    return km > float(cfg.get("min_km", 20)) and \
        implied_speed_kmh(km, hours, float(cfg.get("slack_minutes", 20))) > float(cfg.get("max_speed_kmh", 150))


@dataclass
class VehicleResolution:
    links: pd.DataFrame      # mention_id, cluster_id (None: unresolved), joined_by, candidates, vrm_norm, vrm_format
    vehicles: pd.DataFrame   # cluster_id, vrm, vrm_format, make, colour, mentions, first_seen, last_seen
    flags: pd.DataFrame      # vrm, kind, mention_a, mention_b, evidence (JSON)


def _mode(values: pd.Series):
    values = values.dropna()
    if values.empty:
        return None
    return values.value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").index[0]


def resolve_vehicles(frame: pd.DataFrame, settings: LinkageSettings, must_link=(), cannot_link=()) -> VehicleResolution:
    """frame columns: mention_id, vrm_raw, make, colour, occurred_at, latitude, longitude, location."""
    cfg = settings.vehicles or {}
    mapping = {str(k): str(v) for k, v in (cfg.get("confusable") or {}).items()}
    families = cfg.get("colour_families") or {}
    min_chars = int(cfg.get("partial_min_chars", 3))
    f = frame.copy()
    for col in ("make", "model", "colour", "occurred_at", "latitude", "longitude", "location"):
        if col not in f:
            f[col] = None
    f["mention_id"] = f["mention_id"].astype(str)
    raw = f["vrm_raw"].astype(object).tolist() if "vrm_raw" in f else [None] * len(f)
    norms = [normalise_vrm(v) for v in raw]
    patterns = [partial_pattern(v, mapping) for v in raw]
    f["vrm_norm"] = pd.Series(norms, index=f.index, dtype=object)
    f["vrm_format"] = pd.Series(["partial" if p is not None else vrm_format(n) for p, n in zip(patterns, norms)],
                                index=f.index, dtype=object)
    f["key"] = pd.Series([None if p is not None else confusable_key(n, mapping) for p, n in zip(patterns, norms)],
                         index=f.index, dtype=object)
    f["make_norm"] = pd.Series([_make(v) for v in f["make"].astype(object)], index=f.index, dtype=object)
    f["colour_family"] = pd.Series([colour_family(v, families) for v in f["colour"].astype(object)], index=f.index,
                                   dtype=object)
    f["occurred_at"] = pd.to_datetime(f["occurred_at"], errors="coerce")
    f["latitude"] = pd.to_numeric(f["latitude"], errors="coerce")
    f["longitude"] = pd.to_numeric(f["longitude"], errors="coerce")
    # fragments: written partial, or a short dateless/unknown mark that is the start of a longer known key
    full_keys = sorted({k for k, fmt in zip(f["key"], f["vrm_format"])
                        if k and fmt in ("current", "prefix", "suffix", "northern_ireland")})
    for i in f.index[(f["vrm_format"].isin(["dateless", "foreign_unknown"])) & f["key"].notna()]:
        key = f.at[i, "key"]
        if key in full_keys:
            continue
        starts = [k for k in full_keys if k.startswith(key)]
        if starts:
            patterns[f.index.get_loc(i)] = re.compile("^" + re.escape(key))
            f.at[i, "vrm_format"] = "partial"
            f.at[i, "key"] = None
    for col in ("cluster_id", "joined_by", "candidates", "vrm_spelled"):
        f[col] = pd.Series([None] * len(f), index=f.index, dtype=object)
    flags = []
    # whole plates: one vehicle per key, or one per description when descriptions disagree
    for key, group in f[f["key"].notna()].groupby("key", sort=True):
        variants = sorted(set(group["make_norm"].dropna())) or []
        by = "make_norm"
        if len(variants) <= 1:
            colours = sorted(set(group["colour_family"].dropna()))
            if len(colours) > 1 and not variants:
                variants, by = colours, "colour_family"
        formal = group.loc[group["vrm_format"].isin(["current", "prefix", "suffix", "northern_ireland", "dateless"]),
                           "vrm_norm"]
        spelled = _mode(formal) or _mode(group["vrm_norm"])   # the spelling most often written in a real format
        f.loc[group.index, "vrm_spelled"] = spelled
        if len(variants) <= 1:
            f.loc[group.index, "cluster_id"] = key
        else:
            described = group[group[by].notna()]
            for i in group.index:
                if pd.notna(group.at[i, by]):
                    f.at[i, "cluster_id"] = f"{key}|{group.at[i, by]}"
                    continue
                lat, lon = group.at[i, "latitude"], group.at[i, "longitude"]
                if pd.notna(lat) and pd.notna(lon) and described[["latitude", "longitude"]].notna().all(axis=1).any():
                    ok = described[described.latitude.notna() & described.longitude.notna()]
                    d = haversine_km(lat, lon, ok.latitude.to_numpy(), ok.longitude.to_numpy())
                    f.at[i, "cluster_id"] = f"{key}|{ok.iloc[int(np.argmin(d))][by]}"
                else:
                    f.at[i, "cluster_id"] = f"{key}|{_mode(described[by])}"
            first = {v: described[described[by] == v].iloc[0] for v in variants}
            a, b = first[variants[0]], first[variants[1]]
            flags.append({"vrm": spelled, "kind": "description_conflict", "mention_a": a.mention_id,
                          "mention_b": b.mention_id, "evidence": json.dumps({
                              "field": "make" if by == "make_norm" else "colour", "descriptions": variants,
                              "a": {"mention": a.mention_id, "make": a.make_norm, "colour": a.colour_family,
                                    "place": _text(a.location), "time": _stamp(a.occurred_at)},
                              "b": {"mention": b.mention_id, "make": b.make_norm, "colour": b.colour_family,
                                    "place": _text(b.location), "time": _stamp(b.occurred_at)}}, sort_keys=True)})
        f.loc[group.index, "joined_by"] = np.where(group["vrm_norm"] == spelled, "exact", "confusable")
        flags.extend(_travel_flags(group.assign(vrm_norm=spelled), cfg))
    # partial plates: matched to a vehicle when the pattern fits exactly one plate
    for pos, pattern in enumerate(patterns):
        if pattern is None:
            continue
        i = f.index[pos]
        body = re.sub(r"[^A-Z0-9]", "", pattern.pattern.upper())
        if len(body) < min_chars:
            f.at[i, "joined_by"], f.at[i, "candidates"] = "unresolved", json.dumps([])
            continue
        matches = [k for k in full_keys if pattern.search(k)]
        if len(matches) == 1:
            clusters = sorted(set(f.loc[f["key"] == matches[0], "cluster_id"].dropna()))
            if len(clusters) == 1:
                f.at[i, "cluster_id"], f.at[i, "joined_by"] = clusters[0], "partial"
                continue
            matches = clusters
        f.at[i, "joined_by"], f.at[i, "candidates"] = "unresolved", json.dumps(matches[:20])
    _apply_vehicle_decisions(f, must_link, cannot_link)
    resolved = f[f["cluster_id"].notna()]
    vehicles = resolved.groupby("cluster_id", sort=True).agg(
        vrm=("vrm_spelled", _mode), vrm_format=("vrm_format", _mode), make=("make_norm", _mode),
        colour=("colour_family", _mode), mentions=("mention_id", "size"),
        first_seen=("occurred_at", "min"), last_seen=("occurred_at", "max")).reset_index()
    vehicles["vrm_format"] = [vrm_format(v) for v in vehicles["vrm"]]
    links = f.loc[:, ["mention_id", "cluster_id", "joined_by", "candidates", "vrm_norm", "vrm_format"]]
    flag_frame = pd.DataFrame(flags, columns=["vrm", "kind", "mention_a", "mention_b", "evidence"])
    return VehicleResolution(links.reset_index(drop=True), vehicles, flag_frame)


def _apply_vehicle_decisions(f: pd.DataFrame, must_link, cannot_link) -> None:
    index = {m: i for i, m in zip(f.index, f["mention_id"])}
    for a, b in must_link:
        a, b = str(a), str(b)
        if a in index and b in index:
            target = f.at[index[b], "cluster_id"] or f.at[index[a], "cluster_id"]
            if target is None:
                target = f"confirmed:{min(a, b)}"
            f.at[index[a], "cluster_id"] = f.at[index[b], "cluster_id"] = target
            f.at[index[a], "joined_by"] = f.at[index[b], "joined_by"] = "confirmed"
    for a, b in cannot_link:
        a, b = str(a), str(b)
        if a in index and b in index and f.at[index[a], "cluster_id"] is not None and \
                f.at[index[a], "cluster_id"] == f.at[index[b], "cluster_id"]:
            f.at[index[a], "cluster_id"] = f"{f.at[index[a], 'cluster_id']}|rejected:{a}"
            f.at[index[a], "joined_by"] = "rejected"


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _stamp(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _travel_flags(group: pd.DataFrame, cfg: dict) -> list[dict]:
    seen = group[group.occurred_at.notna() & group.latitude.notna() & group.longitude.notna()].sort_values(
        ["occurred_at", "mention_id"])
    out = []
    rows = list(seen.itertuples())
    for a, b in zip(rows, rows[1:]):
        km = float(haversine_km(a.latitude, a.longitude, b.latitude, b.longitude))
        hours = (b.occurred_at - a.occurred_at).total_seconds() / 3600.0
        if travel_flag(km, hours, cfg):
            speed = implied_speed_kmh(km, hours, float(cfg.get("slack_minutes", 20)))
            out.append({"vrm": a.vrm_norm, "kind": "impossible_travel", "mention_a": a.mention_id,
                        "mention_b": b.mention_id, "evidence": json.dumps({
                            "a": {"mention": a.mention_id, "place": _text(a.location), "time": _stamp(a.occurred_at),
                                  "latitude": round(float(a.latitude), 5), "longitude": round(float(a.longitude), 5)},
                            "b": {"mention": b.mention_id, "place": _text(b.location), "time": _stamp(b.occurred_at),
                                  "latitude": round(float(b.latitude), 5), "longitude": round(float(b.longitude), 5)},
                            "km": round(km, 1), "hours": round(hours, 2), "implied_speed_kmh": round(speed, 1),
                            "max_speed_kmh": float(cfg.get("max_speed_kmh", 150))}, sort_keys=True)})
    return out
