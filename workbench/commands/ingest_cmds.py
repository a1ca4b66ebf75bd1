"""`workbench ingest`, `workbench validate` and `workbench quarantine list|show|export`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.commands.common import DbOption, JsonOption, check_inputs, emit_json, print_table, say
from workbench.errors import WorkbenchError
from workbench.textsafe import terminal_safe
from workbench.store import open_store

quarantine_app = typer.Typer(help="Rows held back by validation: list, show, export for correction.",
                             no_args_is_help=True)
SourceOption = typer.Option(None, "--source", help="Source mapping name (default: detected from the header).")


def _counts_line(r: dict) -> str:
    if r.get("status") == "failed":
        return f"{Path(r['file']).name}: FAILED - {r['error']}"
    if r.get("status") == "no-op":
        return f"{Path(r['file']).name}: unchanged (identical content already ingested in batch {r['same_as_batch']})"
    head = (f"{Path(r['file']).name} -> " + (f"batch {r['batch_id']}" if r.get("batch_id") else "dry run")
            + f" ({r['source']}): read {r['rows_read']}, accepted {r['rows_accepted']}, "
              f"quarantined {r['rows_quarantined']}")
    if r.get("duplicates_merged") is not None:
        head += f", duplicates merged {r['duplicates_merged']}"
    if r.get("referral_versions_superseded"):
        head += f", superseded versions {r['referral_versions_superseded']}"
    if r.get("quarantine_resolved"):
        head += f", quarantine resolved {r['quarantine_resolved']}"
    parts = [head]
    if r.get("errors_by_rule"):
        parts.append("  errors: " + ", ".join(f"{k} {v}" for k, v in r["errors_by_rule"].items()))
    if r.get("warnings_by_rule"):
        parts.append("  warnings: " + ", ".join(f"{k} {v}" for k, v in r["warnings_by_rule"].items()))
    if r.get("missing_columns"):
        parts.append("  missing columns: " + ", ".join(r["missing_columns"]))
    return "\n".join(parts)


def _alert_lines(reports: list[dict]) -> None:
    """What alerting said after each batch (workbench.linkage.alerts); a note such as "no linkage run yet" once."""
    notes = []
    for r in reports:
        a = r.get("alerts") or {}
        if a.get("status") == "failed":
            say(f"warning: {a['error']}", err=True)
        elif a.get("alerts"):
            say(f"batch {a['batch_id']}: {a['alerts']} new alerts (workbench alerts list)")
        elif a.get("note") and a["note"] not in notes:
            notes.append(a["note"])
            say(a["note"])


def ingest(paths: List[Path] = typer.Argument(..., help="Files or directories of extracts."),
           source: Optional[str] = SourceOption, db: Optional[Path] = DbOption,
           json_out: bool = JsonOption) -> None:
    """Ingest extracts into the store: one batch (one transaction) per file, with a batch report."""
    from workbench.ingest.pipeline import ingest_paths

    check_inputs(paths)
    with open_store(db) as store:
        reports = ingest_paths(store, paths, source=source)
    failed = [r for r in reports if r.get("status") == "failed"]
    if json_out:
        emit_json({"batches": reports})
    else:
        for r in reports:
            if r.get("status") != "failed":
                say(_counts_line(r))
        _alert_lines(reports)
    for r in failed:
        say(f"error: {terminal_safe(r['error'])}", err=True)
    if failed:
        raise typer.Exit(2)


def validate(path: Path = typer.Argument(..., help="The extract to check."),
             source: Optional[str] = SourceOption, db: Optional[Path] = DbOption,
             json_out: bool = JsonOption) -> None:
    """Dry run: the same checks and report as ingest, nothing written. Exit 1 when rows would be quarantined."""
    from workbench.ingest.pipeline import validate_file

    check_inputs([path])
    with open_store(db) as store:
        report = validate_file(store, path, source=source)
    emit_json(report) if json_out else say(_counts_line(report))
    if report["rows_quarantined"]:
        raise typer.Exit(1)


@quarantine_app.command("list")
def q_list(source: Optional[str] = typer.Option(None, "--source"),
           status: str = typer.Option("open", "--status", help="open (includes exported) | exported | resolved | all"),
           batch: Optional[int] = typer.Option(None, "--batch"), db: Optional[Path] = DbOption,
           json_out: bool = JsonOption) -> None:
    """Quarantined rows with the rules they broke."""
    from workbench.ingest import quarantine

    if status not in ("open", "exported", "resolved", "all"):
        raise WorkbenchError(f"--status must be open, exported, resolved or all (got {status!r})")
    with open_store(db, read_only=True) as store:
        frame = quarantine.list_entries(store, source, None if status == "all" else status, batch)
    rows = frame.to_dict(orient="records")
    if json_out:
        emit_json({"entries": rows})
    else:
        print_table(f"quarantine ({status})", rows[:200])
        if len(rows) > 200:
            say(f"... {len(rows) - 200} more (use --json or quarantine export)")


@quarantine_app.command("show")
def q_show(quarantine_id: int = typer.Argument(...), db: Optional[Path] = DbOption,
           json_out: bool = JsonOption) -> None:
    """One quarantined row: its raw values as read and every reason."""
    from workbench.ingest import quarantine

    with open_store(db, read_only=True) as store:
        entry = quarantine.show(store, quarantine_id)
    if json_out:
        emit_json(entry)
        return
    say(f"quarantine {entry['quarantine_id']}: {entry['source_file']} row {entry['row_number']} "
                  f"({entry['source_name']}, batch {entry['batch_id']}, {entry['status']})")
    for reason in entry["reasons"]:
        say(f"  {reason['severity']} {reason['rule']}: {reason['message']}"
                      + (f" [{reason['field']} = {reason['value']}]" if reason.get("value") else ""))
    raw = entry["raw"]
    for key, value in (raw.items() if isinstance(raw, dict) else [("row", raw)]):
        say(f"    {key}: {value!r}")


@quarantine_app.command("export")
def q_export(out: Path = typer.Option(..., "--out", help="File to write (.csv, .xlsx or .jsonl)."),
             source: Optional[str] = typer.Option(None, "--source"), batch: Optional[int] = typer.Option(None, "--batch"),
             purpose: Optional[str] = typer.Option(None, "--purpose",
                                                   help="Why this export is made (optional; recorded in the audit log)."),
             db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Write open rows in the source's own layout plus a reasons column, to correct and re-submit (audited)."""
    from workbench import exports
    from workbench.ingest import quarantine

    exports.check_output(out, quarantine.EXPORT_SUFFIXES)     # before the store is opened
    exports.check_purpose(purpose)
    with open_store(db) as store:
        result = quarantine.export(store, out, source=source, batch_id=batch, purpose=purpose)
    emit_json(result) if json_out else say(
        f"wrote {result['rows']} quarantined rows of {result['source']} to {result['file']}")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("validate")(validate)
    app.add_typer(quarantine_app, name="quarantine")
