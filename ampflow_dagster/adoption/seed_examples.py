"""One example seed item per model, made from Amplify's model introspection schema, that seeding accepts as it is.

Each example fills what a seed item must hold (key fields, required fields, the label
field) with values of the field's type; reference fields point at an item the environment
holds (the first item of the parent's existing seed files, or the parent's example), so the
examples of an environment form one consistent graph: a parent that existing seed items name
gets the key they name, and a model whose required reference has nothing to point at gets no
example, and says why. Fields Amplify manages
(createdAt, updatedAt, relationship fields, group fields unless required) stay out; owner fields,
declared or added by `allow.owner()`, get a placeholder owner in the shape Amplify stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ampflow_dagster.seeding.label_fields import name_words
from ampflow_dagster.seeding.model_schema import OWNER_RULE, FieldSpec, ModelSchema, Reference
from ampflow_dagster.seeding.validation import _must_be_given, field_errors

# A valid value per scalar type; String and ID values are made from the field's name instead.
SCALAR_EXAMPLES: dict[str, Any] = {
    "Int": 1,
    "Float": 1.5,
    "Boolean": False,
    "AWSDate": "2026-01-15",
    "AWSTime": "09:30:00Z",
    "AWSDateTime": "2026-01-15T09:30:00.000Z",
    "AWSTimestamp": 1768469400,
    "AWSEmail": "someone@example.com",
    "AWSJSON": {"example": True},
    "AWSURL": "https://example.com",
    "AWSPhone": "+1 206-555-0100",
    "AWSIPAddress": "192.0.2.1",
}
OWNER_EXAMPLE = "example-sub::example-user"  # the shape Amplify stores: <sub>::<username>
MAX_CUSTOM_TYPE_DEPTH = 5


@dataclass(frozen=True)
class SeedExample:
    model: str
    label_field: str | None
    values: dict[str, Any]  # the item as a seed file holds it, in the model's field order

    def jsonl(self) -> str:
        """The example as one line of a .jsonl seed file."""
        return json.dumps(self.values, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ExistingSeeds:
    """A model's seed files already in the environment: it gets no example, and examples name their first item instead."""

    files: tuple[str, ...]  # as a person finds them: seed_data/<env>/<Model>.jsonl
    key: dict[str, Any] | None  # key field -> value of the first item that validates; None when none does
    why_no_key: str = ""  # why there is no such item
    names: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # parent model -> the keys its items name, in key order


@dataclass
class SeedExamples:
    examples: dict[str, SeedExample]
    notes: list[str]  # what a person should know: placeholder references and owners
    not_written: dict[str, str]  # model -> why it has no example (an example would name an item that is not there)


def seed_examples(
    schemas: dict[str, ModelSchema],
    label_fields: dict[str, str | None],
    existing: dict[str, ExistingSeeds] | None = None,
    external_references: frozenset[str] = frozenset(),
) -> SeedExamples:
    """One environment's examples: one for every model in `label_fields` (model -> its label field) without `existing` seed files.

    Each is checked as seeding checks it, and together with the `existing` items they form one
    graph: a reference names an existing item or another example. A required reference whose
    parent has neither leaves its model without an example, unless the model is in
    `external_references` (its references may name items the app writes): then it holds a placeholder.
    """
    builder = _ExampleBuilder(schemas, label_fields, existing or {}, external_references)
    for model in label_fields:
        if model not in builder.existing:
            builder.example_of(model)
    for model in label_fields:
        builder.point_back(model)
    made = {model: builder.made.get(model) for model in label_fields}
    examples = {model: SeedExample(model, label_fields[model], values) for model, values in made.items() if values is not None}
    notes = builder.notes
    for model in examples:
        for name, rule in schemas[model].auth_fields.items():
            if rule == OWNER_RULE:
                notes.append(
                    f"{model} has owner authorization on {name}: the example's owner {OWNER_EXAMPLE!r} is a placeholder; "
                    f"set {name} to '<sub>::<username>' of a real user, or signed-in users do not see the item through that rule."
                )
    return SeedExamples(examples, notes, builder.not_written)


def spaced(name: str) -> str:
    """`ProjectCharter` -> `Project Charter`."""
    return " ".join(name_words(name)) or name


def kebab(name: str) -> str:
    """`ProjectCharter` -> `project-charter`, `warehouse_id` -> `warehouse-id`."""
    return "-".join(word.lower() for word in name_words(name)) or name.lower()


class _RequiredCycle(Exception):
    """Raised from the model whose required reference leads back to a model still being made."""

    def __init__(self, start: str, links: list[str]) -> None:
        super().__init__(start)
        self.start, self.links = start, links  # links: "Ledger.auditId -> Audit", from `start` around the cycle


