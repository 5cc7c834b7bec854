"""The bad-input corpus of seed files: what a user can get wrong in seed_data/, and what ampflow must say."""

from __future__ import annotations

import json
from pathlib import Path

TASK = {"id": "t1", "title": "Ship", "status": "TODO", "projectId": "proj-website"}
PROJECT = {"id": "p1", "name": "Site", "ownerEmail": "ada@example.com"}
CHARTER = {"id": "c1", "summary": "Plan", "projectId": "proj-website"}
BOTH_FILES = "Todo.jsonl+json"  # the same key in Todo.json and Todo.jsonl


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
    (BOTH_FILES, None, "duplicate key id='a'"),
    ("Todo.jsonl", line(content="[PROD] Welcome"), "already carries environment 'production''s prefix [PROD]"),
    ("Todo.jsonl", line(content="x" * 410_000), "over DynamoDB's 400 KB item limit"),
    ("Todo.jsonl", b'{"content": "caf\xe9"}\n', "Todo.jsonl:1: not UTF-8"),
    ("Invoice.jsonl", line(total=3), "the schema has no model 'Invoice'"),
]
CORPUS_IDS = [f"{i:02d}-{entry[0]}" for i, entry in enumerate(SEED_CORPUS)]


def corpus_entry(name: str, expected: str) -> tuple[str, str | bytes | None, str]:
    """The corpus entry for `name` whose error says `expected`."""
    return next(entry for entry in SEED_CORPUS if entry[0] == name and entry[2] == expected)


def model_of(name: str) -> str:
    return name.split(".")[0]


def write_seed(folder: Path, name: str, content: str | bytes | None) -> None:
    """Put a corpus entry in `folder` (seed_data/<environment>) in place of the model's seed files."""
    if name == BOTH_FILES:
        (folder / "Todo.json").write_text(json.dumps([{"id": "a", "content": "x"}]))
        (folder / "Todo.jsonl").write_text(line(id="a", content="y"))
        return
    for old in folder.glob(f"{model_of(name)}.*"):
        old.unlink()
    target = folder / name
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content or "")
