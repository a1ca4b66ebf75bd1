"""`workbench` command line: the same library calls the notebooks make, for scripts and `make demo`.

Each capability contributes a Typer sub-app or commands from workbench/commands/<name>.py,
listed in COMMAND_MODULES. Errors a user can act on print one line and exit non-zero.
"""
from __future__ import annotations

import importlib
import os
import signal
import sys
import threading

import typer

try:  # typer 0.2x vendors its own click; its exceptions are the ones raised
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as click_exceptions

from workbench.errors import WorkbenchError
from workbench.textsafe import terminal_safe

COMMAND_MODULES = (
    "workbench.commands.store_cmds",
    "workbench.commands.sample_cmds",
    "workbench.commands.geo_cmds",
    "workbench.commands.ingest_cmds",
    "workbench.commands.hotspots_cmds",
    "workbench.commands.audit_cmds",
    "workbench.commands.link_cmds",
    "workbench.commands.alerts_cmds",
    "workbench.commands.groups_cmds",
    "workbench.commands.crossborder_cmds",
    "workbench.commands.package_cmds",
    "workbench.commands.readiness_cmds",
    "workbench.commands.training_cmds",
    "workbench.commands.review_cmds",
    "workbench.commands.export_cmds",
)

app = typer.Typer(
    name="workbench",
    help="Pegasus Workbench: Opal's organised retail crime analysis from the command line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module_name in COMMAND_MODULES:
    importlib.import_module(_module_name).register(app)


_interrupted = False


def _on_sigint(signum, frame) -> None:
    """Ctrl-C: remember it, then raise as Python would. Mid-query DuckDB turns this KeyboardInterrupt into its
    own error, and library code may wrap that in another; the flag keeps it an interruption all the same."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _was_interrupted(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return _interrupted or isinstance(exc, KeyboardInterrupt) or (
        isinstance(exc, typer.Abort) and isinstance(cause, KeyboardInterrupt))


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning workbench errors into one clear line and exit code 2, and Ctrl-C at
    any point (for every verb) into "interrupted" and exit 130, never a traceback or click's "Aborted!"."""
    global _interrupted
    _interrupted = False
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        return _run(argv)
    except KeyboardInterrupt:  # a second Ctrl-C while reporting the first
        typer.echo("interrupted", err=True)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run(argv: list[str] | None) -> int:
    try:
        try:
            code = app(args=argv, standalone_mode=False)
        except BaseException as exc:
            if not _was_interrupted(exc):
                raise
            typer.echo("interrupted", err=True)
            return 130
        if _interrupted or code == 130:  # typer turns a KeyboardInterrupt into a silent exit code 130
            typer.echo("interrupted", err=True)
            return 130
        return code if isinstance(code, int) else 0
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except click_exceptions.NoArgsIsHelpError as exc:  # a bare group: its help, as click would print it
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return 2
    except click_exceptions.UsageError as exc:  # bad option or value: one line naming it, with where to look
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        typer.echo(f"error: {terminal_safe(exc.format_message())}{where}", err=True)
        return 2
    except click_exceptions.ClickException as exc:
        typer.echo(f"error: {terminal_safe(exc.format_message())}", err=True)
        return exc.exit_code
    except WorkbenchError as exc:
        typer.echo(f"error: {terminal_safe(str(exc))}", err=True)
        return 2
    except typer.Abort:  # a prompt declined (Ctrl-C is handled above)
        typer.echo("aborted", err=True)
        return 1
    except Exception as exc:  # a bug, not bad input: still one line unless debugging
        from workbench.store import damage_message

        damage = damage_message(exc)
        if damage:  # a damaged block met mid-command (open_store checks what it can cheaply)
            typer.echo(f"error: {terminal_safe(damage)}", err=True)
            return 2
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (set WORKBENCH_DEBUG=1 for details)", err=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
