"""Build a Cognito user pool, its client and its groups to match a UserPoolSpec (for the local target).

Cloud targets get their pool from Amplify's deployment; the local target builds the same pool in the
emulator, named after the environment's API id so environments never share one, and found again by
that name on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ampflow_dagster.synthesis.desired_state import UserPoolSpec
from ampflow_dagster.progress import Log

PASSWORD_POLICY_KEYS = ("MinimumLength", "RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols",
                        "TemporaryPasswordValidityDays")
SCHEMA_KEYS = ("Name", "AttributeDataType", "Mutable", "Required", "StringAttributeConstraints", "NumberAttributeConstraints",
               "DeveloperOnlyAttribute")


@dataclass(frozen=True)
class UserPoolRef:
    """An environment's deployed user pool: where its seed users go."""

    pool_id: str
    environment: str  # the environment whose target found or built it
    client_id: str | None = None
    name: str = ""


def find_user_pool(client: Any, name: str) -> str | None:
    """The id of the pool named `name`, if there is one."""
    for page in client.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                return pool["Id"]
    return None


def ensure_user_pool(client: Any, name: str, spec: UserPoolSpec, environment: str, log: Log) -> UserPoolRef:
    """The pool named `name`, created or brought in line with `spec` (groups, custom attributes, client)."""
    pool_id = find_user_pool(client, name)
    if pool_id is not None and _sign_in_attributes(client, pool_id) != set(spec.username_attributes):
        # Cognito cannot change how users sign in; Amplify replaces the pool, and so do we.
        log(f"Replacing user pool {name}: its sign-in attributes changed (its users are gone, as in Amplify)")
        client.delete_user_pool(UserPoolId=pool_id)
        pool_id = None
    if pool_id is None:
        pool_id = _create_pool(client, name, spec, environment)
        log(f"Created user pool {name} ({pool_id})")
    else:
        _add_custom_attributes(client, pool_id, spec, log)
    _reconcile_groups(client, pool_id, spec, log)
    return UserPoolRef(pool_id, environment, _ensure_client(client, pool_id, f"{name}-client", spec), name)


def _create_pool(client: Any, name: str, spec: UserPoolSpec, environment: str) -> str:
    schema = [{"Name": attribute, "AttributeDataType": "String", "Mutable": True, "Required": True} for attribute in spec.required_attributes]
    schema += [_schema_entry(entry) for entry in spec.custom_attributes.values()]
    parameters: dict[str, Any] = {
        "PoolName": name,
        "UsernameConfiguration": {"CaseSensitive": spec.case_sensitive_usernames},
        "UserPoolTags": {"ampflow:environment": environment},
        "Schema": schema,
    }
    if spec.username_attributes:
        parameters["UsernameAttributes"] = list(spec.username_attributes)
    if spec.auto_verified_attributes:
        parameters["AutoVerifiedAttributes"] = list(spec.auto_verified_attributes)
    policy = {key: value for key, value in spec.password_policy.items() if key in PASSWORD_POLICY_KEYS}
    if policy:
        parameters["Policies"] = {"PasswordPolicy": policy}
    return client.create_user_pool(**parameters)["UserPool"]["Id"]


def _sign_in_attributes(client: Any, pool_id: str) -> set[str]:
    return set(client.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("UsernameAttributes") or [])


def _add_custom_attributes(client: Any, pool_id: str, spec: UserPoolSpec, log: Log) -> None:
    """Custom attributes added to defineAuth since the pool was made (Cognito never removes one)."""
    live = {attribute["Name"] for attribute in client.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("SchemaAttributes", [])}
    missing = [_schema_entry(entry) for name, entry in spec.custom_attributes.items() if f"custom:{name}" not in live]
    if missing:
        client.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=missing)
        log(f"Added custom attribute(s) {', '.join('custom:' + entry['Name'] for entry in missing)}")


def _reconcile_groups(client: Any, pool_id: str, spec: UserPoolSpec, log: Log) -> None:
    live = {group["GroupName"]: group for page in client.get_paginator("list_groups").paginate(UserPoolId=pool_id) for group in page["Groups"]}
    for group in spec.groups:
        arguments = {"GroupName": group.name, "UserPoolId": pool_id, **({"Precedence": group.precedence} if group.precedence is not None else {})}
        if group.name not in live:
            client.create_group(**arguments)
            log(f"Created group {group.name}")
        elif group.precedence is not None and live[group.name].get("Precedence") != group.precedence:
            client.update_group(**arguments)
    for name in sorted(set(live) - set(spec.group_names)):
        client.delete_group(GroupName=name, UserPoolId=pool_id)
        log(f"Deleted group {name}: defineAuth no longer declares it")


def _ensure_client(client: Any, pool_id: str, name: str, spec: UserPoolSpec) -> str:
    for page in client.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for app_client in page.get("UserPoolClients", []):
            if app_client["ClientName"] == name:
                return app_client["ClientId"]
    parameters: dict[str, Any] = {"UserPoolId": pool_id, "ClientName": name}
    if spec.client_auth_flows:
        parameters["ExplicitAuthFlows"] = list(spec.client_auth_flows)
    return client.create_user_pool_client(**parameters)["UserPoolClient"]["ClientId"]


def _schema_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key in SCHEMA_KEYS}
