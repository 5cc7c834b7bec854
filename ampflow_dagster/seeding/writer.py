"""Write a seed set to its table: only what differs, batched and concurrent, never an item that is not ampflow's.

Which items are ampflow's comes from its record of what it wrote (see ledger): a reseed,
the reconciliation and `clean` read the seed keys and the recorded keys with BatchGetItem,
so their cost follows the seed set, not the table, which in production holds the app's
own data. Without a record (a new machine), the environment's prefix identifies its items
in one parallel segmented scan.

Memory stays bounded whatever the size of the seed files: what is read is reduced to one
hash per seed item found, the seed items are streamed from their files, and the writers
take them from a bounded queue.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator

from boto3.dynamodb.table import BatchWriter

from ampflow_dagster.errors import SeedError
from ampflow_dagster.isolation import EnvironmentGate, carries_prefix, unlabeled
from ampflow_dagster.seeding.ledger import LedgerBuilder, SeedLedger
from ampflow_dagster.seeding.seed_set import Key, SeedSet, composite_attributes, key_hash, with_composite_keys
from ampflow_dagster.synthesis.desired_state import TableSpec

TIMESTAMPS = ("createdAt", "updatedAt")
MAX_UNPROCESSED_ROUNDS = 8
BACKOFF_SECONDS = 0.05
# Batches in flight at once: with 20 ms to a region, one writer waits far more than it works.
WRITE_WORKERS = 16
READ_WORKERS = 16
SCAN_SEGMENTS = 8
BATCH_GET_LIMIT = 100
READ_BY_KEYS = "seed keys (BatchGetItem)"
READ_BY_SCAN = "table scan for the prefix (no record of what ampflow wrote)"


@dataclass(frozen=True)
class SeedResult:
    table: str
    written: int
    unchanged: int
    removed: int
    created: int
    updated: int
    items_read: int = 0  # items DynamoDB returned to find what differs
    read_by: str = READ_BY_KEYS
    left_alone: int = 0  # recorded items that changed hands since ampflow wrote them: no longer ampflow's
    ledger: SeedLedger | None = field(default=None, compare=False, repr=False)
    removed_keys: tuple[Key, ...] = field(default=(), compare=False, repr=False)  # the stale items the pass deleted


@dataclass
class _TableState:
    """What the table holds, reduced to what seeding needs."""

    digests: dict[int, int]  # key hash -> content digest, for ampflow's items of this environment at a seed key
    conflicts: list[Key]  # seed keys held by items that are not ampflow's
    stale: list[Key]  # ampflow's items of this environment that the seed set no longer has
    conflict_digests: dict[int, int] = field(default_factory=dict)  # key hash -> content of an unlabeled item at a seed key
    read: int = 0
    left_alone: int = 0
    differing: int | None = None  # seed items the table lacks or holds otherwise (known when the seed keys were read)
    record: LedgerBuilder | None = None  # the seed set as found in place, when the seed keys were read


def apply_seed_set(
    dynamodb: Any, table: str, gate: EnvironmentGate, seed_set: SeedSet, *, ledger: SeedLedger | None = None,
    now: datetime | None = None, workers: int = WRITE_WORKERS,
) -> SeedResult:
    """Make the environment's seed items in `table` exactly `seed_set`; leave every other item alone.

    `ledger` is the record of the last pass; the result carries the new one.
    """
    gate.table(table)
    stamp = _timestamp(now)
    table_resource = dynamodb.Table(table)
    spec = seed_set.table_spec
    environment = seed_set.environment
    if ledger is not None and not ledger.usable_for(environment.name, table, spec.key_attributes):
        ledger = None
    by_keys = ledger is not None or seed_set.label_field is None  # without a prefix, a scan tells nothing more
    if by_keys:
        state = _read_recorded(dynamodb, table, gate, seed_set, ledger)
    else:
        state = _scan_for_prefix(dynamodb, table, gate, seed_set)
    if state.conflicts:
        _refuse_conflicts(table, seed_set, state)
    if state.differing == 0 and not state.stale and state.record is not None:
        # Every seed item is in place: the read was the whole pass (no second read of the seed files).
        return SeedResult(
            table=table, written=0, unchanged=seed_set.count, removed=0, created=0, updated=0, items_read=state.read,
            read_by=READ_BY_KEYS, left_alone=state.left_alone, ledger=state.record.build(),
        )
    created = updated = unchanged = 0
    record = _new_record(seed_set, table)
    with ConcurrentBatchWriter(table_resource, seed_set.table_spec.key_attributes, workers) as writer:

        def put(item: dict[str, Any], current: dict[str, Any] | None) -> None:
            writer.put(gate.item(table, stored_item(spec, item, current, stamp), seed_set.label_field))

        def compare(pending: list[tuple[dict[str, Any], int]]) -> None:
            """Items whose key the table holds with other content: fetch them and compare exactly."""
            nonlocal created, updated, unchanged
            if not pending:
                return
            current = _fetch(dynamodb, table, seed_set.table_spec.key_attributes, [seed_set.key_of(item) for item, _ in pending])
            state.read += len(current)
            for item, _digest in pending:
                found = current.get(key_hash(seed_set.key_of(item)))
                if found is not None and found[0] == seed_set.key_of(item) and _same(spec, item, found[1]):
                    unchanged += 1
                    continue
                put(item, found[1] if found else None)
                created += found is None
                updated += found is not None
            pending.clear()

        pending: list[tuple[dict[str, Any], int]] = []
        for item in seed_set.items():
            key = seed_set.key_of(item)
            hashed = key_hash(key)
            digest = content_digest(item, spec)
            record.add(hashed, key, digest)
            found = state.digests.get(hashed)
            if found is None:
                put(item, None)
                created += 1
            elif found == digest and not any(name in item for name in TIMESTAMPS):
                unchanged += 1
            else:
                pending.append((item, digest))
                if len(pending) == BATCH_GET_LIMIT:
                    compare(pending)
        compare(pending)
        for key in state.stale:
            writer.delete(key)
    return SeedResult(
        table=table, written=created + updated, unchanged=unchanged, removed=len(state.stale), created=created,
        updated=updated, items_read=state.read, read_by=READ_BY_KEYS if by_keys else READ_BY_SCAN,
        left_alone=state.left_alone, ledger=record.build(), removed_keys=tuple(state.stale),
    )


def _read_recorded(dynamodb: Any, table: str, gate: EnvironmentGate, seed_set: SeedSet, ledger: SeedLedger | None) -> _TableState:
    """Read the seed keys and the recorded keys the seed set no longer has; every other item stays unread."""
    state = _TableState(digests={}, conflicts=[], stale=[], differing=0, record=_new_record(seed_set, table))
    spec = seed_set.table_spec
    wanted = (
        (seed_set.key_of(item), (content_digest(item, spec), any(name in item for name in TIMESTAMPS))) for item in seed_set.items()
    )
    for (key, (seed_digest, sets_timestamps)), found in read_keys(dynamodb, table, spec.key_attributes, wanted):
        hashed = key_hash(key)
        state.record.add(hashed, key, seed_digest)
        if found is None:
            state.differing += 1
            continue
        state.read += 1
        digest = content_digest(found, spec)
        if (ledger is not None and ledger.holds(hashed)) or seed_set.owns(found) or digest == seed_digest:
            state.digests[hashed] = digest  # ampflow's, or already exactly the seed item
            state.differing += digest != seed_digest or sets_timestamps  # timestamps given: compared exactly later
        else:
            state.conflicts.append(key)
    if ledger is None:
        return state
    dropped = ((key, digest) for hashed, key, digest in ledger.entries() if hashed not in seed_set.key_hashes)
    for (key, recorded), found in read_keys(dynamodb, table, spec.key_attributes, dropped):
        if found is None:
            continue
        state.read += 1
        if _still_ampflows(ledger, found, recorded, spec):
            gate.item(table, found, ledger.label_field, ledger.prefix)
            state.stale.append(key)
        else:
            state.left_alone += 1
    return state


def _new_record(seed_set: SeedSet, table: str) -> LedgerBuilder:
    spec, environment = seed_set.table_spec, seed_set.environment
    return LedgerBuilder(environment.name, seed_set.model, table, spec.key_attributes, seed_set.label_field, environment.prefix)


def _still_ampflows(ledger: SeedLedger, found: dict[str, Any], recorded: int, spec: TableSpec) -> bool:
    """A recorded item is still ampflow's while it carries the prefix it was written with, or (written without a
    label: no label field, or an empty optional one) while it holds the content ampflow wrote."""
    if ledger.label_field is not None and not unlabeled(found, ledger.label_field):
        return carries_prefix(found, ledger.label_field, ledger.prefix)
    return content_digest(found, spec) == recorded


def _scan_for_prefix(dynamodb: Any, table: str, gate: EnvironmentGate, seed_set: SeedSet) -> _TableState:
    """The fallback without a record: the environment's items are those carrying its prefix, found in one parallel scan."""
    state = _TableState(digests={}, conflicts=[], stale=[])
    for item in parallel_scan(dynamodb, table):
        state.read += 1
        key = seed_set.key_of(item)
        hashed = key_hash(key)
        owned = seed_set.owns(item)
        if hashed in seed_set.key_hashes:
            if owned:
                state.digests[hashed] = content_digest(item, seed_set.table_spec)
            else:
                state.conflicts.append(key)
                if seed_set.label_field is not None and unlabeled(item, seed_set.label_field):
                    state.conflict_digests[hashed] = content_digest(item, seed_set.table_spec)
        elif owned:
            gate.item(table, item, seed_set.label_field)
            state.stale.append(key)
    return state


