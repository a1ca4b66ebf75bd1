"""The linkage settings file (`workbench/config/linkage.yaml`), validated once into plain dicts.

Override: the YAML file named in WORKBENCH_LINKAGE_CONFIG (or passed as `path`) is merged over the packaged
file key by key. Every value that reaches SQL is a number checked here or a column name from a fixed list;
blocking rules and comparisons are named, never written as SQL in the file.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workbench.config import PACKAGE_DIR, _merge
from workbench.errors import ConfigError

SETTINGS_FILE = PACKAGE_DIR / "config" / "linkage.yaml"

# columns of a prepared person record that blocking rules may name (workbench.linkage.records)
BLOCKING_COLUMNS = ("forename_norm", "surname_norm", "forename_canon", "forename_initial", "surname_initial",
                    "surname_prefix", "dob", "alias_norm", "postcode_norm", "town_norm", "other_id", "place_cell",
                    "gender_norm", "full_name_norm")
SPECIAL_BLOCKING = ("swapped_names",)
COMPARISONS = ("forename", "surname", "alias", "dob", "gender", "place", "postcode", "town", "address", "other_id")


@dataclass(frozen=True)
class LinkageSettings:
    raw: dict
    version: int
    sha256: str
    source: str
    persons: dict = field(default_factory=dict)
    vehicles: dict = field(default_factory=dict)

    @property
    def auto_link(self) -> float:
        return float(self.persons["thresholds"]["auto_link"])

    @property
    def review(self) -> float:
        return float(self.persons["thresholds"]["review"])

    @property
    def separate_below(self) -> float | None:
        value = self.persons["thresholds"].get("separate_below")
        return None if value is None else float(value)

    def summary(self) -> dict:
        return {"version": self.version, "sha256": self.sha256, "source": self.source,
                "auto_link": self.auto_link, "review": self.review, "separate_below": self.separate_below}

    def for_records(self, n: int) -> "LinkageSettings":
        """The settings for an input of n records: at or above persons.national.from_records, the national
        blocking rules and context options replace the ordinary ones (docs/linkage.md, national scale)."""
        national = self.persons.get("national") or {}
        if not national or n < int(national.get("from_records", 2 ** 62)):
            return self
        persons = copy.deepcopy(self.persons)
        if national.get("blocking"):
            persons["blocking"] = copy.deepcopy(national["blocking"])
        persons["context"] = {**(persons.get("context") or {}), **(national.get("context") or {})}
        persons["thresholds"] = {**persons["thresholds"], **(national.get("thresholds") or {})}
        persons["national_mode"] = True
        return LinkageSettings(raw=self.raw, version=self.version, sha256=self.sha256, source=self.source,
                               persons=persons, vehicles=self.vehicles)


def _number(value: Any, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"linkage settings: {where} must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"linkage settings: {where} must be at least {minimum}, got {value!r}")
    return float(value)


def _check(raw: dict, source: str) -> None:
    persons = raw.get("persons")
    if not isinstance(persons, dict):
        raise ConfigError(f"linkage settings {source}: no 'persons' section")
    thresholds = persons.get("thresholds") or {}
    auto = _number(thresholds.get("auto_link"), "persons.thresholds.auto_link")
    review = _number(thresholds.get("review"), "persons.thresholds.review")
    if review > auto:
        raise ConfigError("linkage settings: persons.thresholds.review must not exceed auto_link")
    if thresholds.get("separate_below") is not None:
        if _number(thresholds["separate_below"], "persons.thresholds.separate_below") >= review:
            raise ConfigError("linkage settings: persons.thresholds.separate_below must be below review")
    training = persons.get("training") or {}
    _number(training.get("u_max_pairs", 1e6), "persons.training.u_max_pairs", 1000)
    recall = _number(training.get("prior_recall", 0.6), "persons.training.prior_recall", 0.01)
    if recall > 1:
        raise ConfigError("linkage settings: persons.training.prior_recall must be at most 1")
    national = persons.get("national") or {}
    if national:
        unknown = set(national) - {"from_records", "blocking", "context", "thresholds"}
        if unknown:
            raise ConfigError(f"linkage settings: unknown persons.national option(s) {', '.join(sorted(map(str, unknown)))}")
        _number(national.get("from_records"), "persons.national.from_records", 2)
        merged = {**thresholds, **(national.get("thresholds") or {})}
        if set(national.get("thresholds") or {}) - {"auto_link", "review", "separate_below"}:
            raise ConfigError("linkage settings: persons.national.thresholds takes auto_link, review, separate_below")
        for key in ("auto_link", "review"):
            _number(merged.get(key), f"persons.national.thresholds.{key}")
        if float(merged["review"]) > float(merged["auto_link"]):
            raise ConfigError("linkage settings: persons.national.thresholds.review must not exceed auto_link")
    checked = [("persons.blocking", persons.get("blocking") or []),
               ("persons.training.em_blocking", training.get("em_blocking") or [])]
    if national.get("blocking") is not None:
        checked.append(("persons.national.blocking", national.get("blocking") or []))
    for where, rules in checked:
        if not rules:
            raise ConfigError(f"linkage settings: {where} lists no rule")
        for rule in rules:
            if isinstance(rule, str):
                if rule not in SPECIAL_BLOCKING:
                    raise ConfigError(f"linkage settings: {where}: unknown rule {rule!r} (one of {SPECIAL_BLOCKING} "
                                      "or a list of columns)")
                continue
            if not isinstance(rule, list) or not rule:
                raise ConfigError(f"linkage settings: {where}: a rule is a list of columns, got {rule!r}")
            for column in rule:
                if column not in BLOCKING_COLUMNS:
                    raise ConfigError(f"linkage settings: {where}: unknown column {column!r} "
                                      f"(one of {', '.join(BLOCKING_COLUMNS)})")
    comparisons = persons.get("comparisons") or {}
    for name, params in comparisons.items():
        if name not in COMPARISONS:
            raise ConfigError(f"linkage settings: unknown comparison {name!r} (one of {', '.join(COMPARISONS)})")
        if params is not None and not isinstance(params, dict):
            raise ConfigError(f"linkage settings: comparison {name!r} takes a mapping of options")
        for key, value in (params or {}).items():
            if key in ("jaro_winkler", "km"):
                values = value if isinstance(value, list) else [value]
                for v in values:
                    _number(v, f"persons.comparisons.{name}.{key}", 0)
            elif key == "max_edits":
                _number(value, f"persons.comparisons.{name}.{key}", 0)
    _check_duckdb(persons.get("duckdb") or {})
    if "em_max_pairs" in training:
        _number(training["em_max_pairs"], "persons.training.em_max_pairs", 1000)
    context = persons.get("context") or {}
    for key in ("max_speed_kmh", "slack_minutes", "min_km", "place_cell_degrees"):
        if key in context:
            _number(context[key], f"persons.context.{key}", 0)
    vehicles = raw.get("vehicles") or {}
    for key in ("max_speed_kmh", "slack_minutes", "min_km", "partial_min_chars"):
        if key in vehicles:
            _number(vehicles[key], f"vehicles.{key}", 0)
    _check_alerts(raw.get("alerts") or {})
    _check_groups(raw.get("groups") or {})


MEMORY_LIMIT = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,3})?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


def _check_duckdb(duckdb: dict) -> None:
    """threads, memory_limit and temp_directory end up in DuckDB SET statements: only plain values pass."""
    if "threads" in duckdb and (isinstance(duckdb["threads"], bool) or not isinstance(duckdb["threads"], int)
                                or not 1 <= duckdb["threads"] <= 256):
        raise ConfigError(f"linkage settings: persons.duckdb.threads must be a whole number 1-256, "
                          f"got {duckdb['threads']!r}")
    limit = duckdb.get("memory_limit")
    if limit is not None and not (isinstance(limit, str) and MEMORY_LIMIT.match(limit)):
        raise ConfigError(f"linkage settings: persons.duckdb.memory_limit must be like 4GB or 800MB, got {limit!r}")
    temp = duckdb.get("temp_directory")
    if temp is not None and (not isinstance(temp, str) or not temp.strip() or "'" in temp or "\0" in temp):
        raise ConfigError(f"linkage settings: persons.duckdb.temp_directory must be a folder path, got {temp!r}")


ALERT_REASONS_FLAGS = ("impossible_travel", "description_conflict")


def _check_alerts(alerts: dict) -> None:
    """The `alerts:` section (workbench.linkage.alerts)."""
    if not isinstance(alerts, dict):
        raise ConfigError("linkage settings: alerts must be a mapping")
    unknown = set(alerts) - {"enabled", "prolific_min_incidents", "min_match_weight", "vehicle_flag_kinds",
                             "partial_plates", "group_alerts"}
    if unknown:
        raise ConfigError(f"linkage settings: unknown alerts option(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("enabled", "partial_plates", "group_alerts"):
        if key in alerts and not isinstance(alerts[key], bool):
            raise ConfigError(f"linkage settings: alerts.{key} must be true or false, got {alerts[key]!r}")
    if "prolific_min_incidents" in alerts:
        _number(alerts["prolific_min_incidents"], "alerts.prolific_min_incidents", 1)
    if alerts.get("min_match_weight") is not None:
        _number(alerts["min_match_weight"], "alerts.min_match_weight")
    kinds = alerts.get("vehicle_flag_kinds", list(ALERT_REASONS_FLAGS))
    if not isinstance(kinds, list) or any(k not in ALERT_REASONS_FLAGS for k in kinds):
        raise ConfigError(f"linkage settings: alerts.vehicle_flag_kinds lists flag kinds ({', '.join(ALERT_REASONS_FLAGS)})"
                          f", got {kinds!r}")


GROUPS_KEYS = {"seed", "min_shared_incidents", "shared_vehicle_weight", "leiden", "min_members", "min_incidents",
               "keep_id_min_jaccard", "broker_quantile", "key_players", "stability", "betweenness_exact_max_nodes"}


def _check_groups(groups: dict) -> None:
    """The `groups:` section (workbench.linkage.groups)."""
    if not isinstance(groups, dict):
        raise ConfigError("linkage settings: groups must be a mapping")
    unknown = set(groups) - GROUPS_KEYS
    if unknown:
        raise ConfigError(f"linkage settings: unknown groups option(s) {', '.join(sorted(map(str, unknown)))}")
    for key, low in (("seed", 0), ("min_shared_incidents", 1), ("shared_vehicle_weight", 0), ("min_members", 2),
                     ("min_incidents", 1), ("key_players", 0), ("betweenness_exact_max_nodes", 10)):
        if key in groups:
            _number(groups[key], f"groups.{key}", low)
    for key in ("keep_id_min_jaccard", "broker_quantile"):
        if key in groups and _number(groups[key], f"groups.{key}", 0) > 1:
            raise ConfigError(f"linkage settings: groups.{key} must be at most 1")
    leiden = groups.get("leiden") or {}
    if leiden.get("objective", "modularity") != "modularity":
        raise ConfigError(f"linkage settings: groups.leiden.objective must be modularity, got {leiden['objective']!r}")
    for key, low in (("resolution", 1e-9), ("randomness", 1e-9), ("iterations", 1), ("trials", 1)):
        if key in leiden:
            _number(leiden[key], f"groups.leiden.{key}", low)
    stability = groups.get("stability") or {}
    if "drop_fraction" in stability and not 0 <= _number(stability["drop_fraction"], "groups.stability.drop_fraction", 0) < 1:
        raise ConfigError("linkage settings: groups.stability.drop_fraction must be below 1")
    if "repeats" in stability:
        _number(stability["repeats"], "groups.stability.repeats", 0)


def load_settings(path: str | Path | None = None) -> LinkageSettings:
    """The effective linkage settings: the packaged file, with `path` (or WORKBENCH_LINKAGE_CONFIG) merged over."""
    try:
        base = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:  # pragma: no cover - the packaged file is tested
        raise ConfigError(f"linkage settings {SETTINGS_FILE} are not valid YAML: {exc}") from None
    override = path or os.environ.get("WORKBENCH_LINKAGE_CONFIG") or None
    source = str(SETTINGS_FILE)
    if override:
        override = Path(override)
        try:
            extra = yaml.safe_load(override.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"linkage settings file {override} does not exist") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"linkage settings file {override} is not valid YAML: {exc}") from None
        if not isinstance(extra, dict):
            raise ConfigError(f"linkage settings file {override} must hold a mapping at the top level")
        base = _merge(base, extra)
        source = f"{SETTINGS_FILE} + {override}"
    _check(base, source)
    canonical = json.dumps(base, sort_keys=True, default=str).encode("utf-8")
    return LinkageSettings(raw=copy.deepcopy(base), version=int(base.get("version", 0)),
                           sha256=hashlib.sha256(canonical).hexdigest(), source=source,
                           persons=copy.deepcopy(base["persons"]), vehicles=copy.deepcopy(base.get("vehicles") or {}))
