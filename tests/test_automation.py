"""The change sensor and the reconciliation schedule request exactly what is stale."""

from __future__ import annotations

import dagster as dg

from ampflow_dagster.defs.sensors import CHANGE_TAG

from conftest import App, evaluate_sensor, failure_text, materialized

CHAIN = {"backend_deployment", "verified_tables", "api_client"}
SEEDED = {"seeded_inventory_item", "seeded_project", "seeded_project_charter", "seeded_task", "seeded_todo"}


def tick(app: App, instance) -> tuple[list[dg.RunRequest], str | None]:
    data = evaluate_sensor(app.definitions(), "amplify_change_sensor", instance, app.resources()["amplify_app"])
    return list(data.run_requests or []), data.skip_message


def requested(requests: list[dg.RunRequest]) -> set[tuple[str, str]]:
    return {(key.to_user_string(), request.partition_key) for request in requests for key in request.asset_selection}


def run_request(app: App, instance, request: dg.RunRequest, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        app.assets(), partition_key=request.partition_key, instance=instance, resources=app.resources(),
        selection=request.asset_selection, run_config=request.run_config, tags=request.tags, raise_on_error=raise_on_error,
    )


def test_fresh_project_requests_the_whole_development_workflow_and_never_production(app: App, instance) -> None:
    requests, _ = tick(app, instance)
    assert requested(requests) == {(name, "development") for name in CHAIN | SEEDED}
    assert requests[0].run_config == {"ops": {"backend_deployment": {"config": {"automated": True}}}}
    run_request(app, instance, requests[0])
    requests, skip = tick(app, instance)
    assert requests == []
    assert "development: amplify/" in skip and "5 seed datasets unchanged" in skip
    assert "production: automated deploys are off" in skip


def test_nothing_is_requested_for_an_environment_while_one_of_its_runs_is_in_progress(app: App, instance) -> None:
    running = instance.add_run(
        dg.DagsterRun(job_name="amplify_dev", status=dg.DagsterRunStatus.STARTED, tags={"dagster/partition": "development"})
    )
    requests, skip = tick(app, instance)
    assert requests == []
    assert f"development: run {running.run_id[:8]} is in progress" in skip
    instance.report_run_failed(running)
    requests, _ = tick(app, instance)
    assert requested(requests) == {(name, "development") for name in CHAIN | SEEDED}


def test_amplify_edit_requests_only_the_deployment_chain(app: App, instance) -> None:
    app.materialize("development", instance)
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + "\n// reviewed\n")
    requests, _ = tick(app, instance)
    assert requested(requests) == {(name, "development") for name in CHAIN}
    # The same change never launches twice while it is pending.
    again, _ = tick(app, instance)
    assert [r.run_key for r in again] == [r.run_key for r in requests]
    run_request(app, instance, requests[0])
    assert tick(app, instance)[0] == []  # a comment changes no model: nothing to reseed


def test_model_change_reseeds_only_that_model_after_deploying(app: App, instance) -> None:
    app.materialize("development", instance)
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace("done: a.boolean().default(false),", "done: a.boolean().default(false),\n      note: a.string(),"))
    requests, _ = tick(app, instance)
    assert requested(requests) == {(name, "development") for name in CHAIN}
    run_request(app, instance, requests[0])
    requests, _ = tick(app, instance)
    assert requested(requests) == {("seeded_todo", "development")}


def test_seed_edit_requests_only_that_seeded_dataset(app: App, instance) -> None:
    app.materialize("development", instance)
    app.materialize("production", instance)
    todos = app.root / "seed_data" / "development" / "Todo.jsonl"
    todos.write_text(todos.read_text() + '{"content": "One more"}\n')
    (app.root / "seed_data" / "production" / "Task.jsonl").write_text('{"title": "Changed in prod", "status": "TODO", "projectId": "p"}\n')
    requests, _ = tick(app, instance)
    assert requested(requests) == {("seeded_todo", "development")}
    assert requests[0].run_config == {}
    assets = materialized(run_request(app, instance, requests[0]))
    assert assets["seeded_todo"]["items_created"] == 1
    assert tick(app, instance)[0] == []


