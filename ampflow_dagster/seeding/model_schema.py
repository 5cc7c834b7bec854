"""A model's fields, keys, indexes, relationships and auth fields, as Amplify's model introspection schema states them,
and its field defaults, as the model schema states them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ampflow_dagster.errors import SeedError

READ_ONLY_TIMESTAMPS = ("createdAt", "updatedAt")
DEFAULT_OWNER_FIELD = "owner"  # allow.owner() without ownerField stores the owner here
OWNER_RULE, GROUPS_RULE = "owner", "groups"
# With this identity claim (Amplify's default), Amplify stores an owner as "<sub>::<username>".
SUB_USERNAME_CLAIMS = ("cognito:username", "username")
# Amplify's create resolver writes a default of these types into its VTL as a literal (a number, a
# boolean, a JSON value); any other default, enums included, it stores as the string it was given.
LITERAL_DEFAULT_TYPES = ("Int", "Float", "Boolean", "AWSTimestamp", "AWSJSON")


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
class Reference:
    """Fields of a model that hold another model's key: a relationship's foreign key, which its GSI indexes."""

    model: str  # the related model whose key the fields hold
    fields: tuple[str, ...]  # in the order of that model's key fields
    relationship: str  # as a person reads it: "Task.project (belongsTo Project)"


@dataclass(frozen=True)
class ModelSchema:
    name: str
    fields: dict[str, FieldSpec]
    primary_key: str
    sort_keys: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]
    custom_types: dict[str, dict[str, FieldSpec]]
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # secondary index name -> its key fields
    references: tuple[Reference, ...] = ()
    auth_fields: dict[str, str] = field(default_factory=dict)  # field -> OWNER_RULE or GROUPS_RULE, the rule that reads it
    owner_claims: dict[str, str] = field(default_factory=dict)  # owner field -> the identity claim its rule stores
    defaults: dict[str, Any] = field(default_factory=dict)  # field -> what the create resolver stores when an item gives none

    @property
    def undeclared_auth_fields(self) -> tuple[str, ...]:
        """Fields an auth rule adds without the model declaring them (allow.owner()'s `owner`): items still store them."""
        return tuple(name for name in self.auth_fields if name not in self.fields)

    def stores_sub_username(self, name: str) -> bool:
        """Whether owner field `name` holds "<sub>::<username>" (the rule uses Amplify's default identity claim)."""
        return self.auth_fields.get(name) == OWNER_RULE and self.owner_claims.get(name, SUB_USERNAME_CLAIMS[0]) in SUB_USERNAME_CLAIMS

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.primary_key, *self.sort_keys)

    def storable_fields(self) -> dict[str, FieldSpec]:
        """Fields an item stores: not relationships (their foreign keys are fields of their own)."""
        return {name: spec for name, spec in self.fields.items() if spec.model is None}

    def seedable_fields(self) -> list[str]:
        """What a seed item may set: the stored fields and the owner and group fields auth rules add."""
        return [*self.storable_fields(), *self.undeclared_auth_fields]


def model_schemas(introspection: dict[str, Any], defaults: dict[str, dict[str, str]] | None = None) -> dict[str, ModelSchema]:
    """Every model's schema; `defaults` are the synthesized field defaults (DesiredBackend.field_defaults)."""
    enums = {name: tuple(enum["values"]) for name, enum in introspection.get("enums", {}).items()}
    custom_types = {
        name: {field_name: _field(spec) for field_name, spec in custom["fields"].items()}
        for name, custom in introspection.get("nonModels", {}).items()
    }
    models = introspection.get("models", {})
    references = _references(models)
    schemas = {}
    for name, model in models.items():
        key_info = model.get("primaryKeyInfo", {})
        fields = {field_name: _field(spec) for field_name, spec in model["fields"].items()}
        schemas[name] = ModelSchema(
            name=name,
            fields=fields,
            primary_key=key_info.get("primaryKeyFieldName", "id"),
            sort_keys=tuple(key_info.get("sortKeyFieldNames", [])),
            enums=enums,
            custom_types=custom_types,
            indexes=_secondary_indexes(model),
            references=tuple(references.get(name, ())),
            auth_fields=_auth_fields(model),
            owner_claims=_owner_claims(model),
            defaults=_stored_defaults(name, fields, (defaults or {}).get(name, {})),
        )
    return schemas


def model_schema(introspection: dict[str, Any], model: str, seed_file: str, defaults: dict[str, dict[str, str]] | None = None) -> ModelSchema:
    schemas = model_schemas(introspection, defaults)
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


