"""Subscriptions and JS handlers on the local GraphQL endpoint, each beside its own baseline.

On tests/apps/custom-handlers (a public Post model, a.handler.custom queries): a mutation's event
reaching a second client beside the mutation's own round trip; one event reaching 100 subscribers
(how many got it, and the spread between the first and the last); a JS handler's query
(`getPostJs`, a pipeline of Amplify's JS resolver and the app's handler) beside Amplify's VTL query
of the same item (`getPost`). The client is benchmarks/realtime_client.mjs, over the wire.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from pathlib import Path

from ampflow_dagster.environments import load_config
from ampflow_dagster.graphql.simulator import simulator_dir
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.tables.dynamodb import create_table
from ampflow_dagster.targets.graphql_endpoint import graphql_endpoint
from ampflow_dagster.targets.local import LocalTarget

from benchmarks.common import REPOSITORY, Ratio, Result, aws, dynamodb_resource, emulator, temporary_directory

FIXTURE = REPOSITORY / "tests" / "apps" / "custom-handlers"
CLIENT = Path(__file__).with_name("realtime_client.mjs")
SUBSCRIBERS = 100


def run(size: dict[str, int]) -> list[Result]:
    events = 200 if size["repeats"] > 1 else 40
    subscribers = SUBSCRIBERS if size["repeats"] > 1 else 20
    queries = 200 if size["repeats"] > 1 else 40
    result = Result("realtime", f"Subscriptions and JS handlers on the local endpoint: {events} events, {subscribers} subscribers")
    print(f"\n{result.title}", flush=True)
    with temporary_directory("realtime") as directory:
        project = fixture_app(directory / "app")
        with emulator(directory) as endpoint:
            target = LocalTarget(project, load_config(project).environment("development"), aws(endpoint))
            desired = synthesize(project, target.backend_identifier(project.package_name()))
            create_table(dynamodb_resource(endpoint).meta.client, target.table_name("Post"), desired.tables["Post"], tags={})
            state = graphql_endpoint(project.state_dir, "development")
            try:
                running = target.graphql_endpoint(desired, None, lambda line: None)
                assert running is not None
                measured = subprocess.run(
                    ["node", str(CLIENT), str(simulator_dir()), running.url, target.api_key(), str(events), str(subscribers), str(queries)],
                    capture_output=True, text=True, timeout=900, check=False,
                )
            finally:
                state.stop()
    if measured.returncode != 0:
        raise RuntimeError(f"realtime_client.mjs failed: {measured.stderr[-2000:]}")
    figures = json.loads(measured.stdout.strip().splitlines()[-1])
    latency = figures["latency"]
    lost = sum(1 for entry in latency if entry["event"] is None)
    round_trips = [entry["roundTrip"] / 1000 for entry in latency]
    arrivals = [entry["event"] / 1000 for entry in latency if entry["event"] is not None]
    if lost or min(figures["received"]) < events:
        raise RuntimeError(f"events lost: {lost} of {events} to one subscriber, fewest received by one of {subscribers}: {min(figures['received'])}")
    spreads = [spread / 1000 for spread in figures["spreads"]]
    js, vtl = [value / 1000 for value in figures["js"]], [value / 1000 for value in figures["vtl"]]
    result.figure("createPost mutation, HTTP round trip", distribution(round_trips, events))
    result.figure("mutation sent → its onCreatePost event at a second client", distribution(arrivals, events))
    result.figure(f"{subscribers} subscribers, one connection each: events received",
                  f"every subscriber all {events} (fewest {min(figures['received'])})")
    result.figure("spread of one event's arrival, first to last subscriber", distribution(spreads, events))
    result.figure("getPost (Amplify's VTL resolver) of one item", distribution(vtl, queries))
    result.figure("getPostJs (a.handler.custom: ddb.get) of the same item", distribution(js, queries))
    result.ratio(Ratio("mutation → event at a second client / the mutation's round trip (medians)",
                       statistics.median(arrivals) / statistics.median(round_trips), target=1.5, at_least=False))
    result.ratio(Ratio("JS handler query / the same VTL query (medians)", statistics.median(js) / statistics.median(vtl),
                       target=1.5, at_least=False))
    return [result]


def fixture_app(destination: Path) -> Project:
    """tests/apps/custom-handlers in `destination`, with the checkout's node_modules."""
    shutil.copytree(FIXTURE, destination, ignore=shutil.ignore_patterns("node_modules", "web", ".ampflow"))
    shutil.copy2(REPOSITORY / "package-lock.json", destination / "package-lock.json")
    (destination / "node_modules").symlink_to(REPOSITORY / "node_modules")
    (destination / "ampflow.toml").write_text("")
    return Project(destination)


def distribution(values: list[float], count: int) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms ({count})"
