"""The local GraphQL endpoint: its start, and a warm list of 100 items, beside a `dagster dev` start for scale.

A cloud round trip cannot be measured offline. The figures that decide the comparison are measured
here: the endpoint's own time for the list, and how much of it is the emulator's DynamoDB `Scan`
(moto, on the same two cores), against which a cloud round trip is one network round trip to the
region plus AppSync's and DynamoDB's own time.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

from ampflow_dagster.environments import load_config
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.tables.dynamodb import create_table
from ampflow_dagster.targets.graphql_endpoint import graphql_endpoint
from ampflow_dagster.targets.local import LocalTarget
from ampflow_dagster.targets.servers import free_port

from benchmarks.common import (
    Ratio, Result, aws, copy_app, dynamodb_resource, emulator, environment_without_aws_endpoints, seconds, temporary_directory,
)

ITEMS = 100
LIST_QUERY = "query { listTodos(limit: 100) { items { id content done priority createdAt updatedAt } nextToken } }"


def run(size: dict[str, int]) -> list[Result]:
    result = Result("local_api", f"The local GraphQL endpoint: start, and a warm list of {ITEMS} items")
    print(f"\n{result.title}", flush=True)
    starts = max(3, size["repeats"])
    queries = 30 if size["repeats"] > 1 else 10
    with temporary_directory("local-api") as directory:
        project = copy_app(directory / "app")
        with emulator(directory) as endpoint:
            target = LocalTarget(project, load_config(project).environment("development"), aws(endpoint))
            desired = synthesize(project, target.backend_identifier(project.package_name()))
            table = target.table_name("Todo")
            client = dynamodb_resource(endpoint).meta.client
            create_table(client, table, desired.tables["Todo"], tags={})
            fill(dynamodb_resource(endpoint).Table(table))
            state = graphql_endpoint(project.state_dir, "development")
            start_times = []
            try:
                for _ in range(starts):
                    state.stop()
                    start_times.append(target.graphql_endpoint(desired, None, lambda line: None).started_seconds)
                running = state.running()
                latencies = list_latencies(running.url, target.api_key(), queries)
            finally:
                state.stop()
            scans = [timed_scan(client, table) for _ in range(queries)]
        dagster_start = dagster_dev_start(project.root)
    start, list_median = statistics.median(start_times), statistics.median(latencies)
    list_p90 = sorted(latencies)[int(len(latencies) * 0.9) - 1]
    scan_median = statistics.median(scans)
    result.figure("endpoint start, launch to listening (sample app: 46 resolvers, 150 functions)",
                  f"{seconds(start)} (median of {starts})")
    result.figure(f"listTodos(limit: {ITEMS}) through the endpoint, warm, keep-alive",
                  f"median {seconds(list_median)}, p90 {seconds(list_p90)} ({queries} queries)")
    result.figure(f"the emulator's Scan(Limit={ITEMS}) of the same table, boto3 directly", f"median {seconds(scan_median)}")
    result.figure("dagster dev, launch to the UI answering /server_info", seconds(dagster_start))
    result.ratio(Ratio("endpoint start / dagster dev start", start / dagster_start,
                       informational="for scale: both start once per working session"))
    result.ratio(Ratio(f"{ITEMS}-item list / the emulator's own Scan", list_median / scan_median,
                       informational="what the resolver pipeline adds over the emulator's DynamoDB, which AWS would replace"))
    return [result]


def fill(table: object) -> None:
    """100 Todo items as the create resolver stores them."""
    with table.batch_writer() as writer:  # type: ignore[attr-defined]
        for number in range(ITEMS):
            writer.put_item(Item={
                "id": str(uuid.uuid4()), "__typename": "Todo", "content": f"[DEV] Benchmark item {number}",
                "done": number % 2 == 0, "priority": ("LOW", "MEDIUM", "HIGH")[number % 3],
                "createdAt": "2026-12-01T08:00:00.000Z", "updatedAt": "2026-12-01T08:00:00.000Z",
            })


def list_latencies(url: str, api_key: str, queries: int) -> list[float]:
    address = urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    body = json.dumps({"query": LIST_QUERY})
    headers = {"content-type": "application/json", "x-api-key": api_key}

    def ask() -> float:
        started = time.perf_counter()
        connection.request("POST", address.path, body=body, headers=headers)
        answer = json.loads(connection.getresponse().read())
        elapsed = time.perf_counter() - started
        items = answer["data"]["listTodos"]["items"]
        assert len(items) == ITEMS, answer
        return elapsed

    for _ in range(3):
        ask()  # warm: templates parsed, connections to the emulator open
    try:
        return [ask() for _ in range(queries)]
    finally:
        connection.close()


def timed_scan(client: object, table: str) -> float:
    started = time.perf_counter()
    items = client.scan(TableName=table, Limit=ITEMS)["Items"]  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert len(items) == ITEMS
    return elapsed


def dagster_dev_start(root: Path) -> float:
    """`dagster dev` on the app's workspace, from launch until its web server answers."""
    port = free_port(None, "dagster dev")
    environment = {**environment_without_aws_endpoints(), "DAGSTER_HOME": str(root / "dagster_home"),
                   "AMPFLOW_PROJECT_ROOT": str(root)}
    dagster = str(Path(sys.executable).with_name("dagster"))
    started = time.perf_counter()
    process = subprocess.Popen(
        [dagster, "dev", "-h", "127.0.0.1", "-p", str(port), "-w", str(root / "workspace.yaml")],
        cwd=root, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        while time.perf_counter() - started < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    return time.perf_counter() - started
            except (urllib.error.URLError, OSError):
                if process.poll() is not None:
                    raise RuntimeError(f"dagster dev exited with {process.returncode}")
                time.sleep(0.1)
        raise RuntimeError("dagster dev did not answer within 180 s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
