"""a.handler.custom (APPSYNC_JS) handlers on the local GraphQL endpoint, through the real aws-amplify client.

tests/apps/custom-handlers writes them as Amplify's docs do: a raw UpdateItem request on a model's
table, the `@aws-appsync/utils/dynamodb` helpers, a pipeline of two handlers, a publish mutation on no
data source with a custom subscription `a.subscription().for(a.ref('publish'))`, a handler with a bug,
and one on a table of the app's own CDK stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from amplify_client import run_client
from conftest import App, deployed_fixture


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with deployed_fixture("custom-handlers", tmp_path_factory.mktemp("handlers") / "app") as application:
        yield application


def client(app: App, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    return run_client(app.root / "clients" / "development", list(steps))


def posts(app: App) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in app.items("development", "Post")}


def test_js_handlers_read_and_write_a_models_table_as_appsync_runs_them(app: App) -> None:
    before, quiet = posts(app)["post-hello"], posts(app)["post-quiet"]
    got, liked, popular, renamed, missing = client(
        app,
        {"op": "query", "name": "getPostJs", "args": {"id": "post-hello"}},
        {"op": "mutation", "name": "likePost", "args": {"postId": "post-hello"}},  # a raw UpdateItem with {N: 1}
        {"op": "query", "name": "popularPosts", "args": {"minLikes": int(before["likes"]) + 1}},  # ddb.scan with a filter
        {"op": "mutation", "name": "renamePost", "args": {"id": "post-quiet", "title": "Renamed"}},  # ddb.update with a condition
        {"op": "mutation", "name": "renamePost", "args": {"id": "post-none", "title": "Renamed"}},
    )
    assert got["errors"] == [] and (got["data"]["id"], got["data"]["title"]) == ("post-hello", "[DEV] Hello, world")
    assert liked["errors"] == [] and liked["data"]["likes"] == before["likes"] + 1
    assert popular["errors"] == [] and [post["id"] for post in popular["data"]] == ["post-hello"]
    assert renamed["errors"] == [] and renamed["data"]["title"] == "Renamed"
    assert missing["data"] is None and missing["errors"] == ["No post post-none"]  # util.error from the response handler
    stored = posts(app)
    assert stored["post-hello"]["likes"] == before["likes"] + 1
    assert stored["post-quiet"]["title"] == "Renamed" and stored["post-quiet"]["updatedAt"] > quiet["updatedAt"]
    assert "post-none" not in stored  # the condition held: no item was made


def test_a_pipeline_of_js_handlers_passes_its_stash_and_previous_result_and_returns_early(app: App) -> None:
    client(app, {"op": "mutation", "name": "likePost", "args": {"postId": "post-hello"}})
    likes = posts(app)["post-hello"]["likes"]
    liked, unliked, missing = client(
        app,
        {"op": "query", "name": "postSummary", "args": {"id": "post-hello"}},
        {"op": "query", "name": "postSummary", "args": {"id": "post-new"}},
        {"op": "query", "name": "postSummary", "args": {"id": "post-absent"}},
    )
    assert liked == {**liked, "data": f"[DEV] Hello, world ({likes} likes)", "errors": []}
    assert missing["data"] is None and missing["errors"] == ["No post post-absent"]
    assert unliked["errors"] == ["No post post-new"]
    app.dynamodb().Table(app.table_name("development", "Post")).put_item(Item={"id": "post-new", "title": "Fresh", "likes": 0})
    (fresh,) = client(app, {"op": "query", "name": "postSummary", "args": {"id": "post-new"}})
    assert fresh["data"] == "Fresh (no likes yet)"  # runtime.earlyReturn skipped the second handler's response


def test_a_custom_subscription_receives_the_publish_mutations_its_filter_lets_through(app: App) -> None:
    *_, everything, team = client(
        app,
        {"op": "subscribe", "subscription": "receive", "name": "all"},
        {"op": "subscribe", "subscription": "receive", "args": {"roomPrefix": "team-"}, "name": "team"},
        {"op": "mutation", "name": "publish", "args": {"room": "lobby", "text": "hello, everyone"}},
        {"op": "mutation", "name": "publish", "args": {"room": "team-red", "text": "hello, red"}},
        {"op": "received", "name": "all", "count": 2},
        {"op": "received", "name": "team", "count": 2, "waitMs": 1500},  # waits in vain for a second
    )
    assert everything["errors"] == [] and [(event["room"], event["text"]) for event in everything["data"]] == [
        ("lobby", "hello, everyone"), ("team-red", "hello, red")]
    assert team["errors"] == [] and [event["room"] for event in team["data"]] == ["team-red"]


def test_a_handler_that_throws_fails_its_field_with_the_apps_file_line_and_error(app: App) -> None:
    (answer,) = client(app, {"op": "query", "name": "pageLimit"})
    assert answer["data"] is None
    assert answer["errors"] == [
        "amplify/data/page-limit.js:3:11: TypeError: Cannot destructure property 'limit' of 'ctx.args.options' as it is undefined."]


def test_js_handlers_write_and_read_the_environments_copy_of_a_table_of_the_apps_own_stack(app: App) -> None:
    (added,) = client(app, {"op": "mutation", "name": "addNote", "args": {"text": "A note"}})  # util.autoId, PutItem
    assert added["errors"] == [] and added["data"]["text"] == "A note" and added["data"]["createdAt"]
    (got,) = client(app, {"op": "query", "name": "getNote", "args": {"id": added["data"]["id"]}})
    assert got == {**got, "data": added["data"], "errors": []}
    api_id = app.table_name("development", "Post").split("-")[1]
    tables = app.dynamodb().meta.client.list_tables()["TableNames"]
    (notes,) = [name for name in tables if name.startswith("Notes")]  # new Table(notesStack, 'Notes', ...)
    assert notes.endswith(f"-{api_id}-app")  # this environment's copy, never taken for a model's table
    assert [item["text"] for item in app.dynamodb().Table(notes).scan()["Items"]] == ["A note"]
    served = app.result.asset_materializations_for_node("backend_deployment")[0].metadata  # type: ignore[attr-defined]
    assert "graphql_not_served" not in served or "APPSYNC_JS" not in served["graphql_not_served"].value
    assert "graphql_not_served" not in served or "NotesDataSource" not in served["graphql_not_served"].value


def test_what_appsyncs_js_runtime_refuses_fails_its_field_and_the_endpoint_goes_on(app: App) -> None:
    promise, spin, first, second, skipped, after = client(
        app,
        {"op": "query", "name": "asyncHandler"},
        {"op": "query", "name": "spin"},  # stopped after 5 s
        {"op": "query", "name": "callCount"},
        {"op": "query", "name": "callCount"},
        {"op": "query", "name": "skipRest"},
        {"op": "query", "name": "getPostJs", "args": {"id": "post-hello"}},
    )
    assert promise["data"] is None and promise["errors"] == [
        "amplify/data/async-handler.js: request returned a Promise: AppSync's JS runtime runs handlers synchronously (no async, no await)"]
    assert spin["data"] is None and spin["errors"] == ["amplify/data/spin.js: request ran longer than 5 s and was stopped"]
    assert (first["data"], second["data"]) == (1, 1)  # each call starts with the module afresh
    assert skipped == {**skipped, "data": "skipped the rest", "errors": []}  # page-limit.js, which throws, never ran
    assert after["errors"] == [] and after["data"]["id"] == "post-hello"