def _refuse_conflicts(table: str, seed_set: SeedSet, state: _TableState) -> None:
    """Raise for the seed keys that items of others hold (confirmed on the keys, not only their hashes).

    An item without a label that already holds exactly the seed item's content is the seed item
    (written by an earlier pass whose record is not here): it is left as it is.
    """
    wanted = set(state.conflicts)
    conflicts = []
    for item in seed_set.items():
        key = seed_set.key_of(item)
        if key not in wanted:
            continue
        hashed = key_hash(key)
        if state.conflict_digests.get(hashed) == content_digest(item, seed_set.table_spec):
            state.digests[hashed] = state.conflict_digests[hashed]
        else:
            conflicts.append(key)
    if not conflicts:
        return  # hash collisions or the seed items themselves: nothing is held by anyone else
    shown = ", ".join(str(key) for key in conflicts[:5])
    marked = f" (no '{seed_set.environment.prefix}' on '{seed_set.label_field}')" if seed_set.label_field else ""
    raise SeedError(
        f"{table} already holds item(s) with the keys of seed items that ampflow did not write for "
        f"{seed_set.environment.name}{marked}: {shown}. Nothing was written.",
        "Give those seed items other keys, or remove the existing items if they are leftovers.",
    )


def stored_item(spec: TableSpec, item: dict[str, Any], current: dict[str, Any] | None, stamp: str) -> dict[str, Any]:
    """`item` as it is written: the timestamps it does not set (createdAt kept from the stored item), then the composite
    keys made of them, as Amplify's resolvers fill createdAt and updatedAt before they compute `a#createdAt`."""
    stored = dict(item)
    stored.setdefault("createdAt", current.get("createdAt", stamp) if current else stamp)
    stored.setdefault("updatedAt", stamp)
    return with_composite_keys(spec, stored)


