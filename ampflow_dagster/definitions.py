"""Gathers ampflow's Dagster definitions."""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.defs.assets import workflow_assets
from ampflow_dagster.defs.jobs import workflow_jobs
from ampflow_dagster.defs.partitions import PROJECT
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource

defs = dg.Definitions(
    assets=workflow_assets,
    jobs=workflow_jobs,
    resources={
        "amplify_app": AmplifyAppResource(project_root=str(PROJECT.root)),
        "aws": AwsResource(),
    },
)
