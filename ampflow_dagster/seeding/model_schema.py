"""A model's fields, keys and enums, as Amplify's model introspection schema states them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ampflow_dagster.errors import SeedError

READ_ONLY_TIMESTAMPS = ("createdAt", "updatedAt")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    scalar: str | None  # "String", "AWSDate", ... ; None for enums, models and custom types
    enum: str | None
    model: str | None  # relationship fields point at another model
    custom_type: str | None
    is_required: bool
    is_array: bool
    is_array_nullable: bool
    read_only: bool

    def describe_type(self) -> str:
        base = self.scalar or self.enum or self.custom_type or self.model or "?"
        return f"[{base}]" if self.is_array else base


@dataclass(frozen=True)
class ModelSchema:
    name: str
    fields: dict[str, FieldSpec]
    primary_key: str
    sort_keys: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]
    custom_types: dict[str, dict[str, FieldSpec]]

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.primary_key, *self.sort_keys)

    def storable_fields(self) -> dict[str, FieldSpec]:
        """Fields an item stores: not relationships (their foreign keys are fields of their own)."""
        return {name: spec for name, spec in self.fields.items() if spec.model is None}

    def default_label_field(self) -> str | None:
        """The first required String field outside the key: where the environment prefix goes."""
        for name, spec in self.fields.items():
            if spec.scalar == "String" and spec.is_required and not spec.is_array and name not in self.key_fields:
                return name
        for name, spec in self.fields.items():
            if spec.scalar == "String" and not spec.is_array and name not in self.key_fields:
                return name
        return None


def model_schemas(introspection: dict[str, Any]) -> dict[str, ModelSchema]:
    enums = {name: tuple(enum["values"]) for name, enum in introspection.get("enums", {}).items()}
    custom_types = {
        name: {field: _field(spec) for field, spec in custom["fields"].items()}
        for name, custom in introspection.get("nonModels", {}).items()
    }
    schemas = {}
    for name, model in introspection.get("models", {}).items():
        key_info = model.get("primaryKeyInfo", {})
        schemas[name] = ModelSchema(
            name=name,
            fields={field: _field(spec) for field, spec in model["fields"].items()},
            primary_key=key_info.get("primaryKeyFieldName", "id"),
            sort_keys=tuple(key_info.get("sortKeyFieldNames", [])),
            enums=enums,
            custom_types=custom_types,
        )
    return schemas


def model_schema(introspection: dict[str, Any], model: str, seed_file: str) -> ModelSchema:
    schemas = model_schemas(introspection)
    if model not in schemas:
        raise SeedError(
            f"{seed_file}: the schema has no model '{model}' (models: {', '.join(sorted(schemas))}).",
            "Rename the seed file to <Model>.jsonl for a model in amplify/data/resource.ts, or add the model.",
        )
    return schemas[model]


def _field(spec: dict[str, Any]) -> FieldSpec:
    kind = spec["type"]
    scalar = kind if isinstance(kind, str) else None
    enum = kind.get("enum") if isinstance(kind, dict) else None
    model = kind.get("model") if isinstance(kind, dict) else None
    custom_type = kind.get("nonModel") if isinstance(kind, dict) else None
    return FieldSpec(
        name=spec["name"],
        scalar=scalar,
        enum=enum,
        model=model,
        custom_type=custom_type,
        is_required=bool(spec.get("isRequired")),
        is_array=bool(spec.get("isArray")),
        is_array_nullable=bool(spec.get("isArrayNullable", True)),
        read_only=bool(spec.get("isReadOnly")),
    )
