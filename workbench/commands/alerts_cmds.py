"""`workbench alerts list|ack|scan`: new referrals that match known group members, prolific offenders or flagged
vehicles (workbench.linkage.alerts, docs/linkage.md "Alerts")."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say
from workbench.errors import WorkbenchError

alerts_app = typer.Typer(help="Alerts raised when new referrals match known people or vehicles (docs/linkage.md).",
                         no_args_is_help=True)
SHOWN = ["alert_id", "status", "batch_id", "entity", "reason", "mention_text", "entity_id", "entity_label",
         "match_weight", "matched_by", "source_ref", "raised_at"]


@alerts_app.command("list")
def list_cmd(status: str = typer.Option("open", "--status", help="open | acknowledged | all"),
             batch: Optional[int] = typer.Option(None, "--batch", help="Only the alerts of this ingest batch."),
             db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Alerts, open first and newest first (read-only)."""
    from workbench.linkage import alerts
    from workbench.store import open_store

    if status not in ("open", "acknowledged", "all"):
        raise WorkbenchError(f"--status must be open, acknowledged or all (got {status!r})")
    with open_store(db, read_only=True) as store:
        frame = alerts.list_alerts(store, None if status == "all" else status, batch)
    rows = frame.to_dict(orient="records")
    if json_out:
        emit_json({"alerts": rows})
        return
    shown = [{c: ("" if r.get(c) is None else (f"{r[c]:.2f}" if c == "match_weight" and r[c] == r[c] else r[c]))
              for c in SHOWN} for r in rows[:200]]
    print_table(f"alerts ({status})", shown, SHOWN)
    if len(rows) > 200:
        say(f"... {len(rows) - 200} more (use --json)")


@alerts_app.command("ack")
def ack(alert_id: str = typer.Argument(..., help="The alert to acknowledge."),
        why: str = typer.Option(..., "--why", help="Why (recorded with the alert and in the audit log)."),
        db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Acknowledge an open alert (audited)."""
    from workbench.linkage import alerts
    from workbench.store import open_store

    with open_store(db) as store:
        result = alerts.acknowledge(store, alert_id, why)
    emit_json(result) if json_out else say(f"alert {result['alert_id']} acknowledged")


@alerts_app.command("scan")
def scan(batch: str = typer.Option(..., "--batch", help="The ingest batch whose mentions to match again."),
         settings_file: Optional[Path] = typer.Option(None, "--settings",
                                                      help="A linkage YAML merged over workbench/config/linkage.yaml."),
         db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Match one batch's mentions against the resolved store again (no retraining); new alerts are stored."""
    from workbench.linkage import alerts, load_settings
    from workbench.store import open_store

    settings = load_settings(settings_file)
    with open_store(db) as store:
        result = alerts.scan_batch(store, batch, settings)
    if json_out:
        emit_json(result)
        return
    if result["note"]:
        say(result["note"])
    if result["status"] == "scanned":
        say(f"batch {result['batch_id']}: {result['person_mentions']} person and {result['vehicle_mentions']} vehicle "
            f"mentions matched, {result['alerts']} new alerts" +
            (f" ({result['already']} raised before)" if result["already"] else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
