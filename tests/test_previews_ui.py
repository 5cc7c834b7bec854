"""Previews through the real Dagster UI: `dagster dev`'s daemon ticks the branch sensor and runs what it asks,
and everything is read back through the UI's GraphQL API and looked at in Chromium.

The app is tests/apps/branches as a git repository with three branches whose schemas differ (see
branched_app.py). Nothing is run by hand: the previews appear, follow a commit and go by themselves.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from ampflow_dagster.branches import preview_environment
from ampflow_dagster.preview_checkout import checkout_dir
from ampflow_dagster.project import Project
from ampflow_dagster.targets.emulator import EmbeddedEmulator

from branched_app import ADD_TAG, DROP_NOTE, NEW_INDEX, RESOURCE, branched_repository, commit_on, git, replace_in, user_checkout
from conftest import REPO, App
from dagster_ui import CHROMIUM, CHROMIUM_FLAGS, DagsterUI, dagster_dev, processes_with, wait_for

PARTITIONS_QUERY = """
query Partitions($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode { partitionKeysByDimension { partitionKeys } } }
}"""
SENSOR = "preview_branch_sensor"
EVERYTHING = {"backend_deployment", "verified_tables", "api_client", "seeded_todo", "seeded_note"}


def partitions(ui: DagsterUI) -> set[str]:
    node = ui.query(PARTITIONS_QUERY, key={"path": ["backend_deployment"]})["assetNodeOrError"]
    return set(node["partitionKeysByDimension"][0]["partitionKeys"])


def preview_runs(ui: DagsterUI, environment: str) -> list[dict]:
    return ui.runs(ampflow__trigger=SENSOR, dagster__partition=environment)


def finished(ui: DagsterUI, environment: str, count: int) -> list[dict]:
    """The preview's first `count` sensor runs, once they have all finished (each must succeed)."""
    runs = wait_for(lambda: (found := preview_runs(ui, environment)) and len(found) >= count and found, 420,
                    f"{count} run(s) of {environment}", 3)
    for run in runs:
        ui.wait_for_run(run["runId"], timeout=420)
    return runs


def test_the_daemon_makes_follows_and_removes_each_branch_preview(tmp_path: Path) -> None:
    root = branched_repository(tmp_path / "app")
    app = App(root)
    before = user_checkout(root)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the README's instance and run queue
    names = {branch: preview_environment(branch) for branch in (ADD_TAG, NEW_INDEX, DROP_NOTE)}
    try:
        with dagster_dev(root, home) as ui:
            for branch, name in names.items():
                (run,) = finished(ui, name, 1)
                assert {key["path"][0] for key in run["assetSelection"]} == EVERYTHING
                tags = {tag["key"]: tag["value"] for tag in run["tags"]}
                assert (tags["ampflow/branch"], tags["ampflow/commit"]) == (branch, git(root, "rev-parse", branch))
                deployed = ui.latest_metadata("backend_deployment", name)
                assert (deployed["branch"], deployed["commit"]) == (branch, git(root, "rev-parse", branch))
                assert ui.latest_metadata("seeded_todo", name)["items_written"] == 2
            assert partitions(ui) == {"development", "production", *names.values()}
            ui.wait_until_idle()
            assert {item["content"] for item in app.items(names[NEW_INDEX], "Todo")} == {
                "[fix/todo-index] Buy milk", "[fix/todo-index] Read the Amplify docs"}
            (deployed_main,) = wait_for(lambda: ui.runs(dagster__partition="development"), 120, "the change sensor's run")
            ui.wait_for_run(deployed_main["runId"])
            development = ui.latest_metadata("backend_deployment", "development")  # the change sensor's, from main

            screenshot_partitions(ui, tmp_path / "ui-previews.png", names[ADD_TAG])

            # A schema change committed on one branch redeploys that preview only.
            commit = commit_on(root, ADD_TAG, "a field", lambda folder: replace_in(
                folder / RESOURCE, "name: a.string().required()", "name: a.string().required(), color: a.string()"))
            runs = finished(ui, names[ADD_TAG], 2)
            assert {key["path"][0] for key in runs[0]["assetSelection"]} == EVERYTHING
            redeployed = ui.latest_metadata("backend_deployment", names[ADD_TAG])
            assert redeployed["commit"] == commit and redeployed["deployment"] == "deployed"
            assert len(preview_runs(ui, names[NEW_INDEX])) == 1 and len(preview_runs(ui, names[DROP_NOTE])) == 1

            # A deleted branch's preview goes, and its partition with it.
            git(root, "branch", "-D", DROP_NOTE)
            (teardown,) = wait_for(lambda: [r for r in preview_runs(ui, names[DROP_NOTE]) if not r["assetSelection"]], 240,
                                   "the teardown run (an op job: no assets)", 3)
            ui.wait_for_run(teardown["runId"])
            wait_for(lambda: names[DROP_NOTE] not in partitions(ui), 60, "the partition to go")
            assert not checkout_dir(Project(root), names[DROP_NOTE]).exists()
            assert partitions(ui) == {"development", "production", names[ADD_TAG], names[NEW_INDEX]}
            assert ui.latest_metadata("backend_deployment", "development") == development  # untouched by every preview
    finally:
        EmbeddedEmulator(Project(root).state_dir / "emulator").stop()
    deadline = time.monotonic() + 30
    while (leftovers := processes_with("DAGSTER_HOME", str(home))) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftovers == [], "processes left behind by dagster dev"
    assert user_checkout(root) == before


def screenshot_partitions(ui: DagsterUI, path: Path, preview: str) -> None:
    """The deployment's partitions page: the environments and the previews, and a preview's branch and commit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            page.add_init_script("localStorage.setItem('communityNux', '1');")
            page.goto(f"{ui.url}/assets/backend_deployment?view=partitions")
            expect(page.get_by_text("Materialized (4)")).to_be_visible(timeout=60_000)  # development and the 3 previews
            page.get_by_text(preview, exact=True).first.click()
            expect(page.get_by_text("feature/add-tag").first).to_be_visible(timeout=30_000)
            page.screenshot(path=path)
        finally:
            browser.close()
