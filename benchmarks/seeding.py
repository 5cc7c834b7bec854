"""Seeding throughput, with and without 20 ms of latency, and a reseed that has nothing to write."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ampflow_dagster.environments import load_config
from ampflow_dagster.seeding.ledger import SeedLedger
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.seeding.writer import apply_seed_set
from ampflow_dagster.targets.dynamodb_tables import create_table, delete_table

from benchmarks.common import (
    Ratio,
    Result,
    SeedingApp,
    dynamodb_resource,
    emulator,
    latency_proxy,
    seconds,
    seeding_app,
    temporary_directory,
    timed,
    write_inventory,
)

MODEL = "InventoryItem"
LATENCY_MS = 20
NAIVE_SAMPLE_WITH_LATENCY = 400
STAMP = datetime(2026, 11, 24, tzinfo=timezone.utc)


def run(size: dict[str, int]) -> list[Result]:
    count = size["items"]
    with temporary_directory("seeding") as directory, emulator(directory) as endpoint:
        app = seeding_app(directory / "app", endpoint)
        write_inventory(app.project.seed_dir / "development" / f"{MODEL}.jsonl", count)
        return [throughput(app, endpoint, count), with_latency(app, endpoint, count)]


def throughput(app: SeedingApp, endpoint: str, count: int) -> Result:
    result = Result("seeding", f"Seeding {count:,} {MODEL} items (composite key, a GSI) into the emulator")
    print(f"\n{result.title}", flush=True)
    items = stored_items(app)
    resource = dynamodb_resource(endpoint)

    naive_table = fresh_table(app, resource, "bench-naive")
    naive, _ = timed(lambda: [naive_table.put_item(Item=item) for item in items])
    result.figure("naive loop, one PutItem per item", f"{seconds(naive)} ({count / naive:,.0f} items/s)")

    batch_table = fresh_table(app, resource, "bench-batch-writer")
    batch, _ = timed(lambda: batch_write(batch_table, items))
    result.figure("boto3 batch_writer", f"{seconds(batch)} ({count / batch:,.0f} items/s)")

    table = fresh_table(app, resource, app.target.table_name(MODEL))
    first, outcome = timed(lambda: seed(app, resource, table.name))
    assert outcome.written == count, outcome
    result.figure("ampflow (validation pass + diff + concurrent batches)", f"{seconds(first)} ({count / first:,.0f} items/s)")
    result.ratio(Ratio("ampflow vs naive loop", naive / first, 15))
    result.ratio(Ratio("ampflow vs batch_writer", batch / first, 1.0))

    again, outcome = timed(lambda: seed(app, resource, table.name, outcome.ledger))
    result.figure("reseed of the same items", f"{seconds(again)}, {outcome.written} written, {outcome.unchanged:,} unchanged")
    assert outcome.written == 0 and outcome.unchanged == count, outcome
    result.ratio(Ratio("reseed time / first seed time", again / first, 0.25, at_least=False))
    return result


def with_latency(app: SeedingApp, endpoint: str, count: int) -> Result:
    result = Result("seeding_latency", f"Seeding {count:,} items with {LATENCY_MS} ms of round-trip latency (loopback proxy)")
    print(f"\n{result.title}", flush=True)
    items = stored_items(app)
    with latency_proxy(endpoint, LATENCY_MS) as slow_endpoint:
        resource = dynamodb_resource(slow_endpoint)
        sample = items[:NAIVE_SAMPLE_WITH_LATENCY]  # the whole loop would take count × 20 ms
        naive_table = fresh_table(app, resource, "bench-naive-latency")
        naive, _ = timed(lambda: [naive_table.put_item(Item=item) for item in sample])
        naive_rate = len(sample) / naive
        result.figure(f"naive loop, first {len(sample):,} items", f"{seconds(naive)} ({naive_rate:,.0f} items/s)")
        batch_table = fresh_table(app, resource, "bench-batch-writer-latency")
        batch, _ = timed(lambda: batch_write(batch_table, items))
        result.figure("boto3 batch_writer", f"{seconds(batch)} ({count / batch:,.0f} items/s)")
        slow_app = seeding_app(app.project.root, slow_endpoint)
        table = fresh_table(slow_app, resource, slow_app.target.table_name(MODEL))
        ours, outcome = timed(lambda: seed(slow_app, resource, table.name))
        assert outcome.written == count, outcome
        result.figure("ampflow", f"{seconds(ours)} ({count / ours:,.0f} items/s)")
    result.ratio(Ratio("ampflow vs batch_writer, 20 ms away", batch / ours, 5))
    result.ratio(Ratio("ampflow vs naive loop, 20 ms away (rates)", (count / ours) / naive_rate, 15))
    return result


def seed(app: SeedingApp, resource: Any, table: str, record: SeedLedger | None = None) -> Any:
    """What a seeded asset does: validate every record, then write what differs (`record`: what the last pass wrote)."""
    seed_set = load_seed_set(app.project, load_config(app.project), app.environment, MODEL, app.desired)
    return apply_seed_set(resource, table, app.target.gate(), seed_set, ledger=record, now=STAMP)


def stored_items(app: SeedingApp) -> list[dict[str, Any]]:
    """The items exactly as ampflow stores them, for the baselines to write."""
    seed_set = load_seed_set(app.project, load_config(app.project), app.environment, MODEL, app.desired)
    stamp = "2026-11-24T00:00:00.000Z"
    return [{**item, "createdAt": stamp, "updatedAt": stamp} for item in seed_set.items()]


def batch_write(table: Any, items: list[dict[str, Any]]) -> None:
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)


def fresh_table(app: SeedingApp, resource: Any, name: str) -> Any:
    """An empty table shaped as amplify/ declares the model's."""
    client = resource.meta.client
    if name in client.list_tables()["TableNames"]:
        delete_table(client, name)
    create_table(client, name, app.desired.tables[MODEL], tags={})
    return resource.Table(name)
