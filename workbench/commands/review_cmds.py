"""`workbench review due|decide|dispose|decisions`: MoPI review and disposal of referrals (docs/retention.md)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say
from workbench.errors import WorkbenchError

review_app = typer.Typer(help="MoPI review and disposal: what is due, retain/dispose decisions, disposal "
                              "(docs/retention.md).", no_args_is_help=True)
AsOfOption = typer.Option(None, "--as-of", help="Review date to judge by (YYYY-MM-DD; default today).")


def _date(value: Optional[str], option: str = "--as-of") -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise WorkbenchError(f"{option} {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _rows(frame) -> list[dict]:
    import pandas as pd

    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        out.append({k: (v.isoformat() if isinstance(v, (pd.Timestamp, dt.date)) else
                        v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


@review_app.command("due")
def due_cmd(
    as_of: Optional[str] = AsOfOption,
    limit: int = typer.Option(50, "--limit", help="Show at most this many (earliest first); --json lists all."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Referrals whose MoPI review date is on or before --as-of, with the basis of the date and any decision.
    The review dates of every referral are first brought up to date with workbench/config/retention.yaml."""
    from workbench import retention
    from workbench.store import open_store

    day = _date(as_of) or dt.date.today()
    settings = retention.retention_settings()
    with open_store(db) as store:
        retention.refresh_review_dates(store, settings)
        frame = retention.due(store, day, settings)
    rows = _rows(frame)
    if json_out:
        emit_json({"as_of": day.isoformat(), "due": rows})
        return
    if not rows:
        say(f"no referral is due for review on or before {day}")
        return
    say(f"{len(rows):,} referrals due for review on or before {day}" +
        (f" (first {limit} shown)" if len(rows) > limit else ""))
    shown = [{k: ("" if v is None else v) for k, v in r.items()} for r in rows[:limit]]
    print_table("due for review", shown, ["referral_id", "versions", "source_name", "review_due",
                                                 "review_basis", "decision"])
    say("decide: workbench review decide REFERRAL --retain|--dispose --why TEXT --purpose TEXT")


@review_app.command("decide")
def decide_cmd(
    referral: str = typer.Argument(..., help="Referral id (any version: the decision covers them all)."),
    retain: bool = typer.Option(False, "--retain", help="Keep it; the next review is one period from today."),
    dispose: bool = typer.Option(False, "--dispose", help="Dispose of it (carried out by `workbench review dispose`)."),
    why: Optional[str] = typer.Option(None, "--why", help="The reason (kept with who and when; only its hash "
                                                          "stays once the referral is disposed)."),
    purpose: Optional[str] = typer.Option(None, "--purpose", help="The policing purpose of this review."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Record a retain or dispose decision on a referral, with who, when, why and the purpose."""
    from workbench import retention
    from workbench.store import open_store

    if retain == dispose:
        raise WorkbenchError("give exactly one of --retain or --dispose")
    with open_store(db) as store:
        result = retention.decide(store, referral, "retain" if retain else "dispose", why, purpose)
    if json_out:
        emit_json(result)
        return
    early = " (an early review: it was not yet due)" if result["early"] else ""
    then = (f"next review {result['next_review']}" if result["next_review"] else
            "carried out by `workbench review dispose`")
    say(f"decision {result['decision_id']}: {result['decision']} referral {result['referral_id']} "
        f"({len(result['versions'])} version(s)), due {result['review_due']}{early}; {then}")


@review_app.command("dispose")
def dispose_cmd(
    referrals: Optional[list[str]] = typer.Argument(None, help="Only these referral ids (each needs a dispose "
                                                               "decision). Default: every dispose decision."),
    as_of: Optional[str] = AsOfOption,
    purpose: Optional[str] = typer.Option(None, "--purpose", help="The policing purpose (recorded)."),
    no_relink: bool = typer.Option(False, "--no-relink", help="Do not re-run the linkage afterwards (resolved "
                                                              "persons, vehicles and groups then wait for the next "
                                                              "`workbench link run`; their disposed values are "
                                                              "cleared either way)."),
    no_compact: bool = typer.Option(False, "--no-compact", help="Do not rewrite the database file afterwards (the "
                                                                "deleted rows' bytes then stay in the file until "
                                                                "DuckDB reuses the space)."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Delete the referrals a dispose decision covers: every version, mentions, incidents only they support,
    evidence references, quarantined rows, derived links; then recompute resolved persons, vehicles and groups.
    Leaves a disposal record of ids and hashes only."""
    from workbench import retention
    from workbench.store import open_store

    day = _date(as_of) or dt.date.today()
    with open_store(db) as store:
        result = retention.dispose(store, purpose, as_of=day, referral_ids=referrals or None, relink=not no_relink,
                                   compact=not no_compact)
    if json_out:
        emit_json(result)
        return
    for gone in result["already"]:
        say(f"referral {gone['referral_id']}: already disposed (disposal {gone['disposal_id']}, "
            f"{gone['disposed_at'][:19]})")
    if not result["disposed"]:
        say(f"nothing to dispose as of {day}")
        return
    c = result["counts"]
    say(f"disposal {result['disposal_id']}: {result['disposed']} referral(s), {len(result['versions'])} version(s) "
        f"deleted with {c.get('person_mentions', 0)} person and {c.get('vehicle_mentions', 0)} vehicle mentions, "
        f"{c.get('incidents', 0)} incidents, {c.get('evidence_items', 0)} evidence references, "
        f"{c.get('quarantine', 0)} quarantined rows")
    for r in result["relinked"]:
        say(f"recomputed {r['entity']}s: run {r['run_id']}, {r['entities']:,} {r['entity']}s")


@review_app.command("decisions")
def decisions_cmd(
    limit: int = typer.Option(50, "--limit", help="Show at most this many (newest first)."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """The retain/dispose decisions recorded, newest first."""
    from workbench import retention
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        rows = _rows(retention.decisions(store))
    if json_out:
        emit_json(rows)
        return
    print_table("review decisions", rows[:limit], ["decision_id", "referral_id", "decision", "decided_by",
                                                   "decided_at", "status", "next_review", "why"])


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
