"""`{"user": "alice"}` in an owner field: a user of the environment's users file, stored as Amplify stores owners.

Amplify's owner rules (with the default identity claim) store `<sub>::<username>`, where `sub` is the
user's id in the pool and `username` the name Cognito knows them by (`cognito:username`: for a pool
that signs in with email, Cognito's generated id, so the sub again). Both exist only once the user is
in the pool, so a seed item names the user and the value is resolved when the item is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.model_schema import ModelSchema

REFERENCE_KEY = "user"
# What a reference is checked as: the shape of the value it becomes.
STORED_SHAPE = "sub::username"


@dataclass(frozen=True)
class UserIdentity:
    """A user as the pool knows them: their `sub` and their Cognito username."""

    sub: str
    username: str

    @property
    def owner(self) -> str:
        return f"{self.sub}::{self.username}"


def user_reference(value: Any) -> str | None:
    """The username `value` names, if it is `{"user": "<username>"}`."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(REFERENCE_KEY), str):
        return value[REFERENCE_KEY]
    return None


def as_stored_shape(value: Any) -> Any:
    """`value` with each reference replaced by a value of the shape it will be stored as (for type checks)."""
    if isinstance(value, list):
        return [STORED_SHAPE if user_reference(element) is not None else element for element in value]
    return STORED_SHAPE if user_reference(value) is not None else value


def referenced_users(schema: ModelSchema, values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, username) of each reference in the owner fields of one seed record."""
    for name in schema.auth_fields:
        if not schema.stores_sub_username(name):
            continue
        value = values.get(name)
        for element in value if isinstance(value, list) else [value]:
            username = user_reference(element)
            if username is not None:
                yield name, username


def unknown_user_problems(references: list[tuple[str, str]], known: frozenset[str] | None, users_file: str) -> list[str]:
    """A problem per reference (field, username) to a user the environment's users file does not declare."""
    problems = []
    for name, username in references:
        if known is None:
            problems.append(f"field '{name}' names user '{username}', but there is no {users_file}; add the user there")
        elif username not in known:
            problems.append(f"field '{name}' names user '{username}', who is not in {users_file}; add the user there or fix the name")
    return problems


def resolve_user_references(schema: ModelSchema, item: dict[str, Any], owners: Mapping[str, str]) -> dict[str, Any]:
    """`item` with each `{"user": name}` in its owner fields replaced by `owners[name]` (`<sub>::<username>`)."""
    resolved = dict(item)
    for name in {name for name, _ in referenced_users(schema, item)}:
        value = item[name]
        resolved[name] = [_owner(owners, element) for element in value] if isinstance(value, list) else _owner(owners, value)
    return resolved


def _owner(owners: Mapping[str, str], value: Any) -> Any:
    username = user_reference(value)
    if username is None:
        return value
    if username not in owners:
        raise SeedError(
            f"Seed item names user '{username}', who is not in the environment's user pool.",
            "Materialize seeded_users for this environment first (seeding models does so when both are selected).",
        )
    return owners[username]
