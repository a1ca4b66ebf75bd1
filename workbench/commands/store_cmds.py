"""`workbench db ...` and `workbench summary`: the store itself."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench import summary as summary_mod
from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, console
from workbench.errors import WorkbenchError
from workbench.store import latest_version, open_store

db_app = typer.Typer(help="Create, migrate and inspect the workbench database.", no_args_is_help=True)


@db_app.command("init")
def init(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Create the database (if needed) and apply every migration."""
    with open_store(db) as store:
        result = {"db": str(store.path), "schema_version": store.schema_version()}
    emit_json(result) if json_out else console.print(f"{result['db']}: schema version {result['schema_version']}")


@db_app.command("info")
def info(db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Schema version, migrations applied and rows per table."""
    with open_store(db, read_only=True) as store:
        checked = store.check_readable()  # every row read: a damaged block is reported, not a healthy count
        result = {
            "db": str(store.path),
            "checked": checked,
            "schema_version": store.schema_version(),
            "latest_version": latest_version(),
            "tables": store.table_counts().to_dict(orient="records"),
        }
    if json_out:
        emit_json(result)
        return
    console.print(f"{result['db']}: schema version {result['schema_version']} (latest {result['latest_version']})")
    print_table("rows per table", result["tables"])
    console.print(f"read all {checked['rows']:,} rows of {checked['tables']} tables: no damage found")


def summary(
    db: Optional[Path] = DbOption,
    world: Optional[Path] = typer.Option(None, "--world", help="Sample world directory whose manifest to summarise too."),
    json_out: bool = JsonOption,
) -> None:
    """What the store holds: rows per table, forces covered, retailers, date range, outputs."""
    world_facts = None
    if world is not None:
        world_facts = summary_mod.world_summary(world)
        if world_facts is None:
            raise WorkbenchError(f"--world {world}: not a sample world (no readable manifest.json); "
                                 "make one with `workbench sample --out DIR`")
    with open_store(db, read_only=True) as store:
        result = summary_mod.store_summary(store)
    if world_facts is not None:
        result["world"] = world_facts
    if json_out:
        emit_json(result)
        return
    summary_mod.print_summary(result, console)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("summary")(summary)
