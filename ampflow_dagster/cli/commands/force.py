"""`ampflow force ENV` (`npm run amplify:gen2:force`): a clean deployment of ENV, verified, with its client."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import BACKEND_DEPLOYMENT, FORCE_JOB


@click.command(help="`npm run amplify:gen2:force`: clean deployment of ENV (tables recreated), verify, client.")
@click.argument("environment")
@click.option("--allow-destructive", is_flag=True, help="Allow it in a protected environment whose tables hold items.")
@click.pass_obj
def force(session: Session, environment: str, allow_destructive: bool) -> None:
    config = {"force": True, "allow_destructive": allow_destructive}
    run_job(session, FORCE_JOB, session.environment(environment).name, {"ops": {BACKEND_DEPLOYMENT: {"config": config}}})


COMMANDS = [force]
