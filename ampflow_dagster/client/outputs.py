"""Write a local environment's amplify_outputs.json and GraphQL statements.

amplify_outputs.json is what Amplify's own generator made at synthesis from the backend's stack
outputs (`DesiredBackend.client_outputs`: auth, data, storage and `backend.addOutput`'s custom
outputs, at the version the app's Amplify writes), with the environment's values put in: its local
GraphQL endpoint and API key, its user pool and app client in the emulator, its buckets. What no
local environment has is taken out and listed under `custom.ampflow.not_served`, with the reason:
IAM authorization (no identity pool runs locally, so no guest access either, nor the front end's
Storage calls), the hosted UI, and custom outputs that name resources of the cloud.

With a data API or a user pool, `amplify_configure_local.js` is written beside it, the front end's one
line for a local environment: Amplify's client signs in against Cognito in AWS unless its
configuration names another endpoint, and no outputs field carries one (`Auth.Cognito.userPoolEndpoint`
is set after `Amplify.configure`); and it dials subscriptions with TLS, which the loopback endpoint
does not speak (the helper sends that one host's WebSockets unencrypted).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampflow_dagster.synthesis.api_spec import ACCOUNT, API_ID, GRAPHQL_URL, REGION, USER_POOL_CLIENT_ID, USER_POOL_ID
from ampflow_dagster.synthesis.backend_outputs import API_KEY, BUCKET_PATTERN, UNRESOLVED_PATTERN
from ampflow_dagster.synthesis.desired_state import DesiredBackend

OUTPUTS_FILE = "amplify_outputs.json"
CONFIGURE_FILE = "amplify_configure_local.js"
IAM_REASON = "IAM authorization needs an identity pool and signed requests, which no local environment serves"
STORAGE_REASON = (
    "the buckets are in the emulator (functions and seed files reach them), but the front end's Storage calls "
    "(uploadData, list, getUrl, remove) sign with identity-pool credentials, which no local environment gives yet: "
    "they fail with NoCredentials"
)


@dataclass(frozen=True)
class DataApi:
    """Where the environment's GraphQL API answers, when the target serves one itself (local)."""

    url: str
    api_key: str


@dataclass(frozen=True)
class LocalValues:
    """What a local environment puts in place of the synthesized outputs' placeholders."""

    api_id: str
    region: str
    account: str
    data_api: DataApi | None = None
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    user_pool_endpoint: str | None = None



def local_bucket_name(api_id: str, logical_id: str) -> str:
    """The environment's own bucket for a bucket `defineStorage` declares: S3's rules, one per environment."""
    name = re.sub(r"[^a-z0-9-]", "", f"amplify-{api_id}-{logical_id}".lower())
    return name[:63].rstrip("-")


def storage_buckets(desired: DesiredBackend, api_id: str) -> list[str]:
    """The environment's bucket names, one per bucket of the synthesized outputs."""
    return sorted({local_bucket_name(api_id, logical_id) for logical_id in BUCKET_PATTERN.findall(json.dumps(desired.client_outputs))})


@dataclass(frozen=True)
class ClientFiles:
    directory: Path
    outputs_file: Path
    statement_files: list[Path]
    configure_file: Path | None = None


def local_outputs(desired: DesiredBackend, values: LocalValues, about: dict[str, Any]) -> dict[str, Any]:
    """amplify_outputs.json for a local environment; `about` goes under `custom.ampflow`."""
    text = json.dumps(desired.client_outputs)
    for placeholder, value in ((API_ID, values.api_id), (REGION, values.region), (ACCOUNT, values.account),
                               (USER_POOL_ID, values.user_pool_id), (USER_POOL_CLIENT_ID, values.user_pool_client_id),
                               (GRAPHQL_URL, values.data_api.url if values.data_api else None),
                               (API_KEY, values.data_api.api_key if values.data_api else None)):
        if value is not None:
            text = text.replace(placeholder, value)
    text = BUCKET_PATTERN.sub(lambda match: local_bucket_name(values.api_id, match.group(1)), text)
    outputs = json.loads(text)
    not_served: dict[str, str] = {}
    _drop_unresolved(outputs, "", desired.unresolved_outputs, not_served)
    _local_data(outputs, desired, values, not_served)
    _local_auth(outputs, values, not_served)
    if "storage" in outputs:
        not_served["storage"] = STORAGE_REASON
    custom = outputs.setdefault("custom", {})
    custom["ampflow"] = {
        **about,
        **({"user_pool_endpoint": values.user_pool_endpoint} if "auth" in outputs else {}),
        "not_served": not_served,
    }
    return outputs


