"""`workbench export parquet`: the store's canonical tables as Parquet for other tools (docs/exchange.md)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, say

export_app = typer.Typer(help="Write the store out for other tools (docs/exchange.md).", no_args_is_help=True)


@export_app.command("parquet")
def parquet(
    out: Path = typer.Option(..., "--out", help="New (or empty) folder to write the export into."),
    purpose: str = typer.Option(..., "--purpose", help="Why the store is exported: recorded in the audit log."),
    tables: Optional[List[str]] = typer.Option(
        None, "--tables", help="Only these tables (repeat, or comma-separated); default every canonical table."),
    db: Optional[Path] = DbOption,
    json_out: bool = JsonOption,
) -> None:
    """Canonical tables as Parquet (incidents and referrals partitioned by force and month) with schema.json:
    columns, types, row counts, marking, handling and the sha256 of every file. Written whole or not at all,
    audited, marked; withheld columns are left out."""
    from workbench.exchange import export_parquet

    result = export_parquet(db, out, purpose, tables)
    if json_out:
        emit_json({k: result[k] for k in ("out", "files", "bytes", "marking", "withheld_columns")} |
                  {"tables": {t["name"]: {"rows": t["rows"], "partitions": t["partitions"], "path": t["path"]}
                              for t in result["tables"]}})
        return
    rows = sum(t["rows"] for t in result["tables"])
    say(f"wrote {result['out']}: {len(result['tables'])} tables, {rows:,} rows in {result['files']} files "
        f"({result['bytes'] / 1e6:.2f} MB), marked {result['marking']}; schema in {Path(result['out']) / 'schema.json'}")
    if result["withheld_columns"]:
        say(f"withheld (not exported): {', '.join(result['withheld_columns'])}")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
