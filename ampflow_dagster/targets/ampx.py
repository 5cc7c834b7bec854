"""What the cloud targets that deploy with Amplify's own CLI share (`sandbox.py`, `branch.py`).

`ampx` decides what is deployed; ampflow checks credentials and CDK bootstrap first,
streams ampx's output into the run, and decides success from the CloudFormation stack
status (ampx sandbox --once can print a failure and still exit 0), never from the exit
code alone. Table names then come from the deployed stack's API id.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ampflow_dagster.aws_errors import (
    AMPX_FALLBACK, AwsPlace, Context, FailureRow, ampx_error, aws_error, aws_failures, build, row_named,
)
from ampflow_dagster.environments import Environment
from ampflow_dagster.errors import AmpflowError, DeploymentError, NotDeployed
from ampflow_dagster.planning import PlannedChange
from ampflow_dagster.project import Project
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeploymentReport, DeployTarget, Log, TableChange
from ampflow_dagster.processes import run_streamed
from ampflow_dagster.targets.stack_events import SUCCEEDED, failed_events, stack_status
from ampflow_dagster.targets.user_pools import UserPoolRef

BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
MAX_REASONS = 10


class AmpxTarget(DeployTarget):
    """Shared by `sandbox` and `branch`: preflight, run ampx, judge by the stack, resolve tables."""

    def __init__(self, project: Project, environment: Environment, aws: AwsSettings) -> None:
        super().__init__(environment)
        self.project = project
        self.aws = AwsSettings(
            region_name=environment.region or aws.region_name,
            profile_name=environment.profile or aws.profile_name,
            endpoint_url=aws.endpoint_url,
            max_attempts=aws.max_attempts,
            aws_access_key_id=aws.aws_access_key_id,
            aws_secret_access_key=aws.aws_secret_access_key,
            aws_session_token=aws.aws_session_token,
        )
        self._clients: dict[str, Any] = {}
        self._api_id: str | None = None
        self._stack_found = False

    # What differs between sandbox and branch.
    def deploy_command(self) -> list[str]:
        raise NotImplementedError

    def command_environment(self) -> dict[str, str]:
        environment = {**os.environ, "AWS_REGION": self.aws.region(), "AWS_DEFAULT_REGION": self.aws.region()}
        if self.aws.profile_name:
            environment["AWS_PROFILE"] = self.aws.profile_name
        return environment

    def stack_name(self) -> str:
        """The backend's root stack: as synthesis named it (Amplify's own code did), else by ampflow's port of
        Amplify's rule (synthesis/backend_identifier.py) where nothing was synthesized yet."""
        return self.synthesized_stack or self.backend_identifier(self.project.package_name()).stack_name()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.aws.client(service, self.aws.endpoint_url)
        return self._clients[service]

    def dynamodb_client(self) -> Any:
        return self.client("dynamodb")

    def dynamodb_resource(self) -> Any:
        return self.aws.session().resource("dynamodb", endpoint_url=self.aws.endpoint_url, config=self.aws.client_config())

    def aws_place(self) -> AwsPlace:
        return AwsPlace(self.environment.name, self.aws.region(), self.aws.profile_name or os.environ.get("AWS_PROFILE"),
                        self.aws.endpoint_url)

    def _aws(self, doing: str, command: str | None = None) -> AbstractContextManager[None]:
        """AWS failures inside become ampflow's errors for this environment (aws_errors.FAILURES)."""
        return aws_failures(self.aws_place, doing=doing, command=command or f"ampflow deploy {self.environment.name}")

    def _stack_status(self) -> tuple[str | None, dict[str, str]]:
        with self._aws(f"Reading stack {self.stack_name()}"):
            return stack_status(self.client("cloudformation"), self.stack_name())

    def deployed_api_id(self) -> str | None:
        """The stack's awsAppsyncApiId output; None only when CloudFormation says the stack does not exist or the
        stack has no such output yet. A stack that could not be read raises its ampflow error (aws_errors.FAILURES)."""
        if self._api_id is None:
            status, outputs = self._stack_status()
            self._api_id, self._stack_found = outputs.get("awsAppsyncApiId") or None, status is not None
        return self._api_id

    def api_id(self) -> str:
        api_id = self.deployed_api_id()
        if api_id is None:
            raise NotDeployed(
                f"Environment '{self.environment.name}' has no deployed data API: stack {self.stack_name()} "
                f"{'has no awsAppsyncApiId output' if self._stack_found else 'does not exist'} in {self.aws.region()}.",
                f"Deploy it first: ampflow deploy {self.environment.name}.",
            )
        return api_id

    def cognito_client(self) -> Any:
        return self.client("cognito-idp")

    def user_pool(self, desired: DesiredBackend, log: Log) -> UserPoolRef | None:
        """The pool Amplify deployed: the stack's userPoolId output, else amplify_outputs.json's auth.user_pool_id."""
        if desired.auth is None:
            return None
        _, outputs = self._stack_status()
        pool_id = outputs.get("userPoolId") or _outputs_file_value(self.project.client_dir(self.environment.name), "user_pool_id")
        if not pool_id:
            raise DeploymentError(
                f"Environment '{self.environment.name}' has no deployed user pool: stack {self.stack_name()} has no "
                f"userPoolId output in {self.aws.region()}.",
                f"Deploy it first (ampflow deploy {self.environment.name}); amplify/ must define auth with defineAuth.",
            )
        client_id = outputs.get("webClientId") or _outputs_file_value(self.project.client_dir(self.environment.name), "user_pool_client_id")
        return UserPoolRef(pool_id, self.environment.name, client_id or None)

    def describe(self) -> dict[str, Any]:
        region = self.aws.region()
        stack = self.stack_name()
        return {
            "target": self.kind,
            "environment": self.environment.name,
            "aws_region": region,
            "stack_name": stack,
            "api_id": self._api_id or "",
            "console": f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}#/stacks?filteringText={stack}",
        }

    def preflight(self, log: Log) -> None:
        """Credentials through the standard chain, checked with STS; the region CDK-bootstrapped.

        Only a missing bootstrap parameter means "not bootstrapped"; being denied it is a
        credentials or permissions problem, as Amplify's own sandbox says (SSMCredentialsError).
        """
        place, command = self.aws_place(), f"ampflow deploy {self.environment.name}"
        with self._aws("Checking the credentials (sts:GetCallerIdentity)"):
            identity = self.client("sts").get_caller_identity()
        log(f"AWS account {identity['Account']} ({place.where()})")
        try:
            version = self.client("ssm").get_parameter(Name=BOOTSTRAP_PARAMETER)["Parameter"]["Value"]
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, ClientError) and error.response["Error"]["Code"] == "ParameterNotFound":
                context = Context(place.environment, place.where(), place.profile or "default", place.region,
                                  "Checking the CDK bootstrap", command, f"{BOOTSTRAP_PARAMETER} not found in account "
                                  f"{identity['Account']}", account=identity["Account"])
                raise build(row_named("NotBootstrapped"), context, DeploymentError) from error
            raise aws_error(error, place, doing=f"Reading the CDK bootstrap version ({BOOTSTRAP_PARAMETER})",
                            command=command, resource=f"Parameter {BOOTSTRAP_PARAMETER}") from error
        log(f"CDK bootstrap version {version} in {self.aws.region()}")

    def deploy(self, desired: DesiredBackend, plan: list[PlannedChange], *, log: Log) -> DeploymentReport:
        before = self._live_specs(desired)
        outputs_file = self.project.client_dir(self.environment.name) / "amplify_outputs.json"
        previous_outputs = outputs_file.stat().st_mtime_ns if outputs_file.is_file() else None
        command = self.deploy_command()
        log(f"Running {' '.join(command)}")
        finished = run_streamed(command, self.project.root, self.command_environment(), log)
        status, outputs = self._stack_status()
        if finished.returncode != 0 or status not in SUCCEEDED:
            raise self._deployment_failure(finished.returncode, status, finished.output)
        if not outputs_file.is_file() or outputs_file.stat().st_mtime_ns == previous_outputs:
            raise DeploymentError(
                f"ampx reported success for environment '{self.environment.name}' but wrote no new {outputs_file}.",
                "Run the deployment again; if it persists, run the ampx command above by hand to see why.",
            )
        self._api_id = outputs.get("awsAppsyncApiId") or None
        report = DeploymentReport()
        after = self._live_specs(desired)
        for model in sorted(desired.tables):
            name = self.table_name(model)
            if before.get(model) is None:
                action = "created"
            elif after.get(model) is not None and before[model] != after[model]:
                action = "updated"
            else:
                action = "unchanged"
            report.changes.append(TableChange(model, name, action))
        return report

    def _live_specs(self, desired: DesiredBackend) -> dict[str, Any]:
        self._api_id = None
        if self.deployed_api_id() is None:  # not deployed yet: no tables
            return {}
        return {model: live.spec if live else None for model, live in self.live_tables(desired).items()}

    def _deployment_failure(self, returncode: int, status: str | None, output: str) -> AmpflowError:
        """What failed, from ampx's own error (aws_errors.FAILURES) and CloudFormation's failure events."""
        stack = self.stack_name()
        events, unread = [], ""
        if status is not None:
            try:
                with self._aws(f"Reading the events of stack {stack}"):
                    events = failed_events(self.client("cloudformation"), stack)
            except AmpflowError as error:  # the deployment's failure still matters more than its events
                unread = f"\n(CloudFormation's events could not be read: [{error.code}] {error.message})"
        reasons = [f"  - [{event.stack}] {event.describe()}" for event in events[:MAX_REASONS]]
        state = "does not exist" if status is None else f"is {status}"
        exit_note = f"ampx exited {returncode}" if returncode else "ampx exited 0 but the deployment did not succeed"
        said = ampx_error(output)
        table = "| stack | resource | type | status | reason |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {e.stack} | {e.logical_id} | {e.resource_type} | {e.status} | {e.reason} |" for e in events
        )
        message = (
            f"Deployment of environment '{self.environment.name}' failed: {exit_note}; stack {stack} {state}."
            + (f"\nampx reported {said.describe()}" if said else "")
            + ("\nCloudFormation reports:\n" + "\n".join(reasons) if reasons else "")
            + unread
        )
        row = said.row if said else (row_named("StackDeploymentFailed") if events else AMPX_FALLBACK)
        details = {"stack_status": str(status), "failed_events": table if events else "none recorded"}
        if said:
            details["ampx_error"] = said.describe()
        return self._ampx_failure(row, f"Deploying with `{' '.join(self.deploy_command()[:3])}`", message, details)

    def _ampx_failure(self, row: FailureRow, doing: str, message: str, details: dict[str, str] | None = None,
                      command: str | None = None) -> AmpflowError:
        """An ampx failure as `row` says, with this environment's place and stack in its resolution."""
        place = self.aws_place()
        context = Context(place.environment, place.where(), place.profile or "default", place.region, doing,
                          command or f"ampflow deploy {self.environment.name}", operation="the ampx command",
                          resource=f"Stack {self.stack_name()}", console=self.describe()["console"])
        return build(row, context, DeploymentError, message=message, details=details)

    def generate_client(self, desired: DesiredBackend, directory: Path, log: Log) -> list[Path]:
        """`ampx generate outputs` and `ampx generate graphql-client-code` for the deployed stack."""
        staging = directory.with_name(f".{directory.name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        stack = ["--stack", self.stack_name()]
        commands = [
            ["npx", "ampx", "generate", "outputs", *stack, "--out-dir", str(staging)],
            ["npx", "ampx", "generate", "graphql-client-code", *stack, "--out", str(staging / "graphql"),
             "--format", "graphql-codegen", "--statement-target", "graphql"],
        ]
        for command in commands:
            finished = run_streamed(command, self.project.root, self.command_environment(), log)
            if finished.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                said = ampx_error(finished.output)
                raise self._ampx_failure(
                    said.row if said else AMPX_FALLBACK, f"Generating the client with `{' '.join(command[:4])}`",
                    f"`{' '.join(command[:4])}` failed for environment '{self.environment.name}' (exit "
                    f"{finished.returncode}) reading stack {self.stack_name()}"
                    + (f": ampx reported {said.describe()}" if said else "; ampx printed no error of its own (its output "
                       "is in the run's log)") + ".",
                )
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
        return sorted(path for path in directory.rglob("*") if path.is_file())


def _outputs_file_value(directory: Path, key: str) -> str | None:
    """`auth.<key>` of the amplify_outputs.json ampx wrote for the environment, if any."""
    try:
        value = json.loads((directory / "amplify_outputs.json").read_text(encoding="utf-8")).get("auth", {}).get(key)
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None
