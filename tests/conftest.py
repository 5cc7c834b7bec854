"""Test fixtures: a copy of the sample Amplify app per test, its own embedded moto server, a real synthesis."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest

from ampflow_dagster.definitions import build_defs
from ampflow_dagster.defs.partitions import register_environments
from ampflow_dagster.defs.resources import AmplifyAppResource, AwsResource
from ampflow_dagster.defs.seed_records import SEED_RECORDS, seed_records_io_manager
from ampflow_dagster.environments import load_config
from ampflow_dagster.project import Project
from ampflow_dagster.tables.names import local_api_id, table_name
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

REPO = Path(__file__).resolve().parents[1]
# The branch is 68 characters long: Amplify cuts a stack name's branch part to 50 alphanumerics.
LONG_BRANCH = "feature/stack-names-keep-fifty-alphanumerics-of-a-long-branch-name12"
CLOUD_IDENTIFIERS = (
    BackendIdentifier("ampflow-sample-app", "devbox", "sandbox"),
    BackendIdentifier("d1a2b3c4d5e6f7", LONG_BRANCH, "branch"),
)
APP_FILES = ("amplify", "seed_data", "ampflow.toml", "package.json", "package-lock.json")
GENERATED = shutil.ignore_patterns("node_modules", ".amplify", "cdk.out", "__pycache__")


def copy_app(destination: Path) -> None:
    destination.mkdir(parents=True)
    for name in APP_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=GENERATED)
        else:
            shutil.copy2(source, destination / name)
    (destination / "node_modules").symlink_to(REPO / "node_modules")


@pytest.fixture(autouse=True)
def no_instance_state_from_other_tests() -> Iterator[None]:
    """Each test starts with no Dagster instance's definitions-state storage current.

    Entering an instance makes its storage current (a context variable) until it exits; a module's or the
    session's instance outlives the tests in between. Building a repository (resolving a job or a sensor)
    reads the current storage, and one whose instance is gone fails with "Attempted to resolve undefined
    DagsterInstance weakref", whatever the test does: seen once, depending on the order tests ran in.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


def evaluate_sensor(definitions: dg.Definitions, name: str, instance: dg.DagsterInstance, amplify_app: Any) -> Any:
    """One evaluation of sensor `name`, as the daemon makes it (with the instance's ref, so run requests resolve their
    partitions); what the evaluation leaves as the current definitions-state storage is put back afterwards."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        sensor = definitions.get_sensor_def(name)
        context = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=definitions,
                                          resources={"amplify_app": amplify_app})
        return sensor.evaluate_tick(context)


@pytest.fixture(autouse=True)
def no_configured_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the embedded emulator unless they set an endpoint themselves."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture(scope="session")
def synthesized_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app, synthesized once for every environment (real tsc + tsx + Amplify)."""
    root = tmp_path_factory.mktemp("synthesized") / "app"
    copy_app(root)
    project = Project(root)
    for environment in load_config(project).environments:
        EnvironmentWorkspace.open(project, environment, AwsSettings()).desired()
    return root


@pytest.fixture(scope="session")
def cloud_backends(synthesized_app: Path) -> Path:
    """The sample app also synthesized for the cloud-target tests' backends, once, for the tests that ask.

    Session-scoped, so it is in place before any copy of the app a test of theirs gets.
    """
    for identifier in CLOUD_IDENTIFIERS:
        synthesize(Project(synthesized_app), identifier)
    return synthesized_app


def copy_synthesized_app(synthesized: Path, destination: Path) -> Project:
    """A fresh copy of the sample app with the synthesis of `synthesized` (same amplify/ tree, same
    fingerprint): it starts no Node until its amplify/ changes."""
    copy_app(destination)
    shutil.copytree(synthesized / ".ampflow" / "synth", destination / ".ampflow" / "synth")
    return Project(destination)


APPS = REPO / "tests" / "apps"
OLDEST_INSTALL = APPS / "_amplify-oldest"
NOT_COPIED = shutil.ignore_patterns("node_modules", ".amplify", ".ampflow", "cdk.out")


