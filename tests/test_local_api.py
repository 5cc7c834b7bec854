"""The local environment's GraphQL endpoint: Amplify's own resolvers, run by Amplify's AppSync simulator,
over the emulator's tables, after the workflow materialized development on the sample app."""

from __future__ import annotations

import dataclasses
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ampflow_dagster.errors import DeploymentError
from ampflow_dagster.graphql.simulator import simulator_dir
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.targets.graphql_endpoint import EndpointValues, graphql_endpoint
from ampflow_dagster.verification.graphql_api import check_list_queries
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from cli import ampflow
from conftest import App, copy_fixture, copy_synthesized_app, materialized


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, synthesized_app: Path) -> Any:
    """The sample app with development materialized once: tables, seed items, client, endpoint."""
    application = App(copy_synthesized_app(synthesized_app, tmp_path_factory.mktemp("api") / "app").root)
    with dg.instance_for_test() as instance:
        result = application.materialize("development", instance)
        application.instance = instance  # type: ignore[attr-defined]
        application.result = result  # type: ignore[attr-defined]
        yield application
    application.emulator().stop()


def outputs(app: App) -> dict[str, Any]:
    return json.loads((app.root / "clients" / "development" / "amplify_outputs.json").read_text())


def graphql(app: App, query: str, variables: dict[str, Any] | None = None, api_key: str | None = None) -> dict[str, Any]:
    data = outputs(app)["data"]
    return post(data["url"], api_key or data["api_key"], query, variables)


def post(url: str, api_key: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps({"query": query, "variables": variables or {}}).encode(), method="POST",
        headers={"content-type": "application/json", "x-api-key": api_key},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_endpoint_lists_the_seeded_dev_items_with_the_api_key(served: App) -> None:
    answer = graphql(served, "query { listTodos { items { id content done priority } } }")
    assert "errors" not in answer, answer
    listed = {item["id"]: item["content"] for item in answer["data"]["listTodos"]["items"]}
    assert listed == {item["id"]: item["content"] for item in served.items("development", "Todo")}  # the whole table
    seeded = {f"[DEV] {line['content']}" for line in served.seed_lines("development", "Todo")}
    assert seeded <= set(listed.values())  # (another test of this module may have created a todo beside them)


def test_outputs_and_deployment_name_the_endpoint(served: App) -> None:
    data = outputs(served)["data"]
    assert data["url"].startswith("http://127.0.0.1:") and data["url"].endswith("/graphql")
    assert data["api_key"].startswith("da2-") and len(data["api_key"]) == 30
    assert data["default_authorization_type"] == "API_KEY"
    assert data["authorization_types"] == []  # AWS_IAM is not served locally, so the client is not told it is
    assert set(data["model_introspection"]["models"]) == {"Todo", "Project", "Task", "ProjectCharter", "InventoryItem"}
    deployment = materialized(served.result)["backend_deployment"]  # type: ignore[attr-defined]
    desired = EnvironmentWorkspace.open(served.project, "development", AwsSettings()).desired()
    assert deployment["graphql_endpoint"] == data["url"]
    assert deployment["graphql_api_fingerprint"] == desired.graphql_api.fingerprint()
    assert "AWS_IAM" in deployment["graphql_not_served"]
    assert data["api_key"] not in json.dumps(deployment)


def test_get_by_composite_key(served: App) -> None:
    answer = graphql(
        served,
        "query ($w: String!, $s: String!, $b: String!) { getInventoryItem(warehouseId: $w, sku: $s, batch: $b) { name quantity } }",
        {"w": "wh-berlin", "s": "DESK-01", "b": "2026-10"},
    )
    assert answer["data"]["getInventoryItem"] == {"name": "[DEV] Standing desk", "quantity": 12}, answer


def test_has_many_and_belongs_to(served: App) -> None:
    answer = graphql(served, '{ getProject(id: "proj-website") { name tasks { items { id project { id } } } } }')
    project = answer["data"]["getProject"]
    assert project["name"] == "[DEV] Website relaunch", answer
    assert sorted(task["id"] for task in project["tasks"]["items"]) == ["task-copy", "task-design"]
    assert {task["project"]["id"] for task in project["tasks"]["items"]} == {"proj-website"}


def test_wrong_api_key_is_refused(served: App) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        graphql(served, "query { listTodos { items { id } } }", api_key="da2-notthekeyofthisenvironment00")
    assert refused.value.code == 401


def test_only_graphql_is_served_and_only_on_loopback(served: App) -> None:
    url = outputs(served)["data"]["url"]
    port = int(url.split(":")[2].split("/")[0])
    for path, method in (("/clear-data", "DELETE"), ("/api-config", "GET")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method), timeout=10)
        assert refused.value.code == 404
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = {line.split()[1] for line in listening if line.split()[3] == "0A"}  # state LISTEN
    assert f"0100007F:{port:04X}" in local
    assert f"00000000:{port:04X}" not in local
    outside = _non_loopback_address()
    if outside is not None:  # a machine with only loopback has nothing else to try
        with pytest.raises(OSError):
            socket.create_connection((outside, port), timeout=2).close()


