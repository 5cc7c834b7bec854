"""Count what a table holds of an environment's seed set, read back from the table itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ampflow_dagster.seeding.seed_set import SeedSet, key_hash
from ampflow_dagster.isolation import EnvironmentGate
from ampflow_dagster.seeding.writer import SeedResult, apply_seed_set


@dataclass(frozen=True)
class SeedCount:
    table: str
    expected: int  # items in the seed set
    found: int  # the environment's seed items in the table (their label carries its prefix)
    present: int  # of those, items with the key of a seed item

    @property
    def missing(self) -> int:
        return self.expected - self.present

    @property
    def unexpected(self) -> int:
        return self.found - self.present

    @property
    def matches(self) -> bool:
        return self.found == self.expected == self.present


def count_seed_items(dynamodb: Any, table: str, seed_set: SeedSet) -> SeedCount:
    """How many of the environment's seed items `table` holds, and how many of them carry a seed key.

    Reads only the key attributes and the label, with a consistent scan: the count is
    what a reader of the table would find right after seeding, not what the writer sent.
    """
    attributes = [*seed_set.table_spec.key_attributes, seed_set.label_field]
    names = {f"#a{position}": name for position, name in enumerate(dict.fromkeys(attributes))}
    arguments: dict[str, Any] = {
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "ConsistentRead": True,
    }
    found = present = 0
    while True:
        page = dynamodb.Table(table).scan(**arguments)
        for item in page.get("Items", []):
            if not seed_set.owns(item):
                continue
            found += 1
            present += key_hash(seed_set.key_of(item)) in seed_set.key_hashes
        if "LastEvaluatedKey" not in page:
            return SeedCount(table=table, expected=seed_set.count, found=found, present=present)
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def seed_and_count(
    dynamodb: Any, table: str, gate: EnvironmentGate, seed_set: SeedSet, now: datetime | None = None
) -> tuple[SeedResult, SeedCount]:
    """Apply the seed set, then count what the table holds of it.

    When the pass wrote and removed nothing, the writer's own consistent scan already read
    the final state, so the count is taken from it; otherwise the table is read back.
    """
    result = apply_seed_set(dynamodb, table, gate, seed_set, now=now)
    if result.written or result.removed:
        return result, count_seed_items(dynamodb, table, seed_set)
    return result, SeedCount(table, expected=seed_set.count, found=result.unchanged, present=result.unchanged)
