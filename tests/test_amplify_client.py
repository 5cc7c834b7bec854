"""The real Amplify JS client (aws-amplify 6, `Amplify.configure(outputs)`, `generateClient()`) against local
environments, configured only with what ampflow wrote: amplify_outputs.json, and amplify_configure_local.js
for an app with a user pool. Offline: the local GraphQL endpoint, the emulator's tables and user pool.

The sample app (API key: relationships, a composite key) and the auth fixture app (user pool default,
owner rules, a composite identifier, hasMany/belongsTo, groups, a bucket).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from amplify_client import amplify_type_errors, run_client
from conftest import App, copy_fixture, copy_synthesized_app, deployed, failure_text, materialized, write_seed_lines

LABELS = {"Todo": "content", "Project": "name", "Task": "title", "ProjectCharter": "summary", "InventoryItem": "name"}
ALICE_PASSWORD = "Alice-Client-Pa55!word"
BOB_PASSWORD = "Bob-Client-Pa55!word"


def client_dir(app: App, environment: str = "development") -> Path:
    return app.root / "clients" / environment


def outputs(app: App, environment: str = "development") -> dict[str, Any]:
    return json.loads((client_dir(app, environment) / "amplify_outputs.json").read_text())


def answered(results: list[dict[str, Any]]) -> list[Any]:
    for result in results:
        assert result["errors"] == [], result
    return [result["data"] for result in results]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, synthesized_app: Path) -> Any:
    with deployed(copy_synthesized_app(synthesized_app, tmp_path_factory.mktemp("client") / "app").root) as application:
        yield application


def test_the_client_reads_every_models_dev_items_a_composite_key_and_both_ends_of_a_relationship(sample: App) -> None:
    models = sorted(outputs(sample)["data"]["model_introspection"]["models"])
    assert models == sorted(LABELS)
    steps: list[dict[str, Any]] = [{"op": "list", "model": model} for model in models]
    steps += [
        {"op": "get", "model": "InventoryItem", "key": {"warehouseId": "wh-berlin", "sku": "DESK-01", "batch": "2026-10"}},
        {"op": "related", "model": "Project", "key": {"id": "proj-website"}, "field": "tasks", "back": "project"},
        {"op": "related", "model": "Task", "key": {"id": "task-copy"}, "field": "project"},
    ]
    *lists, item, tasks, project = answered(run_client(client_dir(sample), steps))
    for model, listed in zip(models, lists):
        seeded = sample.seed_lines("development", model)
        assert len(listed) == len(sample.items("development", model)), model  # the whole table (a test may have added one)
        labels = sorted(entry[LABELS[model]] for entry in listed if entry[LABELS[model]].startswith("[DEV] "))
        assert labels == sorted(f"[DEV] {line[LABELS[model]]}" for line in seeded), model
    assert (item["name"], item["quantity"]) == ("[DEV] Standing desk", 12)
    assert sorted(task["id"] for task in tasks) == ["task-copy", "task-design"]
    assert {task["project"]["id"] for task in tasks} == {"proj-website"}  # and back: belongsTo
    assert project["name"] == "[DEV] Website relaunch"


def test_an_item_the_client_creates_is_left_alone_by_the_next_reseed(sample: App) -> None:
    (created,) = answered(run_client(client_dir(sample), [{"op": "create", "model": "Todo", "input": {"content": "From the front end", "priority": "LOW"}}]))
    stored = {item["id"]: item for item in sample.items("development", "Todo")}[created["id"]]
    seeded = [key.to_user_string() for asset in sample.assets() for key in asset.keys if key.path[-1].startswith("seeded_")]
    reseed = sample.materialize("development", sample.instance, selection=seeded)  # type: ignore[attr-defined]
    assert reseed.success and set(materialized(reseed)) == set(seeded)
    assert {item["id"]: item for item in sample.items("development", "Todo")}[created["id"]] == stored
    (listed,) = answered(run_client(client_dir(sample), [{"op": "list", "model": "Todo"}]))
    assert [entry["content"] for entry in listed if entry["id"] == created["id"]] == ["From the front end"]


# --- subscriptions, as aws-amplify v6 connects: auth in a header- subprotocol, wss:// sent to ws:// by the helper ---


def test_subscribers_receive_creates_updates_and_deletes_that_their_filter_matches(sample: App) -> None:
    steps = [
        {"op": "subscribe", "model": "Todo", "event": "onCreate", "name": "created"},
        {"op": "subscribe", "model": "Todo", "event": "onCreate", "name": "urgent", "filter": {"priority": {"eq": "HIGH"}}},
        {"op": "create", "model": "Todo", "input": {"content": "Live, low", "priority": "LOW"}},
        {"op": "create", "model": "Todo", "input": {"content": "Live, high", "priority": "HIGH"}},
        {"op": "received", "name": "created", "count": 2},
        {"op": "received", "name": "urgent", "count": 2, "waitMs": 1500},  # waits in vain for a second
    ]
    *_, low, high, created, urgent = answered(run_client(client_dir(sample), steps))
    assert [(item["id"], item["content"]) for item in created] == [(low["id"], "Live, low"), (high["id"], "Live, high")]
    assert [item["id"] for item in urgent] == [high["id"]]
    steps = [
        {"op": "subscribe", "model": "Todo", "event": "onUpdate", "name": "updated"},
        {"op": "subscribe", "model": "Todo", "event": "onDelete", "name": "deleted"},
        {"op": "update", "model": "Todo", "input": {"id": low["id"], "content": "Live, low, edited"}},
        {"op": "delete", "model": "Todo", "key": {"id": high["id"]}},
        {"op": "received", "name": "updated", "count": 1},
        {"op": "received", "name": "deleted", "count": 1},
    ]
    *_, updated, deleted = answered(run_client(client_dir(sample), steps))
    assert [(item["id"], item["content"]) for item in updated] == [(low["id"], "Live, low, edited")]
    assert [item["id"] for item in deleted] == [high["id"]]


def test_the_sample_apps_outputs_are_amplifys_own_config_type(sample: App) -> None:
    written = outputs(sample)
    assert written["version"] == "1.5"  # what this app's Amplify writes by default, as ampx sandbox would
    assert amplify_type_errors(written) == ""
    assert "identity pool" in written["custom"]["ampflow"]["not_served"]["data.authorization_types.AWS_IAM"]
    broken = {**written, "data": {**written["data"], "default_authorization_type": "PASSWORD"}}
    assert "PASSWORD" in amplify_type_errors(broken)  # the check can fail
    unknown = {**written, "auth": {"aws_region": "us-east-1", "user_pool_id": "p"}}
    assert "user_pool_client_id" in amplify_type_errors(unknown)


# --- an app with a user pool: owner rules, groups, a composite identifier, a bucket -----------------------------


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = copy_fixture("auth-storage-function", tmp_path_factory.mktemp("client-auth") / "app", shared_synthesis=True)
    project.config_file.write_text("")
    root = project.root
    users = [
        {"username": "alice", "email": "alice@example.com", "groups": ["EDITORS"], "password_env": "CLIENT_ALICE_PASSWORD"},
        {"username": "bob", "email": "bob@example.com", "password_env": "CLIENT_BOB_PASSWORD"},
    ]
    write_seed_lines(root, "development", "users", *users)
    write_seed_lines(root, "development", "Journal",
                {"id": "journal-alice", "title": "Alice's notes", "owner": {"user": "alice"}},
                {"id": "journal-bob", "title": "Bob's notes", "owner": {"user": "bob"}})
    write_seed_lines(root, "development", "JournalEntry",
                {"id": "entry-1", "journalId": "journal-alice", "text": "First entry", "owner": {"user": "alice"}},
                {"id": "entry-2", "journalId": "journal-alice", "text": "Second entry", "owner": {"user": "alice"}})
    write_seed_lines(root, "development", "SensorReading",
                {"deviceId": "dev-1", "takenAt": "2026-11-30T10:00:00.000Z", "kind": "temperature", "value": 21.5, "owner": {"user": "bob"}})
    write_seed_lines(root, "production", "users", {"username": "carol", "email": "carol@example.com", "password_env": "CLIENT_ALICE_PASSWORD"})
    application = App(root)
    with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
        patch.setenv("CLIENT_ALICE_PASSWORD", ALICE_PASSWORD)
        patch.setenv("CLIENT_BOB_PASSWORD", BOB_PASSWORD)
        for environment in ("development", "production"):
            result = application.materialize(environment, instance)
            assert result.success, failure_text(result)
            if environment == "development":
                application.result = result  # type: ignore[attr-defined]
        application.instance = instance  # type: ignore[attr-defined]
        yield application
    application.emulator().stop()


def test_a_signed_in_user_lists_only_their_own_items_through_the_local_user_pool(auth_app: App) -> None:
    steps = [
        {"op": "signIn", "username": "alice@example.com", "password": ALICE_PASSWORD},
        {"op": "list", "model": "Journal"},
        {"op": "related", "model": "Journal", "key": {"id": "journal-alice"}, "field": "entries", "back": "journal"},
        {"op": "get", "model": "SensorReading", "key": {"deviceId": "dev-1", "takenAt": "2026-11-30T10:00:00.000Z", "kind": "temperature"}},
        {"op": "create", "model": "Journal", "input": {"title": "Written by Alice"}},
        {"op": "signOut"},
        {"op": "signIn", "username": "bob@example.com", "password": BOB_PASSWORD},
        {"op": "list", "model": "Journal"},
        {"op": "signOut"},
    ]
    alice, alice_journals, entries, reading, created, _, bob, bob_journals, _ = answered(run_client(client_dir(auth_app), steps))
    assert alice["isSignedIn"] and bob["isSignedIn"] and alice["sub"] != bob["sub"]
    assert sorted(j["title"] for j in alice_journals) == ["[DEV] Alice's notes"]
    assert sorted(e["text"] for e in entries) == ["[DEV] First entry", "[DEV] Second entry"]
    assert {e["journal"]["id"] for e in entries} == {"journal-alice"}
    assert reading["value"] == 21.5  # another user's reading: every signed-in user may read it
    assert alice["sub"] in created["owner"]
    assert sorted(j["title"] for j in bob_journals) == ["[DEV] Bob's notes"]  # not Alice's, not her new one
    stored = {item["id"]: item for item in auth_app.items("development", "Journal")}
    assert stored[created["id"]]["title"] == "Written by Alice"
    assert stored[created["id"]]["owner"] == stored["journal-alice"]["owner"]  # as the seed stored Alice's: `<sub>::<username>`


def test_a_js_handler_reads_the_signed_in_users_identity(auth_app: App) -> None:
    steps = [
        {"op": "signIn", "username": "alice@example.com", "password": ALICE_PASSWORD},
        {"op": "query", "name": "whoAmI"},
        {"op": "signOut"},
        {"op": "signIn", "username": "bob@example.com", "password": BOB_PASSWORD},
        {"op": "query", "name": "whoAmI"},
        {"op": "signOut"},
    ]
    alice, alice_is, _, bob, bob_is, _ = answered(run_client(client_dir(auth_app), steps))
    assert (alice_is["sub"], bob_is["sub"]) == (alice["sub"], bob["sub"])  # ctx.identity of the caller's token
    assert alice_is["username"] and alice_is["username"] != bob_is["username"]
    pool = outputs(auth_app)["auth"]["user_pool_id"]
    assert alice_is["issuer"] == bob_is["issuer"] and alice_is["issuer"].endswith(f"/{pool}")


def test_an_owners_subscription_receives_their_new_items_and_never_another_owners(auth_app: App) -> None:
    steps = [
        {"op": "signIn", "username": "alice@example.com", "password": ALICE_PASSWORD},
        {"op": "subscribe", "model": "Journal", "event": "onCreate", "name": "alice"},
        {"op": "signOut"},
        {"op": "signIn", "username": "bob@example.com", "password": BOB_PASSWORD},
        {"op": "subscribe", "model": "Journal", "event": "onCreate", "name": "bob"},
        {"op": "create", "model": "Journal", "input": {"title": "Bob, live"}},
        {"op": "signOut"},
        {"op": "signIn", "username": "alice@example.com", "password": ALICE_PASSWORD},
        {"op": "create", "model": "Journal", "input": {"title": "Alice, live"}},
        {"op": "received", "name": "alice", "count": 2, "waitMs": 3000},  # waits in vain for Bob's
        {"op": "received", "name": "bob", "count": 2, "waitMs": 1000},
    ]
    results = answered(run_client(client_dir(auth_app), steps))
    bobs, alices, alice_received, bob_received = results[5], results[8], results[9], results[10]
    journals = auth_app.dynamodb().Table(auth_app.table_name("development", "Journal"))
    for created in (bobs, alices):  # the module's other tests list each user's journals
        journals.delete_item(Key={"id": created["id"]})
    assert [item["id"] for item in alice_received] == [alices["id"]]
    assert [item["id"] for item in bob_received] == [bobs["id"]]


def test_list_queries_check_passes_on_an_api_without_api_key_authorization(auth_app: App) -> None:
    (evaluation,) = [e for e in auth_app.result.get_asset_check_evaluations() if e.check_name == "list_queries"]  # type: ignore[attr-defined]
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["queries"].value == 3
    assert evaluation.metadata["answers"].value.count("the API has no API key authorization") == 3


def test_a_user_of_another_environments_pool_is_refused(auth_app: App, tmp_path: Path) -> None:
    # development's front end, with production's user pool: its token names the wrong issuer.
    mixed = tmp_path / "mixed"
    shutil.copytree(client_dir(auth_app), mixed)
    development, production = outputs(auth_app), outputs(auth_app, "production")
    development["auth"] = production["auth"]
    (mixed / "amplify_outputs.json").write_text(json.dumps(development))
    signed_in, listed, subscribed = run_client(mixed, [
        {"op": "signIn", "username": "carol@example.com", "password": ALICE_PASSWORD},
        {"op": "list", "model": "Journal"},
        {"op": "subscribe", "model": "Journal", "event": "onCreate", "name": "refused", "waitMs": 5000},
    ])
    assert signed_in["errors"] == [] and signed_in["data"]["isSignedIn"]
    assert listed["errors"] and listed["data"] == [], listed
    assert subscribed["errors"], subscribed  # the WebSocket is refused as well


def test_the_auth_apps_outputs_name_the_local_pool_and_bucket_and_are_amplifys_config_type(auth_app: App) -> None:
    written = outputs(auth_app)
    assert amplify_type_errors(written) == ""
    auth, ampflow = written["auth"], written["custom"]["ampflow"]
    assert auth["user_pool_id"].startswith("us-east-1_") and auth["user_pool_client_id"]
    assert auth["user_pool_id"] != outputs(auth_app, "production")["auth"]["user_pool_id"]
    assert auth["groups"] == [{"ADMINS": {"precedence": 0}}, {"EDITORS": {"precedence": 1}}]
    assert auth["username_attributes"] == ["email"] and "identity_pool_id" not in auth
    assert "auth.unauthenticated_identities_enabled" in ampflow["not_served"]
    assert written["data"]["default_authorization_type"] == "AMAZON_COGNITO_USER_POOLS"
    assert written["data"]["authorization_types"] == [] and "api_key" not in written["data"]
    assert ampflow["user_pool_endpoint"] == auth_app.endpoint()
    (bucket,) = written["storage"]["buckets"]
    assert bucket["name"] == "attachments" and bucket["bucket_name"] == written["storage"]["bucket_name"]
    names = {b["Name"] for b in auth_app.s3().list_buckets()["Buckets"]}
    assert {bucket["bucket_name"], outputs(auth_app, "production")["storage"]["bucket_name"]} <= names
    assert bucket["bucket_name"] != outputs(auth_app, "production")["storage"]["bucket_name"]
    configure = (client_dir(auth_app) / "amplify_configure_local.js").read_text()
    assert f'export const userPoolEndpoint = "{auth_app.endpoint()}";' in configure
    assert "NoCredentials" in ampflow["not_served"]["storage"]  # and so it is, in the client:
    signed_in, upload, _ = run_client(client_dir(auth_app), [
        {"op": "signIn", "username": "alice@example.com", "password": ALICE_PASSWORD},
        {"op": "upload", "path": "attachments/notes.txt", "text": "hello"},
        {"op": "signOut"},
    ])
    assert signed_in["errors"] == [] and upload["data"] is None
    assert [error.split(":")[0] for error in upload["errors"]] == ["NoCredentials"], upload