def _stored_defaults(model: str, fields: dict[str, FieldSpec], texts: dict[str, str]) -> dict[str, Any]:
    """Each `@default(value: "<text>")` as the create resolver stores it: an Int a number, a Boolean a bool, AWSJSON parsed."""
    stored = {}
    for name, text in texts.items():
        spec = fields.get(name)
        if spec is None or spec.model is not None:
            continue
        try:
            stored[name] = _stored_default(spec, text)
        except (ValueError, InvalidOperation) as error:
            raise SeedError(
                f"The default of {model}.{name} in amplify/data, {text!r}, is not a {spec.describe_type()}; "
                "Amplify's create resolver could not store it either.",
                f"Give {model}.{name} a default of its type in amplify/data/resource.ts (.default(...)), then run again.",
            ) from error
    return stored


def _stored_default(spec: FieldSpec, text: str) -> Any:
    if spec.scalar not in LITERAL_DEFAULT_TYPES:
        return text
    if spec.scalar == "Boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if spec.scalar in ("Int", "AWSTimestamp"):
        return int(text)
    if spec.scalar == "Float":
        return Decimal(text)
    return json.loads(text, parse_float=Decimal)


def _secondary_indexes(model: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """`.secondaryIndexes(...)`: `key` attributes with a name (the unnamed one is the primary key)."""
    indexes = {}
    for attribute in model.get("attributes", []):
        properties = attribute.get("properties") or {}
        if attribute.get("type") == "key" and properties.get("name"):
            indexes[properties["name"]] = tuple(properties.get("fields", []))
    return indexes


def _references(models: dict[str, Any]) -> dict[str, list[Reference]]:
    """Per model, its fields that hold a related model's key, from both sides of each relationship.

    A belongsTo names its own fields (`targetNames`); a hasMany/hasOne names the related
    model's fields (`associatedWith`). Either side alone is enough to know the foreign key.
    """
    found: dict[str, list[Reference]] = {}

    def add(model: str, reference: Reference) -> None:
        known = found.setdefault(model, [])
        if all(existing.fields != reference.fields or existing.model != reference.model for existing in known):
            known.append(reference)

    relationships = [
        (name, field_name, spec["type"]["model"], spec["association"])
        for name, model in models.items()
        for field_name, spec in model["fields"].items()
        if spec.get("association") and isinstance(spec["type"], dict) and spec["type"].get("model")
    ]
    for name, field_name, related, association in relationships:  # the side that holds the fields first
        target_names = _names(association.get("targetNames", association.get("targetName")))
        if target_names:
            add(name, Reference(related, target_names, _relationship_text(name, field_name, association, related)))
    for name, field_name, related, association in relationships:
        associated = _names(association.get("associatedWith"))
        if associated and association.get("connectionType") in ("HAS_MANY", "HAS_ONE") and related in models:
            related_fields = models[related]["fields"]
            scalars = tuple(n for n in associated if n in related_fields and not isinstance(related_fields[n]["type"], dict))
            if scalars:
                add(related, Reference(name, scalars, _relationship_text(name, field_name, association, related)))
    return found


def _relationship_text(model: str, field_name: str, association: dict[str, Any], related: str) -> str:
    kind = association.get("connectionType", "")
    word = {"BELONGS_TO": "belongsTo", "HAS_MANY": "hasMany", "HAS_ONE": "hasOne"}.get(kind, kind.lower())
    return f"{model}.{field_name} ({word} {related})"


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(name for name in value if isinstance(name, str))
    return ()


def _auth_rules(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        rule
        for attribute in model.get("attributes", []) if attribute.get("type") == "auth"
        for rule in (attribute.get("properties") or {}).get("rules", [])
    ]


def _auth_fields(model: dict[str, Any]) -> dict[str, str]:
    """Fields an authorization rule reads: owner fields (allow.owner, ownerDefinedIn, ownersDefinedIn) and group fields (groupsDefinedIn)."""
    fields: dict[str, str] = {}
    for rule in _auth_rules(model):
        if rule.get("allow") == "owner":
            fields.setdefault(rule.get("ownerField", DEFAULT_OWNER_FIELD), OWNER_RULE)
        if rule.get("groupsField"):
            fields.setdefault(rule["groupsField"], GROUPS_RULE)
    return fields


def _owner_claims(model: dict[str, Any]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for rule in _auth_rules(model):
        if rule.get("allow") == "owner":
            claims.setdefault(rule.get("ownerField", DEFAULT_OWNER_FIELD), rule.get("identityClaim", SUB_USERNAME_CLAIMS[0]))
    return claims
