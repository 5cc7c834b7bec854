"""The `ampflow` console script, run as a user runs it: a subprocess started in a project's folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

AMPFLOW = str(Path(sys.executable).with_name("ampflow"))


def ampflow(
    cwd: Path, *arguments: str, dagster_home: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """`ampflow ARGUMENTS` started in `cwd`, its output captured.

    The project is the one ampflow finds from `cwd` and the instance is `dagster_home`; without one, the
    instance is the one ampflow finds for the project (its own dagster_home/), as in a user's shell. Neither
    is inherited from the test process; `env` adds or overrides variables (AMPFLOW_PROJECT_ROOT, ...).
    """
    environment = {name: value for name, value in os.environ.items() if name not in ("AMPFLOW_PROJECT_ROOT", "DAGSTER_HOME")}
    if dagster_home is not None:
        environment["DAGSTER_HOME"] = str(dagster_home)
    environment.update(env or {})
    return subprocess.run([AMPFLOW, *arguments], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def quiet_dagster_home(path: Path) -> Path:
    """A Dagster instance folder with telemetry off, as ampflow's own dagster_home/ has it."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return path
