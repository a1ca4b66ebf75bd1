"""Entity resolution: persons (Splink 5 on DuckDB) and vehicles (VRM keys, partial plates, cloned-plate flags).

Settings-driven pipeline (`workbench/config/linkage.yaml`, docs/linkage.md) with one component per stage:

    settings  = load_settings()                                   # versioned YAML, validated
    prepared  = prepare_person_records(frame, "id", {"forename": "First", "surname": "Last", "dob": "DOB"})
    result    = resolve_persons(prepared, settings, must_link=[...], cannot_link=[...])
    result.clusters            # record_id, cluster_id, match_weight (strongest link), joined_by
    result.review_pairs()      # the clerical review band
    result.explain(a, b)       # match weight per comparison (a DataFrame)

    link_records(frame, "id", columns)                            # all of the above, one row per record

Over the store: `run_persons(store)`, `run_vehicles(store)`, `run_all(store)`, `decide(...)`, `explain(...)`,
`status(store)` (workbench.linkage.run). Vehicles: `normalise_vrm`, `vrm_format`, `confusable_key`,
`partial_pattern`, `resolve_vehicles` (workbench.linkage.vehicles). Clustering with constraints:
`cluster` (workbench.linkage.clustering).
"""
from __future__ import annotations

import pandas as pd

from workbench.linkage.clustering import check_decisions, cluster, context_cannot_link
from workbench.linkage.persons import PersonResolution, resolve_persons
from workbench.linkage.records import ROLES, guess_columns, parse_columns, prepare_person_records
from workbench.linkage.settings import LinkageSettings, load_settings
from workbench.linkage.vehicles import (confusable_key, normalise_vrm, partial_pattern, resolve_vehicles,
                                        travel_flag, vrm_format)

__all__ = ["ROLES", "LinkageSettings", "PersonResolution", "check_decisions", "cluster", "confusable_key",
           "context_cannot_link", "guess_columns", "link_records", "load_settings", "normalise_vrm",
           "parse_columns", "partial_pattern", "prepare_person_records", "resolve_persons", "resolve_vehicles",
           "travel_flag", "vrm_format"]


def link_records(frame: pd.DataFrame, id_column: str, columns: dict[str, str] | None = None,
                 settings: LinkageSettings | None = None, must_link=(), cannot_link=()) -> tuple[pd.DataFrame, PersonResolution]:
    """Deduplicate any DataFrame of person records: (one row per record: record_id, cluster_id, match_weight,
    joined_by; the resolution). `columns` maps roles to column names; None guesses from usual names."""
    settings = settings or load_settings()
    columns = guess_columns(frame) if columns is None else columns
    cell = float((settings.persons.get("context") or {}).get("place_cell_degrees", 0.5))
    prepared = prepare_person_records(frame, id_column, columns, place_cell_degrees=cell)
    resolution = resolve_persons(prepared, settings, must_link=must_link, cannot_link=cannot_link)
    out = resolution.clusters.rename(columns={"record_id": id_column})
    return out, resolution
