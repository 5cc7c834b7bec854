"""Seed records are validated against Amplify's model introspection schema before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ampflow_dagster.adoption.seed_examples import OWNER_EXAMPLE, seed_examples
from ampflow_dagster.names import seeded_asset_name
from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import choose_label_field
from ampflow_dagster.seeding.model_schema import model_schemas
from ampflow_dagster.seeding.seed_run import check_seed_run
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.seeding.writer import content_digest, stored_item
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.seeding import prepare_seed_set
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, copy_app, copy_fixture, copy_synthesized_app, materialized
from seed_corpus import CORPUS_IDS, SEED_CORPUS, model_of, write_seed


@pytest.fixture
def project(tmp_path: Path, synthesized_app: Path) -> Project:
    return copy_synthesized_app(synthesized_app, tmp_path / "app")


def seed(project: Project, model: str, text: str, suffix: str = ".jsonl", environment: str = "development"):
    folder = project.seed_dir / environment
    for old in folder.glob(f"{model}.*"):
        old.unlink()
    (folder / f"{model}{suffix}").write_text(text) if isinstance(text, str) else (folder / f"{model}{suffix}").write_bytes(text)
    config = load_config(project)
    desired = EnvironmentWorkspace.open(project, environment, AwsSettings(), config).desired()
    return load_seed_set(project, config, config.environment(environment), model, desired)


PROJECT_OK = '"name": "P", "ownerEmail": "a@example.com"'


@pytest.mark.parametrize(
    ("model", "line", "expected"),
    [
        ("Todo", '{"content": 5}', "field 'content': expected String, got 5"),
        ("Todo", '{"content": "x", "priority": "URGENT"}', "\"URGENT\" is not a Priority (allowed: LOW, MEDIUM, HIGH)"),
        ("Task", '{"title": "t", "status": "TODO", "projectId": "p", "dueDate": "2026-13-01"}', "is not a valid AWSDate"),
        ("Task", '{"title": "t", "status": "TODO", "projectId": "p", "estimateHours": "six"}', "expected Float"),
        ("Task", '{"title": "t", "status": "TODO", "projectId": "p", "labels": "one"}', "expected a list of String"),
        ("Task", '{"title": "t", "status": "TODO", "projectId": "p", "project": {"id": "p"}}', "is a relationship to Project"),
        ("ProjectCharter", '{"summary": "s", "projectId": "p", "approvedAt": "2026-10-01 09:30"}', "is not a valid AWSDateTime"),
        ("ProjectCharter", '{"summary": "s", "projectId": "p", "approvedAt": "2026-10-01T09:30:00"}', "is not a valid AWSDateTime"),
        ("ProjectCharter", '{"summary": "s", "projectId": "p", "sponsorPhone": "call me"}', "is not a valid AWSPhone"),
        ("Project", '{"name": "P", "ownerEmail": "not-an-email"}', "is not a valid AWSEmail"),
        ("Project", '{' + PROJECT_OK + ', "homepage": "example dot com"}', "is not a valid AWSURL"),
        ("Project", '{' + PROJECT_OK + ', "settings": "{not json"}', "is not valid AWSJSON"),
        ("InventoryItem", '{"warehouseId": "w", "sku": "s", "name": "n", "quantity": 1}', "field 'batch' is required"),
        ("InventoryItem", '{"warehouseId": "w", "sku": "s", "batch": "b", "name": "n", "quantity": 1.5}', "expected Int"),
    ],
)
def test_invalid_item_names_file_line_and_field(project: Project, model: str, line: str, expected: str) -> None:
    with pytest.raises(SeedError) as raised:
        seed(project, model, ('{"content": "fine"}\n' if model == "Todo" else "\n") + line + "\n")
    message = str(raised.value)
    assert expected in message
    assert f"seed_data/development/{model}.jsonl:" in message
    assert "nothing was written" in message and "Resolution:" in message


@pytest.mark.parametrize(("name", "content", "expected"), SEED_CORPUS, ids=CORPUS_IDS)
def test_each_bad_seed_file_of_the_corpus_is_refused_with_its_file_line_and_field(project: Project, name: str, content, expected: str) -> None:
    # Two of these also run end to end through `ampflow seed` (test_bad_input.py): the same check refuses them there.
    write_seed(project.seed_dir / "development", name, content)
    config = load_config(project)
    desired = EnvironmentWorkspace.open(project, "development", AwsSettings(), config).desired()
    with pytest.raises(SeedError) as raised:
        load_seed_set(project, config, config.environment("development"), model_of(name), desired)
    message = str(raised.value)
    assert expected in message
    assert f"seed_data/development/{model_of(name)}.json" in message
    assert "nothing was written" in message.lower() or "Rename the seed file" in message
    assert "Resolution:" in message


def test_line_numbers_point_at_the_bad_line(project: Project) -> None:
    with pytest.raises(SeedError, match=r"Todo\.jsonl:3: field 'done'"):
        seed(project, "Todo", '{"content": "a"}\n\n{"content": "b", "done": 1}\n')


def test_malformed_jsonl_and_json(project: Project) -> None:
    with pytest.raises(SeedError, match=r"Todo\.jsonl:2: not valid JSON"):
        seed(project, "Todo", '{"content": "a"}\n{"content": "b",}\n')
    with pytest.raises(SeedError, match=r"Todo\.json:3: not valid JSON"):
        seed(project, "Todo", '[\n  {"content": "a"},\n  {"content": }\n]\n', suffix=".json")
    with pytest.raises(SeedError, match=r"must hold a JSON array"):
        seed(project, "Todo", '{"content": "a"}', suffix=".json")


def test_json_array_items_carry_their_line(project: Project) -> None:
    with pytest.raises(SeedError, match=r"Todo\.json:4: field 'content' is required"):
        seed(project, "Todo", '[\n  {"content": "a"},\n\n  {"done": true}\n]\n', suffix=".json")


def test_non_utf8_file(project: Project) -> None:
    with pytest.raises(SeedError, match=r"Todo\.jsonl:2: not UTF-8"):
        seed(project, "Todo", b'{"content": "a"}\n{"content": "caf\xe9"}\n')


def test_duplicate_keys_within_and_across_files(project: Project) -> None:
    with pytest.raises(SeedError, match=r"Todo\.jsonl:2: duplicate key id='same' \(first at .*Todo\.jsonl:1\)"):
        seed(project, "Todo", '{"id": "same", "content": "a"}\n{"id": "same", "content": "b"}\n')
    (project.seed_dir / "development" / "Todo.json").write_text('[{"id": "t1", "content": "a"}]')
    (project.seed_dir / "development" / "Todo.jsonl").write_text('{"id": "t1", "content": "b"}\n')
    config = load_config(project)
    desired = EnvironmentWorkspace.open(project, "development", AwsSettings(), config).desired()
    with pytest.raises(SeedError, match=r"Todo\.json:1: duplicate key id='t1' \(first at .*Todo\.jsonl:1\)"):
        load_seed_set(project, config, config.environment("development"), "Todo", desired)


def test_item_over_dynamodb_limit(project: Project) -> None:
    with pytest.raises(SeedError, match=r"over DynamoDB's 400 KB item limit"):
        seed(project, "Todo", '{"content": "' + "x" * 410_000 + '"}\n')


def test_seed_file_for_a_model_the_schema_lacks(project: Project) -> None:
    with pytest.raises(SeedError, match=r"the schema has no model 'Invoice'"):
        seed(project, "Invoice", '{"total": 1}\n')


def test_valid_items_get_deterministic_keys_and_the_prefix(project: Project) -> None:
    first = seed(project, "Todo", '{"content": "a"}\n{"content": "b", "priority": "LOW"}\n')
    first_items = list(first.items())
    second = seed(project, "Todo", '{"content": "b", "priority": "LOW"}\n{"content": "a"}\n')
    assert first.key_hashes == second.key_hashes and first.count == 2
    assert {first.key_of(item) for item in first_items} == {second.key_of(item) for item in second.items()}
    assert sorted(item["content"] for item in first_items) == ["[DEV] a", "[DEV] b"]
    with pytest.raises(SeedError, match=r"Todo.jsonl changed while Todo was being seeded"):
        list(first.items())  # the file changed since it was validated: nothing unvalidated is ever written
    inventory = seed(project, "InventoryItem", '{"warehouseId": "w", "sku": "s", "batch": "b", "name": "n", "quantity": 1}\n')
    (item,) = inventory.items()
    assert item["sku#batch"] == "s#b" and item["name"] == "[DEV] n"


def workspace_of(project: Project) -> EnvironmentWorkspace:
    return EnvironmentWorkspace.open(project, "development", AwsSettings())


def write(project: Project, model: str, text: str) -> None:
    folder = project.seed_dir / "development"
    for old in folder.glob(f"{model}.*"):
        old.unlink()
    (folder / f"{model}.jsonl").write_text(text)


def step_failure(workspace: EnvironmentWorkspace, model: str, run: list[str]) -> str:
    with pytest.raises(SeedError) as raised:
        prepare_seed_set(workspace, model, run, step_of=seeded_asset_name)
    return str(raised.value)


def test_each_step_shows_its_own_models_problems_and_valid_steps_name_the_others(project: Project) -> None:
    write(project, "Todo", '{"content": "ok"}\n{"content": 5}\n{"done": true}\n')
    write(project, "Task", '{"id": "t1", "title": "t", "status": "SOMEDAY", "projectId": "proj-website"}\n')
    workspace, run = workspace_of(project), ["InventoryItem", "Project", "ProjectCharter", "Task", "Todo"]
    todo, task = step_failure(workspace, "Todo", run), step_failure(workspace, "Task", run)
    assert "2 problem(s) in Todo seed data" in todo and "Todo.jsonl:2: field 'content'" in todo and "Todo.jsonl:3: field 'content' is required" in todo
    assert "Task.jsonl" not in todo and "seeded_task" in todo
    assert "1 problem(s) in Task seed data" in task and "Task.jsonl:1: field 'status'" in task and "Todo.jsonl" not in task
    project_step = step_failure(workspace, "Project", run)
    assert len(project_step.splitlines()) == 1 and "Nothing was written" in project_step
    assert "see steps seeded_task, seeded_todo" in project_step and ".jsonl:" not in project_step
    write(project, "Task", '{"id": "t1", "title": "t", "status": "TODO", "projectId": "proj-website"}\n')
    assert "see step seeded_todo." in step_failure(workspace, "Project", run)
    write(project, "Todo", '{"content": "ok"}\n')
    assert prepare_seed_set(workspace, "Project", run).count == 2


def test_a_long_list_shows_the_first_fifty_problems_of_each_file_and_counts_the_rest(project: Project) -> None:
    with pytest.raises(SeedError) as raised:
        seed(project, "Todo", '{"content": 1}\n' * 120)
    message = str(raised.value)
    assert "120 problem(s) in Todo seed data" in message and "Todo.jsonl:50: field 'content'" in message
    assert "Todo.jsonl:51:" not in message and "... and 70 more in " in message


def test_a_reference_must_name_a_seeded_parent_unless_the_model_allows_external_ones(project: Project) -> None:
    write(project, "Task", '{"id": "t1", "title": "a", "status": "TODO", "projectId": "proj-website"}\n\n'
                           '{"id": "t2", "title": "b", "status": "TODO", "projectId": "p9"}\n')
    config = load_config(project)
    environment, desired = config.environment("development"), workspace_of(project).desired()
    check = check_seed_run(project, config, environment, ["Task"], desired)  # Project is read for its keys only
    message = str(check.errors["Task"])
    assert "Task.jsonl:3: projectId 'p9' names no Project in " in message and "seed_data/development/Project.*" in message
    assert "Task.jsonl:1" not in message and "allow_external_references = true" in message
    with project.config_file.open("a") as toml:
        toml.write("\n[models.Task]\nallow_external_references = true\n")
    assert check_seed_run(project, load_config(project), environment, ["Task"], desired).seed_sets["Task"].count == 2


@pytest.fixture(scope="module")
def keyed_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The sample app with a composite identifier ending in `id` and an index whose sort key includes createdAt."""
    root = tmp_path_factory.mktemp("keyed") / "app"
    copy_app(root)
    resource = root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace("  InventoryItem: a\n", """  Survey: a
    .model({
      tenantId: a.string().required(),
      id: a.id().required(),
      title: a.string().required(),
      name: a.string().required(),
      responseStatus: a.string(),
      createdAt: a.datetime(),
    })
    .identifier(['tenantId', 'id'])
    .secondaryIndexes((index) => [index('title').sortKeys(['responseStatus', 'createdAt'])])
    .authorization((allow) => [allow.publicApiKey()]),

  InventoryItem: a
""", 1))
    project = Project(root)
    workspace_of(project).desired()
    return project


