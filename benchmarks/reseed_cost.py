"""An unchanged reseed costs what the seed set costs, not what the table holds.

One table, measured twice in one run: holding only the seed items, then also holding the
app's own items (the production case). ampflow reads the seed keys named by its record of
what it wrote. Without a record it scans the table for the prefix, as every reseed did
before; that is not timed here: moto restarts each Scan page from the table's first item,
so scanning 200,000 items takes many minutes on the emulator (30,000 took 22 s).
"""

from __future__ import annotations

from typing import Any

from ampflow_dagster.seeding.ledger import SeedLedger
from ampflow_dagster.seeding.seed_set import with_composite_keys
from ampflow_dagster.seeding.writer import ConcurrentBatchWriter, SeedResult

from benchmarks.common import (
    Ratio,
    Result,
    SeedingApp,
    dynamodb_resource,
    emulator,
    median_time,
    seconds,
    seeding_app,
    temporary_directory,
    timed,
    write_inventory,
)
from benchmarks.seeding import MODEL, fresh_table, seed


def run(size: dict[str, int]) -> list[Result]:
    seeds, app_items = size["reseed_seed_items"], size["reseed_app_items"]
    result = Result(
        "reseed_cost", f"Unchanged reseed of {seeds:,} {MODEL} seed items: alone in the table, then beside {app_items:,} app items"
    )
    print(f"\n{result.title}", flush=True)
    with temporary_directory("reseed-cost") as directory, emulator(directory) as endpoint:
        app = seeding_app(directory / "app", endpoint)
        write_inventory(app.project.seed_dir / "development" / f"{MODEL}.jsonl", seeds)
        resource = dynamodb_resource(endpoint)
        table = fresh_table(app, resource, app.target.table_name(MODEL))
        first: SeedResult = seed(app, resource, table.name)
        assert first.written == seeds and first.ledger is not None, first
        record = first.ledger

        alone, outcome = reseed_time(app, resource, table.name, record, size["repeats"])
        result.figure("seed items only: unchanged reseed", f"{seconds(alone)}, {outcome.items_read:,} items read")

        loaded, _ = timed(lambda: write_app_items(app, table, app_items))
        result.figure(f"{app_items:,} app items written beside them (setup)", seconds(loaded))
        beside, outcome = reseed_time(app, resource, table.name, record, size["repeats"])
        assert outcome.written == 0 and outcome.unchanged == seeds, outcome
        result.figure(f"with {app_items:,} app items: unchanged reseed", f"{seconds(beside)}, {outcome.items_read:,} items read")
        read = outcome.items_read
    result.ratio(Ratio("items read / seed items, beside the app's items", read / seeds, 1.1, at_least=False))
    result.ratio(Ratio("reseed beside the app's items / reseed alone", beside / alone, 1.5, at_least=False))
    return [result]


def reseed_time(app: SeedingApp, resource: Any, table: str, record: SeedLedger, repeats: int) -> tuple[float, SeedResult]:
    outcomes: list[SeedResult] = []
    elapsed = median_time(lambda: outcomes.append(seed(app, resource, table, record)), repeats)
    return elapsed, outcomes[-1]


def write_app_items(app: SeedingApp, table: Any, count: int) -> None:
    """Items the app wrote: other keys, no prefix, the shape of the model's own items."""
    spec = app.desired.tables[MODEL]
    with ConcurrentBatchWriter(table, spec.key_attributes, workers=8) as writer:
        for number in range(count):
            writer.put(with_composite_keys(spec, {
                "warehouseId": f"APP-{number % 50:02d}", "sku": f"APP-SKU-{number:07d}", "batch": "B0",
                "name": f"App item {number}", "quantity": number % 100, "__typename": MODEL,
                "createdAt": "2026-11-01T08:00:00.000Z", "updatedAt": "2026-11-01T08:00:00.000Z",
            }))
