"""The user pool `defineAuth` declares, read from the synthesized auth stack.

Amplify puts an `AWS::Cognito::UserPool`, its `AWS::Cognito::UserPoolClient` and one
`AWS::Cognito::UserPoolGroup` per declared group in the backend's `auth` nested stack, and tags the
pool `amplify:friendly-name`. A pool a custom stack declares beside it is the app's own, not Amplify's.
"""

from __future__ import annotations

from typing import Any

from ampflow_dagster.synthesis.cloud_assembly import CloudAssembly, StackTemplate, Unresolved
from ampflow_dagster.synthesis.desired_state import STANDARD_ATTRIBUTES, UserGroupSpec, UserPoolSpec

USER_POOL = "AWS::Cognito::UserPool"
USER_POOL_CLIENT = "AWS::Cognito::UserPoolClient"
USER_POOL_GROUP = "AWS::Cognito::UserPoolGroup"
AMPLIFY_NAME_TAG = "amplify:friendly-name"


def user_pool_spec(assembly: CloudAssembly) -> UserPoolSpec | None:
    """The backend's user pool, its groups and its client; None for a backend without auth."""
    pools = [
        (template, logical_id, template.evaluate(resource.get("Properties", {})))
        for template in assembly.root.tree()
        for logical_id, resource in template.resources(USER_POOL)
    ]
    if not pools:
        return None
    tagged = [pool for pool in pools if AMPLIFY_NAME_TAG in (pool[2].get("UserPoolTags") or {})]
    template, logical_id, properties = (tagged or pools)[0]
    schema = [entry for entry in properties.get("Schema") or [] if isinstance(entry, dict) and isinstance(entry.get("Name"), str)]
    return UserPoolSpec(
        username_attributes=_strings(properties.get("UsernameAttributes")),
        auto_verified_attributes=_strings(properties.get("AutoVerifiedAttributes")),
        required_attributes=tuple(entry["Name"] for entry in schema if _is_standard(entry) and _truthy(entry.get("Required"))),
        custom_attributes={entry["Name"]: _plain(entry) for entry in schema if not _is_standard(entry)},
        password_policy=_plain((properties.get("Policies") or {}).get("PasswordPolicy") or {}),
        case_sensitive_usernames=_truthy((properties.get("UsernameConfiguration") or {}).get("CaseSensitive", True)),
        groups=_groups(template, logical_id),
        client_auth_flows=_client_auth_flows(template, logical_id),
    )


def _groups(template: StackTemplate, pool_id: str) -> tuple[UserGroupSpec, ...]:
    groups = []
    for _, resource in template.resources(USER_POOL_GROUP):
        properties = resource.get("Properties", {})
        if properties.get("UserPoolId") == {"Ref": pool_id} and isinstance(properties.get("GroupName"), str):
            groups.append(UserGroupSpec(properties["GroupName"], _whole_number(template.evaluate(properties.get("Precedence")))))
    return tuple(sorted(groups, key=lambda group: (group.precedence is None, group.precedence or 0, group.name)))


def _client_auth_flows(template: StackTemplate, pool_id: str) -> tuple[str, ...]:
    for _, resource in template.resources(USER_POOL_CLIENT):
        properties = template.evaluate(resource.get("Properties", {}))
        if resource.get("Properties", {}).get("UserPoolId") == {"Ref": pool_id}:
            return _strings(properties.get("ExplicitAuthFlows"))
    return ()


def _is_standard(entry: dict[str, Any]) -> bool:
    """CDK writes standard attributes without a data type; a custom attribute always has one."""
    return entry["Name"] in STANDARD_ATTRIBUTES and "AttributeDataType" not in entry


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(element for element in value if isinstance(element, str)) if isinstance(value, list) else ()


def _plain(mapping: dict[str, Any]) -> dict[str, Any]:
    """`mapping` without values only known at deploy time (JSON-safe, for the synthesis cache)."""
    return {
        key: _plain(value) if isinstance(value, dict) else value
        for key, value in mapping.items()
        if not isinstance(value, Unresolved) and isinstance(value, (str, int, float, bool, dict, list))
    }


def _whole_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
