"""Reconcile one environment (production by default) on a schedule, not on every save."""

from typing import Any

import dagster as dg

from ampflow_dagster.defs.partitions import register_environments
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.defs.sensors import AUTOMATED_DEPLOYMENT, TRIGGER_TAG
from ampflow_dagster.environments import ReconciliationSettings


def build_reconciliation_schedule(reconciliation: ReconciliationSettings, job: Any) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{reconciliation.environment}_reconciliation",
        job=job,
        cron_schedule=reconciliation.cron,
        execution_timezone=reconciliation.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Reconciles {reconciliation.environment}: deploys only if stale, re-verifies the tables and restores "
        "seed items that are missing or were changed. Never makes a destructive change: it fails instead.",
    )
    def reconciliation_schedule(context: dg.ScheduleEvaluationContext, amplify_app: AmplifyAppResource) -> dg.RunRequest:
        register_environments(context.instance, amplify_app.config())  # its partition exists before its run is requested
        return dg.RunRequest(
            partition_key=reconciliation.environment,
            run_config=AUTOMATED_DEPLOYMENT,
            tags={TRIGGER_TAG: "schedule"},
        )

    return reconciliation_schedule
