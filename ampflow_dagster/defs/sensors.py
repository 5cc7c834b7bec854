"""The change sensor: materialize only what an edit in amplify/ or seed_data/ made stale."""

import dagster as dg

from ampflow_dagster.defs.records import stale_asset_names, staleness_of
from ampflow_dagster.defs.partitions import Blueprint, register_environments
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.fingerprint import digest_cache
from ampflow_dagster.names import BACKEND_DEPLOYMENT

CHANGE_TAG = "ampflow/change"
TRIGGER_TAG = "ampflow/trigger"
MAX_ATTEMPTS = 3  # a change whose runs keep failing waits for the next edit instead of retrying forever
AUTOMATED_DEPLOYMENT = {"ops": {BACKEND_DEPLOYMENT: {"config": {"automated": True}}}}
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_in_progress(instance: dg.DagsterInstance, environment: str) -> dg.DagsterRun | None:
    """A queued or running run of the environment: what it records is not in the history yet."""
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": environment}, statuses=IN_PROGRESS), limit=1)
    return runs[0] if runs else None


def failed_attempts(instance: dg.DagsterInstance, change: str) -> int:
    failed = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
    return instance.get_runs_count(dg.RunsFilter(tags={CHANGE_TAG: change}, statuses=failed))


def build_change_sensor(blueprint: Blueprint, selection: dg.AssetSelection) -> dg.SensorDefinition:
    @dg.sensor(
        name="amplify_change_sensor",
        asset_selection=selection,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Fingerprints amplify/ and every seed file (users.jsonl too); for environments that allow automated deploys, "
        "requests runs for exactly the (asset, environment) pairs whose recorded fingerprints differ.",
    )
    def amplify_change_sensor(context: dg.SensorEvaluationContext, amplify_app: AmplifyAppResource):
        project = amplify_app.project()
        config = amplify_app.config()
        register_environments(context.instance, config, prune=True)  # the branch sensor's previews too
        cache = digest_cache(project)
        checked, requests = [], []
        for environment in config.environments.values():
            if not environment.automated_deploys:
                checked.append(f"{environment.name}: automated deploys are off")
                continue
            busy = run_in_progress(context.instance, environment.name)
            if busy:  # judging staleness mid-run would request again what that run is about to record
                checked.append(f"{environment.name}: run {busy.run_id[:8]} is in progress; checking again after it")
                continue
            state = staleness_of(context.instance, project, environment.name, cache, blueprint.seed_datasets, config)
            if not state.stale:
                checked.append(
                    f"{environment.name}: amplify/ {state.amplify_fingerprint} is deployed, "
                    f"{state.checked_seed_files} seed datasets unchanged"
                )
                continue
            assets = stale_asset_names(state)
            change = state.change_key(assets)
            attempts = failed_attempts(context.instance, change)
            if attempts >= MAX_ATTEMPTS:
                checked.append(f"{environment.name}: {', '.join(assets)} failed {attempts} times for this change; fix and save again")
                continue
            context.log.info(f"{environment.name}: {'; '.join(state.reasons)} -> {', '.join(assets)}")
            requests.append(
                dg.RunRequest(
                    run_key=f"{change}-{attempts}",
                    partition_key=environment.name,
                    asset_selection=[dg.AssetKey(name) for name in assets],
                    run_config=AUTOMATED_DEPLOYMENT if state.deployment_stale else {},
                    tags={CHANGE_TAG: change, TRIGGER_TAG: "sensor"},
                )
            )
        cache.save()
        if not requests:
            return dg.SkipReason("Nothing stale. " + "; ".join(checked))
        return requests

    return amplify_change_sensor
