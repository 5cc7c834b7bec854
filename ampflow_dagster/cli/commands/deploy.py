"""`ampflow deploy ENV` (`npm run amplify:optimize ENV`): deploy ENV (skipped when unchanged) and verify its tables."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import BACKEND_DEPLOYMENT, DEPLOY_JOB


@click.command(help="`npm run amplify:optimize ENV`: deploy ENV (skipped when unchanged) and verify its tables.")
@click.argument("environment")
@click.option("--force", is_flag=True, help="Recreate the environment's tables (a clean deployment).")
@click.option("--allow-destructive", is_flag=True, help="Allow replacing tables that hold items in a protected environment.")
@click.pass_obj
def deploy(session: Session, environment: str, force: bool, allow_destructive: bool) -> None:
    config = {"force": force, "allow_destructive": allow_destructive}
    run_job(session, DEPLOY_JOB, session.environment(environment).name, {"ops": {BACKEND_DEPLOYMENT: {"config": config}}})


COMMANDS = [deploy]
