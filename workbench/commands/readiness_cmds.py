"""`workbench readiness FILE [--source NAME] [--out corrected.xlsx] [--json]`: is a retailer's extract ready for
Opal? Every row checked with ingest's own rules and Opal's requirements (docs/readiness.md); nothing is stored.
Exit 0 when every row is ready, 1 when some are not, 2 when the file cannot be checked (one line)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, say
from workbench.errors import WorkbenchError

MAX_ROW_LINES = 200


def readiness(path: Path = typer.Argument(..., help="The extract (or a one-row referral file) to check."),
              source: Optional[str] = typer.Option(None, "--source", help="Source mapping name (default: detected "
                                                                          "from the header, as ingest does)."),
              out: Optional[Path] = typer.Option(None, "--out", help="Write the corrected template here (.csv or "
                                                                     ".xlsx; audited)."),
              purpose: Optional[str] = typer.Option(None, "--purpose", help="Why the template is written (audited)."),
              db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Check a referral extract against Opal's requirements, row by row; optionally write the corrected template."""
    from workbench import readiness as rd
    from workbench.store import open_store

    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    if out is not None:
        from workbench import exports

        exports.check_output(out, rd.TEMPLATE_SUFFIXES)
        exports.check_purpose(purpose)
    with open_store(db, read_only=True, prepare=True) as store:
        result = rd.check_file(store, path, source=source)
        written = rd.write_template(store, result, out, purpose=purpose) if out is not None else None
    score = result.score
    if json_out:
        payload = result.to_dict()
        if written:
            payload["template"] = {k: written[k] for k in ("file", "format", "rows", "bytes", "sha256", "marking")}
        emit_json(payload)
    else:
        pct = "n/a" if score["percent_ready"] is None else f"{score['percent_ready']:.1f}%"
        say(f"{result.file} ({result.source}, retailer {result.retailer}): {score['ready']} of {score['rows']} rows "
            f"ready ({pct})")
        for top in score["top_problems"]:
            say(f"  top problem: {top['rule']} on {top['rows']} row(s): {top['message']}")
        for fp in result.file_problems:
            say(f"  file: {fp['rule']}: {fp['message']}")
        shown = 0
        for r in result.rows.itertuples(index=False):
            if not r.problems:
                continue
            if shown == MAX_ROW_LINES:
                say(f"  ... more rows with problems: use --json or --out for all of them")
                break
            shown += 1
            ref = f" {r.referral_ref}" if r.referral_ref else ""
            say(f"  row {r.row}{ref}: {'ready' if r.ready else 'NOT READY'}")
            sub = result.problems[result.problems.row == r.row]
            for p in sub.itertuples(index=False):
                say(f"    [{p.rule}] {p.severity}: {p.message}")
        if written:
            say(f"wrote {written['file']} ({written['rows']} rows, {written['format']}, {written['marking']}; audited)")
    if score["not_ready"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("readiness")(readiness)