def test_created_item_lands_in_the_table_and_survives_a_reseed(served: App) -> None:
    created = graphql(
        served, "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id content } }",
        {"input": {"content": "Written through the local API", "priority": "LOW"}},
    )
    todo_id = created["data"]["createTodo"]["id"]
    stored = {item["id"]: item for item in served.items("development", "Todo")}
    assert stored[todo_id]["content"] == "Written through the local API"
    assert stored[todo_id]["__typename"] == "Todo"
    seeded = [key.to_user_string() for asset in served.assets() for key in asset.keys if key.path[-1].startswith("seeded_")]
    assert len(seeded) >= 5
    reseed = served.materialize("development", served.instance, selection=seeded)  # type: ignore[attr-defined]
    assert set(materialized(reseed)) == set(seeded)
    after = {item["id"]: item for item in served.items("development", "Todo")}
    assert after[todo_id] == stored[todo_id]
    listed = graphql(served, "query { listTodos { items { id } } }")["data"]["listTodos"]["items"]
    assert todo_id in {item["id"] for item in listed}


def list_queries_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "list_queries"]
    return evaluation


def test_verified_tables_asks_every_models_list_query_through_the_endpoint(served: App) -> None:
    evaluation = list_queries_evaluation(served.result)  # type: ignore[attr-defined]
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["queries"].value == 5
    assert evaluation.metadata["endpoint"].value == outputs(served)["data"]["url"]
    answers = evaluation.metadata["answers"].value
    for query in ("listTodos", "listProjects", "listTasks", "listProjectCharters", "listInventoryItems"):
        assert f"`{query}` | items | answered: " in answers


def test_list_query_check_fails_on_an_answer_the_rules_do_not_allow_or_no_answer(served: App) -> None:
    desired = EnvironmentWorkspace.open(served.project, "development", AwsSettings()).desired()
    data = outputs(served)["data"]
    # Todo, as if only signed-in users could read it: the endpoint answering the key with items is a failure.
    listed = "listTodos(filter: ModelTodoFilterInput, limit: Int, nextToken: String): ModelTodoConnection"
    api = dataclasses.replace(desired.graphql_api, schema=desired.graphql_api.schema.replace(
        f"{listed} @aws_api_key @aws_iam", f"{listed} @aws_cognito_user_pools"))
    assert api.schema != desired.graphql_api.schema
    checks = {c.model: c for c in check_list_queries(data["url"], data["api_key"], api, desired.model_introspection)}
    assert checks["Todo"].expected == "Unauthorized" and not checks["Todo"].passed
    assert "answered the API key" in checks["Todo"].answer
    assert checks["Task"].passed
    wrong_key = check_list_queries(data["url"], "da2-wrongwrongwrongwrongwrong1", desired.graphql_api, desired.model_introspection)
    assert not any(c.passed for c in wrong_key) and all("HTTP 401" in c.answer for c in wrong_key)


