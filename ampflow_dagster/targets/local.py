"""Target `local`: the environment's tables live in a DynamoDB endpoint on this machine.

That is the endpoint named by AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL (LocalStack,
DynamoDB Local, a moto server), or else the embedded emulator, started on demand.
Deploying reconciles that endpoint's tables to the synthesized ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ampflow_dagster.client.outputs import write_client
from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import DeploymentError
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.table_names import belongs_to_api, local_api_id
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeploymentReport, DeployTarget, Log, TableChange
from ampflow_dagster.targets.dynamodb_tables import create_table, delete_table, holds_items, list_tables, update_table_in_place
from ampflow_dagster.targets.emulator import EmbeddedEmulator
from ampflow_dagster.verification.table_state import table_differences

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")


def configured_endpoint(aws: AwsSettings) -> tuple[str, str] | None:
    """(endpoint, where it was configured), if the user points ampflow at their own endpoint."""
    if aws.endpoint_url:
        return aws.endpoint_url, "the aws resource's endpoint_url"
    for variable in ENDPOINT_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable], variable
    return None


class LocalTarget(DeployTarget):
    kind = "local"

    def __init__(self, project: Project, environment: Environment, aws: AwsSettings) -> None:
        super().__init__(environment)
        self.project = project
        self.aws = aws
        self._client: Any = None
        self._endpoint: str | None = None
        self._endpoint_source = ""

    def backend_identifier(self, namespace: str) -> BackendIdentifier:
        return BackendIdentifier(namespace=namespace, name=self.environment.name, type="sandbox")

    def api_id(self) -> str:
        return local_api_id(self.project.package_name(), self.environment.name)

    def endpoint(self) -> str:
        if self._endpoint is None:
            configured = configured_endpoint(self.aws)
            if configured:
                self._endpoint, self._endpoint_source = configured
            else:
                emulator = EmbeddedEmulator(self.project.state_dir / "emulator").ensure_running()
                self._endpoint, self._endpoint_source = emulator.endpoint, "embedded emulator"
        return self._endpoint

    def dynamodb_client(self) -> Any:
        if self._client is None:
            self._client = self.aws.client("dynamodb", self.endpoint(), allow_emulator_credentials=True)
        return self._client

    def dynamodb_resource(self) -> Any:
        session = self.aws.session(allow_emulator_credentials=True)
        return session.resource("dynamodb", endpoint_url=self.endpoint(), config=self.aws.client_config())

    def generate_client(self, desired: DesiredBackend, directory: Path, log: Log) -> list[Path]:
        tables = {model: self.table_name(model) for model in sorted(desired.tables)}
        files = write_client(directory, desired, self.describe(), tables)
        return [files.outputs_file, *files.statement_files]

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.kind,
            "environment": self.environment.name,
            "dynamodb_endpoint": self.endpoint(),
            "endpoint_source": self._endpoint_source,
            "aws_region": self.aws.region(),
            "api_id": self.api_id(),
        }

    def deploy(
        self, desired: DesiredBackend, *, force: bool, allow_destructive: bool, automated: bool, log: Log
    ) -> DeploymentReport:
        client = self.dynamodb_client()
        live = self.live_tables(desired)
        report = DeploymentReport()
        if force:
            existing = [self.table_name(model) for model, table in live.items() if table is not None]
            self._guard_destructive(client, existing, "recreated by a forced deployment", allow_destructive, automated)
            for name in existing:
                log(f"Deleting {name} for a clean deployment")
                delete_table(client, name)
            live = {model: None for model in live}
        tags = {"ampflow:environment": self.environment.name, "amplify:model": ""}
        for model, spec in sorted(desired.tables.items()):
            name = self.table_name(model)
            table = live[model]
            if table is None:
                log(f"Creating {name}")
                create_table(client, name, spec, {**tags, "amplify:model": model})
                report.changes.append(TableChange(model, name, "recreated" if force else "created"))
                continue
            differences = table_differences(spec, table.spec)
            if differences.key_schema:
                self._guard_destructive(client, [name], "replaced (its key schema changed)", allow_destructive, automated)
                log(f"Replacing {name}: {'; '.join(differences.key_schema)}")
                delete_table(client, name)
                create_table(client, name, spec, {**tags, "amplify:model": model})
                report.changes.append(TableChange(model, name, "replaced", "; ".join(differences.key_schema)))
            elif not differences.empty:
                done = update_table_in_place(client, name, spec, differences)
                log(f"Updated {name}: {', '.join(done)}")
                report.changes.append(TableChange(model, name, "updated", ", ".join(done)))
            else:
                report.changes.append(TableChange(model, name, "unchanged"))
        declared = {self.table_name(model) for model in desired.tables}
        report.undeclared_tables = [
            name for name in list_tables(client) if belongs_to_api(name, self.api_id()) and name not in declared
        ]
        return report

    def _guard_destructive(self, client: Any, tables: list[str], what: str, allow_destructive: bool, automated: bool) -> None:
        """Refuse to drop items of a protected environment unless a person's run explicitly allows it."""
        holding = [name for name in tables if holds_items(client, name)]
        if holding and automated:
            raise DeploymentError(
                f"Automation refuses a destructive change to environment '{self.environment.name}': "
                f"{', '.join(holding)} hold items and would be {what}, losing them.",
                f"Review the change, then deploy by hand (ampflow deploy {self.environment.name}) once the data is backed up.",
            )
        if not self.environment.protected or allow_destructive:
            return
        if holding:
            raise DeploymentError(
                f"Refusing to change protected environment '{self.environment.name}': "
                f"{', '.join(holding)} hold items and would be {what}, losing them.",
                "Back up the data first; then, if you mean it, run the deployment with run config "
                "`allow_destructive: true` for this environment.",
            )
