"""The bad-input corpus, through the `ampflow` command: one clear error, a non-zero exit, zero items written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import App

AMPFLOW = str(Path(sys.executable).with_name("ampflow"))
MODELS = ("Todo", "Project", "Task", "ProjectCharter", "InventoryItem")
TASK = {"id": "t1", "title": "Ship", "status": "TODO", "projectId": "proj-website"}
PROJECT = {"id": "p1", "name": "Site", "ownerEmail": "ada@example.com"}
CHARTER = {"id": "c1", "summary": "Plan", "projectId": "proj-website"}


def line(**values) -> str:
    return json.dumps(values) + "\n"


# (file under seed_data/development, its content, what the error must say)
SEED_CORPUS = [
    ("Todo.jsonl", '{"content": "ok"}\n{"content": "broken"\n', "Todo.jsonl:2: not valid JSON"),
    ("Todo.json", '[{"content": "ok"},\n {"content": }]', "Todo.json:2: not valid JSON"),
    ("Todo.jsonl", line(content="ok", done="yes"), "Todo.jsonl:1: field 'done': expected Boolean"),
    ("Todo.jsonl", line(content="ok", colour="red"), "Todo.jsonl:1: field 'colour' is not a field of Todo"),
    ("Todo.jsonl", line(done=True), "Todo.jsonl:1: field 'content' is required"),
    ("Todo.jsonl", line(content="ok", priority="URGENT"), "is not a Priority (allowed: LOW, MEDIUM, HIGH)"),
    ("Task.jsonl", line(**TASK, dueDate="2026-02-30"), "Task.jsonl:1: field 'dueDate': \"2026-02-30\" is not a valid AWSDate"),
    ("ProjectCharter.jsonl", line(**CHARTER, approvedAt="yesterday"), "field 'approvedAt': \"yesterday\" is not a valid AWSDateTime"),
    ("Project.jsonl", line(**{**PROJECT, "ownerEmail": "ada@"}), "field 'ownerEmail': \"ada@\" is not a valid AWSEmail"),
    ("Project.jsonl", line(**PROJECT, settings="{oops"), "field 'settings': \"{oops\" is not valid AWSJSON"),
    ("Project.jsonl", line(**PROJECT, homepage="not a url"), "field 'homepage': \"not a url\" is not a valid AWSURL"),
    ("ProjectCharter.jsonl", line(**CHARTER, sponsorPhone="12"), "field 'sponsorPhone': \"12\" is not a valid AWSPhone"),
    ("Todo.jsonl", line(id="a", content="x") + line(id="a", content="y"), "Todo.jsonl:2: duplicate key id='a'"),
    ("Todo.jsonl+json", None, "duplicate key id='a'"),
    ("Todo.jsonl", line(content="[PROD] Welcome"), "already carries environment 'production''s prefix [PROD]"),
    ("Todo.jsonl", line(content="x" * 410_000), "over DynamoDB's 400 KB item limit"),
    ("Todo.jsonl", b'{"content": "caf\xe9"}\n', "Todo.jsonl:1: not UTF-8"),
    ("Invoice.jsonl", line(total=3), "the schema has no model 'Invoice'"),
]


def ampflow(app: App, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DAGSTER_HOME": str(app.root / "dagster_home")}
    (app.root / "dagster_home").mkdir(exist_ok=True)
    (app.root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return subprocess.run([AMPFLOW, *arguments], cwd=app.root, env=environment, capture_output=True, text=True, timeout=600)


def write_seed(app: App, name: str, content: str | bytes | None) -> None:
    folder = app.root / "seed_data" / "development"
    if name == "Todo.jsonl+json":
        (folder / "Todo.json").write_text(json.dumps([{"id": "a", "content": "x"}]))
        (folder / "Todo.jsonl").write_text(line(id="a", content="y"))
        return
    model = name.split(".")[0]
    for old in folder.glob(f"{model}.*"):
        old.unlink()
    target = folder / name
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)


@pytest.mark.parametrize(("name", "content", "expected"), SEED_CORPUS, ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(SEED_CORPUS)])
def test_bad_seed_file(app: App, instance, name: str, content, expected: str) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    write_seed(app, name, content)
    result = ampflow(app, "seed", "development")
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr
    assert "nothing was written" in result.stderr.lower() or "Rename the seed file" in result.stderr
    assert "Traceback" not in result.stderr
    assert all(app.items("development", model) == [] for model in MODELS)


def test_bad_lines_in_two_files_are_each_shown_once_and_nothing_is_written(app: App, instance) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    write_seed(app, "Todo.jsonl", line(content="ok") + line(content="x", done="yes"))
    write_seed(app, "Task.jsonl", line(**{**TASK, "status": "SOMEDAY"}) + line(**{**TASK, "id": "t2", "projectId": "p9"}))
    result = ampflow(app, "seed", "development")
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for error in ("Todo.jsonl:2: field 'done': expected Boolean", "Task.jsonl:1: field 'status'", "Task.jsonl:2: projectId 'p9' names no Project"):
        assert output.count(error) == 1, output
    assert "seeded_project: Nothing was written for environment 'development': Project's seed data is valid" in result.stderr
    assert "see steps seeded_task, seeded_todo" in result.stderr and "Traceback" not in result.stderr
    assert all(app.items("development", model) == [] for model in MODELS)


def test_typescript_error_in_amplify(app: App) -> None:
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace("a.string().required(),", "a.strin().required(),", 1))
    result = ampflow(app, "deploy", "development")
    assert result.returncode == 1
    assert "TypeScript error in amplify/data/resource.ts line" in result.stderr and "Traceback" not in result.stderr


def test_missing_node_modules_says_which_install_to_run(app: App) -> None:
    (app.root / "node_modules").unlink()
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + "\n// changed, so synthesis must run\n")
    result = ampflow(app, "deploy", "development")
    assert result.returncode == 1
    assert "run `npm install` in" in result.stderr and "scripts/bootstrap" not in result.stderr


def test_unknown_environment(app: App) -> None:
    result = ampflow(app, "seed", "staging")
    assert result.returncode == 2 and "Unknown environment 'staging'" in result.stderr


def test_invalid_target_configuration(app: App) -> None:
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text().replace('target = "local"', 'target = "cloud"', 1))
    result = ampflow(app, "dev")
    assert result.returncode == 2
    assert "ampflow.toml [environments.development]: target 'cloud' is not a deploy target" in result.stderr
    assert "Traceback" not in result.stderr
