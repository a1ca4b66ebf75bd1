"""Options and output helpers shared by CLI verbs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from workbench.textsafe import terminal_safe



def _existing_folder(value: Optional[Path]) -> Optional[Path]:
    """--db must sit in a folder that exists: a mistyped path is refused, not silently made into a new store."""
    if value is not None and not value.parent.is_dir():
        raise typer.BadParameter(f"the folder {value.parent} does not exist; check the path, or create the folder "
                                 "first if a new store is meant")
    if value is not None and value.is_dir():
        raise typer.BadParameter(f"{value} is a directory, not a database file")
    return value


DbOption = typer.Option(None, "--db", callback=_existing_folder,
                        help="Database file (default: $WORKBENCH_DB or out/workbench.duckdb).")
JsonOption = typer.Option(False, "--json", help="Print a machine-readable JSON summary instead of tables.")

# Markup off: a file name such as "[red]x.csv" prints as itself. Everything shown passes terminal_safe.
class SafeConsole(Console):
    """A rich console that prints text with control characters made visible and no markup."""

    def __init__(self, **kwargs):
        super().__init__(markup=False, highlight=False, emoji=False, **kwargs)

    def print(self, *objects, **kwargs) -> None:
        super().print(*(terminal_safe(o, keep_newlines=True) if isinstance(o, str) else o for o in objects), **kwargs)


console = SafeConsole(stderr=False)
err_console = SafeConsole(stderr=True)


def say(text: object, err: bool = False) -> None:
    """Print a line (or lines) that may hold file names or data, with control characters made visible."""
    typer.echo(terminal_safe(text, keep_newlines=True), err=err)


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))


def print_table(title: str, rows: list[dict], columns: Optional[list[str]] = None) -> None:
    title = terminal_safe(title)
    if not rows:
        console.print(f"{title}: (none)")
        return
    columns = columns or list(rows[0].keys())
    table = Table(title=title)
    for column in columns:
        table.add_column(terminal_safe(column))
    for row in rows:
        table.add_row(*[terminal_safe(row.get(c, "")) for c in columns])
    console.print(table)


def db_path(value: Optional[Path]) -> Optional[Path]:
    return value


def print_written_map(result: dict, what: str) -> None:
    """One line for the HTML map written (with its size and what it shows), one for its PNG."""
    say(f"wrote {result['html']} ({result['html_bytes'] / 1e6:.2f} MB): {what}")
    if "png" in result:
        say(f"wrote {result['png']}")


def png_or_skip(png: bool) -> bool:
    """--png/--no-png callback. PNGs are the optional products (chromium draws them): when chromium cannot be
    found, the verb still writes its HTML (and PDF) and this prints ONE warning line instead of failing."""
    if not png:
        return False
    from workbench import maps
    from workbench.errors import WorkbenchError

    try:
        maps.chromium_executable()
    except WorkbenchError as exc:
        say(f"PNG skipped: {exc}", err=True)
        return False
    return True


def at_least(minimum: float):
    """Option callback: a number no smaller than `minimum` (counts, bandwidths), else a one-line usage error."""
    def check(value):
        if value is not None and value < minimum:
            raise typer.BadParameter(f"must be at least {minimum:g} (got {value:g})")
        return value
    return check


def above_zero(value):
    """Option callback: a number greater than zero (bandwidths, distances), else a one-line usage error."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be greater than 0 (got {value:g})")
    return value


def check_inputs(paths) -> None:
    """Every input named exists, and a directory holds at least one file: nothing is accepted silently."""
    from workbench.errors import WorkbenchError

    for path in map(Path, paths):
        if not path.exists():
            raise WorkbenchError(f"{path}: no such file or directory")
        if path.is_dir() and not any(f.is_file() and not f.name.startswith(".") for f in path.iterdir()):
            raise WorkbenchError(f"{path}: the directory holds no files to read")
