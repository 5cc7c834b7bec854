"""What the local GraphQL endpoint serves: the data API read from a synthesis, cached with it.

Values only a deployment knows are placeholders here; the endpoint puts the environment's own in
when it starts (`with_values`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Deploy-time values. None holds ':' or '/', so Fn::Split / Fn::Select on an ARN built from them still work.
API_ID = "@@apiId@@"
REGION = "@@region@@"
ACCOUNT = "@@account@@"
USER_POOL_ID = "@@userPoolId@@"
USER_POOL_CLIENT_ID = "@@userPoolClientId@@"
GRAPHQL_URL = "@@graphqlUrl@@"
PLACEHOLDERS = (API_ID, REGION, ACCOUNT, USER_POOL_ID, USER_POOL_CLIENT_ID, GRAPHQL_URL)

SERVED_AUTHORIZATION = ("API_KEY", "AMAZON_COGNITO_USER_POOLS")


@dataclass(frozen=True)
class Unsupported:
    """Something of the API the local endpoint cannot run, and why; its query fails with that reason."""

    subject: str
    reason: str


@dataclass
class GraphqlApiSpec:
    """The data API, ready for the simulator but for the deploy-time placeholders.

    `templates` maps a template's content hash to its VTL; resolvers and functions refer to templates
    by that hash. Data sources name their table with the API id placeholder (`Todo-@@apiId@@-NONE`).
    """

    schema: str
    default_authorization_type: str
    additional_authorization_types: list[str]
    data_sources: list[dict[str, str]]
    functions: list[dict[str, Any]]
    resolvers: list[dict[str, Any]]
    templates: dict[str, str]
    unsupported: list[Unsupported] = field(default_factory=list)
    # a.handler.function's Lambda functions by name: runtime, handler, timeout, environment and bundled files
    lambdas: dict[str, dict[str, Any]] = field(default_factory=dict)
    # a.handler.custom's APPSYNC_JS modules by content hash: the app's file they came from, and the code
    code: dict[str, dict[str, str]] = field(default_factory=dict)
    # tables of the app's own stacks that data sources use, by local name (`<logicalId>-@@apiId@@-app`): TableSpec as JSON
    app_tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """What the endpoint serves, as a hash: the schema fingerprint shown on a deployment."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:16]

    def served_authorization_types(self) -> list[str]:
        modes = [self.default_authorization_type, *self.additional_authorization_types]
        return [mode for mode in modes if mode in SERVED_AUTHORIZATION]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def with_values(self, values: dict[str, str]) -> dict[str, Any]:
        """The spec as JSON with each placeholder (`API_ID`, ...) replaced by the environment's value."""
        text = json.dumps(self.to_json())
        for placeholder in PLACEHOLDERS:
            text = text.replace(placeholder, json.dumps(values.get(placeholder, ""))[1:-1])
        return json.loads(text)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GraphqlApiSpec:
        return cls(**{**data, "unsupported": [Unsupported(**entry) for entry in data.get("unsupported", [])]})
