"""Gathers ampflow's Dagster definitions."""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.defs.assets import workflow_assets
from ampflow_dagster.defs.jobs import workflow_jobs
from ampflow_dagster.defs.partitions import PROJECT
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.schedules import reconciliation_schedules
from ampflow_dagster.defs.sensors import change_sensors

defs = dg.Definitions(
    assets=workflow_assets,
    jobs=workflow_jobs,
    sensors=change_sensors,
    schedules=reconciliation_schedules,
    resources={
        "amplify_app": AmplifyAppResource(project_root=str(PROJECT.root)),
        "aws": AwsResource(),
    },
)
