"""The backend's outputs, as Amplify's client config generator reads them from a deployed stack.

Amplify lists, in the root stack's `Metadata`, each part of the backend (`AWS::Amplify::Auth`,
`AWS::Amplify::GraphQL`, `AWS::Amplify::Storage`, `AWS::Amplify::Custom`, ...) with the names of the
stack outputs that carry it; `ampx generate outputs` reads those outputs from CloudFormation and
turns them into amplify_outputs.json. ampflow evaluates the same outputs from the synthesized
template, with the environment's values as placeholders (the API, the user pool and its client,
buckets, the API key, the region), so Amplify's own generator can run once, at synthesis, and the
placeholders are filled in when an environment's outputs are written.

A value no local environment has (a resource a custom stack declares, the model schema's bucket)
becomes an `@@unresolved:<n>@@` marker; `unresolved[n]` says what it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ampflow_dagster.synthesis.cloud_assembly import CloudAssembly, Evaluator, JoinedTokens, StackTemplate, Unresolved
from ampflow_dagster.synthesis.graphql_api import EndpointPlaceholders

API_KEY = "@@apiKey@@"
BUCKET = "@@bucket:{}@@"  # the logical id of the bucket in its stack
BUCKET_PATTERN = re.compile(r"@@bucket:([A-Za-z0-9]+)@@")
UNRESOLVED = "@@unresolved:{}@@"  # the index of its description in BackendOutputs.unresolved
UNRESOLVED_PATTERN = re.compile(r"@@unresolved:(\d+)@@")
AMPLIFY_METADATA = "AWS::Amplify::"


@dataclass(frozen=True)
class BackendOutputs:
    """Per Amplify metadata key, `{"version", "payload": {output name: text}}`, as Amplify's generator takes them."""

    outputs: dict[str, Any] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


def backend_outputs(assembly: CloudAssembly) -> BackendOutputs:
    root = assembly.root
    evaluator = Evaluator(_OutputValues())
    declared = root.body.get("Outputs", {})
    unresolved: list[str] = []
    outputs: dict[str, Any] = {}
    for key, entry in (root.body.get("Metadata") or {}).items():
        if not key.startswith(AMPLIFY_METADATA) or not isinstance(entry, dict):
            continue
        payload = {
            name: _text(evaluator.evaluate(root, declared[name].get("Value")), unresolved)
            for name in entry.get("stackOutputs") or []
            if name in declared
        }
        outputs[key] = {"version": str(entry.get("version", "1")), "payload": payload}
    return BackendOutputs(outputs, unresolved)


def _text(value: Any, unresolved: list[str]) -> str:
    """A stack output as CloudFormation reports it (always a string), with markers for what stays unknown."""
    if isinstance(value, Unresolved):
        unresolved.append(value.description)
        return UNRESOLVED.format(len(unresolved) - 1)
    if isinstance(value, JoinedTokens):
        return value.separator.join(_text(part, unresolved) for part in value.parts)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class _OutputValues(EndpointPlaceholders):
    """The endpoint's placeholders, plus what only outputs carry; anything else stays a token."""

    def reference(self, evaluator: Evaluator, stack: StackTemplate, name: str, resource: dict[str, Any]) -> Any:
        kind = resource.get("Type")
        if kind == "AWS::S3::Bucket":
            return BUCKET.format(name)
        if kind == "AWS::Cognito::IdentityPool":
            return ""  # no identity pool runs locally: Amplify's generator then writes no identity_pool_id
        return super().reference(evaluator, stack, name, resource)

    def attribute(self, evaluator: Evaluator, stack: StackTemplate, name: str, attribute: str, resource: dict[str, Any]) -> Any:
        kind = resource.get("Type")
        if kind == "AWS::AppSync::ApiKey" and attribute == "ApiKey":
            return API_KEY
        if kind == "AWS::S3::Bucket" and attribute in ("Arn", "BucketName"):
            bucket = BUCKET.format(name)
            return bucket if attribute == "BucketName" else f"arn:aws:s3:::{bucket}"
        return super().attribute(evaluator, stack, name, attribute, resource)

    def unknown(self, description: str) -> Any:
        return Unresolved(description)
