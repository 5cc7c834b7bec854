"""Reconcile one environment (production by default) on a schedule, not on every save."""

import dagster as dg

from ampflow_dagster.defs.jobs import amplify_reconcile
from ampflow_dagster.defs.partitions import CONFIG
from ampflow_dagster.defs.sensors import AUTOMATED_DEPLOYMENT, TRIGGER_TAG

RECONCILIATION = CONFIG.reconciliation


@dg.schedule(
    name=f"{RECONCILIATION.environment}_reconciliation",
    job=amplify_reconcile,
    cron_schedule=RECONCILIATION.cron,
    execution_timezone=RECONCILIATION.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Reconciles {RECONCILIATION.environment}: deploys only if stale, re-verifies the tables and restores "
    "seed items that are missing or were changed. Never makes a destructive change: it fails instead.",
)
def reconciliation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(
        partition_key=RECONCILIATION.environment,
        run_config=AUTOMATED_DEPLOYMENT,
        tags={TRIGGER_TAG: "schedule"},
    )


reconciliation_schedules = [reconciliation_schedule]
