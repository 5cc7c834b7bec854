"""One comparison of a table with amplify/, settings included.

Verification, its shape checks, drift, the plan and the in-place update all use it, and
every live attribute is read one way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dagster as dg
import pytest

from ampflow_dagster.errors import VerificationError
from ampflow_dagster.planning import plan_table_changes
from ampflow_dagster.synthesis.desired_state import DesiredBackend, IndexSpec, TableSpec
from ampflow_dagster.tables.differences import BILLING, POINT_IN_TIME_RECOVERY, STREAM, SettingDifference, table_differences
from ampflow_dagster.tables.dynamodb import update_table_in_place, wait_until_active
from ampflow_dagster.tables.live import LiveTable, billing_mode, read_live_table
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.verification.tables import inspect_tables, require_matching_tables
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, failure_text, materialized

TASK = TableSpec(
    model="Task", hash_key="id", range_key=None, attribute_types={"id": "S", "projectId": "S"},
    indexes=(IndexSpec("gsi-Project.tasks", "projectId", None),), stream_view_type="NEW_AND_OLD_IMAGES",
    billing_mode="PAY_PER_REQUEST", point_in_time_recovery=True, deletion_protection=False,
    replace_table_upon_gsi_update=True,
)


def plan_for(live: TableSpec, *, replaces_on_index_change: bool) -> tuple[str, str]:
    """(action, details) the plan gives Task's table when it looks like `live`."""
    desired = DesiredBackend(
        fingerprint="f", stack_name="s", tables={"Task": TASK}, default_authorization_type="API_KEY",
        additional_authorization_types=[], model_introspection={},
    )
    table = LiveTable(name="Task-api-NONE", status="ACTIVE", item_count=3, spec=live)
    [change] = plan_table_changes(
        desired, {"Task": table}, {"Task": table.name}, {}, replaces_on_index_change=replaces_on_index_change
    )
    return change.action, change.details


def test_each_setting_that_differs_is_named_with_its_live_and_declared_values() -> None:
    live = replace(TASK, stream_view_type=None, point_in_time_recovery=False, billing_mode="PROVISIONED")
    differences = table_differences(TASK, live)
    assert differences.settings == [
        SettingDifference(STREAM, None, "NEW_AND_OLD_IMAGES"),
        SettingDifference(POINT_IN_TIME_RECOVERY, False, True),
        SettingDifference(BILLING, "PROVISIONED", "PAY_PER_REQUEST"),
    ]
    assert differences.describe() == [
        "stream off should be NEW_AND_OLD_IMAGES", "point-in-time recovery off should be on",
        "billing PROVISIONED should be PAY_PER_REQUEST",
    ]
    assert not differences.empty and not differences.replacement(replaces_on_index_change=True)
    assert table_differences(TASK, replace(TASK, replace_table_upon_gsi_update=False)).empty  # live tables never say


def test_the_plan_takes_its_texts_and_what_replaces_a_table_from_the_differences() -> None:
    without_index = replace(TASK, indexes=(), point_in_time_recovery=False)
    assert plan_for(without_index, replaces_on_index_change=False) == (
        "update", "add index gsi-Project.tasks; point-in-time recovery off should be on"
    )
    assert plan_for(without_index, replaces_on_index_change=True) == (
        "replace", "add index gsi-Project.tasks (Amplify replaces the table)"
    )
    assert plan_for(replace(TASK, point_in_time_recovery=False), replaces_on_index_change=True) == (
        "update", "point-in-time recovery off should be on"  # a setting never replaces the table
    )
    new_key = replace(TASK, hash_key="projectId")
    assert plan_for(new_key, replaces_on_index_change=False) == ("replace", "key projectId should be id")
    assert plan_for(TASK, replaces_on_index_change=True) == ("none", "")


