"""`ampflow dev` with everything up to date, whole process, beside `python -c "import dagster"`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ampflow_dagster.targets.emulator import EmbeddedEmulator

from benchmarks.common import Ratio, Result, copy_app, environment_without_aws_endpoints, seconds, temporary_directory

WRITES = ("PutItem", "BatchWriteItem", "DeleteItem", "UpdateItem", "TransactWriteItems",
          "CreateTable", "DeleteTable", "UpdateTable", "UpdateContinuousBackups", "CreateBackup")
NODE_COMMANDS = ("node", "npx", "npm", "tsx", "tsc")


def run(size: dict[str, int]) -> list[Result]:
    result = Result("noop_workflow", "`ampflow dev` when everything is up to date (whole process)")
    print(f"\n{result.title}", flush=True)
    repeats = max(3, size["repeats"] * 2 - 1)
    ampflow = str(Path(sys.executable).with_name("ampflow"))
    with temporary_directory("noop") as directory:
        project = copy_app(directory / "app")
        environment = environment_without_aws_endpoints()
        environment.update(AMPFLOW_PROJECT_ROOT=str(project.root), DAGSTER_HOME=str(project.root / "dagster_home"))
        try:
            subprocess.run([ampflow, "dev"], env=environment, check=True, capture_output=True, text=True)
            # From here on any Node process would fail loudly: no node_modules, and shims that log and exit 1.
            (project.root / "node_modules").unlink()
            shims = node_shims(directory / "shims", directory / "node-calls.log")
            quiet = {**environment, "PATH": f"{shims}{os.pathsep}{environment['PATH']}"}
            recording = project.state_dir / "emulator" / "recording.jsonl"
            recorded_before = line_count(recording)
            ours, baseline = [], []
            for _ in range(repeats):
                ours.append(timed_process([ampflow, "dev"], quiet, expect="is up to date"))
                baseline.append(timed_process([sys.executable, "-c", "import dagster"], quiet))
            writes = write_requests(recording, recorded_before)
            node_calls = (directory / "node-calls.log").read_text().splitlines() if (directory / "node-calls.log").exists() else []
        finally:
            EmbeddedEmulator(project.state_dir / "emulator").stop()
    ours_median, baseline_median = sorted(ours)[len(ours) // 2], sorted(baseline)[len(baseline) // 2]
    result.figure('python -c "import dagster"', f"{seconds(baseline_median)} (median of {repeats})")
    result.figure("ampflow dev, nothing to do", f"{seconds(ours_median)} (median of {repeats})")
    result.figure("Node processes started", str(len(node_calls)))
    result.figure("DynamoDB write requests", str(len(writes)))
    assert not node_calls, node_calls
    assert not writes, writes
    result.ratio(Ratio('ampflow dev / python -c "import dagster"', ours_median / baseline_median, 2.5, at_least=False))
    return [result]


def timed_process(command: list[str], environment: dict[str, str], expect: str | None = None) -> float:
    started = time.perf_counter()
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0 or (expect and expect not in finished.stdout):
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    return elapsed


def node_shims(directory: Path, log: Path) -> Path:
    directory.mkdir(parents=True)
    for name in NODE_COMMANDS:
        shim = directory / name
        shim.write_text(f"#!/bin/sh\necho \"{name} $*\" >> '{log}'\nexit 1\n")
        shim.chmod(0o755)
    return directory


def line_count(path: Path) -> int:
    return sum(1 for _ in path.open("rb")) if path.exists() else 0


def write_requests(recording: Path, skip: int) -> list[str]:
    """The DynamoDB write operations the emulator recorded after the first `skip` requests."""
    found = []
    with recording.open("rb") as handle:
        for number, line in enumerate(handle):
            if number < skip or not line.strip():
                continue
            target = json.loads(line).get("headers", {}).get("X-Amz-Target", "")
            if target.rsplit(".", 1)[-1] in WRITES:
                found.append(target)
    return found