def test_a_missing_key_field_is_a_reported_problem(keyed_project: Project) -> None:
    with pytest.raises(SeedError) as raised:
        seed(keyed_project, "Survey", '{"tenantId": "t", "title": "a", "name": "n"}\n{"id": "s2", "title": "b", "name": "n"}\n')
    message = str(raised.value)
    assert "Survey.jsonl:1: field 'id' is required (ID!) but missing" in message
    assert "Survey.jsonl:2: field 'tenantId' is required" in message and "KeyError" not in message


def test_index_composites_are_computed_after_the_timestamps_are_filled(keyed_project: Project) -> None:
    seed_set = seed(keyed_project, "Survey", '{"tenantId": "t", "id": "s1", "title": "a", "name": "n", "responseStatus": "OPEN"}\n'
                                             '{"tenantId": "t", "id": "s2", "title": "b", "name": "n", "responseStatus": "DONE", "createdAt": "2026-01-02T03:04:05.000Z"}\n')
    spec = seed_set.table_spec
    assert "responseStatus#createdAt" in {index.range_key for index in spec.indexes}
    first, second = seed_set.items()
    assert "responseStatus#createdAt" not in first  # createdAt is filled when the item is written
    assert second["responseStatus#createdAt"] == "DONE#2026-01-02T03:04:05.000Z"
    stamp = "2026-11-30T12:00:00.000Z"
    stored = stored_item(spec, first, None, stamp)
    assert stored["createdAt"] == stamp and stored["responseStatus#createdAt"] == f"OPEN#{stamp}"
    kept = stored_item(spec, first, {"createdAt": "2026-01-01T00:00:00.000Z"}, stamp)
    assert kept["responseStatus#createdAt"] == "OPEN#2026-01-01T00:00:00.000Z"  # reseeding keeps the first createdAt
    assert content_digest(stored, spec) == content_digest(first, spec)  # unchanged: nothing to write again
    assert content_digest({**stored, "responseStatus#createdAt": "OPEN#old"}, spec) != content_digest(first, spec)


