"""`ampflow init` adds ampflow's files to an existing Amplify Gen 2 app and never overwrites the app's own.

Real synthesis of the sample app and of an app with the traps real schemas have; the
examples it writes are checked by the same validation seeding runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from ampflow_dagster.adoption.initialize import InitReport, initialize
from ampflow_dagster.adoption.project_files import write_new_file
from ampflow_dagster.adoption.seed_examples import ExistingSeeds, seed_examples
from ampflow_dagster.environments import DEFAULT_ENVIRONMENTS, ReconciliationSettings, load_config
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.preview_config import PreviewSettings
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import choose_label_field
from ampflow_dagster.seeding.model_schema import model_schemas
from ampflow_dagster.seeding.seed_set import load_seed_set
from ampflow_dagster.synthesis.desired_state import DesiredBackend

from conftest import REPO
from test_label_fields import app_copy, desired_of, introspected_model, synthesized_traps_app

SAMPLE_MODELS = ("Todo", "Project", "Task", "ProjectCharter", "InventoryItem")
TRAP_MODELS_SEEDED = ("ChatSession", "ChatMessage", "Picture", "Shelf", "Bin", "Note", "Post", "Metrics")


@pytest.fixture
def sample(tmp_path: Path, synthesized_app: Path) -> Project:
    """The sample app as a user has it before ampflow: amplify/ and package.json, nothing of ampflow's."""
    return app_copy(synthesized_app, tmp_path / "sample")


