"""Plan before apply: destructive table changes are shown, refused where protected, and backed up first."""

from __future__ import annotations

from cli import ampflow
from conftest import App, failure_text, materialized

KEY_CHANGE = (".authorization((allow) => [allow.publicApiKey()]),\n\n  Project: a",
              ".identifier(['content'])\n    .authorization((allow) => [allow.publicApiKey()]),\n\n  Project: a")


def change_todo_key(app: App) -> None:
    resource = app.root / "amplify" / "data" / "resource.ts"
    text = resource.read_text()
    assert KEY_CHANGE[0] in text
    resource.write_text(text.replace(KEY_CHANGE[0], KEY_CHANGE[1], 1))


def test_key_change_in_production_is_refused_then_backed_up_when_allowed(app: App, instance) -> None:
    app.materialize("production", instance)
    todo_table = app.table_name("production", "Todo")
    change_todo_key(app)
    planned = ampflow(app.root, "plan", "production", dagster_home=app.root / "home")
    assert planned.returncode == 0, planned.stderr
    assert f"replace  {todo_table} (1 items): key id should be content" in planned.stdout
    assert "would lose items" in planned.stdout
    assert len(app.items("production", "Todo")) == 1  # planning changed nothing

    refused = app.materialize("production", instance, selection=["backend_deployment"], raise_on_error=False)
    text = failure_text(refused)
    assert "Refusing to change protected environment 'production'" in text
    assert f"replace {todo_table} (1 items): key id should be content" in text and "allow_destructive" in text
    assert app.dynamodb().meta.client.list_backups(TableName=todo_table)["BackupSummaries"] == []
    assert len(app.items("production", "Todo")) == 1

    allowed = app.materialize(
        "production", instance, selection=["backend_deployment", "verified_tables"],
        run_config={"ops": {"backend_deployment": {"config": {"allow_destructive": True}}}},
    )
    deployment = materialized(allowed)["backend_deployment"]
    assert deployment["tables_replaced"] == 1 and todo_table in deployment["backups"]
    backups = app.dynamodb().meta.client.list_backups(TableName=todo_table)["BackupSummaries"]
    assert len(backups) == 1 and backups[0]["BackupName"].startswith("ampflow-production-Todo-")
    assert app.items("production", "Todo") == []  # replaced, as Amplify would; the backup holds the item
    assert "| Todo |" in deployment["plan"] and "replace" in deployment["plan"]


def test_unprotected_environment_backs_up_before_replacing(app: App, instance) -> None:
    app.materialize("development", instance)
    change_todo_key(app)
    deployment = materialized(app.materialize("development", instance, selection=["backend_deployment"]))["backend_deployment"]
    assert deployment["tables_replaced"] == 1
    assert app.table_name("development", "Todo") in deployment["backups"]