def content_digest(item: dict[str, Any], spec: TableSpec | None = None) -> int:
    """128 bits of an item's content apart from its timestamps, equal for equal DynamoDB values.

    Composite keys made of a timestamp (`status#createdAt`) count only as right or wrong for the
    item's own timestamps: a stored item whose composite is missing or stale is rewritten.
    """
    derived = _timestamp_composites(spec)
    content = {name: _canonical(value) for name, value in item.items() if name not in TIMESTAMPS and name not in derived}
    if derived and spec is not None:
        expected = with_composite_keys(spec, dict(item))
        if any(item.get(name) != expected.get(name) for name in derived):
            content["\0stale"] = True
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")


def _canonical(value: Any) -> Any:
    """A JSON-able form in which values DynamoDB stores alike compare alike (5, 5.0, Decimal('5'))."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return {"N": str(Decimal(value).normalize())}
    if isinstance(value, dict):
        return {"M": {name: _canonical(element) for name, element in value.items()}}
    if isinstance(value, (set, frozenset)):
        return {"SET": sorted(json.dumps(_canonical(element), sort_keys=True) for element in value)}
    if isinstance(value, (list, tuple)):
        return [_canonical(element) for element in value]
    return {"B": bytes(getattr(value, "value", value)).hex()}


def _timestamp_composites(spec: TableSpec | None) -> set[str]:
    if spec is None:
        return set()
    return {name for name in composite_attributes(spec) if any(part in TIMESTAMPS for part in name.split("#"))}


def _same(spec: TableSpec, wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Equal apart from timestamps the seed does not set (the stored ones stand, with the composite keys made of them)."""
    expected = dict(wanted)
    for name in TIMESTAMPS:
        if name not in expected and name in current:
            expected[name] = current[name]
    return with_composite_keys(spec, expected) == current