def copy_fixture(
    name: str, destination: Path, install: Path = REPO, direct_dependencies_only: bool = False, shared_synthesis: bool = False,
) -> Project:
    """tests/apps/<name> with the node_modules and lockfile of `install` (the repository's, or _amplify-oldest's).

    A fixture's package-lock.json is a link to the lockfile of the install it runs with.

    With `direct_dependencies_only`, node_modules holds only the app's two Amplify packages, as a
    package manager that hoists nothing leaves it: no tsx, TypeScript or .bin at the top.

    With `shared_synthesis`, the copy starts with every synthesis that earlier copies of the session
    cached (for tests about something other than synthesis): see SharedSyntheses.
    """
    shutil.copytree(APPS / name, destination, ignore=NOT_COPIED)
    shutil.copy2(install / "package-lock.json", destination / "package-lock.json")
    if direct_dependencies_only:
        for package in ("@aws-amplify/backend", "@aws-amplify/backend-cli"):
            (destination / "node_modules" / package).parent.mkdir(parents=True, exist_ok=True)
            (destination / "node_modules" / package).symlink_to(install / "node_modules" / package)
    else:
        (destination / "node_modules").symlink_to(install / "node_modules")
    if shared_synthesis:
        SHARED_SYNTHESES.give(destination)
    return Project(destination)


class SharedSyntheses:
    """Syntheses of fixture apps shared by the session's copies, so that an unchanged fixture is
    synthesized once however many tests copy it (about 18 s of Node each).

    A cached synthesis is a file named by the backend's identifier and the fingerprint of amplify/ and
    the lockfile, holding no path of its copy: a file of one copy is exactly what a copy with the same
    tree would synthesize. A copy gives its files to the store when the next copy is made (the test
    that made it has ended by then, or is the one asking), and a new copy starts with all of them. The
    store is one folder for every pytest-xdist worker; a file appears whole (written aside, then renamed).
    """

    def __init__(self) -> None:
        self.store: Path | None = None
        self.copies: list[Path] = []

    def give(self, destination: Path) -> None:
        assert self.store is not None, "the shared_syntheses session fixture sets the store"
        for copy in self.copies:
            self._copy_files(copy / ".ampflow" / "synth", self.store)
        self.copies.append(destination)
        self._copy_files(self.store, destination / ".ampflow" / "synth")

    @staticmethod
    def _copy_files(source: Path, target: Path) -> None:
        for cached in source.glob("*/*.json"):
            wanted = target / cached.parent.name / cached.name
            if wanted.exists():
                continue
            wanted.parent.mkdir(parents=True, exist_ok=True)
            partial = wanted.with_name(f".{wanted.name}.{os.getpid()}")
            shutil.copy2(cached, partial)
            os.replace(partial, wanted)


SHARED_SYNTHESES = SharedSyntheses()


