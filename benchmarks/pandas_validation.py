"""The pandas baseline of the ingest benchmark: the workbench's validation of a Brightmart-format extract, written
the way a careful analyst would in pandas (vectorised string and date operations, lookups over distinct values),
chunked to bound memory.

It applies every rule that can fire on this format's columns (the format has no postcode, coordinates or
separate grading fields, so the postcode and coordinate rules cannot fire), counts errors over all rows and
warnings over the accepted rows (a row is held back when another row of its referral fails), and the mention
checks (dates of birth, registration marks, tactic codes) as the store would flag them. The benchmark checks
that its counts equal the workbench's `validate` report rule by rule, so the two really do the same work.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import config, reference
from workbench.ingest import validate as wb_validate
from workbench.ingest.mapping import load_mapping

TEXT_COLUMNS = ("referral_id", "incident_id", "store_no", "crime_ref", "narrative", "offender_names",
                "tactic_codes", "vehicle_reg", "dems_ref")
VRM_SPLIT = r"[;,/|+]|\s{2,}"
VRM_CLASSES = (("current", r"[A-Z]{2}[0-9]{2}[A-Z]{3}"), ("prefix", r"[A-Z][0-9]{1,3}[A-Z]{3}"),
               ("suffix", r"[A-Z]{3}[0-9]{1,3}[A-Z]"), ("dateless", r"[A-Z]{1,3}[0-9]{1,4}|[0-9]{1,4}[A-Z]{1,3}"))


def _clean(col: pd.Series) -> pd.Series:
    """Trimmed text, empty as missing (as the workbench stages every cell)."""
    col = col.str.strip(" ")  # (DuckDB's trim: spaces only)
    return col.where(col != "")


def _rx_contains(col: pd.Series, pattern: str, ignore_case: bool = False) -> pd.Series:
    """Regex search with RE2 through pyarrow (pandas itself falls back to Python's re for patterns with \\s)."""
    hits = pc.match_substring_regex(pa.array(col), pattern, ignore_case=ignore_case).fill_null(False)
    return pd.Series(hits.to_numpy(zero_copy_only=False), index=col.index)


def _rx_replace(col: pd.Series, pattern: str, replacement: str) -> pd.Series:
    out = pc.replace_substring_regex(pa.array(col), pattern, replacement)
    return pd.Series(out, index=col.index, dtype=col.dtype)


def _split(col: pd.Series, sep: str) -> pa.Array:
    return pc.split_pattern(pa.array(col), sep)


def _split_explode(col: pd.Series, sep: str) -> pd.Series:
    """One row per piece, indexed by its row (Series.str.split(...).explode(), but in Arrow)."""
    lists = _split(col, sep)
    return pd.Series(pc.list_flatten(lists), dtype=col.dtype,
                     index=col.index[pc.list_parent_indices(lists).to_numpy()])


def _parse(values: pd.Series, formats: list[str]) -> pd.Series:
    """The first format that parses each value (DuckDB's try_strptime with a list of formats)."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = out.isna() & values.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    return out


def _stores(store_directory: str) -> tuple[dict, pd.DataFrame]:
    stores = pd.read_csv(store_directory, dtype=str, keep_default_na=False)
    stores = stores[stores["retailer_code"].str.upper() == "BRM"]
    exact = dict(zip(stores["store_ref"], stores["police_force"]))
    stores = stores.assign(key=stores["store_ref"].str.lstrip("0"))
    return exact, stores


class _Tactics:
    """Unknown tokens of each distinct tactics value (the workbench's tactic map, for a 'codes' source)."""

    def __init__(self, mapping):
        self.codes = set(reference.tactics()["tactic_code"])
        self.synonyms = reference.tactic_synonyms()
        self.own = mapping.value_maps.get("tactics", {})
        self.seps = {mapping.multi_sep, mapping.multi_sep.strip() or mapping.multi_sep, ";", ",", "|", "/", "+"}
        self.cache: dict[str, int] = {}

    def unknown(self, value: str) -> int:
        if value not in self.cache:
            parts = [value]
            for sep in self.seps:
                if sep:
                    parts = [piece for part in parts for piece in part.split(sep)]
            unknown = set()
            for part in parts:
                token = part.strip()
                mapped = self.own.get(token.lower())
                if not token or (mapped and mapped.upper() in self.codes) or token.upper() in self.codes \
                        or reference.normalise_label(token) in self.synonyms:
                    continue
                unknown.add(token)
            self.cache[value] = len(unknown)
        return self.cache[value]


def validate_extract(path: str, store_directory: str, chunk_rows: int = 200_000) -> dict:
    start = time.perf_counter()
    mapping = load_mapping("retailer_brightmart")
    now = pd.Timestamp.now()
    datetime_formats = wb_validate._formats(mapping.datetime_formats, wb_validate.ISO_DATETIME + wb_validate.ISO_DATE)
    dob_formats = list(dict.fromkeys(list(mapping.date_formats) + ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]))
    true_values = set(mapping.true_values) | {"y", "yes", "true", "1"}
    known_bools = true_values | set(mapping.false_values) | {"n", "no", "false", "0"}
    exact_store, stores = _stores(store_directory)
    by_number = stores.groupby("key")["store_ref"].agg(list).to_dict()
    tactics = _Tactics(mapping)
    formula = wb_validate.FORMULA_RE
    markup = wb_validate.MARKUP_RE.removeprefix("(?i)")  # (the flag as ignore_case)
    maxlen = int(config.get("ingest.max_field_chars", 5000))
    errors: Counter = Counter()
    per_row = []  # per chunk: group key, error flag and warning counts of every row (decided at the end)
    rows_read = 0
    for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows):
        rows_read += len(chunk)
        c = {name: _clean(chunk[name]) for name in chunk.columns}
        e, w = {}, {}
        crime = c["crime_ref"].str.replace(r"[^A-Za-z0-9]", "", regex=True).str.upper()
        e["CRIME_NUMBER_MISSING"] = crime.isna() | (crime == "")
        forces = {v: reference.resolve_force(v) for v in c["police_force"].dropna().unique()}
        force = c["police_force"].map(forces)
        known_store = {s: s in exact_store or len(by_number.get(s.lstrip("0"), [])) == 1
                       for s in c["store_no"].dropna().unique()}
        store_ok = c["store_no"].map(known_store).fillna(False).astype(bool)
        e["FORCE_UNKNOWN"] = c["police_force"].notna() & force.isna()
        e["FORCE_MISSING"] = c["police_force"].isna() & ~store_ok
        w["FORCE_FROM_STORE"] = c["police_force"].isna() & store_ok
        occurred = _parse(c["occurred"], datetime_formats)
        received = _parse(c["referred_at"], datetime_formats)
        e["DATE_MISSING"] = c["occurred"].isna()
        e["DATE_UNPARSEABLE"] = ((c["occurred"].notna() & occurred.isna()).astype(int)
                                 + (c["referred_at"].notna() & received.isna()).astype(int))
        w["RECEIVED_MISSING"] = c["referred_at"].isna()
        e["DATE_FUTURE"] = (occurred > now).astype(int) + (received > now).astype(int)
        e["INCIDENT_AFTER_REFERRAL"] = occurred > received
        value = pd.to_numeric(c["loss_gbp"], errors="coerce")
        cleaned = pd.to_numeric(_rx_replace(c["loss_gbp"], r"[£$,\s]|GBP", ""), errors="coerce")
        value = value.fillna(cleaned).where(lambda v: v.abs() < 1e10)
        count = pd.to_numeric(c["num_offenders"], errors="coerce")
        count = count.where(count == count.round())
        e["VALUE_UNPARSEABLE"] = ((c["loss_gbp"].notna() & value.isna()).astype(int)
                                  + (c["num_offenders"].notna() & count.isna()).astype(int))
        e["VALUE_NEGATIVE"] = (value < 0).astype(int) + (count < 0).astype(int)
        w["STORE_UNKNOWN"] = c["store_no"].notna() & ~store_ok
        w["LOCATION_UNRESOLVED"] = ~store_ok
        grading = c["grading"].fillna("").str.replace(r"[^A-Za-z0-9]", "", regex=True).str.upper()
        current = grading.str.fullmatch(r"[123][A-E][PC]")
        legacy = grading.str.fullmatch(r"[A-E][1-5][1-5]")
        e["GRADING_INVALID"] = (grading != "") & ~current & ~legacy
        w["GRADING_LEGACY"] = legacy & ~current
        w["REFERRAL_REF_MISSING"] = c["referral_id"].isna()
        w["BOOL_UNRECOGNISED"] = sum((c[col].notna() & ~c[col].str.lower().isin(known_bools)).astype(int)
                                     for col in ("violence", "detained"))
        listed = pd.Series(pc.list_value_length(_split(c["offender_names"], mapping.multi_sep)).to_numpy(
            zero_copy_only=False), index=chunk.index)
        w["COUNT_MISMATCH"] = count.notna() & listed.notna() & (listed > 0) & (count < listed)
        for col in TEXT_COLUMNS:
            text = c[col]
            for rule, hit in (("FORMULA_IN_CELL", _rx_contains(text, formula)),
                              ("MARKUP_IN_TEXT", _rx_contains(text, markup, ignore_case=True)),
                              ("FIELD_TOO_LONG", text.str.len() > maxlen)):
                w[rule] = w.get(rule, 0) + hit.astype(int)
        # mention checks: each date of birth, each registration mark, each unknown tactic token
        dobs = _split_explode(c["offender_dobs"], mapping.multi_sep)
        dobs = _clean(dobs.dropna())
        dob = _parse(dobs, dob_formats)
        when = occurred.reindex(dobs.index).fillna(now)
        w["DOB_UNPARSEABLE"] = (dobs.notna() & dob.isna()).groupby(level=0).sum().reindex(chunk.index, fill_value=0)
        w["DOB_IMPLAUSIBLE"] = (dob.notna() & ((dob > when) | (dob < when - pd.DateOffset(years=100)))) \
            .groupby(level=0).sum().reindex(chunk.index, fill_value=0)
        # (split on the separators' matches: replaced by one character that a plain split then cuts at)
        vrms = _split_explode(_rx_replace(c["vehicle_reg"], VRM_SPLIT, "\x1f"), "\x1f")
        vrms = vrms.dropna().str.strip(" ")
        vrms = vrms[vrms != ""]
        norm = vrms.str.replace(r"[^A-Za-z0-9?*_]", "", regex=True).str.upper()
        partial = norm.str.contains(r"[?*_]") | (norm.str.len() < 4)
        known = pd.Series(False, index=norm.index)
        for _, pattern in VRM_CLASSES:
            known |= norm.str.fullmatch(pattern)
        has = norm != ""
        w["VRM_PARTIAL"] = (has & partial).groupby(level=0).sum().reindex(chunk.index, fill_value=0)
        w["VRM_UNRECOGNISED"] = (has & ~partial & ~known).groupby(level=0).sum().reindex(chunk.index, fill_value=0)
        unknown_tactics = {v: tactics.unknown(v) for v in c["tactic_codes"].dropna().unique()}
        w["TACTIC_UNKNOWN"] = c["tactic_codes"].map(unknown_tactics).fillna(0)
        has_error = pd.Series(False, index=chunk.index)
        for rule, hits in e.items():
            hits = pd.Series(hits, index=chunk.index).astype(int)
            errors[rule] += int(hits.sum())
            has_error |= hits > 0
        row_numbers = pd.Series(np.arange(rows_read - len(chunk) + 1, rows_read + 1), index=chunk.index).astype(str)
        ref = c["referral_id"].fillna(Path(path).name + "#" + row_numbers)
        frame = pd.DataFrame({rule: pd.Series(v, index=chunk.index).astype(int) for rule, v in w.items()})
        frame["gkey"] = ref + "\x1f" + c["referred_at"].fillna("")
        frame["has_error"] = has_error
        per_row.append(frame)
    rows = pd.concat(per_row, ignore_index=True)
    failing = set(rows.loc[rows["has_error"], "gkey"])
    held = ~rows["has_error"] & rows["gkey"].isin(failing)
    accepted = rows[~rows["has_error"] & ~held]
    warnings = {rule: int(accepted[rule].sum()) for rule in accepted.columns if rule not in ("gkey", "has_error")}
    errors_by_rule = {rule: n for rule, n in sorted(errors.items()) if n}
    if held.any():
        errors_by_rule["REFERRAL_INCOMPLETE"] = int(held.sum())
    return {"rows_read": rows_read, "rows_accepted": len(accepted), "rows_quarantined": rows_read - len(accepted),
            "errors_by_rule": errors_by_rule,
            "warnings_by_rule": {rule: n for rule, n in sorted(warnings.items()) if n},
            "seconds": round(time.perf_counter() - start, 3)}
