"""Seed users: users.jsonl per environment, in the environment's own user pool, named by owner fields as {"user": ...}.

A real synthesis of the auth fixture app (defineAuth with email sign-in, groups ADMINS and EDITORS,
a custom attribute) and the embedded moto server, driven through the Dagster assets.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import seeded_models
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.seeding.user_references import resolve_user_references
from ampflow_dagster.seeding.model_schema import model_schemas
from ampflow_dagster.seeding.users import load_seed_users
from ampflow_dagster.tables.names import local_api_id, local_user_pool_name
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.user_pools import find_user_pool
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, copy_fixture, failure_text, materialized, write_seed_lines

ALICE_PASSWORD = "Alice-Seed-Pa55!word"


@pytest.fixture(scope="module")
def auth_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The auth fixture app with ampflow's default environments, synthesized once for each."""
    project = copy_fixture("auth-storage-function", tmp_path_factory.mktemp("users") / "app", shared_synthesis=True)
    project.config_file.write_text("")
    for environment in ("development", "production"):
        (project.seed_dir / environment).mkdir(parents=True)
        EnvironmentWorkspace.open(project, environment, AwsSettings()).desired()
    return project


@pytest.fixture
def app(auth_project: Project, tmp_path: Path) -> Any:
    shutil.copytree(auth_project.root, tmp_path / "app", symlinks=True, ignore=shutil.ignore_patterns("emulator", "locks", "validated"))
    application = App(tmp_path / "app")
    yield application
    application.emulator().stop()


