"""The local target honours the standard AWS endpoint settings before starting its own emulator."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from ampflow_dagster.targets.emulator import EmbeddedEmulator

from conftest import App, materialized


@pytest.fixture
def external_server(tmp_path: Path):
    """A moto server the user runs themselves (it stands in for LocalStack or DynamoDB Local)."""
    server = EmbeddedEmulator(tmp_path / "someone-elses-server")
    running = server.ensure_running()
    yield running.endpoint
    server.stop()


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"])
def test_configured_endpoint_is_used_and_no_emulator_started(app: App, instance, monkeypatch, external_server, variable) -> None:
    monkeypatch.setenv(variable, external_server)
    assets = materialized(app.materialize("development", instance))
    assert assets["backend_deployment"]["endpoint"] == external_server
    assert not (app.project.state_dir / "emulator" / "server.json").exists()
    dynamodb = boto3.resource(
        "dynamodb", endpoint_url=external_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    todos = dynamodb.Table(app.table_name("development", "Todo")).scan()["Items"]
    assert sorted(item["content"] for item in todos) == [
        "[DEV] Invite the team to the Dagster UI", "[DEV] Seed the sample projects", "[DEV] Try the development backend",
    ]
