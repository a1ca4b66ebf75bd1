"""Options and output helpers shared by CLI verbs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

DbOption = typer.Option(None, "--db", help="Database file (default: $WORKBENCH_DB or out/workbench.duckdb).")
JsonOption = typer.Option(False, "--json", help="Print a machine-readable JSON summary instead of tables.")

console = Console(stderr=False)
err_console = Console(stderr=True)


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))


def print_table(title: str, rows: list[dict], columns: Optional[list[str]] = None) -> None:
    if not rows:
        console.print(f"{title}: (none)")
        return
    columns = columns or list(rows[0].keys())
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(row.get(c, "")) for c in columns])
    console.print(table)


def db_path(value: Optional[Path]) -> Optional[Path]:
    return value


def print_written_map(result: dict, what: str) -> None:
    """One line for the HTML map written (with its size and what it shows), one for its PNG."""
    console.print(f"wrote {result['html']} ({result['html_bytes'] / 1e6:.2f} MB): {what}")
    if "png" in result:
        console.print(f"wrote {result['png']}")
