"""The whole workflow on the embedded emulator: deploy, verify, seed, client, per environment."""

from __future__ import annotations

import json
import re
import subprocess

from pathlib import Path

import pytest

from ampflow_dagster.tables.names import local_api_id

from conftest import App, failure_text, materialized

SEEDED = ["seeded_inventory_item", "seeded_project", "seeded_project_charter", "seeded_task", "seeded_todo"]
MODELS = {"Todo": "content", "Project": "name", "Task": "title", "ProjectCharter": "summary", "InventoryItem": "name"}
NODE_TOOLS = {"node", "tsx", "tsc", "npx", "npm"}
AMPLIFY_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_development_and_production_deploy_verify_seed_and_generate_client(app: App, instance) -> None:
    for environment, prefix in (("development", "[DEV]"), ("production", "[PROD]")):
        result = app.materialize(environment, instance)
        assets = materialized(result)
        assert set(assets) == {"backend_deployment", "verified_tables", "api_client", *SEEDED}
        assert assets["backend_deployment"]["deployment"] == "deployed"
        assert assets["backend_deployment"]["tables_created"] == 5
        assert assets["verified_tables"]["table_count"] == 5
        for model, label in MODELS.items():
            seeds = app.seed_lines(environment, model) if any((app.root / "seed_data" / environment).glob(f"{model}.*")) else []
            items = app.items(environment, model)
            assert len(items) == len(seeds)
            for item in items:
                assert item[label].startswith(prefix + " ")
                assert item["__typename"] == model
                assert AMPLIFY_TIMESTAMP.match(item["createdAt"]) and AMPLIFY_TIMESTAMP.match(item["updatedAt"])
    dev_api, prod_api = (local_api_id("ampflow-sample-app", env) for env in ("development", "production"))
    assert dev_api != prod_api and len(dev_api) == 26
    assert app.table_name("development", "Todo") == f"Todo-{dev_api}-NONE"
    inventory = {item["sku#batch"]: item for item in app.items("development", "InventoryItem")}
    assert inventory["DESK-01#2026-10"]["sku"] == "DESK-01" and inventory["DESK-01#2026-10"]["batch"] == "2026-10"
    project = next(item for item in app.items("development", "Project") if item["id"] == "proj-mobile")
    assert project["settings"] == {"platforms": ["ios", "android"]}  # AWSJSON is stored parsed, as AppSync does
    outputs = json.loads((app.root / "clients" / "development" / "amplify_outputs.json").read_text())
    assert outputs["data"]["default_authorization_type"] == "API_KEY"
    assert set(outputs["data"]["model_introspection"]["models"]) == set(MODELS)
    assert outputs["data"]["url"].startswith("http://127.0.0.1:")  # the local GraphQL endpoint (tests/test_local_api.py)
    assert outputs["custom"]["ampflow"]["dynamodb_endpoint"] == app.endpoint()
    assert outputs["custom"]["ampflow"]["tables"]["Todo"] == app.table_name("development", "Todo")
    assert "listTodos" in (app.root / "clients" / "development" / "graphql" / "queries.graphql").read_text()


def test_unchanged_tree_skips_deployment_starts_no_node_and_writes_nothing(app: App, instance, monkeypatch) -> None:
    app.materialize("development", instance)
    before = {model: {json.dumps(i, default=str, sort_keys=True) for i in app.items("development", model)} for model in MODELS}
    (app.root / "node_modules").unlink()  # any synthesis would now fail
    started = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda args, *a, **k: started.append(args) or real_popen(args, *a, **k))
    assets = materialized(app.materialize("development", instance))
    assert assets["backend_deployment"]["deployment"] == "skipped"
    assert "unchanged" in assets["backend_deployment"]["reason"]
    assert [args for args in started if Path(str(args[0])).name in NODE_TOOLS] == []
    for name in SEEDED:
        assert assets[name]["items_written"] == 0 and assets[name]["items_removed"] == 0
        assert assets[name]["items_unchanged"] == assets[name]["seed_items"]
    after = {model: {json.dumps(i, default=str, sort_keys=True) for i in app.items("development", model)} for model in MODELS}
    assert after == before  # not even updatedAt moved


def test_changed_seed_item_is_rewritten_and_removed_item_deleted(app: App, instance) -> None:
    app.materialize("development", instance)
    seed = app.root / "seed_data" / "development" / "Todo.jsonl"
    lines = seed.read_text().splitlines()
    seed.write_text("\n".join([lines[0], lines[1].replace("Seed the sample projects", "Seed every project")]) + "\n")
    assets = materialized(app.materialize("development", instance, selection=["seeded_todo"]))["seeded_todo"]
    assert (assets["items_unchanged"], assets["items_written"], assets["items_removed"]) == (1, 1, 2)
    contents = sorted(item["content"] for item in app.items("development", "Todo"))
    assert contents == ["[DEV] Seed every project", "[DEV] Try the development backend"]