def parallel_scan(dynamodb: Any, table: str, segments: int = SCAN_SEGMENTS) -> Iterator[dict[str, Any]]:
    """Every item of `table`, read as `segments` consistent segments side by side (DynamoDB splits the key space).

    The threads share the resource's client (clients are thread-safe, resources are not), which
    returns Python values. Pages pass through a bounded queue: memory holds a few pages, not the table.
    """
    client = dynamodb.meta.client
    pages: queue.Queue = queue.Queue(maxsize=segments * 2)
    stop = threading.Event()

    def segment(number: int) -> None:
        arguments = {"TableName": table, "ConsistentRead": True, "Segment": number, "TotalSegments": segments}
        try:
            while not stop.is_set():
                page = client.scan(**arguments)
                pages.put(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except BaseException as error:  # noqa: BLE001 - handed to the reader, which raises it
            pages.put(error)
        finally:
            pages.put(_DONE)

    threads = [threading.Thread(target=segment, args=(number,), daemon=True) for number in range(segments)]
    for thread in threads:
        thread.start()
    running = segments
    try:
        while running:
            page = pages.get()
            if page is _DONE:
                running -= 1
            elif isinstance(page, BaseException):
                raise page
            else:
                yield from page
    finally:
        stop.set()
        while any(thread.is_alive() for thread in threads):
            _drain(pages)
            time.sleep(0.01)


def read_keys(
    dynamodb: Any, table: str, attributes: tuple[str, ...], wanted: Iterable[tuple[Key, Any]]
) -> Iterator[tuple[tuple[Key, Any], dict[str, Any] | None]]:
    """For each (key, tag) of `wanted`: the table's item with that key, or None. BatchGetItems run side by side."""
    in_flight: list[tuple[list[tuple[Key, Any]], Future]] = []
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:

        def drain(limit: int) -> Iterator[tuple[tuple[Key, Any], dict[str, Any] | None]]:
            while len(in_flight) > limit:
                batch, future = in_flight.pop(0)
                found = future.result()
                for key, tag in batch:
                    hit = found.get(key_hash(key))
                    yield (key, tag), hit[1] if hit is not None and hit[0] == key else None

        batch: list[tuple[Key, Any]] = []
        for entry in wanted:
            batch.append(entry)
            if len(batch) == BATCH_GET_LIMIT:
                in_flight.append((batch, pool.submit(_fetch, dynamodb, table, attributes, [key for key, _ in batch])))
                batch = []
                yield from drain(READ_WORKERS * 2)
        if batch:
            in_flight.append((batch, pool.submit(_fetch, dynamodb, table, attributes, [key for key, _ in batch])))
        yield from drain(0)


def _fetch(dynamodb: Any, table: str, attributes: tuple[str, ...], keys: list[Key]) -> dict[int, tuple[Key, dict[str, Any]]]:
    """{key hash: (key, item)} of the table's current items with `keys` (at most 100)."""
    request = {table: {"Keys": [dict(zip(attributes, key)) for key in keys], "ConsistentRead": True}}
    found: dict[int, tuple[Key, dict[str, Any]]] = {}
    for round_number in range(MAX_UNPROCESSED_ROUNDS + 1):
        response = dynamodb.batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            key = tuple(item[attribute] for attribute in attributes)
            found[key_hash(key)] = (key, item)
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(min(BACKOFF_SECONDS * 2**round_number, 2.0))
    raise SeedError(
        f"DynamoDB left reads of {table} unprocessed {MAX_UNPROCESSED_ROUNDS} times in a row; the table is throttled.",
        "Seed again later (it writes only what is still missing), or raise the table's capacity.",
    )


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
                "Wait a minute, then seed the environment again (`ampflow seed <environment>` writes only what is still "
                f"missing), or raise the capacity of {self._table_name}.",
            )
        time.sleep(min(BACKOFF_SECONDS * 2 ** (self._stalled_rounds - 1), 2.0))


