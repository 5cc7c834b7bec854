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


def test_a_recording_interleaved_by_concurrent_requests_or_torn_by_a_kill_still_replays(tmp_path: Path) -> None:
    emulator = EmbeddedEmulator(tmp_path / "emulator")
    endpoint = emulator.ensure_running().endpoint
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_table(TableName="Kept", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    for number in range(3):
        client.put_item(TableName="Kept", Item={"id": {"S": f"item-{number}"}})
    emulator.stop()
    lines = emulator.recording.read_text().splitlines()
    assert len(lines) >= 4
    # What moto's recorder leaves when two requests write at once (entry, entry, newline, newline),
    # and when the server dies halfway through writing the next one.
    interleaved = lines[:-2] + [lines[-2] + lines[-1], ""]
    emulator.recording.write_text("\n".join(interleaved) + "\n" + lines[-1][: len(lines[-1]) // 2])

    restarted = emulator.ensure_running()
    try:
        assert restarted.replayed_requests == len(lines)
        client = boto3.client("dynamodb", endpoint_url=restarted.endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        items = client.scan(TableName="Kept")["Items"]
        assert sorted(item["id"]["S"] for item in items) == ["item-0", "item-1", "item-2"]
    finally:
        emulator.stop()
