"""Create and update an environment's seed users in its Cognito user pool, as `ampx sandbox seed` does.

One code path for every target: it takes a boto3 cognito-idp client (the emulator's for `local`, the
account's for sandbox and branch) and the environment's pool. Users are created without an invitation
(MessageAction SUPPRESS) and with a permanent password, so they can sign in at once. Users of the pool
that the file does not list are never touched: the app's own sign-ups live there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from botocore.exceptions import ClientError

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.passwords import PasswordChoice, generated_password, given_password, password_problems, policy_text
from ampflow_dagster.seeding.user_references import UserIdentity
from ampflow_dagster.seeding.users import SeedUser, SeedUsers
from ampflow_dagster.synthesis.desired_state import UserPoolSpec
from ampflow_dagster.targets.user_pools import UserPoolRef
from ampflow_dagster.progress import Log

NO_PASSWORD = ("FORCE_CHANGE_PASSWORD", "RESET_REQUIRED")  # statuses in which a user cannot sign in with a password


@dataclass
class UsersResult:
    pool_id: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passwords_from_variables: dict[str, str] = field(default_factory=dict)  # username -> the variable's name
    passwords_generated: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> its seed users
    identities: dict[str, UserIdentity] = field(default_factory=dict)


def apply_seed_users(
    client: Any, pool: UserPoolRef, spec: UserPoolSpec, users: SeedUsers, environ: Mapping[str, str], log: Log
) -> UsersResult:
    """Make each user of `users` exist in `pool` with the file's attributes and groups; returns what was done."""
    existing = {user.username: _find_user(client, pool.pool_id, user.sign_in_name(spec)) for user in users.users}
    given = {user.username: given_password(user, environ, existing=not _needs_password(existing[user.username])) for user in users.users}
    _check_passwords(users, given, spec)
    result = UsersResult(pool.pool_id)
    for user in users.users:
        found = existing[user.username]
        password = given[user.username] or (generated_password(spec.password_policy) if _needs_password(found) else None)
        if found is None:
            found = _create_user(client, pool.pool_id, user, spec)
            result.created.append(user.username)
        else:
            attributes_changed = _update_attributes(client, pool.pool_id, user, found)
            groups_changed = _update_groups(client, pool.pool_id, user, spec, found)
            (result.updated if attributes_changed or groups_changed else result.unchanged).append(user.username)
        if password is not None:
            _set_password(client, pool.pool_id, found["Username"], password)
            _note_password(result, user, password, log)
        for group in user.groups:
            result.groups.setdefault(group, []).append(user.username)
        result.identities[user.username] = _identity(found)
    return result


def _needs_password(found: dict[str, Any] | None) -> bool:
    """A new user, or one who cannot sign in with a password (e.g. restored by an emulator, whose recording holds none)."""
    return found is None or found.get("UserStatus") in NO_PASSWORD


def _note_password(result: UsersResult, user: SeedUser, password: PasswordChoice, log: Log) -> None:
    """Where the password came from, never what it is."""
    if password.generated:
        result.passwords_generated.append(user.username)
        log(f"{user.username}: given a generated password (set {user.password_variable} before the user is created, "
            "or name a variable in password_env, to choose one)")
    else:
        result.passwords_from_variables[user.username] = str(password.variable)
        log(f"{user.username}: password set from {password.variable}")


def read_identities(client: Any, pool: UserPoolRef, spec: UserPoolSpec, users: list[SeedUser]) -> dict[str, UserIdentity]:
    """Each user's sub and Cognito username in `pool`; a SeedError names the users not there yet."""
    found = {user.username: _find_user(client, pool.pool_id, user.sign_in_name(spec)) for user in users}
    missing = sorted(name for name, user in found.items() if user is None)
    if missing:
        raise SeedError(
            f"Seed items name user(s) {', '.join(missing)}, who are not in environment '{pool.environment}''s user pool "
            f"({pool.pool_id}); nothing was written.",
            f"Materialize seeded_users for '{pool.environment}' first (ampflow seed {pool.environment} seeds users before models).",
        )
    return {name: _identity(user) for name, user in found.items() if user is not None}


def _check_passwords(users: SeedUsers, passwords: Mapping[str, PasswordChoice | None], spec: UserPoolSpec) -> None:
    """Every given password against the pool's policy, before any user is written."""
    problems = []
    for user in users.users:
        choice = passwords[user.username]
        if choice is not None:
            broken = password_problems(choice.value, spec.password_policy)
            if broken:
                problems.append(f"  {user.where}: the password in {choice.variable} for '{user.username}' is {', '.join(broken)}")
    if problems:
        raise SeedError(
            f"{len(problems)} password(s) for environment '{users.environment.name}' do not meet the user pool's policy; "
            "nothing was written:\n" + "\n".join(problems),
            f"Set those variables to passwords the policy accepts ({policy_text(spec.password_policy)}), then seed again.",
        )


def _find_user(client: Any, pool_id: str, sign_in: str) -> dict[str, Any] | None:
    try:
        return client.admin_get_user(UserPoolId=pool_id, Username=sign_in)
    except ClientError as error:
        if error.response["Error"]["Code"] == "UserNotFoundException":  # the one answer that is not a failure
            return None
        raise  # workflow.users names the environment and pool (aws_errors.FAILURES)


def _create_user(client: Any, pool_id: str, user: SeedUser, spec: UserPoolSpec) -> dict[str, Any]:
    created = client.admin_create_user(
        UserPoolId=pool_id,
        Username=user.sign_in_name(spec),
        UserAttributes=_attribute_list(user.cognito_attributes()),
        MessageAction="SUPPRESS",
    )["User"]
    for group in user.groups:
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=created["Username"], GroupName=group)
    return {"Username": created["Username"], "UserAttributes": created.get("Attributes", [])}


def _set_password(client: Any, pool_id: str, username: str, password: PasswordChoice) -> None:
    client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password.value, Permanent=True)


def _update_attributes(client: Any, pool_id: str, user: SeedUser, found: dict[str, Any]) -> bool:
    live = {attribute["Name"]: attribute["Value"] for attribute in found.get("UserAttributes", [])}
    changed = {name: value for name, value in user.cognito_attributes().items() if live.get(name) != value}
    if changed:
        client.admin_update_user_attributes(UserPoolId=pool_id, Username=found["Username"], UserAttributes=_attribute_list(changed))
    return bool(changed)


def _update_groups(client: Any, pool_id: str, user: SeedUser, spec: UserPoolSpec, found: dict[str, Any]) -> bool:
    """The user's memberships of defineAuth's groups become the file's; groups the app made itself are left alone."""
    pages = client.get_paginator("admin_list_groups_for_user").paginate(UserPoolId=pool_id, Username=found["Username"])
    live = {group["GroupName"] for page in pages for group in page["Groups"]}
    to_add = [group for group in user.groups if group not in live]
    to_remove = sorted(group for group in live if group in spec.group_names and group not in user.groups)
    for group in to_add:
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=found["Username"], GroupName=group)
    for group in to_remove:
        client.admin_remove_user_from_group(UserPoolId=pool_id, Username=found["Username"], GroupName=group)
    return bool(to_add or to_remove)


def _identity(found: dict[str, Any]) -> UserIdentity:
    attributes = {attribute["Name"]: attribute["Value"] for attribute in found.get("UserAttributes", [])}
    return UserIdentity(sub=attributes.get("sub", found["Username"]), username=found["Username"])


def _attribute_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]

