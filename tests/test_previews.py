"""Preview environments: one per matching git branch, made, kept current and torn down by the branch sensor.

The app is a real git repository (tests/apps/branches) with three branches whose schemas differ: a model
added, an index changed, a model removed. The sensor is evaluated as the daemon evaluates it, and each run it
requests is executed on the same instance.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ampflow_dagster.branches import preview_environment
from ampflow_dagster.defs.branch_sensor import preview_tick
from ampflow_dagster.defs.partitions import ENVIRONMENTS, Blueprint, register_environments
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.environments import load_config
from ampflow_dagster.preview_checkout import checkout_dir
from ampflow_dagster.preview_registry import Preview, registered_previews, save_preview

from branched_app import ADD_TAG, DROP_NOTE, NEW_INDEX, RESOURCE, branched_repository, commit_on, git, replace_in, user_checkout
from cli import ampflow, quiet_dagster_home
from conftest import App, copy_fixture, evaluate_sensor, materialized


@pytest.fixture
def branched(tmp_path: Path) -> Iterator[App]:
    application = App(branched_repository(tmp_path / "app"))
    yield application
    application.emulator().stop()


def tick(app: App, instance: dg.DagsterInstance) -> Any:
    """One evaluation of the branch sensor as the daemon makes it; its partition requests applied as the daemon applies them."""
    data = evaluate_sensor(app.definitions(), "preview_branch_sensor", instance, app.resources()["amplify_app"])
    for request in data.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return data


def run(app: App, instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    job = app.definitions().resolve_job_def(request.job_name)
    return job.execute_in_process(
        instance=instance, partition_key=request.partition_key, run_config=request.run_config, tags=request.tags,
        asset_selection=request.asset_selection or None,
    )


def requested(data: Any) -> dict[str, set[str]]:
    return {request.partition_key: {key.to_user_string() for key in request.asset_selection or []} or {request.job_name}
            for request in data.run_requests}


def preview_tables(app: App, environment: str) -> dict[str, dict[str, Any]]:
    """The environment's tables (by model) as the emulator describes them."""
    suffix = app.table_name(environment, "X").removeprefix("X")  # -<API id>-NONE
    client = app.dynamodb().meta.client
    return {name.removesuffix(suffix): client.describe_table(TableName=name)["Table"]
            for name in client.list_tables()["TableNames"] if name.endswith(suffix)}


def index_keys(table: dict[str, Any]) -> list[str]:
    return [index["KeySchema"][0]["AttributeName"] for index in table.get("GlobalSecondaryIndexes", [])]


@pytest.fixture
def instance(branched: App) -> Iterator[dg.DagsterInstance]:
    """The app's own instance (dagster_home/), which the CLI reads too."""
    with dg.DagsterInstance.from_config(str(quiet_dagster_home(branched.root / "dagster_home"))) as app_instance:
        yield app_instance


