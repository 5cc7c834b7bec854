"""Synthesis reads the backends real Amplify apps deploy: one small app per shape in tests/apps/.

Each test copies an app, gives it a node_modules (the repository's install, or
tests/apps/_amplify-oldest's for the oldest supported Amplify) and runs Amplify's real synthesis.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import pytest

from ampflow_dagster.client.outputs import DataApi, LocalValues, local_outputs
from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.fingerprint import amplify_fingerprint
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis import runner
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.cloud_assembly import read_cloud_assembly
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.synthesis.runner import cached_synthesis, synthesize, variables_digest
from ampflow_dagster.synthesis.toolchain import SUPPORTED_AMPLIFY_BACKEND, locate_toolchain

from conftest import APPS, NOT_COPIED, OLDEST_INSTALL, REPO, copy_fixture

def sandbox(project: Project) -> BackendIdentifier:
    return BackendIdentifier(project.package_name(), "dev", "sandbox")


@contextmanager
def started_processes(patch: pytest.MonkeyPatch, type_check_first: bool = False) -> Iterator[list[list[str]]]:
    """Every command line synthesis starts.

    With `type_check_first`, Node starts amplify/backend.ts only once the type-check running beside
    it has finished: the order in which a fresh clone's first type-check misses the files synthesis
    is about to generate.
    """
    started: list[list[str]] = []
    running_checks: list[Any] = []
    real_popen = subprocess.Popen

    def recording_popen(args: Any, *rest: Any, **options: Any) -> Any:
        command = [str(a) for a in args]
        started.append(command)
        if type_check_first and len(command) > 1 and command[1].endswith("tsx/dist/cli.mjs"):
            for check in running_checks:
                check.wait()  # its output is a few lines: the pipe cannot fill up
        process = real_popen(args, *rest, **options)
        if "--noEmit" in command:
            running_checks.append(process)
        return process

    patch.setattr(subprocess, "Popen", recording_popen)
    yield started


def type_checks(started: list[list[str]]) -> int:
    return sum(1 for args in started if "--noEmit" in args)


@pytest.fixture(scope="module")
def extra_stacks(tmp_path_factory: pytest.TempPathFactory) -> tuple[DesiredBackend, Path]:
    """The extra-stacks app synthesized, and a copy of the cloud assembly Node wrote for it."""
    base = tmp_path_factory.mktemp("extra-stacks")
    project = copy_fixture("extra-stacks", base / "app")
    kept = base / "cdk.out"
    real_reader = runner.read_cloud_assembly

    def keeping_reader(directory: Path, *rest: Any) -> Any:
        shutil.copytree(directory, kept)
        return real_reader(directory, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "read_cloud_assembly", keeping_reader)
        return synthesize(project, sandbox(project)), kept


def test_every_fixture_app_declares_the_install_it_runs_with() -> None:
    root = json.loads((REPO / "package.json").read_text())["devDependencies"]
    oldest = json.loads((OLDEST_INSTALL / "package.json").read_text())["devDependencies"]
    names = []
    for package_file in sorted(APPS.glob("[!_]*/package.json")):
        package = json.loads(package_file.read_text())
        names.append(package["name"])
        install = OLDEST_INSTALL if package_file.parent.name == "oldest-amplify" else REPO
        installed = oldest if install == OLDEST_INSTALL else root
        assert package["devDependencies"].items() <= installed.items(), package_file
        assert (package_file.parent / "package-lock.json").resolve() == (install / "package-lock.json").resolve()
        assert json.loads((package_file.parent / "amplify" / "package.json").read_text()) == {"type": "module"}
    apps = [folder for folder in APPS.iterdir() if folder.is_dir() and not folder.name.startswith("_")]
    assert len(names) == len(set(names)) == len(apps) >= 10  # the package name is the sandbox namespace: each app its own


def test_extra_root_stacks_are_named_beside_the_backend_stack(extra_stacks: tuple[DesiredBackend, Path]) -> None:
    backend, _ = extra_stacks
    assert backend.stack_name == BackendIdentifier("ampflow-fixture-extra-stacks", "dev", "sandbox").stack_name()
    assert backend.other_stacks == ["ExtraStacksJobs"]  # new Stack(app, 'ExtraStacksJobs') on the backend's CDK app
    # backend.createStack('custom') holds an AppSync API and a table of the app's own: no model's table.
    assert sorted(backend.tables) == ["Order", "OrderLine"]
    assert [index.name for index in backend.tables["OrderLine"].indexes] == ["gsi-Order.lines"]
    assert backend.has_data_api and "createOrder" in backend.statements["mutations.graphql"]


def test_backend_stack_is_found_by_its_data_api_under_another_name(extra_stacks: tuple[DesiredBackend, Path]) -> None:
    backend, assembly_dir = extra_stacks
    assembly = read_cloud_assembly(assembly_dir, "amplify-not-this-backend-sandbox-0000000000")
    assert assembly.stack_name == backend.stack_name
    assert assembly.other_stacks == ["ExtraStacksJobs"]
    assert sorted(assembly.tables()) == ["Order", "OrderLine"]


@pytest.mark.parametrize("amplify", ["latest", "oldest"])
def test_zero_model_api_has_no_tables_but_its_operations_and_types(amplify: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # The latest Amplify ships a model introspection with no models; 1.0.0 ships none, and it is generated.
    install = request.getfixturevalue("oldest_install") if amplify == "oldest" else REPO
    project = copy_fixture("zero-models", tmp_path / "app", install=install)
    backend = synthesize(project, sandbox(project))
    assert backend.tables == {} and backend.has_data_api
    introspection = backend.model_introspection
    assert introspection["version"] == 1 and introspection["models"] == {}
    assert set(introspection["nonModels"]) == {"EchoResponse", "Greeting"}
    assert introspection["enums"]["Language"]["values"] == ["EN", "FR"]
    assert "query Echo(" in backend.statements["queries.graphql"]  # a.handler.function(echo)
    assert "mutation Greet(" in backend.statements["mutations.graphql"]  # a.handler.custom({ entry: './greet.js' })
    assert backend.default_authorization_type == "API_KEY"
    assert backend.auth is None  # no defineAuth, no user pool
    api = backend.graphql_api  # what the local endpoint serves: echo's function bundle, greet's JS handler
    assert api is not None and {(r["typeName"], r["fieldName"]) for r in api.resolvers} == {("Query", "echo"), ("Mutation", "greet")}
    reasons = {entry.subject: entry.reason for entry in api.unsupported}
    assert not [subject for subject in reasons if subject.startswith(("data source ", "Mutation.", "function "))], reasons
    greet = next(resolver for resolver in api.resolvers if resolver["fieldName"] == "greet")
    handlers = [api.code[function["code"]] for function in api.functions if "code" in function]
    assert greet["kind"] == "PIPELINE" and "code" in greet
    assert [handler["file"] for handler in handlers] == ["amplify/data/greet.js"]  # named by the app's own file
    assert "ctx.args.name" in handlers[0]["source"]
    (function,) = api.lambdas.values()  # a.handler.function(echo): its synthesized bundle, kept with the synthesis
    assert function["handler"] == "index.handler" and function["runtime"].startswith("nodejs")
    assert "index.mjs" in function["files"] and "AMPLIFY_SSM_ENV_CONFIG" in function["environment"]


def test_backend_without_data_has_no_tables_and_no_statements(tmp_path: Path) -> None:
    project = copy_fixture("auth-storage-function", tmp_path / "app")
    (project.amplify_dir / "backend.ts").write_text(
        "import { defineBackend } from '@aws-amplify/backend';\n"
        "import { auth } from './auth/resource';\n"
        "import { storage } from './storage/resource';\n\n"
        "defineBackend({ auth, storage });\n"
    )
    backend = synthesize(project, sandbox(project))
    assert not backend.has_data_api
    assert (backend.tables, backend.statements, backend.model_introspection) == ({}, {}, {})
    assert (backend.default_authorization_type, backend.additional_authorization_types) == ("", [])
    assert backend.stack_name == sandbox(project).stack_name() and backend.other_stacks == []


def test_function_env_import_type_checks_on_a_fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_fixture("function-env", tmp_path / "app")
    assert not (project.root / ".amplify").exists()  # what a fresh clone has: $amplify/env/* not generated yet
    with started_processes(monkeypatch, type_check_first=True) as started:
        backend = synthesize(project, sandbox(project))
    assert sorted(backend.tables) == ["Note"]
    assert (project.root / ".amplify" / "generated" / "env" / "note-digest.ts").is_file()
    assert type_checks(started) == 2  # the first missed $amplify/env/note-digest; checked again after synthesis

    # While synthesis generates the same files, the type-check beside it is the only one.
    backend_file = project.amplify_dir / "backend.ts"
    backend_file.write_text(backend_file.read_text() + "\n// an edit\n")
    started.clear()
    synthesize(project, sandbox(project))
    assert type_checks(started) == 1


def test_stale_generated_env_file_cannot_hide_a_type_error(tmp_path: Path) -> None:
    project = copy_fixture("function-env", tmp_path / "app")
    # A generated file left from an older backend declared DIGEST_FOOTER; the function no longer sets it.
    stale = project.root / ".amplify" / "generated" / "env" / "note-digest.ts"
    stale.parent.mkdir(parents=True)
    stale.write_text("export const env = process.env as unknown as { DIGEST_TITLE: string; DIGEST_FOOTER: string; AWS_REGION: string };\n")
    handler = project.amplify_dir / "functions" / "note-digest" / "handler.ts"
    handler.write_text(handler.read_text().replace("title: env.DIGEST_TITLE", "title: env.DIGEST_FOOTER"))
    with pytest.raises(SynthesisError) as raised:
        synthesize(project, sandbox(project))
    message = str(raised.value)
    assert "amplify/functions/note-digest/handler.ts line 5" in message and "TS2339" in message
    assert "DIGEST_FOOTER" in message


def test_missing_variable_error_shows_what_backend_ts_threw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUEUE_URL", raising=False)
    project = copy_fixture("env-variable", tmp_path / "app")
    with pytest.raises(SynthesisError) as raised:
        synthesize(project, sandbox(project))
    headline, thrown, *_ = str(raised.value).splitlines()
    assert headline == "Amplify synthesis failed in amplify/backend.ts line 7:"
    assert thrown == "Error: QUEUE_URL is not set: export the URL of the jobs queue before synthesizing this backend."
    assert "Synthesis ran with no variables." in raised.value.resolution


def test_custom_outputs_reach_amplify_outputs_and_what_names_the_cloud_is_listed_instead(tmp_path: Path) -> None:
    project = copy_fixture("env-variable", tmp_path / "app")
    backend_file = project.amplify_dir / "backend.ts"
    backend_file.write_text(backend_file.read_text() + (
        "backend.addOutput({ custom: { realtimeUrl: backend.data.resources.cfnResources.cfnGraphqlApi.attrRealtimeUrl } });\n"))
    queue = "https://sqs.us-east-1.amazonaws.com/111111111111/jobs-dev"
    backend = synthesize(project, sandbox(project), variables={"QUEUE_URL": queue})
    # Amplify's generator merged both addOutput calls; the realtime URL only a deployment knows.
    assert backend.client_outputs["custom"]["queueUrl"] == queue
    assert "@@unresolved:" in backend.client_outputs["custom"]["realtimeUrl"]
    values = LocalValues("localapiid", "us-east-1", "123456789012", DataApi("http://127.0.0.1:20002/graphql", "da2-key"))
    written = local_outputs(backend, values, {"environment": "development"})
    assert written["custom"]["queueUrl"] == queue and "realtimeUrl" not in written["custom"]
    assert "RealtimeUrl" in written["custom"]["ampflow"]["not_served"]["custom.realtimeUrl"]
    assert (written["data"]["url"], written["data"]["api_key"]) == ("http://127.0.0.1:20002/graphql", "da2-key")
    assert "@@" not in json.dumps(written)


def test_variables_reach_synthesis_and_key_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUEUE_URL", raising=False)
    project = copy_fixture("env-variable", tmp_path / "app")
    identifier, fingerprint = sandbox(project), amplify_fingerprint(project)
    development = {"QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/111111111111/jobs-dev"}
    backend = synthesize(project, identifier, fingerprint, variables=development)
    assert sorted(backend.tables) == ["Job"]
    assert backend.variables_digest == variables_digest(development) != ""
    assert cached_synthesis(project, identifier, fingerprint, variables=dict(development)) == backend
    other = {"QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/111111111111/jobs-prod"}
    assert cached_synthesis(project, identifier, fingerprint, variables=other) is None
    assert cached_synthesis(project, identifier, fingerprint) is None
    with pytest.raises(SynthesisError, match="CDK_OUTDIR"):
        synthesize(project, identifier, fingerprint, variables={"CDK_OUTDIR": "/tmp/elsewhere"})


def test_split_schema_reads_models_from_helper_files_and_combined_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Installed without hoisting: tsx and TypeScript only under @aws-amplify/backend-deployer,
    # @aws-amplify/graphql-generator only under @aws-amplify/backend-cli's model generator.
    project = copy_fixture("split-schema", tmp_path / "app", direct_dependencies_only=True)
    assert not (project.root / "node_modules" / ".bin").exists()
    with started_processes(monkeypatch) as started:
        backend = synthesize(project, sandbox(project))
    assert sorted(backend.tables) == ["Product", "Review", "Ticket"]
    product, review, ticket = (backend.tables[model] for model in ("Product", "Review", "Ticket"))
    assert (product.hash_key, product.range_key) == ("sku", None)
    assert [(i.name, i.hash_key) for i in review.indexes] == [("gsi-Product.reviews", "productSku")]
    assert [(i.hash_key, i.range_key) for i in ticket.indexes] == [("customerEmail", "openedAt")]
    assert set(backend.model_introspection["models"]) == {"Product", "Review", "Ticket"}
    assert "Availability" in backend.model_introspection["enums"]
    tools = [Path(args[1]) for args in started if args[1].endswith(("tsx/dist/cli.mjs", "typescript/bin/tsc"))]
    assert {tool.parts[-3] for tool in tools} == {"tsx", "typescript"}
    assert all(tool.is_relative_to((REPO / "node_modules").resolve()) for tool in tools)  # found through the Amplify packages


def test_owner_rules_and_composite_identifier_beside_auth_storage_and_a_function(tmp_path: Path) -> None:
    project = copy_fixture("auth-storage-function", tmp_path / "app")
    backend = synthesize(project, sandbox(project))
    assert sorted(backend.tables) == ["Journal", "JournalEntry", "SensorReading"]
    reading = backend.tables["SensorReading"]  # .identifier(['deviceId', 'takenAt', 'kind'])
    assert (reading.hash_key, reading.range_key) == ("deviceId", "takenAt#kind")
    assert [index.name for index in backend.tables["JournalEntry"].indexes] == ["gsi-Journal.entries"]
    assert backend.default_authorization_type == "AMAZON_COGNITO_USER_POOLS"
    attributes = backend.model_introspection["models"]["Journal"]["attributes"]
    rules = next(attribute["properties"]["rules"] for attribute in attributes if attribute["type"] == "auth")
    assert [(rule["allow"], rule["ownerField"]) for rule in rules] == [("owner", "owner")]
    assert backend.other_stacks == []  # auth, storage and the function are nested stacks of the backend
    pool = backend.auth  # defineAuth's user pool, from the auth nested stack
    assert pool is not None and pool.username_attributes == ("email",) and pool.required_attributes == ("email",)
    assert [(group.name, group.precedence) for group in pool.groups] == [("ADMINS", 0), ("EDITORS", 1)]
    assert pool.custom_attributes["plan"]["AttributeDataType"] == "String" and "custom:plan" in pool.attribute_names()
    assert pool.password_policy["MinimumLength"] == 8 and pool.password_policy["RequireSymbols"] is True
    assert "ALLOW_USER_SRP_AUTH" in pool.client_auth_flows
    api = backend.graphql_api  # the user pool id is the environment's, put in when its endpoint starts
    assert api is not None and api.default_authorization_type == "AMAZON_COGNITO_USER_POOLS"
    assert {source.get("tableName") for source in api.data_sources} >= {f"{model}-@@apiId@@-NONE" for model in backend.tables}
    assert not [entry for entry in api.unsupported if "cannot be evaluated" in entry.reason or "not understood" in entry.reason]


def test_oldest_supported_amplify_synthesizes_the_backend_the_latest_does(tmp_path: Path, oldest_install: Path) -> None:
    oldest = copy_fixture("oldest-amplify", tmp_path / "oldest", install=oldest_install)
    latest = copy_fixture("oldest-amplify", tmp_path / "latest")
    assert locate_toolchain(oldest).amplify_backend_version == "1.0.0"
    old, new = synthesize(oldest, sandbox(oldest)), synthesize(latest, sandbox(latest))
    assert sorted(old.tables) == ["Board", "Card"]
    assert {model: asdict(spec) for model, spec in old.tables.items()} == {model: asdict(spec) for model, spec in new.tables.items()}
    # 1.0.0 ships no model introspection; it is generated from its model schema as its CLI does.
    assert old.model_introspection == new.model_introspection
    assert old.default_authorization_type == new.default_authorization_type == "API_KEY"
    assert "createCard" in old.statements["mutations.graphql"]


def test_amplify_before_1_0_is_refused_before_node_runs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "app"
    shutil.copytree(APPS / "oldest-amplify", root, ignore=NOT_COPIED)
    (root / "package-lock.json").unlink()
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    installed = root / "node_modules" / "@aws-amplify" / "backend"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"name": "@aws-amplify/backend", "version": "0.16.0"}))
    with started_processes(monkeypatch) as started, pytest.raises(SynthesisError) as raised:
        synthesize(Project(root), BackendIdentifier("ampflow-fixture-oldest-amplify", "dev", "sandbox"))
    message = str(raised.value)
    assert "@aws-amplify/backend 0.16.0" in message and SUPPORTED_AMPLIFY_BACKEND in message
    assert "`pnpm add --save-dev @aws-amplify/backend@latest @aws-amplify/backend-cli@latest`" in message
    assert len(started) == 1 and started[0][1].endswith("locate.mjs")  # only Node's lookup ran: no tsx, no tsc


def test_version_is_read_where_node_finds_a_hoisted_install(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"  # node_modules and lockfile at the workspace root, the app in a folder
    shutil.copytree(APPS / "oldest-amplify", workspace / "apps" / "web", ignore=NOT_COPIED)
    (workspace / "apps" / "web" / "package-lock.json").replace(workspace / "package-lock.json")
    installed = workspace / "node_modules" / "@aws-amplify" / "backend"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"name": "@aws-amplify/backend", "version": "1.0.0-beta.3"}))
    with pytest.raises(SynthesisError, match=r"(?s)1\.0\.0-beta\.3 installed .*`npm install --save-dev @aws-amplify/backend@latest"):
        synthesize(Project(workspace / "apps" / "web"), BackendIdentifier("ampflow-fixture-oldest-amplify", "dev", "sandbox"))


def test_a_synthesis_cached_before_these_fields_still_loads() -> None:
    cached = {
        "fingerprint": "f", "stack_name": "amplify-app-dev-sandbox-0123456789", "tables": {},
        "default_authorization_type": "API_KEY", "additional_authorization_types": [], "model_introspection": {}, "statements": {},
    }
    backend = DesiredBackend.from_json(cached)
    assert (backend.other_stacks, backend.has_data_api, backend.variables_digest) == ([], True, "")
    assert DesiredBackend.from_json(json.loads(json.dumps(backend.to_json()))) == backend


def test_a_synthesis_cached_by_an_older_ampflow_is_synthesized_again(tmp_path: Path) -> None:
    """A cache without what this ampflow reads (the user pool, say) would hide it until amplify/ changed."""
    project = Project(tmp_path / "app")
    identifier = BackendIdentifier("app", "dev", "sandbox")
    cached = {"fingerprint": "f", "stack_name": "s", "tables": {}, "default_authorization_type": "", "additional_authorization_types": [],
              "model_introspection": {}}
    cache = project.state_dir / "synth" / identifier.slug() / "f.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps(cached))
    assert cached_synthesis(project, identifier, "f") is None
    cache.write_text(json.dumps(DesiredBackend.from_json(cached).to_json()))
    assert cached_synthesis(project, identifier, "f") == DesiredBackend.from_json(cached)
