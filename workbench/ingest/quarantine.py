"""Quarantine: list and show held rows, and export them in the source's own layout for correction.

An export writes the open rows of one source with the source's own column headers plus `_reasons`
(every reason, in plain English) and `_quarantine_id`. The retailer fixes the cells and sends the
file back; ingesting it resolves the entries (status resolved, resolved_batch_id) by quarantine id,
or by referral reference for a re-submission that drops the extra columns.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.ingest.mapping import load_mapping
from workbench.store import Store

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Make a cell safe to open in a spreadsheet: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


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


def export(store: Store, out: str | Path, source: str | None = None, batch_id: int | None = None) -> dict:
    """Write open (and previously exported, unresolved) rows of one source for correction."""
    out = Path(out)
    entries = store.query("ingest_quarantine_export", source=source, batch_id=batch_id)
    if entries.empty:
        raise WorkbenchError("no open quarantine entries" + (f" for source {source}" if source else ""))
    sources = sorted(entries["source_name"].unique())
    if len(sources) > 1:
        raise WorkbenchError(f"open quarantine entries come from several sources ({', '.join(sources)}); "
                             "pass --source NAME")
    mapping = load_mapping(sources[0])
    records = []
    for item in entries.itertuples():
        raw = json.loads(item.raw)
        reasons = json.loads(item.reasons)
        text = "; ".join(f"{r['rule']}: {r['message']}" + (f" [{r['field']} = {r['value']}]" if r.get('value') else "")
                         for r in reasons)
        records.append((item.quarantine_id, raw, text))
    headers = list(mapping.columns)
    for _, raw, _ in records:
        if isinstance(raw, dict):
            for key in raw:
                if key not in headers and key not in ("_quarantine_id", "_reasons"):
                    headers.append(key)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".jsonl", ".json"):
        with open(out, "w", encoding="utf-8") as fh:
            for qid, raw, text in records:
                obj = dict(raw) if isinstance(raw, dict) else {"_line": raw}
                obj.update({"_reasons": text, "_quarantine_id": qid})
                fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    elif suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("quarantine")
        ws.append(headers + ["_reasons", "_quarantine_id"])
        for qid, raw, text in records:
            values = [neutralise(_cell(raw, h, i == 0)) for i, h in enumerate(headers)]
            ws.append(values + [neutralise(text), qid])
        wb.save(out)
    else:
        delimiter = mapping.delimiter or ","
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(headers + ["_reasons", "_quarantine_id"])
            for qid, raw, text in records:
                writer.writerow([neutralise(_cell(raw, h, i == 0)) for i, h in enumerate(headers)] + [neutralise(text), qid])
    ids = [r[0] for r in records]
    from workbench.ingest.readers import file_sha256

    sha, size = file_sha256(out)
    store.con.execute("BEGIN TRANSACTION")
    try:
        store.con.execute("UPDATE quarantine SET status = 'exported' WHERE status = 'open' AND "
                          "list_contains($ids, quarantine_id)", {"ids": ids})
        store.audit("quarantine-export", str(out), {"source": sources[0], "rows": len(ids), "batch_id": batch_id,
                                                    "sha256": sha, "bytes": size, "quarantine_ids": ids[:1000]})
        store.con.execute("COMMIT")
    except Exception:
        store.con.execute("ROLLBACK")
        raise
    return {"file": str(out), "source": sources[0], "rows": len(ids), "sha256": sha}


def _cell(raw, header: str, first: bool = False):
    if not isinstance(raw, dict):
        return ""
    if set(raw) == {"_line"}:  # a row that could not be split into columns: the line goes in column one
        return raw["_line"] if first else ""
    value = raw.get(header)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value
