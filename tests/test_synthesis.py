"""Desired state comes from Amplify's own synthesis of the sample app."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.fingerprint import amplify_fingerprint
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.tables.live import read_live_table
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import CLOUD_IDENTIFIERS, LONG_BRANCH, REPO, App, copy_app
from fakes.amplify_names import amplify_stack_names


def desired(root: Path, environment: str = "development"):
    return EnvironmentWorkspace.open(Project(root), environment, AwsSettings()).desired()


def test_synthesis_reads_every_table_with_keys_indexes_and_overrides(synthesized_app: Path) -> None:
    backend = desired(synthesized_app)
    assert sorted(backend.tables) == ["InventoryItem", "Project", "ProjectCharter", "Task", "Todo"]
    todo = backend.tables["Todo"]
    assert (todo.hash_key, todo.range_key, todo.indexes) == ("id", None, ())
    inventory = backend.tables["InventoryItem"]  # .identifier(['warehouseId', 'sku', 'batch'])
    assert (inventory.hash_key, inventory.range_key) == ("warehouseId", "sku#batch")
    assert inventory.attribute_types == {"warehouseId": "S", "sku#batch": "S", "sku": "S"}
    assert [(i.name, i.hash_key, i.range_key) for i in inventory.indexes] == [("inventoryItemsBySkuAndWarehouseId", "sku", "warehouseId")]
    task = backend.tables["Task"]
    indexes = {index.name: (index.hash_key, index.range_key, index.projection) for index in task.indexes}
    assert indexes == {
        "gsi-Project.tasks": ("projectId", None, "ALL"),  # hasMany adds an index on the child
        "tasksByStatusAndDueDate": ("status", "dueDate", "ALL"),  # secondaryIndexes with a sort key
    }
    assert [i.name for i in backend.tables["ProjectCharter"].indexes] == ["gsi-Project.charter"]  # hasOne
    assert all(t.stream_view_type == "NEW_AND_OLD_IMAGES" and t.billing_mode == "PAY_PER_REQUEST" for t in backend.tables.values())
    # backend.ts turns point-in-time recovery on for Project only.
    assert {m for m, t in backend.tables.items() if t.point_in_time_recovery} == {"Project"}
    assert backend.default_authorization_type == "API_KEY"
    assert backend.stack_name == BackendIdentifier("ampflow-sample-app", "development", "sandbox").stack_name()
    assert set(backend.model_introspection["models"]) == set(backend.tables)
    assert "createTodo" in backend.statements["mutations.graphql"]


LONG_SANDBOX = "sandbox-identifiers-from-a-username-can-run-past-fifty-characters-xy"
STACK_NAME_CASES = [
    BackendIdentifier("d1a2b3c4d5e6f7", LONG_BRANCH, "branch"),  # 68 characters: the name part is cut to 50
    BackendIdentifier("ampflow-sample-app", LONG_SANDBOX, "sandbox"),  # 68 characters
    BackendIdentifier("@acme/" + "storefront-" * 11, "devbox", "sandbox"),  # a namespace cut to what 128 leaves
    BackendIdentifier("@acme/" + "storefront-" * 11, LONG_SANDBOX, "sandbox"),  # both cut
    BackendIdentifier("ampflow-sample-app", "devbox", "sandbox"),
    BackendIdentifier("d1a2b3c4d5e6f7", "release/2.0_rc-1", "branch"),
]


def test_stack_names_are_the_ones_amplify_computes() -> None:
    """ampflow's port of the naming rule, against Amplify's own BackendIdentifierConversions.toStackName."""
    assert len(LONG_BRANCH) == len(LONG_SANDBOX) == 68
    amplify = amplify_stack_names(REPO, [(i.namespace, i.name, i.type) for i in STACK_NAME_CASES])
    assert [identifier.stack_name() for identifier in STACK_NAME_CASES] == amplify
    assert all(len(name) <= 128 for name in amplify) and max(len(name) for name in amplify) > 120


def test_synthesis_names_the_root_stack_as_amplify_does(cloud_backends: Path, tmp_path: Path) -> None:
    """The synthesized root stack (Amplify's own name) is the one ampflow computes, for long names too."""
    branch = synthesize(Project(cloud_backends), CLOUD_IDENTIFIERS[1])
    assert CLOUD_IDENTIFIERS[1].name == LONG_BRANCH and branch.stack_name == CLOUD_IDENTIFIERS[1].stack_name()
    copy_app(tmp_path / "app")
    package = tmp_path / "app" / "package.json"
    package.write_text(package.read_text().replace('"name": "ampflow-sample-app"', f'"name": "{STACK_NAME_CASES[3].namespace}"', 1))
    sandbox = synthesize(Project(tmp_path / "app"), STACK_NAME_CASES[3])
    assert sandbox.stack_name == amplify_stack_names(REPO, [(STACK_NAME_CASES[3].namespace, LONG_SANDBOX, "sandbox")])[0]
    assert sandbox.stack_name == STACK_NAME_CASES[3].stack_name() and sandbox.tables


def test_desired_tables_equal_the_deployed_tables(app: App, instance) -> None:
    app.materialize("development", instance, selection=["backend_deployment"])
    backend = desired(app.root)
    client = app.dynamodb().meta.client
    for model, spec in backend.tables.items():
        live = read_live_table(client, app.table_name("development", model), model)
        assert live is not None and live.status == "ACTIVE"
        assert live.spec == spec.__class__(**{**spec.__dict__, "replace_table_upon_gsi_update": False})


def test_unchanged_tree_starts_no_node(synthesized_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def spying_popen(args, *rest, **options):
        started.append([str(a) for a in args])
        return real_popen(args, *rest, **options)

    monkeypatch.setattr(subprocess, "Popen", spying_popen)
    backend = desired(synthesized_app)
    assert backend.fingerprint == amplify_fingerprint(Project(synthesized_app))
    assert [args for args in started if Path(args[0]).name in {"node", "tsx", "tsc", "npx", "npm"}] == []
    assert started == []  # nothing else either: the cache answered


def test_synthesis_leaves_nothing_in_the_system_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_app(tmp_path / "app")
    # A fresh system temp dir from here on, for Node's os.tmpdir() and Python's tempfile: short, as /tmp is
    # (tsx puts a Unix socket in it, and a socket's path has at most 107 bytes).
    system_temp = Path(tempfile.mkdtemp(prefix="ampflow-test-"))
    try:
        for variable in ("TMPDIR", "TMP", "TEMP"):
            monkeypatch.setenv(variable, str(system_temp))
        monkeypatch.setattr(tempfile, "tempdir", None)  # Python reads the variables again
        assert tempfile.gettempdir() == str(system_temp)
        backend = desired(tmp_path / "app")
        assert backend.tables  # a whole synthesis ran: the data construct staged its model schema
        assert sorted(system_temp.iterdir()) == []
        assert [path.name for path in (tmp_path / "app" / ".ampflow").glob("synth-*")] == []  # its work folder went too
    finally:
        shutil.rmtree(system_temp)


def test_fingerprint_ignores_generated_files_and_sees_edits(tmp_path: Path) -> None:
    root = tmp_path / "app"
    copy_app(root)
    project = Project(root)
    before = amplify_fingerprint(project)
    (root / "amplify" / "node_modules").mkdir()
    (root / "amplify" / "node_modules" / "x.js").write_text("noise")
    (root / "amplify" / ".amplify").mkdir()
    (root / "amplify" / ".amplify" / "artifact").write_text("noise")
    (root / "amplify" / "amplify_outputs.json").write_text("{}")
    assert amplify_fingerprint(project) == before
    resource = root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + "\n// a comment is a change\n")
    assert amplify_fingerprint(project) != before
    before = amplify_fingerprint(project)
    (root / "package-lock.json").write_text((root / "package-lock.json").read_text() + "\n")
    assert amplify_fingerprint(project) != before


def test_typescript_error_names_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "app"
    copy_app(root)
    resource = root / "amplify" / "data" / "resource.ts"
    lines = resource.read_text().splitlines()
    line = next(i for i, text in enumerate(lines) if "content: a.string().required()" in text)
    lines[line] = lines[line].replace("a.string().required()", "a.string().required(42)")
    resource.write_text("\n".join(lines) + "\n")
    project = Project(root)
    with pytest.raises(SynthesisError) as raised:
        synthesize(project, BackendIdentifier("ampflow-sample-app", "development", "sandbox"))
    message = str(raised.value)
    assert f"amplify/data/resource.ts line {line + 1}" in message
    assert "TS2554" in message  # the compiler's own diagnosis
    assert "Resolution:" in message


def test_missing_node_modules_says_what_to_install(tmp_path: Path) -> None:
    root = tmp_path / "app"
    copy_app(root)
    (root / "node_modules").unlink()
    with pytest.raises(SynthesisError, match=r"run `npm install` in"):
        synthesize(Project(root), BackendIdentifier("ampflow-sample-app", "development", "sandbox"))
