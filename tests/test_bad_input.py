"""Bad input through the `ampflow` command: one clear error, a non-zero exit, zero items written.

The whole seed-file corpus (tests/seed_corpus.py) is checked against the validator in
test_seed_validation.py; two of its entries, a line that is not JSON and a field of the wrong type,
run here end to end.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli import ampflow, quiet_dagster_home
from conftest import App
from seed_corpus import TASK, corpus_entry, line, write_seed

MODELS = ("Todo", "Project", "Task", "ProjectCharter", "InventoryItem")
END_TO_END = [
    corpus_entry("Todo.jsonl", "Todo.jsonl:2: not valid JSON"),
    corpus_entry("Todo.jsonl", "Todo.jsonl:1: field 'done': expected Boolean"),
]


def run(app: App, *arguments: str) -> subprocess.CompletedProcess[str]:
    return ampflow(app.root, *arguments, dagster_home=quiet_dagster_home(app.root / "dagster_home"))


def development_seeds(app: App) -> Path:
    return app.root / "seed_data" / "development"


@pytest.mark.parametrize(("name", "content", "expected"), END_TO_END, ids=["line-not-json", "field-of-wrong-type"])
def test_a_bad_seed_file_stops_the_seed_command_before_anything_is_written(app: App, instance, name: str, content, expected: str) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    write_seed(development_seeds(app), name, content)
    result = run(app, "seed", "development")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (result.stdout + result.stderr).count(expected) == 1, result.stdout + result.stderr
    assert "nothing was written" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert all(app.items("development", model) == [] for model in MODELS)


def test_bad_lines_in_two_files_are_each_shown_once_and_nothing_is_written(app: App, instance) -> None:
    app.materialize("development", instance, selection=["backend_deployment", "verified_tables"])
    write_seed(development_seeds(app), "Todo.jsonl", line(content="ok") + line(content="x", done="yes"))
    write_seed(development_seeds(app), "Task.jsonl", line(**{**TASK, "status": "SOMEDAY"}) + line(**{**TASK, "id": "t2", "projectId": "p9"}))
    result = run(app, "seed", "development")
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for error in ("Todo.jsonl:2: field 'done': expected Boolean", "Task.jsonl:1: field 'status'", "Task.jsonl:2: projectId 'p9' names no Project"):
        assert output.count(error) == 1, output
    project_step = [text for text in result.stderr.splitlines() if text.startswith("seeded_project: ")]
    assert len(project_step) == 1, result.stderr
    assert "Nothing was written for environment 'development': Project's seed data is valid" in project_step[0], result.stderr
    assert "see steps seeded_task, seeded_todo" in result.stderr and "Traceback" not in result.stderr
    assert all(app.items("development", model) == [] for model in MODELS)


def test_typescript_error_in_amplify(app: App) -> None:
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text().replace("a.string().required(),", "a.strin().required(),", 1))
    result = run(app, "deploy", "development")
    assert result.returncode == 1
    assert "TypeScript error in amplify/data/resource.ts line" in result.stderr and "Traceback" not in result.stderr


def test_missing_node_modules_says_which_install_to_run(app: App) -> None:
    (app.root / "node_modules").unlink()
    resource = app.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + "\n// changed, so synthesis must run\n")
    result = run(app, "deploy", "development")
    assert result.returncode == 1
    assert "run `npm install` in" in result.stderr and "scripts/bootstrap" not in result.stderr


def test_unknown_environment(app: App) -> None:
    result = run(app, "seed", "staging")
    assert result.returncode == 2 and "Unknown environment 'staging'" in result.stderr


def test_invalid_target_configuration(app: App) -> None:
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text().replace('target = "local"', 'target = "cloud"', 1))
    result = run(app, "dev")
    assert result.returncode == 2
    assert "ampflow.toml [environments.development]: target 'cloud' is not a deploy target" in result.stderr
    assert "Traceback" not in result.stderr
