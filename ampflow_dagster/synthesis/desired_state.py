"""What a synthesized backend declares: its tables, keys, indexes and authorization."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ampflow_dagster.synthesis.api_spec import GraphqlApiSpec
from ampflow_dagster.tables.names import table_name

# Bumped whenever DesiredBackend gains something synthesis must read: a cache of another format is synthesized again.
DESIRED_FORMAT = 8


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"

    def text(self) -> str:
        keys = self.hash_key if self.range_key is None else f"{self.hash_key} + {self.range_key}"
        return f"{self.name}: {keys} ({self.projection})"


@dataclass(frozen=True)
class TableSpec:
    model: str
    hash_key: str
    range_key: str | None
    attribute_types: dict[str, str]
    indexes: tuple[IndexSpec, ...]
    stream_view_type: str | None
    billing_mode: str
    point_in_time_recovery: bool
    deletion_protection: bool
    replace_table_upon_gsi_update: bool

    def name(self, api_id: str) -> str:
        return table_name(self.model, api_id)

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def key_schema_text(self) -> str:
        return self.hash_key if self.range_key is None else f"{self.hash_key} + {self.range_key}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableSpec:
        return cls(**{**data, "indexes": tuple(IndexSpec(**index) for index in data["indexes"])})


# Attributes every Cognito user pool has; any other attribute is a custom one, written `custom:<name>`.
STANDARD_ATTRIBUTES = (
    "address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name", "locale", "middle_name",
    "name", "nickname", "phone_number", "phone_number_verified", "picture", "preferred_username", "profile",
    "updated_at", "website", "zoneinfo",
)


@dataclass(frozen=True)
class UserGroupSpec:
    name: str
    precedence: int | None = None


@dataclass(frozen=True)
class UserPoolSpec:
    """The Cognito user pool `defineAuth` declares: what a pool must have for seed users to sign in as in the app.

    `username_attributes` are what users sign in with instead of a username (`email`, `phone_number`);
    with one, Cognito names each user by a generated id (its `sub`). `custom_attributes` maps a custom
    attribute's name (without `custom:`) to its CloudFormation schema entry. `password_policy` is the
    pool's PasswordPolicy as declared (MinimumLength, RequireNumbers, ...).
    """

    username_attributes: tuple[str, ...] = ()
    auto_verified_attributes: tuple[str, ...] = ()
    required_attributes: tuple[str, ...] = ()
    custom_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    password_policy: dict[str, Any] = field(default_factory=dict)
    case_sensitive_usernames: bool = False
    groups: tuple[UserGroupSpec, ...] = ()
    client_auth_flows: tuple[str, ...] = ()

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(group.name for group in self.groups)

    def attribute_names(self) -> tuple[str, ...]:
        """Every attribute a user of this pool may carry, as Cognito names them."""
        return (*STANDARD_ATTRIBUTES, *(f"custom:{name}" for name in self.custom_attributes))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserPoolSpec:
        lists = ("username_attributes", "auto_verified_attributes", "required_attributes", "client_auth_flows")
        return cls(**{
            **data,
            **{name: tuple(data.get(name, ())) for name in lists},
            "groups": tuple(UserGroupSpec(**group) for group in data.get("groups", ())),
        })


@dataclass
class DesiredBackend:
    """Everything ampflow needs from one synthesis, cached as JSON by the amplify/ fingerprint.

    `stack_name` is the backend's own root stack; `other_stacks` names the other root stacks of the
    same CDK app (plain CDK stacks a backend.ts adds), which Amplify deploys beside it.

    A data API without models (custom types, queries and mutations only) has no tables, a model
    introspection with no models (`{"version": 1, "models": {}, "enums": …, "nonModels": …}`, as
    Amplify writes it) and statements for its operations. A backend without a data API (auth or
    storage only) has `has_data_api` False, no tables, an empty model introspection (`{}`), no
    statements and no authorization types.

    `field_defaults` holds, per model, the fields with a default (`a.integer().default(0)`) and the
    text of that default, as the model schema declares it: the introspection leaves them out.
    `auth` is the user pool `defineAuth` declares (None for a backend without auth).

    `graphql_api` is the data API as the local GraphQL endpoint serves it (None without a data API).

    `client_outputs` is amplify_outputs.json as Amplify's own generator makes it from the backend's
    stack outputs, with the environment's values as placeholders (`synthesis/backend_outputs.py`);
    `unresolved_outputs` says what each `@@unresolved:<n>@@` marker in it stood for.

    `variables_digest` identifies the variables synthesis ran with ("" for none): synthesizing the
    same tree with other values is another backend.
    """

    fingerprint: str
    stack_name: str
    tables: dict[str, TableSpec]
    default_authorization_type: str
    additional_authorization_types: list[str]
    model_introspection: dict[str, Any]
    statements: dict[str, str] = field(default_factory=dict)
    other_stacks: list[str] = field(default_factory=list)
    has_data_api: bool = True
    variables_digest: str = ""
    field_defaults: dict[str, dict[str, str]] = field(default_factory=dict)
    auth: UserPoolSpec | None = None
    graphql_api: GraphqlApiSpec | None = None
    client_outputs: dict[str, Any] = field(default_factory=dict)
    unresolved_outputs: list[str] = field(default_factory=list)

    def template_hash(self) -> str:
        """A hash of the table definitions alone: what a deployment must make real."""
        tables = {model: asdict(spec) for model, spec in sorted(self.tables.items())}
        return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:16]

    def model_hashes(self) -> dict[str, str]:
        """Per model, a hash of its table and its fields: when it changes, its seed items need checking again."""
        hashes = {}
        for model, spec in sorted(self.tables.items()):
            declared = {"table": asdict(spec), "model": self.model_introspection.get("models", {}).get(model)}
            if self.field_defaults.get(model):  # only then: the hashes of models without defaults stay as they were
                declared["defaults"] = self.field_defaults[model]
            hashes[model] = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()[:12]
        return hashes

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tables": {model: asdict(spec) for model, spec in self.tables.items()}, "format": DESIRED_FORMAT}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DesiredBackend:
        tables = {model: TableSpec.from_json(spec) for model, spec in data["tables"].items()}
        auth = UserPoolSpec.from_json(data["auth"]) if data.get("auth") else None
        api = GraphqlApiSpec.from_json(data["graphql_api"]) if data.get("graphql_api") else None
        fields = {key: value for key, value in data.items() if key != "format"}
        return cls(**{**fields, "tables": tables, "auth": auth, "graphql_api": api})
