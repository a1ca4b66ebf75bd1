"""Person records of any source brought to one prepared shape that the model compares.

`prepare_person_records(frame, id_column, columns)` takes a DataFrame and a mapping of roles to its column
names (roles: forename, surname, full_name, alias, dob, gender, address, town, postcode, other_id, and the
context roles latitude, longitude, seen_at, group). Missing roles are simply absent evidence. The store's
person mentions arrive through the same function (`workbench.linkage.store_io`).
"""
from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage import names

ROLES = ("forename", "surname", "full_name", "alias", "dob", "gender", "address", "town", "postcode", "other_id",
         "latitude", "longitude", "seen_at", "group")
PREPARED_COLUMNS = ("unique_id", "forename_norm", "surname_norm", "forename_canon", "forename_initial",
                    "surname_initial", "surname_prefix", "full_name_norm", "alias_norm", "dob", "gender_norm",
                    "postcode_norm", "postcode_out", "town_norm", "address_norm", "other_id", "latitude",
                    "longitude", "seen_at", "group_key", "place_cell")
# default role -> column guesses for `workbench link records` when --columns is not given
DEFAULT_COLUMN_GUESSES = {
    "forename": ("forename", "first_name", "given_name", "firstname"),
    "surname": ("surname", "last_name", "family_name", "lastname"),
    "full_name": ("full_name", "name", "fullname"),
    "alias": ("alias", "aka", "nickname"),
    "dob": ("dob", "date_of_birth", "birth_date"),
    "gender": ("gender", "sex"),
    "address": ("address", "address_line_1", "address1", "street"),
    "town": ("town", "city"),
    "postcode": ("postcode", "post_code", "zip"),
    "other_id": ("other_id", "pnc_id", "pnc", "cro"),
}
_POSTCODE_OUT = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)")


