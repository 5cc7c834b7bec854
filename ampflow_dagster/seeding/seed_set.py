"""An environment's validated seed items for one model, keyed as DynamoDB will key them."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ampflow_dagster.environments import AmpflowConfig, Environment
from ampflow_dagster.errors import SeedError
from ampflow_dagster.fingerprint import DigestCache
from ampflow_dagster.isolation import carries_prefix, unlabeled
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import label_choice
from ampflow_dagster.seeding.keys import Key, ParentKey, attribute_value, given_key, key_hash
from ampflow_dagster.seeding.model_schema import ModelSchema, Reference, model_schema
from ampflow_dagster.seeding.seed_files import SeedRecord, fingerprint_of, read_records, seed_files
from ampflow_dagster.seeding.user_references import referenced_users, resolve_user_references, unknown_user_problems
from ampflow_dagster.seeding.users import KnownUsers, known_users
from ampflow_dagster.seeding.validation import field_errors
from ampflow_dagster.synthesis.desired_state import DesiredBackend, TableSpec

# Seed ids are uuid5 of the item's content in this namespace: stable across runs and machines.
SEED_ID_NAMESPACE = uuid.UUID("5d1c7f3e-0a9b-4b8e-9d7e-6a3f2c1b0e94")
DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024
MAX_PROBLEMS_SHOWN_PER_FILE = 50

class SeedProblems:
    """A model's problems, per seed file: the first MAX_PROBLEMS_SHOWN_PER_FILE of each kept, every one counted.

    Memory stays bounded however many lines are wrong.
    """

    def __init__(self) -> None:
        self.shown: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.references = 0  # how many are references to parents the seed data lacks

    def add(self, file: Path | str, problem: str) -> None:
        shown = self.shown.setdefault(str(file), [])
        self.counts[str(file)] = self.counts.get(str(file), 0) + 1
        if len(shown) < MAX_PROBLEMS_SHOWN_PER_FILE:
            shown.append(problem)

    def extend(self, file: Path | str, problems: Iterator[str]) -> None:
        for problem in problems:
            self.add(file, problem)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def text(self) -> str:
        lines = []
        for file, shown in self.shown.items():
            lines += [f"  {problem}" for problem in shown]
            if self.counts[file] > len(shown):
                lines.append(f"  ... and {self.counts[file] - len(shown)} more in {file}")
        return "\n".join(lines)


@dataclass
class SeedSet:
    """A model's validated seed items for one environment, streamed from its files rather than held in memory.

    Validation keeps one 64-bit hash per key (duplicate detection, and later which table
    items are seed items); the writer reads the files again and builds each item as it goes.
    """

    environment: Environment
    model: str
    table_spec: TableSpec
    label_field: str | None  # None: no field is safe to carry the prefix, the items are stored as given
    files: list[Path]
    schema: ModelSchema | None = None
    fixed_items: list[dict[str, Any]] | None = None  # items given directly instead of read from files
    label_reason: str = ""  # why label_field is the one, or why no field carries the prefix
    count: int = 0
    unlabeled: int = 0  # seed items that leave the (optional) label field empty: stored as given, without the prefix
    key_hashes: set[int] = field(default_factory=set)
    problems: SeedProblems = field(default_factory=SeedProblems)
    problem_keys: set[int] = field(default_factory=set)  # keys named by items with problems
    references: dict[Reference, set[int]] = field(default_factory=dict)  # parent keys the items name, per relationship
    users: KnownUsers | None = None  # the environment's users file, which {"user": ...} owners name
    referenced_users: set[str] = field(default_factory=set)  # usernames the items name
    owners: dict[str, str] | None = None  # username -> "<sub>::<username>", set before writing items that name users
    _stats: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.fixed_items is not None:
            self.key_hashes = {key_hash(self.key_of(item)) for item in self.fixed_items}
            self.count = len(self.fixed_items)

    def fingerprint(self, cache: DigestCache | None = None) -> str:
        return fingerprint_of(self.files, cache)

    def owns(self, item: dict[str, Any]) -> bool:
        """Whether `item` carries this environment's prefix (never, for a model without a label field)."""
        return self.label_field is not None and carries_prefix(item, self.label_field, self.environment.prefix)

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
                yield self._with_owners(build_item(self.schema, self.table_spec, self.environment, self.label_field, record.values))
        if [_stat(path) for path in self.files] != self._stats:
            raise self._changed()

    def user_problems(self, values: dict[str, Any]) -> list[str]:
        """Notes the users a record names; a problem per user the users file lacks."""
        assert self.schema is not None and self.users is not None
        named = list(referenced_users(self.schema, values))
        self.referenced_users.update(username for _, username in named)
        return unknown_user_problems(named, self.users.names, self.users.file)

    def _with_owners(self, item: dict[str, Any]) -> dict[str, Any]:
        """`item` with its {"user": ...} owners as stored: `<sub>::<username>` from the environment's pool."""
        if not self.referenced_users:
            return item
        if self.owners is None:
            raise SeedError(
                f"{self.model} seed items of environment '{self.environment.name}' name users "
                f"({', '.join(sorted(self.referenced_users))}), whose ids were not looked up before writing.",
                "Seed through seeded_<model>, which looks them up in the environment's user pool after seeded_users.",
            )
        assert self.schema is not None
        return resolve_user_references(self.schema, item, self.owners)

    def _changed(self) -> SeedError:
        return SeedError(
            f"{', '.join(str(path) for path in self.files)} changed while {self.model} was being seeded "
            f"for environment '{self.environment.name}'.",
            "Seed again: the seed files are validated again and only what differs is written.",
        )


