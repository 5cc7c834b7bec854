"""The interface every deploy target offers; verification and seeding only use this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampflow_dagster.aws_errors import AwsPlace
from ampflow_dagster.client.outputs import DataApi
from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import DestroyRefused
from ampflow_dagster.synthesis.backend_identifier import BackendIdentifier
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.isolation import EnvironmentGate
from ampflow_dagster.planning import PlannedChange, plan_table_changes
from ampflow_dagster.tables.names import belongs_to_api, model_of, table_name
from ampflow_dagster.tables.dynamodb import list_tables
from ampflow_dagster.targets.user_pools import UserPoolRef
from ampflow_dagster.tables.differences import table_differences
from ampflow_dagster.tables.live import LiveTable, read_live_table, read_live_tables
from ampflow_dagster.progress import Log



@dataclass(frozen=True)
class TableChange:
    model: str
    table: str
    action: str  # created, updated, replaced, recreated, unchanged
    details: str = ""


@dataclass
class DeploymentReport:
    changes: list[TableChange] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


class DeployTarget(ABC):
    """Where one environment's backend lives."""

    kind: str

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.synthesized_stack: str | None = None  # the backend's root stack as synthesis named it, once known

    def use_synthesis(self, desired: DesiredBackend) -> None:
        """Take names from what Amplify synthesized for this environment (its root stack) from now on."""
        self.synthesized_stack = desired.stack_name

    @abstractmethod
    def backend_identifier(self, namespace: str) -> BackendIdentifier:
        """The Amplify backend this environment synthesizes as."""

    @abstractmethod
    def api_id(self) -> str:
        """The data API's id, which names every model table of this environment (NotDeployed if there is none yet)."""

    def deployed_api_id(self) -> str | None:
        """The data API's id, or None when AWS answered that the backend is not deployed (no stack, no API id yet).

        Any failure to find out is raised, never taken for "not deployed": a plan read from a stack that
        could not be read would list every table as new and let a protected environment be deployed unguarded.
        """
        return self.api_id()

    @abstractmethod
    def dynamodb_client(self) -> Any:
        """A botocore DynamoDB client for this environment's tables."""

    @abstractmethod
    def dynamodb_resource(self) -> Any:
        """A boto3 DynamoDB resource on the same endpoint and credentials (for its batch writer)."""

    # Whether Amplify replaces a table when only its secondary indexes change (it does in a sandbox).
    replaces_on_index_change = False
    # Whether `force` rebuilds the tables (local) or only redeploys (cloud targets never drop tables for it).
    recreates_on_force = False
    # What happens to root stacks backend.ts adds beside the Amplify backend (None: ampx deploys them with it).
    other_stacks_note: str | None = None

    @abstractmethod
    def deploy(self, desired: DesiredBackend, plan: list[PlannedChange], *, log: Log) -> DeploymentReport:
        """Carry out `plan` (already guarded and backed up) so the environment matches `desired`."""

    def plan(self, desired: DesiredBackend, *, force: bool) -> list[PlannedChange]:
        """What deploying `desired` would do to each table, without changing anything."""
        api_id = self.deployed_api_id()
        if api_id is None:  # AWS says it was never deployed: every table is new
            return [PlannedChange(model, f"{model}-<new API>-NONE", "create", "new table") for model in sorted(desired.tables)]
        live = self.live_tables(desired)
        names = {model: table_name(model, api_id) for model in desired.tables}
        declared = set(names.values())
        client = self.dynamodb_client()
        undeclared = {}
        for name in list_tables(client):
            if belongs_to_api(name, api_id) and name not in declared:
                table = read_live_table(client, name, model_of(name, api_id))
                if table is not None:
                    undeclared[name] = table
        return plan_table_changes(
            desired, live, names, undeclared,
            replaces_on_index_change=self.replaces_on_index_change, recreate_all=force and self.recreates_on_force,
        )

    def cognito_client(self) -> Any:
        """A botocore cognito-idp client for this environment's user pool."""
        raise NotImplementedError

    def user_pool(self, desired: DesiredBackend, log: Log) -> UserPoolRef | None:
        """The environment's user pool, where seed users go; None when amplify/ declares no auth."""
        raise NotImplementedError

    @abstractmethod
    def generate_client(self, desired: DesiredBackend, directory: Path, log: Log) -> list[Path]:
        """Write the environment's amplify_outputs.json and GraphQL statements into `directory`."""

    def destroy(self, log: Log) -> None:
        """Tear the environment's backend down; only the sandbox target can."""
        DestroyRefused.check(self.environment)

    @abstractmethod
    def aws_place(self) -> AwsPlace:
        """Where this environment's AWS requests go (profile and region, or endpoint), for errors to name."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What a person (and the client outputs) should know about where this environment runs."""

    def table_name(self, model: str) -> str:
        return table_name(model, self.api_id())

    def gate(self) -> EnvironmentGate:
        """The check every write and delete of this environment passes."""
        return EnvironmentGate(self.environment, self.api_id())

    def live_tables(self, desired: DesiredBackend) -> dict[str, LiveTable | None]:
        """Each desired model's live table (None where missing), described concurrently."""
        names = {model: self.table_name(model) for model in desired.tables}  # resolves the API id once, up front
        return read_live_tables(self.dynamodb_client(), names)

    def serve(self, desired: DesiredBackend, log: Log) -> None:
        """Start what the target serves beside its tables, deployed or not (local: the GraphQL endpoint); none by default."""

    def served_graphql_api(self) -> DataApi | None:
        """The GraphQL endpoint ampflow itself runs for the environment, if it is running, with its API key.

        None for a target whose API AWS AppSync serves (sandbox, branch), and for a local endpoint that stopped.
        """
        return None

    def preflight(self, log: Log) -> None:
        """Checks before a deployment may start (credentials, bootstrap); nothing to check by default."""

    def drift(self, desired: DesiredBackend) -> list[str]:
        """Why the live tables do not match `desired`; empty when they do."""
        if desired.tables and self.deployed_api_id() is None:
            return ["the backend is not deployed (no stack, or no data API id yet)"]
        reasons = []
        for model, live in self.live_tables(desired).items():
            if live is None:
                reasons.append(f"{self.table_name(model)} does not exist")
                continue
            differences = table_differences(desired.tables[model], live.spec)
            reasons.extend(f"{live.name}: {text}" for text in differences.describe())
        return reasons