def test_each_branch_gets_its_own_seeded_preview_and_a_deleted_branch_is_torn_down(branched: App, instance) -> None:
    app, root = branched, branched.root
    before = user_checkout(root)
    app.materialize("development", instance)
    development = {model: (table["KeySchema"], index_keys(table), table["ItemCount"])
                   for model, table in preview_tables(app, "development").items()}
    names = {branch: preview_environment(branch) for branch in (ADD_TAG, NEW_INDEX, DROP_NOTE)}

    first = tick(app, instance)
    assert set(instance.get_dynamic_partitions(ENVIRONMENTS)) == {"development", "production", *names.values()}
    everything = {"backend_deployment", "verified_tables", "api_client", "seeded_todo", "seeded_note"}
    assert requested(first) == {name: everything for name in names.values()}
    for request in first.run_requests:
        branch = request.tags["ampflow/branch"]
        assert request.tags["ampflow/commit"] == git(root, "rev-parse", branch)
        result = run(app, instance, request)
        assert result.success
        deployment = materialized(result)["backend_deployment"]
        assert (deployment["branch"], deployment["commit"]) == (branch, git(root, "rev-parse", branch))

    # Each preview is its own branch's schema, seeded from development's files with the branch's prefix.
    tag, index, note = (preview_tables(app, names[branch]) for branch in (ADD_TAG, NEW_INDEX, DROP_NOTE))
    assert set(tag) == {"Todo", "Note", "Tag"} and index_keys(tag["Todo"]) == ["status"]
    assert set(index) == {"Todo", "Note"} and index_keys(index["Todo"]) == ["owner"]
    assert set(note) == {"Todo"}
    contents = sorted(item["content"] for item in app.items(names[ADD_TAG], "Todo"))
    assert contents == ["[feature/add-tag] Buy milk", "[feature/add-tag] Read the Amplify docs"]
    assert sorted(item["body"] for item in app.items(names[NEW_INDEX], "Note")) == ["[fix/todo-index] Welcome"]
    # Development is untouched, and so is the user's checkout.
    assert {model: (table["KeySchema"], index_keys(table), table["ItemCount"])
            for model, table in preview_tables(app, "development").items()} == development
    assert sorted(item["content"] for item in app.items("development", "Todo")) == ["[DEV] Buy milk", "[DEV] Read the Amplify docs"]
    assert user_checkout(root) == before

    # The CLI lists each preview with its branch and commit, and writes a preview's front-end config.
    status = ampflow(root, "status", dagster_home=root / "dagster_home")
    assert status.returncode == 0, status.stderr
    for branch, name in names.items():
        commit = git(root, "rev-parse", branch)[:12]
        assert f"{name}: branch {branch} at {commit}, added " in status.stdout and f"deployed {commit}" in status.stdout
    written = ampflow(root, "outputs", names[ADD_TAG], "--out-dir", "web", dagster_home=root / "dagster_home")
    assert written.returncode == 0, written.stderr
    outputs = json.loads((root / "web" / "amplify_outputs.json").read_text())
    development_url = json.loads((app.project.client_dir("development") / "amplify_outputs.json").read_text())["data"]["url"]
    assert outputs["data"]["url"] != development_url
    assert outputs["data"]["url"] == json.loads(
        (app.project.client_dir(names[ADD_TAG]) / "amplify_outputs.json").read_text())["data"]["url"]
    (root / "web" / "amplify_outputs.json").unlink()  # the user's checkout is compared below: web/ was the user's to make
    (root / "web" / "amplify_configure_local.js").unlink(missing_ok=True)
    (root / "web").rmdir()

    quiet = tick(app, instance)
    assert quiet.run_requests == [] and "is current" in quiet.skip_message

    # A commit on one branch redeploys that preview only; a seed edit on another reseeds only it.
    commit_on(root, ADD_TAG, "a field", lambda folder: replace_in(folder / RESOURCE, "name: a.string().required()",
                                                                   "name: a.string().required(), color: a.string()"))
    commit_on(root, NEW_INDEX, "a todo", lambda folder: (folder / "seed_data/development/Todo.jsonl").write_text(
        (folder / "seed_data/development/Todo.jsonl").read_text() + '{"id": "todo-index", "content": "Index", "status": "open"}\n'))
    second = tick(app, instance)
    assert requested(second) == {names[ADD_TAG]: everything, names[NEW_INDEX]: {"seeded_todo", "seeded_note"}}
    for request in second.run_requests:
        assert run(app, instance, request).success
    assert len(app.items(names[NEW_INDEX], "Todo")) == 3
    assert tick(app, instance).run_requests == []

    # A deleted branch: kept for keep_after_delete, then torn down, and its partition removed.
    git(root, "branch", "-D", DROP_NOTE)
    waiting = tick(app, instance)
    assert waiting.run_requests == [] and f"{DROP_NOTE} is gone: {names[DROP_NOTE]} is torn down in" in waiting.skip_message
    time.sleep(2.1)
    due = tick(app, instance)
    assert requested(due) == {names[DROP_NOTE]: {"amplify_destroy"}}
    teardown = run(app, instance, due.run_requests[0])
    assert teardown.success
    assert preview_tables(app, names[DROP_NOTE]) == {}
    assert not checkout_dir(app.project, names[DROP_NOTE]).exists()
    assert not (app.project.client_dir(names[DROP_NOTE])).exists()
    assert names[DROP_NOTE] not in instance.get_dynamic_partitions(ENVIRONMENTS)
    assert tick(app, instance).run_requests == []
    assert names[DROP_NOTE] not in instance.get_dynamic_partitions(ENVIRONMENTS)
    # The other previews and development are as they were.
    assert set(preview_tables(app, names[ADD_TAG])) == {"Todo", "Note", "Tag"}
    assert sorted(item["content"] for item in app.items("development", "Todo")) == ["[DEV] Buy milk", "[DEV] Read the Amplify docs"]
    worktrees = {Path(line.split()[0]) for line in git(root, "worktree", "list").splitlines()}
    assert worktrees == {root, *(checkout_dir(app.project, names[branch]) for branch in (ADD_TAG, NEW_INDEX))}

    # The same branch made again, at the same commit: a new preview, deployed and seeded afresh (Dagster keeps the
    # torn-down preview's history with its partition key; none of it passes for this one's).
    git(root, "branch", DROP_NOTE, str(due.run_requests[0].tags["ampflow/commit"]))
    again = tick(app, instance)
    assert requested(again) == {names[DROP_NOTE]: everything}
    result = run(app, instance, again.run_requests[0])
    assert materialized(result)["backend_deployment"]["deployment"] == "deployed"
    assert set(preview_tables(app, names[DROP_NOTE])) == {"Todo"} and len(app.items(names[DROP_NOTE], "Todo")) == 2
    assert user_checkout(root) == before


