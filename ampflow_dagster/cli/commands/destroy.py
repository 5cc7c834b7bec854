"""`ampflow destroy ENV`: tear down an unprotected sandbox environment's backend."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import DESTROY_JOB


@click.command(help="Tear down a sandbox environment's backend (ampx sandbox delete); refused for protected and branch ones.")
@click.argument("environment")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def destroy(session: Session, environment: str, yes: bool) -> None:
    from ampflow_dagster.errors import DestroyRefused

    settings = session.environment(environment)
    DestroyRefused.check(settings)
    if not yes and not click.confirm(f"Delete every resource of sandbox environment '{settings.name}', data included?"):
        click.echo("Nothing was deleted.")
        return
    run_job(session, DESTROY_JOB, partition=settings.name)


COMMANDS = [destroy]
