"""Seeding a very large JSONL file streams it: the seeding process's peak RSS beside the file's size."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    REPOSITORY,
    Ratio,
    Result,
    dynamodb_resource,
    emulator,
    seconds,
    seeding_app,
    temporary_directory,
    write_inventory,
)
from benchmarks.seeding import MODEL, fresh_table

RSS_LIMIT_MB = 300


def run(size: dict[str, int]) -> list[Result]:
    count = size["memory_items"]
    result = Result("memory", f"Seeding one {count:,}-item JSONL file: peak memory of the seeding process")
    print(f"\n{result.title}", flush=True)
    with temporary_directory("memory") as directory, emulator(directory) as endpoint:
        app = seeding_app(directory / "app", endpoint)
        seed_file = app.project.seed_dir / "development" / f"{MODEL}.jsonl"
        file_size = write_inventory(seed_file, count)
        table = fresh_table(app, dynamodb_resource(endpoint), app.target.table_name(MODEL))
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", app.project.root, endpoint, table.name],
            cwd=REPOSITORY, check=True, capture_output=True, text=True,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
    assert measured["written"] == count, measured
    result.figure("seed file", f"{file_size / 1e6:,.0f} MB, {count:,} lines")
    result.figure("validation pass (every record, before any write)", seconds(measured["validation_seconds"]))
    result.figure("write pass", f"{seconds(measured['write_seconds'])}, {measured['written']:,} items written")
    result.figure("process RSS before seeding (Python, boto3, ampflow)", f"{measured['baseline_rss_mb']:.0f} MB")
    result.figure("peak RSS of the seeding process", f"{measured['peak_rss_mb']:.0f} MB")
    result.ratio(Ratio("peak RSS / 300 MB limit", measured["peak_rss_mb"] / RSS_LIMIT_MB, 1.0, at_least=False))
    result.ratio(Ratio("peak RSS / seed file size", measured["peak_rss_mb"] * 1e6 / file_size))
    return [result]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def seed_in_this_process(app_root: str, endpoint: str, table: str) -> dict[str, float]:
    from ampflow_dagster.environments import load_config
    from ampflow_dagster.seeding.seed_set import load_seed_set
    from ampflow_dagster.seeding.writer import apply_seed_set

    app = seeding_app(Path(app_root), endpoint)
    resource_ = dynamodb_resource(endpoint)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    seed_set = load_seed_set(app.project, load_config(app.project), app.environment, MODEL, app.desired)
    validated = time.perf_counter()
    outcome = apply_seed_set(resource_, table, app.target.gate(), seed_set)
    finished = time.perf_counter()
    return {
        "validation_seconds": validated - started,
        "write_seconds": finished - validated,
        "written": outcome.written,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(seed_in_this_process(*sys.argv[1:4])))