@pytest.mark.parametrize(
    ("described", "mode"),
    [
        ({"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}, "ProvisionedThroughput": {"ReadCapacityUnits": 5}},
         "PAY_PER_REQUEST"),  # switched to on demand: DynamoDB may still show the old capacity
        ({"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}, "PROVISIONED"),  # always provisioned
        ({"BillingModeSummary": {}, "ProvisionedThroughput": {"ReadCapacityUnits": 0}}, "PAY_PER_REQUEST"),  # moto restore
    ],
    ids=["named", "always-provisioned", "no-capacity"],
)
def test_billing_mode_is_the_summarys_else_read_from_the_capacity(described: dict[str, Any], mode: str) -> None:
    assert billing_mode(described) == mode


def deployed(app: App, instance: Any) -> EnvironmentWorkspace:
    """The development environment, deployed from the sample app."""
    app.materialize("development", instance, selection=["backend_deployment"])
    return EnvironmentWorkspace.open(app.project, "development", AwsSettings())


def problems(workspace: EnvironmentWorkspace) -> dict[str, list[str]]:
    """Model -> what verification found wrong with its table."""
    return {check.model: check.problems for check in inspect_tables(workspace)}


def shape_check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


def restore_in_place(client: Any, table: str) -> None:
    """Replace `table` by a restore of its own backup: moto describes such a table without a billing mode."""
    backup = client.create_backup(TableName=table, BackupName=f"{table[:40]}-by-hand")["BackupDetails"]["BackupArn"]
    client.delete_table(TableName=table)
    client.restore_table_from_backup(TargetTableName=table, BackupArn=backup)
    wait_until_active(client, table)


def turn_off_by_hand(client: Any, table: str, setting: str) -> None:
    """What a person does in the console or with the AWS CLI after the deployment."""
    if setting == POINT_IN_TIME_RECOVERY:
        client.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    else:
        client.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})


@pytest.mark.parametrize(
    ("model", "setting", "declared", "difference"),
    [
        ("Project", POINT_IN_TIME_RECOVERY, "on", "point-in-time recovery off should be on"),
        ("Todo", STREAM, "NEW_AND_OLD_IMAGES", "stream off should be NEW_AND_OLD_IMAGES"),
    ],
    ids=["pitr", "stream"],
)
def test_a_setting_changed_by_hand_fails_verification_and_its_shape_check(
    app: App, instance, model: str, setting: str, declared: str, difference: str
) -> None:
    workspace = deployed(app, instance)
    table = app.table_name("development", model)
    turn_off_by_hand(app.dynamodb().meta.client, table, setting)

    found = problems(workspace)
    assert found[model] == [difference]
    assert all(not listed for other, listed in found.items() if other != model)
    assert workspace.target.drift(workspace.desired()) == [f"{table}: {difference}"]  # deployment sees the same
    with pytest.raises(VerificationError) as raised:
        require_matching_tables(workspace, inspect_tables(workspace))
    assert f"{table} ({model}): {difference}" in raised.value.message
    assert "ampflow deploy development" in raised.value.resolution and "in place" in raised.value.resolution

    result = app.materialize("development", instance, selection=["verified_tables"], raise_on_error=False)
    assert not result.success and difference in failure_text(result)
    check = shape_check(result, f"table_shape_{model.lower()}")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert difference in check.description and "ampflow deploy development" in check.description
    assert "in place" in check.description
    assert f"| {setting} | {declared} | **off** |" in check.metadata["settings"].value  # expected, found


def test_point_in_time_recovery_turned_off_by_hand_is_turned_on_again_in_place_keeping_the_items(app: App, instance) -> None:
    workspace = deployed(app, instance)
    table = app.table_name("development", "Project")
    client = app.dynamodb().meta.client  # a resource's client: items as plain Python values
    client.put_item(TableName=table, Item={"id": "kept-1"})  # an item the app wrote
    turn_off_by_hand(client, table, POINT_IN_TIME_RECOVERY)

    redeployed = materialized(app.materialize("development", instance, selection=["backend_deployment", "verified_tables"]))
    assert redeployed["backend_deployment"]["deployment"] == "deployed"
    assert "point-in-time recovery off should be on" in redeployed["backend_deployment"]["reason"]  # drift named it
    assert redeployed["backend_deployment"]["tables_updated"] == 1
    assert read_live_table(client, table, "Project").spec.point_in_time_recovery
    assert all(not listed for listed in problems(workspace).values())
    assert client.get_item(TableName=table, Key={"id": "kept-1"}).get("Item")  # updated, not replaced


def test_a_stream_the_emulator_cannot_turn_on_again_fails_the_deployment_clearly_and_force_recreates_it(
    app: App, instance
) -> None:
    deployed(app, instance)
    table = app.table_name("development", "Todo")
    turn_off_by_hand(app.dynamodb().meta.client, table, STREAM)

    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert f"refused to turn the stream of {table} on (NEW_AND_OLD_IMAGES)" in text and "--force" in text

    forced = app.materialize(
        "development", instance, selection=["backend_deployment", "verified_tables"],
        run_config={"ops": {"backend_deployment": {"config": {"force": True}}}},
    )
    assert forced.success
    assert read_live_table(app.dynamodb().meta.client, table, "Todo").spec.stream_view_type == "NEW_AND_OLD_IMAGES"


def test_a_table_restored_from_an_on_demand_backup_is_read_one_way_by_verification_and_the_update(app: App, instance) -> None:
    workspace = deployed(app, instance)
    table = app.table_name("development", "Todo")
    client = app.dynamodb().meta.client
    restore_in_place(client, table)  # moto 5.2.5: no BillingMode in BillingModeSummary, no capacity, no stream
    declared = workspace.desired().tables["Todo"]

    live = read_live_table(client, table, "Todo")
    assert live.spec.billing_mode == "PAY_PER_REQUEST"  # a table without provisioned capacity is on demand
    assert problems(workspace)["Todo"] == ["stream off should be NEW_AND_OLD_IMAGES"]
    done = update_table_in_place(client, table, declared, table_differences(declared, live.spec))
    assert done == ["stream set to NEW_AND_OLD_IMAGES"]  # exactly the differences it was given: billing already matched

    provisioned = replace(declared, billing_mode="PROVISIONED")  # amplify/ declaring provisioned capacity instead
    differences = table_differences(provisioned, read_live_table(client, table, "Todo").spec)
    assert differences.describe() == ["billing PAY_PER_REQUEST should be PROVISIONED"]
    update_table_in_place(client, table, provisioned, differences)
    assert table_differences(provisioned, read_live_table(client, table, "Todo").spec).empty  # applied, not skipped


def test_a_provisioned_table_without_a_billing_summary_is_switched_to_on_demand_once_then_matches(app: App, instance) -> None:
    workspace = deployed(app, instance)
    table = app.table_name("development", "Todo")
    client = app.dynamodb().meta.client
    client.delete_table(TableName=table)
    client.create_table(
        TableName=table, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    restore_in_place(client, table)  # described as DynamoDB describes a table that was always provisioned (and no stream)
    assert "BillingMode" not in client.describe_table(TableName=table)["Table"].get("BillingModeSummary", {})
    assert read_live_table(client, table, "Todo").spec.billing_mode == "PROVISIONED"
    assert "billing PROVISIONED should be PAY_PER_REQUEST" in problems(workspace)["Todo"]

    first = materialized(app.materialize("development", instance, selection=["backend_deployment"]))
    assert first["backend_deployment"]["deployment"] == "deployed" and first["backend_deployment"]["tables_updated"] == 1
    assert "billing PROVISIONED should be PAY_PER_REQUEST" in first["backend_deployment"]["plan"]
    assert read_live_table(client, table, "Todo").spec.billing_mode == "PAY_PER_REQUEST"
    assert workspace.target.drift(workspace.desired()) == []
    assert all(not listed for listed in problems(workspace).values())
    again = materialized(app.materialize("development", instance, selection=["backend_deployment"]))
    assert again["backend_deployment"]["deployment"] == "skipped"  # applied once, then it matches
