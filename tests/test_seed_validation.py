"""Seed records are validated against Amplify's model introspection schema before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow import EnvironmentWorkspace

from conftest import copy_app


@pytest.fixture
def project(tmp_path: Path, synthesized_app: Path) -> Project:
    import shutil

    root = tmp_path / "app"
    copy_app(root)
    shutil.copytree(synthesized_app / ".ampflow" / "synth", root / ".ampflow" / "synth")
    return Project(root)


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
        ("Todo", '{"content": "x", "done": "yes"}', "field 'done': expected Boolean"),
        ("Todo", '{"content": "x", "colour": "red"}', "field 'colour' is not a field of Todo"),
        ("Todo", '{"done": true}', "field 'content' is required"),
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
        ("Todo", '{"content": "[PROD] Welcome"}', "already carries environment 'production''s prefix [PROD]"),
    ],
)
def test_invalid_item_names_file_line_and_field(project: Project, model: str, line: str, expected: str) -> None:
    with pytest.raises(SeedError) as raised:
        seed(project, model, ('{"content": "fine"}\n' if model == "Todo" else "\n") + line + "\n")
    message = str(raised.value)
    assert expected in message
    assert f"seed_data/development/{model}.jsonl:" in message
    assert "nothing was written" in message and "Resolution:" in message


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