@pytest.fixture(scope="session", autouse=True)
def shared_syntheses(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker has a base folder of its own inside the run's: share the run's.
    SHARED_SYNTHESES.store = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-syntheses"
    SHARED_SYNTHESES.store.mkdir(exist_ok=True)


@pytest.fixture(scope="session")
def oldest_install() -> Path:
    """tests/apps/_amplify-oldest/node_modules, installed once and reused while its lockfile is unchanged."""
    subprocess.run([str(OLDEST_INSTALL / "install")], check=True)
    return OLDEST_INSTALL


@dataclass
class App:
    root: Path

    @property
    def project(self) -> Project:
        return Project(self.root)

    def definitions(self) -> dg.Definitions:
        """This app's definitions, built as `dagster dev` builds them for it."""
        return build_defs(self.project)

    def assets(self) -> list[Any]:
        return list(self.definitions().assets or [])

    def resources(self) -> dict[str, Any]:
        return {
            "amplify_app": AmplifyAppResource(project_root=str(self.root)), "aws": AwsResource(),
            SEED_RECORDS: seed_records_io_manager(),
        }

    def register(self, instance: dg.DagsterInstance) -> None:
        """The app's environments added to `instance` as partitions, as every ampflow entry point does."""
        register_environments(instance, load_config(self.project))

    def materialize(
        self,
        environment: str,
        instance: dg.DagsterInstance,
        selection: str | list[str] | None = None,
        run_config: dict[str, Any] | None = None,
        raise_on_error: bool = True,
    ) -> dg.ExecuteInProcessResult:
        self.register(instance)
        return dg.materialize(
            self.assets(),
            partition_key=environment,
            instance=instance,
            resources=self.resources(),
            selection=selection,
            run_config=run_config,
            raise_on_error=raise_on_error,
        )

    def emulator(self) -> EmbeddedEmulator:
        return EmbeddedEmulator(self.project.state_dir / "emulator")

    def endpoint(self) -> str:
        server = json.loads((self.project.state_dir / "emulator" / "server.json").read_text())
        return f"http://127.0.0.1:{server['port']}"

    def dynamodb(self) -> Any:
        return boto3.resource(
            "dynamodb", endpoint_url=self.endpoint(), region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )

    def s3(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint(), region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def table_name(self, environment: str, model: str) -> str:
        project_id = load_config(self.project).project_id
        return table_name(model, local_api_id(self.project.package_name(), environment, project_id))

    def items(self, environment: str, model: str) -> list[dict[str, Any]]:
        table = self.dynamodb().Table(self.table_name(environment, model))
        items, arguments = [], {}
        while True:
            page = table.scan(**arguments)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def seed_lines(self, environment: str, model: str) -> list[dict[str, Any]]:
        folder = self.root / "seed_data" / environment
        if (folder / f"{model}.jsonl").exists():
            lines = (folder / f"{model}.jsonl").read_text().splitlines()
            return [json.loads(line) for line in lines if line.strip()]
        return json.loads((folder / f"{model}.json").read_text())


@pytest.fixture
def app(tmp_path: Path, synthesized_app: Path) -> Any:
    """A fresh copy of the synthesized app, with its own emulator, stopped afterwards."""
    application = App(copy_synthesized_app(synthesized_app, tmp_path / "app").root)
    yield application
    application.emulator().stop()


@pytest.fixture
def instance() -> Any:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Asset name -> its materialization's metadata values."""
    return {
        event.materialization.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    texts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            texts.append(error.message if error else "")
            user = event.step_failure_data.user_failure_data
            if user and user.description:
                texts.append(user.description)
    return "\n".join(texts)


os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture
def cloud(cloud_backends: Path, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The sandbox/branch targets against moto as AWS and a fake `npx` (tests/fakes/npx.py); `app` holds both backends' syntheses."""
    from cloud import CLOUD_CONFIG, Cloud

    aws = EmbeddedEmulator(tmp_path / "aws")
    endpoint = aws.ensure_running().endpoint
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npx").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests" / "fakes" / "npx.py"}" "$@"\n')
    (bin_dir / "npx").chmod(0o755)
    fake = Cloud(app, tmp_path, endpoint)
    for name, value in {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "AKIAFAKEAMPFLOWTEST1",
        "AWS_SECRET_ACCESS_KEY": "fake/secret/ampflow/test/key/0123456789",
        "AWS_SESSION_TOKEN": "FakeSessionTokenAmpflowTest0123456789",
        "AWS_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "FAKE_AMPX_SPEC": str(fake.spec_file),
        "FAKE_AMPX_LOG": str(fake.log_file),
    }.items():
        monkeypatch.setenv(name, value)
    (app.root / "ampflow.toml").write_text(CLOUD_CONFIG)
    fake.client("ssm").put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="21", Type="String")
    yield fake
    aws.stop()


def write_seed_lines(root: Path, environment: str, name: str, *lines: dict[str, Any] | str) -> None:
    """seed_data/<environment>/<name>.jsonl of the app at `root`: one line per item (a dict, or raw text as given)."""
    folder = root / "seed_data" / environment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))


@contextmanager
def deployed_fixture(name: str, destination: Path, environment: str = "development") -> Iterator[App]:
    """tests/apps/<name> copied to `destination` with the default ampflow.toml, `environment` deployed (see deployed)."""
    project = copy_fixture(name, destination, shared_synthesis=True)
    project.config_file.write_text("")
    with deployed(project.root, environment) as application:
        yield application


@contextmanager
def deployed(root: Path, environment: str = "development") -> Iterator[App]:
    """The app at `root` with `environment` materialized in a throwaway instance (kept as `.instance`, the
    run's result as `.result`), for a module's tests to share; its emulator and endpoints stopped afterwards."""
    application = App(root)
    with dg.instance_for_test() as instance:
        result = application.materialize(environment, instance)
        assert result.success, failure_text(result)
        application.instance = instance  # type: ignore[attr-defined]
        application.result = result  # type: ignore[attr-defined]
        yield application
    application.emulator().stop()
