"""The `ampflow` command group, and the one place where errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from ampflow_dagster.cli.commands import clean, deploy, destroy, dev, force, init, outputs, plan, seed, status, stop, ui
from ampflow_dagster.cli.exit_codes import ExitCode
from ampflow_dagster.cli.runner import RunFailed
from ampflow_dagster.cli.session import Session
from ampflow_dagster.errors import AmpflowError
from ampflow_dagster.project import PROJECT_ROOT_VARIABLE


@click.group(help="ampflow: deploy, verify and seed Amplify Gen 2 backends per environment, as Dagster assets.")
@click.option("--project", "project_root", type=click.Path(file_okay=False, exists=True), help="The Amplify app (default: found from here).")
@click.pass_context
def main(context: click.Context, project_root: str | None) -> None:
    root = Path(project_root).resolve() if project_root else None
    if root:
        os.environ[PROJECT_ROOT_VARIABLE] = str(root)
    context.obj = Session(root)


for module in (init, dev, deploy, seed, force, clean, plan, destroy, status, outputs, ui, stop):
    for command in module.COMMANDS:
        main.add_command(command)


def run() -> None:
    """The `ampflow` console script: `main`, its errors turned into exit codes, then a quick exit.

    Once output is flushed and atexit handlers have run, nothing is left to clean up, but
    the interpreter would still spend over half a second tearing down Dagster's objects:
    as long as a no-op `ampflow dev` itself.
    """
    import atexit

    code = exit_code_of_main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def exit_code_of_main() -> int:
    try:
        result = main.main(standalone_mode=False)
        return result if isinstance(result, int) else ExitCode.SUCCESS
    except AmpflowError as error:
        show_error(error)
        return ExitCode.REFUSED
    except RunFailed:  # the runner has said what failed
        return ExitCode.RUN_FAILED
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else (ExitCode.SUCCESS if exit.code is None else ExitCode.RUN_FAILED)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted!", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - a fault of ampflow's own: show it whole, with where to report it
        traceback.print_exc()
        click.secho(f"Error [UnexpectedError]: {type(error).__name__}: {error}", fg="red", err=True)
        click.echo("What to do: this is a fault in ampflow, not in your app; the trace above says where. "
                   "Report it with the command you ran.", err=True)
        return ExitCode.FAULT


def show_error(error: AmpflowError) -> None:
    """An ampflow error as a person reads it: its code and message, what to do, and what caused it."""
    click.secho(f"Error [{error.code}]: {error.message}", fg="red", err=True)
    if error.resolution:
        click.echo(f"What to do: {error.resolution}", err=True)
    if error.cause_text:
        click.echo(f"Caused by: {error.cause_text}", err=True)
