"""Asset checks show in the UI: table shape per table (blocking), seeded counts, the default authorization mode."""

from __future__ import annotations

import shutil

import dagster as dg

from ampflow_dagster.definitions import build_defs
from ampflow_dagster.defs.checks import OTHER_TABLES, table_shape_models
from ampflow_dagster.defs.partitions import Blueprint
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, failure_text, materialized

MODELS = {"Todo", "Project", "Task", "ProjectCharter", "InventoryItem"}
SEEDED = ["seeded_inventory_item", "seeded_project", "seeded_project_charter", "seeded_task", "seeded_todo"]
DEPLOY_AND_VERIFY = ["backend_deployment", "verified_tables"]


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """"asset:check" -> its evaluation in this run."""
    return {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": evaluation
        for evaluation in result.get_asset_check_evaluations()
    }


def test_every_table_gets_a_blocking_shape_check(app: App) -> None:
    verified_tables = next(asset for asset in app.assets() if asset.key.to_user_string() == "verified_tables")
    specs = {spec.name: spec for spec in verified_tables.check_specs}
    assert set(table_shape_models(Blueprint.of(app.project)).values()) == MODELS
    assert set(specs) == {"table_shape_todo", "table_shape_project", "table_shape_task",
                          "table_shape_project_charter", "table_shape_inventory_item", "table_shape_other_tables",
                          "list_queries"}
    for spec in specs.values():
        # the list queries ask the API, not the tables: seeding need not wait for them
        assert spec.blocking == (spec.name != "list_queries")
        assert spec.partitions_def == verified_tables.partitions_def  # one result per environment, never mixed


def declared_checks(app: App) -> list[str]:
    """The shape checks the definitions declare when loaded afresh, as each process loads them (nothing is kept between loads)."""
    verified_tables = next(a for a in build_defs(app.project).assets if a.key.to_user_string() == "verified_tables")
    return sorted(spec.name for spec in verified_tables.check_specs)


def test_every_process_declares_the_same_checks_whatever_synthesis_is_cached(app: App) -> None:
    # The code server, each run worker and each step load the definitions separately; a run
    # naming a check one of them does not declare fails. So checks follow the seed files only.
    with_cache = declared_checks(app)
    shutil.rmtree(app.project.state_dir / "synth")
    (app.root / "node_modules").unlink()  # and loading starts no Node
    assert declared_checks(app) == with_cache
    assert not (app.project.state_dir / "synth").exists()
    for seed in (app.root / "seed_data").glob("*/Task.*"):
        seed.unlink()
    assert set(declared_checks(app)) == set(with_cache) - {"table_shape_task"}  # Task's table: other_tables


def test_matching_tables_pass_their_shape_checks_with_expected_and_found_keys(app: App, instance) -> None:
    result = app.materialize("development", instance, selection=DEPLOY_AND_VERIFY)
    found = evaluations(result)
    shapes = [*table_shape_models(Blueprint.of(app.project)), OTHER_TABLES]
    assert {name for name in found} == {f"verified_tables:{name}" for name in [*shapes, "list_queries"]}
    assert found["verified_tables:table_shape_other_tables"].passed  # every model of the sample app has seed data
    assert all(evaluation.passed and evaluation.partition == "development" for evaluation in found.values())
    inventory = found["verified_tables:table_shape_inventory_item"].metadata
    assert inventory["table"].value == app.table_name("development", "InventoryItem")
    assert inventory["expected_keys"].value == inventory["found_keys"].value == "warehouseId + sku#batch"
    assert "| `" in inventory["indexes"].value and "sku + warehouseId (ALL)" in inventory["indexes"].value


def test_a_table_missing_its_index_fails_its_shape_check_and_blocks_seeding(app: App, instance) -> None:
    app.materialize("development", instance, selection=DEPLOY_AND_VERIFY)
    desired = EnvironmentWorkspace.open(app.project, "development", AwsSettings()).desired()
    index = desired.tables["Task"].indexes[0].name
    table = app.table_name("development", "Task")
    app.dynamodb().meta.client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index}}])

    result = app.materialize("development", instance, selection=["verified_tables", *SEEDED, "api_client"], raise_on_error=False)

    assert not result.success
    task = evaluations(result)["verified_tables:table_shape_task"]
    assert not task.passed and task.severity == dg.AssetCheckSeverity.ERROR and task.blocking
    assert table in task.description and f"index {index} missing" in task.description
    assert "backend_deployment" in task.description  # what to do
    hash_key = desired.tables["Task"].indexes[0].hash_key
    assert f"| `{index}` | {hash_key} (ALL) | — |" in task.metadata["indexes"].value  # expected, not found
    others = [e for name, e in evaluations(result).items() if name != "verified_tables:table_shape_task"]
    assert len(others) == 5 and all(evaluation.passed for evaluation in others)  # 4 tables, and other_tables
    assert materialized(result) == {}  # neither verified_tables nor anything downstream of it
    assert f"index {index} missing" in failure_text(result)
    assert app.items("development", "Task") == []  # seeding never ran


