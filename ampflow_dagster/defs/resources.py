"""Resources: which Amplify app, and how to reach AWS (or the emulator standing in for it)."""

from pathlib import Path

import dagster as dg
from dagster_aws.utils import ResourceWithBoto3Configuration

from ampflow_dagster.environments import AmpflowConfig, load_config
from ampflow_dagster.project import Project, discover_project
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace


class AwsResource(ResourceWithBoto3Configuration):
    """Region, profile, credentials, endpoint and retry attempts for every target's AWS clients."""

    def settings(self) -> AwsSettings:
        return AwsSettings(
            region_name=self.region_name,
            profile_name=self.profile_name,
            endpoint_url=self.endpoint_url,
            max_attempts=self.max_attempts,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )


class AmplifyAppResource(dg.ConfigurableResource):
    """The Amplify Gen 2 app: the folder with amplify/, seed_data/ and ampflow.toml."""

    project_root: str | None = None

    def project(self) -> Project:
        return Project(Path(self.project_root).resolve()) if self.project_root else discover_project()

    def config(self) -> AmpflowConfig:
        return load_config(self.project())

    def workspace(self, environment: str, aws: AwsResource, checkout: bool = True) -> EnvironmentWorkspace:
        return EnvironmentWorkspace.open(self.project(), environment, aws.settings(), checkout=checkout)
