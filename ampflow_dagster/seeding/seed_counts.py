"""How many of an environment's seed items its table holds once the seeding pass is done, read back.

A pass that wrote or deleted nothing already read every seed key and found each in place:
that read is the count. Otherwise the seed keys (and the keys the pass deleted) are read
again with consistent BatchGetItems after the writes were acknowledged, so a write that
DynamoDB acknowledged and did not keep, or an item deleted in between, shows as missing.
The read costs the seed set, not the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.writer import SeedResult, content_digest, read_keys


@dataclass(frozen=True)
class SeedCount:
    table: str
    expected: int  # items in the seed set
    found_before: int  # the environment's seed items the pass found before writing
    missing_before: int  # seed items the pass did not find: created by the pass
    stale_before: int  # the environment's items the seed set no longer has: deleted by the pass
    held_after: int  # seed items the table holds after the pass, as written (read back)
    stale_after: int = 0  # deleted items the table still holds after the pass (read back)
    read_back: bool = True  # False: the pass changed nothing, and its own read of every seed key is the count

    @property
    def matches(self) -> bool:
        return self.held_after == self.expected and self.stale_after == 0


def seed_count(dynamodb: Any, table: str, seed_set: SeedSet, result: SeedResult) -> SeedCount:
    """What `table` holds of `seed_set` after the pass that gave `result`."""
    present = result.unchanged + result.updated  # seed keys the pass found, as they were or restored
    before = dict(table=table, expected=seed_set.count, found_before=present + result.removed,
                  missing_before=result.created, stale_before=result.removed)
    if result.written == 0 and result.removed == 0:
        return SeedCount(**before, held_after=result.unchanged, read_back=False)
    assert result.ledger is not None, "a seeding pass records what it left"
    spec = seed_set.table_spec
    recorded = ((key, digest) for _, key, digest in result.ledger.entries())
    held = sum(
        1 for (_, digest), found in read_keys(dynamodb, table, spec.key_attributes, recorded)
        if found is not None and content_digest(found, spec) == digest
    )
    removed = ((key, None) for key in result.removed_keys)
    stale = sum(1 for _, found in read_keys(dynamodb, table, spec.key_attributes, removed) if found is not None)
    return SeedCount(**before, held_after=held, stale_after=stale)
