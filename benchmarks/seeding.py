"""Seeding throughput, with and without 20 ms of latency, and a reseed that has nothing to write.

Every way of writing the items is measured in one run against one emulator, then judged in
`judge` as ratios: one line per ratio, so a new measurement is a new field and a new line.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ampflow_dagster.environments import load_config
from ampflow_dagster.seeding.ledger import SeedLedger
from ampflow_dagster.seeding.seed_counts import seed_count
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.seeding.writer import apply_seed_set
from ampflow_dagster.tables.dynamodb import create_table, delete_table

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
# Ratios that the emulator bounds, not ampflow, on a machine where moto shares the cores (benchmarks/NOTES.md).
NAIVE_LOOPBACK_BOUND = (
    "bounded by the emulator's CPU: moto spends 0.4–0.5 ms per stored item on the cores ampflow uses, so no "
    "client gets much past 10× a PutItem loop on loopback (formerly a target of ≥ 15×)"
)
READ_BACK_COST = (
    "what the seed_count check costs after a pass that wrote: one consistent BatchGetItem of every seed key; the "
    "emulator's reads cost more than its writes, on DynamoDB it is one request per 100 items"
)
BATCH_WRITER_FAR_BOUND = (
    f"bounded by the emulator's CPU: ampflow's time {LATENCY_MS} ms away is moto's CPU time, so this is batch_writer's "
    f"{LATENCY_MS} ms per batch over moto's CPU per batch, about 3× here; the latency-hidden target measures ampflow "
    "itself (formerly a target of ≥ 5×)"
)


@dataclass
class SeedingTimes:
    """Seconds each way of writing the same items took, all measured in one run against one emulator."""

    count: int
    naive: float = 0.0  # one PutItem per item, loopback
    batch_writer: float = 0.0
    ampflow: float = 0.0  # the whole seeded step: validation pass, table read, writes
    reseed: float = 0.0  # the same step again, nothing to write
    read_back: float = 0.0  # seed_count's read-back of every seed key after the first seed
    naive_rate_far: float = 0.0  # items/s of the naive loop 20 ms away, on a sample
    batch_writer_far: float = 0.0
    ampflow_far: float = 0.0  # median of `repeats` seeds through the proxy with LATENCY_MS
    ampflow_proxied: float = 0.0  # median of `repeats` seeds through the same proxy with no delay: the baseline
    repeats: int = 1


def run(size: dict[str, int]) -> list[Result]:
    count = size["items"]
    loopback = Result("seeding", f"Seeding {count:,} {MODEL} items (composite key, a GSI) into the emulator")
    far = Result("seeding_latency", f"Seeding {count:,} items with {LATENCY_MS} ms of round-trip latency (loopback proxy)")
    times = SeedingTimes(count, repeats=max(3, size["repeats"]))
    with temporary_directory("seeding") as directory, emulator(directory) as endpoint:
        app = seeding_app(directory / "app", endpoint)
        write_inventory(app.project.seed_dir / "development" / f"{MODEL}.jsonl", count)
        measure_loopback(app, endpoint, loopback, times)
        measure_far(app, endpoint, far, times)
    print("\nSeeding ratios", flush=True)
    judge(times, loopback, far)
    return [loopback, far]


def judge(times: SeedingTimes, loopback: Result, far: Result) -> None:
    """Every seeding ratio, one line each: the targets, and what is reported beside them."""
    t = times
    loopback.ratio(Ratio("ampflow vs batch_writer, loopback", t.batch_writer / t.ampflow, 1.2))
    loopback.ratio(Ratio("reseed time / first seed time", t.reseed / t.ampflow, 0.25, at_least=False))
    loopback.ratio(Ratio("ampflow vs naive loop, loopback", t.naive / t.ampflow, informational=NAIVE_LOOPBACK_BOUND))
    loopback.ratio(Ratio("first seed with seed_count's read-back / first seed", (t.ampflow + t.read_back) / t.ampflow,
                         informational=READ_BACK_COST))
    far.ratio(Ratio(f"ampflow {LATENCY_MS} ms away / ampflow through the same proxy with no delay (latency hidden)",
                    t.ampflow_far / t.ampflow_proxied, 1.1, at_least=False))
    far.ratio(Ratio(f"batch_writer {LATENCY_MS} ms away / batch_writer on loopback", t.batch_writer_far / t.batch_writer))
    far.ratio(Ratio(f"ampflow vs naive loop, {LATENCY_MS} ms away (rates)", (t.count / t.ampflow_far) / t.naive_rate_far, 15))
    far.ratio(Ratio(f"ampflow vs batch_writer, {LATENCY_MS} ms away", t.batch_writer_far / t.ampflow_far, informational=BATCH_WRITER_FAR_BOUND))


def measure_loopback(app: SeedingApp, endpoint: str, result: Result, times: SeedingTimes) -> None:
    print(f"\n{result.title}", flush=True)
    count, items = times.count, stored_items(app)
    resource = dynamodb_resource(endpoint)

    naive_table = fresh_table(app, resource, "bench-naive")
    times.naive, _ = timed(lambda: [naive_table.put_item(Item=item) for item in items])
    result.figure("naive loop, one PutItem per item", f"{seconds(times.naive)} ({count / times.naive:,.0f} items/s)")

    batch_table = fresh_table(app, resource, "bench-batch-writer")
    times.batch_writer, _ = timed(lambda: batch_write(batch_table, items))
    result.figure("boto3 batch_writer", f"{seconds(times.batch_writer)} ({count / times.batch_writer:,.0f} items/s)")

    table = fresh_table(app, resource, app.target.table_name(MODEL))
    times.ampflow, outcome = timed(lambda: seed(app, resource, table.name))
    assert outcome.written == count, outcome
    result.figure("ampflow (validation pass + diff + concurrent batches)", f"{seconds(times.ampflow)} ({count / times.ampflow:,.0f} items/s)")
    seed_set = load_seed_set(app.project, load_config(app.project), app.environment, MODEL, app.desired)
    times.read_back, held = timed(lambda: seed_count(resource, table.name, seed_set, outcome))
    assert held.matches and held.held_after == count, held
    result.figure("seed_count's read-back after it", f"{seconds(times.read_back)} ({count / times.read_back:,.0f} items/s)")

    times.reseed, outcome = timed(lambda: seed(app, resource, table.name, outcome.ledger))
    assert outcome.written == 0 and outcome.unchanged == count, outcome
    result.figure("reseed of the same items", f"{seconds(times.reseed)}, {outcome.written} written, {outcome.unchanged:,} unchanged")


def measure_far(app: SeedingApp, endpoint: str, result: Result, times: SeedingTimes) -> None:
    print(f"\n{result.title}", flush=True)
    count, items = times.count, stored_items(app)
    with latency_proxy(endpoint, LATENCY_MS) as slow_endpoint:
        resource = dynamodb_resource(slow_endpoint)
        sample = items[:NAIVE_SAMPLE_WITH_LATENCY]  # the whole loop would take count × 20 ms
        naive_table = fresh_table(app, resource, "bench-naive-latency")
        naive, _ = timed(lambda: [naive_table.put_item(Item=item) for item in sample])
        times.naive_rate_far = len(sample) / naive
        result.figure(f"naive loop, first {len(sample):,} items", f"{seconds(naive)} ({times.naive_rate_far:,.0f} items/s)")
        batch_table = fresh_table(app, resource, "bench-batch-writer-latency")
        times.batch_writer_far, _ = timed(lambda: batch_write(batch_table, items))
        result.figure("boto3 batch_writer", f"{seconds(times.batch_writer_far)} ({count / times.batch_writer_far:,.0f} items/s)")
    # The latency-hidden target compares ampflow with itself through the same proxy process, with and
    # without the delay, so the proxy's own CPU (on the cores ampflow and moto use) is on both sides.
    times.ampflow_proxied = seed_through_proxy(app, endpoint, 0, times)
    result.figure(f"ampflow through the proxy, no delay (median of {times.repeats})",
                  f"{seconds(times.ampflow_proxied)} ({count / times.ampflow_proxied:,.0f} items/s)")
    times.ampflow_far = seed_through_proxy(app, endpoint, LATENCY_MS, times)
    result.figure(f"ampflow, {LATENCY_MS} ms away (median of {times.repeats})",
                  f"{seconds(times.ampflow_far)} ({count / times.ampflow_far:,.0f} items/s)")


def seed_through_proxy(app: SeedingApp, endpoint: str, delay_ms: float, times: SeedingTimes) -> float:
    """The median time of `times.repeats` first seeds of a fresh table, through a proxy adding `delay_ms`."""
    samples = []
    with latency_proxy(endpoint, delay_ms) as proxied:
        resource = dynamodb_resource(proxied)
        proxied_app = seeding_app(app.project.root, proxied)
        for _ in range(times.repeats):
            table = fresh_table(proxied_app, resource, proxied_app.target.table_name(MODEL))
            elapsed, outcome = timed(lambda: seed(proxied_app, resource, table.name))
            assert outcome.written == times.count, outcome
            samples.append(elapsed)
    return statistics.median(samples)


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
