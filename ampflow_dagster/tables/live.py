"""Read a live DynamoDB table into the same shape as a synthesized one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ampflow_dagster.aws_errors import row_for
from ampflow_dagster.errors import AwsError

from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec


@dataclass(frozen=True)
class LiveTable:
    name: str
    status: str
    item_count: int
    spec: TableSpec


def read_live_table(client: Any, name: str, model: str) -> LiveTable | None:
    """The table as DynamoDB describes it, or None if DynamoDB says it does not exist (any other failure is raised)."""
    try:
        table = client.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    try:
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
    except ClientError as error:
        if row_for(error).error is AwsError:  # denied or refused credentials: not "PITR off"
            raise
        pitr = False  # an endpoint without continuous backups (DynamoDB Local) has no PITR to read
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
    spec = TableSpec(
        model=model,
        hash_key=next(n for n, k in keys.items() if k == "HASH"),
        range_key=next((n for n, k in keys.items() if k == "RANGE"), None),
        attribute_types={d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])},
        indexes=tuple(sorted(indexes, key=lambda index: index.name)),
        stream_view_type=stream_view_type(table),
        billing_mode=billing_mode(table),
        point_in_time_recovery=pitr,
        deletion_protection=deletion_protection(table),
        replace_table_upon_gsi_update=False,
    )
    return LiveTable(name=name, status=table.get("TableStatus", "UNKNOWN"), item_count=int(table.get("ItemCount", 0)), spec=spec)


def stream_view_type(table: dict[str, Any]) -> str | None:
    """The view type of a described table's stream; None when the stream is off."""
    stream = table.get("StreamSpecification") or {}
    return stream.get("StreamViewType") if stream.get("StreamEnabled") else None


def billing_mode(table: dict[str, Any]) -> str:
    """A described table's billing mode: BillingModeSummary's when it names one, else read from its capacity.

    DynamoDB leaves BillingModeSummary out for a table that was always PROVISIONED (it always
    has read capacity, at least 1). moto 5.2.5 names the mode of every table it creates, but
    describes a table restored from a backup with an empty summary: one restored from an
    on-demand table has no capacity, and a table without capacity cannot be PROVISIONED.
    """
    named = (table.get("BillingModeSummary") or {}).get("BillingMode")
    if named:
        return named
    return "PROVISIONED" if (table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits") else "PAY_PER_REQUEST"


def deletion_protection(table: dict[str, Any]) -> bool:
    return bool(table.get("DeletionProtectionEnabled", False))


def is_active(table: dict[str, Any]) -> bool:
    """Whether a described table and every one of its indexes are ACTIVE (ready for the next update)."""
    indexes = table.get("GlobalSecondaryIndexes", [])
    return table.get("TableStatus") == "ACTIVE" and all(index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes)


DESCRIBE_WORKERS = 16  # DescribeTable waits on the network, not the CPU: describe many tables at once


def read_live_tables(client: Any, names: dict[str, str], workers: int = DESCRIBE_WORKERS) -> dict[str, LiveTable | None]:
    """{model: its live table or None} for {model: table name}, described `workers` at a time."""
    models = sorted(names)
    if workers <= 1 or len(models) <= 1:
        return {model: read_live_table(client, names[model], model) for model in models}
    with ThreadPoolExecutor(max_workers=min(workers, len(models))) as pool:
        return dict(zip(models, pool.map(lambda model: read_live_table(client, names[model], model), models)))
