"""The pinned install of Amplify's AppSync simulator that local GraphQL endpoints run.

One install per machine, not per app: `node/package.json` and its lockfile are copied to
`${XDG_CACHE_HOME:-~/.cache}/ampflow/appsync-simulator/<lockfile hash>/` and installed there
with `npm ci` (about 300 MB, under a minute), once. A stamp marks a complete install.
`AMPFLOW_SIMULATOR_DIR` names an install made elsewhere (CI can prepare one).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ampflow_dagster.errors import DeploymentError
from ampflow_dagster.locks import exclusive_lock

PACKAGE_DIR = Path(__file__).with_name("node")
LAUNCHER = Path(__file__).with_name("launcher.mjs")
SIMULATOR_PACKAGE = "@aws-amplify/amplify-appsync-simulator"
STAMP = ".ampflow-installed"


def simulator_dir() -> Path:
    """The simulator install to run, installed first if this machine has none of this lockfile."""
    override = os.environ.get("AMPFLOW_SIMULATOR_DIR")
    if override:
        installed = Path(override)
        if not (installed / "node_modules" / SIMULATOR_PACKAGE / "package.json").is_file():
            raise DeploymentError(
                f"AMPFLOW_SIMULATOR_DIR is {installed}, which holds no {SIMULATOR_PACKAGE} install.",
                f"Run `npm ci` there with ampflow's {PACKAGE_DIR}/package.json and package-lock.json, or unset the variable.",
            )
        return installed
    target = _cache_root() / "appsync-simulator" / _lock_digest()
    if (target / STAMP).is_file():
        return target
    with exclusive_lock(target.parent / f"{target.name}.lock"):
        if not (target / STAMP).is_file():
            _install(target)
    return target


def _install(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise DeploymentError(
            "npm is not on PATH: the local GraphQL endpoint runs Amplify's AppSync simulator, which ampflow installs with npm.",
            "Install Node.js 20+ with npm (it also runs Amplify's synthesis), then run again.",
        )
    shutil.rmtree(target, ignore_errors=True)  # a half-finished install
    target.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(PACKAGE_DIR / name, target / name)
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise DeploymentError(
            f"Installing {SIMULATOR_PACKAGE} into {target} failed (npm ci exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-1500:]}",
            "Check that the npm registry is reachable (npm config get registry), then run again.",
        )
    (target / STAMP).write_text(_lock_digest() + "\n", encoding="utf-8")


def _lock_digest() -> str:
    return hashlib.sha256((PACKAGE_DIR / "package-lock.json").read_bytes()).hexdigest()[:16]


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ampflow"


def main() -> int:
    """`python -m ampflow_dagster.graphql.simulator`: install the simulator now (scripts/bootstrap does)."""
    try:
        print(f"==> AppSync simulator for local GraphQL endpoints: {simulator_dir()}")
    except DeploymentError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
