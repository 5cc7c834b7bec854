"""Faults on a real moto server: a killed emulator mid-seed, a failed deployment retried by the sensor."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import boto3
import dagster as dg
import pytest

from ampflow_dagster.targets.emulator import EmbeddedEmulator

from conftest import App, failure_text, materialized
from fakes.dynamodb_proxy import FaultProxy
from test_automation import CHAIN, requested, run_request, tick

ITEMS = 20_000


def test_emulator_killed_mid_seed_then_a_rerun_converges_to_exactly_the_seed_set(app: App, instance) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    todos = app.root / "seed_data" / "development" / "Todo.jsonl"
    todos.write_text("".join(json.dumps({"content": f"item {n}", "done": n % 2 == 0}) + "\n" for n in range(ITEMS)))
    client = app.dynamodb().meta.client
    table = app.table_name("development", "Todo")
    server = json.loads((app.project.state_dir / "emulator" / "server.json").read_text())
    outcome: dict[str, dg.ExecuteInProcessResult] = {}
    seeding = threading.Thread(
        target=lambda: outcome.setdefault("run", app.materialize("development", instance, selection=["seeded_todo"],
                                                                  raise_on_error=False)))
    seeding.start()
    deadline = time.monotonic() + 120
    while client.scan(TableName=table, Select="COUNT")["Count"] == 0:  # wait until writing has begun
        assert time.monotonic() < deadline and seeding.is_alive(), "seeding never started writing"
        time.sleep(0.02)
    os.killpg(server["pid"], signal.SIGKILL)
    seeding.join(timeout=300)
    first = outcome["run"]
    assert not first.success
    assert "Nothing answered" in failure_text(first) and "ampflow seed development" in failure_text(first)

    second = materialized(app.materialize("development", instance, selection=["seeded_todo"]))["seeded_todo"]
    assert second["seed_items"] == ITEMS and second["items_created"] < ITEMS  # the replayed part was kept
    items = app.items("development", "Todo")
    assert len(items) == ITEMS
    assert sorted(item["content"] for item in items) == sorted(f"[DEV] item {n}" for n in range(ITEMS))


def test_failed_deployment_records_no_fingerprint_and_the_sensor_retries_it(app: App, instance) -> None:
    app.materialize("development", instance)
    resource = app.root / "amplify" / "data" / "resource.ts"
    good = resource.read_text()
    resource.write_text(good.replace("a.string().required(),", "a.strin().required(),", 1))
    requests, _ = tick(app, instance)
    assert requested(requests) == {(name, "development") for name in CHAIN}
    failed = run_request(app, instance, requests[0], raise_on_error=False)
    assert not failed.success and "TypeScript error in amplify/data/resource.ts" in failure_text(failed)
    retry, _ = tick(app, instance)
    assert requested(retry) == {(name, "development") for name in CHAIN}
    assert retry[0].run_key != requests[0].run_key  # a new attempt, not deduplicated away
    resource.write_text(good + "\n// fixed\n")
    fixed, _ = tick(app, instance)
    assert materialized(run_request(app, instance, fixed[0]))["backend_deployment"]["deployment"] == "deployed"
    assert tick(app, instance)[0] == []


@pytest.fixture
def proxied(app: App, tmp_path, monkeypatch):
    """The app's tables behind a fault-injecting proxy in front of a real moto server."""
    upstream = EmbeddedEmulator(tmp_path / "upstream")
    with FaultProxy(upstream.ensure_running().endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
        yield proxy
    upstream.stop()


def proxied_items(proxy: FaultProxy, app: App, model: str) -> list:
    table = boto3.resource("dynamodb", endpoint_url=proxy.endpoint, region_name="us-east-1",
                           aws_access_key_id="t", aws_secret_access_key="t").Table(app.table_name("development", model))
    return table.scan()["Items"]


@pytest.mark.parametrize("fault", ["throttle", "leave_unprocessed"])
def test_throttling_and_unprocessed_items_are_retried(app: App, instance, proxied: FaultProxy, fault: str) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    setattr(proxied, fault, 3)
    assets = materialized(app.materialize("development", instance, selection=["seeded_todo", "seeded_task"]))
    assert proxied.injected == 3
    assert assets["seeded_todo"]["items_created"] == 3 and assets["seeded_task"]["items_created"] == 3
    assert len(proxied_items(proxied, app, "Todo")) == 3


@pytest.mark.parametrize(("fault", "expected"), [
    ("throttle", "ProvisionedThroughputExceededException"),
    ("leave_unprocessed", "unprocessed 8 times in a row"),
])
def test_persistent_throttling_fails_clearly_after_bounded_attempts(app: App, instance, proxied, fault, expected) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    setattr(proxied, fault, 10_000)
    result = app.materialize("development", instance, selection=["seeded_todo"], raise_on_error=False)
    assert not result.success and expected in failure_text(result) and "ampflow seed" in failure_text(result)
    assert proxied_items(proxied, app, "Todo") == []
    assert proxied.injected < 50  # bounded: it gave up


def test_a_write_acknowledged_and_lost_fails_the_seed_count(app: App, instance, proxied: FaultProxy) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    proxied.drop = 1  # the first batch of Todo's three items is acknowledged and never written
    result = app.materialize("development", instance, selection=["seeded_todo"])
    assert proxied.injected == 1 and proxied_items(proxied, app, "Todo") == []
    (check,) = [evaluation for evaluation in result.get_asset_check_evaluations() if evaluation.check_name == "seed_count"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    metadata = {key: value.value for key, value in check.metadata.items()}
    assert (metadata["seed_items"], metadata["items_held"]) == (3, 0)
    assert "read back after the pass it holds 0" in check.description and "Seed development again" in check.description

    again = app.materialize("development", instance, selection=["seeded_todo"])  # the next pass finds them missing
    (check,) = [evaluation for evaluation in again.get_asset_check_evaluations() if evaluation.check_name == "seed_count"]
    assert check.passed and materialized(again)["seeded_todo"]["items_created"] == 3


HOLD_LOCK = """
import sys
from pathlib import Path
from ampflow_dagster.project import Project
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
workspace = EnvironmentWorkspace.open(Project(Path(sys.argv[1])), sys.argv[2], AwsSettings())
print("started", flush=True)
with workspace.exclusive():
    print("held", flush=True)
    sys.stdin.readline()  # held until the test says so
print("released", flush=True)
"""


def test_two_processes_never_change_one_environment_at_once(app: App) -> None:
    import subprocess
    import sys
    from pathlib import Path

    def hold(environment: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(app.root), environment],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline() == "started\n"
        return process

    def waiting_for_a_lock(pid: int) -> bool:
        """Whether the kernel lists `pid` as blocked on a file lock (a "->" line of /proc/locks)."""
        return any(line.split()[1] == "->" and line.split()[5] == str(pid) for line in Path("/proc/locks").read_text().splitlines())

    first = hold("development")
    assert first.stdout.readline() == "held\n"
    second = hold("development")
    deadline = time.monotonic() + 60
    while not waiting_for_a_lock(second.pid):  # the second is blocked on development's lock
        assert time.monotonic() < deadline and second.poll() is None, "the second process never waited for the lock"
        time.sleep(0.01)
    production = hold("production")
    assert production.stdout.readline() == "held\n"  # another environment's lock is free meanwhile
    first.stdin.write("\n")
    first.stdin.flush()
    assert first.stdout.readline() == "released\n"
    assert second.stdout.readline() == "held\n"  # only now
    for process in (second, production):
        process.stdin.write("\n")
        process.stdin.flush()
    for process in (first, second, production):
        assert process.wait(timeout=60) == 0
