"""An environment's validated seed items for one model, keyed as DynamoDB will key them."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ampflow_dagster.environments import AmpflowConfig, Environment
from ampflow_dagster.errors import SeedError
from ampflow_dagster.fingerprint import DigestCache
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import how_to_label, label_choice
from ampflow_dagster.seeding.model_schema import ModelSchema, model_schema
from ampflow_dagster.seeding.seed_files import SeedRecord, fingerprint_of, read_records, seed_files
from ampflow_dagster.seeding.validation import field_errors
from ampflow_dagster.synthesis.desired_state import DesiredBackend, TableSpec

# Seed ids are uuid5 of the item's content in this namespace: stable across runs and machines.
SEED_ID_NAMESPACE = uuid.UUID("5d1c7f3e-0a9b-4b8e-9d7e-6a3f2c1b0e94")
DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024
MAX_ERRORS_SHOWN = 20

Key = tuple[Any, ...]


@dataclass
class SeedSet:
    """A model's validated seed items for one environment, streamed from its files rather than held in memory.

    Validation keeps one 64-bit hash per key (duplicate detection, and later which table
    items are seed items); the writer reads the files again and builds each item as it goes.
    """

    environment: Environment
    model: str
    table_spec: TableSpec
    label_field: str
    files: list[Path]
    schema: ModelSchema | None = None
    fixed_items: list[dict[str, Any]] | None = None  # items given directly instead of read from files
    count: int = 0
    key_hashes: set[int] = field(default_factory=set)
    _stats: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.fixed_items is not None:
            self.key_hashes = {key_hash(self.key_of(item)) for item in self.fixed_items}
            self.count = len(self.fixed_items)

    def fingerprint(self, cache: DigestCache | None = None) -> str:
        return fingerprint_of(self.files, cache)

    def owns(self, item: dict[str, Any]) -> bool:
        """Whether `item` is seed data of this environment (its label carries the prefix)."""
        value = item.get(self.label_field)
        return isinstance(value, str) and value.startswith(self.environment.prefix)

    def key_of(self, item: dict[str, Any]) -> Key:
        return tuple(item[attribute] for attribute in self.table_spec.key_attributes)

    def items(self) -> Iterator[dict[str, Any]]:
        """Every seed item as it will be stored, read again from the validated files."""
        if self.fixed_items is not None:
            yield from self.fixed_items
            return
        if [_stat(path) for path in self.files] != self._stats:
            raise self._changed()
        for path in self.files:
            assert self.schema is not None, "a seed set read from files is made by load_seed_set"
            for record in read_records(path):
                yield build_item(self.schema, self.table_spec, self.environment, self.label_field, record.values)
        if [_stat(path) for path in self.files] != self._stats:
            raise self._changed()

    def _changed(self) -> SeedError:
        return SeedError(
            f"{', '.join(str(path) for path in self.files)} changed while {self.model} was being seeded "
            f"for environment '{self.environment.name}'.",
            "Seed again: the seed files are validated again and only what differs is written.",
        )


def key_hash(key: Key) -> int:
    """64 bits per key: a million keys fit in a few tens of megabytes; equal hashes are confirmed on the keys."""
    text = "\x1f".join(_key_text_part(value) for value in key)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _key_text_part(value: Any) -> str:
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return "n:" + str(Decimal(value).normalize())
    return "s:" + str(value)


def load_seed_set(project: Project, config: AmpflowConfig, environment: Environment, model: str, desired: DesiredBackend) -> SeedSet:
    """Read and validate every seed item of `model` in `environment`; raise one SeedError listing all problems."""
    files = seed_files(project, environment.name, model)
    where = str(files[0]) if files else str(project.seed_dir / environment.name / f"{model}.jsonl")
    schema = model_schema(desired.model_introspection, model, where)
    table_spec = desired.tables.get(model)
    if table_spec is None:
        raise SeedError(f"{where}: model {model} has no table in the synthesized backend.", "Check amplify/data/resource.ts.")
    label_field = _label_field(config, schema, where, table_spec)
    seed_set = SeedSet(environment, model, table_spec, label_field, files, schema=schema)
    seed_set._stats = [_stat(path) for path in files]
    other_prefixes = {env.prefix: env.name for env in config.environments.values() if env.name != environment.name}
    errors: list[str] = []
    try:
        _check_records(files, schema, environment, other_prefixes, seed_set, errors)
    except SeedError as unreadable:
        raise SeedError(
            f"{unreadable.message} Nothing was written for environment '{environment.name}'.", unreadable.resolution
        ) from None
    if errors:
        shown = "\n".join(f"  {error}" for error in errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise SeedError(
            f"{len(errors)} problem(s) in {model} seed data for environment '{environment.name}'; nothing was written:\n{shown}{more}",
            f"Fix the seed file(s) at the lines above (fields of {model}: {', '.join(schema.storable_fields())}), then seed again.",
        )
    return seed_set


def _check_records(
    files: list[Path], schema: ModelSchema, environment: Environment, other_prefixes: dict[str, str],
    seed_set: SeedSet, errors: list[str],
) -> None:
    """Validate every record of `files`, streaming, into `seed_set`'s key hashes and count; problems go to `errors`."""
    table_spec, label_field = seed_set.table_spec, seed_set.label_field
    seen, repeated = seed_set.key_hashes, {}
    for path in files:
        for record in read_records(path):
            problems = field_errors(schema, record.values)
            problems.extend(_label_problems(record, label_field, environment, other_prefixes))
            if problems:
                errors.extend(f"{record.where}: {problem}" for problem in problems)
                continue
            item = build_item(schema, table_spec, environment, label_field, record.values)
            size = _item_size(item)
            if size > DYNAMODB_ITEM_LIMIT_BYTES:
                errors.append(f"{record.where}: item is {size // 1024} KB, over DynamoDB's 400 KB item limit")
                continue
            hashed = key_hash(seed_set.key_of(item))
            if hashed in seen:
                repeated.setdefault(hashed, []).append((record.where, seed_set.key_of(item)))
                continue
            seen.add(hashed)
            seed_set.count += 1
    if repeated:
        errors.extend(_duplicates(files, schema, seed_set, repeated))


