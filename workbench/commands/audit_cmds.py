"""`workbench audit verify|list`: check the audit log's hash chain, and read the log."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say
from workbench.store import open_store, verify_audit

audit_app = typer.Typer(help="Check and read the audit log (hash-chained: docs/data-model.md).",
                        no_args_is_help=True)


@audit_app.command("verify")
def verify(
    db: Optional[Path] = DbOption,
    anchor: Optional[str] = typer.Option(
        None, "--anchor", help="A head hash printed by an earlier verify: check the log still passes through it."),
    json_out: bool = JsonOption,
) -> None:
    """Recompute the audit chain: exit 0 if intact, 1 naming the first edited, deleted or inserted row.

    Prints the head hash: record it somewhere outside the store (a case file, an email) and pass it
    back with --anchor to prove later that the log was not rewritten or cut back since."""
    with open_store(db, read_only=True) as store:
        result = verify_audit(store.con, anchor=anchor.strip().lower() if anchor else None)
        result["db"] = str(store.path)
    if json_out:
        emit_json(result)
    elif result["ok"]:
        say(f"audit log of {result['db']} intact: {result['rows']:,} rows, head seq {result['head_seq']} "
            f"sha256 {result['head_hash']}")
        say("record the head hash outside the store and check it later with "
            f"`workbench audit verify --anchor {result['head_hash']}`")
    else:
        say(f"audit log of {result['db']} NOT intact: {result['problem']}", err=True)
    if not result["ok"]:
        raise typer.Exit(1)


@audit_app.command("list")
def list_rows(
    db: Optional[Path] = DbOption,
    limit: int = typer.Option(20, "--limit", min=1, help="Show the latest N rows."),
    action: Optional[str] = typer.Option(None, "--action", help="Only rows of this action, e.g. ingest or export."),
    json_out: bool = JsonOption,
) -> None:
    """The latest audit rows: when, who (OS account), what action on which object, details."""
    with open_store(db, read_only=True) as store:
        frame = store.sql(
            "SELECT seq, logged_at, os_user, action, object, details FROM audit_log "
            "WHERE $action IS NULL OR action = $action ORDER BY seq DESC NULLS FIRST, audit_id DESC LIMIT $limit",
            {"action": action, "limit": limit})
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    for row in rows:
        row["logged_at"] = str(row["logged_at"]) if row["logged_at"] is not None else None
    if json_out:
        for row in rows:
            try:
                row["details"] = json.loads(row["details"]) if row["details"] else None
            except ValueError:
                pass
        emit_json(rows)
        return
    for row in rows:
        text = row["details"] or ""
        row["details"] = text if len(text) <= 80 else text[:77] + "..."
    print_table("audit log (latest first)", rows, ["seq", "logged_at", "os_user", "action", "object", "details"])


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
