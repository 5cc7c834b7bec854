"""Errors a person can act on: one table from AWS's and ampx's failures to ampflow errors, each with a stable
code, what happened, what to do and its cause; refusals worded once; what the CLI prints and exits with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from ampflow_dagster.aws_errors import FAILURES, AwsPlace, Context, ampx_error, aws_error, build
from ampflow_dagster.cli.runner import step_failure_text
from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import (
    AutomationRefusedDestructiveChange,
    AwsError,
    DeploymentError,
    DestructiveChangeRefused,
    SeedError,
    TableNotSettled,
)
from ampflow_dagster.planning import PlannedChange, guard_destructive_changes
from ampflow_dagster.staleness import DeployedState
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.deployment import deploy_backend
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import REPO, App, failure_text
from cli import ampflow, quiet_dagster_home
from cloud import Cloud

PLACE = AwsPlace("development", "eu-west-1", profile="team-dev")


def client_error(code: str, message: str = "refused", operation: str = "DescribeTable") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def failure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The failed step's metadata values (code, resolution, cause)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and event.step_failure_data.user_failure_data:
            return {k: getattr(v, "value", v) for k, v in event.step_failure_data.user_failure_data.metadata.items()}
    return {}


# The table: AWS failures


@pytest.mark.parametrize(("error", "code", "cls"), [
    (NoCredentialsError(), "MissingCredentials", AwsError),
    (PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), "MissingCredentials", AwsError),
    (NoRegionError(), "MissingRegion", AwsError),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "EndpointUnreachable", AwsError),
    (ConnectTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"), "EndpointUnreachable", AwsError),
    (ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"), "EndpointUnreachable", AwsError),
    *[(client_error(code), "InvalidCredentials", AwsError) for code in (
        "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
        "InvalidSignatureException", "SignatureDoesNotMatch")],
    *[(client_error(code), "AccessDenied", AwsError) for code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")],
    (client_error("ThrottlingException"), "Throttled", AwsError),
    (client_error("ProvisionedThroughputExceededException"), "Throttled", AwsError),
    (client_error("ResourceNotFoundException", "Requested resource not found"), "ResourceNotFound", SeedError),
    (client_error("ValidationError", "Stack with id amplify-x does not exist", "DescribeStacks"), "ResourceNotFound", SeedError),
    (client_error("ResourceInUseException", "Table is being deleted"), "ResourceBusy", SeedError),
    (client_error("ValidationException", "One or more parameter values were invalid", "BatchWriteItem"), "AwsRequestFailed", SeedError),
])
def test_each_aws_failure_has_its_code_class_wording_and_cause(error: Exception, code: str, cls: type) -> None:
    mapped = aws_error(error, PLACE, doing="Seeding Todo-abc-NONE", command="ampflow seed development", default=SeedError)
    assert mapped.code == code and type(mapped) is cls
    assert mapped.__cause__ is error and mapped.cause_text and type(error).__name__ in mapped.cause_text
    assert "'development'" in mapped.message + mapped.resolution
    assert "team-dev" in mapped.message + mapped.resolution  # the profile (and region) it went to
    assert "ampflow seed development" in mapped.resolution or code == "NotBootstrapped"


def test_credentials_and_permissions_are_never_a_deployment_error() -> None:
    """`except DeploymentError` means "not deployed yet" in places; a refused request must never look like that."""
    for code in ("ExpiredToken", "AccessDeniedException", "UnrecognizedClientException"):
        mapped = aws_error(client_error(code), PLACE, doing="Reading stack s", command="ampflow deploy development")
        assert not isinstance(mapped, DeploymentError)


def test_every_row_fills_its_templates_and_names_environment_and_command() -> None:
    context = Context("staging", "endpoint http://127.0.0.1:4566", "default", "eu-west-1", "Reading table T",
                      "ampflow deploy staging", "X: y", "DescribeTable", "Table T", "https://console/stack", "123456789012")
    codes = set()
    for row in FAILURES:
        error = build(row, context, DeploymentError)
        codes.add(error.code)
        assert "{" not in error.message + error.resolution, row.code
        assert "staging" in error.message + error.resolution, row.code
        assert "ampflow deploy staging" in error.resolution, row.code
    assert {"MissingCredentials", "InvalidCredentials", "AccessDenied", "EndpointUnreachable", "Throttled",
            "ResourceNotFound", "NotBootstrapped", "BackendCodeError", "StackDeploymentFailed"} <= codes
    assert len(codes) == len(FAILURES)  # a code names one row


# The table: ampx's own errors, as @aws-amplify/cli-core prints them

EXPIRED = textwrap.dedent("""\
    [Sandbox] Deploying the backend...
    [ExpiredTokenError] The security token included in the request is invalid.
      ∟ Caused by: [ExpiredToken] The security token included in the request is expired
    Resolution: Please update your AWS credentials. You can do this by running `aws configure` or by updating your AWS credentials file.
    """)


@pytest.mark.parametrize(("output", "name", "code"), [
    (EXPIRED, "ExpiredTokenError", "InvalidCredentials"),
    ("[BootstrapNotDetectedError] This AWS account and region has not been bootstrapped.", "BootstrapNotDetectedError", "NotBootstrapped"),
    ("[BootstrapDetectionError] Unable to detect CDK bootstrap stack due to permission issues.", "BootstrapDetectionError", "AccessDenied"),
    ("[CDKVersionMismatchError] Installed 'aws-cdk' is not compatible with installed 'aws-cdk-lib'.", "CDKVersionMismatchError", "AmpxToolchain"),
    ("[SyntaxError] Unable to build the Amplify backend definition.", "SyntaxError", "BackendCodeError"),
    ("[CloudFormationDeploymentError] The CloudFormation deployment has failed.", "CloudFormationDeploymentError", "StackDeploymentFailed"),
    # An error ampflow does not know, with a cause it does: the cause decides.
    ("[SomeNewError] It broke.\n  ∟ Caused by: [AccessDeniedError] The deployment role does not have sufficient permissions.",
     "AccessDeniedError", "AccessDenied"),
    ("[SomeNewError] It broke.", "SomeNewError", "AmpxFailed"),
])
def test_ampx_errors_map_to_codes(output: str, name: str, code: str) -> None:
    said = ampx_error(output)
    assert said is not None and said.name == name and said.row.code == code


def test_ampx_log_prefixes_are_not_errors() -> None:
    assert ampx_error("[Sandbox] Deploying the backend...\n[debug] apiKey: x\nDeployment completed") is None


def test_ampx_error_decides_the_deployment_failures_code(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox", mode="ampx_error")
    spec = json.loads(cloud.spec_file.read_text())
    cloud.spec_file.write_text(json.dumps({**spec, "output": EXPIRED}))
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    metadata = failure_metadata(result)
    assert metadata["code"] == "InvalidCredentials"
    assert "aws sso login --profile" in metadata["resolution"] and "ampflow deploy development" in metadata["resolution"]
    text = failure_text(result)
    assert "ampx exited 1" in text and "[ExpiredTokenError] The security token included in the request is invalid" in text
    assert "Please update your AWS credentials" in text  # ampx's own resolution is kept beside ours


# The bootstrap check: only a missing parameter means "not bootstrapped"


def test_access_denied_on_the_bootstrap_parameter_is_a_permissions_problem(app: App, cloud: Cloud) -> None:
    """Before: read as "not CDK-bootstrapped", with `cdk bootstrap` as the fix. Amplify's sandbox says credentials."""
    workspace = EnvironmentWorkspace.open(app.project, "development", AwsSettings())
    target = workspace.target
    denied = "User: arn:aws:sts::123456789012:assumed-role/dev/x is not authorized to perform: ssm:GetParameter"
    with Stubber(target.client("ssm")) as stubber:
        stubber.add_client_error("get_parameter", "AccessDeniedException", denied)
        with pytest.raises(AwsError) as raised:
            target.preflight(lambda _: None)
    error = raised.value
    assert error.code == "AccessDenied"
    assert "not CDK-bootstrapped" not in error.message and "cdk bootstrap" not in error.resolution
    assert "ssm:GetParameter" in error.message and "environment 'development'" in error.message
    assert "GetParameter" in error.resolution and "ampflow deploy development" in error.resolution
    assert isinstance(error.__cause__, ClientError)
    assert cloud.calls() == []


