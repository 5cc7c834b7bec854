"""How many of an environment's seed items its table holds, as the seeding pass found and left it.

The pass reads the whole table with a consistent scan before it writes, so the count costs
no second scan: what the scan found, plus the writes and deletes DynamoDB acknowledged.
Every later pass (a reseed, the sensor, the reconciliation schedule) reads the table again
and reports what changed in between.
"""

from __future__ import annotations

from dataclasses import dataclass

from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.writer import SeedResult


@dataclass(frozen=True)
class SeedCount:
    table: str
    expected: int  # items in the seed set
    found_before: int  # the environment's seed items (label carries its prefix) the scan found
    missing_before: int  # seed items the scan did not find: created by the pass
    stale_before: int  # the environment's items the seed set no longer has: deleted by the pass
    held_after: int  # the environment's seed items once the pass's writes and deletes were acknowledged

    @property
    def matches(self) -> bool:
        return self.held_after == self.expected


def seed_count(table: str, seed_set: SeedSet, result: SeedResult) -> SeedCount:
    present = result.unchanged + result.updated  # seed keys the scan found, as they were or restored
    return SeedCount(
        table=table,
        expected=seed_set.count,
        found_before=present + result.removed,
        missing_before=result.created,
        stale_before=result.removed,
        held_after=present + result.created,
    )
