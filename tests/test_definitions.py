"""The Dagster definitions load, validate, and follow ampflow.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path



from ampflow_dagster.definitions import build_defs, defs
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.project import Project

from conftest import REPO, App, evaluate_sensor, materialized

SAMPLE = build_defs(Project(REPO))


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_every_asset_says_what_it_is_and_who_owns_it() -> None:
    for asset in SAMPLE.assets:
        spec = next(iter(asset.specs))
        assert spec.description and spec.group_name in ("amplify", "seed_data")
        assert "aws" in spec.kinds and spec.kinds & {"amplify", "dynamodb"}
        assert spec.owners == ["team:amplify-backend"]  # from ampflow.toml
        assert spec.tags["ampflow/stage"] in ("deploy", "verify", "seed", "client")


def test_the_definitions_hold_the_asset_checks() -> None:
    checks = {key.to_user_string() for key in SAMPLE.resolve_asset_graph().asset_check_keys}
    assert {
        "verified_tables:table_shape_todo", "verified_tables:table_shape_other_tables",
        "seeded_todo:seed_count", "api_client:default_authorization_mode", "verified_tables:list_queries",
    } <= checks
    # a shape check per seeded model and one for the other tables, the list queries, a count per seeded model,
    # the authorization mode
    assert len(checks) == 5 + 1 + 1 + 5 + 1


def test_full_workflow_jobs_run_their_environment(app: App, instance) -> None:
    definitions = app.definitions()
    app.register(instance)
    for job_name, environment, prefix in (("amplify_dev", "development", "[DEV]"), ("amplify_prod", "production", "[PROD]")):
        result = definitions.resolve_job_def(job_name).execute_in_process(instance=instance)
        assert result.success
        partitions = {event.materialization.partition for event in result.get_asset_materialization_events()}
        assert partitions == {environment}
        assert all(item["content"].startswith(prefix) for item in app.items(environment, "Todo"))


def test_force_job_recreates_tables(app: App, instance) -> None:
    app.materialize("development", instance)
    definitions = app.definitions()
    result = definitions.resolve_job_def("amplify_force").execute_in_process(instance=instance, partition_key="development")
    assert materialized(result)["backend_deployment"]["tables_recreated"] == 5
    assert app.items("development", "Todo") == []


def test_a_new_environment_in_configuration_is_a_new_partition(app: App, instance, monkeypatch) -> None:
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text() + '\n[environments.staging]\nprefix = "[STAGE]"\ntarget = "local"\n')
    (app.root / "seed_data" / "staging").mkdir()
    (app.root / "seed_data" / "staging" / "Todo.jsonl").write_text('{"content": "Staged"}\n')
    monkeypatch.setenv("AMPFLOW_PROJECT_ROOT", str(app.root))  # what `dagster dev` loads: the code location's own entry point
    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    assert job.partitions_def.get_partition_keys(dynamic_partitions_store=instance) == []  # until ampflow meets the instance
    evaluate_sensor(definitions, "amplify_change_sensor", instance, AmplifyAppResource(project_root=str(app.root)))  # adds them
    assert job.partitions_def.get_partition_keys(dynamic_partitions_store=instance) == ["development", "production", "staging"]
    result = job.execute_in_process(instance=instance, partition_key="staging")
    assert result.success
    assert materialized(result)["seeded_todo"]["items_written"] == 1
    assert [item["content"] for item in app.items("staging", "Todo")] == ["[STAGE] Staged"]
