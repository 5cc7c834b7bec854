"""deploy/dagster.yaml, unchanged, runs ampflow's workflows with a real PostgreSQL server as the instance's storage.

Each test copies the file byte for byte into its own DAGSTER_HOME and points the variables
it reads at a throwaway PostgreSQL cluster on loopback (one database per test). The two
parts of the file that reach AWS are handled without editing it:
- compute logs: S3ComputeLogManager talks to a moto S3 server on loopback, named by the
  standard AWS_ENDPOINT_URL_S3 that boto3 honours, so step logs really land in a bucket;
- EcsRunLauncher: built (offline, it only creates boto3 clients) but never used, because
  `materialize`, the sensor's runs here and the `ampflow` CLI execute runs in process and
  never launch through the run launcher. Launching ECS tasks is left to a real cluster.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from moto.server import ThreadedMotoServer

from ampflow_dagster.defs.records import deployed_state, staleness_of
from ampflow_dagster.fingerprint import digest_cache
from ampflow_dagster.seeding.writer import READ_BY_KEYS

from cli import ampflow
from conftest import REPO, App, materialized
from postgres_cluster import PostgresServer, throwaway_postgres
from test_automation import CHAIN, SEEDED, requested, run_request, tick

TEAM_INSTANCE = REPO / "deploy" / "dagster.yaml"
LOG_BUCKET = "ampflow-team-compute-logs"
LOG_PREFIX = "ampflow/compute-logs/"  # the file's compute_logs.config.prefix
RECORD_BUCKET = "ampflow-team-seed-records"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with throwaway_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback holding the compute-log bucket and the seed-record bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3(endpoint).create_bucket(Bucket=LOG_BUCKET)
    s3(endpoint).create_bucket(Bucket=RECORD_BUCKET)
    yield endpoint
    server.stop()


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


@dataclass
class TeamInstance:
    home: Path
    database: str
    postgres: PostgresServer
    s3_endpoint: str

    def open(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))

    def count(self, query: str, *parameters: object) -> int:
        """A count read with psycopg2 straight from the instance's database, not through Dagster."""
        connection = self.postgres.connect(self.database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, parameters)
                return cursor.fetchone()[0]
        finally:
            connection.close()


