"""Seed items are stored with the field defaults Amplify's create resolver fills, before the timestamps and composite keys."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from boto3.dynamodb.conditions import Key

from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.model_schema import model_schemas
from ampflow_dagster.seeding.writer import content_digest, stored_item
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.synthesis.field_defaults import field_defaults
from ampflow_dagster.synthesis.runner import cached_synthesis, synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import App, copy_fixture, materialized
from test_seed_validation import seed, write

ARTICLE_DEFAULTS = {
    "status": "draft", "views": 0, "rating": Decimal("2.5"), "featured": False, "publishedOn": "2026-01-01", "layout": [1, 2],
}


@pytest.fixture(scope="module")
def defaults_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """tests/apps/field-defaults, synthesized once: Article's fields have defaults, one in the index sort key status#createdAt."""
    project = copy_fixture("field-defaults", tmp_path_factory.mktemp("defaults") / "app")
    (project.seed_dir / "development").mkdir(parents=True)
    project.config_file.write_text("")
    EnvironmentWorkspace.open(project, "development", AwsSettings()).desired()
    return project


def desired_of(project: Project) -> DesiredBackend:
    return EnvironmentWorkspace.open(project, "development", AwsSettings()).desired()


def test_synthesis_reads_each_default_from_the_model_schema_and_types_it_as_the_resolver_stores_it(defaults_project: Project) -> None:
    desired = desired_of(defaults_project)
    assert desired.field_defaults == {
        "Article": {"status": "draft", "views": "0", "rating": "2.5", "featured": "false", "publishedOn": "2026-01-01", "layout": "[1,2]"},
    }
    assert model_schemas(desired.model_introspection, desired.field_defaults)["Article"].defaults == ARTICLE_DEFAULTS


def test_enum_timestamp_and_json_defaults_are_typed_and_sql_generated_ones_ignored() -> None:
    text = """
    enum Stage { DRAFT LIVE }
    type Post @model {
      stage: Stage @default(value: "LIVE")
      publishedAt: AWSTimestamp @default(value: "1700000000")
      meta: AWSJSON @default(value: "[{\\"a\\": 1.5}]")
      flag: Boolean @default(value: "TRUE")
      serial: Int @default
    }
    type Note { text: String @default(value: "not a model") }
    """
    defaults = field_defaults(text)
    assert defaults == {"Post": {"stage": "LIVE", "publishedAt": "1700000000", "meta": '[{"a": 1.5}]', "flag": "TRUE"}}
    fields = {
        "stage": {"name": "stage", "type": {"enum": "Stage"}},
        "publishedAt": {"name": "publishedAt", "type": "AWSTimestamp"},
        "meta": {"name": "meta", "type": "AWSJSON"},
        "flag": {"name": "flag", "type": "Boolean"},
        "serial": {"name": "serial", "type": "Int"},
    }
    schema = model_schemas({"models": {"Post": {"fields": fields}}, "enums": {"Stage": {"values": ["DRAFT", "LIVE"]}}}, defaults)["Post"]
    assert schema.defaults == {"stage": "LIVE", "publishedAt": 1700000000, "meta": [{"a": Decimal("1.5")}], "flag": True}
    with pytest.raises(SeedError, match=r"The default of Post.flag in amplify/data, 'maybe', is not a Boolean"):
        model_schemas({"models": {"Post": {"fields": fields}}}, {"Post": {"flag": "maybe"}})


def test_a_required_field_with_a_default_may_be_left_out_or_null_and_gets_the_default(defaults_project: Project) -> None:
    seed_set = seed(defaults_project, "Article", "\n".join([
        '{"category": "news", "title": "left out"}',
        '{"category": "news", "title": "null", "status": null, "views": null}',
        '{"category": "news", "title": "given", "status": "published", "views": 7, "layout": "{\\"columns\\": 3}"}',
    ]) + "\n")
    left_out, null, given = seed_set.items()
    assert {name: left_out[name] for name in ARTICLE_DEFAULTS} == ARTICLE_DEFAULTS
    assert {name: null[name] for name in ARTICLE_DEFAULTS} == ARTICLE_DEFAULTS  # $util.defaultIfNull: null takes the default too
    assert (given["status"], given["views"], given["layout"], given["featured"]) == ("published", 7, {"columns": 3}, False)
    assert left_out["title"] == "[DEV] left out"
    with pytest.raises(SeedError, match="field 'category' is required"):
        seed(defaults_project, "Article", '{"title": "no category"}\n')


