"""What the instance recorded about each (asset, environment), and whether an environment is current.

Read by the assets, the sensor, `ampflow status` and `ampflow dev`. Light on purpose
(Dagster itself, nothing of dagster-aws): `ampflow dev` reads these to decide that
nothing needs to run, and it should not pay for more imports than that.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from ampflow_dagster.names import API_CLIENT, BACKEND_DEPLOYMENT, DEPLOYMENT_CHAIN, VERIFIED_TABLES, seeded_asset_name
from ampflow_dagster.environments import AmpflowConfig, load_config
from ampflow_dagster.errors import AmpflowError
from ampflow_dagster.fingerprint import DigestCache, digest_cache
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seeded_models
from ampflow_dagster.seeding.users import has_users
from ampflow_dagster.staleness import (
    DeployedState,
    EnvironmentStaleness,
    SeededState,
    current_fingerprints,
    environment_staleness,
)

FINGERPRINT_KEY = "amplify_fingerprint"
MODEL_VERSIONS_KEY = "model_versions"
SEED_FINGERPRINT_KEY = "seed_fingerprint"
SEED_TREE_KEY = "seed_tree"  # a preview's seeded assets: git's tree id of the seed folder they were seeded from
MODEL_VERSION_KEY = "model_version"


def latest_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str, since: float | None = None) -> dict[str, Any]:
    """Metadata of the latest successful materialization of (asset, partition), or {}.

    `since`: only what was recorded after that time counts (a preview's records from before it was added
    again belong to the preview of the same branch that was torn down: Dagster keeps them with the key).
    """
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition], after_timestamp=since), limit=1
    )
    if not result.records:
        return {}
    materialization = result.records[0].asset_materialization
    if materialization is None:
        return {}
    return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}


def deployed_state(instance: dg.DagsterInstance, environment: str, since: float | None = None) -> DeployedState:
    recorded = latest_metadata(instance, dg.AssetKey(BACKEND_DEPLOYMENT), environment, since)
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
    instance: dg.DagsterInstance, project: Project, environment: str, cache: DigestCache, models: list[str] | None = None,
    config: AmpflowConfig | None = None,
) -> EnvironmentStaleness:
    """What is stale in `environment`: files on disk against what the instance recorded (the sensor's view).

    `models`: the seed datasets the definitions declare (default: the models with seed files now, and `users`
    when some environment has a users file). `config`: ampflow.toml as already read (default: read it).
    """
    models = sorted(models) if models is not None else seeded_models(project) + ([USERS_DATASET] if has_users(project) else [])
    settings = (config or load_config(project)).environment(environment)
    amplify, seeds = current_fingerprints(project, settings, models, cache)
    return environment_staleness(
        project, environment, deployed_state(instance, environment), seeded_states(instance, environment, models), seeds, amplify
    )


def current_staleness(instance: dg.DagsterInstance, project: Project, environment: str, config: AmpflowConfig) -> EnvironmentStaleness:
    """`staleness_of` with the project's digest cache, saved afterwards (what `ampflow status` and `ampflow dev` show)."""
    cache = digest_cache(project)
    state = staleness_of(instance, project, environment, cache, config=config)
    cache.save()
    return state


def up_to_date(instance: dg.DagsterInstance, project: Project, environment: str, config: AmpflowConfig) -> str | None:
    """What was checked, if every asset of `environment` is current and its tables match; None otherwise.

    The sensor's checks (fingerprints against the latest materializations: no Node, no
    writes), then a describe of each table against the cached synthesis. Any error (the
    endpoint does not answer, a variable is missing) means "not known to be current".
    """
    try:
        state = current_staleness(instance, project, environment, config)
        if state.stale:
            return None
        if not all(latest_metadata(instance, dg.AssetKey(name), environment) for name in (VERIFIED_TABLES, API_CLIENT)):
            return None
        if not (project.client_dir(environment) / "amplify_outputs.json").is_file():
            return None
        tables = matching_tables(project, environment, state.amplify_fingerprint, config)
    except AmpflowError:
        return None
    if tables is None:
        return None
    return f"amplify/ {state.amplify_fingerprint} deployed, {state.checked_seed_files} seed datasets unchanged, {tables} tables match"


def matching_tables(project: Project, environment: str, fingerprint: str, config: AmpflowConfig) -> int | None:
    """How many tables match the cached synthesis of `fingerprint`; None if any differs or none is cached."""
    from ampflow_dagster.targets.aws import AwsSettings
    from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

    workspace = EnvironmentWorkspace.open(project, environment, AwsSettings(), config)
    desired = cached_desired(workspace, fingerprint)
    if desired is None or workspace.target.drift(desired):
        return None
    return len(desired.tables)


def cached_desired(workspace: Any, fingerprint: str) -> Any:
    """The synthesized backend for `fingerprint` if it is cached: never starts Node."""
    from ampflow_dagster.synthesis.runner import cached_synthesis

    project = workspace.project
    try:
        variables = workspace.environment.synthesis_variables()
    except AmpflowError:  # a variable is missing: nothing was synthesized with it
        return None
    desired = cached_synthesis(project, workspace.target.backend_identifier(project.package_name()), fingerprint, variables)
    if desired is not None:
        workspace.target.use_synthesis(desired)
    return desired
