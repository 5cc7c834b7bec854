"""The Dagster UI path, for real: `dagster dev` (webserver and daemon) on a copy of the app,
driven through Dagster's GraphQL API the way the UI drives it, then looked at in Chromium.

The tests share one running instance, brought by the fixture to where a new user's first session
leaves it (the sensor's first deployment, the workflows launched by hand); from there each test does
what it asserts on (an edit the sensor picks up, a backfill, a look in Chromium), in any order.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from ampflow_dagster.names import seeded_asset_name
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import seeded_models
from ampflow_dagster.targets.emulator import EmbeddedEmulator

from conftest import REPO, App, copy_synthesized_app
from dagster_ui import CHROMIUM, CHROMIUM_FLAGS, DagsterUI, dagster_dev, processes_with, wait_for

SEEDED = sorted(seeded_asset_name(model) for model in seeded_models(Project(REPO)))
CHAIN = ["backend_deployment", "verified_tables", "api_client"]
ASSETS = CHAIN + SEEDED
ENVIRONMENTS = ["development", "production"]
SCREENSHOTS = os.environ.get("AMPFLOW_SCREENSHOTS")  # set to docs/ to refresh the README's pictures
# A returning visitor: no welcome dialog, and both asset groups open in the graph.
FIRST_VISIT_DONE = """
localStorage.setItem('communityNux', '1');
localStorage.setItem('asset-graph-open-graph-nodes-global-__GLOBAL__',
                     JSON.stringify({expanded: 'global@global:amplify,global@global:seed_data'}));
