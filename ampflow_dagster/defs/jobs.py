"""Jobs named after the npm scripts they replace."""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.defs.assets import api_client, backend_deployment, seeded_assets, verified_tables
from ampflow_dagster.defs.partitions import environment_partitions

SEEDED = dg.AssetSelection.assets(*seeded_assets)
DEPLOY = dg.AssetSelection.assets(backend_deployment, verified_tables)
EVERYTHING = DEPLOY | SEEDED | dg.AssetSelection.assets(api_client)


def _full_workflow(name: str, environment: str, script: str) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=name,
        selection=EVERYTHING,
        partitions_def=environment_partitions,
        tags={"dagster/partition": environment},
        description=f"`npm run {script}`: deploy {environment}, verify its tables, seed it and generate its client.",
    )


amplify_dev = _full_workflow("amplify_dev", "development", "amplify:dev")
amplify_prod = _full_workflow("amplify_prod", "production", "amplify:prod")

amplify_deploy = dg.define_asset_job(
    name="amplify_deploy",
    selection=DEPLOY,
    partitions_def=environment_partitions,
    description="`npm run amplify:optimize <env>`: deploy the chosen environment (skipped when unchanged) and verify it.",
)
amplify_seed = dg.define_asset_job(
    name="amplify_seed",
    selection=SEEDED,
    partitions_def=environment_partitions,
    description="`npm run amplify:seed:<env>`: reapply the chosen environment's seed data.",
)
amplify_force = dg.define_asset_job(
    name="amplify_force",
    selection=DEPLOY | dg.AssetSelection.assets(api_client),
    partitions_def=environment_partitions,
    config={"ops": {"backend_deployment": {"config": {"force": True}}}},
    description="`npm run amplify:gen2:force`: a clean deployment (tables recreated), verification and client.",
)

amplify_reconcile = dg.define_asset_job(
    name="amplify_reconcile",
    selection=EVERYTHING,
    partitions_def=environment_partitions,
    description="Reconciliation: deploy if stale, re-verify every table, restore missing or modified seed items.",
)

workflow_jobs = [amplify_dev, amplify_prod, amplify_deploy, amplify_seed, amplify_force, amplify_reconcile]