@pytest.fixture
def traps(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return app_copy(synthesized_traps_app(tmp_path_factory), tmp_path / "traps")


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (but node_modules and synthesis) and a hash of its bytes."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(("node_modules", ".ampflow/")):
            files[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def items(project: Project, environment: str, model: str, desired: DesiredBackend | None = None) -> list[dict]:
    """`model`'s seed items in `environment`, validated and built as seeding builds them."""
    config = load_config(project)
    seed_set = load_seed_set(project, config, config.environment(environment), model, desired or desired_of(project))
    return list(seed_set.items())


def test_init_writes_a_config_that_loads_with_each_models_label_field_and_why(sample: Project) -> None:
    report = initialize(sample.root, desired_of(sample))
    config = load_config(sample)
    assert {name: (env.prefix, env.target, env.automated_deploys, env.protected) for name, env in config.environments.items()} == {
        name: (values["prefix"], values["target"], values["automated_deploys"], values["protected"])
        for name, values in DEFAULT_ENVIRONMENTS.items()
    }
    assert {model: settings.label_field for model, settings in config.models.items()} == {
        "Todo": "content", "Project": "name", "Task": "title", "ProjectCharter": "summary", "InventoryItem": "name",
    }
    assert config.owners == () and config.reconciliation == ReconciliationSettings()
    assert re.fullmatch(r"ampflow-sample-app-[0-9a-f]{8}", config.project_id or "")
    text = sample.config_file.read_text()
    assert '# owners = ["team:my-team", "you@example.com"]' in text
    assert "#   protected          whether destructive table changes are refused" in text
    assert "# InventoryItem: name is a required plain String named as text for people" in text
    assert "\n# [reconciliation]\n# environment = \"production\"\n# cron = \"0 3 * * *\"\n# timezone = \"UTC\"\n" in text
    assert {model: choice.field for model, choice in report.labels.items()} == {model: config.models[model].label_field for model in SAMPLE_MODELS}
    assert report.left_alone == [] and report.notes == []
    assert config.previews is None
    previews = text[text.index("# [previews]"):]
    sample.config_file.write_text(text.replace(previews, "".join(line.removeprefix("# ") + "\n" for line in previews.splitlines())))
    assert load_config(sample).previews == PreviewSettings(branches=("feature/*", "fix/*"))  # its example, uncommented, loads


def test_init_examples_pass_seed_validation_and_form_one_graph(sample: Project) -> None:
    report = initialize(sample.root, desired_of(sample))
    for environment in DEFAULT_ENVIRONMENTS:
        for model in SAMPLE_MODELS:
            assert f"seed_data/{environment}/{model}.jsonl" in [outcome.path for outcome in report.written]
    prefixes = {"development": "[DEV]", "production": "[PROD]"}
    for environment, prefix in prefixes.items():
        seeded = {model: items(sample, environment, model) for model in SAMPLE_MODELS}
        assert all(len(found) == 1 for found in seeded.values())
        (todo,), (project,), (task,), (charter,), (inventory,) = (seeded[model] for model in SAMPLE_MODELS)
        assert todo["content"] == f"{prefix} Example Todo" and todo["id"] == "example-todo"
        assert project["name"] == f"{prefix} Example Project" and project["ownerEmail"] == "someone@example.com"
        assert task["projectId"] == project["id"] and charter["projectId"] == project["id"]
        assert task["status"] == "TODO"  # an enum's first value
        assert charter["summary"] == f"{prefix} Example Project Charter"
        assert inventory["sku#batch"] == f"{inventory['sku']}#{inventory['batch']}" and inventory["quantity"] == 1
        for item in seeded.values():
            assert not {"createdAt", "updatedAt", "project", "tasks", "charter"} & set(item[0])


def test_init_writes_the_instance_and_workspace_ampflow_runs_with(sample: Project) -> None:
    initialize(sample.root, desired_of(sample))
    instance = yaml.safe_load((sample.root / "dagster_home" / "dagster.yaml").read_text())
    assert instance == yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())  # the instance ampflow itself runs on
    assert instance["telemetry"] == {"enabled": False}
    assert instance["run_queue"]["tag_concurrency_limits"] == [
        {"key": "dagster/partition", "limit": 1, "value": {"applyLimitPerUniqueValue": True}}
    ]
    (location,) = yaml.safe_load((sample.root / "workspace.yaml").read_text())["load_from"]
    assert location == {
        "python_module": {"module_name": "ampflow_dagster.definitions", "location_name": "ampflow", "working_directory": "."}
    }
    assert (sample.root / ".gitignore").read_text() == "# ampflow\n/.ampflow/\n/dagster_home/*\n!/dagster_home/dagster.yaml\n/clients/\n/amplify_configure_local.js\n"


def test_second_init_writes_nothing(sample: Project) -> None:
    desired = desired_of(sample)
    first = initialize(sample.root, desired)
    before = snapshot(sample.root)
    second = initialize(sample.root, desired)
    assert second.written == [] and second.gitignore_added == [] and not second.changed_anything
    assert snapshot(sample.root) == before
    assert sorted(outcome.path for outcome in second.left_alone) == sorted(outcome.path for outcome in first.written)
    assert {outcome.detail for outcome in second.left_alone} == {"exists", "already ignores ampflow's state, its clients and dagster_home"}
    assert [line for line in second.lines() if line.startswith("wrote")] == []
    assert "left alone ampflow.toml: exists" in second.lines()


def test_init_never_overwrites_the_apps_own_files(sample: Project) -> None:
    desired = desired_of(sample)
    own = {
        "ampflow.toml": '[environments.staging]\nprefix = "[STG]"\n\n[models.Todo]\nlabel_field = "content"\n',
        "workspace.yaml": "load_from:\n  - python_file: my_defs.py\n",
        "seed_data/staging/Todo.json": '[{"content": "Ours"}]\n',
        ".gitignore": "node_modules\n.ampflow\nclients/",  # no newline at the end
    }
    for relative, text in own.items():
        (sample.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (sample.root / relative).write_text(text)
    report = initialize(sample.root, desired)
    for relative, text in list(own.items())[:3]:
        assert (sample.root / relative).read_text() == text
    assert (sample.root / ".gitignore").read_text() == (
        "node_modules\n.ampflow\nclients/\n\n# ampflow\n/dagster_home/*\n!/dagster_home/dagster.yaml\n/amplify_configure_local.js\n"
    )
    assert report.gitignore_added == ["/dagster_home/*", "!/dagster_home/dagster.yaml", "/amplify_configure_local.js"]
    left = {outcome.path: outcome.detail for outcome in report.left_alone}
    assert left["ampflow.toml"] == "exists" and left["workspace.yaml"] == "exists"
    # The existing ampflow.toml decides the environments: staging only, and Todo.json already is its seed data.
    assert left["seed_data/staging/Todo.jsonl"] == "exists; seed_data/staging/Todo.json holds Todo's seed items"
    assert not (sample.seed_dir / "development").exists()
    written = [outcome.path for outcome in report.written]
    assert "seed_data/staging/Project.jsonl" in written and "dagster_home/dagster.yaml" in written
    assert [item["content"] for item in items(sample, "staging", "Todo", desired)] == ["[STG] Ours"]
    assert [item["name"] for item in items(sample, "staging", "Project", desired)] == ["[STG] Example Project"]


def test_write_new_file_never_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "folder" / "file.txt"
    assert write_new_file(target, "first\n")
    assert not write_new_file(target, "second\n")
    assert target.read_text() == "first\n"
    assert [path.name for path in target.parent.iterdir()] == ["file.txt"]


def test_init_refuses_a_folder_without_amplify(tmp_path: Path, synthesized_app: Path) -> None:
    desired = desired_of(app_copy(synthesized_app, tmp_path / "sample"))
    with pytest.raises(ConfigurationError, match="has no amplify/ folder"):
        initialize(tmp_path / "elsewhere", desired)
    assert not (tmp_path / "elsewhere").exists()


def test_init_on_real_world_traps(traps: Project) -> None:
    report = initialize(traps.root, desired_of(traps))
    config = load_config(traps)
    assert {model: settings.label_field for model, settings in config.models.items()} == {
        "ChatSession": "title", "ChatMessage": "content", "Picture": "caption", "Shelf": "name", "Bin": "description",
        "Note": "body", "Post": "productName",
    }
    assert len(list(traps.seed_dir.glob("*/Metrics.jsonl"))) == 2  # seeded as given, without a prefix
    (metrics_note,) = [note for note in report.notes if note.startswith("Metrics:")]
    assert "seed items carry no prefix: no String field of Metrics is safe to carry the environment prefix" in metrics_note
    assert "recordType (a key of secondary index metricsByUserIdAndTimeRangeStartAndRecordType)" in metrics_note
    text = traps.config_file.read_text()
    assert "# Metrics's seed items carry no prefix: no String field of Metrics is safe" in text and "# [models.Metrics]\n" in text
    assert any("Post has owner authorization on owner" in note for note in report.notes)

    seeded = {model: items(traps, "development", model) for model in TRAP_MODELS_SEEDED}
    (session,), (message,) = seeded["ChatSession"], seeded["ChatMessage"]
    assert message["sessionId"] == session["id"] == "example-chat-session"  # the reference is a key, not a label
    assert message["content"] == "[DEV] Example Chat Message" and message["role"] == "USER"
    (shelf,), (bin_item,) = seeded["Shelf"], seeded["Bin"]
    assert (bin_item["warehouseCode"], bin_item["shelfNumber"]) == (shelf["warehouseCode"], shelf["shelfNumber"])
    assert shelf["warehouseCode"] == "example-shelf-warehouse-code"
    (picture,) = seeded["Picture"]
    assert picture["caption"] == "[DEV] Example Picture" and picture["path"] == "example-picture-path"
    assert {key: picture[key] for key in ("takenOn", "takenAt", "uploadedAt", "stamp", "contact", "link", "phone", "ip", "hidden")} == {
        "takenOn": "2026-01-15", "takenAt": "09:30:00Z", "uploadedAt": "2026-01-15T09:30:00.000Z", "stamp": 1768469400,
        "contact": "someone@example.com", "link": "https://example.com", "phone": "+1 206-555-0100", "ip": "192.0.2.1",
        "hidden": False,
    }
    assert picture["meta"] == {"example": True} and picture["tags"] == ["example-picture-tags"]
    assert set(picture["where"]) == {"lat", "lng"} and picture["postedBy"] == "USER"
    (metrics,) = seeded["Metrics"]
    assert not any(str(value).startswith("[DEV]") for value in metrics.values())  # no safe field: stored as given
    (note,) = seeded["Note"]
    assert note["author"] == "example-sub::example-user"  # an owner in the shape Amplify stores, or the item is invisible
    assert "editors" not in note  # group fields stay out: the app's admins set them
    line = json.loads((traps.seed_dir / "production" / "Picture.jsonl").read_text())
    assert line["caption"] == "Example Picture"  # seed files hold plain values; seeding adds the prefix


def test_init_with_no_models_writes_the_project_files_and_says_so(sample: Project) -> None:
    desired = desired_of(sample)
    desired.model_introspection = {}
    report = initialize(sample.root, desired)
    assert not sample.seed_dir.exists()
    assert load_config(sample).models == {}
    assert report.notes == ["The data API declares no models (or no model introspection schema was synthesized): there is nothing to seed."]
    assert isinstance(report, InitReport) and {"ampflow.toml", "workspace.yaml", "dagster_home/dagster.yaml"} <= {o.path for o in report.written}


def related(model: dict, field: str, target: str, kind: str, names: list[str]) -> None:
    """Add a relationship field to an introspected `model`: belongsTo names its own fields, hasMany/hasOne the target's."""
    key = "targetNames" if kind == "BELONGS_TO" else "associatedWith"
    model["fields"][field] = {
        "name": field, "isArray": kind == "HAS_MANY", "isRequired": False, "attributes": [], "type": {"model": target},
        "association": {"connectionType": kind, key: names},
    }


def cycle_schemas(task_stage_required: bool) -> dict:
    """A task naming its current stage (optional), each stage naming its task; required both ways when asked."""
    task = introspected_model("Task", {"id": ("ID", True), "title": ("String", True), "currentStageId": ("ID", task_stage_required)})
    stage = introspected_model("TaskStage", {"id": ("ID", True), "name": ("String", True), "taskId": ("ID", True)})
    note = introspected_model("StageNote", {"id": ("ID", True), "body": ("String", True), "stageId": ("ID", True)})
    folder = introspected_model("Folder", {"id": ("ID", True), "name": ("String", True), "parentId": ("ID", False)})
    related(task, "currentStage", "TaskStage", "BELONGS_TO", ["currentStageId"])
    related(stage, "task", "Task", "BELONGS_TO", ["taskId"])
    related(note, "stage", "TaskStage", "BELONGS_TO", ["stageId"])
    related(folder, "children", "Folder", "HAS_MANY", ["parentId"])
    return model_schemas({"models": {"Task": task, "TaskStage": stage, "StageNote": note, "Folder": folder}})


def labels(schemas: dict) -> dict:
    return {model: choose_label_field(schema).field for model, schema in schemas.items()}


def test_an_optional_reference_in_a_cycle_is_set_once_both_examples_exist() -> None:
    schemas = cycle_schemas(task_stage_required=False)
    made = seed_examples(schemas, labels(schemas))
    values = {model: example.values for model, example in made.examples.items()}
    assert values["Task"] == {"id": "example-task", "title": "Example Task", "currentStageId": "example-task-stage"}
    assert values["TaskStage"] == {"id": "example-task-stage", "name": "Example Task Stage", "taskId": "example-task"}
    assert values["StageNote"]["stageId"] == "example-task-stage"
    assert values["Folder"] == {"id": "example-folder", "name": "Example Folder"}  # not its own parent
    assert made.not_written == {} and made.notes == []


def test_a_cycle_of_required_references_gets_no_examples_and_says_why() -> None:
    schemas = cycle_schemas(task_stage_required=True)
    made = seed_examples(schemas, labels(schemas))
    assert set(made.examples) == {"Folder"}
    cycle = "required references form a cycle (Task.currentStageId -> TaskStage, TaskStage.taskId -> Task)"
    assert made.not_written["Task"].startswith(cycle) and made.not_written["TaskStage"] == made.not_written["Task"]
    assert made.not_written["StageNote"] == (
        "its required stageId, the reference of StageNote.stage (belongsTo TaskStage), must name an item of TaskStage, "
        "and ampflow writes no example TaskStage"
    )


def test_examples_name_the_first_item_of_existing_seed_files_which_also_breaks_a_required_cycle() -> None:
    schemas = cycle_schemas(task_stage_required=True)
    existing = {"Task": ExistingSeeds(("seed_data/development/Task.jsonl",), {"id": "task-1"})}
    made = seed_examples(schemas, labels(schemas), existing)
    assert "Task" not in made.examples  # its seed file is there already
    assert made.examples["TaskStage"].values["taskId"] == "task-1"
    assert made.examples["StageNote"].values["stageId"] == "example-task-stage"
    empty = {"TaskStage": ExistingSeeds(("seed_data/development/TaskStage.json",), None, "seed_data/development/TaskStage.json holds no TaskStage that validates")}
    made = seed_examples(schemas, labels(schemas), empty)
    assert set(made.examples) == {"Folder"}
    assert made.not_written["StageNote"].endswith("must name an item of TaskStage, and seed_data/development/TaskStage.json holds no TaskStage that validates")


def test_an_example_is_the_parent_that_existing_seed_items_name() -> None:
    schemas = cycle_schemas(task_stage_required=False)
    stages = ExistingSeeds(("seed_data/development/TaskStage.jsonl",), {"id": "stage-1"}, names={"Task": [("t9",), ("t10",)]})
    made = seed_examples(schemas, labels(schemas), {"TaskStage": stages})
    assert made.examples["Task"].values == {"id": "t9", "title": "Example Task", "currentStageId": "stage-1"}
    assert made.examples["StageNote"].values["stageId"] == "stage-1"
    assert made.notes == [
        "seed_data/development/TaskStage.jsonl name 2 Task items; the example Task is the first, id 't9': "
        "add the others to Task's seed file, or seeding reports them missing."
    ]


def test_a_required_reference_to_a_model_without_items_leaves_its_model_without_an_example_unless_it_names_external_items() -> None:
    post = introspected_model("Post", {"id": ("ID", True), "slug": ("String", True)})
    comment = introspected_model(
        "Comment",
        {"id": ("ID", True), "author": ("String", True), "postId": ("ID", True), "post": ({"model": "Post"}, False), "body": ("String", True)},
        attributes=[{"type": "auth", "properties": {"rules": [{"allow": "owner", "ownerField": "author", "provider": "userPools"}]}}],
    )
    comment["fields"]["post"]["association"] = {"connectionType": "BELONGS_TO", "targetNames": ["postId"]}
    schemas = model_schemas({"models": {"Post": post, "Comment": comment}})
    comment_only = {"Comment": choose_label_field(schemas["Comment"]).field}  # Post is not seeded (a refused label field)
    made = seed_examples(schemas, comment_only)
    assert made.examples == {} and made.notes == []
    assert made.not_written["Comment"].endswith("must name an item of Post, and ampflow does not seed Post")
    made = seed_examples(schemas, comment_only, external_references=frozenset({"Comment"}))  # allow_external_references
    assert made.examples["Comment"].values == {
        "id": "example-comment", "author": "example-sub::example-user", "postId": "example-comment-post-id", "body": "Example Comment",
    }
    assert made.notes[0] == (
        "Comment.postId, the reference of Comment.post (belongsTo Post), holds a placeholder: ampflow does not seed Post. "
        "Set it to the key of a Post that exists."
    )
    assert made.notes[1].startswith("Comment has owner authorization on author")