def test_failed_run_is_retried_then_given_up(app: App, instance) -> None:
    app.materialize("development", instance)
    todos = app.root / "seed_data" / "development" / "Todo.jsonl"
    todos.write_text(todos.read_text() + '{"content": "bad", "priority": "SOON"}\n')
    keys = []
    for _ in range(3):
        requests, _ = tick(app, instance)
        assert requested(requests) == {("seeded_todo", "development")}
        keys.append(requests[0].run_key)
        result = run_request(app, instance, requests[0], raise_on_error=False)
        assert not result.success and "Todo.jsonl:4" in failure_text(result)
    assert len(set(keys)) == 3  # each retry is a new run, not deduplicated away
    requests, skip = tick(app, instance)
    assert requests == [] and "failed 3 times" in skip
    todos.write_text(todos.read_text().replace('"SOON"', '"LOW"'))
    requests, _ = tick(app, instance)
    assert requested(requests) == {("seeded_todo", "development")}
    assert requests[0].tags[CHANGE_TAG] not in {k.rsplit("-", 1)[0] for k in keys}


def reconciliation_tick(app: App, instance) -> tuple[dg.ScheduleDefinition, dg.RunRequest]:
    definitions = app.definitions()
    schedule = definitions.get_schedule_def("production_reconciliation")
    context = dg.build_schedule_context(
        instance=instance, repository_def=definitions.get_repository_def(), resources={"amplify_app": app.resources()["amplify_app"]},
    )
    return schedule, schedule.evaluate_tick(context).run_requests[0]


def test_schedule_targets_production_with_automation_guard(app: App, instance) -> None:
    reconciliation_schedule, request = reconciliation_tick(app, instance)
    assert instance.has_dynamic_partition("environments", "production")  # a fresh instance: the schedule adds it first
    assert request.partition_key == "production"
    assert request.run_config == {"ops": {"backend_deployment": {"config": {"automated": True}}}}
    assert reconciliation_schedule.cron_schedule == "0 3 * * *"
    assert reconciliation_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def reconcile(app: App, instance, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    _, request = reconciliation_tick(app, instance)
    return app.definitions().resolve_job_def("amplify_reconcile").execute_in_process(
        instance=instance, partition_key=request.partition_key, run_config=request.run_config, raise_on_error=raise_on_error,
    )


def test_reconciliation_repairs_deleted_and_modified_items_and_deleted_tables(app: App, instance) -> None:
    app.materialize("production", instance)
    dynamodb = app.dynamodb()
    dynamodb.Table(app.table_name("production", "Todo")).delete_item(Key={"id": app.items("production", "Todo")[0]["id"]})
    dynamodb.Table(app.table_name("production", "Project")).update_item(
        Key={"id": "proj-getting-started"}, UpdateExpression="SET description = :d", ExpressionAttributeValues={":d": "edited"},
    )
    dynamodb.meta.client.delete_table(TableName=app.table_name("production", "Task"))
    assets = materialized(reconcile(app, instance))
    assert assets["backend_deployment"]["deployment"] == "deployed"
    assert "Task" in assets["backend_deployment"]["drift_found"] and assets["backend_deployment"]["tables_created"] == 1
    assert assets["seeded_todo"]["items_created"] == 1
    assert assets["seeded_todo"]["drift_repaired"].startswith("1 missing item(s) restored")
    assert assets["seeded_project"]["items_updated"] == 1
    assert assets["seeded_inventory_item"]["drift_repaired"] == "none: the table held exactly the seed set"
    assert assets["seeded_task"]["items_created"] == 1
    assert app.items("production", "Project")[0]["description"] == "The project every new account sees"
    assert materialized(reconcile(app, instance))["backend_deployment"]["deployment"] == "skipped"


def test_reconciliation_never_makes_a_destructive_change(app: App, instance) -> None:
    app.materialize("production", instance)
    client = app.dynamodb().meta.client
    name = app.table_name("production", "Todo")
    client.delete_table(TableName=name)  # a table someone rebuilt by hand with another key, holding data
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "content", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "content", "AttributeType": "S"}],
    )
    client.put_item(TableName=name, Item={"content": "precious"})  # the resource's client takes plain values
    result = reconcile(app, instance, raise_on_error=False)
    assert not result.success
    assert "Automation refuses a destructive change" in failure_text(result)
    assert client.scan(TableName=name)["Items"] == [{"content": "precious"}]
