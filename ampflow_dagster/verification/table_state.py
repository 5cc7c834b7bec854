"""Read a live DynamoDB table into the same shape as a synthesized one, and compare the two."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec


@dataclass(frozen=True)
class LiveTable:
    name: str
    status: str
    item_count: int
    spec: TableSpec


def read_live_table(client: Any, name: str, model: str) -> LiveTable | None:
    """The table as DynamoDB describes it, or None if it does not exist."""
    try:
        table = client.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    try:
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
    except ClientError:
        pitr = False
    keys = {element["AttributeName"]: element["KeyType"] for element in table["KeySchema"]}
    indexes = []
    for index in table.get("GlobalSecondaryIndexes", []):
        index_keys = {element["AttributeName"]: element["KeyType"] for element in index["KeySchema"]}
        indexes.append(
            IndexSpec(
                name=index["IndexName"],
                hash_key=next(n for n, k in index_keys.items() if k == "HASH"),
                range_key=next((n for n, k in index_keys.items() if k == "RANGE"), None),
                projection=index.get("Projection", {}).get("ProjectionType", "ALL"),
            )
        )
    stream = table.get("StreamSpecification") or {}
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode") or (
        "PAY_PER_REQUEST" if not (table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits") else "PROVISIONED"
    )
    spec = TableSpec(
        model=model,
        hash_key=next(n for n, k in keys.items() if k == "HASH"),
        range_key=next((n for n, k in keys.items() if k == "RANGE"), None),
        attribute_types={d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])},
        indexes=tuple(sorted(indexes, key=lambda index: index.name)),
        stream_view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        billing_mode=billing,
        point_in_time_recovery=pitr,
        deletion_protection=bool(table.get("DeletionProtectionEnabled", False)),
        replace_table_upon_gsi_update=False,
    )
    return LiveTable(name=name, status=table.get("TableStatus", "UNKNOWN"), item_count=int(table.get("ItemCount", 0)), spec=spec)


DESCRIBE_WORKERS = 16  # DescribeTable waits on the network, not the CPU: describe many tables at once


def read_live_tables(client: Any, names: dict[str, str], workers: int = DESCRIBE_WORKERS) -> dict[str, LiveTable | None]:
    """{model: its live table or None} for {model: table name}, described `workers` at a time."""
    models = sorted(names)
    if workers <= 1 or len(models) <= 1:
        return {model: read_live_table(client, names[model], model) for model in models}
    with ThreadPoolExecutor(max_workers=min(workers, len(models))) as pool:
        return dict(zip(models, pool.map(lambda model: read_live_table(client, names[model], model), models)))


@dataclass(frozen=True)
class TableDifferences:
    """How a live table differs from the desired one, split by what fixing it costs."""

    key_schema: list[str]  # only a new table fixes these: Amplify replaces the table
    indexes_to_add: list[IndexSpec]
    indexes_to_remove: list[str]
    settings: list[str]  # stream, PITR, billing, deletion protection: updated in place

    @property
    def empty(self) -> bool:
        return not (self.key_schema or self.indexes_to_add or self.indexes_to_remove or self.settings)

    def describe(self) -> list[str]:
        return [
            *self.key_schema,
            *(f"index {index.name} missing" for index in self.indexes_to_add),
            *(f"index {name} not declared" for name in self.indexes_to_remove),
            *self.settings,
        ]


def table_differences(desired: TableSpec, live: TableSpec) -> TableDifferences:
    key_schema = []
    if (desired.hash_key, desired.range_key) != (live.hash_key, live.range_key):
        key_schema.append(f"key {live.key_schema_text()} should be {desired.key_schema_text()}")
    for attribute in desired.key_attributes:
        wanted, found = desired.attribute_types.get(attribute), live.attribute_types.get(attribute)
        if found is not None and wanted != found:
            key_schema.append(f"key attribute {attribute} is type {found}, should be {wanted}")
    live_indexes = {index.name: index for index in live.indexes}
    desired_indexes = {index.name: index for index in desired.indexes}
    to_add = [index for name, index in desired_indexes.items() if live_indexes.get(name) != index]
    to_remove = [name for name, index in live_indexes.items() if desired_indexes.get(name) != index]
    settings = []
    if desired.stream_view_type != live.stream_view_type:
        settings.append(f"stream {live.stream_view_type or 'off'} should be {desired.stream_view_type or 'off'}")
    if desired.point_in_time_recovery != live.point_in_time_recovery:
        settings.append(f"point-in-time recovery {_on(live.point_in_time_recovery)} should be {_on(desired.point_in_time_recovery)}")
    if desired.billing_mode != live.billing_mode:
        settings.append(f"billing {live.billing_mode} should be {desired.billing_mode}")
    if desired.deletion_protection != live.deletion_protection:
        settings.append(f"deletion protection {_on(live.deletion_protection)} should be {_on(desired.deletion_protection)}")
    return TableDifferences(key_schema=key_schema, indexes_to_add=to_add, indexes_to_remove=to_remove, settings=settings)


def _on(flag: bool) -> str:
    return "on" if flag else "off"
