"""`ampflow seed ENV` (`npm run amplify:seed:ENV`): reapply ENV's seed data; only what differs is written."""

from __future__ import annotations

import click

from ampflow_dagster.cli.runner import run_job
from ampflow_dagster.cli.session import Session
from ampflow_dagster.errors import SeedError
from ampflow_dagster.names import SEED_JOB


@click.command(help="`npm run amplify:seed:ENV`: reapply ENV's seed data (only what differs is written).")
@click.argument("environment")
@click.option("--model", "models", multiple=True, help="Seed only this model (repeatable).")
@click.pass_obj
def seed(session: Session, environment: str, models: tuple[str, ...]) -> None:
    from ampflow_dagster.names import seeded_asset_name
    from ampflow_dagster.seeding.seed_files import seeded_models

    name = session.environment(environment).name
    by_model = {model: seeded_asset_name(model) for model in seeded_models(session.project)}
    unknown = [model for model in models if model not in by_model]
    if unknown:
        raise SeedError(f"No seed data for model(s) {', '.join(unknown)}.", f"Seeded models: {', '.join(sorted(by_model))}.",
                        code="UnknownSeedModel")
    run_job(session, SEED_JOB, name, assets=[by_model[m] for m in models] or None)


COMMANDS = [seed]
