"""Referral ingest: any retailer's or force's extract into the canonical store.

    from workbench.ingest import ingest_file, validate_file
    report = ingest_file(store, "extracts/brightmart_incidents.csv")          # source auto-detected
    report = validate_file(store, "extracts/x.csv", source="retailer_brightmart")  # dry run, no writes

Modules: mapping (declarative source mappings under workbench/sources/), readers (format,
encoding and delimiter detection; chunked reading into DuckDB), validate (rules in SQL),
load (one transaction per file, deduplication, supersession, quarantine), report, quarantine.
"""
from workbench.ingest.mapping import Mapping, available_sources, load_mapping  # noqa: F401
from workbench.ingest.pipeline import ingest_file, ingest_paths, validate_file  # noqa: F401