def _duplicates(files: list[Path], schema: ModelSchema, seed_set: SeedSet, repeated: dict[int, list[tuple[str, Key]]]) -> list[str]:
    """Confirm repeated key hashes on the keys themselves: one more read, only when some hash repeated."""
    first: dict[int, tuple[str, Key]] = {}
    for path in files:
        for record in read_records(path):
            if field_errors(schema, record.values):
                continue
            item = build_item(schema, seed_set.table_spec, seed_set.environment, seed_set.label_field, record.values)
            hashed = key_hash(seed_set.key_of(item))
            if hashed in repeated and hashed not in first:
                first[hashed] = (record.where, seed_set.key_of(item))
    errors = []
    for hashed, later in repeated.items():
        where_first, key_first = first[hashed]
        for where, key in later:
            if key == key_first:
                errors.append(f"{where}: duplicate key {_key_text(seed_set.table_spec, key)} (first at {where_first})")
            else:  # two different keys with one hash: both are seed items
                seed_set.count += 1
    return errors


def _stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def build_item(schema: ModelSchema, spec: TableSpec, environment: Environment, label_field: str, values: dict[str, Any]) -> dict[str, Any]:
    """The item as Amplify's resolvers would store it, minus the timestamps the writer adds."""
    item = {name: _stored_value(schema, name, value) for name, value in values.items() if value is not None}
    item[label_field] = environment.label(item[label_field])
    if schema.primary_key == "id" and "id" not in item:
        item["id"] = deterministic_id(schema.name, environment, label_field, values)
    for attribute in (*spec.attribute_types, *(spec.range_key or "",)):
        if "#" in attribute:  # composite sort keys are stored as "<a>#<b>" beside a and b
            parts = attribute.split("#")
            if all(part in item for part in parts):
                item[attribute] = "#".join(str(item[part]) for part in parts)
    item["__typename"] = schema.name
    return item


def deterministic_id(model: str, environment: Environment, label_field: str, values: dict[str, Any]) -> str:
    """An id from the item's content: reseeding the same item never creates a second one."""
    content = dict(values)
    label = content.get(label_field)
    if isinstance(label, str) and label.startswith(environment.prefix):
        content[label_field] = label[len(environment.prefix) :].lstrip()
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return str(uuid.uuid5(SEED_ID_NAMESPACE, f"{model}\n{canonical}"))


def _stored_value(schema: ModelSchema, name: str, value: Any) -> Any:
    spec = schema.fields.get(name)
    if spec is not None and spec.scalar == "AWSJSON":  # AppSync stores AWSJSON parsed, as a map or list
        parse = lambda v: json.loads(v, parse_float=Decimal) if isinstance(v, str) else v  # noqa: E731
        return [parse(element) for element in value] if spec.is_array else parse(value)
    return value


def label_field_for(config: AmpflowConfig, schema: ModelSchema, where: str, table: TableSpec | None = None) -> str:
    """The field that carries the environment prefix on `schema`'s items (see label_fields for the rule)."""
    return _label_field(config, schema, where, table)


def _label_field(config: AmpflowConfig, schema: ModelSchema, where: str, table: TableSpec | None = None) -> str:
    choice = label_choice(config, schema, table)
    if choice.field is None:
        raise SeedError(f"{where}: {choice.reason}.", how_to_label(schema, table))
    return choice.field


def _label_problems(record: SeedRecord, label_field: str, environment: Environment, other_prefixes: dict[str, str]) -> list[str]:
    value = record.values.get(label_field)
    if value is None:
        return [f"field '{label_field}' carries the '{environment.prefix}' prefix, so it needs a value"]
    if not isinstance(value, str):
        return []  # the type check reports it
    for prefix, name in other_prefixes.items():
        if value.startswith(prefix):
            return [
                f"field '{label_field}' already carries environment '{name}''s prefix {prefix} "
                f"({value!r}); seed files hold plain values and ampflow adds '{environment.prefix}'"
            ]
    return []


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB counts attribute names and values; JSON length is a close, slightly high estimate."""
    return len(json.dumps(item, default=str).encode("utf-8"))


def _key_text(spec: TableSpec, key: Key) -> str:
    return ", ".join(f"{attribute}={value!r}" for attribute, value in zip(spec.key_attributes, key))
