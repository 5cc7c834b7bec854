"""One environment of one project, opened with its deploy target: what every workflow step works on."""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Iterator

from ampflow_dagster.aws_errors import aws_failures
from ampflow_dagster.errors import AmpflowError, DeploymentError
from ampflow_dagster.environments import AmpflowConfig, Environment, load_config
from ampflow_dagster.fingerprint import backend_fingerprint
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeployTarget
from ampflow_dagster.targets.factory import target_for


@dataclass
class EnvironmentWorkspace:
    """One environment of one project, with its deploy target."""

    project: Project
    config: AmpflowConfig
    environment: Environment
    target: DeployTarget
    _fingerprint: str | None = None

    @classmethod
    def open(cls, project: Project, environment_name: str, aws: AwsSettings, config: AmpflowConfig | None = None) -> EnvironmentWorkspace:
        config = config or load_config(project)
        environment = config.environment(environment_name)
        return cls(project, config, environment, target_for(project, environment, aws))

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = backend_fingerprint(self.project, self.environment)
        return self._fingerprint

    def desired(self) -> DesiredBackend:
        identifier = self.target.backend_identifier(self.project.package_name())
        desired = synthesize(self.project, identifier, self.fingerprint(), self.environment.synthesis_variables())
        self.target.use_synthesis(desired)
        return desired

    def aws_failures(self, doing: str, command: str, default: type[AmpflowError] = DeploymentError) -> AbstractContextManager[None]:
        """AWS failures inside become ampflow's errors naming this environment and where its requests went."""
        return aws_failures(self.target.aws_place, doing=doing, command=command, default=default)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this environment's lock: two runs never change one environment at the same time."""
        with exclusive_lock(self.project.state_dir / "locks" / f"{self.environment.name}.lock"):
            yield