def guess_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Roles found in a frame by their usual column names (case-insensitive)."""
    lower = {str(c).lower(): c for c in frame.columns}
    found = {}
    for role, candidates in DEFAULT_COLUMN_GUESSES.items():
        for candidate in candidates:
            if candidate in lower:
                found[role] = lower[candidate]
                break
    return found


def parse_columns(spec: str | None) -> dict[str, str]:
    """`forename=First,surname=Last` -> {"forename": "First", "surname": "Last"}; unknown roles refused."""
    result: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        role, sep, column = part.partition("=")
        role, column = role.strip().lower(), column.strip()
        if not sep or not column:
            raise WorkbenchError(f"--columns: {part.strip()!r} is not role=column")
        if role not in ROLES:
            raise WorkbenchError(f"--columns: unknown role {role!r} (one of {', '.join(ROLES)})")
        result[role] = column
    return result


def _text(series: pd.Series | None, n: int) -> list:
    if series is None:
        return [None] * n
    return [None if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA) else str(v)
            for v in series.astype(object).tolist()]


def _gender(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower()
    if v in ("m", "male", "man", "boy"):
        return "M"
    if v in ("f", "female", "woman", "girl"):
        return "F"
    return "X" if v else None


def _postcode(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    norm = re.sub(r"[^A-Z0-9]", "", value.upper())
    if not norm:
        return None, None
    outward = norm[:-3] if len(norm) >= 5 else None
    match = _POSTCODE_OUT.match(outward or "")
    return norm, (match.group(1) if match else None)


def prepare_person_records(frame: pd.DataFrame, id_column: str, columns: dict[str, str] | None = None,
                           place_cell_degrees: float = 0.5) -> pd.DataFrame:
    """The prepared records (PREPARED_COLUMNS, plus `source_*` copies of the given columns) of `frame`."""
    columns = dict(columns or {})
    if id_column not in frame.columns:
        raise WorkbenchError(f"no id column {id_column!r} in the records (columns: {', '.join(map(str, frame.columns))})")
    for role, column in columns.items():
        if role not in ROLES:
            raise WorkbenchError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if column not in frame.columns:
            raise WorkbenchError(f"column {column!r} for {role} is not in the records "
                                 f"(columns: {', '.join(map(str, frame.columns))})")
    n = len(frame)
    ids = _text(frame[id_column], n)
    if any(i is None or not i.strip() for i in ids):
        raise WorkbenchError(f"id column {id_column!r} has empty values")
    if len(set(ids)) != n:
        dupes = pd.Series(ids)[pd.Series(ids).duplicated()].head(3).tolist()
        raise WorkbenchError(f"id column {id_column!r} is not unique (e.g. {', '.join(map(repr, dupes))})")

    def col(role):
        return frame[columns[role]] if role in columns else None

    raw_full = _text(col("full_name"), n)
    raw_fore = _text(col("forename"), n)
    raw_sur = _text(col("surname"), n)
    raw_alias = _text(col("alias"), n)
    seen = pd.to_datetime(col("seen_at"), errors="coerce") if "seen_at" in columns else pd.Series([pd.NaT] * n)
    dob_values = col("dob").astype(object).tolist() if "dob" in columns else [None] * n
    raw_gender, raw_postcode, raw_town = _text(col("gender"), n), _text(col("postcode"), n), _text(col("town"), n)
    raw_address, raw_other, raw_group = _text(col("address"), n), _text(col("other_id"), n), _text(col("group"), n)
    out: dict[str, list] = {c: [] for c in PREPARED_COLUMNS}     # the prepared columns, in order
    today = date.today()
    # national lists repeat names, dates and places: each distinct raw value is normalised once, and each
    # column is built in one pass
    name_cache: dict[tuple, tuple] = {}
    for key in zip(raw_full, raw_fore, raw_sur, raw_alias):
        if key not in name_cache:
            name_cache[key] = _name_parts(*key)
    parts = [name_cache[key] for key in zip(raw_full, raw_fore, raw_sur, raw_alias)]
    seen_values = [None if pd.isna(v) else v.to_pydatetime() for v in seen] if len(seen) else [None] * n
    latest = [min(v.date(), today).isoformat() if v is not None else today.isoformat() for v in seen_values]
    dob_cache: dict = {}
    dobs = [_parsed_dob(v, dob_cache) for v in dob_values]
    fold_cache: dict = {}

    def folded(values):
        for v in values:
            if v not in fold_cache:
                fold_cache[v] = names.fold(v)
        return [fold_cache[v] for v in values]

    postcodes = [_postcode(v) for v in raw_postcode]
    out["unique_id"] = list(ids)
    out["forename_norm"] = [f for f, _s, _a, _c in parts]
    out["surname_norm"] = [s for _f, s, _a, _c in parts]
    out["forename_canon"] = [c for _f, _s, _a, c in parts]
    out["forename_initial"] = [f[0] if f else None for f in out["forename_norm"]]
    out["surname_initial"] = [s[0] if s else None for s in out["surname_norm"]]
    out["surname_prefix"] = [s[:2] if s else None for s in out["surname_norm"]]
    out["full_name_norm"] = [" ".join(x for x in (f, s) if x) or None for f, s, _a, _c in parts]
    out["alias_norm"] = [a for _f, _s, a, _c in parts]
    # born after the sighting (or today): absurd, set aside as parse_dob does
    out["dob"] = [d if d is None or d <= last else None for d, last in zip(dobs, latest)]
    out["gender_norm"] = [_gender(v) for v in raw_gender]
    out["postcode_norm"] = [pc for pc, _o in postcodes]
    out["postcode_out"] = [o for _pc, o in postcodes]
    out["town_norm"] = folded(raw_town)
    out["address_norm"] = folded(raw_address)
    out["other_id"] = [re.sub(r"\s+", "", other).upper() or None if other else None for other in raw_other]
    out["seen_at"] = seen_values
    out["group_key"] = list(raw_group)
    lat = pd.to_numeric(col("latitude"), errors="coerce") if "latitude" in columns else pd.Series([np.nan] * n)
    lon = pd.to_numeric(col("longitude"), errors="coerce") if "longitude" in columns else pd.Series([np.nan] * n)
    lat = lat.where(lat.between(-90, 90)).to_numpy(dtype=float)
    lon = lon.where(lon.between(-180, 180)).to_numpy(dtype=float)
    out["latitude"] = lat.tolist()
    out["longitude"] = lon.tolist()
    cells = []
    for la, lo in zip(lat, lon):
        cells.append(None if (np.isnan(la) or np.isnan(lo)) else
                     f"{math.floor(la / place_cell_degrees)}:{math.floor(lo / place_cell_degrees)}")
    out["place_cell"] = cells
    prepared = pd.DataFrame(out)
    for c in PREPARED_COLUMNS:
        if c not in ("latitude", "longitude", "seen_at"):
            prepared[c] = prepared[c].astype(object)
    prepared["seen_at"] = pd.to_datetime(prepared["seen_at"])
    return prepared


def _name_parts(raw_full, raw_fore, raw_sur, raw_alias) -> tuple:
    """(forename, surname, alias, canonical forename), normalised from the written full name, forename, surname
    and alias of one record."""
    name_part, alias = names.split_alias(raw_full) if raw_full else (None, None)
    fore_part, sur_part = (names.split_alias(raw_fore)[0], names.split_alias(raw_sur)[0])
    if raw_fore and not alias:
        alias = names.split_alias(raw_fore)[1]
    forename, surname = names.fold(fore_part), names.fold(sur_part)
    if (forename is None or surname is None) and name_part:
        if "," in name_part:          # "SMITH, John": surname first (fold would drop the comma)
            surname_text, _, forename_text = name_part.partition(",")
            f2, s2 = names.fold(forename_text), names.fold(surname_text)
        else:
            f2, s2 = names.split_full_name(names.fold(name_part))
        forename, surname = forename or f2, surname or s2
    if forename:
        forename = forename.split()[0]
    if surname:
        surname = surname.split()[-1] if " " in surname and "-" not in surname else surname.replace(" ", "")
    return forename, surname, names.fold(raw_alias) or names.fold(alias), names.canonical_forename(forename)


def _parsed_dob(value, cache: dict) -> str | None:
    """names.parse_dob with no upper limit (the caller compares with the sighting), once per distinct value."""
    try:
        key = (type(value).__name__, value)
        hash(key)
    except TypeError:
        return names.parse_dob(value, latest=date.max)
    if key not in cache:
        cache[key] = names.parse_dob(value, latest=date.max)
    return cache[key]
