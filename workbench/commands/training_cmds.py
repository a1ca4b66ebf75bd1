"""`workbench training build|reset|info`: the pseudonymised training case (docs/training.md). A training store is
marked "TRAINING - NOT REAL INTELLIGENCE" on every product; these verbs refuse a store that is not one."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from workbench.commands.common import JsonOption, emit_json, say

training_app = typer.Typer(help="Training mode: build, reset and describe a pseudonymised training case "
                                "(docs/training.md).", no_args_is_help=True)


@training_app.command("build")
def build_cmd(case: str = typer.Option("cross-border", "--case", help="The case to build (cross-border)."),
              out: Path = typer.Option(..., "--out", help="Folder for the training store (new, or an earlier "
                                                          "training folder)."),
              seed: int = typer.Option(1, "--seed", help="Seed of the pseudonyms (same seed: same case)."),
              source: Optional[Path] = typer.Option(None, "--source", help="The resolved sample-world store to "
                                                    "draw the case from (default: the default store)."),
              as_json: bool = JsonOption) -> None:
    """Build a training case from the sample world's store into OUT (pseudonymised, deterministic for a seed)."""
    from workbench import config, training

    result = training.build(source or config.default_db_path(), out, case=case, seed=seed)
    if as_json:
        emit_json(result)
        return
    say(f"training case {result['case']} (seed {result['seed']}) in {result['store']}: "
        f"{result['group_incidents']} group incidents, {result['background']} background, "
        f"{result['mo_incidents']} MO look-alikes; {result['arriving']} referrals to arrive in "
        f"{result['arriving_file']}; marked {training.TRAINING_MARKING}")


@training_app.command("reset")
def reset_cmd(out: Path = typer.Option(..., "--out", help="The training folder to restore."),
              as_json: bool = JsonOption) -> None:
    """Restore the training store to its starting state (close it in every session first)."""
    from workbench import training

    result = training.reset(out)
    if as_json:
        emit_json(result)
        return
    say(f"training store {result['store']} restored to its starting state")


@training_app.command("info")
def info_cmd(out: Path = typer.Option(..., "--out", help="The training folder."), as_json: bool = JsonOption) -> None:
    """The case a training store holds (refuses a store that is not a training store)."""
    from workbench import training

    with training.open_training(out, read_only=True) as store:
        info = training.case_info(store)
    if as_json:
        emit_json(info)
        return
    for key, value in info.items():
        say(f"{key}: {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(training_app, name="training")
