"""`workbench groups list|show GROUP_ID`: organised groups found in the co-offending network (docs/linkage.md).

Groups are found by `workbench link run` (persons, vehicles, then groups); these verbs only read the store."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say

groups_app = typer.Typer(help="Organised groups found in the co-offending network (docs/linkage.md).",
                         no_args_is_help=True)


def _rows(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


@groups_app.command("list")
def list_cmd(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """The active groups: members, vehicles, incidents, forces, first and last seen."""
    from workbench.linkage.groups import list_groups
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        frame = list_groups(store)
    rows = _rows(frame)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say("no groups found: run `workbench link run` on a store with co-offending")
        return
    print_table("Groups", rows, ["group_id", "label", "members", "vehicles", "incidents", "forces", "first_seen",
                                 "last_seen"])


@groups_app.command("show")
def show_cmd(group_id: str = typer.Argument(..., help="A group id, e.g. GR00001."),
             db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """One group: its summary, members (roles, centrality), vehicles and tactics."""
    from workbench.linkage.groups import group_detail
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        detail = group_detail(store, group_id)
    payload = {name: _rows(frame) for name, frame in detail.items()}
    if json_out:
        emit_json(payload)
        return
    summary = payload["summary"][0]
    say(f"{summary['group_id']}: {summary['label']} ({summary['status']}; {summary['members']} members, "
        f"{summary['vehicles']} vehicles, {summary['incidents']} incidents; forces {summary['forces']}; "
        f"{summary['first_seen']} to {summary['last_seen']})")
    print_table("Members", payload["members"], ["person_id", "display_name", "role", "incidents", "degree",
                                                "betweenness", "eigenvector"])
    print_table("Vehicles", payload["vehicles"], ["vehicle_id", "vrm", "make", "colour", "incidents"])
    print_table("Tactics", payload["tactics"], ["tactic_code", "incidents"])


def register(app: typer.Typer) -> None:
    app.add_typer(groups_app, name="groups")
