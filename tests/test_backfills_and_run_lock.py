"""Reseed backfills through Dagster's GraphQL API and backfill daemon; one run per environment at a time."""

from __future__ import annotations

import logging
import time

import dagster as dg
import pytest
import yaml
from dagster._core.execution.backfill import BulkActionStatus
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION, LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql, infer_job_selector

from conftest import REPO, App

SEEDED = ["seeded_inventory_item", "seeded_project", "seeded_project_charter", "seeded_task", "seeded_todo"]
LOGGER = logging.getLogger("ampflow-tests")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def wait_for(instance: dg.DagsterInstance, *run_ids: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while any(instance.get_run_by_id(run_id).status not in FINISHED for run_id in run_ids):
        assert time.monotonic() < deadline, "runs did not finish"
        time.sleep(0.5)


@pytest.fixture
def workspace_for(app: App, monkeypatch: pytest.MonkeyPatch):
    """The project's own workspace.yaml, loaded by a real code server pointed at the test app."""
    monkeypatch.setenv("AMPFLOW_PROJECT_ROOT", str(app.root))

    def open_context(instance: dg.DagsterInstance):
        return define_out_of_process_context(str(REPO / "workspace.yaml"), None, instance)

    return open_context


def snapshot(app: App, environment: str) -> dict[str, list[str]]:
    return {
        model: sorted(f"{item.get('id') or item.get('sku#batch')}:{item.get('updatedAt')}" for item in app.items(environment, model))
        for model in ("Todo", "Project", "Task", "InventoryItem")
    }


def backfill_seeds(context, instance: dg.DagsterInstance) -> str:
    result = execute_dagster_graphql(
        context,
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        variables={
            "backfillParams": {
                "partitionNames": ["development", "production"],
                "assetSelection": [{"path": [name]} for name in SEEDED],
            }
        },
    )
    launched = result.data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    deadline = time.monotonic() + 300
    while instance.get_backfill(backfill_id).status == BulkActionStatus.REQUESTED:
        assert time.monotonic() < deadline, "backfill did not finish"
        list(execute_backfill_iteration(context.process_context, LOGGER))
        list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(context.process_context))  # the run queue
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        wait_for(instance, *[run.run_id for run in runs])
    return backfill_id


def test_backfill_reseeds_both_environments_idempotently(app: App, workspace_for) -> None:
    with dg.instance_for_test() as instance:
        app.materialize("development", instance)
        app.materialize("production", instance)
        before = {env: snapshot(app, env) for env in ("development", "production")}
        dynamodb = app.dynamodb()
        dynamodb.Table(app.table_name("development", "Todo")).delete_item(Key={"id": app.items("development", "Todo")[0]["id"]})
        dynamodb.Table(app.table_name("production", "Project")).update_item(
            Key={"id": "proj-getting-started"}, UpdateExpression="SET #n = :n",
            ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": "[PROD] renamed by hand"},
        )
        with workspace_for(instance) as context:
            backfill_id = backfill_seeds(context, instance)
            assert instance.get_backfill(backfill_id).status == BulkActionStatus.COMPLETED_SUCCESS
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            assert sorted(run.tags["dagster/partition"] for run in runs) == ["development", "production"]
            assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
            repaired = {env: snapshot(app, env) for env in ("development", "production")}
            second = backfill_seeds(context, instance)
            assert instance.get_backfill(second).status == BulkActionStatus.COMPLETED_SUCCESS
        for environment in ("development", "production"):
            after = snapshot(app, environment)
            assert after == repaired[environment]  # the second backfill wrote nothing
            assert {m: len(v) for m, v in after.items()} == {m: len(v) for m, v in before[environment].items()}
        assert app.items("production", "Project")[0]["name"] == "[PROD] Getting started"
        assert len(app.items("development", "Todo")) == 3


@pytest.fixture
def queued_instance():
    """An instance whose run queue has the limits of the project's dagster_home/dagster.yaml."""
    settings = yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())
    overrides = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator",
                                     "config": settings["run_queue"]}}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance


def launch(context, job: str, environment: str) -> str:
    """A run of `job` for `environment`, launched as the UI launches it (queued)."""
    result = execute_dagster_graphql(
        context,
        LAUNCH_PIPELINE_EXECUTION_MUTATION,
        variables={"executionParams": {
            "selector": infer_job_selector(context, job),
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": environment}]},
        }},
    )
    assert result.data["launchPipelineExecution"]["__typename"] == "LaunchRunSuccess", result.data
    return result.data["launchPipelineExecution"]["run"]["runId"]


def assert_one_run_per_environment(context, instance: dg.DagsterInstance, first: str, second: str, other: str) -> None:
    """`first` and `second` share an environment, `other` has its own: the second waits, the other runs alongside."""
    assert {instance.get_run_by_id(r).status for r in (first, second, other)} == {dg.DagsterRunStatus.QUEUED}
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    list(daemon.run_iteration(context.process_context))
    statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in (first, second, other)}
    assert statuses[second] == dg.DagsterRunStatus.QUEUED  # waits: its environment already has a run
    assert statuses[first] != dg.DagsterRunStatus.QUEUED
    assert statuses[other] != dg.DagsterRunStatus.QUEUED  # another environment runs alongside
    wait_for(instance, first, other)
    assert instance.get_run_by_id(second).status == dg.DagsterRunStatus.QUEUED
    list(daemon.run_iteration(context.process_context))
    wait_for(instance, second)
    runs = {run_id: instance.get_run_by_id(run_id) for run_id in (first, second, other)}
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs.values()), {r: run.status for r, run in runs.items()}
    assert instance.get_run_record_by_id(second).start_time >= instance.get_run_record_by_id(first).end_time


def test_second_run_for_an_environment_waits_for_the_first(app: App, workspace_for, queued_instance) -> None:
    app.register(queued_instance)  # as the sensors and the CLI do on an instance they meet
    with workspace_for(queued_instance) as context:
        first_dev, second_dev, prod = (launch(context, "amplify_deploy", env) for env in ("development", "development", "production"))
        assert_one_run_per_environment(context, queued_instance, first_dev, second_dev, prod)


def test_a_clean_waits_for_a_seed_of_its_environment_and_not_for_another(app: App, workspace_for, queued_instance) -> None:
    app.materialize("development", queued_instance)
    app.materialize("production", queued_instance)
    with workspace_for(queued_instance) as context:
        seed_dev = launch(context, "amplify_seed", "development")
        clean_dev = launch(context, "amplify_clean", "development")
        clean_prod = launch(context, "amplify_clean", "production")
        assert queued_instance.get_run_by_id(clean_dev).tags["dagster/partition"] == "development"
        assert_one_run_per_environment(context, queued_instance, seed_dev, clean_dev, clean_prod)
    assert app.items("development", "Todo") == [] and app.items("production", "Todo") == []  # each clean ran, last
