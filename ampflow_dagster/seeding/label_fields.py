"""The one rule for which field carries the environment prefix (`[DEV] `) on a model's seed items.

A prefix on a field that a key, an index, a relationship or an authorization rule reads
silently breaks the app: a message no longer finds its session, a query by index finds
nothing, an item becomes invisible to its owner. So a field is only ever chosen when the
prefix cannot hurt it: a plain String that no key, index, relationship or auth rule reads.
By default the field must also be named as text for people (`name`, `title`, `content`,
`productName`, ...); ampflow.toml can name any other safe plain String.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ampflow_dagster.environments import AmpflowConfig
from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.model_schema import GROUPS_RULE, OWNER_RULE, FieldSpec, ModelSchema
from ampflow_dagster.synthesis.desired_state import TableSpec

# A field is text for people when its last word is one of these (`title`, `productName`, `display_name`) ...
TEXT_WORDS = frozenset({
    "name", "names", "title", "subtitle", "content", "description", "label", "summary", "text", "body",
    "note", "notes", "caption", "comment", "comments", "message", "headline", "heading", "subject", "bio",
    "nickname", "remark", "remarks", "memo", "blurb", "tagline", "excerpt", "abstract", "question", "answer",
    "prompt", "greeting", "motto", "slogan", "story", "review", "feedback",
})
# ... and none of its words says it is for machines (`fileName`, `userName`, `keyName`, `typeName`).
MACHINE_WORDS = frozenset({
    "file", "path", "key", "user", "username", "host", "domain", "bucket", "table", "queue", "topic", "class",
    "type", "kind", "model", "resource", "object", "s3", "stack", "branch", "region", "account", "partition",
    "sort", "hash", "index", "id", "ids", "code", "slug", "url", "uri", "link", "status", "token", "secret",
    "event", "function", "method", "field", "column", "schema", "mime", "env", "environment", "image",
})
AUTH_FIELD_REASONS = {
    OWNER_RULE: "the owner field of an owner authorization rule, which holds '<sub>::<username>'",
    GROUPS_RULE: "the groups field of a group authorization rule",
}
WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True)
class LabelChoice:
    """Which field of `model` carries the environment prefix, and why; `field` is None when no field is safe."""

    model: str
    field: str | None
    reason: str
    configured: bool = False  # named in ampflow.toml rather than chosen by the default rule


def name_words(name: str) -> list[str]:
    """The words of a field or model name as written: `ProjectCharter` -> ['Project', 'Charter'], `display_name` -> ['display', 'name']."""
    return WORD.findall(name)


def words_of(name: str) -> list[str]:
    """`shortDescription`, `short_description`, `short-description` -> ['short', 'description']."""
    return [word.lower() for word in name_words(name)]


def is_text_for_people(name: str) -> bool:
    """Whether the field's name says a person reads it: `name`, `title`, `productName`, `display_name`."""
    words = words_of(name)
    return bool(words) and words[-1] in TEXT_WORDS and not any(word in MACHINE_WORDS for word in words)


def unsafe_reasons(schema: ModelSchema, table: TableSpec | None = None) -> dict[str, list[str]]:
    """Every field a prefix would hurt or that cannot hold one, with why. `table` adds keys only the synthesized table shows.

    The table matters for indexes the introspection schema does not list: a relationship's
    `gsi-<Parent>.<field>` and indexes a backend.ts override adds.
    """
    reasons: dict[str, list[str]] = {}

    def add(name: str, reason: str) -> None:
        known = reasons.setdefault(name, [])
        if reason not in known:
            known.append(reason)

    for name, spec in schema.fields.items():
        kind = _kind_problem(schema, spec)
        if kind:
            add(name, kind)
    add(schema.primary_key, "the table's partition key")
    if schema.sort_keys:
        sort_key = "#".join(schema.sort_keys)
        for name in schema.sort_keys:
            add(name, f"part of the table's sort key {sort_key}")
    for index, fields in schema.indexes.items():
        for name in fields:
            add(name, f"a key of secondary index {index}")
    for reference in schema.references:
        for name in reference.fields:
            add(name, f"the reference field of relationship {reference.relationship}")
    for name, rule in schema.auth_fields.items():
        add(name, AUTH_FIELD_REASONS[rule])
    if table is not None:
        for attribute in table.key_attributes:
            for name in attribute.split("#"):
                if name not in reasons:
                    add(name, "a key of the table")
        for index in table.indexes:
            for attribute in (index.hash_key, index.range_key or ""):
                for name in filter(None, attribute.split("#")):
                    if not any(index.name in reason for reason in reasons.get(name, ())):
                        add(name, f"a key of index {index.name}")
    return {name: found for name, found in reasons.items() if name in schema.fields}


def _kind_problem(schema: ModelSchema, spec: FieldSpec) -> str | None:
    """Why a field's type cannot carry a prefix, if it cannot: only a single plain String can."""
    if spec.model is not None:
        return f"a relationship to {spec.model}"
    if spec.read_only or spec.name in ("createdAt", "updatedAt"):
        return "set by Amplify"
    if spec.is_array:
        return f"a list ({spec.describe_type()})"
    if spec.enum is not None:
        return f"an enum ({spec.enum})"
    if spec.custom_type is not None:
        return f"a custom type ({spec.custom_type})"
    if spec.scalar == "ID":
        return "an ID"
    if spec.scalar != "String":
        return f"an {spec.scalar}, not a plain String" if (spec.scalar or "?")[0] in "AEIOU" else f"a {spec.scalar}, not a plain String"
    return None


