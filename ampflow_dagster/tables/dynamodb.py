"""Create, update and delete DynamoDB tables to match a TableSpec (for targets that own their tables)."""

from __future__ import annotations

import time
from typing import Any

from ampflow_dagster.errors import TableNotSettled
from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec
from ampflow_dagster.tables.differences import TableDifferences

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
    """Apply index and setting differences without touching items; returns what was done."""
    done = []
    for index_name in differences.indexes_to_remove:
        client.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
        wait_until_active(client, name)
        done.append(f"removed index {index_name}")
    for index in differences.indexes_to_add:  # DynamoDB creates one index per update
        client.update_table(
            TableName=name,
            AttributeDefinitions=_attribute_definitions(spec),
            GlobalSecondaryIndexUpdates=[{"Create": _index(index, spec.billing_mode)}],
        )
        wait_until_active(client, name)
        done.append(f"added index {index.name}")
    live = client.describe_table(TableName=name)["Table"]
    live_stream = live.get("StreamSpecification") or {}
    live_view = live_stream.get("StreamViewType") if live_stream.get("StreamEnabled") else None
    if live_view != spec.stream_view_type:
        if live_view is not None:
            client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
            wait_until_active(client, name)
        if spec.stream_view_type:
            client.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": spec.stream_view_type})
            wait_until_active(client, name)
        done.append(f"stream set to {spec.stream_view_type or 'off'}")
    live_billing = (live.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if live_billing != spec.billing_mode:
        extra = {"ProvisionedThroughput": DEFAULT_CAPACITY} if spec.billing_mode == "PROVISIONED" else {}
        client.update_table(TableName=name, BillingMode=spec.billing_mode, **extra)
        wait_until_active(client, name)
        done.append(f"billing set to {spec.billing_mode}")
    if bool(live.get("DeletionProtectionEnabled", False)) != spec.deletion_protection:
        client.update_table(TableName=name, DeletionProtectionEnabled=spec.deletion_protection)
        wait_until_active(client, name)
        done.append(f"deletion protection {'on' if spec.deletion_protection else 'off'}")
    if any(text.startswith("point-in-time recovery") for text in differences.settings):
        set_point_in_time_recovery(client, name, spec.point_in_time_recovery)
        done.append(f"point-in-time recovery {'on' if spec.point_in_time_recovery else 'off'}")
    return done


def delete_table(client: Any, name: str) -> None:
    described = client.describe_table(TableName=name)["Table"]
    if described.get("DeletionProtectionEnabled"):
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
        table = client.describe_table(TableName=name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table["TableStatus"] == "ACTIVE" and all(index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes):
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
