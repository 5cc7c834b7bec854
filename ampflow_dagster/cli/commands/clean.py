"""`ampflow clean ENV`: remove ampflow's seed items from ENV's tables; everything else stays."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.names import CLEAN_JOB


@click.command(help="Remove the seed items ampflow wrote (its record, else ENV's prefix) from ENV's tables; everything else stays.")
@click.argument("environment")
@click.pass_obj
def clean(session: Session, environment: str) -> None:
    name = session.environment(environment).name
    run_job(session, CLEAN_JOB, partition=name)


COMMANDS = [clean]
