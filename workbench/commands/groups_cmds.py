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


@groups_app.command("export")
def export_cmd(group_id: str = typer.Argument(..., help="A group id, e.g. GR00001."),
               out: Path = typer.Option(..., "--out", help="Output: .html (offline link chart), .anx (i2 chart), "
                                                           ".graphml, or a folder for nodes.csv and edges.csv."),
               fmt: Optional[str] = typer.Option(None, "--format", help="html, anx, anx-timeline, graphml or csv "
                                                                        "(default: from the --out extension)."),
               purpose: Optional[str] = typer.Option(None, "--purpose", help="Why this product is made (recorded in "
                                                                             "the audit log)."),
               db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """One group's link chart: its members, their incidents, vehicles and stores, as an offline HTML chart, i2 ANX
    (link chart or timeline), GraphML or node/edge CSVs (audited, marked)."""
    from workbench import exports
    from workbench.linkage import charts
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    fmt = charts.check_export(out, fmt)
    purpose = exports.check_purpose(purpose)
    with open_store(db, read_only=True) as store:
        net = build_network(store, group_id=group_id)
        result = charts.export(net, out, fmt, title=f"Group {group_id.strip()}", store=store, purpose=purpose)
    result["group_id"] = group_id.strip()
    if json_out:
        emit_json(result)
        return
    say(f"wrote {', '.join(result['files'])} ({result['format']}: group {result['group_id']}, {result['persons']:,} "
        f"members, {result['vehicles']:,} vehicles, {result['incidents']:,} incidents; {result['marking']})")


def register(app: typer.Typer) -> None:
    app.add_typer(groups_app, name="groups")
