"""`ampflow dev` and `ampflow prod` (`npm run amplify:dev|prod`): an environment's whole workflow, unless it is current."""

from __future__ import annotations

import click

from ampflow_dagster.cli.commands.outputs import serve
from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import DEV_JOB, PROD_JOB, pinned_job

FULL_OPTION = click.option(
    "--full", is_flag=True,
    help="Run every step even when nothing changed (also compares every seed item with its table).",
)


@click.command(help="`npm run amplify:dev`: deploy development, verify, seed [DEV] data, generate the client. "
               "Starts no run when nothing changed since the last one and the tables still match.")
@FULL_OPTION
@click.pass_obj
def dev(session: Session, full: bool) -> None:
    run_workflow(session, DEV_JOB, pinned_job(DEV_JOB).environment, full)


@click.command(help="`npm run amplify:prod`: the same for production with [PROD] data.")
@FULL_OPTION
@click.pass_obj
def prod(session: Session, full: bool) -> None:
    run_workflow(session, PROD_JOB, pinned_job(PROD_JOB).environment, full)


def run_workflow(session: Session, job_name: str, environment: str, full: bool) -> None:
    """The whole workflow of `environment`, unless what it would do is already done."""
    from ampflow_dagster.defs.records import up_to_date

    name = session.environment(environment).name
    checked = None if full else up_to_date(session.instance(), session.project, name, session.config())
    if checked is not None:
        click.secho(f"==> {name} is up to date; no run started ({checked}).", fg="green", bold=True)
        click.echo("    Seed items are compared with their tables by `ampflow seed` and by --full.")
        serve(session, name)  # after `ampflow stop`, its endpoint is back for the front end
        return
    run_job(session, job_name)


COMMANDS = [dev, prod]
