"""Jobs named after the npm scripts they replace."""

from typing import Any

import dagster as dg

from ampflow_dagster.defs.assets import api_client, backend_deployment, reported_as_failure, seeded_assets, verified_tables
from ampflow_dagster.defs.partitions import environment_partitions
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.workflow import clean_environment, destroy_environment

SEEDED = dg.AssetSelection.assets(*seeded_assets)
DEPLOY = dg.AssetSelection.assets(backend_deployment, verified_tables)
EVERYTHING = DEPLOY | SEEDED | dg.AssetSelection.assets(api_client)


def _full_workflow(name: str, environment: str, script: str) -> Any:
    return dg.define_asset_job(
        name=name,
        selection=EVERYTHING,
        partitions_def=environment_partitions,
        tags={"dagster/partition": environment},
        description=f"`npm run {script}`: deploy {environment}, verify its tables, seed it and generate its client.",
    )


amplify_dev = _full_workflow("amplify_dev", "development", "amplify:dev")
amplify_prod = _full_workflow("amplify_prod", "production", "amplify:prod")

def _environment_job(name: str, selection: dg.AssetSelection, description: str, config: dict | None = None) -> Any:
    """A job over the chosen environment partition."""
    return dg.define_asset_job(
        name=name, selection=selection, partitions_def=environment_partitions, config=config, description=description
    )


amplify_deploy = _environment_job(
    "amplify_deploy", DEPLOY,
    "`npm run amplify:optimize <env>`: deploy the chosen environment (skipped when unchanged) and verify it.",
)
amplify_seed = _environment_job("amplify_seed", SEEDED, "`npm run amplify:seed:<env>`: reapply the chosen environment's seed data.")
amplify_force = _environment_job(
    "amplify_force", DEPLOY | dg.AssetSelection.assets(api_client),
    "`npm run amplify:gen2:force`: a clean deployment (tables recreated), verification and client.",
    config={"ops": {"backend_deployment": {"config": {"force": True}}}},
)
amplify_reconcile = _environment_job(
    "amplify_reconcile", EVERYTHING,
    "Reconciliation: deploy if stale, re-verify every table, restore missing or modified seed items.",
)


class CleanConfig(dg.Config):
    environment: str
    """The environment whose seed items (those carrying its prefix) are removed from its own tables."""


@dg.op(description="Remove every item carrying the environment's prefix from that environment's tables.")
def remove_seed_items(context: dg.OpExecutionContext, config: CleanConfig, amplify_app: AmplifyAppResource, aws: AwsResource):
    with reported_as_failure():
        removed = clean_environment(amplify_app.workspace(config.environment, aws), log=context.log.info)
    context.add_output_metadata({"environment": config.environment, "items_removed": sum(removed.values()), **{
        f"removed_{model}": count for model, count in removed.items()}})


@dg.job(description="`ampflow clean ENV`: remove the environment's prefixed seed items; other items stay.")
def amplify_clean():
    remove_seed_items()


class DestroyConfig(dg.Config):
    environment: str
    """The sandbox environment whose backend `ampx sandbox delete` removes."""


@dg.op(description="Tear down a sandbox environment's backend with `ampx sandbox delete --yes`.")
def delete_sandbox(context: dg.OpExecutionContext, config: DestroyConfig, amplify_app: AmplifyAppResource, aws: AwsResource):
    with reported_as_failure():
        destroy_environment(amplify_app.workspace(config.environment, aws), log=context.log.info)


@dg.job(description="`ampflow destroy ENV`: delete a sandbox environment's backend; refused for protected and branch environments.")
def amplify_destroy():
    delete_sandbox()


workflow_jobs = [amplify_dev, amplify_prod, amplify_deploy, amplify_seed, amplify_force, amplify_reconcile, amplify_clean, amplify_destroy]
