"""Declarative source mappings: one YAML file per source under workbench/sources/.

A mapping names the source, says what kind of data it holds (referrals, a store directory or
police.uk recorded crime), how its file is laid out and how each column maps to a canonical field.
See docs/adding-a-source.md for a worked example. Loading checks every key and reports problems
naming the file and the key, so a new source is added with a mapping file and no code.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import WorkbenchError

SOURCES_DIR = Path(__file__).resolve().parent.parent / "sources"

KINDS = ("referrals", "stores", "recorded_crime")
FORMATS = ("csv", "xlsx", "json", "jsonl", "parquet")
SHAPES = ("incident", "offender", "nested")

# Canonical fields per kind. Referral fields follow workbench/sample/formats.py.
REFERRAL_FIELDS = (
    "referral_ref", "received_at", "referrer", "grading", "source_evaluation", "intelligence_assessment",
    "handling_code", "handling_conditions", "incident_ref", "store_ref", "store_name", "address", "postcode",
    "latitude", "longitude", "force", "crime_number", "occurred_at", "occurred_date", "occurred_time",
    "offence_type", "value_gbp", "offenders_count", "violence", "detained", "tactics", "narrative",
    "offender_names", "offender_dobs", "offender_genders", "offender_name", "offender_dob", "offender_gender",
    "offender_description", "offender_role", "vrm", "vehicle_make", "vehicle_colour", "cctv", "dems_ref",
    "still_ref",
    # nested (JSON) fields: lists/objects kept as JSON text and expanded by the loader
    "offenders", "vehicles", "location", "evidence", "grading_object",
)
NESTED_FIELDS = ("offenders", "vehicles", "location", "evidence", "grading_object")
STORE_FIELDS = ("retailer_code", "retailer_name", "sector", "store_ref", "store_name", "address", "town",
                "postcode", "latitude", "longitude", "police_force")
RECORDED_CRIME_FIELDS = ("crime_id", "month", "reported_by", "falls_within", "longitude", "latitude",
                         "location", "lsoa_code", "lsoa_name", "crime_type", "last_outcome", "context")
FIELDS_BY_KIND = {"referrals": REFERRAL_FIELDS, "stores": STORE_FIELDS, "recorded_crime": RECORDED_CRIME_FIELDS}
# Fields without which a file cannot be this kind of source at all (a header check, not a row rule).
REQUIRED_BY_KIND = {"referrals": ("crime_number",), "stores": ("retailer_code", "store_ref"),
                    "recorded_crime": ("month", "crime_type")}

# Keys inside nested JSON objects (the national force referral form); a mapping may override them.
DEFAULT_NESTED_KEYS = {
    "offenders": {"name": "name", "dob": "dob", "gender": "gender", "description": "description", "role": "role"},
    "vehicles": {"vrm": "vrm", "make": "make", "colour": "colour", "model": "model"},
    "location": {"store_name": "storeName", "address": "address", "postcode": "postcode",
                 "latitude": "latitude", "longitude": "longitude"},
    "evidence": {"kind": "kind", "reference": "reference"},
    "grading_object": {"source_evaluation": "sourceEvaluation", "intelligence_assessment": "intelligenceAssessment",
                       "handling_code": "handlingCode", "handling_conditions": "conditions"},
}

_TOP_KEYS = {
    "name", "description", "kind", "source_type", "retailer", "force", "format", "file_patterns", "shape",
    "delimiter", "encoding", "sheet", "datetime_formats", "date_formats", "time_formats", "booleans",
    "multi_sep", "tactics", "columns", "value_maps", "defaults", "nested_keys", "required_columns",
}


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    kind: str
    columns: dict[str, str]                    # source header (or JSON key) -> canonical field
    source_type: str = "other"                 # retailer | force | other
    retailer: str | None = None                # retailer code for store ids (retailer sources)
    force: str | None = None                   # force a force source belongs to, if single
    format: str = "csv"
    file_patterns: tuple[str, ...] = ()
    shape: str = "incident"
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    datetime_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    time_formats: tuple[str, ...] = ("%H:%M", "%H:%M:%S")
    true_values: tuple[str, ...] = ("y", "yes", "true", "1")
    false_values: tuple[str, ...] = ("n", "no", "false", "0")
    multi_sep: str = ";"
    tactics: str = "codes"                     # codes | text
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    nested_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    required_columns: tuple[str, ...] = ()     # source headers that must be present
    description: str = ""
    text: str = field(default="", compare=False, repr=False)  # the YAML as read (kept with every batch)

    @property
    def sha256(self) -> str:
        """SHA-256 of the mapping's YAML text, as recorded in ingest_batches.mapping_sha256."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def fields(self) -> set[str]:
        return set(self.columns.values())

    def header_for(self, canonical: str) -> str | None:
        for header, target in self.columns.items():
            if target == canonical:
                return header
        return None

    def matches_file_name(self, file_name: str) -> bool:
        return any(fnmatch.fnmatch(file_name.lower(), p.lower()) for p in self.file_patterns)


