"""What every benchmark shares: results with ratios, sizes, the emulator, the latency proxy, the sample app."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ampflow_dagster.environments import load_config
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import EMULATOR_CREDENTIALS, AwsSettings
from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.targets.local import LocalTarget

REPOSITORY = Path(__file__).resolve().parent.parent
APP_FILES = ("amplify", "seed_data", "ampflow.toml", "package.json", "package-lock.json", "workspace.yaml")


@dataclass(frozen=True)
class Ratio:
    """`value` compared with `target`: at least the target when `at_least`, else at most.

    Without a target the ratio is reported only. `informational` says why a ratio is reported
    but not judged (what bounds it is not ampflow); such a ratio never has a target.
    """

    label: str
    value: float
    target: float | None = None
    at_least: bool = True
    informational: str = ""

    def __post_init__(self) -> None:
        assert not (self.informational and self.target is not None), "an informational ratio has no target"

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.at_least else self.value <= self.target

    @property
    def goal(self) -> str:
        return "" if self.target is None else f"{'≥' if self.at_least else '≤'} {self.target:g}×"

    def text(self) -> str:
        if self.informational:
            return f"{self.label}: {self.value:.2f}× (informational: {self.informational})"
        goal = "" if self.target is None else f" (target {self.goal}: {'met' if self.met else 'MISSED'})"
        return f"{self.label}: {self.value:.2f}×{goal}"


@dataclass
class Result:
    name: str
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)

    def figure(self, label: str, value: str) -> None:
        self.figures.append((label, value))
        print(f"    {label}: {value}", flush=True)

    def ratio(self, ratio: Ratio) -> None:
        self.ratios.append(ratio)
        print(f"  → {ratio.text()}", flush=True)


SIZES: dict[str, dict[str, int]] = {
    "full": {
        "files": 10_000, "items": 20_000, "memory_items": 1_000_000, "tables": 50, "repeats": 5,
        "reseed_seed_items": 1_000, "reseed_app_items": 200_000,
    },
    "small": {
        "files": 500, "items": 500, "memory_items": 5_000, "tables": 10, "repeats": 1,
        "reseed_seed_items": 100, "reseed_app_items": 5_000,
    },
}


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def median_time(function: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


@contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"ampflow-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def emulator(directory: Path) -> Iterator[str]:
    """The embedded emulator (moto on loopback, recording every request), as `ampflow` runs it."""
    embedded = EmbeddedEmulator(directory / "emulator")
    running = embedded.ensure_running()
    try:
        yield running.endpoint
    finally:
        embedded.stop()


@contextmanager
def latency_proxy(upstream: str, delay_ms: float) -> Iterator[str]:
    """`upstream` behind a proxy process that adds `delay_ms` to every round trip."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.latency_proxy", upstream, str(delay_ms)],
        cwd=REPOSITORY, stdout=subprocess.PIPE, text=True,
    )
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def aws(endpoint: str) -> AwsSettings:
    return AwsSettings(endpoint_url=endpoint, region_name="us-east-1", **EMULATOR_CREDENTIALS)


def dynamodb_resource(endpoint: str) -> Any:
    settings = aws(endpoint)
    return settings.session().resource("dynamodb", endpoint_url=endpoint, config=settings.client_config())


def copy_app(destination: Path) -> Project:
    """The sample app in `destination`, sharing the checkout's node_modules and synthesis cache."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in APP_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    (destination / "node_modules").symlink_to(REPOSITORY / "node_modules")
    synthesized = REPOSITORY / ".ampflow" / "synth"
    if synthesized.is_dir():
        shutil.copytree(synthesized, destination / ".ampflow" / "synth")
    (destination / "dagster_home").mkdir()
    shutil.copy2(REPOSITORY / "dagster_home" / "dagster.yaml", destination / "dagster_home" / "dagster.yaml")
    return Project(destination)


@dataclass
class SeedingApp:
    """A project holding only seed files, the development target on `endpoint`, and the backend it seeds."""

    project: Project
    target: LocalTarget
    desired: DesiredBackend

    @property
    def environment(self) -> Any:
        return self.target.environment


def seeding_app(directory: Path, endpoint: str) -> SeedingApp:
    repository = Project(REPOSITORY)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "ampflow.toml"):
        shutil.copy2(REPOSITORY / name, directory / name)
    project = Project(directory)
    environment = load_config(project).environment("development")
    target = LocalTarget(project, environment, aws(endpoint))
    desired = synthesize(repository, target.backend_identifier(repository.package_name()))
    return SeedingApp(project, target, desired)


def write_inventory(path: Path, count: int) -> int:
    """`count` InventoryItem records (composite key warehouseId+sku+batch, a GSI on sku); returns the file's size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            record = {
                "warehouseId": f"WH-{number % 40:02d}",
                "sku": f"SKU-{number:07d}",
                "batch": f"B{number % 7}",
                "name": f"Item {number}",
                "quantity": number % 500,
                "lastCountedAt": "2026-11-01T08:00:00.000Z",
            }
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
    return path.stat().st_size


def environment_without_aws_endpoints() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
