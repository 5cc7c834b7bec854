"""Write a seed set to its table: only what differs, batched, never an item that is not seed data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from boto3.dynamodb.table import BatchWriter

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.seed_set import Key, SeedSet
from ampflow_dagster.isolation import EnvironmentGate

TIMESTAMPS = ("createdAt", "updatedAt")
MAX_UNPROCESSED_ROUNDS = 8
BACKOFF_SECONDS = 0.05


@dataclass(frozen=True)
class SeedResult:
    table: str
    written: int
    unchanged: int
    removed: int
    created: int
    updated: int


def apply_seed_set(dynamodb: Any, table: str, gate: EnvironmentGate, seed_set: SeedSet, *, now: datetime | None = None) -> SeedResult:
    """Make the environment's seed items in `table` exactly `seed_set`; leave every other item alone."""
    gate.table(table)
    stamp = _timestamp(now)
    key_attributes = seed_set.table_spec.key_attributes
    table_resource = dynamodb.Table(table)
    existing = {tuple(item[a] for a in key_attributes): item for item in _scan(table_resource)}
    conflicts = [key for key in seed_set.items if key in existing and not seed_set.owns(existing[key])]
    if conflicts:
        shown = ", ".join(str(key) for key in conflicts[:5])
        raise SeedError(
            f"{table} already holds item(s) with the keys of seed items that are not {seed_set.environment.name} seed data "
            f"(no '{seed_set.environment.prefix}' on '{seed_set.label_field}'): {shown}. Nothing was written.",
            "Give those seed items other keys, or remove the existing items if they are leftovers.",
        )
    puts, unchanged, created = [], 0, 0
    for key, item in seed_set.items.items():
        current = existing.get(key)
        if current is not None and _same(item, current):
            unchanged += 1
            continue
        stored = dict(item)
        stored.setdefault("createdAt", current.get("createdAt", stamp) if current else stamp)
        stored.setdefault("updatedAt", stamp)
        puts.append(stored)
        created += current is None
    deletes = [key for key, item in existing.items() if seed_set.owns(item) and key not in seed_set.items]
    for item in puts:
        gate.item(table, item, seed_set.label_field)
    for key in deletes:
        gate.item(table, existing[key], seed_set.label_field)
    _batch_write(table_resource, key_attributes, puts, deletes)
    return SeedResult(
        table=table, written=len(puts), unchanged=unchanged, removed=len(deletes), created=created, updated=len(puts) - created
    )


def _same(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Equal apart from timestamps the seed does not set."""
    ignore = {name for name in TIMESTAMPS if name not in wanted}
    return {k: v for k, v in current.items() if k not in ignore} == wanted


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class BoundedBatchWriter(BatchWriter):
    """boto3's batch writer, backing off between rounds that DynamoDB leaves unprocessed, and giving up after a bound.

    boto3 resends unprocessed items at once and forever; botocore's retry mode already
    backs off on throttling errors, this does the same for UnprocessedItems.
    """

    def __init__(self, table: Any, key_attributes: tuple[str, ...]) -> None:
        super().__init__(table.name, table.meta.client, overwrite_by_pkeys=list(key_attributes))
        self._stalled_rounds = 0

    def _flush(self) -> None:
        waiting = len(self._items_buffer) - min(len(self._items_buffer), self._flush_amount)
        super()._flush()
        unprocessed = len(self._items_buffer) - waiting
        if unprocessed <= 0:
            self._stalled_rounds = 0
            return
        self._stalled_rounds += 1
        if self._stalled_rounds > MAX_UNPROCESSED_ROUNDS:
            raise SeedError(
                f"DynamoDB left {unprocessed} write(s) to {self._table_name} unprocessed {MAX_UNPROCESSED_ROUNDS} times "
                "in a row; the table is throttled.",
                "Seed again later (it writes only what is still missing), or raise the table's capacity.",
            )
        time.sleep(min(BACKOFF_SECONDS * 2 ** (self._stalled_rounds - 1), 2.0))


def _batch_write(table: Any, key_attributes: tuple[str, ...], puts: list[dict[str, Any]], deletes: list[Key]) -> None:
    """Batches of 25 requests; throttling retried by botocore, unprocessed items with backoff, both bounded."""
    with BoundedBatchWriter(table, key_attributes) as batch:
        for item in puts:
            batch.put_item(Item=item)
        for key in deletes:
            batch.delete_item(Key=dict(zip(key_attributes, key)))


def _timestamp(now: datetime | None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
