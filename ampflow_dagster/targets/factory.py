"""Choose an environment's deploy target from its configuration."""

from __future__ import annotations

from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.project import Project
from ampflow_dagster.targets.branch import BranchTarget
from ampflow_dagster.targets.sandbox import SandboxTarget
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeployTarget
from ampflow_dagster.targets.local import LocalTarget


def target_for(project: Project, environment: Environment, aws: AwsSettings) -> DeployTarget:
    if environment.target == "local":
        return LocalTarget(project, environment, aws)
    if environment.target == "sandbox":
        return SandboxTarget(project, environment, aws)
    if environment.target == "branch":
        return BranchTarget(project, environment, aws)
    raise ConfigurationError(
        f"Environment '{environment.name}' uses target '{environment.target}', which ampflow cannot deploy.",
        "Set target to local, sandbox or branch for it in ampflow.toml.",
    )