def safe_fields(schema: ModelSchema, table: TableSpec | None = None) -> list[str]:
    """Plain String fields a prefix cannot hurt, in declaration order, whatever their names say."""
    unsafe = unsafe_reasons(schema, table)
    return [name for name in schema.fields if name not in unsafe]


def choose_label_field(
    schema: ModelSchema, table: TableSpec | None = None, configured: str | None = None, config_file: str = "ampflow.toml"
) -> LabelChoice:
    """The label field of `schema`: `configured` if it is safe (else a SeedError saying why), or the default rule's choice.

    Default: the safe plain String fields named as text for people, required ones first,
    then in declaration order. None (with the reason) when no field qualifies.
    """
    unsafe = unsafe_reasons(schema, table)
    safe = [name for name in schema.fields if name not in unsafe]
    if configured is not None:
        return _configured_choice(schema, configured, unsafe, safe, table, config_file)
    named = [name for name in safe if is_text_for_people(name)]
    named.sort(key=lambda name: not schema.fields[name].is_required)  # stable: declaration order among equals
    strings = [  # the fields a reader might have expected: String and ID fields other than the default `id`
        name for name, spec in schema.fields.items()
        if spec.scalar in ("String", "ID") and not spec.is_array and not (name == "id" and spec.scalar == "ID")
    ]
    if named:
        chosen = named[0]
        required = "a required" if schema.fields[chosen].is_required else "an optional"
        reason = f"{chosen} is {required} plain String named as text for people, in no key, index, relationship or auth rule"
        passed = [name for name in strings if name != chosen and strings.index(name) < strings.index(chosen)]
        if passed:
            reason += f"; passed over: {_passed_over(passed, unsafe)}"
        return LabelChoice(schema.name, chosen, reason)
    if not strings:
        return LabelChoice(schema.name, None, f"{schema.name} has no String field to carry the environment prefix")
    return LabelChoice(schema.name, None, f"no String field of {schema.name} is safe to carry the environment prefix: {_passed_over(strings, unsafe)}")


def how_to_label(schema: ModelSchema, table: TableSpec | None = None, config_file: str = "ampflow.toml") -> str:
    """What a person can do to see a model's seed items marked, when no field is safe by default."""
    plain = safe_fields(schema, table)
    add = f"add a String field for people to {schema.name} in amplify/data/resource.ts (e.g. label: a.string())"
    if not plain:
        return f"To mark {schema.name}'s seed items with the prefix, {add}; ampflow then puts the prefix there."
    names = " or ".join(f'label_field = "{name}"' for name in plain)
    return (
        f"To mark {schema.name}'s seed items with the prefix, set [models.{schema.name}] {names} in {config_file} if that "
        f"field holds text a person reads (a prefix there is harmless to keys and relationships), or {add}."
    )


def label_choice(config: AmpflowConfig, schema: ModelSchema, table: TableSpec | None = None) -> LabelChoice:
    """The label field of `schema` as `config` (ampflow.toml) and the default rule decide it."""
    config_file = str(config.source) if config.source else "ampflow.toml"
    return choose_label_field(schema, table, config.model(schema.name).label_field, config_file)


def _configured_choice(
    schema: ModelSchema, configured: str, unsafe: dict[str, list[str]], safe: list[str], table: TableSpec | None, config_file: str
) -> LabelChoice:
    where = f"{config_file} [models.{schema.name}] label_field = '{configured}'"
    if configured not in schema.fields:
        raise SeedError(
            f"{where}: {schema.name} has no field '{configured}' (fields: {', '.join(schema.storable_fields())}).",
            _safe_resolution(schema, safe, table),
        )
    if configured in unsafe:
        raise SeedError(
            f"{where}: {configured} cannot carry the environment prefix: it is {' and '.join(unsafe[configured])}. "
            "ampflow puts the prefix only on a plain String that no key, index, relationship or authorization rule reads.",
            _safe_resolution(schema, safe, table),
        )
    return LabelChoice(schema.name, configured, f"{configured} is named in {config_file} [models.{schema.name}] label_field", configured=True)


def _safe_resolution(schema: ModelSchema, safe: list[str], table: TableSpec | None) -> str:
    if not safe:
        return (
            f"{schema.name} has no field that is safe to carry the prefix: add a String field for people "
            f"(e.g. label: a.string()) in amplify/data/resource.ts and name it in label_field."
        )
    default = choose_label_field(schema, table).field
    fallback = f", or remove the entry to use ampflow's default ({default})" if default else ""
    return f"Set label_field to a field that is safe to carry the prefix: {', '.join(safe)}{fallback}."


def _passed_over(names: list[str], unsafe: dict[str, list[str]]) -> str:
    return "; ".join(
        f"{name} ({', '.join(unsafe[name])})" if name in unsafe else f"{name} (its name does not say it is text for people)" for name in names
    )