_DONE = object()


class ConcurrentBatchWriter:
    """`workers` bounded batch writers on their own threads, fed through a bounded queue.

    One batch writer sends one BatchWriteItem at a time and waits for it; several keep
    that many batches in flight. The queue holds a few batches per writer, so memory
    does not grow with the seed set. The first error stops every writer and is raised.
    """

    def __init__(self, table: Any, key_attributes: tuple[str, ...], workers: int) -> None:
        self._table, self._key_attributes = table, key_attributes
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, workers) * 50)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(max(1, workers))]

    def __enter__(self) -> ConcurrentBatchWriter:
        for thread in self._threads:
            thread.start()
        return self

    def put(self, item: dict[str, Any]) -> None:
        self._send(("put", item))

    def delete(self, key: Key) -> None:
        self._send(("delete", dict(zip(self._key_attributes, key))))

    def _send(self, request: tuple[str, dict[str, Any]]) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(request, timeout=0.5)
                return
            except queue.Full:
                continue

    def _work(self) -> None:
        try:
            with BoundedBatchWriter(self._table, self._key_attributes) as batch:
                while not self._stop.is_set():
                    request = self._queue.get()
                    if request is _DONE:
                        return
                    kind, value = request
                    if kind == "put":
                        batch.put_item(Item=value)
                    else:
                        batch.delete_item(Key=value)
        except BaseException as error:  # noqa: BLE001 - handed to the producer, which raises it
            if self._error is None:
                self._error = error
            self._stop.set()
            _drain(self._queue)

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None:
            self._stop.set()
            _drain(self._queue)
        for _ in self._threads:
            self._send_done()
        for thread in self._threads:
            thread.join()
        if error is None and self._error is not None:
            raise self._error

    def _send_done(self) -> None:
        while any(thread.is_alive() for thread in self._threads):
            try:
                self._queue.put(_DONE, timeout=0.5)
                return
            except queue.Full:
                continue


def _drain(pending: queue.Queue) -> None:
    while True:
        try:
            pending.get_nowait()
        except queue.Empty:
            return


def _timestamp(now: datetime | None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