def test_any_other_bootstrap_read_failure_is_mapped_not_raised_raw(app: App, cloud: Cloud) -> None:
    """Before: the ClientError escaped preflight as it was (an "unexpected error" in the step)."""
    workspace = EnvironmentWorkspace.open(app.project, "development", AwsSettings())
    target = workspace.target
    with Stubber(target.client("ssm")) as stubber:
        stubber.add_client_error("get_parameter", "InternalServerError", "We encountered an internal error")
        with pytest.raises(DeploymentError) as raised:
            target.preflight(lambda _: None)
    assert raised.value.code == "AwsRequestFailed" and "InternalServerError" in raised.value.message
    assert isinstance(raised.value.__cause__, ClientError)


def test_a_missing_bootstrap_parameter_is_an_unbootstrapped_region(app: App, cloud: Cloud) -> None:
    cloud.client("ssm").delete_parameter(Name="/cdk-bootstrap/hnb659fds/version")
    workspace = EnvironmentWorkspace.open(app.project, "development", AwsSettings())
    with pytest.raises(DeploymentError) as raised:
        deploy_backend(workspace, deployed=DeployedState(), force=False, allow_destructive=False, log=lambda _: None)
    assert raised.value.code == "NotBootstrapped"
    assert "npx cdk bootstrap aws://123456789012/us-east-1" in raised.value.resolution
    assert isinstance(raised.value.__cause__, ClientError) and "ParameterNotFound" in (raised.value.cause_text or "")