def _err(path: Path, key: str, problem: str) -> WorkbenchError:
    return WorkbenchError(f"source mapping {path.name}: key '{key}' {problem}")


# Mapping values are data: they reach the database only as bound parameters or as literals built by
# validate._inline. Defence in depth: they must also be plain text (bounded, no control or format characters).
MAX_VALUE_CHARS = 200
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}  # control, format (bidi overrides...), surrogates, private
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RETAILER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
NESTED_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")   # a JSON key of the nested referral form


def _plain(path: Path, key: str, value: Any, max_chars: int = MAX_VALUE_CHARS) -> str:
    """A scalar mapping value as plain text, or an error naming the file and the key (never echoing the value)."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise _err(path, key, f"must be plain text (got {type(value).__name__ if value is not None else 'nothing'})")
    if len(value) > max_chars:
        raise _err(path, key, f"is {len(value)} characters long; at most {max_chars} are allowed")
    for ch in value:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise _err(path, key, f"holds the control or format character U+{ord(ch):04X}; use plain text")
    return value


def _str_list(path: Path, key: str, value: Any, plain: bool = True) -> tuple[str, ...]:
    """A string or list of strings; plain text unless `plain` is False (source headers: any text, always bound)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, bool)) for v in value):
        raise _err(path, key, "must be a string or a list of strings")
    return tuple(_plain(path, key, v) if plain else str(v) for v in value)


def _nested_keys(path: Path, nested: Any) -> dict[str, dict[str, str]]:
    if not isinstance(nested, dict) or set(nested) - set(DEFAULT_NESTED_KEYS):
        raise _err(path, "nested_keys", f"may only hold {', '.join(DEFAULT_NESTED_KEYS)}")
    out = {}
    for group, defaults in DEFAULT_NESTED_KEYS.items():
        given = nested.get(group) or {}
        if not isinstance(given, dict):
            raise _err(path, f"nested_keys.{group}", "must map field names to JSON keys")
        for sub, json_key in given.items():
            if sub not in defaults:
                raise _err(path, f"nested_keys.{group}.{sub}", f"is not a field of {group} "
                           f"(allowed: {', '.join(defaults)})")
            if not isinstance(json_key, str) or not NESTED_KEY_RE.fullmatch(json_key):
                raise _err(path, f"nested_keys.{group}.{sub}", "must be a JSON key of letters, digits and "
                           "underscores (starting with a letter or underscore, at most 64)")
        out[group] = {**defaults, **given}
    return out


