"""Environment isolation is enforced in one gate, on a real emulator holding both environments."""

from __future__ import annotations

import pytest

from ampflow_dagster.isolation import IsolationError
from ampflow_dagster.planning import PlannedChange
from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.writer import apply_seed_set
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.seeding import prepare_seed_set
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App


def snapshot(app: App) -> dict[str, list]:
    return {model: app.items("production", model) for model in ("Todo", "Task", "Project")}


@pytest.fixture
def both(app: App, instance) -> tuple[EnvironmentWorkspace, EnvironmentWorkspace]:
    app.materialize("development", instance)
    app.materialize("production", instance)
    return tuple(EnvironmentWorkspace.open(app.project, env, AwsSettings()) for env in ("development", "production"))


def test_a_development_run_cannot_write_to_a_production_table(app: App, both) -> None:
    development, production = both
    before = snapshot(app)
    seed_set = prepare_seed_set(development, "Todo", ["Todo"])
    with pytest.raises(IsolationError, match=r"not a table of environment 'development'"):
        apply_seed_set(development.target.dynamodb_resource(), production.target.table_name("Todo"),
                       development.target.gate(), seed_set)
    assert snapshot(app) == before


def test_items_without_the_prefix_are_never_written_or_deleted(app: App, both) -> None:
    development, _ = both
    valid = prepare_seed_set(development, "Todo", ["Todo"])
    smuggled = {"id": "x", "content": "[PROD] smuggled", "__typename": "Todo"}
    unprefixed = SeedSet(valid.environment, "Todo", valid.table_spec, "content", files=[], fixed_items=[smuggled])
    table = development.target.table_name("Todo")
    before = app.items("development", "Todo")
    with pytest.raises(IsolationError, match=r"does not carry environment 'development''s prefix \[DEV\]"):
        apply_seed_set(development.target.dynamodb_resource(), table, development.target.gate(), unprefixed)
    assert app.items("development", "Todo") == before


def test_a_development_deployment_cannot_touch_a_production_table(app: App, both) -> None:
    development, production = both
    before = snapshot(app)
    foreign = PlannedChange("Todo", production.target.table_name("Todo"), "delete", "crafted", 1)
    with pytest.raises(IsolationError):
        development.target.deploy(development.desired(), [foreign], log=lambda _: None)
    assert snapshot(app) == before


def test_clean_removes_only_this_environments_prefixed_items_when_no_record_is_known(app: App, both) -> None:
    from ampflow_dagster.workflow.seeding import clean_environment

    development, _ = both
    table = app.dynamodb().Table(app.table_name("development", "Todo"))
    table.put_item(Item={"id": "mine", "content": "written by the app", "__typename": "Todo"})
    before = snapshot(app)
    outcome = clean_environment(development, {}, log=lambda _: None)
    assert outcome.removed["Todo"] == 3
    assert len(outcome.records["Todo"]) == 0
    assert [item["id"] for item in app.items("development", "Todo")] == ["mine"]
    assert snapshot(app) == before
