"""A local environment's GraphQL endpoint: Amplify's AppSync simulator serving the synthesized API on loopback.

Like the embedded emulator it is started on demand, one per environment, and left running for the
next run; `server.json` says where it is and what it serves. It runs the resolvers and pipeline
functions Amplify generated (VTL, unchanged) against the DynamoDB endpoint of the environment's
tables, with an API key of the environment's own. When the API or a value it was started with
changes, it is restarted on the same port, so the client's `data.url` stays put.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.errors import DeploymentError
from ampflow_dagster.graphql.simulator import LAUNCHER, simulator_dir
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.synthesis.api_spec import (
    ACCOUNT, API_ID, GRAPHQL_URL, REGION, USER_POOL_CLIENT_ID, USER_POOL_ID, GraphqlApiSpec,
)
from ampflow_dagster.targets.servers import free_port, port_answers, process_alive, stop_process_group

STARTUP_TIMEOUT_SECONDS = 90.0
LOCAL_ACCOUNT = "123456789012"  # moto's account
API_KEY_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class EndpointValues:
    """What the environment gives the API when the endpoint starts (CloudFormation would at deployment)."""

    api_id: str
    region: str
    dynamodb_endpoint: str
    api_key: str
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None


@dataclass(frozen=True)
class RunningEndpoint:
    pid: int
    port: int
    fingerprint: str  # the API's (GraphqlApiSpec.fingerprint)
    started_seconds: float = 0.0  # 0 when an endpoint already running was reused

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


class LocalGraphqlEndpoint:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.server_file = state_dir / "server.json"
        self.config_file = state_dir / "config.json"
        self.log_file = state_dir / "server.log"

    def ensure_running(self, spec: GraphqlApiSpec, values: EndpointValues) -> RunningEndpoint:
        """The endpoint serving `spec` with `values`: the running one if it does, else (re)started."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        started_with = _started_with(spec, values)
        with exclusive_lock(self.state_dir / "endpoint.lock"):
            recorded = self._recorded()
            known = self.running()
            if known is not None and recorded.get("started_with") == started_with:
                return known
            if known is not None:
                stop_process_group(known.pid)
            return self._start(spec, values, started_with, recorded.get("port"))

    def running(self) -> RunningEndpoint | None:
        recorded = self._recorded()
        if "pid" not in recorded:
            return None
        endpoint = RunningEndpoint(pid=int(recorded["pid"]), port=int(recorded["port"]), fingerprint=recorded["fingerprint"])
        if process_alive(endpoint.pid) and port_answers(endpoint.port):
            return endpoint
        return None

    def stop(self) -> bool:
        if not self.state_dir.is_dir():
            return False
        with exclusive_lock(self.state_dir / "endpoint.lock"):
            endpoint = self.running()
            if endpoint is None:
                return False
            stop_process_group(endpoint.pid)
            # The port stays recorded: the next start takes it again, so the client's data.url still holds.
            self.server_file.write_text(json.dumps({"port": endpoint.port}), encoding="utf-8")
            return True

    def _start(self, spec: GraphqlApiSpec, values: EndpointValues, started_with: str, previous_port: int | None) -> RunningEndpoint:
        node = shutil.which("node")
        if node is None:
            raise DeploymentError(
                "node is not on PATH: the local GraphQL endpoint runs Amplify's AppSync simulator with Node.",
                "Install Node.js 20+ (it also runs Amplify's synthesis), then run again.",
            )
        installed = simulator_dir()
        port = free_port(previous_port, "the local GraphQL endpoint")
        config = _launcher_config(spec, values, port, self.state_dir / "functions")
        self.config_file.touch(mode=0o600)  # it holds the API key
        self.config_file.write_text(json.dumps(config), encoding="utf-8")
        clock = time.monotonic()
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [node, str(LAUNCHER), str(self.config_file), str(installed)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the run that started it
            )
        deadline = clock + STARTUP_TIMEOUT_SECONDS
        while not port_answers(port, timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    stop_process_group(process.pid)
                raise DeploymentError(
                    f"The local GraphQL endpoint (AppSync simulator on port {port}) did not start: {self._log_tail()}",
                    f"Read {self.log_file} for the cause. The simulator install is {installed}: delete it to have "
                    "ampflow install it again.",
                )
            time.sleep(0.1)
        endpoint = RunningEndpoint(process.pid, port, spec.fingerprint(), started_seconds=time.monotonic() - clock)
        recorded = {"pid": endpoint.pid, "port": port, "fingerprint": endpoint.fingerprint, "started_with": started_with}
        self.server_file.write_text(json.dumps(recorded), encoding="utf-8")
        return endpoint

    def _recorded(self) -> dict:
        try:
            return json.loads(self.server_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except FileNotFoundError:
            return "no output"
        return "\n".join(lines[-15:]) or "no output"


def api_key(state_dir: Path, environment: str) -> str:
    """The environment's API key: made once, kept in the project's state (readable by its owner only)."""
    key_file = state_dir / "graphql" / environment / "api-key"
    with exclusive_lock(key_file.with_name("api-key.lock")):
        if key_file.is_file():
            return key_file.read_text(encoding="utf-8").strip()
        key = "da2-" + "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(26))
        key_file.touch(mode=0o600)
        key_file.write_text(key + "\n", encoding="utf-8")
        return key


def graphql_endpoint(state_dir: Path, environment: str) -> LocalGraphqlEndpoint:
    return LocalGraphqlEndpoint(state_dir / "graphql" / environment)


def stop_graphql_endpoints(state_dir: Path) -> list[str]:
    """Stop every environment's endpoint of the project whose state is `state_dir`; the environments stopped."""
    folder = state_dir / "graphql"
    if not folder.is_dir():
        return []
    return [child.name for child in sorted(folder.iterdir()) if child.is_dir() and LocalGraphqlEndpoint(child).stop()]


def _launcher_config(spec: GraphqlApiSpec, values: EndpointValues, port: int, functions_dir: Path) -> dict:
    api = spec.with_values({
        API_ID: values.api_id, REGION: values.region, ACCOUNT: LOCAL_ACCOUNT,
        USER_POOL_ID: values.user_pool_id or "", USER_POOL_CLIENT_ID: values.user_pool_client_id or "",
        GRAPHQL_URL: f"http://127.0.0.1:{port}/graphql",
    })
    pool = {"id": values.user_pool_id, "region": values.region} if values.user_pool_id else None
    return {
        "port": port,
        "apiName": "amplifyData",
        "schema": api["schema"],
        "auth": {
            "default": api["default_authorization_type"], "additional": api["additional_authorization_types"],
            "apiKey": values.api_key, "userPool": pool,
        },
        "dynamodb": {
            # Local endpoints take any credentials; the user's own are never written here.
            "endpoint": values.dynamodb_endpoint, "region": values.region, "accessKeyId": "testing", "secretAccessKey": "testing",
        },
        "dataSources": api["data_sources"],
        "functions": api["functions"],
        "resolvers": api["resolvers"],
        "templates": api["templates"],
        "code": api.get("code") or {},
        "lambdas": _function_bundles(api.get("lambdas") or {}, functions_dir),
    }


def _function_bundles(lambdas: dict, functions_dir: Path) -> list[dict]:
    """Each a.handler.function's bundle written under the app's state, where Node resolves the app's own
    packages (its node_modules) for what the bundle leaves out, as Lambda's runtime provides the AWS SDK."""
    shutil.rmtree(functions_dir, ignore_errors=True)
    written = []
    for name, function in sorted(lambdas.items()):
        folder = functions_dir / name
        for relative, text in function["files"].items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text, encoding="utf-8")
        written.append({key: value for key, value in function.items() if key != "files"} | {"dir": str(folder)})
    return written


def _started_with(spec: GraphqlApiSpec, values: EndpointValues) -> str:
    """What the endpoint was started with, as a hash (the API key only hashed, never stored here)."""
    return hashlib.sha256(json.dumps([spec.fingerprint(), values.__dict__], sort_keys=True).encode()).hexdigest()[:16]