def parse_mapping(path: Path, data: Any) -> Mapping:
    """Check a mapping document and build a Mapping; every problem names the file and key."""
    if not isinstance(data, dict):
        raise WorkbenchError(f"source mapping {path.name}: must hold a mapping of keys at the top level")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _err(path, unknown[0], f"is not a mapping key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("name", "kind", "columns"):
        if key not in data:
            raise _err(path, key, "is required")
    name = str(data["name"])
    if not NAME_RE.fullmatch(name):
        raise _err(path, "name", "must be letters, digits, '_', '-' or '.' (at most 64, starting with a letter or "
                   "digit)")
    if name != path.stem:
        raise _err(path, "name", f"is {name!r} but must equal the file name stem {path.stem!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise _err(path, "kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    fmt = data.get("format", "csv")
    if fmt not in FORMATS:
        raise _err(path, "format", f"must be one of {', '.join(FORMATS)} (got {fmt!r})")
    shape = data.get("shape", "incident")
    if shape not in SHAPES:
        raise _err(path, "shape", f"must be one of {', '.join(SHAPES)} (got {shape!r})")
    source_type = data.get("source_type", "other" if kind != "referrals" else None)
    if source_type not in ("retailer", "force", "other"):
        raise _err(path, "source_type", "must be retailer, force or other")
    if kind == "referrals" and source_type == "retailer" and not data.get("retailer"):
        raise _err(path, "retailer", "is required for a retailer source (the retailer code used in store ids)")
    retailer = data.get("retailer")
    if retailer is not None and not (isinstance(retailer, str) and RETAILER_RE.fullmatch(retailer)):
        raise _err(path, "retailer", "must be a retailer code of letters, digits, '_' or '-' (at most 16)")
    force = _plain(path, "force", data["force"]) if data.get("force") is not None else None
    columns = data["columns"]
    if not isinstance(columns, dict) or not columns:
        raise _err(path, "columns", "must map each source column header to a canonical field")
    allowed = FIELDS_BY_KIND[kind]
    seen: dict[str, str] = {}
    for header, target in columns.items():
        if target not in allowed:
            raise _err(path, f"columns.{header}", f"maps to unknown field {target!r}; fields for kind {kind}: "
                       + ", ".join(allowed))
        if target in seen:
            raise _err(path, f"columns.{header}", f"maps to {target!r}, already mapped from {seen[target]!r}")
        seen[target] = str(header)
    for req in REQUIRED_BY_KIND[kind]:
        if req not in seen:
            raise _err(path, "columns", f"must map a column to the required field {req!r}")
    if kind == "referrals" and shape == "nested" and fmt not in ("json", "jsonl"):
        raise _err(path, "shape", "nested is only for json or jsonl sources")
    booleans = data.get("booleans") or {}
    if not isinstance(booleans, dict) or set(booleans) - {True, False, "true", "false"}:
        raise _err(path, "booleans", "must have keys true and false, each a list of spellings")
    true_values = _str_list(path, "booleans.true", booleans.get(True, booleans.get("true", ["y", "yes", "true", "1"])))
    false_values = _str_list(path, "booleans.false", booleans.get(False, booleans.get("false", ["n", "no", "false", "0"])))
    tactics = data.get("tactics", "codes")
    if tactics not in ("codes", "text"):
        raise _err(path, "tactics", "must be codes or text")
    value_maps = data.get("value_maps") or {}
    if not isinstance(value_maps, dict) or not all(isinstance(v, dict) for v in value_maps.values()):
        raise _err(path, "value_maps", "must map a canonical field to a {source value: canonical value} mapping")
    clean_maps: dict[str, dict[str, str]] = {}
    for fld, pairs in value_maps.items():
        if fld not in allowed:
            raise _err(path, f"value_maps.{fld}", "is not a canonical field")
        clean_maps[fld] = {_plain(path, f"value_maps.{fld}", a).strip().lower(): _plain(path, f"value_maps.{fld}", b)
                           for a, b in pairs.items()}
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise _err(path, "defaults", "must map canonical fields to constant values")
    clean_defaults: dict[str, str] = {}
    for fld, value in defaults.items():
        if fld not in allowed:
            raise _err(path, f"defaults.{fld}", "is not a canonical field")
        clean_defaults[fld] = _plain(path, f"defaults.{fld}", value)
    nested_keys = _nested_keys(path, data.get("nested_keys") or {})
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\x00\r\n"'):
        raise _err(path, "delimiter", "must be a single character (not a quote or a line break)")
    multi_sep = data.get("multi_sep", ";")
    if not isinstance(multi_sep, str) or not multi_sep:
        raise _err(path, "multi_sep", "must be a non-empty string")
    _plain(path, "multi_sep", multi_sep, max_chars=10)
    required_columns = _str_list(path, "required_columns", data.get("required_columns", []), plain=False)
    for header in required_columns:
        if header not in columns:
            raise _err(path, "required_columns", f"names {header!r}, which is not in columns")
    kw: dict[str, Any] = {}
    for key in ("datetime_formats", "date_formats", "time_formats"):
        if key in data:
            kw[key] = _str_list(path, key, data[key])
    return Mapping(
        name=name, path=path, kind=kind, columns={str(k): v for k, v in columns.items()},
        source_type=source_type or "other", retailer=retailer, force=force,
        format=fmt, file_patterns=_str_list(path, "file_patterns", data.get("file_patterns", [])), shape=shape,
        delimiter=delimiter, encoding=_optional_plain(path, "encoding", data.get("encoding")),
        sheet=_optional_plain(path, "sheet", data.get("sheet")),
        true_values=tuple(v.lower() for v in true_values), false_values=tuple(v.lower() for v in false_values),
        multi_sep=multi_sep, tactics=tactics,
        value_maps=clean_maps, defaults=clean_defaults, nested_keys=nested_keys,
        required_columns=required_columns,
        description=str(data.get("description", "")), **kw,
    )


def _optional_plain(path: Path, key: str, value: Any) -> str | None:
    return None if value is None else _plain(path, key, value)


def load_mapping_file(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except FileNotFoundError:
        raise WorkbenchError(f"source mapping {path} does not exist") from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise WorkbenchError(f"source mapping {path.name} is not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"source mapping {path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return dataclasses.replace(parse_mapping(path, data), text=text)


def mapping_from_batch(path: str, text: str) -> Mapping:
    """The mapping a batch was ingested with, rebuilt from the YAML text stored in ingest_batches.mapping_yaml
    (so rows quarantined under a mapping given by path can be exported after the file has moved or changed)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"stored source mapping {Path(path).name} is not valid YAML: "
                             f"{str(exc).splitlines()[0]}") from None
    return dataclasses.replace(parse_mapping(Path(path), data), text=text)


@lru_cache(maxsize=None)
def _all(sources_dir: str) -> dict[str, Mapping]:
    found = {}
    for path in sorted(Path(sources_dir).glob("*.yaml")):
        mapping = load_mapping_file(path)
        found[mapping.name] = mapping
    return found


def all_mappings(sources_dir: Path | None = None) -> dict[str, Mapping]:
    return _all(str(sources_dir or SOURCES_DIR))


def available_sources(sources_dir: Path | None = None) -> list[str]:
    return sorted(all_mappings(sources_dir))


def load_mapping(name: str, sources_dir: Path | None = None) -> Mapping:
    """The mapping called `name`, or a path to a mapping YAML file."""
    if name.endswith((".yaml", ".yml")):
        return load_mapping_file(Path(name))
    mappings = all_mappings(sources_dir)
    if name not in mappings:
        raise WorkbenchError(f"no source called {name!r}; known sources: {', '.join(sorted(mappings))}")
    return mappings[name]
