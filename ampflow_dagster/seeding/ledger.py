"""ampflow's record of the items it wrote to one environment's table for one model: their keys and content digests.

Ownership follows this record, not the prefix: a changed label field or prefix relabels
ampflow's own items on the next seed, `clean` removes exactly them, a model with no field
safe to carry a prefix is still seeded and cleaned, and a reseed reads these keys instead
of the whole table. Seed sets reach a million items, so the record is kept as flat bytes
(about 60 bytes a key), never as a Python object per key.
"""

from __future__ import annotations

import bisect
import json
from array import array
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator

from ampflow_dagster.seeding.keys import Key

DIGEST_BYTES = 16


@dataclass
class SeedLedger:
    """The keys ampflow wrote (or found already right) in `table` for `model` in `environment`, in write order."""

    environment: str
    model: str
    table: str
    key_attributes: tuple[str, ...]
    label_field: str | None  # the field that carried `prefix` when these items were written, if any
    prefix: str
    key_lines: bytes = b""  # one encoded key per line
    hashes: array = field(default_factory=lambda: array("Q"))
    digests: bytes = b""  # DIGEST_BYTES per key: the content ampflow wrote, apart from timestamps
    _sorted: array | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.hashes)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_sorted"] = None  # rebuilt on demand, never stored
        return state

    def usable_for(self, environment: str, table: str, key_attributes: tuple[str, ...]) -> bool:
        """Whether this record describes `table` as it is keyed now (a record of another table or key is not)."""
        return (self.environment, self.table, tuple(self.key_attributes)) == (environment, table, tuple(key_attributes))

    def holds(self, hashed: int) -> bool:
        if self._sorted is None:
            self._sorted = array("Q", sorted(self.hashes))
        position = bisect.bisect_left(self._sorted, hashed)
        return position < len(self._sorted) and self._sorted[position] == hashed

    def entries(self) -> Iterator[tuple[int, Key, int]]:
        """(key hash, key, content digest) of every recorded item."""
        lines = self.key_lines.split(b"\n") if self.key_lines else []
        for position, line in enumerate(lines):
            digest = self.digests[position * DIGEST_BYTES : (position + 1) * DIGEST_BYTES]
            yield self.hashes[position], decode_key(line), int.from_bytes(digest, "little")

    def summary(self) -> str:
        label = f"'{self.prefix}' on {self.label_field}" if self.label_field else "no prefix (no field is safe to carry one)"
        return f"{len(self)} item(s) of {self.model} in {self.table}, written with {label}"


class LedgerBuilder:
    """Collects the items a seeding pass leaves in the table as ampflow's, then makes the new record."""

    def __init__(self, environment: str, model: str, table: str, key_attributes: tuple[str, ...], label_field: str | None, prefix: str) -> None:
        self._header = (environment, model, table, tuple(key_attributes), label_field, prefix)
        self._lines = bytearray()
        self._hashes = array("Q")
        self._digests = bytearray()

    def add(self, hashed: int, key: Key, digest: int) -> None:
        if self._hashes:
            self._lines += b"\n"
        self._lines += encode_key(key)
        self._hashes.append(hashed)
        self._digests += digest.to_bytes(DIGEST_BYTES, "little")

    def build(self) -> SeedLedger:
        environment, model, table, key_attributes, label_field, prefix = self._header
        return SeedLedger(
            environment, model, table, key_attributes, label_field, prefix,
            key_lines=bytes(self._lines), hashes=self._hashes, digests=bytes(self._digests),
        )


def encode_key(key: Key) -> bytes:
    """A key as one line of JSON; numbers and binary values keep their DynamoDB type."""
    parts = []
    for value in key:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            parts.append({"N": str(Decimal(value).normalize() if not isinstance(value, int) else value)})
        else:
            parts.append({"B": bytes(getattr(value, "value", value)).hex()})
    return json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode()


def decode_key(line: bytes) -> Key:
    parts = []
    for part in json.loads(line):
        if isinstance(part, str):
            parts.append(part)
        elif "N" in part:
            parts.append(Decimal(part["N"]))
        else:
            parts.append(bytes.fromhex(part["B"]))
    return tuple(parts)
