"""Jobs named after the npm scripts they replace."""

from typing import Any

import dagster as dg

from ampflow_dagster.defs.assets import PINNED_ENVIRONMENT_TAG, WorkflowAssets, reported_as_failure
from ampflow_dagster.defs.partitions import ENVIRONMENTS, Blueprint
from ampflow_dagster.names import (
    BACKEND_DEPLOYMENT, CLEAN_JOB, DEPLOY_JOB, DESTROY_JOB, FORCE_JOB, PINNED_JOBS, RECONCILE_JOB, SEED_JOB,
)
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.seed_records import SeedRecordsIOManager
from ampflow_dagster.previews import tear_down_preview
from ampflow_dagster.workflow.deployment import destroy_environment
from ampflow_dagster.workflow.seeding import clean_environment



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
            name=pinned.job,
            selection=everything(assets),
            tags={"dagster/partition": pinned.environment, PINNED_ENVIRONMENT_TAG: pinned.environment},
            description=f"`npm run {pinned.npm_script}`: deploy {pinned.environment}, verify its tables, seed it and generate "
            f"its client. Runs partition {pinned.environment} only: launched for another, it stops before changing anything.",
        )
        for pinned in PINNED_JOBS
        if pinned.environment in blueprint.config.environments
    ]
    jobs += [
        environment_job(
            DEPLOY_JOB, deploy,
            "`npm run amplify:optimize <env>`: deploy the chosen environment (skipped when unchanged) and verify it.",
        ),
        environment_job(SEED_JOB, seeded, "`npm run amplify:seed:<env>`: reapply the chosen environment's seed data."),
        environment_job(
            FORCE_JOB, deploy | client,
            "`npm run amplify:gen2:force`: a clean deployment (tables recreated), verification and client.",
            config={"ops": {BACKEND_DEPLOYMENT: {"config": {"force": True}}}},
        ),
        environment_job(
            RECONCILE_JOB, everything(assets),
            "Reconciliation: deploy if stale, re-verify every table, restore missing or modified seed items.",
        ),
        build_clean_job(blueprint),
        build_destroy_job(blueprint),
    ]
    return jobs


def build_clean_job(blueprint: Blueprint) -> dg.JobDefinition:
    """`ampflow clean ENV`: remove exactly the items ampflow wrote, as each seeded asset's record names them.

    Partitioned by environment like the assets, so its runs carry `dagster/partition` and the run
    queue's one-run-per-environment limit holds it apart from a seed or deployment of the same environment.
    """

    @dg.op(
        description="Remove ampflow's seed items from the environment's tables: those its records name, else those "
        "carrying the environment's prefix. Items the app wrote stay.",
    )
    def remove_seed_items(
        context: dg.OpExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource,
        seed_records: dg.ResourceParam[SeedRecordsIOManager],
    ):
        environment = context.partition_key
        assets = {model: name for name, model in blueprint.seeded.items()}
        with reported_as_failure():
            workspace = amplify_app.workspace(environment, aws)
            ledgers = {model: seed_records.read(asset, environment) for model, asset in assets.items()}
            outcome = clean_environment(workspace, ledgers, log=context.log.info)
        for model, record in outcome.records.items():
            if model in assets:
                seed_records.write(assets[model], environment, record)
        context.add_output_metadata({"environment": environment, "items_removed": sum(outcome.removed.values()), **{
            f"removed_{model}": count for model, count in outcome.removed.items()}})

    return _environment_op_job(
        blueprint, CLEAN_JOB, remove_seed_items,
        "`ampflow clean ENV`: remove the environment's seed items (those ampflow wrote); other items stay.",
    )


def build_destroy_job(blueprint: Blueprint) -> dg.JobDefinition:
    """`ampflow destroy ENV`, and a preview's teardown, partitioned by environment for the one-run-per-environment limit."""
    @dg.op(description="Tear down the environment's backend: a preview's endpoint, tables, user pool, buckets, client, "
           "worktree, seed records and partition; a sandbox's stack with `ampx sandbox delete --yes`.")
    def tear_down(
        context: dg.OpExecutionContext, amplify_app: AmplifyAppResource, aws: AwsResource,
        seed_records: dg.ResourceParam[SeedRecordsIOManager],
    ) -> dg.Output[None]:
        environment = context.partition_key
        with reported_as_failure():
            preview = amplify_app.config().environment(environment).preview
            if preview is None:
                destroy_environment(amplify_app.workspace(environment, aws), log=context.log.info)
                return dg.Output(None, metadata={"environment": environment})
            tear_down_preview(amplify_app.workspace(environment, aws, checkout=False), log=context.log.info)
            for asset in blueprint.seeded_assets:
                seed_records.forget(asset, environment)
        context.instance.delete_dynamic_partition(ENVIRONMENTS, environment)
        context.log.info(f"Removed partition {environment}")
        return dg.Output(None, metadata={"environment": environment, "branch": preview.branch, "commit": preview.commit})

    return _environment_op_job(
        blueprint, DESTROY_JOB, tear_down,
        "`ampflow destroy ENV`: tear down a preview (everything it made, then its partition) or a sandbox environment's "
        "backend; refused for protected, declared local and branch environments.",
    )


def _environment_op_job(blueprint: Blueprint, name: str, op: Any, description: str) -> dg.JobDefinition:
    """A one-op job partitioned by environment like the assets: the op reads its environment from the partition."""

    @dg.job(name=name, partitions_def=blueprint.partitions, description=description)
    def environment_job():
        op()

    return environment_job
