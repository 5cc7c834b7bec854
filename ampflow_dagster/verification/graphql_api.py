"""Each model's list query, asked of the environment's local GraphQL endpoint with its API key.

The tables can be right while the API over them is not (a data source naming another table, a
template that does not parse, an endpoint that stopped), so `verified_tables` also asks the API.
Whether the key may read a model is AppSync's own rule, read from the transformed schema's
directives: a field's `@aws_*` directives, else its type's, else the API's default mode. A model the
key may read must answer with its items; any other must refuse the key as `Unauthorized`, which
shows that the model's resolver and its authorization ran.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, build_ast_schema, parse

from ampflow_dagster.synthesis.api_spec import GraphqlApiSpec

API_KEY_DIRECTIVE = "aws_api_key"
AUTH_DIRECTIVES = {"aws_api_key", "aws_iam", "aws_cognito_user_pools", "aws_oidc", "aws_lambda", "aws_auth"}
# Directives and scalars AppSync defines but the transformed schema does not declare.
APPSYNC_DEFINITIONS = """
scalar AWSDate scalar AWSTime scalar AWSDateTime scalar AWSTimestamp scalar AWSEmail scalar AWSJSON
scalar AWSURL scalar AWSPhone scalar AWSIPAddress
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
directive @aws_oidc on FIELD_DEFINITION | OBJECT
directive @aws_lambda on FIELD_DEFINITION | OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""


@dataclass(frozen=True)
class ListQueryCheck:
    model: str
    query: str
    expected: str  # "items" or "Unauthorized"
    answer: str  # what the endpoint said, in a few words
    passed: bool
    milliseconds: float


def check_list_queries(url: str, api_key: str, spec: GraphqlApiSpec, model_introspection: dict[str, Any]) -> list[ListQueryCheck]:
    """Ask each model's list query once (limit 1) and compare the answer with what its rules allow the key."""
    schema = build_ast_schema(parse(APPSYNC_DEFINITIONS + spec.schema), assume_valid_sdl=True)
    query_type = schema.query_type
    checks = []
    for model in sorted(model_introspection.get("models", {}).values(), key=lambda entry: entry["name"]):
        field_name = f"list{model['pluralName']}"
        if query_type is None or field_name not in query_type.fields:
            continue  # the model disables its list query
        key_fields = _key_fields(model)
        query = f"query {{ {field_name}(limit: 1) {{ items {{ {' '.join(key_fields)} }} nextToken }} }}"
        expected = "items" if _api_key_may_read(query_type, field_name, schema.get_type(model["name"]), spec) else "Unauthorized"
        started = time.perf_counter()
        answer, passed = _ask(url, api_key, query, field_name, expected, "API_KEY" in spec.served_authorization_types())
        checks.append(ListQueryCheck(model["name"], field_name, expected, answer, passed, (time.perf_counter() - started) * 1000))
    return checks


def _key_fields(model: dict[str, Any]) -> list[str]:
    key = model.get("primaryKeyInfo") or {}
    return [key.get("primaryKeyFieldName") or "id", *key.get("sortKeyFieldNames", [])]


def _api_key_may_read(query_type: GraphQLObjectType, field_name: str, model_type: Any, spec: GraphqlApiSpec) -> bool:
    """AppSync's rule: the field's auth directives, else the type's, else the API's default mode."""
    for node in (query_type.fields[field_name].ast_node, getattr(model_type, "ast_node", None)):
        modes = {directive.name.value for directive in (node.directives if node else ())} & AUTH_DIRECTIVES
        if modes:
            return API_KEY_DIRECTIVE in modes
    return spec.default_authorization_type == "API_KEY"


def _ask(url: str, api_key: str, query: str, field_name: str, expected: str, key_mode: bool) -> tuple[str, bool]:
    """The answer, and whether it is the expected one. Without API key authorization, AppSync refuses
    every keyed request with HTTP 401 before any resolver runs: that is the refusal then expected."""
    request = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), method="POST",
        headers={"content-type": "application/json", "x-api-key": api_key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 401 and not key_mode and expected == "Unauthorized":
            return "refused the API key (HTTP 401): the API has no API key authorization", True
        return f"HTTP {error.code}: {error.read()[:200].decode(errors='replace')}", False
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"no answer: {error}", False
    errors = answer.get("errors") or []
    if expected == "items":
        items = ((answer.get("data") or {}).get(field_name) or {}).get("items")
        if errors or not isinstance(items, list):
            return "; ".join(_error_text(error) for error in errors) or f"no items in {json.dumps(answer)[:200]}", False
        return f"answered: {len(items)} item(s) on a first page of at most 1", True
    refused = [error for error in errors if error.get("errorType") == "Unauthorized"]
    if refused:
        return "refused the API key (Unauthorized), as the model's rules require", True
    return "; ".join(_error_text(error) for error in errors) or "answered the API key, which the model's rules do not allow", False


def _error_text(error: dict[str, Any]) -> str:
    return f"{error.get('errorType') or 'error'}: {error.get('message', '')}"[:300]
