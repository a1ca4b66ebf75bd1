"""`workbench sample`: generate the synthetic national sample world."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from workbench.commands.common import JsonOption, console, emit_json


def sample(
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives byte-identical files."),
    scale: float = typer.Option(1.0, "--scale", help="Volume multiplier: 1 is about 50k incidents, 200 about 10M."),
    out: Path = typer.Option(Path("out/sample_world"), "--out", help="Directory for extracts/, ground_truth/, manifest.json."),
    reuse: bool = typer.Option(False, "--reuse", help="Keep an intact world already in --out made by this generator with the same seed and scale."),
    json_out: bool = JsonOption,
) -> None:
    """Generate the synthetic world: stores, groups, referral extracts in each source's format, ground truth."""
    from workbench.sample.generate import generate_world

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True, disable=json_out) as bar:
        task = bar.add_task("generating", total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"sample world: {stage}", completed=done, total=total)

        manifest = generate_world(seed=seed, scale=scale, out_dir=out, progress=report, reuse=reuse)
    summary = {k: manifest[k] for k in ("seed", "scale", "incidents", "stores", "retailers", "groups",
                                        "forces_with_stores", "period")}
    summary["out"] = str(out)
    summary["sources"] = {s["name"]: s["rows"] for s in manifest["sources"]}
    if json_out:
        emit_json(summary)
        return
    verb = "is up to date in" if manifest.get("reused") else "written to"
    console.print(f"Sample world (seed {seed}, scale {scale}) {verb} {out}: {manifest['incidents']:,} incidents, "
                  f"{manifest['stores']:,} stores of {manifest['retailers']} fictional chains in "
                  f"{manifest['forces_with_stores']} forces, {manifest['groups']} organised groups.")
    for name, rows in summary["sources"].items():
        console.print(f"  {name:<24} {rows:>9,} rows")
    console.print(f"  ground truth in {out / 'ground_truth'} (tests and benchmarks only)")


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