def load_seed_set(project: Project, config: AmpflowConfig, environment: Environment, model: str, desired: DesiredBackend) -> SeedSet:
    """Read and validate every seed item of `model` in `environment`; raise one SeedError listing all problems."""
    seed_set = check_seed_set(project, config, environment, model, desired)
    if seed_set.problems:
        raise problems_error(seed_set)
    return seed_set


def check_seed_set(
    project: Project, config: AmpflowConfig, environment: Environment, model: str, desired: DesiredBackend,
    references: dict[Reference, ParentKey] | None = None,
) -> SeedSet:
    """`model`'s seed set with every problem of its items in `problems`; a SeedError when the model cannot be seeded at all.

    `references` are the relationships whose referenced parent keys are collected (for check_references).
    """
    files = seed_files(project, environment.name, model)
    where = str(files[0]) if files else str(project.seed_folder(environment.name) / f"{model}.jsonl")
    schema = model_schema(desired.model_introspection, model, where, desired.field_defaults)
    table_spec = desired.tables.get(model)
    if table_spec is None:
        raise SeedError(f"{where}: model {model} has no table in the synthesized backend.", (
            f"Declare {model} as a model (a.model) in amplify/data, or move {where} out of seed_data/{environment.name}/; "
            f"then run `ampflow seed {environment.name}` again."))
    choice = label_choice(config, schema, table_spec)
    seed_set = SeedSet(environment, model, table_spec, choice.field, files, schema=schema, label_reason=choice.reason)
    seed_set._stats = [_stat(path) for path in files]
    seed_set.users = known_users(project, environment.name)
    seed_set.references = {reference: set() for reference in references or {}}
    other_prefixes = {env.prefix: env.name for env in config.environments.values() if env.name != environment.name}
    try:
        _check_records(files, schema, environment, other_prefixes, seed_set, references or {})
    except SeedError as unreadable:  # the same error, saying nothing was written; its own cause kept
        raise SeedError(
            f"{unreadable.message} Nothing was written for environment '{environment.name}'.", unreadable.resolution,
            code=unreadable.code,
        ) from unreadable.__cause__
    return seed_set


def problems_error(seed_set: SeedSet) -> SeedError:
    """`seed_set`'s problems as one error: every file's first problems, with a count of the rest."""
    model, problems = seed_set.model, seed_set.problems
    assert seed_set.schema is not None
    resolution = f"Fix the seed file(s) at the lines above (fields of {model}: {', '.join(seed_set.schema.seedable_fields())}), then seed again."
    if problems.references:
        resolution += (
            f" A reference must name an item of the parent's seed data in this environment; if the app itself writes "
            f"those parents, set [models.{model}] allow_external_references = true in ampflow.toml."
        )
    return SeedError(
        f"{problems.total} problem(s) in {model} seed data for environment '{seed_set.environment.name}'; "
        f"nothing was written:\n{problems.text()}",
        resolution,
    )


def _check_records(
    files: list[Path], schema: ModelSchema, environment: Environment, other_prefixes: dict[str, str],
    seed_set: SeedSet, references: dict[Reference, ParentKey],
) -> None:
    """Validate every record of `files`, streaming, into `seed_set`'s key hashes and count; problems go to `seed_set.problems`."""
    table_spec, label_field = seed_set.table_spec, seed_set.label_field
    seen, repeated = seed_set.key_hashes, {}
    for path in files:
        for record in read_records(path):
            problems = field_errors(schema, record.values)
            problems.extend(seed_set.user_problems(record.values))
            problems.extend(_label_problems(record, label_field, environment, other_prefixes))
            if problems:
                seed_set.problems.extend(path, (f"{record.where}: {problem}" for problem in problems))
                named_key = given_key(table_spec, record.values)
                if named_key is not None:  # references to it are this item's problem, not its children's
                    seed_set.problem_keys.add(key_hash(named_key))
                continue
            item = build_item(schema, table_spec, environment, label_field, record.values)
            if given_key(table_spec, item) is None:
                missing = [name for name in table_spec.key_attributes if attribute_value(name, item) is None]
                seed_set.problems.add(path, f"{record.where}: key attribute {', '.join(missing)} has no value; give the fields it is made of")
                continue
            size = _item_size(item)
            if size > DYNAMODB_ITEM_LIMIT_BYTES:
                seed_set.problems.add(path, f"{record.where}: item is {size // 1024} KB, over DynamoDB's 400 KB item limit")
                seed_set.problem_keys.add(key_hash(seed_set.key_of(item)))
                continue
            for reference, parent in references.items():
                referenced = parent.key_named_by(reference, record.values)
                if referenced is not None:
                    seed_set.references[reference].add(key_hash(referenced))
            hashed = key_hash(seed_set.key_of(item))
            if hashed in seen:
                repeated.setdefault(hashed, []).append((record.where, seed_set.key_of(item)))
                continue
            seen.add(hashed)
            seed_set.count += 1
            seed_set.unlabeled += label_field is not None and unlabeled(item, label_field)
    if repeated:
        _duplicates(files, schema, seed_set, repeated)