class _ExampleBuilder:
    """Examples made on demand, parents before children, so a required reference copies an item that already exists.

    Optional references are set last (`point_back`), once every example exists: that is how a
    cycle through an optional reference (a task and its current stage) is closed.
    """

    def __init__(
        self, schemas: dict[str, ModelSchema], label_fields: dict[str, str | None],
        existing: dict[str, ExistingSeeds], external_references: frozenset[str],
    ) -> None:
        self.schemas, self.label_fields, self.existing = schemas, label_fields, existing
        self.external_references = external_references
        self.made: dict[str, dict[str, Any] | None] = {}  # None: no example, for the reason in not_written
        self.not_written: dict[str, str] = {}
        self.in_progress: list[str] = []  # the models whose examples are being made, each required by the one before
        self.links: list[str] = []  # links[i]: the reference from in_progress[i] to in_progress[i + 1]
        self.notes: list[str] = []

    def key_of(self, model: str) -> tuple[dict[str, Any] | None, str]:
        """The key of an item of `model` the environment will hold (an existing one, else its example), or None and why not."""
        if model in self.existing:
            seeds = self.existing[model]
            return seeds.key, seeds.why_no_key
        if model not in self.label_fields:
            return None, f"ampflow does not seed {model}"
        values = self.example_of(model)
        if values is None:
            return None, f"ampflow writes no example {model}"
        return {name: values[name] for name in self.schemas[model].key_fields}, ""

    def example_of(self, model: str) -> dict[str, Any] | None:
        if model in self.made:
            return self.made[model]
        self.in_progress.append(model)
        try:
            values = self._made(model)
        except _RequiredCycle as cycle:
            self.made[model] = None
            self.not_written[model] = _cycle_reason(cycle.links)
            if cycle.start != model:
                raise
            return None
        finally:
            self.in_progress.pop()
        self.made[model] = values
        return values

    def _made(self, model: str) -> dict[str, Any] | None:
        schema = self.schemas[model]
        referenced: dict[str, Any] = self._key_named_by_existing(schema)
        for reference in schema.references:
            if not _is_required(schema, reference):
                continue
            values, why_not = self._required_reference(schema, reference)
            if why_not is not None:
                self.not_written[model] = why_not
                return None
            referenced.update(values)
        values = self._values(schema, referenced)
        problems = _problems(schema, values)
        if problems and set(referenced) & set(schema.key_fields):  # a named key of another type: the example's own key then
            values = self._values(schema, {name: value for name, value in referenced.items() if name not in schema.key_fields})
            problems = _problems(schema, values)
        if problems:
            self.not_written[model] = f"ampflow could not make one its validation accepts: {'; '.join(problems)}"
            return None
        return values

    def _key_named_by_existing(self, schema: ModelSchema) -> dict[str, Any]:
        """The key existing seed items name for `schema`'s model, so its example is the item they point at.

        A key made of reference fields is left to those references.
        """
        named = [(seeds, key) for seeds in self.existing.values() for key in seeds.names.get(schema.name, ())]
        reference_fields = {name for reference in schema.references for name in reference.fields}
        if not named or reference_fields & set(schema.key_fields):
            return {}
        key = dict(zip(schema.key_fields, named[0][1]))
        distinct = {values for _, values in named}
        if len(distinct) > 1:
            files = sorted({file for seeds, _ in named for file in seeds.files})
            self.notes.append(
                f"{', '.join(files)} name {len(distinct)} {schema.name} items; the example {schema.name} is the first, "
                f"{', '.join(f'{name} {value!r}' for name, value in key.items())}: add the others to {schema.name}'s seed file, "
                "or seeding reports them missing."
            )
        return key

    def _required_reference(self, schema: ModelSchema, reference: Reference) -> tuple[dict[str, Any], str | None]:
        """The values of a required reference's fields, naming an item that exists; or why the model gets no example."""
        fields = ", ".join(reference.fields)
        parent = self.schemas.get(reference.model)
        if parent is None or len(parent.key_fields) != len(reference.fields):  # seeding cannot check such a reference either
            why = f"the schema has no model {reference.model}" if parent is None else (
                f"its key ({', '.join(parent.key_fields)}) does not line up with {fields}")
            return self._placeholder(schema, reference, why), None
        link = f"{schema.name}.{fields} -> {reference.model}"
        if reference.model in self.in_progress:
            raise _RequiredCycle(reference.model, [*self.links[self.in_progress.index(reference.model):], link])
        self.links.append(link)
        try:
            key, why_not = self.key_of(reference.model)
        finally:
            self.links.pop()
        if key is None:
            if schema.name in self.external_references:
                return self._placeholder(schema, reference, why_not), None
            return {}, f"its required {fields}, the reference of {reference.relationship}, must name an item of {reference.model}, and {why_not}"
        return dict(zip(reference.fields, (key[name] for name in parent.key_fields))), None

    def _placeholder(self, schema: ModelSchema, reference: Reference, why: str) -> dict[str, Any]:
        self.notes.append(
            f"{schema.name}.{', '.join(reference.fields)}, the reference of {reference.relationship}, holds a placeholder: {why}. "
            f"Set it to the key of a {reference.model} that exists."
        )
        return {}  # the fields get placeholder values of their type

    def point_back(self, model: str) -> None:
        """Set `model`'s example's optional references to items that exist, where its validation still accepts them."""
        values, schema = self.made.get(model), self.schemas[model]
        if values is None:
            return
        for reference in schema.references:
            parent = self.schemas.get(reference.model)
            if _is_required(schema, reference) or parent is None or reference.model == model:  # an item is not its own parent
                continue
            if len(parent.key_fields) != len(reference.fields) or not all(name in schema.fields for name in reference.fields):
                continue
            key, _ = self.key_of(reference.model)
            if key is None:
                continue
            pointed = {**values, **dict(zip(reference.fields, (key[name] for name in parent.key_fields)))}
            if not _problems(schema, pointed):
                values = pointed
        self.made[model] = {name: values[name] for name in [*schema.fields, *schema.undeclared_auth_fields] if name in values}

    def _values(self, schema: ModelSchema, referenced: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in schema.fields.items():
            if spec.model is not None or spec.read_only:
                continue
            if name in referenced:
                values[name] = referenced[name]
            elif name == self.label_fields[schema.name]:
                values[name] = f"Example {spaced(schema.name)}"
            elif schema.auth_fields.get(name) == OWNER_RULE:
                values[name] = self._value(schema, spec, depth=0)  # an item without an owner is invisible to its users
            elif name in schema.auth_fields and not spec.is_required:
                continue  # group fields: the app's admins set them
            elif name in schema.key_fields or _must_be_given(schema, spec):
                values[name] = self._value(schema, spec, depth=0)
        for name in schema.undeclared_auth_fields:  # allow.owner()'s implicit `owner`: Amplify stores it all the same
            if schema.auth_fields[name] == OWNER_RULE:
                values[name] = OWNER_EXAMPLE
        return values

    def _value(self, schema: ModelSchema, spec: FieldSpec, depth: int) -> Any:
        if spec.is_array:
            return [self._single_value(schema, spec, depth)]
        return self._single_value(schema, spec, depth)

    def _single_value(self, schema: ModelSchema, spec: FieldSpec, depth: int) -> Any:
        if spec.enum is not None:
            allowed = schema.enums.get(spec.enum, ())
            return allowed[0] if allowed else None
        if spec.custom_type is not None:
            return self._custom_value(schema, spec.custom_type, depth + 1)
        if schema.auth_fields.get(spec.name) == OWNER_RULE and spec.scalar in ("String", "ID"):
            return OWNER_EXAMPLE
        if spec.scalar == "ID" and spec.name == schema.primary_key:
            return f"example-{kebab(schema.name)}"
        if spec.scalar in SCALAR_EXAMPLES:
            return SCALAR_EXAMPLES[spec.scalar]
        return f"example-{kebab(schema.name)}-{kebab(spec.name)}"  # String, ID and scalars ampflow does not check

    def _custom_value(self, schema: ModelSchema, custom_type: str, depth: int) -> dict[str, Any]:
        fields = schema.custom_types.get(custom_type, {})
        nested = ModelSchema(custom_type, fields, "", (), schema.enums, schema.custom_types)
        if depth > MAX_CUSTOM_TYPE_DEPTH:
            return {}
        return {name: self._value(nested, spec, depth) for name, spec in fields.items() if spec.model is None and _must_be_given(nested, spec)}


def _is_required(schema: ModelSchema, reference: Reference) -> bool:
    """Whether an item must name the parent: some field of the reference is required or part of the key."""
    return any(name in schema.fields and _must_be_given(schema, schema.fields[name]) for name in reference.fields)


def _problems(schema: ModelSchema, values: dict[str, Any]) -> list[str]:
    as_read = json.loads(json.dumps(values, ensure_ascii=False), parse_float=Decimal)  # checked as seeding will read it back
    return field_errors(schema, as_read)


def _cycle_reason(links: list[str]) -> str:
    models = [link.split(".", 1)[0] for link in links]
    return (
        f"required references form a cycle ({', '.join(links)}), and an item of {' or '.join(models)} can only be created "
        f"once the item it names exists. Write their seed items by hand, naming each other (ampflow checks references "
        f"once every seed file is read), or make one of those references optional"
    )
