"""The corrected template written for the retailer (CSV or XLSX through workbench/exports.py: formula-safe, the
XLSX marked, the file audited), and a checked file sent on to the normal ingest when the user asks."""
from __future__ import annotations

from pathlib import Path

from workbench import exports
from workbench.readiness.check import ReadinessResult
from workbench.store import Store

TEMPLATE_SUFFIXES = (".csv", ".xlsx")


def write_template(store: Store, result: ReadinessResult, out: str | Path, purpose: str | None = None) -> dict:
    """Write the corrected template to `out` (.csv or .xlsx) and record it in the audit log (a read-only store
    writes the row through a brief write connection); the written file is deleted if it cannot be audited."""
    out = exports.check_output(out, TEMPLATE_SUFFIXES)
    purpose = exports.check_purpose(purpose)
    written = exports.write_table(result.template, out, sheet="readiness")
    details = {"source": result.source, "checked_file": result.file, "rows": written["rows"],
               "ready": result.score.get("ready"), "not_ready": result.score.get("not_ready"),
               "format": written["format"]}
    exports.audit_export(store, "readiness-template", out, details, purpose)
    return dict(written, **details)


def ingest_checked(store: Store, result: ReadinessResult) -> dict:
    """Send the checked file through the normal ingest (workbench.ingest.ingest_file: one audited batch; rows
    that are not ready are quarantined with their reasons, as for any file). Only when the user asks."""
    from workbench.ingest import ingest_file

    with store.writing():
        return ingest_file(store, result.path, source=result.source_arg or result.source)
