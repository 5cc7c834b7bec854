"""ampflow's items are the ones it recorded writing: relabeling needs no force, clean removes exactly them, reads follow the seed set."""

from __future__ import annotations

import json
import re

import dagster as dg
import pytest

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.writer import READ_BY_KEYS, READ_BY_SCAN, apply_seed_set
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.seeding import prepare_seed_set
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, materialized

SEEDED = ["seeded_todo", "seeded_project", "seeded_task", "seeded_project_charter", "seeded_inventory_item"]
APP_ITEM = {"id": "written-by-the-app", "content": "Buy milk", "__typename": "Todo"}


def reseed(app: App, instance: dg.DagsterInstance, selection: list[str] = SEEDED) -> dict[str, dict]:
    return materialized(app.materialize("development", instance, selection=selection))


def set_config(app: App, old: str, new: str) -> None:
    text = app.project.config_file.read_text()
    assert old in text
    app.project.config_file.write_text(text.replace(old, new))


def clean(app: App, instance: dg.DagsterInstance) -> dict:
    job = app.definitions().get_job_def("amplify_clean")
    result = job.execute_in_process(partition_key="development", instance=instance)
    (event,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return {key: getattr(value, "value", value) for key, value in event.event_specific_data.metadata.items()}


@pytest.fixture
def seeded(app: App, instance: dg.DagsterInstance) -> App:
    app.materialize("development", instance)
    app.dynamodb().Table(app.table_name("development", "Todo")).put_item(Item=APP_ITEM)
    return app


def test_changing_the_prefix_relabels_ampflows_items_without_force(seeded: App, instance) -> None:
    set_config(seeded, 'prefix = "[DEV]"', 'prefix = "[D]"')
    metadata = reseed(seeded, instance)
    todos = {item["id"]: item["content"] for item in seeded.items("development", "Todo")}
    assert todos.pop(APP_ITEM["id"]) == "Buy milk"
    assert sorted(todos.values()) == sorted(f"[D] {line['content']}" for line in seeded.seed_lines("development", "Todo"))
    assert metadata["seeded_todo"]["items_updated"] == 3 and metadata["seeded_todo"]["read_by"] == READ_BY_KEYS
    assert all(item["name"].startswith("[D] ") for item in seeded.items("development", "InventoryItem"))


def test_changing_the_label_field_relabels_ampflows_items_without_force(seeded: App, instance) -> None:
    path = seeded.root / "seed_data" / "development" / "Project.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({"description": "Apps for phones", **line}) + "\n" for line in lines))
    seeded.project.config_file.write_text(seeded.project.config_file.read_text() + '\n[models.Project]\nlabel_field = "description"\n')
    metadata = reseed(seeded, instance, ["seeded_project"])
    projects = {item["id"]: item for item in seeded.items("development", "Project")}
    assert {id_: (p["name"], p["description"]) for id_, p in projects.items()} == {
        "proj-website": ("Website relaunch", "[DEV] New marketing site"),
        "proj-mobile": ("Mobile app", "[DEV] Apps for phones"),
    }
    assert metadata["seeded_project"]["label_field"] == "description"
    assert metadata["seeded_project"]["items_updated"] == 2


def test_reseed_reads_the_seed_keys_not_the_items_the_app_wrote(seeded: App, instance) -> None:
    table = seeded.dynamodb().Table(seeded.table_name("development", "Todo"))
    with table.batch_writer() as batch:
        for number in range(300):
            batch.put_item(Item={"id": f"app-{number}", "content": f"note {number}", "__typename": "Todo"})
    metadata = reseed(seeded, instance, ["seeded_todo"])["seeded_todo"]
    assert (metadata["items_read"], metadata["items_written"], metadata["items_unchanged"]) == (3, 0, 3)
    assert metadata["read_by"] == READ_BY_KEYS
    assert metadata["seed_record"] == f"3 item(s) of Todo in {seeded.table_name('development', 'Todo')}, written with '[DEV]' on content"
    assert len(seeded.items("development", "Todo")) == 3 + 300 + 1


def test_a_seed_item_deleted_or_changed_by_hand_is_restored_by_reading_its_key(seeded: App, instance) -> None:
    table = seeded.dynamodb().Table(seeded.table_name("development", "Project"))
    table.delete_item(Key={"id": "proj-mobile"})
    table.update_item(Key={"id": "proj-website"}, UpdateExpression="SET #n = :v", ExpressionAttributeNames={"#n": "name"},
                      ExpressionAttributeValues={":v": "[DEV] edited by hand"})
    metadata = reseed(seeded, instance, ["seeded_project"])["seeded_project"]
    assert (metadata["items_created"], metadata["items_updated"], metadata["items_read"]) == (1, 1, 2)
    assert sorted(item["name"] for item in seeded.items("development", "Project")) == ["[DEV] Mobile app", "[DEV] Website relaunch"]


def test_clean_removes_exactly_what_ampflow_wrote_even_after_the_prefix_changed(seeded: App, instance) -> None:
    set_config(seeded, 'prefix = "[DEV]"', 'prefix = "[D]"')  # the prefix a scan would look for is no longer on the items
    removed = clean(seeded, instance)
    assert removed["removed_Todo"] == 3 and removed["removed_Project"] == 2 and removed["removed_InventoryItem"] == 3
    assert seeded.items("development", "Todo") == [APP_ITEM]
    assert clean(seeded, instance)["items_removed"] == 0  # the record is empty now
    metadata = reseed(seeded, instance, ["seeded_todo"])["seeded_todo"]
    assert metadata["items_created"] == 3 and metadata["read_by"] == READ_BY_KEYS


def test_without_a_record_a_new_machine_finds_the_environments_items_by_their_prefix(seeded: App, instance) -> None:
    path = seeded.root / "seed_data" / "development" / "Todo.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))
    with dg.instance_for_test() as new_machine:
        first = reseed(seeded, new_machine, ["seeded_todo"])["seeded_todo"]
        again = reseed(seeded, new_machine, ["seeded_todo"])["seeded_todo"]
    assert first["read_by"] == READ_BY_SCAN and (first["items_removed"], first["items_written"]) == (1, 0)
    assert again["read_by"] == READ_BY_KEYS and again["items_read"] == 2
    assert len(seeded.items("development", "Todo")) == 2 + 1


def test_a_model_with_no_label_field_is_seeded_as_given_and_its_record_decides_what_is_ampflows(seeded: App) -> None:
    workspace = EnvironmentWorkspace.open(seeded.project, "development", AwsSettings())
    todo = prepare_seed_set(workspace, "Todo", ["Todo"])
    table, dynamodb, gate = seeded.table_name("development", "Todo"), seeded.dynamodb(), workspace.target.gate()
    plain = [{"id": f"plain-{n}", "content": f"as given {n}", "__typename": "Todo"} for n in range(3)]

    def seed(items: list[dict], record=None):
        seed_set = SeedSet(todo.environment, "Todo", todo.table_spec, None, files=[], fixed_items=items)
        return apply_seed_set(dynamodb, table, gate, seed_set, ledger=record)

    first = seed(plain)
    stored = {item["id"]: item for item in seeded.items("development", "Todo")}
    assert first.created == 3 and stored["plain-0"]["content"] == "as given 0"
    again = seed(plain, first.ledger)
    assert (again.written, again.items_read) == (0, 3)

    seeded.dynamodb().Table(table).update_item(
        Key={"id": "plain-2"}, UpdateExpression="SET content = :v", ExpressionAttributeValues={":v": "the app's now"}
    )
    fewer = seed(plain[:1], again.ledger)
    assert (fewer.removed, fewer.left_alone) == (1, 1)  # plain-1 was ampflow's; plain-2 changed hands
    ids = {item["id"] for item in seeded.items("development", "Todo")}
    assert {"plain-0", "plain-2", APP_ITEM["id"]} <= ids and "plain-1" not in ids

    with pytest.raises(SeedError, match=re.escape("that ampflow did not write for development: ('written-by-the-app',)")):
        seed([{**APP_ITEM, "content": "seeded over the app's item"}])
    assert seeded.dynamodb().Table(table).get_item(Key={"id": APP_ITEM["id"]})["Item"]["content"] == "Buy milk"


def test_an_item_leaving_its_optional_label_field_empty_is_seeded_as_given_and_stays_ampflows_by_its_record(app: App, instance) -> None:
    """Project's label field is the optional description; proj-mobile and proj-notes leave it out."""
    app.project.config_file.write_text(app.project.config_file.read_text() + '\n[models.Project]\nlabel_field = "description"\n')
    path = app.root / "seed_data" / "development" / "Project.jsonl"
    notes = json.dumps({"id": "proj-notes", "name": "Notes", "ownerEmail": "notes@example.com"}) + "\n"
    path.write_text(path.read_text() + notes)
    first = app.materialize("development", instance)
    assert materialized(first)["seeded_project"]["items_unlabeled"] == 2
    projects = {item["id"]: item for item in app.items("development", "Project")}
    assert projects["proj-website"]["description"] == "[DEV] New marketing site"
    assert "description" not in projects["proj-mobile"] and projects["proj-mobile"]["name"] == "Mobile app"

    again = reseed(app, instance, ["seeded_project"])["seeded_project"]  # by its record: in place
    assert (again["items_written"], again["items_unchanged"]) == (0, 3)
    with dg.instance_for_test() as fresh:  # no record: an unlabeled item holding exactly the seed content is the seed item
        scanned = reseed(app, fresh, ["seeded_project"])["seeded_project"]
    assert scanned["read_by"] == READ_BY_SCAN and (scanned["items_written"], scanned["items_unchanged"]) == (0, 3)

    with_notes = path.read_text()
    path.write_text(with_notes.replace(notes, ""))  # proj-notes dropped: ampflow's by its record, so removed
    assert reseed(app, instance, ["seeded_project"])["seeded_project"]["items_removed"] == 1
    assert "proj-notes" not in {item["id"] for item in app.items("development", "Project")}

    path.write_text(with_notes)
    reseed(app, instance, ["seeded_project"])
    table = app.dynamodb().Table(app.table_name("development", "Project"))
    table.update_item(Key={"id": "proj-notes"}, UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
                      ExpressionAttributeValues={":n": "Notes, renamed in the app"})
    path.write_text(with_notes.replace(notes, ""))  # dropped again, but the app changed it since: no longer ampflow's
    after = reseed(app, instance, ["seeded_project"])["seeded_project"]
    assert after["items_removed"] == 0 and after["left_alone"]
    assert {item["id"]: item["name"] for item in app.items("development", "Project")}["proj-notes"] == "Notes, renamed in the app"
