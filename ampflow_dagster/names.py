"""The names ampflow's assets and jobs are known by: in the UI, in each instance's run history (which the
sensor, `ampflow status` and the deployment cache read), and to the CLI.

Naming rule, dangerous to change: a renamed asset or job orphans every materialization and run an
instance recorded under the old name, so the next run would redeploy and reseed from scratch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BACKEND_DEPLOYMENT = "backend_deployment"
VERIFIED_TABLES = "verified_tables"
API_CLIENT = "api_client"
DEPLOYMENT_CHAIN = (BACKEND_DEPLOYMENT, VERIFIED_TABLES, API_CLIENT)  # what a deployment rematerializes
SEEDED_PREFIX = "seeded_"

DEV_JOB = "amplify_dev"
PROD_JOB = "amplify_prod"
DEPLOY_JOB = "amplify_deploy"
SEED_JOB = "amplify_seed"
FORCE_JOB = "amplify_force"
RECONCILE_JOB = "amplify_reconcile"
CLEAN_JOB = "amplify_clean"
DESTROY_JOB = "amplify_destroy"



@dataclass(frozen=True)
class PinnedJob:
    """A job named for one environment, as the npm scripts were, and the CLI verb that runs it."""

    job: str
    environment: str
    npm_script: str
    verb: str


PINNED_JOBS = (PinnedJob(DEV_JOB, "development", "amplify:dev", "dev"), PinnedJob(PROD_JOB, "production", "amplify:prod", "prod"))


def seeded_asset_name(model: str) -> str:
    """seeded_<model in snake case>; the users file's dataset (`users`) is seeded_users."""
    return SEEDED_PREFIX + re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()


def pinned_jobs_for(environment: str) -> list[str]:
    """The jobs named for `environment` (amplify_dev for development), if any."""
    return [pinned.job for pinned in PINNED_JOBS if pinned.environment == environment]


def pinned_job(job: str) -> PinnedJob:
    return next(pinned for pinned in PINNED_JOBS if pinned.job == job)


def pinned_verb_for(environment: str) -> str | None:
    """The CLI verb that runs `environment`'s whole workflow (`dev` for development), if one is named for it."""
    return next((pinned.verb for pinned in PINNED_JOBS if pinned.environment == environment), None)
