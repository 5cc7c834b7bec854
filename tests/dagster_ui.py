"""The real Dagster UI for tests: `dagster dev` (webserver + daemon) on a free loopback port,
driven through Dagster's own GraphQL client, and a headless Chromium to look at it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from dagster_graphql import DagsterGraphQLClient

from cli import AMPFLOW

REPO = Path(__file__).resolve().parents[1]
LOCATION = "ampflow"
REPOSITORY = "__repository__"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
CHROMIUM = "/usr/bin/chromium"
# Headless, and quiet on a closed network: no background fetches, no first-run chores.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status tags { key value } assetSelection { path } } }
    ... on PythonError { message }
  }
}"""

MATERIALIZATIONS_QUERY = """
query Materializations($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset {
      assetMaterializations(limit: 100) {
        partition
        runId
        metadataEntries { label ... on TextMetadataEntry { text } ... on IntMetadataEntry { intValue } ... on UrlMetadataEntry { url } }
      }
      definition {
        assetPartitionStatuses { ... on DefaultPartitionStatuses { materializedPartitions failedPartitions } }
      }
    }
  }
}"""

LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on UnauthorizedError { message }
  }
}"""

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status partitionNames runs(limit: 100) { runId status } }
    ... on PythonError { message }
  }
}"""

CHECKS_QUERY = """
query Checks($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks {
          checks {
            name
            blocking
            partitionStatuses { ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions } }
          }
        }
      }
    }
  }
}"""

RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class DagsterUI:
    """A running `dagster dev` and the GraphQL calls the tests make through it."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        return self.client._execute(document, variables)  # the client's own transport, for queries it has no method for

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_until_ready(self, timeout: float = 180) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    if response.status != 200:
                        return False
                entries = self.query("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                     "locationOrLoadError { __typename } } } } }")
            except OSError:
                return False
            locations = {e["name"]: e["locationOrLoadError"] for e in entries["workspaceOrError"]["locationEntries"]}
            status = (locations.get(LOCATION) or {}).get("__typename")
            if status == "PythonError":
                raise AssertionError(f"the ampflow code location failed to load:\n{self.log_tail()}")
            return status == "RepositoryLocation"

        wait_for(ready, timeout, f"the Dagster UI on {self.url}")

    # Runs

    def launch(self, job: str, partition: str) -> str:
        return self.client.submit_job_execution(
            job, repository_location_name=LOCATION, repository_name=REPOSITORY, tags={"dagster/partition": partition}
        )

    def runs(self, **tags: str) -> list[dict[str, Any]]:
        tag_filter = [{"key": key.replace("__", "/"), "value": value} for key, value in tags.items()]
        result = self.query(RUNS_QUERY, filter={"tags": tag_filter})["runsOrError"]
        assert result["__typename"] == "Runs", result
        return result["results"]

    def wait_for_run(self, run_id: str, timeout: float = 300) -> str:
        status = wait_for(
            lambda: (s := self.client.get_run_status(run_id).value) in FINISHED and s, timeout, f"run {run_id}", 2
        )
        if status != "SUCCESS":
            events = self.query(RUN_ERRORS_QUERY, runId=run_id)["logsForRun"].get("events", [])
            failures = [e.get("message", "") for e in events if "Failure" in e["__typename"]]
            raise AssertionError(f"run {run_id} ended {status}:\n" + "\n".join(failures))
        return status

    def wait_until_idle(self, timeout: float = 300) -> None:
        """Every run launched so far has finished."""
        wait_for(lambda: all(run["status"] in FINISHED for run in self.runs()), timeout, "launched runs to finish", 2)

    # Assets

    def materializations(self, asset: str) -> dict[str, Any]:
        result = self.query(MATERIALIZATIONS_QUERY, key={"path": [asset]})["assetOrError"]
        assert result["__typename"] == "Asset", result
        return result

    def latest_metadata(self, asset: str, partition: str) -> dict[str, Any]:
        events = [m for m in self.materializations(asset)["assetMaterializations"] if m["partition"] == partition]
        assert events, f"{asset} has no materialization for {partition}"
        return {e["label"]: e.get("text", e.get("url", e.get("intValue"))) for e in events[0]["metadataEntries"]}

    def checks(self, asset: str) -> dict[str, dict[str, Any]]:
        """Check name -> whether it blocks, and the environments where it last passed and failed."""
        node = self.query(CHECKS_QUERY, key={"path": [asset]})["assetNodeOrError"]
        assert node["__typename"] == "AssetNode", node
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        return {
            check["name"]: {
                "blocking": check["blocking"],
                "passed": sorted(check["partitionStatuses"]["succeededPartitions"]),
                "failed": sorted(check["partitionStatuses"]["failedPartitions"]),
            }
            for check in checks["checks"]
        }

    def launch_backfill(self, assets: list[str], partitions: list[str]) -> str:
        params = {"partitionNames": partitions, "assetSelection": [{"path": [name]} for name in assets]}
        result = self.query(LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        return result["backfillId"]

    def wait_for_backfill(self, backfill_id: str, timeout: float = 300) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            backfill = self.query(BACKFILL_QUERY, id=backfill_id)["partitionBackfillOrError"]
            assert backfill["__typename"] == "PartitionBackfill", backfill
            return backfill if backfill["status"] in BACKFILL_FINISHED else None

        return wait_for(finished, timeout, f"backfill {backfill_id}", 2)


def processes_with(variable: str, value: str) -> list[str]:
    """Processes whose environment carries variable=value: what a test started, however deep."""
    needle = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name}: {command[:160]}")
        except OSError:  # gone, or a zombie with no environment left
            continue
    return found


@contextmanager
def dagster_dev(project_root: Path, dagster_home: Path) -> Iterator[DagsterUI]:
    """`dagster dev` for the app at project_root; stopped, with everything it started, on exit."""
    port = free_port()
    environment = {
        **_without_endpoints(),
        "DAGSTER_HOME": str(dagster_home),
        "AMPFLOW_PROJECT_ROOT": str(project_root),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(REPO),  # this checkout's ampflow, wherever the venv's editable install points
    }
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)]
    with _running(command, project_root, environment, port, dagster_home / "dagster-dev.log") as ui:
        yield ui


@contextmanager
def ampflow_ui(project_root: Path, log: Path) -> Iterator[DagsterUI]:
    """`ampflow ui` run from the app's root, as its user runs it: the project, its instance and its workspace
    are whatever ampflow finds there."""
    port = free_port()
    environment = {k: v for k, v in _without_endpoints().items() if k not in ("AMPFLOW_PROJECT_ROOT", "DAGSTER_HOME")}
    command = [AMPFLOW, "ui", "--port", str(port)]
    with _running(command, project_root, environment, port, log) as ui:
        yield ui


def _without_endpoints() -> dict[str, str]:
    removed = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE")
    return {**{k: v for k, v in os.environ.items() if k not in removed}, "AWS_REGION": "us-east-1"}


@contextmanager
def _running(command: list[str], cwd: Path, environment: dict[str, str], port: int, log: Path) -> Iterator[DagsterUI]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    ui = DagsterUI(process, port, log)
    try:
        ui.wait_until_ready()
        yield ui
    finally:
        process.send_signal(signal.SIGTERM)  # what Ctrl-C does: dagster dev stops the webserver, daemon and code servers
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever it started and did not stop: the test then names it
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
