"""Fixture front ends, built as their users build them and opened in headless Chromium against a local environment.

tests/apps/live-data/web is the page every Amplify Gen 2 tutorial starts with: the todos through
`observeQuery` and a button that creates one; tests/apps/auth-storage-function/web the same for an
owner-rule model behind `<Authenticator>`. Its amplify_outputs.json and amplify_configure_local.js
come from `ampflow outputs development --out-dir web/src`; `vite build` bundles it with the real
aws-amplify (tests/web holds the one install the front ends share); a static server on loopback
serves the build, and Chromium opens it, certificate checks and all.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from cli import ampflow, quiet_dagster_home
from conftest import REPO, App, copy_fixture, deployed, deployed_fixture, materialized, write_seed_lines
from dagster_ui import CHROMIUM, CHROMIUM_FLAGS

WEB = REPO / "tests" / "web"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with deployed_fixture("live-data", tmp_path_factory.mktemp("live") / "app") as application:
        yield application


def build(app: App, environment: str, home: Path) -> Path:
    """The app's web/ built as its user would: ampflow outputs into src/, then vite build. Returns dist/."""
    subprocess.run([str(WEB / "install")], check=True)
    web = app.root / "web"
    if not (web / "node_modules").exists():
        (web / "node_modules").symlink_to(WEB / "node_modules")
    written = ampflow(app.root, "outputs", environment, "--out-dir", str(web / "src"), dagster_home=quiet_dagster_home(home))
    assert written.returncode == 0, written.stdout + written.stderr
    built = subprocess.run(["node", str(WEB / "node_modules" / "vite" / "bin" / "vite.js"), "build"],
                           cwd=web, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    return web / "dist"


@contextmanager
def serving(dist: Path) -> Iterator[str]:
    """A static server on loopback for a built front end; its URL."""
    handler = functools.partial(QuietHandler, directory=str(dist))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(live: App, tmp_path: Path) -> Iterator[str]:
    with serving(build(live, "development", tmp_path / "home")) as url:
        yield url


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def todos(page: Page) -> Any:
    return page.get_by_test_id("todo")


def open_synced(page: Page, url: str, problems: list[str], status: str = "synced") -> None:
    """`url` in `page`, its console errors and exceptions kept in `problems`, once its status says `status`."""
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    expect(page.get_by_test_id("status")).to_have_text(status, timeout=30_000)


def test_a_todo_created_in_one_tab_appears_in_another_without_a_reload_and_outlives_a_reseed(
    live: App, served: str, tmp_path: Path,
) -> None:
    seeded = ["[DEV] Buy milk", "[DEV] Read the Amplify docs"]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            open_synced(page, served, problems)
            expect(todos(page)).to_have_text(seeded)
        second.evaluate("window.openedOnce = true")  # gone if the tab reloads

        first.get_by_label("New todo").fill("Written in tab one")
        first.get_by_role("button", name="+ new").click()
        expect(todos(second)).to_have_text([*seeded, "Written in tab one"], timeout=10_000)
        expect(todos(first)).to_have_text([*seeded, "Written in tab one"])
        assert second.evaluate("window.openedOnce") is True
        second.screenshot(path=str(tmp_path / "second-tab.png"))

        seeded_assets = [key.to_user_string() for asset in live.assets() for key in asset.keys if key.path[-1].startswith("seeded_")]
        reseed = live.materialize("development", live.instance, selection=seeded_assets)  # type: ignore[attr-defined]
        assert reseed.success and set(materialized(reseed)) == set(seeded_assets)
        first.reload()
        expect(first.get_by_test_id("status")).to_have_text("synced", timeout=30_000)
        expect(todos(first)).to_have_text([*seeded, "Written in tab one"])
        browser.close()
    assert problems == []
    stored = [item["content"] for item in live.items("development", "Todo")]
    assert sorted(stored) == sorted([*seeded, "Written in tab one"])


# --- an owner rule behind <Authenticator>: each user's tabs, live, and never another user's journal ------------

ALICE_PASSWORD = "Alice-Browser-Pa55!word"
BOB_PASSWORD = "Bob-Browser-Pa55!word"


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    project = copy_fixture("auth-storage-function", tmp_path_factory.mktemp("journals") / "app", shared_synthesis=True)
    project.config_file.write_text("")
    write_seed_lines(project.root, "development", "users",
                     {"username": "alice", "email": "alice@example.com", "password_env": "BROWSER_ALICE_PASSWORD"},
                     {"username": "bob", "email": "bob@example.com", "password_env": "BROWSER_BOB_PASSWORD"})
    write_seed_lines(project.root, "development", "Journal",
                     {"id": "journal-alice", "title": "Alice's notes", "owner": {"user": "alice"}},
                     {"id": "journal-bob", "title": "Bob's notes", "owner": {"user": "bob"}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BROWSER_ALICE_PASSWORD", ALICE_PASSWORD)
        patch.setenv("BROWSER_BOB_PASSWORD", BOB_PASSWORD)
        with deployed(project.root) as application:
            yield application


def signed_in(page: Page, url: str, email: str, password: str, problems: list[str]) -> None:
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("status")).to_have_text("synced", timeout=30_000)


def test_each_owners_tabs_show_their_new_journal_live_and_never_another_owners(journals: App, tmp_path: Path) -> None:
    problems: list[str] = []
    with serving(build(journals, "development", tmp_path / "home")) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        alice_context, bob_context = browser.new_context(), browser.new_context()
        alice, bob = alice_context.new_page(), bob_context.new_page()
        signed_in(alice, url, "alice@example.com", ALICE_PASSWORD, problems)
        signed_in(bob, url, "bob@example.com", BOB_PASSWORD, problems)
        alice_again = alice_context.new_page()  # a second tab: the session is already there
        alice_again.goto(url)
        expect(alice_again.get_by_test_id("status")).to_have_text("synced", timeout=30_000)
        for page, own in ((alice, "[DEV] Alice's notes"), (alice_again, "[DEV] Alice's notes"), (bob, "[DEV] Bob's notes")):
            expect(page.get_by_test_id("journal")).to_have_text([own])

        alice.get_by_label("New journal").fill("Alice, live")
        alice.get_by_role("button", name="+ new").click()
        expect(alice_again.get_by_test_id("journal")).to_have_text(["[DEV] Alice's notes", "Alice, live"], timeout=10_000)
        bob.get_by_label("New journal").fill("Bob, live")
        bob.get_by_role("button", name="+ new").click()
        expect(bob.get_by_test_id("journal")).to_have_text(["[DEV] Bob's notes", "Bob, live"], timeout=10_000)
        alice_again.wait_for_timeout(2000)  # time for a wrongly delivered event to arrive
        expect(alice_again.get_by_test_id("journal")).to_have_text(["[DEV] Alice's notes", "Alice, live"])
        expect(bob.get_by_test_id("journal")).to_have_text(["[DEV] Bob's notes", "Bob, live"])
        alice_again.screenshot(path=str(tmp_path / "alice-second-tab.png"))
        browser.close()
    assert problems == []


# --- a.handler.custom only: a custom subscription fed by a publish mutation on no data source, JS queries -----


@pytest.fixture(scope="module")
def handlers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with deployed_fixture("custom-handlers", tmp_path_factory.mktemp("handlers") / "app") as application:
        yield application


def test_a_custom_subscription_shows_a_message_from_another_tab_live_and_js_handlers_answer_the_page(
    handlers: App, tmp_path: Path,
) -> None:
    problems: list[str] = []
    with serving(build(handlers, "development", tmp_path / "home")) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        lobby, red = context.new_page(), context.new_page()
        open_synced(lobby, f"{url}?room=lobby", problems, status="listening")
        open_synced(red, f"{url}?room=team-red", problems, status="listening")
        for page in (lobby, red):  # postSummary: a pipeline of two JS handlers; the quiet post returned early
            expect(page.get_by_test_id("summary")).to_have_text(["[DEV] Hello, world (3 likes)", "[DEV] A quiet post (no likes yet)"])
        lobby.evaluate("window.openedOnce = true")  # gone if the tab reloads

        lobby.get_by_label("Message").fill("hello, lobby")  # receive({roomPrefix: 'team-'}) lets no lobby message through
        lobby.get_by_role("button", name="send").click()
        red.get_by_label("Message").fill("hello, red")
        red.get_by_role("button", name="send").click()
        for page in (lobby, red):
            expect(page.get_by_test_id("message")).to_have_text(["team-red: hello, red"], timeout=10_000)
        red.wait_for_timeout(1500)  # time for a wrongly delivered lobby message to arrive
        expect(red.get_by_test_id("message")).to_have_text(["team-red: hello, red"])
        assert lobby.evaluate("window.openedOnce") is True

        lobby.get_by_role("button", name="like post-quiet").click()  # likePost: a raw UpdateItem from JS
        expect(lobby.get_by_test_id("summary")).to_have_text(["[DEV] Hello, world (3 likes)", "[DEV] A quiet post (1 likes)"])
        lobby.screenshot(path=str(tmp_path / "lobby-tab.png"))
        browser.close()
    assert problems == []
    assert {item["id"]: int(item["likes"]) for item in handlers.items("development", "Post")} == {"post-hello": 3, "post-quiet": 1}
