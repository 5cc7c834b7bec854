"""A user's own Amplify app, as it is: `ampflow init` then `ampflow dev`, through the real CLI, on apps
written for this (tests/apps/), each in a temporary copy with the sample's npm packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from ampflow_dagster.project import Project
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from cli import ampflow
from conftest import REPO, copy_fixture
from dagster_ui import ampflow_ui, processes_with
from test_local_api import post

class UserApp:
    """A copy of one fixture app, run the way its user runs ampflow: from its root, with its own dagster_home/."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ampflow(self, *arguments: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return ampflow(self.root, *arguments, env=extra_env, timeout=900)  # its own dagster_home/, as its user has it

    def workspace(self, environment: str = "development") -> EnvironmentWorkspace:
        return EnvironmentWorkspace.open(Project(self.root), environment, AwsSettings())

    def items(self, model: str, environment: str = "development") -> list[dict[str, Any]]:
        server = json.loads((self.root / ".ampflow" / "emulator" / "server.json").read_text())
        dynamodb = boto3.resource(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{server['port']}", region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )
        return dynamodb.Table(self.workspace(environment).target.table_name(model)).scan()["Items"]


def user_app(name: str, tmp_path: Path, install: Path = REPO, shared_synthesis: bool = True) -> UserApp:
    """A copy of tests/apps/<name>, as its user has it. It starts with the session's syntheses of the same
    tree unless the test is about what that synthesis does on a first run."""
    return UserApp(copy_fixture(name, tmp_path / name, install=install, shared_synthesis=shared_synthesis).root)


@pytest.fixture
def stop_emulators(tmp_path: Path):
    yield
    for state in tmp_path.glob("*/.ampflow/emulator"):
        EmbeddedEmulator(state).stop()


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def test_init_then_dev_on_an_app_with_extra_stacks(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("extra-stacks", tmp_path)
    init = succeeded(app.ampflow("init"))
    assert "ampflow.toml" in init
    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev
    assert "ExtraStacksJobs" in dev  # the extra root stack is named, and what the local target does with it


def test_init_then_dev_on_a_data_api_without_models(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("zero-models", tmp_path)
    succeeded(app.ampflow("init"))
    assert not list((app.root / "seed_data").glob("*/*.jsonl"))  # no model, no example
    dev = succeeded(app.ampflow("dev"))
    assert "seeded_" not in dev
    queries = (app.root / "clients" / "development" / "graphql" / "queries.graphql").read_text()
    assert "echo" in queries
    mutations = (app.root / "clients" / "development" / "graphql" / "mutations.graphql").read_text()
    assert "greet" in mutations


def test_a_function_importing_its_generated_env_deploys_on_the_first_run_of_a_fresh_clone(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("function-env", tmp_path, shared_synthesis=False)  # its first synthesis is what is tested
    assert not (app.root / ".amplify").exists()
    succeeded(app.ampflow("init"))
    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev


def test_backend_variables_per_environment_are_required_and_part_of_the_fingerprint(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("env-variable", tmp_path)
    init = app.ampflow("init")
    # init synthesizes too: without the variable, backend.ts throws, and the message says which one
    assert init.returncode != 0
    assert "QUEUE_URL" in init.stderr
    queue = {"QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dev"}
    succeeded(app.ampflow("init", extra_env=queue))
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text().replace(
        "[environments.production]",
        '[environments.development.variables]\nQUEUE_URL = { from_env = "DEV_QUEUE_URL" }\n\n[environments.production]', 1,
    ))
    missing = app.ampflow("dev")
    assert missing.returncode != 0
    assert "DEV_QUEUE_URL" in missing.stderr and "is not set" in missing.stderr
    first = succeeded(app.ampflow("dev", extra_env={"DEV_QUEUE_URL": "https://sqs.example/jobs-one"}))
    assert "deployment=deployed" in first
    same = succeeded(app.ampflow("dev", extra_env={"DEV_QUEUE_URL": "https://sqs.example/jobs-one"}))
    assert "up to date" in same
    other = succeeded(app.ampflow("dev", extra_env={"DEV_QUEUE_URL": "https://sqs.example/jobs-two"}))
    assert "up to date" not in other and "backend_deployment" in other


def test_init_then_dev_on_a_schema_split_across_files(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("split-schema", tmp_path)
    succeeded(app.ampflow("init"))
    examples = sorted(path.stem for path in (app.root / "seed_data" / "development").glob("*.jsonl"))
    assert examples
    succeeded(app.ampflow("dev"))
    for model in examples:
        items = app.items(model)
        assert len(items) == 1 and any(str(value).startswith("[DEV] ") for value in items[0].values()), (model, items)


def test_init_then_dev_on_an_app_with_auth_storage_and_a_function(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("auth-storage-function", tmp_path)
    init = succeeded(app.ampflow("init"))
    config = (app.root / "ampflow.toml").read_text()
    assert 'project_id = "' in config
    assert "SensorReading's seed items carry no prefix" in config and "SensorReading" in init  # no safe label field: said
    assert (app.root / "seed_data" / "development" / "SensorReading.jsonl").exists()
    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev
    assert len(app.items("Journal")) == 1
    (reading,) = app.items("SensorReading")  # seeded as given: its composite key carries no prefix
    assert not any(str(value).startswith("[DEV]") for value in reading.values())


def test_init_then_dev_on_an_app_whose_fields_have_defaults(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("field-defaults", tmp_path)
    succeeded(app.ampflow("init"))
    (example,) = seed_lines(app.root / "seed_data" / "development")["Article"]
    assert "status" not in example  # the resolver's default fills it, and the index sort key made of it
    succeeded(app.ampflow("dev"))
    (article,) = app.items("Article")
    assert article["status"] == "draft" and article["status#createdAt"] == f"draft#{article['createdAt']}"


def test_with_dynamodb_pointed_elsewhere_the_cli_says_what_the_embedded_emulator_still_serves(
    tmp_path: Path, stop_emulators: None,
) -> None:
    theirs = EmbeddedEmulator(tmp_path / "their-dynamodb")  # DynamoDB Local, say: it has no Cognito or S3
    endpoint = theirs.ensure_running().endpoint
    try:
        app = user_app("auth-storage-function", tmp_path)
        succeeded(app.ampflow("init"))
        pointed = {"AWS_ENDPOINT_URL_DYNAMODB": endpoint}
        note = f"DynamoDB is {endpoint} (AWS_ENDPOINT_URL_DYNAMODB); the embedded emulator still serves Cognito and S3"
        assert note in succeeded(app.ampflow("dev", extra_env=pointed))
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="t", aws_secret_access_key="t")
        assert any(name.startswith("Journal-") for name in dynamodb.list_tables()["TableNames"])
        status = succeeded(app.ampflow("status", extra_env=pointed))
        assert note in status and "embedded emulator: http://127.0.0.1:" in status
        assert note not in succeeded(app.ampflow("status"))  # nothing is pointed elsewhere: nothing to say
    finally:
        theirs.stop()


def test_init_then_dev_on_the_oldest_supported_amplify(tmp_path: Path, oldest_install: Path, stop_emulators: None) -> None:
    app = user_app("oldest-amplify", tmp_path, install=oldest_install)
    succeeded(app.ampflow("init"))
    examples = sorted(path.stem for path in (app.root / "seed_data" / "development").glob("*.jsonl"))
    assert examples
    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev
    for model in examples:
        assert len(app.items(model)) == 1
    introspection = json.loads((app.root / "clients" / "development" / "amplify_outputs.json").read_text())
    assert set(introspection["data"]["model_introspection"]["models"]) >= set(examples)


def test_the_cli_shows_a_warning_check(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("zero-models", tmp_path)
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace(
        "defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 }",
        "defaultAuthorizationMode: 'iam', apiKeyAuthorizationMode: { expiresInDays: 30 }",
    ))
    succeeded(app.ampflow("init"))
    dev = succeeded(app.ampflow("dev"))  # a warning does not fail the run
    assert "! check api_client:default_authorization_mode warning: The data API's default authorization mode is `iam`" in dev


def test_init_never_overwrites_and_can_run_again(tmp_path: Path) -> None:
    app = user_app("split-schema", tmp_path)
    (app.root / ".gitignore").write_text("node_modules/\n")
    first = succeeded(app.ampflow("init"))
    written = {path: path.read_bytes() for path in app.root.rglob("*") if path.is_file() and "node_modules" not in path.parts
               and ".ampflow" not in path.parts}
    second = succeeded(app.ampflow("init"))
    assert "ampflow.toml" in second and "left alone" in second
    after = {path: path.read_bytes() for path in app.root.rglob("*") if path.is_file() and "node_modules" not in path.parts
             and ".ampflow" not in path.parts}
    assert after == written
    gitignore = (app.root / ".gitignore").read_text()
    assert gitignore.startswith("node_modules/\n") and "/.ampflow/" in gitignore and "!/dagster_home/dagster.yaml" in gitignore
    assert first != second


def test_pip_install_into_a_fresh_virtualenv_then_init_and_validate_the_definitions(tmp_path: Path) -> None:
    source = tmp_path / "ampflow-source"  # what a user checks out: no .venv, no node_modules, no state
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "ampflow_dagster", source / "ampflow_dagster", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(source)],
        capture_output=True, text=True, timeout=1200,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    app = user_app("split-schema", tmp_path)
    environment = {k: v for k, v in os.environ.items() if k not in ("AMPFLOW_PROJECT_ROOT", "DAGSTER_HOME", "PYTHONPATH")}
    init = subprocess.run([str(venv / "bin" / "ampflow"), "init"], cwd=app.root, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = subprocess.run(
        [str(venv / "bin" / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=app.root, env={**environment, "DAGSTER_HOME": str(app.root / "dagster_home")},
        capture_output=True, text=True, timeout=600,
    )
    output = validate.stdout + validate.stderr
    assert validate.returncode == 0, output
    assert "All code locations passed validation" in output
    assert "No dagster instance configuration file" not in output


ASSET_KEYS = "{ assetNodes { assetKey { path } } }"


def test_ampflow_ui_opens_the_users_app_and_nothing_of_the_sample(tmp_path: Path) -> None:
    app = user_app("split-schema", tmp_path)
    succeeded(app.ampflow("init"))
    examples = {path.stem for path in (app.root / "seed_data" / "development").glob("*.jsonl")}
    home = app.root / "dagster_home"
    try:
        with ampflow_ui(app.root, tmp_path / "ui.log") as ui:
            nodes = ui.query(ASSET_KEYS)["assetNodes"]
            keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
            seeded = {key for key in keys if key.startswith("seeded_")}
            assert keys - seeded == {"backend_deployment", "verified_tables", "api_client"}
            assert len(seeded) == len(examples) and "seeded_todo" not in seeded
    finally:
        EmbeddedEmulator(app.root / ".ampflow" / "emulator").stop()
    assert len(list(home.iterdir())) > 1  # beside dagster.yaml, the storage of the app's own instance
    deadline = time.monotonic() + 30
    while (left := processes_with("DAGSTER_HOME", str(home))) and time.monotonic() < deadline:
        time.sleep(1)
    assert left == [], left


def test_init_then_dev_serves_an_app_whose_functions_are_granted_the_bucket_and_the_user_pool(tmp_path: Path, stop_emulators: None) -> None:
    """Bucket and user-pool ARNs among the data stack's parameters sink nothing: every data source is served,
    and only what reads an ARN the local environment has no value for is listed, with the reason."""
    app = user_app("granted-resources", tmp_path)
    succeeded(app.ampflow("init"))
    reviews = app.root / "seed_data" / "development" / "Review.jsonl"
    (example,) = [json.loads(line) for line in reviews.read_text().splitlines() if line.strip()]
    assert "comment" in example  # init labels the optional comment
    without_comment = {key: value for key, value in example.items() if key not in ("comment", "id")} | {"rating": 2}
    reviews.write_text(reviews.read_text() + json.dumps(without_comment) + "\n")

    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev
    stored = {item["rating"]: item for item in app.items("Review")}
    assert stored[example["rating"]]["comment"].startswith("[DEV] ")
    assert "comment" not in stored[2]  # stored as given, without a prefix
    assert len(app.items("Book")) == 1 and len(app.items("BookOption")) == 1

    outputs = json.loads((app.root / "clients" / "development" / "amplify_outputs.json").read_text())["data"]
    answer = post(outputs["url"], outputs["api_key"], 'mutation { createUser(email: "ada@example.com") } ')
    assert answer == {"data": {"createUser": "invited ada@example.com"}}, answer
    report = post(outputs["url"], outputs["api_key"], 'query { makeReport(bookId: "b1") }')
    assert report == {"data": {"makeReport": "report for b1 goes to no bucket"}}, report
    books = post(outputs["url"], outputs["api_key"], "query { listBooks { items { title options { items { label } } } } }")
    assert books["data"]["listBooks"]["items"][0]["title"].startswith("[DEV] "), books

    not_served = app.workspace().desired().graphql_api.unsupported
    assert [entry.subject for entry in not_served if "REPORT_BUCKET" in entry.subject]  # the one variable that reads the bucket
    assert not [entry for entry in not_served if "data source" in entry.subject or "Resolver" in entry.subject], not_served

    again = succeeded(app.ampflow("seed", "development"))
    assert "items_unlabeled=1" in again


def seed_lines(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Model -> the items of its .jsonl seed file in `folder`."""
    return {path.stem: [json.loads(line) for line in path.read_text().splitlines() if line.strip()] for path in folder.glob("*.jsonl")}


def flat(text: str) -> str:
    """ampflow.toml's comments as one line, however they wrap."""
    return " ".join(text.replace("#", " ").split())


REQUIRED_CYCLE = "required references form a cycle (Ledger.auditId -> Audit, Audit.ledgerId -> Ledger)"


def test_init_then_dev_on_an_app_whose_references_form_cycles(tmp_path: Path, stop_emulators: None) -> None:
    # 22 models: a task and its current stage, a score and its champion version (optional one way), a
    # self-reference, and a ledger and its audit that name each other through required fields.
    app = user_app("reference-cycles", tmp_path)
    init = succeeded(app.ampflow("init"))
    for environment in ("development", "production"):
        examples = {model: items[0] for model, items in seed_lines(app.root / "seed_data" / environment).items()}
        assert len(examples) == 19 and not {"Ledger", "Audit", "AuditNote"} & set(examples)
        task, stage = examples["Task"], examples["TaskStage"]
        assert (task["currentStageId"], stage["taskId"]) == (stage["id"], task["id"])  # closed once both exist
        score, version = examples["Score"], examples["ScoreVersion"]
        assert (score["championVersionId"], version["scoreId"]) == (version["id"], score["id"])
        assert "parentId" not in examples["Category"]  # an item is not its own parent
        assert examples["InvoiceLine"]["invoiceId"] == examples["Invoice"]["id"] and examples["InvoiceLine"]["lineNumber"] == 1
    assert f"note: Ledger: ampflow init wrote no example: {REQUIRED_CYCLE}" in init
    assert f"note: Audit: ampflow init wrote no example: {REQUIRED_CYCLE}" in init
    assert "note: AuditNote: ampflow init wrote no example: its required auditId, the reference of AuditNote.audit" in init
    config = flat((app.root / "ampflow.toml").read_text())
    assert f"relationship or auth rule. ampflow init wrote no example: {REQUIRED_CYCLE}" in config
    assert "make one of those references optional. [models.Ledger] label_field" in config

    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev and "seeded_ledger" not in dev
    (task,), (stage,) = app.items("Task"), app.items("TaskStage")
    assert task["title"] == "[DEV] Example Task" and (task["currentStageId"], stage["taskId"]) == (stage["id"], task["id"])
    (line,) = app.items("InvoiceLine")
    assert line["invoiceId"] == app.items("Invoice")[0]["id"]


def test_init_examples_name_the_items_of_seed_files_already_there(tmp_path: Path, stop_emulators: None) -> None:
    app = user_app("reference-cycles", tmp_path)
    development = app.root / "seed_data" / "development"
    development.mkdir(parents=True)
    (development / "Task.jsonl").write_text('{"title": "Write the report"}\n{"id": "task-2", "title": "Review it"}\n')  # no id: seeding derives one
    # The required cycle written by hand, each naming the other: AuditNote's example can name that audit.
    (development / "Ledger.jsonl").write_text('{"id": "ledger-1", "name": "Books", "auditId": "audit-1"}\n')
    (development / "Audit.jsonl").write_text('{"id": "audit-1", "title": "Year end", "ledgerId": "ledger-1"}\n')
    (development / "Book.jsonl").write_text('{"title": "Dune", "authorId": "author-7"}\n')  # the author's example is that one
    init = succeeded(app.ampflow("init"))
    assert "left alone seed_data/development/Task.jsonl: exists" in init
    mine = seed_lines(development)
    assert [task["title"] for task in mine["Task"]] == ["Write the report", "Review it"]  # untouched
    (stage,), (comment,), (note,) = mine["TaskStage"], mine["Comment"], mine["AuditNote"]
    assert stage["taskId"] == comment["taskId"] != "example-task"
    assert note["auditId"] == "audit-1" and mine["Author"][0]["id"] == "author-7"
    production = {model: items[0] for model, items in seed_lines(app.root / "seed_data" / "production").items()}
    assert production["TaskStage"]["taskId"] == production["Task"]["id"] == "example-task"
    assert not {"Ledger", "Audit", "AuditNote"} & set(production)
    assert "note: AuditNote: ampflow init wrote no example in production: its required auditId" in init

    dev = succeeded(app.ampflow("dev"))
    assert "amplify_dev [development] succeeded" in dev
    tasks = {task["title"]: task["id"] for task in app.items("Task")}
    assert set(tasks) == {"[DEV] Write the report", "[DEV] Review it"}
    (stored_stage,) = app.items("TaskStage")
    assert stored_stage["taskId"] == tasks["[DEV] Write the report"]  # the id seeding gave the first task
    assert app.items("AuditNote")[0]["auditId"] == "audit-1"
    assert [author["id"] for author in app.items("Author")] == ["author-7"]