def cognito(app: App) -> Any:
    return boto3.client("cognito-idp", endpoint_url=app.endpoint(), region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def pool_id(app: App, environment: str) -> str | None:
    api_id = local_api_id(app.project.package_name(), environment, load_config(app.project).project_id)
    return find_user_pool(cognito(app), local_user_pool_name(api_id))


def user(app: App, environment: str, sign_in: str) -> dict[str, Any]:
    found = cognito(app).admin_get_user(UserPoolId=pool_id(app, environment), Username=sign_in)
    return {**found, "attributes": {a["Name"]: a["Value"] for a in found["UserAttributes"]}}


def groups_of(app: App, environment: str, username: str) -> list[str]:
    listed = cognito(app).admin_list_groups_for_user(UserPoolId=pool_id(app, environment), Username=username)
    return sorted(group["GroupName"] for group in listed["Groups"])


def sign_in(app: App, environment: str, email: str, password: str) -> dict[str, Any]:
    client = cognito(app)
    pool = pool_id(app, environment)
    client_id = client.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"][0]["ClientId"]
    return client.admin_initiate_auth(
        UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )


def everything_written(app: App, instance: Any, run_ids: list[str]) -> str:
    """Every file of the app (the emulator's recording too) and every event the runs logged, as text."""
    texts = [path.read_bytes().decode("utf-8", "replace") for path in app.root.rglob("*") if path.is_file() and "node_modules" not in path.parts]
    for run_id in run_ids:
        texts += [repr(record) for record in instance.all_logs(run_id)]
    return "\n".join(texts)


ALICE = {"username": "alice", "email": "alice@example.com", "groups": ["ADMINS"], "password_env": "ALICE_PASSWORD",
         "attributes": {"given_name": "Alice", "custom:plan": "pro"}}
BOB = {"username": "bob", "email": "bob@example.com", "groups": ["EDITORS"]}


def test_every_problem_of_a_users_file_is_reported_at_once(auth_project: Project, tmp_path: Path) -> None:
    shutil.copytree(auth_project.root, tmp_path / "app", symlinks=True)
    project = Project(tmp_path / "app")
    write_seed_lines(project.root, "development", "users",
        ALICE,
        {"username": "alice", "email": "alice2@example.com"},
        {"email": "nobody@example.com"},
        {"username": "carol"},
        {"username": "dave", "email": "dave@example.com", "groups": ["ADMINS", "OWNERS"]},
        {"username": "erin", "email": "erin@example", "attributes": {"plan": "pro", "given_name": 3}},
        '{"username": "frank", ',
        {"username": "gina", "email": "gina@example.com", "password_env": "hunter2 is my password", "role": "x"},
        {"username": "hal", "email": "alice@example.com"},
    )
    desired = EnvironmentWorkspace.open(project, "development", AwsSettings()).desired()
    with pytest.raises(SeedError) as raised:
        load_seed_users(project, load_config(project).environment("development"), desired.auth)
    text = str(raised.value)
    users_file = project.seed_dir / "development" / "users.jsonl"
    expected = [
        (2, "username 'alice' is already a user of this file (first at"),
        (3, "field 'username' is missing"),
        (4, "the user pool signs users in with their email: give 'email'"),
        (5, "field 'groups': 'OWNERS' is not declared by defineAuth (groups: ADMINS, EDITORS)"),
        (6, "field 'email': \"erin@example\" is not an email address"),
        (6, "field 'attributes.plan': not an attribute of the user pool (custom attributes: custom:plan;"),
        (6, "did you mean 'custom:plan'?"),
        (6, "field 'attributes.given_name': Cognito attributes are text"),
        (7, "not valid JSON"),
        (8, "field 'password_env': \"hunter2 is my password\" is not an environment variable name"),
        (8, "field 'role' is not a field of a user"),
        (9, "'hal' signs in as alice@example.com, as 'alice' does"),
    ]
    for line, problem in expected:
        assert f"{users_file}:{line}: " in text and problem in text, (line, problem, text)
    assert "nothing was written" in text and "11 problem(s)" in text
    assert "fields: username, email, attributes, groups, password_env" in raised.value.resolution
    assert "users" not in seeded_models(project)  # users.jsonl is not a model's seed file


def test_an_owner_reference_names_a_user_of_the_environment(auth_project: Project, tmp_path: Path) -> None:
    shutil.copytree(auth_project.root, tmp_path / "app", symlinks=True)
    project = Project(tmp_path / "app")
    config = load_config(project)
    desired = EnvironmentWorkspace.open(project, "development", AwsSettings(), config).desired()
    write_seed_lines(project.root, "development", "Journal", {"title": "a", "owner": {"user": "zoe"}})
    with pytest.raises(SeedError) as raised:  # no users file at all
        load_seed_set(project, config, config.environment("development"), "Journal", desired)
    assert "Journal.jsonl:1: field 'owner' names user 'zoe', but there is no" in str(raised.value)
    write_seed_lines(project.root, "development", "users", ALICE)
    write_seed_lines(project.root, "development", "Journal", {"title": "a", "owner": {"user": "alice"}}, {"title": "b", "owner": {"user": "zoe"}},
                {"title": "c", "owner": {"person": "alice"}})
    with pytest.raises(SeedError) as raised:
        load_seed_set(project, config, config.environment("development"), "Journal", desired)
    text = str(raised.value)
    assert "Journal.jsonl:2: field 'owner' names user 'zoe', who is not in" in text and "users.jsonl" in text
    assert 'Journal.jsonl:3: field \'owner\': expected a owner (a string or {"user": "<username>"}' in text
    assert "Journal.jsonl:1:" not in text
    schema = model_schemas(desired.model_introspection)["Journal"]
    resolved = resolve_user_references(schema, {"title": "a", "owner": {"user": "alice"}}, {"alice": "s-1::alice"})
    assert resolved == {"title": "a", "owner": "s-1::alice"}


def test_users_groups_and_owner_references_in_each_environment_s_own_pool(
    app: App, instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICE_PASSWORD", ALICE_PASSWORD)
    write_seed_lines(app.root, "development", "users", ALICE, BOB)
    write_seed_lines(app.root, "development", "Journal", {"id": "j1", "title": "Diary", "owner": {"user": "alice"}})
    write_seed_lines(app.root, "production", "users", {"username": "carol", "email": "carol@example.com", "groups": ["ADMINS"]})
    definitions = app.definitions()
    journal = definitions.resolve_assets_def("seeded_journal")
    assert {key.to_user_string() for key in journal.dependency_keys} >= {"seeded_users", "verified_tables"}

    first = app.materialize("development", instance)
    assert first.success, failure_text(first)
    recorded = materialized(first)["seeded_users"]
    assert (recorded["users_created"], recorded["users_updated"], recorded["users_unchanged"]) == (2, 0, 0)
    assert recorded["passwords_generated"] == "bob"
    assert "alice: `ALICE_PASSWORD`" in recorded["passwords_from_variables"]
    assert "- ADMINS: alice" in recorded["groups"] and "- EDITORS: bob" in recorded["groups"]
    assert recorded["user_pool_id"] == pool_id(app, "development")

    alice = user(app, "development", "alice@example.com")
    assert alice["attributes"]["given_name"] == "Alice" and alice["attributes"]["custom:plan"] == "pro"
    assert alice["UserStatus"] == "CONFIRMED" and groups_of(app, "development", alice["Username"]) == ["ADMINS"]
    assert "AuthenticationResult" in sign_in(app, "development", "alice@example.com", ALICE_PASSWORD)
    (item,) = app.items("development", "Journal")
    # Email sign-in: Cognito's username is the generated id, so Amplify stores "<sub>::<sub>".
    assert item["owner"] == f"{alice['attributes']['sub']}::{alice['Username']}"

    again = app.materialize("development", instance)
    assert again.success, failure_text(again)
    rerun = materialized(again)["seeded_users"]
    assert (rerun["users_created"], rerun["users_updated"], rerun["users_unchanged"]) == (0, 0, 2)
    assert rerun["passwords_generated"] == "none" and rerun["user_pool_id"] == recorded["user_pool_id"]
    assert user(app, "development", "alice@example.com")["attributes"]["sub"] == alice["attributes"]["sub"]
    assert materialized(again)["seeded_journal"]["items_unchanged"] == 1

    production = app.materialize("production", instance)
    assert production.success, failure_text(production)
    assert pool_id(app, "production") not in (None, pool_id(app, "development"))
    with pytest.raises(cognito(app).exceptions.UserNotFoundException):
        user(app, "production", "alice@example.com")  # development's users are never in production's pool
    with pytest.raises(cognito(app).exceptions.UserNotFoundException):
        user(app, "development", "carol@example.com")
    assert groups_of(app, "production", user(app, "production", "carol@example.com")["Username"]) == ["ADMINS"]

    written = everything_written(app, instance, [first.run_id, again.run_id, production.run_id])
    assert "seeded_users" in written and ALICE_PASSWORD not in written  # not in a file, a log line or metadata

    app.emulator().stop()  # a restarted emulator replays its recording, which holds no password
    restarted = app.materialize("development", instance, selection=["seeded_users"])
    assert restarted.success, failure_text(restarted)
    assert "AuthenticationResult" in sign_in(app, "development", "alice@example.com", ALICE_PASSWORD)


def test_a_bad_users_file_stops_the_run_before_any_user_is_written(app: App, instance: Any) -> None:
    write_seed_lines(app.root, "development", "users", ALICE, {"username": "bob", "email": "bob@example.com", "groups": ["OWNERS"]})
    write_seed_lines(app.root, "development", "Journal", {"id": "j1", "title": "Diary", "owner": {"user": "alice"}})
    result = app.materialize("development", instance, raise_on_error=False)
    assert not result.success
    assert "users.jsonl:2: field 'groups': 'OWNERS' is not declared by defineAuth" in failure_text(result)
    pool = pool_id(app, "development")  # the deployment built the pool; seeding wrote no user to it
    assert pool is not None and cognito(app).list_users(UserPoolId=pool)["Users"] == []
    assert "seeded_journal" not in materialized(result)


def test_a_users_file_edit_requests_only_seeded_users(app: App, instance: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_automation import requested, run_request, tick

    write_seed_lines(app.root, "development", "users", BOB)
    assert app.materialize("development", instance).success
    assert tick(app, instance)[0] == []
    write_seed_lines(app.root, "development", "users", BOB, {"username": "dora", "email": "dora@example.com"})
    requests, _ = tick(app, instance)
    assert requested(requests) == {("seeded_users", "development")}
    assert materialized(run_request(app, instance, requests[0]))["seeded_users"]["created"] == "dora"
    assert tick(app, instance)[0] == []