def test_items_the_app_wrote_are_left_alone(app: App, instance) -> None:
    app.materialize("development", instance)
    table = app.dynamodb().Table(app.table_name("development", "Todo"))
    table.put_item(Item={"id": "user-written", "content": "A user's own todo", "__typename": "Todo"})
    app.materialize("development", instance, selection=["seeded_todo"])
    assert table.get_item(Key={"id": "user-written"})["Item"]["content"] == "A user's own todo"


def test_force_recreates_the_environments_tables(app: App, instance) -> None:
    app.materialize("development", instance)
    table = app.dynamodb().Table(app.table_name("development", "Todo"))
    table.put_item(Item={"id": "leftover", "content": "made by hand"})
    created_before = table.creation_date_time
    result = app.materialize(
        "development", instance, selection=["backend_deployment", "verified_tables"],
        run_config={"ops": {"backend_deployment": {"config": {"force": True}}}},
    )
    deployment = materialized(result)["backend_deployment"]
    assert deployment["deployment"] == "deployed" and deployment["tables_recreated"] == 5
    assert deployment["reason"].startswith("forced")
    fresh = app.dynamodb().Table(app.table_name("development", "Todo"))
    assert fresh.item_count == 0 and fresh.creation_date_time > created_before


def test_force_refuses_to_empty_a_protected_environment(app: App, instance) -> None:
    app.materialize("production", instance)
    result = app.materialize(
        "production", instance, selection=["backend_deployment"],
        run_config={"ops": {"backend_deployment": {"config": {"force": True}}}}, raise_on_error=False,
    )
    assert not result.success
    assert "protected environment 'production'" in failure_text(result)
    assert "allow_destructive" in failure_text(result)
    assert len(app.items("production", "Todo")) == 1


def test_development_run_leaves_production_untouched(app: App, instance) -> None:
    app.materialize("production", instance)
    snapshot = {model: app.items("production", model) for model in MODELS}
    app.materialize("development", instance)
    app.materialize(
        "development", instance, selection=["backend_deployment"],
        run_config={"ops": {"backend_deployment": {"config": {"force": True}}}},
    )
    assert {model: app.items("production", model) for model in MODELS} == snapshot
    assert all(not item["content"].startswith("[DEV]") for item in snapshot["Todo"])


def test_invalid_seed_file_fails_naming_file_line_and_field_and_writes_nothing(app: App, instance) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    tasks = app.root / "seed_data" / "development" / "Task.jsonl"
    tasks.write_text(tasks.read_text() + '{"id": "bad", "title": "Broken", "status": "SOMEDAY", "projectId": "proj-website"}\n')
    result = app.materialize("development", instance, selection=SEEDED, raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "Task.jsonl:4" in text and "field 'status'" in text and "SOMEDAY" in text
    assert "nothing was written" in text
    for model in MODELS:  # not even the models whose own files are valid
        assert app.items("development", model) == []


def test_deleted_table_is_detected_and_redeployed(app: App, instance) -> None:
    app.materialize("development", instance)
    app.dynamodb().meta.client.delete_table(TableName=app.table_name("development", "Task"))
    result = app.materialize("development", instance, selection=["verified_tables"], raise_on_error=False)
    assert not result.success and "does not exist" in failure_text(result)
    assets = materialized(app.materialize("development", instance))
    assert assets["backend_deployment"]["deployment"] == "deployed"
    assert "drifted" in assets["backend_deployment"]["reason"]
    assert assets["seeded_task"]["items_created"] == 3


@pytest.mark.parametrize("keep_recording", [True, False], ids=["survives", "repaired"])
def test_emulator_restart_is_survived_or_repaired(app: App, instance, keep_recording: bool) -> None:
    app.materialize("development", instance)
    seeded = sorted(item["content"] for item in app.items("development", "Todo"))
    assert app.emulator().stop()
    if not keep_recording:
        (app.project.state_dir / "emulator" / "recording.jsonl").unlink()
    assets = materialized(app.materialize("development", instance))
    if keep_recording:  # moto's recording was replayed: nothing to redo
        assert assets["backend_deployment"]["deployment"] == "skipped"
        assert assets["seeded_todo"]["items_written"] == 0
    else:  # the state was lost: never reported as up to date
        assert assets["backend_deployment"]["deployment"] == "deployed"
        assert assets["seeded_todo"]["items_created"] == 3
    assert sorted(item["content"] for item in app.items("development", "Todo")) == seeded
