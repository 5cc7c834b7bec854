"""Create, update and delete DynamoDB tables to match a TableSpec (for targets that own their tables)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from ampflow_dagster.errors import DeploymentError, TableNotSettled
from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec
from ampflow_dagster.tables.differences import (
    BILLING, DELETION_PROTECTION, POINT_IN_TIME_RECOVERY, STREAM, SettingDifference, TableDifferences, setting_text,
)
from ampflow_dagster.tables.live import deletion_protection, is_active

WAIT_TIMEOUT_SECONDS = 300.0
DEFAULT_CAPACITY = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def create_table(client: Any, name: str, spec: TableSpec, tags: dict[str, str]) -> None:
    parameters: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _key_schema(spec.hash_key, spec.range_key),
        "AttributeDefinitions": _attribute_definitions(spec),
        "BillingMode": spec.billing_mode,
        "DeletionProtectionEnabled": spec.deletion_protection,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    if spec.stream_view_type:
        parameters["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    if spec.billing_mode == "PROVISIONED":
        parameters["ProvisionedThroughput"] = DEFAULT_CAPACITY
    if spec.indexes:
        parameters["GlobalSecondaryIndexes"] = [_index(index, spec.billing_mode) for index in spec.indexes]
    client.create_table(**parameters)
    wait_until_active(client, name)
    if spec.point_in_time_recovery:
        set_point_in_time_recovery(client, name, True)


def update_table_in_place(client: Any, name: str, spec: TableSpec, differences: TableDifferences) -> list[str]:
    """Apply the index and setting `differences` (and nothing else) without touching items; returns what was done.

    `spec` is the desired table the differences were found against: new indexes take their
    attribute types and capacity from it. The billing mode changes before indexes are added,
    so they are created for the mode the table will have.
    """
    done = []
    for index_name in differences.indexes_to_remove:
        client.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
        wait_until_active(client, name)
        done.append(f"removed index {index_name}")
    billing = [difference for difference in differences.settings if difference.setting == BILLING]
    done += [_update_setting(client, name, difference) for difference in billing]
    for index in differences.indexes_to_add:  # DynamoDB creates one index per update
        client.update_table(
            TableName=name,
            AttributeDefinitions=_attribute_definitions(spec),
            GlobalSecondaryIndexUpdates=[{"Create": _index(index, spec.billing_mode)}],
        )
        wait_until_active(client, name)
        done.append(f"added index {index.name}")
    done += [_update_setting(client, name, difference) for difference in differences.settings if difference not in billing]
    return done


def _update_setting(client: Any, name: str, difference: SettingDifference) -> str:
    """Change one setting of a live table to its desired value; returns what was done."""
    if difference.setting == STREAM:
        if difference.live is not None:  # DynamoDB changes a stream's view type only by turning it off first
            client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
            wait_until_active(client, name)
        if difference.desired is not None:
            _turn_stream_on(client, name, difference.desired)
    elif difference.setting == BILLING:
        extra = {"ProvisionedThroughput": DEFAULT_CAPACITY} if difference.desired == "PROVISIONED" else {}
        client.update_table(TableName=name, BillingMode=difference.desired, **extra)
    elif difference.setting == DELETION_PROTECTION:
        client.update_table(TableName=name, DeletionProtectionEnabled=difference.desired)
    elif difference.setting == POINT_IN_TIME_RECOVERY:
        set_point_in_time_recovery(client, name, bool(difference.desired))
    else:
        raise ValueError(f"no in-place update for setting {difference.setting!r} of {name}")
    wait_until_active(client, name)
    return f"{difference.setting} set to {setting_text(difference.desired)}"


def _turn_stream_on(client: Any, name: str, view_type: str) -> None:
    try:
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type})
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        # moto 5.2 keeps a table's first stream label forever and refuses every later StreamEnabled.
        raise DeploymentError(
            f"The DynamoDB endpoint refused to turn the stream of {name} on ({view_type}): "
            f"{error.response['Error'].get('Message', 'ResourceInUseException')}. Its stream is off; its items are unchanged.",
            "The embedded emulator (moto 5.2) cannot turn a table's stream on again once it was turned off (DynamoDB "
            "can). On the emulator, recreate the environment's tables with `ampflow deploy <environment> --force` "
            "(this empties them; seeding writes the seed data again).",
            code="StreamCannotBeReenabled",
        ) from error


def delete_table(client: Any, name: str) -> None:
    if deletion_protection(client.describe_table(TableName=name)["Table"]):
        client.update_table(TableName=name, DeletionProtectionEnabled=False)
        wait_until_active(client, name)
    client.delete_table(TableName=name)
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while name in _table_names(client, prefix=name):
        if time.monotonic() > deadline:
            raise TableNotSettled(name, WAIT_TIMEOUT_SECONDS, deleting=True)
        time.sleep(0.5)


def list_tables(client: Any) -> list[str]:
    return _table_names(client, prefix="")


def set_point_in_time_recovery(client: Any, name: str, enabled: bool) -> None:
    client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled})


def wait_until_active(client: Any, name: str) -> None:
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    delay = 0.05
    while True:
        if is_active(client.describe_table(TableName=name)["Table"]):
            return
        if time.monotonic() > deadline:
            raise TableNotSettled(name, WAIT_TIMEOUT_SECONDS, deleting=False)
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _table_names(client: Any, prefix: str) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(name for name in page.get("TableNames", []) if name.startswith(prefix))
    return names


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _attribute_definitions(spec: TableSpec) -> list[dict[str, str]]:
    used = {*spec.key_attributes, *(a for index in spec.indexes for a in (index.hash_key, index.range_key) if a)}
    return [{"AttributeName": name, "AttributeType": spec.attribute_types.get(name, "S")} for name in sorted(used)]


def _index(index: IndexSpec, billing_mode: str) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": {"ProjectionType": index.projection},
    }
    if billing_mode == "PROVISIONED":
        definition["ProvisionedThroughput"] = DEFAULT_CAPACITY
    return definition
