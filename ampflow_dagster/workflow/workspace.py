"""One environment of one project, opened with its deploy target: what every workflow step works on."""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Iterator

from ampflow_dagster.aws_errors import aws_failures
from ampflow_dagster.errors import AmpflowError, DeploymentError
from ampflow_dagster.environments import AmpflowConfig, Environment, load_config
from ampflow_dagster.fingerprint import backend_fingerprint, tree_fingerprint
from ampflow_dagster.previews import home_project, preview_project
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.project import PreviewProject, Project
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
    def open(
        cls, project: Project, environment_name: str, aws: AwsSettings, config: AmpflowConfig | None = None, *, checkout: bool = True,
    ) -> EnvironmentWorkspace:
        """The environment of `project`; a preview's is its branch's worktree at the commit its record names.

        `checkout=False` opens a preview on the app's own folder, without its worktree: for what needs only its
        name and target (its teardown, its status).
        """
        config = config or load_config(project)
        environment = config.environment(environment_name)
        if environment.preview is not None:
            project = preview_project(project, environment, config.previews) if checkout else home_project(project)
        return cls(project, config, environment, target_for(project, environment, aws))

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            if isinstance(self.project, PreviewProject):
                self._fingerprint = tree_fingerprint(self._preview_tree(), self.environment)
            else:
                self._fingerprint = backend_fingerprint(self.project, self.environment)
        return self._fingerprint

    def _preview_tree(self) -> str:
        assert isinstance(self.project, PreviewProject)
        if self.project.amplify_tree is None:
            preview = self.environment.preview
            raise DeploymentError(
                f"Preview '{self.environment.name}': branch {preview.branch if preview else '?'} has no amplify/ folder at "
                f"{self.project.commit[:12]}, so there is no backend to deploy.",
                "Add amplify/ on the branch, or leave the branch out of [previews] branches in ampflow.toml.",
            )
        return self.project.amplify_tree

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
