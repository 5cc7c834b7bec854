"""The servers a project runs on loopback, listed and stopped together: its embedded emulator and the
GraphQL endpoints of its local environments. Looking at them does not count as using them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.targets.graphql_endpoint import LocalGraphqlEndpoint, stop_graphql_endpoints


@dataclass(frozen=True)
class LocalServer:
    name: str  # "embedded emulator", "GraphQL endpoint of development"
    pid: int
    port: int
    url: str


def running_servers(state_dir: Path) -> list[LocalServer]:
    """What runs for the project whose state is `state_dir` (its .ampflow/), the emulator first."""
    servers = []
    emulator = EmbeddedEmulator(state_dir / "emulator").listening()
    if emulator is not None:
        servers.append(LocalServer("embedded emulator", emulator.pid, emulator.port, emulator.endpoint))
    endpoints = state_dir / "graphql"
    for folder in sorted(endpoints.iterdir()) if endpoints.is_dir() else []:
        endpoint = LocalGraphqlEndpoint(folder).running() if folder.is_dir() else None
        if endpoint is not None:
            servers.append(LocalServer(f"GraphQL endpoint of {folder.name}", endpoint.pid, endpoint.port, endpoint.url))
    return servers


def stop_servers(state_dir: Path) -> list[LocalServer]:
    """Stop every server of the project; the ones that were running. Their state (tables, items, ports) stays."""
    running = running_servers(state_dir)
    stop_graphql_endpoints(state_dir)
    EmbeddedEmulator(state_dir / "emulator").stop()
    return running
