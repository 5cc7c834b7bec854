"""The app's Node packages that synthesis runs, found as Node and Amplify's CLI find them.

Node's module resolution from the app root finds `@aws-amplify/backend` (whose installed version
decides whether ampflow can read what it synthesizes), and tsx, TypeScript and
`@aws-amplify/graphql-generator` where Amplify's own CLI finds them: they are dependencies of
`@aws-amplify/backend-cli`'s deployer and model generator, which a package manager may or may not
hoist to the app's `node_modules/.bin`. Every piece of advice names the app's own package manager.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.package_manager import PackageManager, detect_package_manager

LOCATE_SCRIPT = Path(__file__).with_name("locate.mjs")

# @aws-amplify/backend 1.0.0 is the oldest release whose synthesis ampflow reads correctly (checked
# against 1.0.0 with its own era's dependencies): the same tables, keys, indexes and authorization
# as the latest 1.x. Releases before 1.0 synthesize differently, and a 2.x is not checked yet.
SUPPORTED_AMPLIFY_BACKEND = ">=1.0.0 <2.0.0"
OLDEST_SUPPORTED = (1, 0, 0)
NEXT_UNSUPPORTED_MAJOR = 2
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")


@dataclass(frozen=True)
class NodeToolchain:
    project_root: Path
    package_manager: PackageManager
    node: Path
    amplify_backend_version: str | None
    amplify_backend_dir: Path | None
    backend_cli_dir: Path | None
    tsx: Path | None  # tsx's command-line entry point, run with node
    tsc: Path | None  # TypeScript's tsc entry point, run with node
    graphql_generator: Path | None  # the @aws-amplify/graphql-generator package folder
    client_config: Path | None = None  # the @aws-amplify/client-config package folder (amplify_outputs.json)


def locate_toolchain(project: Project) -> NodeToolchain:
    """Asks Node where the app's packages are: one short `node` run, before anything is synthesized."""
    node = shutil.which("node")
    if node is None:
        raise SynthesisError(
            "Node.js is not on PATH: Amplify's synthesis runs amplify/backend.ts with Node.",
            "Install Node.js 18 or newer, make `node` available on PATH, then run again.",
        )
    result = subprocess.run([node, str(LOCATE_SCRIPT), str(project.root)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SynthesisError(
            f"Node could not look up the app's packages in {project.root}: {result.stderr.strip()[-1000:]}",
            "Check that package.json and node_modules in the app are readable, then run again.",
        )
    found = json.loads(result.stdout)
    backend = found.get("backend") or {}
    return NodeToolchain(
        project_root=project.root,
        package_manager=detect_package_manager(project.root),
        node=Path(node),
        amplify_backend_version=backend.get("version"),
        amplify_backend_dir=_path(backend.get("dir")),
        backend_cli_dir=_path(found.get("backendCli")),
        tsx=_path(found.get("tsx")),
        tsc=_path(found.get("tsc")),
        graphql_generator=_path(found.get("graphqlGenerator")),
        client_config=_path(found.get("clientConfig")),
    )


def require_synthesis_tools(toolchain: NodeToolchain) -> None:
    """Refuses, before Node runs amplify/backend.ts, an app whose packages cannot synthesize a backend ampflow reads."""
    manager, root = toolchain.package_manager, toolchain.project_root
    if toolchain.amplify_backend_version is None:
        raise SynthesisError(
            f"@aws-amplify/backend is not installed for the app in {root}: Node finds no node_modules/@aws-amplify/backend from there.",
            f"Install the app's packages: run `{manager.install_command()}` in {root}, then run again.",
        )
    require_supported_amplify(toolchain)
    missing = [name for name, path in (("tsx", toolchain.tsx), ("typescript", toolchain.tsc)) if path is None]
    if missing:
        if toolchain.backend_cli_dir is None:
            resolution = (
                f"Add Amplify's CLI, which brings them: run `{manager.add_dev_command('@aws-amplify/backend-cli')}` in {root}, then run again."
            )
        else:
            resolution = f"Install the app's packages: run `{manager.install_command()}` in {root}, then run again."
        raise SynthesisError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for the app in {root}: "
            "Amplify runs amplify/backend.ts with tsx and type-checks it with TypeScript.",
            resolution,
        )


def require_supported_amplify(toolchain: NodeToolchain) -> None:
    version = toolchain.amplify_backend_version or ""
    where = f"{toolchain.project_root} has @aws-amplify/backend {version} installed ({toolchain.amplify_backend_dir})"
    manager, root = toolchain.package_manager, toolchain.project_root
    parsed = _parse(version)
    if parsed is None or parsed < (*OLDEST_SUPPORTED, True):
        raise SynthesisError(
            f"{where}; ampflow reads backends synthesized by @aws-amplify/backend {SUPPORTED_AMPLIFY_BACKEND}. "
            "Releases before 1.0.0 (Gen 2's previews) synthesize with other data constructs and output schemas.",
            f"Upgrade Amplify in the app: run `{manager.add_dev_command('@aws-amplify/backend@latest', '@aws-amplify/backend-cli@latest')}` "
            f"in {root}, then run again.",
        )
    if parsed[0] >= NEXT_UNSUPPORTED_MAJOR:
        raise SynthesisError(
            f"{where}; ampflow reads backends synthesized by @aws-amplify/backend {SUPPORTED_AMPLIFY_BACKEND} and has not been checked against {version}.",
            f"Use Amplify 1.x in the app: run `{manager.add_dev_command('@aws-amplify/backend@1', '@aws-amplify/backend-cli@1')}` "
            f"in {root}, or upgrade ampflow.",
        )


def _parse(version: str) -> tuple[int, int, int, bool] | None:
    """(major, minor, patch, is a release): a pre-release such as 1.0.0-beta.1 sorts before 1.0.0."""
    found = VERSION.match(version.strip())
    if not found:
        return None
    major, minor, patch, prerelease = found.groups()
    return int(major), int(minor), int(patch), prerelease is None


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