"""


@pytest.fixture(scope="module")
def app_copy(tmp_path_factory: pytest.TempPathFactory, synthesized_app: Path) -> App:
    root = copy_synthesized_app(synthesized_app, tmp_path_factory.mktemp("ui") / "app").root
    # The daily reconciliation of production must not fire mid-test (it would deploy production
    # before amplify_prod does): keep it on a day that does not come round during a test run.
    config = root / "ampflow.toml"
    assert 'cron = "0 3 * * *"' in config.read_text()
    config.write_text(config.read_text().replace('cron = "0 3 * * *"', 'cron = "0 3 29 2 *"'))
    return App(root)


@dataclass
class Story:
    """What the UI did before the tests: the change sensor's first deployment, then amplify_dev and amplify_prod."""

    first_sensor_runs: dict[str, list[dict]]  # partition -> the sensor's runs once its first one finished
    after_sensor: dict  # backend_deployment's development metadata after the sensor's run
    after_dev: dict  # ... after amplify_dev
    after_prod: dict  # backend_deployment's production metadata after amplify_prod
    seeded_after_prod: dict[str, dict]  # each seeded asset's production metadata after amplify_prod


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, app_copy: App):
    """`dagster dev` on a fresh instance, after its sensor's first deployment of development and a launch of
    amplify_dev and amplify_prod, as a new user would start; what each did is kept in `ui.story`. Every test
    starts from there, whatever ran before it."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # the README's instance and run queue
    try:
        with dagster_dev(app_copy.root, home) as running:
            runs = wait_for(lambda: sensor_runs(running, "development"), 120, "the change sensor's first run")
            running.wait_for_run(runs[0]["runId"])
            running.wait_until_idle()
            first = {partition: sensor_runs(running, partition) for partition in ENVIRONMENTS}
            after_sensor = running.latest_metadata("backend_deployment", "development")
            running.wait_for_run(running.launch("amplify_dev", "development"))
            after_dev = running.latest_metadata("backend_deployment", "development")
            running.wait_for_run(running.launch("amplify_prod", "production"))
            running.story = Story(  # type: ignore[attr-defined]
                first, after_sensor, after_dev, running.latest_metadata("backend_deployment", "production"),
                {asset: running.latest_metadata(asset, "production") for asset in SEEDED},
            )
            yield running
    finally:
        EmbeddedEmulator(app_copy.project.state_dir / "emulator").stop()  # it outlives runs by design
    deadline = time.monotonic() + 30
    while (leftovers := processes_with("DAGSTER_HOME", str(home))) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftovers == [], "processes left behind by dagster dev"


def sensor_runs(ui: DagsterUI, partition: str) -> list[dict]:
    return ui.runs(ampflow__trigger="sensor", dagster__partition=partition)


def selection(run: dict) -> set[str]:
    return {"/".join(key["path"]) for key in run["assetSelection"] or []}


def test_a_fresh_instance_deploys_development_through_the_sensor_and_nothing_else(ui: DagsterUI) -> None:
    story: Story = ui.story  # type: ignore[attr-defined]
    (run,) = story.first_sensor_runs["development"]  # not again for what its own run was recording
    assert story.first_sensor_runs["production"] == []  # automated deploys are off there
    assert selection(run) == set(ASSETS)
    assert story.after_sensor["deployment"] == "deployed"


def test_the_workflow_jobs_launched_through_graphql_materialize_each_partition(ui: DagsterUI) -> None:
    story: Story = ui.story  # type: ignore[attr-defined]
    development = story.after_dev
    assert development["deployment"] == "skipped" and "unchanged" in development["reason"]
    production = story.after_prod
    assert production["deployment"] == "deployed"
    assert production["api_id"] != development["api_id"]  # each environment has its own backend

    for asset in ASSETS:
        statuses = ui.materializations(asset)["definition"]["assetPartitionStatuses"]
        assert sorted(statuses["materializedPartitions"]) == ENVIRONMENTS, asset
        assert statuses["failedPartitions"] == [], asset
    passed_everywhere = {"passed": ENVIRONMENTS, "failed": []}
    shapes = ui.checks("verified_tables")
    list_queries = shapes.pop("list_queries")
    assert set(shapes) == {f"table_shape_{name.removeprefix('seeded_')}" for name in SEEDED} | {"table_shape_other_tables"}
    assert all(check == {"blocking": True, **passed_everywhere} for check in shapes.values()), shapes
    assert list_queries == {"blocking": False, **passed_everywhere}  # each local endpoint answered every list query
    assert ui.checks("api_client") == {"default_authorization_mode": {"blocking": False, **passed_everywhere}}
    for asset in SEEDED:
        assert ui.checks(asset) == {"seed_count": {"blocking": False, **passed_everywhere}}
        seeded = story.seeded_after_prod[asset]
        assert seeded["prefix"] == "[PROD]" and seeded["items_written"] == seeded["seed_items"]
        assert ui.latest_metadata(asset, "development")["prefix"] == "[DEV]"


def test_an_edit_in_amplify_makes_the_sensor_deploy_development_only(ui: DagsterUI, app_copy: App) -> None:
    fingerprint = ui.latest_metadata("backend_deployment", "development")["amplify_fingerprint"]
    before = {run["runId"] for run in ui.runs()}
    resource = app_copy.root / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + "\n// reviewed in the Dagster UI test\n")

    new = wait_for(lambda: [r for r in sensor_runs(ui, "development") if r["runId"] not in before], 150,
                   "the sensor to notice the edit")
    ui.wait_for_run(new[0]["runId"])
    ui.wait_until_idle()
    assert selection(new[0]) == set(CHAIN)  # a comment changes no model: no reseeding
    assert ui.latest_metadata("backend_deployment", "development")["amplify_fingerprint"] != fingerprint
    assert sensor_runs(ui, "production") == []


def test_a_partition_backfill_reseeds_both_environments_and_restores_what_was_deleted(
    ui: DagsterUI, app_copy: App
) -> None:
    table = app_copy.dynamodb().Table(app_copy.table_name("development", "Todo"))
    keys = [part["AttributeName"] for part in table.key_schema]
    deleted = app_copy.items("development", "Todo")[0]
    table.delete_item(Key={name: deleted[name] for name in keys})

    backfill = ui.wait_for_backfill(ui.launch_backfill(SEEDED, ENVIRONMENTS))
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    assert sorted(backfill["partitionNames"]) == ENVIRONMENTS
    assert backfill["runs"] and all(run["status"] == "SUCCESS" for run in backfill["runs"])

    todo = ui.latest_metadata("seeded_todo", "development")
    assert (todo["items_created"], todo["items_updated"], todo["items_removed"]) == (1, 0, 0)
    assert any(item[keys[0]] == deleted[keys[0]] for item in app_copy.items("development", "Todo"))
    for asset in SEEDED:
        assert ui.latest_metadata(asset, "production")["items_written"] == 0  # production was already current


def test_chromium_shows_the_asset_graph_and_both_environment_partitions(ui: DagsterUI, tmp_path: Path) -> None:
    pictures = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            # Tall enough that the graph fits at the zoom where nodes show their details.
            page = browser.new_context(viewport={"width": 1440, "height": 1700}).new_page()
            page.add_init_script(FIRST_VISIT_DONE)
            page.goto(f"{ui.url}/asset-groups")
            for asset in ASSETS:
                expect(page.locator(f'[data-tooltip="{asset}"]')).to_be_visible(timeout=60_000)
            expect(page.get_by_text("2 partitions").first).to_be_visible()
            page.wait_for_timeout(1000)  # let the edges finish drawing
            page.screenshot(path=pictures / "ui-asset-graph.png")

            page.set_viewport_size({"width": 1440, "height": 900})
            page.goto(f"{ui.url}/assets/backend_deployment?view=partitions")
            for environment in ENVIRONMENTS:
                expect(page.get_by_text(environment, exact=True).first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Materialized (2)")).to_be_visible()
            expect(page.get_by_text("Missing (0)")).to_be_visible()
            page.get_by_text("production", exact=True).first.click()
            expect(page.get_by_text("amplify_fingerprint").first).to_be_visible(timeout=30_000)
            expect(page.get_by_text(ui.latest_metadata("backend_deployment", "production")["api_id"]).first).to_be_visible()
            page.screenshot(path=pictures / "ui-partitions.png")
            # The same deployment's metadata further down: the environment's local GraphQL endpoint.
            endpoint = ui.latest_metadata("backend_deployment", "production")["graphql_endpoint"]
            shown = page.get_by_text(endpoint).first
            expect(shown).to_be_visible(timeout=30_000)
            shown.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=pictures / "ui-deployment-endpoint.png")

            page.goto(f"{ui.url}/assets/verified_tables?view=checks")
            for name in SEEDED:
                expect(page.get_by_text(f"table_shape_{name.removeprefix('seeded_')}").first).to_be_visible(timeout=60_000)
            page.screenshot(path=pictures / "ui-checks.png")
        finally:
            browser.close()
    for picture in ("ui-asset-graph.png", "ui-partitions.png", "ui-deployment-endpoint.png", "ui-checks.png"):
        assert (pictures / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
