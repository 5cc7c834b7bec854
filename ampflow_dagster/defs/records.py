"""What the instance recorded about each (asset, environment): read by the assets, the sensor and the CLI.

Light on purpose (Dagster itself, nothing of dagster-aws): `ampflow dev` reads these
to decide that nothing needs to run, and it should not pay for more imports than that.
"""

from typing import Any

import dagster as dg

from ampflow_dagster.defs.partitions import seeded_asset_name
from ampflow_dagster.environments import load_config
from ampflow_dagster.fingerprint import DigestCache
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seeded_models
from ampflow_dagster.seeding.users import has_users
from ampflow_dagster.staleness import (
    DEPLOYMENT_CHAIN,
    DeployedState,
    EnvironmentStaleness,
    SeededState,
    current_fingerprints,
    environment_staleness,
)

FINGERPRINT_KEY = "amplify_fingerprint"
MODEL_VERSIONS_KEY = "model_versions"
SEED_FINGERPRINT_KEY = "seed_fingerprint"
MODEL_VERSION_KEY = "model_version"


def latest_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str) -> dict[str, Any]:
    """Metadata of the latest successful materialization of (asset, partition), or {}."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    )
    if not result.records:
        return {}
    materialization = result.records[0].asset_materialization
    if materialization is None:
        return {}
    return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}


def deployed_state(instance: dg.DagsterInstance, environment: str) -> DeployedState:
    recorded = latest_metadata(instance, dg.AssetKey("backend_deployment"), environment)
    fingerprint = recorded.get(FINGERPRINT_KEY)
    versions = recorded.get(MODEL_VERSIONS_KEY)
    return DeployedState(
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        model_versions=dict(versions) if isinstance(versions, dict) else {},
    )


def seeded_states(instance: dg.DagsterInstance, environment: str, models: list[str]) -> dict[str, SeededState]:
    states = {}
    for model in models:
        recorded = latest_metadata(instance, dg.AssetKey(seeded_asset_name(model)), environment)
        states[model] = SeededState(recorded.get(SEED_FINGERPRINT_KEY), recorded.get(MODEL_VERSION_KEY))
    return states


def stale_asset_names(state: EnvironmentStaleness) -> list[str]:
    names = list(DEPLOYMENT_CHAIN) if state.deployment_stale else []
    return names + [seeded_asset_name(model) for model in state.stale_models]


def staleness_of(
    instance: dg.DagsterInstance, project: Project, environment: str, cache: DigestCache, models: list[str] | None = None
) -> EnvironmentStaleness:
    """What is stale in `environment`: files on disk against what the instance recorded (the sensor's view).

    `models`: the seed datasets the definitions declare (default: the models with seed files now, and `users`
    when some environment has a users file).
    """
    models = sorted(models) if models is not None else seeded_models(project) + ([USERS_DATASET] if has_users(project) else [])
    amplify, seeds = current_fingerprints(project, load_config(project).environment(environment), models, cache)
    return environment_staleness(
        project, environment, deployed_state(instance, environment), seeded_states(instance, environment, models), seeds, amplify
    )
