"""Jobs named after the npm scripts they replace."""

from typing import Any

import dagster as dg

from ampflow_dagster.defs.assets import PINNED_ENVIRONMENT_TAG, WorkflowAssets, reported_as_failure
from ampflow_dagster.defs.partitions import Blueprint
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.seed_records import read_seed_record, write_seed_record
from ampflow_dagster.workflow.deployment import destroy_environment
from ampflow_dagster.workflow.seeding import clean_environment

# The jobs named for one environment, as the npm scripts were: (job, environment, npm script).
ENVIRONMENT_JOBS = (("amplify_dev", "development", "amplify:dev"), ("amplify_prod", "production", "amplify:prod"))


def everything(assets: WorkflowAssets) -> dg.AssetSelection:
    return dg.AssetSelection.assets(*assets.all)


def build_jobs(blueprint: Blueprint, assets: WorkflowAssets) -> list[Any]:
    seeded = dg.AssetSelection.assets(*assets.seeded, *([assets.users] if assets.users else []))
    deploy = dg.AssetSelection.assets(assets.backend_deployment, assets.verified_tables)
    client = dg.AssetSelection.assets(assets.api_client)

    def environment_job(name: str, selection: dg.AssetSelection, description: str, config: dict | None = None) -> Any:
        """A job over the chosen environment partition."""
        return dg.define_asset_job(name=name, selection=selection, config=config, description=description)

    jobs = [
        dg.define_asset_job(
            name=name,
            selection=everything(assets),
            tags={"dagster/partition": environment, PINNED_ENVIRONMENT_TAG: environment},
            description=f"`npm run {script}`: deploy {environment}, verify its tables, seed it and generate its client. "
            f"Runs partition {environment} only: launched for another, it stops before changing anything.",
        )
        for name, environment, script in ENVIRONMENT_JOBS
        if environment in blueprint.config.environments
    ]
    jobs += [
        environment_job(
            "amplify_deploy", deploy,
            "`npm run amplify:optimize <env>`: deploy the chosen environment (skipped when unchanged) and verify it.",
        ),
        environment_job("amplify_seed", seeded, "`npm run amplify:seed:<env>`: reapply the chosen environment's seed data."),
        environment_job(
            "amplify_force", deploy | client,
            "`npm run amplify:gen2:force`: a clean deployment (tables recreated), verification and client.",
            config={"ops": {"backend_deployment": {"config": {"force": True}}}},
        ),
        environment_job(
            "amplify_reconcile", everything(assets),
            "Reconciliation: deploy if stale, re-verify every table, restore missing or modified seed items.",
        ),
        build_clean_job(blueprint),
        amplify_destroy,
    ]
    return jobs


class CleanConfig(dg.Config):
    environment: str
    """The environment whose seed items (those ampflow wrote) are removed from its own tables."""


def build_clean_job(blueprint: Blueprint) -> dg.JobDefinition:
    """`ampflow clean ENV`: remove exactly the items ampflow wrote, as each seeded asset's record names them."""

    @dg.op(
        description="Remove ampflow's seed items from the environment's tables: those its records name, else those "
        "carrying the environment's prefix. Items the app wrote stay.",
    )
    def remove_seed_items(
        context: dg.OpExecutionContext, config: CleanConfig, amplify_app: AmplifyAppResource, aws: AwsResource,
        seed_records: dg.ResourceParam[dg.IOManager],
    ):
        records = seed_records
        assets = {model: name for name, model in blueprint.seeded.items()}
        with reported_as_failure():
            workspace = amplify_app.workspace(config.environment, aws)
            ledgers = {
                model: read_seed_record(records, asset, config.environment, blueprint.partitions) for model, asset in assets.items()
            }
            outcome = clean_environment(workspace, ledgers, log=context.log.info)
        for model, record in outcome.records.items():
            if model in assets:
                write_seed_record(records, assets[model], config.environment, blueprint.partitions, record)
        context.add_output_metadata({"environment": config.environment, "items_removed": sum(outcome.removed.values()), **{
            f"removed_{model}": count for model, count in outcome.removed.items()}})

    @dg.job(
        name="amplify_clean",
        description="`ampflow clean ENV`: remove the environment's seed items (those ampflow wrote); other items stay.",
    )
    def amplify_clean():
        remove_seed_items()

    return amplify_clean


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
