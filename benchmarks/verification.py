"""Describing every table of a large backend: ampflow's concurrent describes beside a sequential loop."""

from __future__ import annotations

from ampflow_dagster.synthesis.desired_state import TableSpec
from ampflow_dagster.tables.dynamodb import create_table
from ampflow_dagster.tables.live import read_live_tables

from benchmarks.common import Ratio, Result, dynamodb_resource, emulator, latency_proxy, median_time, seconds, temporary_directory

LATENCY_MS = 20


def run(size: dict[str, int]) -> list[Result]:
    count = size["tables"]
    result = Result("verification", f"Verifying {count} tables (DescribeTable and DescribeContinuousBackups each)")
    print(f"\n{result.title}", flush=True)
    repeats = max(3, size["repeats"])
    with temporary_directory("verification") as directory, emulator(directory) as endpoint:
        client = dynamodb_resource(endpoint).meta.client
        spec = TableSpec(
            model="Model", hash_key="id", range_key=None, attribute_types={"id": "S"}, indexes=(),
            stream_view_type="NEW_AND_OLD_IMAGES", billing_mode="PAY_PER_REQUEST", point_in_time_recovery=True,
            deletion_protection=False, replace_table_upon_gsi_update=False,
        )
        names = {f"Model{number:02d}": f"Model{number:02d}-benchmarkapi-NONE" for number in range(count)}
        for name in names.values():
            create_table(client, name, spec, tags={})
        for label, url in (("loopback", endpoint), (f"{LATENCY_MS} ms away", None)):
            if url is None:
                with latency_proxy(endpoint, LATENCY_MS) as slow:
                    compare(result, dynamodb_resource(slow).meta.client, names, repeats, label)
            else:
                compare(result, client, names, repeats, label)
    return [result]


def compare(result: Result, client: object, names: dict[str, str], repeats: int, label: str) -> None:
    assert all(read_live_tables(client, names).values())
    sequential = median_time(lambda: read_live_tables(client, names, workers=1), repeats)
    concurrent = median_time(lambda: read_live_tables(client, names), repeats)
    result.figure(f"sequential loop, {label}", f"{seconds(sequential)} (median of {repeats})")
    result.figure(f"ampflow, 16 at a time, {label}", f"{seconds(concurrent)} (median of {repeats})")
    result.ratio(Ratio(f"ampflow vs sequential, {label}", sequential / concurrent))