def test_an_unreachable_local_endpoint_names_it(app: App, instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens on the discard port
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    metadata = failure_metadata(result)
    assert metadata["code"] == "EndpointUnreachable"
    assert "http://127.0.0.1:9" in failure_text(result) and "ampflow deploy development" in metadata["resolution"]
    assert metadata["cause"].startswith("EndpointConnectionError")


# Refusals, each worded once in its class


def test_destructive_change_refusals_are_classes_with_codes(app: App) -> None:
    config = load_config(app.project)
    losing = [PlannedChange("Todo", "Todo-abc-NONE", "replace", "key schema changed", items=12)]
    with pytest.raises(AutomationRefusedDestructiveChange) as automated:
        guard_destructive_changes(losing, config.environment("development"), allow_destructive=False, automated=True)
    assert automated.value.code == "AutomationRefusedDestructiveChange"
    assert "Automation refuses a destructive change to environment 'development'" in automated.value.message
    assert "Todo-abc-NONE (12 items)" in automated.value.message and "ampflow plan development" in automated.value.resolution
    with pytest.raises(DestructiveChangeRefused) as protected:
        guard_destructive_changes(losing, config.environment("production"), allow_destructive=False, automated=False)
    assert protected.value.code == "DestructiveChangeRefused"
    assert "Refusing to change protected environment 'production'" in protected.value.message
    assert "ampflow deploy production --allow-destructive" in protected.value.resolution
    assert guard_destructive_changes(losing, config.environment("production"), allow_destructive=True, automated=False) == losing


def test_a_job_pinned_to_another_environment_refuses_with_a_code(app: App, instance) -> None:
    job = app.definitions().resolve_job_def("amplify_prod")
    app.register(instance)
    result = job.execute_in_process(instance=instance, partition_key="development", raise_on_error=False)
    metadata = failure_metadata(result)
    assert metadata["code"] == "PinnedJobRefused"
    assert "amplify_dev" in metadata["resolution"] and "ampflow deploy development" in metadata["resolution"]


def test_a_table_that_will_not_settle_says_which_and_what_to_run() -> None:
    error = TableNotSettled("Todo-abc-NONE", 120, deleting=True).in_environment("development")
    assert error.code == "TableNotSettled" and "Todo-abc-NONE" in error.message and "'development'" in error.message
    assert "Todo-abc-NONE" in error.resolution and "`ampflow deploy development`" in error.resolution


# What the CLI prints and exits with


def run_ampflow(app: App, *arguments: str, tmp_path: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": os.pathsep.join([pythonpath, *filter(None, [os.environ.get("PYTHONPATH")])])} if pythonpath else None
    return ampflow(app.root, *arguments, dagster_home=quiet_dagster_home(tmp_path / "dagster_home"), env=env)


@pytest.mark.parametrize("command", [["status"], ["seed", "development"]])
def test_malformed_ampflow_toml_is_a_configuration_error_naming_file_and_line(app: App, tmp_path: Path, command: list[str]) -> None:
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text() + "\n[environments.development\nprefix = 1\n")
    run = run_ampflow(app, *command, tmp_path=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Error [ConfigurationError]" in run.stderr and str(config) in run.stderr
    line = re.search(r"at line (\d+)", run.stderr)
    assert line and config.read_text().splitlines()[int(line.group(1)) - 1].startswith("[environments.development")
    assert "Caused by: TOMLDecodeError" in run.stderr and "Traceback" not in run.stderr


def test_an_unknown_environment_exits_2_naming_the_known_ones(app: App, tmp_path: Path) -> None:
    run = run_ampflow(app, "seed", "staging", tmp_path=tmp_path)
    assert run.returncode == 2
    assert "Error [ConfigurationError]: Unknown environment 'staging'" in run.stderr
    assert "development" in run.stderr and "production" in run.stderr and "Traceback" not in run.stderr
    assert "Caused by" not in run.stderr  # a user's mistake, not a fault: no Python cause


def test_an_unexpected_error_in_a_step_shows_its_cause_frame_and_where_the_trace_is(app: App, tmp_path: Path) -> None:
    """The CLI's reporting of a fault inside a step; the fault is planted at interpreter start-up."""
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(textwrap.dedent("""\
        import ampflow_dagster.workflow.client as client

        def generate_client(workspace, log):
            raise KeyError("boom")

        client.generate_client = generate_client
        """))
    run = run_ampflow(app, "dev", tmp_path=tmp_path, pythonpath=str(plant))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "KeyError: 'boom'" in run.stderr
    assert f"{plant / 'sitecustomize.py'}:4, in generate_client" in run.stderr
    run_id = re.search(r"\(run ([0-9a-f]{8})", run.stdout)
    assert run_id and f"Runs → {run_id.group(1)}" in run.stderr
    assert "Traceback" not in run.stderr  # the trace is in the run's event log, not dumped on the terminal


def test_step_failure_text_of_a_real_failed_run() -> None:
    @dg.asset
    def broken() -> None:
        {"present": 1}["missing"]

    with dg.instance_for_test() as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        text = step_failure_text(failure.step_failure_data, result.run_id)
    assert text.startswith("unexpected error KeyError: 'missing'")
    assert f"{Path(__file__)}:" in text and "in broken" in text
    assert f"Runs → {result.run_id[:8]}" in text


def test_step_failure_text_of_an_ampflow_error_shows_its_code() -> None:
    from ampflow_dagster.defs.assets import reported_as_failure

    @dg.asset
    def refused() -> None:
        with reported_as_failure():
            raise aws_error(client_error("AccessDeniedException"), PLACE, doing="Reading table T",
                            command="ampflow deploy development")

    with dg.instance_for_test() as instance:
        result = dg.materialize([refused], instance=instance, raise_on_error=False)
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        text = step_failure_text(failure.step_failure_data, result.run_id)
        metadata = failure_metadata(result)
    assert text.startswith("[AccessDenied] Access denied for environment 'development'")
    assert metadata["cause"].startswith("ClientError") and metadata["code"] == "AccessDenied"


def test_no_from_none_is_left_in_ampflow() -> None:
    """A cause dropped with `from None` is a cause nobody can show; every raise keeps it."""
    offenders = [f"{path}:{number}" for path in (REPO / "ampflow_dagster").rglob("*.py")
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bfrom None\b", line) and not line.lstrip().startswith("#") and "never `from None`" not in line]
    assert offenders == []
