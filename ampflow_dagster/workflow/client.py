"""The client step: the environment's amplify_outputs.json and GraphQL statements."""

from __future__ import annotations

from pathlib import Path

from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from ampflow_dagster.progress import Log



def generate_client(workspace: EnvironmentWorkspace, log: Log) -> list[Path]:
    directory = workspace.project.client_dir(workspace.environment.name)
    desired = workspace.desired()
    with workspace.aws_failures("Generating the client", f"ampflow deploy {workspace.environment.name}"):
        return workspace.target.generate_client(desired, directory, log)