def write_client(directory: Path, desired: DesiredBackend, outputs: dict[str, Any], environment: str) -> ClientFiles:
    """Replace `directory` with a fresh client, written whole or not at all."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        (staging / OUTPUTS_FILE).write_text(json.dumps(outputs, indent=2) + "\n", encoding="utf-8")
        endpoint = outputs.get("custom", {}).get("ampflow", {}).get("user_pool_endpoint") if "auth" in outputs else None
        graphql_url = outputs.get("data", {}).get("url")
        if endpoint or graphql_url:
            (staging / CONFIGURE_FILE).write_text(configure_script(environment, graphql_url, endpoint), encoding="utf-8")
        statements_dir = staging / "graphql"
        statements_dir.mkdir()
        for name, text in sorted(desired.statements.items()):
            (statements_dir / name).write_text(text, encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    configure = directory / CONFIGURE_FILE
    return ClientFiles(
        directory=directory,
        outputs_file=directory / OUTPUTS_FILE,
        statement_files=sorted((directory / "graphql").iterdir()),
        configure_file=configure if configure.is_file() else None,
    )


def configure_script(environment: str, graphql_url: str | None, user_pool_endpoint: str | None) -> str:
    """amplify_configure_local.js: `Amplify.configure(outputs)` and what a local environment adds to it."""
    steps = []
    if user_pool_endpoint:
        steps.append(
            "  // Users sign in against the environment's own user pool: no outputs field names its endpoint.\n"
            "  const config = Amplify.getConfig();\n"
            "  Amplify.configure({ ...config, Auth: { ...config.Auth, Cognito: { ...config.Auth?.Cognito, userPoolEndpoint } } });"
        )
    if graphql_url:
        steps.append(
            "  // Subscriptions: Amplify's client always dials wss://<endpoint host>/graphql/realtime, and the local\n"
            "  // endpoint speaks plain HTTP on loopback. WebSockets to that one host go unencrypted; no other.\n"
            "  dialRealtimeWithoutTls(graphqlEndpoint);"
        )
    realtime = """
function dialRealtimeWithoutTls(endpoint) {
  const NativeWebSocket = globalThis.WebSocket;
  if (!NativeWebSocket || NativeWebSocket.ampflowLocalHost) return;
  const { host } = new URL(endpoint);
  class LocalWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      const target = new URL(String(url));
      if (target.protocol === 'wss:' && target.host === host) target.protocol = 'ws:';
      super(target.toString(), protocols);
    }
  }
  LocalWebSocket.ampflowLocalHost = host;
  globalThis.WebSocket = LocalWebSocket;
}
""" if graphql_url else ""
    return f"""// Generated by ampflow for the local environment "{environment}"; `ampflow outputs {environment}` writes it again.
// What the front end needs to run against a local environment, beyond amplify_outputs.json. In the
// front end, instead of `Amplify.configure(outputs)`:
//
//   import {{ Amplify }} from 'aws-amplify';
//   import outputs from './amplify_outputs.json';
//   import {{ configureAmplify }} from './amplify_configure_local.js';
//   configureAmplify(Amplify, outputs);
//
// Development only: a cloud environment's front end calls Amplify.configure(outputs) itself.
export const graphqlEndpoint = {json.dumps(graphql_url)};
export const userPoolEndpoint = {json.dumps(user_pool_endpoint)};

export function configureAmplify(Amplify, outputs) {{
  Amplify.configure(outputs);
{chr(10).join(steps)}
}}
{realtime}"""


def _drop_unresolved(value: Any, path: str, unresolved: list[str], not_served: dict[str, str]) -> bool:
    """Remove, in place, each value holding a marker of something the environment lacks; True if `value` itself holds one."""
    if isinstance(value, str):
        found = UNRESOLVED_PATTERN.search(value)
        if found:
            not_served[path] = f"refers to {unresolved[int(found.group(1))]}, which no local environment deploys"
        return found is not None
    if isinstance(value, dict):
        for key in [key for key, item in value.items() if _drop_unresolved(item, f"{path}.{key}" if path else key, unresolved, not_served)]:
            del value[key]
    if isinstance(value, list):
        kept = [item for index, item in enumerate(value) if not _drop_unresolved(item, f"{path}[{index}]", unresolved, not_served)]
        value[:] = kept
    return False


def _local_data(outputs: dict[str, Any], desired: DesiredBackend, values: LocalValues, not_served: dict[str, str]) -> None:
    data = outputs.get("data")
    if data is None:
        return
    if values.data_api is None or desired.graphql_api is None:
        del outputs["data"]
        not_served["data"] = "the environment's local GraphQL endpoint is not running"
        return
    served = desired.graphql_api.served_authorization_types()
    declared = [data.get("default_authorization_type"), *(data.get("authorization_types") or [])]
    for mode in declared:
        if mode and mode not in served:
            not_served[f"data.authorization_types.{mode}"] = IAM_REASON if mode == "AWS_IAM" else "the local endpoint does not serve it"
    data["default_authorization_type"] = served[0] if served else "API_KEY"
    data["authorization_types"] = served[1:]


def _local_auth(outputs: dict[str, Any], values: LocalValues, not_served: dict[str, str]) -> None:
    auth = outputs.get("auth")
    if auth is None:
        return
    if values.user_pool_id is None:
        del outputs["auth"]
        not_served["auth"] = "the environment has no user pool in the emulator yet"
        return
    if auth.pop("unauthenticated_identities_enabled", False):
        not_served["auth.unauthenticated_identities_enabled"] = "guest access needs an identity pool, which no local environment runs"
    if auth.pop("oauth", None) is not None:
        not_served["auth.oauth"] = "sign-in through the hosted UI and social providers needs Cognito's domain in AWS"
