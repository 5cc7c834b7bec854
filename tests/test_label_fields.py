"""The environment prefix only ever goes on a field it cannot hurt: never a key, index, reference, ID, enum or owner field.

Decided from Amplify's own model introspection schema: the sample app's, and an app whose
schema holds the traps real apps have (a message's session reference, a composite index
sort key, an S3 path, an owner field), both synthesized for real.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import choose_label_field, is_text_for_people, label_choice, unsafe_reasons
from ampflow_dagster.seeding.model_schema import model_schemas
from ampflow_dagster.seeding.seed_set import label_field_for, load_seed_set
from ampflow_dagster.synthesis.desired_state import DesiredBackend, IndexSpec, TableSpec
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import GENERATED, copy_app

# Models shaped like the ones that broke on real apps, each with a trap for a "first required String" rule.
TRAPS_SCHEMA = """\
import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a.schema({
  Role: a.enum(['USER', 'ASSISTANT']),
  Location: a.customType({ lat: a.float().required(), lng: a.float().required(), placeName: a.string() }),

  ChatSession: a
    .model({
      title: a.string().required(),
      messages: a.hasMany('ChatMessage', 'sessionId'),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  ChatMessage: a
    .model({
      sessionId: a.string().required(),
      role: a.ref('Role').required(),
      model: a.string().required(),
      content: a.string(),
      sentAt: a.datetime().required(),
      session: a.belongsTo('ChatSession', 'sessionId'),
    })
    .secondaryIndexes((index) => [index('sessionId').sortKeys(['sentAt']).queryField('messagesBySession')])
    .authorization((allow) => [allow.publicApiKey()]),

  Metrics: a
    .model({
      userId: a.string().required(),
      timeRangeStart: a.string().required(),
      recordType: a.string().required(),
      value: a.float().required(),
      samples: a.integer().array().required(),
    })
    .secondaryIndexes((index) => [index('userId').sortKeys(['timeRangeStart', 'recordType']).queryField('metricsByUser')])
    .authorization((allow) => [allow.publicApiKey()]),

  Picture: a
    .model({
      path: a.string().required(),
      caption: a.string(),
      takenOn: a.date().required(),
      takenAt: a.time().required(),
      uploadedAt: a.datetime().required(),
      stamp: a.timestamp().required(),
      where: a.ref('Location').required(),
      contact: a.email().required(),
      link: a.url().required(),
      meta: a.json().required(),
      phone: a.phone().required(),
      ip: a.ipAddress().required(),
      width: a.integer().required(),
      score: a.float().required(),
      hidden: a.boolean().required(),
      tags: a.string().array().required(),
      postedBy: a.ref('Role').required(),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  Shelf: a
    .model({
      warehouseCode: a.string().required(),
      shelfNumber: a.integer().required(),
      name: a.string().required(),
      bins: a.hasMany('Bin', ['warehouseCode', 'shelfNumber']),
    })
    .identifier(['warehouseCode', 'shelfNumber'])
    .authorization((allow) => [allow.publicApiKey()]),

  Bin: a
    .model({
      warehouseCode: a.string().required(),
      shelfNumber: a.integer().required(),
      description: a.string().required(),
      shelf: a.belongsTo('Shelf', ['warehouseCode', 'shelfNumber']),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  Note: a
    .model({
      author: a.string(),
      editors: a.string().array(),
      body: a.string().required(),
      shortDescription: a.string(),
    })
    .authorization((allow) => [allow.ownerDefinedIn('author'), allow.groupsDefinedIn('editors')]),

  Post: a
    .model({
      code: a.string().required(),
      status: a.string().required(),
      productName: a.string(),
    })
    .authorization((allow) => [allow.owner(), allow.publicApiKey().to(['read'])]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: {
    defaultAuthorizationMode: 'userPool',
    apiKeyAuthorizationMode: { expiresInDays: 30 },
  },
});
"""
TRAPS_AUTH = """\
import { defineAuth } from '@aws-amplify/backend';

export const auth = defineAuth({ loginWith: { email: true } });
"""
TRAPS_BACKEND = """\
import { defineBackend } from '@aws-amplify/backend';
import { auth } from './auth/resource';
import { data } from './data/resource';

defineBackend({ auth, data });
"""

_synthesized: dict[str, Path] = {}


def synthesized_traps_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample app with the traps schema instead of its own, synthesized once per test session (real tsc + tsx + Amplify)."""
    if "root" not in _synthesized:
        root = tmp_path_factory.mktemp("traps") / "app"
        copy_app(root)
        (root / "amplify" / "data" / "resource.ts").write_text(TRAPS_SCHEMA)
        (root / "amplify" / "auth").mkdir()
        (root / "amplify" / "auth" / "resource.ts").write_text(TRAPS_AUTH)
        (root / "amplify" / "backend.ts").write_text(TRAPS_BACKEND)
        (root / "ampflow.toml").unlink()
        shutil.rmtree(root / "seed_data")
        EnvironmentWorkspace.open(Project(root), "development", AwsSettings()).desired()
        _synthesized["root"] = root
    return _synthesized["root"]


def app_copy(synthesized: Path, destination: Path) -> Project:
    """A fresh copy of a synthesized app that reuses its synthesis (same amplify/ tree, same fingerprint)."""
    destination.mkdir(parents=True)
    for name in ("amplify", "package.json", "package-lock.json"):
        source = synthesized / name
        shutil.copytree(source, destination / name, ignore=GENERATED) if source.is_dir() else shutil.copy2(source, destination / name)
    (destination / "node_modules").symlink_to(synthesized / "node_modules", target_is_directory=True)
    shutil.copytree(synthesized / ".ampflow" / "synth", destination / ".ampflow" / "synth")
    return Project(destination)


def desired_of(project: Project) -> DesiredBackend:
    return EnvironmentWorkspace.open(project, "development", AwsSettings()).desired()


@pytest.fixture
def traps(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return app_copy(synthesized_traps_app(tmp_path_factory), tmp_path / "traps")


@pytest.fixture
def sample(tmp_path: Path, synthesized_app: Path) -> Project:
    project = app_copy(synthesized_app, tmp_path / "sample")
    shutil.copy2(synthesized_app / "ampflow.toml", project.config_file)
    return project


def choices(project: Project) -> dict[str, Any]:
    desired, config = desired_of(project), load_config(project)
    return {name: label_choice(config, schema, desired.tables[name]) for name, schema in model_schemas(desired.model_introspection).items()}


def configure(project: Project, model: str, label_field: str) -> None:
    project.config_file.write_text(f'[models.{model}]\nlabel_field = "{label_field}"\n')


def seed_one(project: Project, model: str, line: str) -> Any:
    folder = project.seed_dir / "development"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{model}.jsonl").write_text(line + "\n")
    config = load_config(project)
    return load_seed_set(project, config, config.environment("development"), model, desired_of(project))


def test_sample_models_label_the_fields_people_read(sample: Project) -> None:
    chosen = choices(sample)
    assert {model: choice.field for model, choice in chosen.items()} == {
        "Todo": "content", "Project": "name", "Task": "title", "ProjectCharter": "summary", "InventoryItem": "name",
    }
    assert chosen["InventoryItem"].configured and "ampflow.toml [models.InventoryItem] label_field" in chosen["InventoryItem"].reason
    assert not chosen["Task"].configured
    assert chosen["Task"].reason.startswith("title is a required plain String named as text for people")
    # Without its configuration InventoryItem still gets name: its key fields are passed over, and say why.
    desired = desired_of(sample)
    inventory = choose_label_field(model_schemas(desired.model_introspection)["InventoryItem"], desired.tables["InventoryItem"])
    assert inventory.field == "name"
    assert "warehouseId (the table's partition key, a key of secondary index inventoryItemsBySkuAndWarehouseId)" in inventory.reason
    assert "sku (part of the table's sort key sku#batch" in inventory.reason


def test_relationship_reference_index_and_owner_fields_are_never_the_default(traps: Project) -> None:
    chosen = choices(traps)
    assert {model: choice.field for model, choice in chosen.items()} == {
        "ChatSession": "title",
        "ChatMessage": "content",  # not sessionId (reference + GSI) nor model (not text for people), though both are required
        "Metrics": None,  # userId, timeRangeStart and recordType are all keys of metricsByUser
        "Picture": "caption",  # not the S3 path
        "Shelf": "name",
        "Bin": "description",  # not warehouseCode, half of the composite reference to Shelf
        "Note": "body",  # not author, the owner field
        "Post": "productName",  # not code or status
    }
    message = chosen["ChatMessage"].reason
    assert "content is an optional plain String" in message
    assert "sessionId (a key of secondary index chatMessagesBySessionIdAndSentAt" in message
    assert "the reference field of relationship ChatMessage.session (belongsTo ChatSession)" in message
    assert "a key of index gsi-ChatSession.messages" in message
    assert "model (its name does not say it is text for people)" in message
    assert "author (the owner field of an owner authorization rule" in chosen["Note"].reason
    assert "recordType (a key of secondary index metricsByUserIdAndTimeRangeStartAndRecordType)" in chosen["Metrics"].reason
    assert "path (its name does not say it is text for people)" in chosen["Picture"].reason


def test_unsafe_fields_say_why(traps: Project) -> None:
    desired = desired_of(traps)
    schemas = model_schemas(desired.model_introspection)
    note = unsafe_reasons(schemas["Note"], desired.tables["Note"])
    assert note["editors"][0].startswith("a list")
    assert "the groups field of a group authorization rule" in note["editors"]
    assert note["id"] == ["an ID", "the table's partition key"]
    picture = unsafe_reasons(schemas["Picture"], desired.tables["Picture"])
    assert picture["contact"] == ["an AWSEmail, not a plain String"]
    assert picture["postedBy"] == ["an enum (Role)"]
    assert picture["where"] == ["a custom type (Location)"]
    assert picture["createdAt"] == ["set by Amplify"]
    assert "path" not in picture and "caption" not in picture
    bin_reasons = unsafe_reasons(schemas["Bin"], desired.tables["Bin"])
    assert bin_reasons["shelfNumber"][0] == "an Int, not a plain String"
    assert "the reference field of relationship Bin.shelf (belongsTo Shelf)" in bin_reasons["warehouseCode"]


def test_configured_reference_field_is_refused_with_the_reason_and_the_safe_fields(traps: Project) -> None:
    configure(traps, "ChatMessage", "sessionId")
    with pytest.raises(SeedError) as refused:
        seed_one(traps, "ChatMessage", '{"sessionId": "s1", "role": "USER", "model": "m", "sentAt": "2026-01-01T00:00:00Z"}')
    text = str(refused.value)
    assert f"{traps.config_file} [models.ChatMessage] label_field = 'sessionId'" in text
    assert "the reference field of relationship ChatMessage.session (belongsTo ChatSession)" in text
    assert "a key of secondary index chatMessagesBySessionIdAndSentAt" in text
    assert "Resolution: Set label_field to a field that is safe to carry the prefix: model, content, or remove the entry to use ampflow's default (content)." in text


@pytest.mark.parametrize(
    ("model", "field", "why"),
    [
        ("Note", "author", "the owner field of an owner authorization rule"),
        ("Note", "id", "an ID and the table's partition key"),
        ("Metrics", "recordType", "a key of secondary index metricsByUserIdAndTimeRangeStartAndRecordType"),
        ("Shelf", "warehouseCode", "the table's partition key"),
        ("Picture", "contact", "an AWSEmail, not a plain String"),
        ("Picture", "postedBy", "an enum (Role)"),
        ("Picture", "nickname", "Picture has no field 'nickname'"),
    ],
)
def test_configured_key_index_owner_or_typed_field_is_refused(traps: Project, model: str, field: str, why: str) -> None:
    configure(traps, model, field)
    desired, config = desired_of(traps), load_config(traps)
    schema = model_schemas(desired.model_introspection)[model]
    with pytest.raises(SeedError, match="ampflow.toml") as refused:
        label_field_for(config, schema, f"model {model}", desired.tables[model])
    assert f"[models.{model}] label_field = '{field}'" in refused.value.message
    assert why in refused.value.message


def test_metrics_cannot_be_refused_into_safety_when_nothing_is_safe(traps: Project) -> None:
    configure(traps, "Metrics", "userId")
    with pytest.raises(SeedError) as refused:
        seed_one(traps, "Metrics", '{"userId": "u", "timeRangeStart": "t", "recordType": "r", "value": 1, "samples": [1]}')
    assert "Metrics has no field that is safe to carry the prefix" in refused.value.resolution
    assert "label: a.string()" in refused.value.resolution


def test_configured_plain_string_is_used_even_if_not_text_for_people(traps: Project) -> None:
    configure(traps, "Picture", "path")
    seed_set = seed_one(
        traps, "Picture",
        '{"path": "photos/cat.jpg", "takenOn": "2026-01-01", "takenAt": "10:00:00Z", "uploadedAt": "2026-01-01T10:00:00Z", '
        '"stamp": 1, "where": {"lat": 1.0, "lng": 2.0}, "contact": "a@example.com", "link": "https://example.com", '
        '"meta": {}, "phone": "+1 206-555-0100", "ip": "192.0.2.1", "width": 1, "score": 1.0, "hidden": false, '
        '"tags": [], "postedBy": "USER"}',
    )
    assert seed_set.label_field == "path"
    (item,) = seed_set.items()
    assert item["path"] == "[DEV] photos/cat.jpg"


def test_model_without_a_safe_field_is_seeded_without_a_prefix_saying_why(traps: Project) -> None:
    seed_set = seed_one(traps, "Metrics", '{"userId": "u", "timeRangeStart": "t", "recordType": "r", "value": 1, "samples": [1]}')
    assert seed_set.label_field is None
    assert "no String field of Metrics is safe to carry the environment prefix" in seed_set.label_reason
    assert "recordType (a key of secondary index" in seed_set.label_reason
    (item,) = seed_set.items()
    assert (item["userId"], item["timeRangeStart"], item["recordType"]) == ("u", "t", "r")  # keys exactly as given
    assert not any(isinstance(value, str) and value.startswith("[DEV]") for value in item.values())


def test_default_label_goes_on_the_optional_text_field_and_leaves_the_reference_alone(traps: Project) -> None:
    seed_set = seed_one(
        traps, "ChatMessage",
        '{"sessionId": "s1", "role": "USER", "model": "m", "content": "Hello", "sentAt": "2026-01-01T00:00:00Z"}',
    )
    (item,) = seed_set.items()
    assert item["content"] == "[DEV] Hello" and item["sessionId"] == "s1" and item["model"] == "m"
    # an item that leaves the optional label field out is stored as given, and counted as unlabeled
    unlabeled = seed_one(traps, "ChatMessage", '{"sessionId": "s1", "role": "USER", "model": "m", "sentAt": "2026-01-01T00:00:00Z"}')
    (item,) = unlabeled.items()
    assert "content" not in item and item["sessionId"] == "s1" and unlabeled.unlabeled == 1 and seed_set.unlabeled == 0


def introspected_model(name: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A model as Amplify's introspection states it, for schema shapes the sample cannot synthesize."""
    return {
        "name": name,
        "fields": {
            field: {"name": field, "isArray": False, "isRequired": required, "attributes": [], "type": kind}
            for field, (kind, required) in fields.items()
        },
        "attributes": extra.get("attributes", [{"type": "model", "properties": {}}]),
        "primaryKeyInfo": {"isCustomPrimaryKey": False, "primaryKeyFieldName": "id", "sortKeyFieldNames": []},
    }


def test_index_only_the_table_declares_is_respected() -> None:
    # A backend.ts override can add a GSI (here timeRangeStart#recordType) that introspection does not list.
    model = introspected_model("Metric", {"id": ("ID", True), "title": ("String", True), "summary": ("String", False)})
    schema = model_schemas({"models": {"Metric": model}})["Metric"]
    assert choose_label_field(schema).field == "title"
    table = TableSpec(
        "Metric", "id", None, {"id": "S", "title": "S", "summary#title": "S"},
        (IndexSpec("byTitle", "title", "summary#title"),), None, "PAY_PER_REQUEST", False, False, False,
    )
    choice = choose_label_field(schema, table)
    assert choice.field is None
    assert "title (a key of index byTitle)" in choice.reason and "summary (a key of index byTitle)" in choice.reason


def test_gen1_style_single_target_name_and_implicit_owner_field() -> None:
    parent = introspected_model("Album", {"id": ("ID", True), "name": ("String", True)})
    child = introspected_model(
        "Photo",
        {"id": ("ID", True), "albumName": ("String", True), "album": ({"model": "Album"}, False), "owner": ("String", False), "title": ("String", False)},
        attributes=[{"type": "auth", "properties": {"rules": [{"allow": "owner", "provider": "userPools"}]}}],
    )
    child["fields"]["album"]["association"] = {"connectionType": "BELONGS_TO", "targetName": "albumName"}
    schema = model_schemas({"models": {"Album": parent, "Photo": child}})["Photo"]
    reasons = unsafe_reasons(schema)
    assert reasons["albumName"] == ["the reference field of relationship Photo.album (belongsTo Album)"]
    assert reasons["owner"][0].startswith("the owner field")
    assert choose_label_field(schema).field == "title"


@pytest.mark.parametrize(
    ("name", "for_people"),
    [
        ("name", True), ("Title", True), ("productName", True), ("display_name", True), ("shortDescription", True),
        ("displayName", True), ("body", True), ("notes", True), ("caption", True), ("headline", True), ("bio", True),
        ("path", False), ("image", False), ("url", False), ("key", False), ("code", False), ("status", False),
        ("type", False), ("recordType", False), ("sessionId", False), ("userId", False), ("fileName", False),
        ("userName", False), ("nameKey", False), ("titleId", False), ("s3Key", False), ("imageUrl", False),
    ],
)
def test_names_that_say_text_for_people(name: str, for_people: bool) -> None:
    assert is_text_for_people(name) is for_people