def test_a_composite_sort_key_takes_the_default_and_the_timestamp_and_stays_unchanged_on_reseed(defaults_project: Project) -> None:
    (item,) = seed(defaults_project, "Article", '{"category": "news", "title": "a"}\n').items()
    spec = desired_of(defaults_project).tables["Article"]
    assert "status#createdAt" in {index.range_key for index in spec.indexes}
    stamp = "2026-11-30T12:00:00.000Z"
    stored = stored_item(spec, item, None, stamp)
    assert stored["status#createdAt"] == f"draft#{stamp}"
    assert content_digest(stored, spec) == content_digest(item, spec)
    assert content_digest({k: v for k, v in stored.items() if k != "views"}, spec) != content_digest(item, spec)  # stored before defaults


def test_seeded_items_hold_their_defaults_and_are_found_by_a_query_on_the_composite_index(
    defaults_project: Project, tmp_path: Path, instance
) -> None:
    shutil.copytree(defaults_project.root, tmp_path / "app", symlinks=True, ignore=shutil.ignore_patterns("emulator", "locks", "validated"))
    app = App(tmp_path / "app")
    write(app.project, "Article", '{"id": "a1", "category": "news", "title": "Draft"}\n'
                                  '{"id": "a2", "category": "news", "title": "Live", "status": "published", "featured": true}\n')
    try:
        first = materialized(app.materialize("development", instance))["seeded_article"]
        assert first["items_created"] == 2
        items = {item["id"]: item for item in app.items("development", "Article")}
        draft, live = items["a1"], items["a2"]
        assert {name: draft[name] for name in ARTICLE_DEFAULTS} == ARTICLE_DEFAULTS
        assert draft["status#createdAt"] == f"draft#{draft['createdAt']}"
        assert (live["status"], live["featured"], live["views"]) == ("published", True, 0)
        assert live["status#createdAt"] == f"published#{live['createdAt']}"

        spec = desired_of(app.project).tables["Article"]
        index = next(index for index in spec.indexes if index.range_key == "status#createdAt")
        table = app.dynamodb().Table(app.table_name("development", "Article"))
        found = table.query(
            IndexName=index.name,
            KeyConditionExpression=Key("category").eq("news") & Key("status#createdAt").begins_with("draft#"),
        )["Items"]
        assert [item["id"] for item in found] == ["a1"]

        again = materialized(app.materialize("development", instance))["seeded_article"]
        assert (again["items_written"], again["items_unchanged"]) == (0, 2)  # a reseed of unchanged files writes nothing
        assert {item["id"]: item for item in app.items("development", "Article")} == items
    finally:
        app.emulator().stop()


def test_an_item_stored_without_its_defaults_is_rewritten_with_them(defaults_project: Project, tmp_path: Path, instance) -> None:
    shutil.copytree(defaults_project.root, tmp_path / "app", symlinks=True, ignore=shutil.ignore_patterns("emulator", "locks", "validated"))
    app = App(tmp_path / "app")
    write(app.project, "Article", '{"id": "a1", "category": "news", "title": "Draft"}\n')
    try:
        app.materialize("development", instance)
        table = app.dynamodb().Table(app.table_name("development", "Article"))
        (item,) = app.items("development", "Article")
        table.put_item(Item={name: value for name, value in item.items() if name not in ("views", "status#createdAt")})
        again = materialized(app.materialize("development", instance))["seeded_article"]
        assert again["items_updated"] == 1
        (rewritten,) = app.items("development", "Article")
        assert rewritten["views"] == 0 and rewritten["status#createdAt"] == f"draft#{item['createdAt']}"
    finally:
        app.emulator().stop()


def test_a_changed_default_changes_the_models_hash_and_models_without_defaults_keep_theirs(defaults_project: Project) -> None:
    desired = desired_of(defaults_project)
    changed = DesiredBackend.from_json(json.loads(json.dumps(desired.to_json())))
    changed.field_defaults = {"Article": {**desired.field_defaults["Article"], "views": "1"}}
    assert changed.model_hashes()["Article"] != desired.model_hashes()["Article"]
    without = DesiredBackend.from_json({**desired.to_json(), "field_defaults": {}})
    bare = {key: value for key, value in without.to_json().items() if key != "field_defaults"}
    assert DesiredBackend.from_json(bare).model_hashes() == without.model_hashes()


def test_a_synthesis_cached_before_defaults_were_read_is_synthesized_again(defaults_project: Project) -> None:
    workspace = EnvironmentWorkspace.open(defaults_project, "development", AwsSettings())
    desired = workspace.desired()
    identifier = workspace.target.backend_identifier(defaults_project.package_name())
    (cached,) = [path for path in (defaults_project.state_dir / "synth").rglob("*.json") if path.stem.startswith(desired.fingerprint)]
    data = json.loads(cached.read_text())
    data.pop("field_defaults")
    data["format"] = 2  # as the ampflow before defaults wrote it
    cached.write_text(json.dumps(data))
    assert cached_synthesis(defaults_project, identifier, desired.fingerprint) is None
    assert synthesize(defaults_project, identifier, desired.fingerprint).field_defaults == desired.field_defaults