def test_seeded_counts_match_the_seed_set(app: App, instance) -> None:
    result = app.materialize("development", instance)
    found = evaluations(result)
    for asset in SEEDED:
        evaluation = found[f"{asset}:seed_count"]
        assert evaluation.passed and evaluation.partition == "development"
        assert not evaluation.blocking
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        assert metadata["items_held"] == metadata["seed_items"] == materialized(result)[asset]["seed_items"] > 0
        assert metadata["found_before_seeding"] == metadata["stale_before_seeding"] == 0  # a fresh table
        assert metadata["missing_before_seeding"] == metadata["seed_items"]


def test_a_reseed_that_writes_nothing_counts_what_its_scan_found(app: App, instance) -> None:
    app.materialize("development", instance)
    result = app.materialize("development", instance, selection=SEEDED)
    found = evaluations(result)
    for asset in SEEDED:
        assert materialized(result)[asset]["items_written"] == 0
        metadata = {key: value.value for key, value in found[f"{asset}:seed_count"].metadata.items()}
        assert found[f"{asset}:seed_count"].passed
        assert metadata["items_held"] == metadata["found_before_seeding"] == metadata["seed_items"]
        assert metadata["missing_before_seeding"] == metadata["stale_before_seeding"] == 0


def test_the_seed_count_shows_what_was_deleted_by_hand_or_dropped_from_the_files_before_the_reseed(app: App, instance) -> None:
    app.materialize("development", instance)
    table = app.dynamodb().Table(app.table_name("development", "Todo"))
    dropped = next(item for item in app.items("development", "Todo") if item["content"].endswith(app.seed_lines("development", "Todo")[-1]["content"]))
    path = app.root / "seed_data" / "development" / "Todo.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    deleted = next(item for item in app.items("development", "Todo") if item["id"] != dropped["id"])
    table.delete_item(Key={"id": deleted["id"]})
    table.put_item(Item={"id": "users-own", "content": "A user's own todo"})  # not seed data: never counted
    table.put_item(Item={"id": "stray-dev", "content": "[DEV] written by hand"})  # prefixed, but ampflow never wrote it

    result = app.materialize("development", instance, selection=["seeded_todo"])

    check = evaluations(result)["seeded_todo:seed_count"]
    metadata = {key: value.value for key, value in check.metadata.items()}
    assert check.passed and (metadata["seed_items"], metadata["items_held"]) == (2, 2)
    assert (metadata["found_before_seeding"], metadata["missing_before_seeding"], metadata["stale_before_seeding"]) == (2, 1, 1)
    assert "1 were missing and 1 stale" in check.description
    ids = {item["id"] for item in app.items("development", "Todo")}
    assert dropped["id"] not in ids and {deleted["id"], "users-own", "stray-dev"} <= ids and len(ids) == 4


def test_the_default_api_key_mode_passes_the_authorization_check(app: App, instance) -> None:
    result = app.materialize("development", instance, selection=[*DEPLOY_AND_VERIFY, "api_client"])
    check = evaluations(result)["api_client:default_authorization_mode"]
    assert check.passed and check.partition == "development"
    assert check.metadata["default_mode"].value == "apiKey"


def test_a_default_iam_mode_warns_with_advice(app: App, instance) -> None:
    resource = app.root / "amplify" / "data" / "resource.ts"
    source = resource.read_text()
    assert "defaultAuthorizationMode: 'apiKey'" in source
    resource.write_text(source.replace("defaultAuthorizationMode: 'apiKey'", "defaultAuthorizationMode: 'iam'"))

    result = app.materialize("development", instance, selection=[*DEPLOY_AND_VERIFY, "api_client"])  # a real synthesis

    assert result.success  # a warning, not a failure: the client is still generated
    check = evaluations(result)["api_client:default_authorization_mode"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["default_mode"].value == "iam"
    assert check.metadata["appsync_authentication_type"].value == "AWS_IAM"
    assert "API_KEY" in check.metadata["additional_modes"].value  # the models' publicApiKey rules still work
    for advice in ("authMode", "defaultAuthorizationMode: 'userPool'", "'apiKey'", "amplify/data/resource.ts"):
        assert advice in check.description
    assert "api_client" in materialized(result)
