"""What every command works on: the project, its Dagster instance and its definitions, each found on first use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ampflow_dagster.project import Project, discover_project


class Session:
    """The project (found on first use), its Dagster instance (DAGSTER_HOME, by default the project's
    dagster_home/) and its definitions. Errors (no project, an invalid ampflow.toml) are raised as they are."""

    def __init__(self, project_root: Path | None) -> None:
        self.root = project_root  # --project, if given
        self._project: Project | None = None
        self._instance: Any = None
        self._definitions: Any = None
        self._config: Any = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = discover_project()  # --project is passed on as AMPFLOW_PROJECT_ROOT
            self.use_instance_of(self._project)
        return self._project

    @staticmethod
    def use_instance_of(project: Project) -> None:
        """Point Dagster at the project's instance, configured as `ampflow init` writes it if it has no file yet."""
        from ampflow_dagster.instance import ensure_instance_config

        home = Path(os.environ.setdefault("DAGSTER_HOME", str(project.root / "dagster_home")))
        ensure_instance_config(home)

    def instance(self) -> Any:
        import dagster as dg

        if self._instance is None:
            from ampflow_dagster.defs.partitions import register_environments

            self.project  # noqa: B018 -- resolves DAGSTER_HOME first
            self._instance = dg.DagsterInstance.get()
            register_environments(self._instance, self.config())
        return self._instance

    def definitions(self) -> Any:
        if self._definitions is None:
            from ampflow_dagster.definitions import build_defs

            self._definitions = build_defs(self.project)
        return self._definitions

    def config(self) -> Any:
        """ampflow.toml, read once per command."""
        if self._config is None:
            from ampflow_dagster.environments import load_config

            self._config = load_config(self.project)
        return self._config

    def environment(self, name: str) -> Any:
        """The named environment from ampflow.toml (raises a ConfigurationError naming the known ones)."""
        return self.config().environment(name)

    def workspace(self, environment: str) -> Any:
        """The environment opened with its deploy target, on the standard AWS settings."""
        from ampflow_dagster.targets.aws import AwsSettings
        from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

        return EnvironmentWorkspace.open(self.project, environment, AwsSettings(), self.config())
