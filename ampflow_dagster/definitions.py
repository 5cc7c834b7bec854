"""ampflow's Dagster definitions, built for one project: `build_defs(project)`.

`dagster dev` loads this module; the project is the one named by AMPFLOW_PROJECT_ROOT,
else the nearest folder (from the working directory up) that holds ampflow.toml.
Nothing is built at import, so a test or a tool can build the definitions of any app.
"""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.defs.assets import build_assets
from ampflow_dagster.defs.branch_sensor import build_branch_sensor
from ampflow_dagster.defs.jobs import build_jobs, everything
from ampflow_dagster.defs.partitions import Blueprint
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.schedules import build_reconciliation_schedule
from ampflow_dagster.defs.seed_records import SEED_RECORDS, seed_records_io_manager
from ampflow_dagster.defs.sensors import build_change_sensor
from ampflow_dagster.names import DESTROY_JOB, RECONCILE_JOB
from ampflow_dagster.project import Project, discover_project


def build_defs(project: Project) -> dg.Definitions:
    """Every asset, check, job, sensor and schedule of `project`, with its environments as partitions."""
    blueprint = Blueprint.of(project)
    assets = build_assets(blueprint)
    jobs = build_jobs(blueprint, assets)
    reconcile = next(job for job in jobs if job.name == RECONCILE_JOB)
    destroy = next(job for job in jobs if job.name == DESTROY_JOB)
    return dg.Definitions(
        assets=assets.all,
        jobs=jobs,
        sensors=[build_change_sensor(blueprint, everything(assets)), build_branch_sensor(blueprint, [reconcile, destroy])],
        schedules=[build_reconciliation_schedule(blueprint.config.reconciliation, reconcile)],
        resources={
            "amplify_app": AmplifyAppResource(project_root=str(project.root)),
            "aws": AwsResource(),
            SEED_RECORDS: seed_records_io_manager(),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs(discover_project())
