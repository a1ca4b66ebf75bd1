"""Quarantine: list and show held rows, and export them in the source's own layout for correction.

An export writes the open rows of one source with the source's own column headers plus `_reasons`
(every reason, in plain English) and `_quarantine_id`. The retailer fixes the cells and sends the
file back; ingesting it resolves the entries (status resolved, resolved_batch_id) by quarantine id,
or by referral reference for a re-submission that drops the extra columns.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from workbench import exports
from workbench.errors import WorkbenchError
from workbench.ingest.mapping import Mapping, load_mapping
from workbench.store import Store

EXPORT_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl", ".ndjson")


def list_entries(store: Store, source: str | None = None, status: str | None = "open",
                 batch_id: int | None = None) -> pd.DataFrame:
    """One row per quarantined row: id, source, file, row, status and the rules it broke."""
    return store.query("ingest_quarantine_list", source=source, status=status, batch_id=batch_id)


def summary(store: Store) -> pd.DataFrame:
    return store.query("ingest_quarantine_reasons")


def show(store: Store, quarantine_id: int) -> dict:
    rows = store.query("ingest_quarantine_entry", quarantine_id=quarantine_id)
    if rows.empty:
        raise WorkbenchError(f"no quarantine entry {quarantine_id}")
    row = rows.iloc[0].to_dict()
    row["raw"] = json.loads(row["raw"])
    row["reasons"] = json.loads(row["reasons"])
    return row


def export(store: Store, out: str | Path, source: str | None = None, batch_id: int | None = None,
           purpose: str | None = None) -> dict:
    """Write open (and previously exported, unresolved) rows of one source for correction, through the
    formula-safe writer (workbench.exports); mark them exported and audit the file in one transaction.
    The file is deleted again if that transaction fails (an export is audited or does not exist)."""
    out = exports.check_output(out, EXPORT_SUFFIXES)
    purpose = exports.check_purpose(purpose)
    entries = store.query("ingest_quarantine_export", source=source, batch_id=batch_id)
    if entries.empty:
        raise WorkbenchError("no open quarantine entries" + (f" for source {source}" if source else ""))
    sources = sorted(entries["source_name"].unique())
    if len(sources) > 1:
        raise WorkbenchError(f"open quarantine entries come from several sources ({', '.join(sources)}); "
                             "pass --source NAME")
    mapping = _mapping_for(store, sources[0], batch_id)
    records = []
    for item in entries.itertuples():
        raw = json.loads(item.raw)
        reasons = json.loads(item.reasons)
        text = "; ".join(f"{r['rule']}: {r['message']}" + (f" [{r['field']} = {r['value']}]" if r.get('value') else "")
                         for r in reasons)
        records.append((item.quarantine_id, raw, text))
    # the source's own layout: the mapping's columns, then any other column the rows had (for a mapping
    # that cannot be loaded any more, the rows' own columns in the order first seen)
    headers = list(mapping.columns) if mapping is not None else []
    for _, raw, _ in records:
        if isinstance(raw, dict):
            for key in raw:
                if key not in headers and key not in ("_quarantine_id", "_reasons", "_line"):
                    headers.append(key)
    if not headers:
        headers = ["_line"]
    if exports.format_of(out) == "jsonl":
        rows = [{**(raw if isinstance(raw, dict) else {"_line": raw}), "_reasons": text, "_quarantine_id": qid}
                for qid, raw, text in records]
        written = exports.write_table(rows, out, sheet="quarantine")
    else:
        rows = [[_cell(raw, h, i == 0) for i, h in enumerate(headers)] + [text, qid] for qid, raw, text in records]
        delimiter = (mapping.delimiter if mapping is not None else None) or None
        written = exports.write_table(rows, out, columns=headers + ["_reasons", "_quarantine_id"],
                                      delimiter=delimiter, sheet="quarantine")
    ids = [r[0] for r in records]
    details = {"source": sources[0], "rows": len(ids), "batch_id": batch_id, "format": written["format"],
               "mapping": "loaded" if mapping is not None else "not loadable: the rows' own columns",
               "quarantine_ids": ids[:1000]}
    try:
        with store.writing():   # a notebook's read-only store writes through a brief write connection
            store.con.execute("BEGIN TRANSACTION")
            try:
                store.con.execute("UPDATE quarantine SET status = 'exported' WHERE status = 'open' AND "
                                  "list_contains($ids, quarantine_id)", {"ids": ids})
                exports.audit_export(store, "quarantine-export", out, details, purpose)
                store.con.execute("COMMIT")
            except BaseException:
                store.con.execute("ROLLBACK")
                raise
    except WorkbenchError:
        exports.discard([out])
        raise
    except Exception as exc:
        exports.discard([out])
        raise WorkbenchError(f"{out}: not written: the export could not be recorded "
                             f"({str(exc).splitlines()[0]})") from None
    return {"file": str(out), "source": sources[0], "rows": len(ids), "sha256": written["sha256"],
            "bytes": written["bytes"], "format": written["format"], "purpose": purpose,
            "headers_from": "mapping" if mapping is not None else "rows"}


def _mapping_for(store: Store, source_name: str, batch_id: int | None = None) -> Mapping | None:
    """The mapping the rows were quarantined under: the one stored with their newest batch (which also
    covers a mapping given by path, even after its file has moved or changed), else the shipped mapping
    of that name; None when neither can be had (the export then uses the rows' own columns)."""
    from workbench.ingest.mapping import mapping_from_batch

    stored = store.query("ingest_quarantine_export_mapping", source=source_name, batch_id=batch_id)
    for row in stored.itertuples():   # batches from before migration 0006 have no stored mapping
        try:
            mapping = mapping_from_batch(row.mapping_path or f"{source_name}.yaml", row.mapping_yaml)
        except WorkbenchError:
            continue
        if mapping.name == source_name:
            return mapping
    try:
        return load_mapping(source_name)
    except WorkbenchError:
        return None


def _cell(raw, header: str, first: bool = False):
    if not isinstance(raw, dict):
        return ""
    if set(raw) == {"_line"}:  # a row that could not be split into columns: the line goes in column one
        return raw["_line"] if first else ""
    value = raw.get(header)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value