def _duplicates(files: list[Path], schema: ModelSchema, seed_set: SeedSet, repeated: dict[int, list[tuple[str, Key]]]) -> None:
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
    for hashed, later in repeated.items():
        where_first, key_first = first[hashed]
        for where, key in later:
            if key == key_first:
                file = where.rsplit(":", 1)[0]
                seed_set.problems.add(file, f"{where}: duplicate key {_key_text(seed_set.table_spec, key)} (first at {where_first})")
            else:  # two different keys with one hash: both are seed items
                seed_set.count += 1


def _stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def build_item(schema: ModelSchema, spec: TableSpec, environment: Environment, label_field: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """The item as Amplify's create resolver would store it, minus the timestamps the writer adds.

    The resolver fills a field's default when the input leaves the field out or sets it to null
    (`$util.defaultIfNull`), before the timestamps and the composite keys made of them.
    """
    item = {name: _stored_value(schema, name, value) for name, value in values.items() if value is not None}
    for name, default in schema.defaults.items():
        if name not in item:
            item[name] = copy.deepcopy(default) if isinstance(default, (dict, list)) else default
    if label_field is not None and not unlabeled(item, label_field):
        item[label_field] = environment.label(item[label_field])
    if schema.primary_key == "id" and "id" not in item:
        item["id"] = deterministic_id(schema.name, environment, label_field, values)
    item["__typename"] = schema.name
    return with_composite_keys(spec, item)


def composite_attributes(spec: TableSpec) -> list[str]:
    """Key attributes of the table and its indexes that combine fields (`a#b`): Amplify stores "<a>#<b>" beside a and b."""
    names = [spec.hash_key, spec.range_key or "", *(name for index in spec.indexes for name in (index.hash_key, index.range_key or ""))]
    names += list(spec.attribute_types)
    return list(dict.fromkeys(name for name in names if "#" in name))


def with_composite_keys(spec: TableSpec, item: dict[str, Any]) -> dict[str, Any]:
    """`item` with every composite key attribute whose parts it holds, as Amplify's resolvers compute them on a write.

    Call it once the fields are final (defaults and timestamps filled): a composite of a
    missing part is left out, as Amplify leaves a sparse index entry out.
    """
    for attribute in composite_attributes(spec):
        value = attribute_value(attribute, item)
        if value is not None:
            item[attribute] = value
    return item


def deterministic_id(model: str, environment: Environment, label_field: str | None, values: dict[str, Any]) -> str:
    """An id from the item's content: reseeding the same item never creates a second one."""
    content = dict(values)
    if label_field and carries_prefix(content, label_field, environment.prefix):
        content[label_field] = content[label_field][len(environment.prefix) :].lstrip()
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return str(uuid.uuid5(SEED_ID_NAMESPACE, f"{model}\n{canonical}"))


def _stored_value(schema: ModelSchema, name: str, value: Any) -> Any:
    spec = schema.fields.get(name)
    if spec is not None and spec.scalar == "AWSJSON":  # AppSync stores AWSJSON parsed, as a map or list
        parse = lambda v: json.loads(v, parse_float=Decimal) if isinstance(v, str) else v  # noqa: E731
        return [parse(element) for element in value] if spec.is_array else parse(value)
    return value


def label_field_for(config: AmpflowConfig, schema: ModelSchema, where: str, table: TableSpec | None = None) -> str | None:
    """The field that carries the environment prefix on `schema`'s items, None if no field is safe (see label_fields)."""
    return label_choice(config, schema, table).field


def _label_problems(
    record: SeedRecord, label_field: str | None, environment: Environment, other_prefixes: dict[str, str]
) -> list[str]:
    if label_field is None:
        return []
    value = record.values.get(label_field)
    if value is None:
        return []  # the default is stored with the prefix; without a default the item is stored as given, unlabeled
    if not isinstance(value, str):
        return []  # the type check reports it
    for prefix, name in other_prefixes.items():
        if carries_prefix(record.values, label_field, prefix):
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
