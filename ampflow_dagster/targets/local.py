"""Target `local`: the environment's tables live in a DynamoDB endpoint on this machine.

That is the endpoint named by AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL (LocalStack,
DynamoDB Local, a moto server), or else the embedded emulator, started on demand.
Deploying reconciles that endpoint's tables to the synthesized ones, and starts the environment's
GraphQL endpoint (Amplify's AppSync simulator) serving the data API against them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ampflow_dagster.aws_errors import AwsPlace
from ampflow_dagster.client.outputs import DataApi, LocalValues, local_bucket_name, local_outputs, storage_buckets, write_client
from ampflow_dagster.errors import TableNotSettled
from ampflow_dagster.environments import Environment, load_config
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.tables.names import belongs_to_api, belongs_to_api_as_app_table, local_api_id, local_user_pool_name
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeploymentReport, DeployTarget, Log, TableChange
from ampflow_dagster.planning import PlannedChange
from ampflow_dagster.synthesis.api_spec import API_ID
from ampflow_dagster.synthesis.desired_state import TableSpec
from ampflow_dagster.tables.dynamodb import create_table, delete_table, list_tables, update_table_in_place
from ampflow_dagster.targets.emulator import project_emulator
from ampflow_dagster.targets.graphql_endpoint import (
    LOCAL_ACCOUNT, EndpointValues, LocalGraphqlEndpoint, RunningEndpoint, api_key, graphql_endpoint,
)
from ampflow_dagster.targets.user_pools import UserPoolRef, ensure_user_pool, find_user_pool

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
COGNITO_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_COGNITO_IDP", "AWS_ENDPOINT_URL")
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
# What a local environment uses of AWS, and the settings that point each service elsewhere than the emulator.
SERVICES = {"DynamoDB": ENDPOINT_VARIABLES, "Cognito": COGNITO_ENDPOINT_VARIABLES, "S3": S3_ENDPOINT_VARIABLES}
PAST_TENSE = {"create": "created", "update": "updated", "replace": "replaced", "recreate": "recreated",
              "delete": "deleted", "none": "unchanged"}


def configured_endpoint(aws: AwsSettings, variables: tuple[str, ...] = ENDPOINT_VARIABLES) -> tuple[str, str] | None:
    """(endpoint, where it was configured), if the user points ampflow at their own endpoint."""
    if aws.endpoint_url:
        return aws.endpoint_url, "the aws resource's endpoint_url"
    for variable in variables:
        if os.environ.get(variable):
            return os.environ[variable], variable
    return None


def emulated_services(aws: AwsSettings) -> list[str]:
    """The services the embedded emulator serves for a local environment: those no endpoint setting points elsewhere."""
    return [service for service, variables in SERVICES.items() if configured_endpoint(aws, variables) is None]


def split_services_note(aws: AwsSettings) -> str | None:
    """When part of AWS is pointed elsewhere and the rest still runs on the embedded emulator, which is where."""
    emulated = emulated_services(aws)
    elsewhere = {service: configured_endpoint(aws, variables) for service, variables in SERVICES.items() if service not in emulated}
    if not emulated or not elsewhere:
        return None
    pointed = "; ".join(f"{service} is {endpoint} ({source})" for service, (endpoint, source) in elsewhere.items())
    settings = ", ".join(SERVICES[service][0] for service in emulated)
    return (f"{pointed}; the embedded emulator still serves {' and '.join(emulated)} "
            f"(set {settings} or AWS_ENDPOINT_URL to point them elsewhere)")


class LocalTarget(DeployTarget):
    kind = "local"
    recreates_on_force = True
    other_stacks_note = (
        "not deployed: the local target makes the data API's tables, and the tables of the app's own stacks its "
        "data sources use, only (deploy to a sandbox or branch environment for the rest)"
    )

    def __init__(self, project: Project, environment: Environment, aws: AwsSettings) -> None:
        super().__init__(environment)
        self.project = project
        self.aws = aws
        self._client: Any = None
        self._endpoint: str | None = None
        self._endpoint_source = ""
        self._api_id: str | None = None
        self._cognito: Any = None
        self._split_noted = False

    def backend_identifier(self, namespace: str) -> BackendIdentifier:
        return BackendIdentifier(namespace=namespace, name=self.environment.name, type="sandbox")

    def api_id(self) -> str:
        if self._api_id is None:
            self._api_id = local_api_id(self.project.package_name(), self.environment.name, load_config(self.project).project_id)
        return self._api_id

    def endpoint(self) -> str:
        if self._endpoint is None:
            configured = configured_endpoint(self.aws)
            if configured:
                self._endpoint, self._endpoint_source = configured
            else:
                self._endpoint, self._endpoint_source = self._emulator_endpoint(), "embedded emulator"
        return self._endpoint

    def aws_place(self) -> AwsPlace:
        if self._endpoint is not None:
            endpoint = f"{self._endpoint} ({self._endpoint_source})"
        else:
            endpoint = (configured_endpoint(self.aws) or ("the embedded emulator",))[0]
        return AwsPlace(self.environment.name, self.aws.region(), self.aws.profile_name, endpoint)

    def _emulator_endpoint(self) -> str:
        return project_emulator(self.project).ensure_running().endpoint

    def _note_split_services(self, log: Log) -> None:
        """Says once that the embedded emulator runs for what is not pointed elsewhere (Cognito, S3)."""
        note = split_services_note(self.aws)
        if note and not self._split_noted:
            self._split_noted = True
            log(note)

    def cognito_client(self) -> Any:
        """Cognito where the user points ampflow (AWS_ENDPOINT_URL_COGNITO_IDP, AWS_ENDPOINT_URL), else the emulator.

        A DynamoDB-only endpoint (DynamoDB Local) has no Cognito, so AWS_ENDPOINT_URL_DYNAMODB never counts here.
        """
        if self._cognito is None:
            configured = configured_endpoint(self.aws, COGNITO_ENDPOINT_VARIABLES)
            endpoint = configured[0] if configured else self._emulator_endpoint()
            self._cognito = self.aws.client("cognito-idp", endpoint, allow_emulator_credentials=True)
        return self._cognito

    def user_pool(self, desired: DesiredBackend, log: Log) -> UserPoolRef | None:
        """The environment's own pool in the emulator, named after its API id: found, or built from the synthesized auth."""
        if desired.auth is None:
            return None
        self._note_split_services(log)
        return ensure_user_pool(self.cognito_client(), local_user_pool_name(self.api_id()), desired.auth, self.environment.name, log)

    def drift(self, desired: DesiredBackend) -> list[str]:
        reasons = super().drift(desired)
        if desired.auth is not None and find_user_pool(self.cognito_client(), local_user_pool_name(self.api_id())) is None:
            reasons.append(f"user pool {local_user_pool_name(self.api_id())} does not exist")
        return reasons

    def serve(self, desired: DesiredBackend, log: Log) -> None:
        """The environment's GraphQL endpoint and buckets, made to exist."""
        self.graphql_endpoint(desired, self.user_pool(desired, log), log)
        self._storage_buckets(desired, log)

    def _storage_buckets(self, desired: DesiredBackend, log: Log) -> None:
        """The environment's own bucket in the emulator for each bucket `defineStorage` declares (made if missing)."""
        names = storage_buckets(desired, self.api_id())
        if not names:
            return
        self._note_split_services(log)
        s3 = self._s3()
        existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
        for name in names:
            if name not in existing:
                region = self.aws.region()
                placed = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
                s3.create_bucket(Bucket=name, **placed)
                log(f"Created bucket {name}")

    def _s3(self) -> Any:
        configured = configured_endpoint(self.aws, S3_ENDPOINT_VARIABLES)
        return self.aws.client("s3", configured[0] if configured else self._emulator_endpoint(), allow_emulator_credentials=True)

    def destroy(self, log: Log) -> None:
        """A preview's backend removed: its GraphQL endpoint, its tables (models and its copies of the app's own), its
        user pool and its buckets, each found by the preview's own API id.

        Only a preview is ever torn down here: a declared local environment is emptied with `ampflow clean` or
        rebuilt with `ampflow force`, never destroyed.
        """
        if self.environment.preview is None:
            super().destroy(log)
            return
        api_id = self.api_id()
        endpoint = self._endpoint_state()
        if endpoint.stop():
            log(f"Stopped the GraphQL endpoint of {self.environment.name}")
        shutil.rmtree(endpoint.state_dir, ignore_errors=True)
        client = self.dynamodb_client()
        for table in list_tables(client):
            if belongs_to_api(table, api_id) or belongs_to_api_as_app_table(table, api_id):
                delete_table(client, table)
                log(f"Deleted table {table}")
        pool = find_user_pool(self.cognito_client(), local_user_pool_name(api_id))
        if pool is not None:
            self.cognito_client().delete_user_pool(UserPoolId=pool)
            log(f"Deleted user pool {local_user_pool_name(api_id)}")
        s3 = self._s3()
        own = local_bucket_name(api_id, "") + "-"  # amplify-<API id>-<bucket>: never another API id that starts alike
        for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith(own)]:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                objects = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if objects:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
            s3.delete_bucket(Bucket=bucket)
            log(f"Deleted bucket {bucket}")

    def graphql_endpoint(self, desired: DesiredBackend, pool: UserPoolRef | None, log: Log) -> RunningEndpoint | None:
        """The environment's GraphQL endpoint, serving the synthesized API (started, or restarted if it changed)."""
        if desired.graphql_api is None:
            return None
        self._app_tables(desired, log)
        values = EndpointValues(
            api_id=self.api_id(), region=self.aws.region(), dynamodb_endpoint=self.endpoint(),
            api_key=self.api_key(), user_pool_id=pool.pool_id if pool else None, user_pool_client_id=pool.client_id if pool else None,
        )
        running = self._endpoint_state().ensure_running(desired.graphql_api, values)
        if running.started_seconds:
            log(f"Local GraphQL endpoint started in {running.started_seconds:.1f} s: {running.url}")
        return running

    def _app_tables(self, desired: DesiredBackend, log: Log) -> None:
        """This environment's copy of each table of the app's own stacks that a data source uses, made if missing.

        They are the app's: never seeded, and never changed or deleted by a deployment.
        """
        declared = desired.graphql_api.app_tables if desired.graphql_api else {}
        if not declared:
            return
        client = self.dynamodb_client()
        existing = set(list_tables(client))
        for placeholder_name, declaration in sorted(declared.items()):
            name = self.gate().app_table(placeholder_name.replace(API_ID, self.api_id()))
            if name in existing:
                continue
            spec = TableSpec.from_json({key: value for key, value in declaration.items() if key != "stack"})
            create_table(client, name, spec, {"ampflow:environment": self.environment.name, "ampflow:app-table": spec.model})
            log(f"Created {name}: table {spec.model} of the app's own stack {declaration.get('stack', '')}, for the data API's "
                "data sources (never seeded)")

    def api_key(self) -> str:
        return api_key(self.project.state_dir, self.environment.name)

    def served_graphql_api(self) -> DataApi | None:
        running = self._endpoint_state().running()
        return DataApi(running.url, self.api_key()) if running else None

    def _endpoint_state(self) -> LocalGraphqlEndpoint:
        return graphql_endpoint(self.project.state_dir, self.environment.name)

    def dynamodb_client(self) -> Any:
        if self._client is None:
            self._client = self.aws.client("dynamodb", self.endpoint(), allow_emulator_credentials=True)
        return self._client

    def dynamodb_resource(self) -> Any:
        session = self.aws.session(allow_emulator_credentials=True)
        return session.resource("dynamodb", endpoint_url=self.endpoint(), config=self.aws.client_config())

    def generate_client(self, desired: DesiredBackend, directory: Path, log: Log) -> list[Path]:
        pool = self.user_pool(desired, log)
        running = self.graphql_endpoint(desired, pool, log)
        self._storage_buckets(desired, log)
        values = LocalValues(
            api_id=self.api_id(), region=self.aws.region(), account=LOCAL_ACCOUNT,
            data_api=DataApi(running.url, self.api_key()) if running else None,
            user_pool_id=pool.pool_id if pool else None, user_pool_client_id=pool.client_id if pool else None,
            user_pool_endpoint=self.cognito_client().meta.endpoint_url if pool else None,
        )
        about = {
            **{key: value for key, value in self.describe().items() if key != "endpoint_source"},
            "stack_name": desired.stack_name,
            "amplify_fingerprint": desired.fingerprint,
            "tables": {model: self.table_name(model) for model in sorted(desired.tables)},
        }
        files = write_client(directory, desired, local_outputs(desired, values, about), self.environment.name)
        return [files.outputs_file, *([files.configure_file] if files.configure_file else []), *files.statement_files]

    def describe(self) -> dict[str, Any]:
        described = {
            "target": self.kind,
            "environment": self.environment.name,
            "dynamodb_endpoint": self.endpoint(),
            "endpoint_source": self._endpoint_source,
            "aws_region": self.aws.region(),
            "api_id": self.api_id(),
        }
        running = self._endpoint_state().running()
        if running is not None:
            described.update(graphql_url=running.url, graphql_api_fingerprint=running.fingerprint)
        return described

    def deploy(self, desired: DesiredBackend, plan: list[PlannedChange], *, log: Log) -> DeploymentReport:
        client = self.dynamodb_client()
        report = DeploymentReport()
        tags = {"ampflow:environment": self.environment.name}
        gate = self.gate()
        for change in plan:
            gate.table(change.table)
            try:
                self._apply(client, change, desired.tables.get(change.model), tags, log)
            except TableNotSettled as error:
                raise error.in_environment(self.environment.name) from error
            report.changes.append(TableChange(change.model, change.table, PAST_TENSE[change.action], change.details))
        self.user_pool(desired, log)
        return report

    def _apply(self, client: Any, change: PlannedChange, spec: Any, tags: dict[str, str], log: Log) -> None:
        if change.action in ("replace", "recreate", "delete"):
            log(f"Deleting {change.table} ({change.action}: {change.details})")
            delete_table(client, change.table)
        if change.action in ("create", "replace", "recreate") and spec is not None:
            log(f"Creating {change.table}")
            create_table(client, change.table, spec, {**tags, "amplify:model": change.model})
        if change.action == "update" and spec is not None:
            done = update_table_in_place(client, change.table, spec, change.differences)  # the planned changes, no more
            log(f"Updated {change.table}: {', '.join(done)}")