def test_the_change_sensor_keeps_preview_partitions_in_line_with_their_records(tmp_path: Path) -> None:
    """A recorded preview new to an instance is added and looked at again; a preview partition with no record goes."""
    project = copy_fixture("branches", tmp_path / "app").root
    app = App(project)
    recorded = Preview(preview_environment(ADD_TAG), ADD_TAG, "a" * 40, created=time.time(), current_at="a" * 40)
    save_preview(app.project.state_dir, recorded)
    with dg.instance_for_test() as fresh:
        fresh.add_dynamic_partitions(ENVIRONMENTS, ["p-old-1234", "staging-by-hand"])  # a forgotten preview; one a person added
        added = register_environments(fresh, load_config(app.project), prune=True)
        assert added == ["development", "production", recorded.environment]
        assert set(fresh.get_dynamic_partitions(ENVIRONMENTS)) == {
            "development", "production", recorded.environment, "staging-by-hand"}
    (again,) = registered_previews(app.project.state_dir).values()
    assert again.current_at is None and again.commit == recorded.commit  # the new instance has no history of it


def test_previews_outlive_their_configuration_until_they_are_torn_down(tmp_path: Path) -> None:
    """[previews] removed: the recorded previews stay environments (their backends exist) and go as gone branches do."""
    app = App(copy_fixture("branches", tmp_path / "app").root)
    instance = dg.DagsterInstance.ephemeral()
    text = app.project.config_file.read_text()
    app.project.config_file.write_text(text[:text.index("[previews]")])
    recorded = Preview(preview_environment(ADD_TAG), ADD_TAG, "a" * 40, created=time.time())
    save_preview(app.project.state_dir, recorded)
    config = load_config(app.project)
    assert config.previews is None and config.environment(recorded.environment).preview == recorded
    resource, blueprint = AmplifyAppResource(project_root=str(app.root)), Blueprint.of(app.project)
    now = time.time()
    assert preview_tick(instance, resource, config, blueprint, now).runs == []  # gone from now: kept a day
    later = preview_tick(instance, resource, load_config(app.project), blueprint, now + 86_401)
    assert [(run.job_name, run.partition_key) for run in later.runs] == [("amplify_destroy", recorded.environment)]


def test_a_preview_whose_runs_keep_failing_is_tried_three_times_per_commit(tmp_path: Path) -> None:
    app = App(branched_repository(tmp_path / "app"))
    instance = dg.DagsterInstance.ephemeral()
    resource, blueprint = AmplifyAppResource(project_root=str(app.root)), Blueprint.of(app.project)

    def runs() -> dict[str, dg.RunRequest]:
        tick = preview_tick(instance, resource, load_config(app.project), blueprint, time.time())
        return {run.tags["ampflow/branch"]: run for run in tick.runs}

    first = runs()[ADD_TAG]
    for attempt in range(1, 4):
        instance.add_run(dg.DagsterRun(job_name="amplify_reconcile", status=dg.DagsterRunStatus.FAILURE, tags=first.tags))
        again = runs()
        if attempt < 3:
            assert again[ADD_TAG].run_key == first.run_key.removesuffix("-0") + f"-{attempt}"  # a new key: Dagster runs it
        else:
            assert ADD_TAG not in again and NEW_INDEX in again  # given up on this commit; the other previews go on