@pytest.fixture
def team(tmp_path: Path, postgres: PostgresServer, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> TeamInstance:
    """A DAGSTER_HOME holding deploy/dagster.yaml as it is, its variables pointing at this test's own database."""
    database = postgres.create_database(f"dagster_{uuid.uuid4().hex[:12]}")
    variables = {
        "DAGSTER_POSTGRES_HOST": postgres.host, "DAGSTER_POSTGRES_PORT": str(postgres.port),
        "DAGSTER_POSTGRES_USER": postgres.user, "DAGSTER_POSTGRES_PASSWORD": postgres.password,
        "DAGSTER_POSTGRES_DB": database, "DAGSTER_COMPUTE_LOG_BUCKET": LOG_BUCKET, "AMPFLOW_SEED_RECORDS_BUCKET": RECORD_BUCKET,
        "AWS_ENDPOINT_URL_S3": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",  # boto3 reads this one, not AWS_REGION; ECS sets both in every task
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    # S3ComputeLogManager stages logs in the system temp directory: keep them in this test's.
    staging = tmp_path / "tmp"
    staging.mkdir()
    monkeypatch.setenv("TMPDIR", str(staging))
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(TEAM_INSTANCE, home / "dagster.yaml")
    return TeamInstance(home, database, postgres, s3_endpoint)


def team_ampflow(app: App, team: TeamInstance, *arguments: str) -> subprocess.CompletedProcess[str]:
    return ampflow(
        app.root, *arguments, dagster_home=team.home,
        env={"AMPFLOW_PROJECT_ROOT": str(app.root),
             "PYTHONPATH": str(REPO)},  # this checkout's ampflow, whichever one the console script was installed from
    )


def test_the_development_workflow_runs_on_the_team_instance_and_its_history_is_in_postgres(app: App, team: TeamInstance) -> None:
    assert (team.home / "dagster.yaml").read_bytes() == TEAM_INSTANCE.read_bytes()
    with team.open() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
        assert isinstance(instance.run_launcher, EcsRunLauncher)

        first = app.materialize("development", instance)
        assert first.success
        assets = materialized(first)
        assert set(assets) == CHAIN | SEEDED
        assert assets["backend_deployment"]["deployment"] == "deployed"

        deployed = deployed_state(instance, "development")
        assert deployed.fingerprint == assets["backend_deployment"]["amplify_fingerprint"]
        assert deployed.model_versions == assets["backend_deployment"]["model_versions"]
        assert deployed_state(instance, "production").fingerprint is None
        state = staleness_of(instance, app.project, "development", digest_cache(app.project))
        assert not state.stale and state.deployed_fingerprint == deployed.fingerprint

        second = app.materialize("development", instance)
        assert materialized(second)["backend_deployment"]["deployment"] == "skipped"
        # The second pass read the seed keys its record named: the record came back from S3.
        assert materialized(second)["seeded_todo"]["read_by"] == READ_BY_KEYS
        assert materialized(second)["seeded_todo"]["items_read"] == 3

    # Read back without Dagster: the history is in this PostgreSQL database, not in a silent sqlite.
    assert not list(team.home.rglob("*.db"))
    assert team.count("SELECT count(*) FROM runs WHERE status = 'SUCCESS'") == 2
    materializations = "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND partition = %s"
    assert team.count(materializations, "development") == 2 * len(CHAIN | SEEDED)
    assert team.count(materializations, "production") == 0
    assert team.count("SELECT count(*) FROM event_logs WHERE run_id = ANY(%s)", [first.run_id, second.run_id]) > 2 * len(CHAIN | SEEDED)

    # And the step logs went where the file sends them: the bucket, under its prefix.
    keys = [item["Key"] for item in s3(team.s3_endpoint).list_objects_v2(Bucket=LOG_BUCKET, Prefix=LOG_PREFIX).get("Contents", [])]
    assert any(first.run_id in key for key in keys), keys
    # ampflow's records of what it seeded are in their bucket, not on the run's disk.
    records = s3(team.s3_endpoint).list_objects_v2(Bucket=RECORD_BUCKET, Prefix="ampflow/seed-records/").get("Contents", [])
    assert {item["Key"] for item in records} >= {f"ampflow/seed-records/{name}/development" for name in SEEDED}
    assert not (team.home / "storage").exists()


def test_the_sensor_and_the_cli_read_deployments_from_postgres(app: App, team: TeamInstance) -> None:
    with team.open() as instance:
        deployment = materialized(app.materialize("development", instance))["backend_deployment"]
        fingerprint = deployment["amplify_fingerprint"]

        # Another process, the same history: the CLI opens the instance from DAGSTER_HOME.
        dev = team_ampflow(app, team, "dev")
        assert dev.returncode == 0, dev.stderr
        assert "development is up to date; no run started" in dev.stdout
        status = team_ampflow(app, team, "status")
        assert status.returncode == 0, status.stderr
        development = status.stdout.split("production (")[0]
        assert f"current {fingerprint}, deployed {fingerprint}" in development and "stale: nothing" in development
        assert team.count("SELECT count(*) FROM runs") == 1

        requests, skip = tick(app, instance)
        assert requests == [] and f"development: amplify/ {fingerprint} is deployed" in skip

        resource = app.root / "amplify" / "data" / "resource.ts"
        resource.write_text(resource.read_text() + "\n// reviewed\n")
        requests, _ = tick(app, instance)
        assert requested(requests) == {(name, "development") for name in CHAIN}
        stale = team_ampflow(app, team, "status")
        assert "stale: backend_deployment, verified_tables, api_client" in stale.stdout.split("production (")[0]

        assert run_request(app, instance, requests[0]).success
        assert tick(app, instance)[0] == []
    assert team.count("SELECT count(*) FROM runs WHERE status = 'SUCCESS'") == 2