def test_list_query_check_fails_when_the_endpoint_stopped_and_a_deployment_brings_it_back(served: App) -> None:
    endpoint = graphql_endpoint(served.project.state_dir, "development")
    assert endpoint.stop()
    stopped = list_queries_evaluation(served.materialize("development", served.instance, selection="verified_tables"))  # type: ignore[attr-defined]
    assert not stopped.passed
    assert "local GraphQL endpoint is not running" in stopped.description and "ampflow deploy development" in stopped.description
    again = served.materialize("development", served.instance, selection=["backend_deployment", "verified_tables"])  # type: ignore[attr-defined]
    assert list_queries_evaluation(again).passed
    assert endpoint.running() is not None


def test_endpoint_is_reused_stops_with_the_emulator_and_comes_back_on_its_port(served: App) -> None:
    endpoint = graphql_endpoint(served.project.state_dir, "development")
    running = endpoint.running()
    assert running is not None
    served.materialize("development", served.instance, selection="api_client")  # type: ignore[attr-defined]
    assert endpoint.running() == running  # same process, same port
    served.emulator().stop()
    assert endpoint.running() is None
    again = materialized(served.materialize("development", served.instance))  # type: ignore[attr-defined]
    assert again["backend_deployment"]["deployment"] == "skipped"  # the tables survived; only the endpoint restarts
    restarted = endpoint.running()
    assert restarted is not None and restarted.port == running.port and restarted.pid != running.pid
    assert again["backend_deployment"]["graphql_endpoint"] == outputs(served)["data"]["url"]
    listed = graphql(served, "query { listTodos { items { id } } }")["data"]["listTodos"]["items"]
    assert sorted(item["id"] for item in listed) == sorted(item["id"] for item in served.items("development", "Todo"))
    assert len(listed) >= len(served.seed_lines("development", "Todo"))