@pytest.fixture(scope="module")
def owner_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The auth fixture app (allow.owner() on Journal) with a model of a custom owner field, owners and groups."""
    project = copy_fixture("auth-storage-function", tmp_path_factory.mktemp("owners") / "app", shared_synthesis=True)
    resource = project.amplify_dir / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace("  // A reading", """  Board: a
    .model({ title: a.string().required(), author: a.string() })
    .authorization((allow) => [allow.ownerDefinedIn('author'), allow.ownersDefinedIn('editors'), allow.groupsDefinedIn('groups')]),
  // A reading""", 1))
    (project.seed_dir / "development").mkdir(parents=True)
    workspace_of(project).desired()
    return project


@pytest.mark.parametrize(
    ("model", "line", "expected"),
    [
        ("Journal", '{"title": "a", "owner": "alice"}', "field 'owner': \"alice\" is not an owner as Amplify stores it with the default identity claim: '<sub>::<username>'"),
        ("Journal", '{"title": "a", "owner": ""}', "field 'owner': an empty owner matches no user"),
        ("Journal", '{"title": "a", "owner": 7}', "field 'owner': expected a owner (a string or {\"user\": \"<username>\"} naming a user of users.jsonl) or a list of them, got 7"),
        ("Journal", '{"title": "a", "ownr": "s::u"}', "field 'ownr' is not a field of Journal (fields: id, title, createdAt, updatedAt, owner)"),
        ("Board", '{"title": "a", "author": 3}', "field 'author': expected String, got 3"),
        ("Board", '{"title": "a", "editors": ["s1::ann", "bob"]}', "field 'editors': \"bob\" is not an owner as Amplify stores it"),
        ("Board", '{"title": "a", "groups": ["admins", 2]}', "field 'groups': expected a group (a string) or a list of them"),
    ],
)
def test_owner_and_group_fields_are_checked_as_amplify_stores_them(owner_project: Project, model: str, line: str, expected: str) -> None:
    with pytest.raises(SeedError) as raised:
        seed(owner_project, model, line + "\n")
    assert f"{model}.jsonl:1: {expected}" in str(raised.value)


