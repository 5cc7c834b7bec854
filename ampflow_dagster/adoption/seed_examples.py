"""One example seed item per model, made from Amplify's model introspection schema, that seeding accepts as it is.

Each example fills what a seed item must hold (key fields, required fields, the label
field) with values of the field's type; reference fields point at the related model's
example, so the examples of an app form one consistent graph. Fields Amplify manages
(createdAt, updatedAt, relationship fields, group fields unless required) stay out; owner fields,
declared or added by `allow.owner()`, get a placeholder owner in the shape Amplify stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ampflow_dagster.seeding.label_fields import name_words
from ampflow_dagster.seeding.model_schema import OWNER_RULE, FieldSpec, ModelSchema
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


@dataclass
class SeedExamples:
    examples: dict[str, SeedExample]
    notes: list[str]  # what a person should know: dangling references, placeholder owners, examples that did not validate


def seed_examples(schemas: dict[str, ModelSchema], label_fields: dict[str, str | None]) -> SeedExamples:
    """An example for every model in `label_fields` (model -> its label field); each is checked as seeding checks it."""
    builder = _ExampleBuilder(schemas, label_fields)
    examples, notes = {}, builder.notes
    for model in label_fields:
        example = SeedExample(model, label_fields[model], builder.values_of(model))
        as_read = json.loads(example.jsonl(), parse_float=Decimal)  # checked as seeding will read it back
        problems = field_errors(schemas[model], as_read)
        if problems:
            notes.append(f"{model}: no example written, ampflow could not make one its validation accepts: {'; '.join(problems)}.")
            continue
        examples[model] = example
    for model in examples:
        for name, rule in schemas[model].auth_fields.items():
            if rule == OWNER_RULE:
                notes.append(
                    f"{model} has owner authorization on {name}: the example's owner {OWNER_EXAMPLE!r} is a placeholder; "
                    f"set {name} to '<sub>::<username>' of a real user, or signed-in users do not see the item through that rule."
                )
    return SeedExamples(examples, notes)


def spaced(name: str) -> str:
    """`ProjectCharter` -> `Project Charter`."""
    return " ".join(name_words(name)) or name


def kebab(name: str) -> str:
    """`ProjectCharter` -> `project-charter`, `warehouse_id` -> `warehouse-id`."""
    return "-".join(word.lower() for word in name_words(name)) or name.lower()


class _ExampleBuilder:
    """Examples made on demand, parents before children, so a reference can copy its parent's key."""

    def __init__(self, schemas: dict[str, ModelSchema], label_fields: dict[str, str | None]) -> None:
        self.schemas, self.label_fields = schemas, label_fields
        self.made: dict[str, dict[str, Any]] = {}
        self.in_progress: set[str] = set()
        self.notes: list[str] = []

    def values_of(self, model: str) -> dict[str, Any]:
        if model in self.made:
            return self.made[model]
        self.in_progress.add(model)
        schema = self.schemas[model]
        referenced = self._reference_values(schema)
        values: dict[str, Any] = {}
        for name, spec in schema.fields.items():
            if spec.model is not None or spec.read_only:
                continue
            if name in referenced:
                values[name] = referenced[name]
            elif name == self.label_fields[model]:
                values[name] = f"Example {spaced(model)}"
            elif schema.auth_fields.get(name) == OWNER_RULE:
                values[name] = self._value(schema, spec, depth=0)  # an item without an owner is invisible to its users
            elif name in schema.auth_fields and not spec.is_required:
                continue  # group fields: the app's admins set them
            elif name in schema.key_fields or _must_be_given(schema, spec):
                values[name] = self._value(schema, spec, depth=0)
        for name in schema.undeclared_auth_fields:  # allow.owner()'s implicit `owner`: Amplify stores it all the same
            if schema.auth_fields[name] == OWNER_RULE:
                values[name] = OWNER_EXAMPLE
        self.in_progress.discard(model)
        self.made[model] = values
        return values

    def _reference_values(self, schema: ModelSchema) -> dict[str, Any]:
        """Reference fields set to the key of the related model's example, where that model is seeded too."""
        values: dict[str, Any] = {}
        for reference in schema.references:
            parent = self.schemas.get(reference.model)
            why_not = self._why_not_seeded(reference.model)
            if parent is not None and why_not is None:
                parent_values = self.values_of(reference.model)
                keys = parent.key_fields
                if len(keys) == len(reference.fields) and all(key in parent_values for key in keys):
                    values.update({name: parent_values[key] for name, key in zip(reference.fields, keys)})
                    continue
                why_not = f"its key ({', '.join(keys)}) does not line up with {', '.join(reference.fields)}"
            required = [name for name in reference.fields if name in schema.fields and _must_be_given(schema, schema.fields[name])]
            if required:
                self.notes.append(
                    f"{schema.name}.{', '.join(required)}, the reference of {reference.relationship}, holds a placeholder: {why_not}. "
                    f"Set it to the key of a {reference.model} that exists."
                )
        return values

    def _why_not_seeded(self, model: str) -> str | None:
        if model not in self.schemas:
            return f"the schema has no model {model}"
        if model not in self.label_fields:
            return f"ampflow does not seed {model}"
        if model in self.in_progress:
            return f"{model}'s example is itself being made from this one"
        return None

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