@pytest.fixture(scope="module")
def zero_models(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The zero-models fixture app (an a.handler.function query, an a.handler.custom mutation), synthesized,
    with an emulator for its endpoint's DynamoDB endpoint."""
    project = copy_fixture("zero-models", tmp_path_factory.mktemp("zero") / "app", shared_synthesis=True)
    spec = synthesize(project, BackendIdentifier(project.package_name(), "development", "sandbox")).graphql_api
    assert spec is not None
    emulator = EmbeddedEmulator(project.state_dir / "emulator")
    values = EndpointValues(api_id="zeromodelsapi", region="us-east-1", dynamodb_endpoint=emulator.ensure_running().endpoint, api_key="da2-zeromodels")
    yield project, spec, values
    emulator.stop()


def test_a_handler_function_runs_its_bundle_and_a_handler_custom_runs_its_js(zero_models: Any) -> None:
    """a.handler.function runs the function's synthesized bundle in a child process; a.handler.custom
    (APPSYNC_JS, on no data source) runs its request and response handlers."""
    project, spec, values = zero_models
    assert list(spec.lambdas) and not [u for u in spec.unsupported if "Lambda" in u.reason]
    url = graphql_endpoint(project.state_dir, "development").ensure_running(spec, values).url
    greet = post(url, values.api_key, 'mutation { greet(name: "Ada") { text language } }')
    assert greet == {"data": {"greet": {"text": "Hello, Ada!", "language": "EN"}}}
    echo = post(url, values.api_key, 'query { echo(content: "hi from the bundle") { content executionDuration } }')
    assert "errors" not in echo, echo
    assert echo["data"]["echo"]["content"] == "hi from the bundle" and echo["data"]["echo"]["executionDuration"] >= 0


def test_a_handler_functions_error_reaches_the_client(zero_models: Any) -> None:
    project, spec, values = zero_models
    (name, function), = spec.lambdas.items()
    failing = {**function, "files": {file: "export const handler = async (event) => { throw new Error(`no echo for ${event.arguments.content}`); };\n"
                                     for file in function["files"] if file.startswith("index.")}}
    broken = dataclasses.replace(spec, lambdas={name: failing})
    endpoint = graphql_endpoint(project.state_dir, "development")
    try:
        answer = post(endpoint.ensure_running(broken, values).url, values.api_key, 'query { echo(content: "x") { content } }')
        assert answer["data"]["echo"] is None and "no echo for x" in answer["errors"][0]["message"], answer
    finally:
        endpoint.ensure_running(spec, values)


def test_endpoint_restarts_on_its_port_when_what_it_serves_changes(zero_models: Any) -> None:
    project, spec, values = zero_models
    endpoint = graphql_endpoint(project.state_dir, "development")
    first = endpoint.ensure_running(spec, values)
    assert endpoint.ensure_running(spec, values) == endpoint.running()  # unchanged: the same process
    assert endpoint.running().pid == first.pid
    renewed = EndpointValues(**{**values.__dict__, "api_key": "da2-renewedkey"})
    second = endpoint.ensure_running(spec, renewed)
    assert (second.port, second.fingerprint) == (first.port, spec.fingerprint()) and second.pid != first.pid
    assert post(second.url, renewed.api_key, "{ __schema { queryType { name } } }")["data"]["__schema"]["queryType"]["name"] == "Query"
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(second.url, values.api_key, "{ __schema { queryType { name } } }")
    assert refused.value.code == 401
    assert endpoint.stop() and endpoint.running() is None


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_missing_simulator_install_or_npm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMPFLOW_SIMULATOR_DIR", str(tmp_path / "empty"))
    with pytest.raises(DeploymentError) as named:
        simulator_dir()
    assert "AMPFLOW_SIMULATOR_DIR" in named.value.message and named.value.code == "DeploymentError"
    monkeypatch.delenv("AMPFLOW_SIMULATOR_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no install there yet
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(DeploymentError) as no_npm:
        simulator_dir()
    assert "npm is not on PATH" in no_npm.value.message and "Node.js" in no_npm.value.resolution


def test_outputs_command_writes_the_file_the_front_end_reads_and_brings_the_endpoint_back(served: App, tmp_path: Path) -> None:
    served.emulator().stop()  # the endpoint stops with it; `ampflow outputs` starts both again
    written = ampflow(served.root, "outputs", "development", dagster_home=tmp_path / "home")
    assert written.returncode == 0, written.stdout + written.stderr
    at_root = json.loads((served.root / "amplify_outputs.json").read_text())
    assert at_root == outputs(served)
    answer = post(at_root["data"]["url"], at_root["data"]["api_key"], "query { listTodos { items { id } } }")
    assert "errors" not in answer and answer["data"]["listTodos"]["items"], answer
    # an app without a user pool gets the helper too (subscriptions), and the line to call it with
    helper = (served.root / "amplify_configure_local.js").read_text()
    assert f'export const graphqlEndpoint = "{at_root["data"]["url"]}";' in helper
    assert "export const userPoolEndpoint = null;" in helper
    assert "configureAmplify(Amplify, outputs);" in written.stdout
    elsewhere = ampflow(served.root, "outputs", "development", "--out-dir", str(tmp_path / "web" / "src"), dagster_home=tmp_path / "home")
    assert elsewhere.returncode == 0 and (tmp_path / "web" / "src" / "amplify_outputs.json").is_file()


def test_outputs_command_before_any_client_says_what_to_run(tmp_path: Path, synthesized_app: Path) -> None:
    fresh = copy_synthesized_app(synthesized_app, tmp_path / "app")
    refused = ampflow(fresh.root, "outputs", "production", dagster_home=tmp_path / "home")
    assert refused.returncode == 2
    assert "Error [NoClientYet]" in refused.stderr and "`ampflow prod`" in refused.stderr
    assert not (fresh.root / "amplify_outputs.json").exists()
