"""`ampflow destroy ENV`: tear down an unprotected sandbox environment's backend, or a branch's preview."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import DESTROY_JOB


@click.command(help="Tear down a sandbox environment's backend (ampx sandbox delete) or a branch's preview (all it made); "
               "refused for protected, declared local and branch environments.")
@click.argument("environment")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(session: Session, environment: str, yes: bool) -> None:
    from ampflow_dagster.errors import DestroyRefused

    settings = session.environment(environment)
    DestroyRefused.check(settings)
    what = f"preview '{settings.name}' of branch {settings.preview.branch}" if settings.preview else f"sandbox environment '{settings.name}'"
    if not yes and not click.confirm(f"Delete every resource of {what}, data included?"):
        click.echo("Nothing was deleted.")
        return
    run_job(session, DESTROY_JOB, partition=settings.name)


COMMANDS = [destroy]