def test_owner_fields_are_seeded_as_given(owner_project: Project) -> None:
    (journal,) = seed(owner_project, "Journal", '{"title": "a", "owner": "7d8f-11::alice"}\n').items()
    assert journal["owner"] == "7d8f-11::alice" and journal["title"] == "[DEV] a"
    (board,) = seed(owner_project, "Board", json.dumps(
        {"title": "b", "author": "s1::ann", "editors": ["s1::ann", "s2::bob"], "groups": ["admins"]}) + "\n").items()
    assert (board["author"], board["editors"], board["groups"]) == ("s1::ann", ["s1::ann", "s2::bob"], ["admins"])
    schemas = model_schemas(workspace_of(owner_project).desired().model_introspection)
    assert choose_label_field(schemas["Board"]).field == "title"
    example = seed_examples(schemas, {"Journal": "title", "Board": "title"}).examples
    assert example["Journal"].values["owner"] == OWNER_EXAMPLE and example["Board"].values["author"] == OWNER_EXAMPLE
    assert "groups" not in example["Board"].values


def test_an_owner_model_is_seeded_with_its_owner_and_read_back(owner_project: Project, tmp_path: Path, instance) -> None:
    shutil.copytree(owner_project.root, tmp_path / "app", symlinks=True, ignore=shutil.ignore_patterns("emulator", "locks", "validated"))
    app = App(tmp_path / "app")
    app.project.config_file.write_text("")
    write(app.project, "Journal", '{"id": "j1", "title": "Diary", "owner": "7d8f-11::alice"}\n')
    try:
        result = app.materialize("development", instance)
        assert result.success
        (item,) = app.items("development", "Journal")
        assert (item["owner"], item["title"], item["__typename"]) == ("7d8f-11::alice", "[DEV] Diary", "Journal")
        assert materialized(result)["seeded_journal"]["items_created"] == 1
    finally:
        app.emulator().stop()
