"""The sandbox and branch targets: real ampflow code, a fake `npx` playing ampx, moto playing AWS."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ampflow_dagster.branches import preview_environment
from ampflow_dagster.preview_registry import Preview, registered_previews, save_preview
from ampflow_dagster.errors import AmpflowError, DeploymentError, NotDeployed
from ampflow_dagster.staleness import DeployedState
from ampflow_dagster.workflow.deployment import deploy_backend, plan_deployment
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from ampflow_dagster.targets.aws import AwsSettings

from cli import ampflow
from cloud import API_IDS, Cloud
from conftest import LONG_BRANCH, App, failure_text, materialized
from fakes.dynamodb_proxy import FaultProxy

def test_sandbox_deploys_with_ampx_and_tables_come_from_the_stack(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox")
    assets = materialized(app.materialize("development", instance))
    deploy_call = cloud.calls()[0]
    assert deploy_call["argv"][:5] == ["ampx", "sandbox", "--once", "--identifier", "devbox"]
    assert deploy_call["argv"][5:] == ["--outputs-out-dir", str(app.root / "clients" / "development")]
    assert Path(deploy_call["cwd"]) == app.root
    assert assets["backend_deployment"]["deployment"] == "deployed" and assets["backend_deployment"]["tables_created"] == 5
    assert cloud.stack_name("sandbox") in assets["backend_deployment"]["console"]
    assert assets["verified_tables"]["table_count"] == 5
    todos = cloud.client("dynamodb").scan(TableName=f"Todo-{API_IDS['sandbox']}-NONE")["Items"]
    assert sorted(item["content"]["S"] for item in todos)[0].startswith("[DEV] ")
    generate = [call["argv"][:3] for call in cloud.calls()[1:]]
    assert generate == [["ampx", "generate", "outputs"], ["ampx", "generate", "graphql-client-code"]]
    assert all(cloud.stack_name("sandbox") in call["argv"] for call in cloud.calls()[1:])
    outputs = json.loads((app.root / "clients" / "development" / "amplify_outputs.json").read_text())
    assert API_IDS["sandbox"] in outputs["data"]["url"]


def test_branch_deploy_runs_pipeline_deploy_with_ci(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("branch")
    app.materialize("production", instance, selection=["backend_deployment", "verified_tables"])
    call = cloud.calls()[0]
    assert call["argv"][:6] == ["ampx", "pipeline-deploy", "--branch", LONG_BRANCH, "--app-id", "d1a2b3c4d5e6f7"]
    assert call["env"]["CI"] == "1"
    assert cloud.client("cloudformation").describe_stacks(StackName=cloud.stack_name("branch"))["Stacks"]


def test_nonzero_exit_fails_the_deployment(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox", mode="exit_nonzero")
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "ampx exited 1" in text and "does not exist" in text


def test_exit_zero_without_a_stack_is_a_failure(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox", mode="report_failure_exit_zero")
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    assert not result.success
    assert "ampx exited 0 but the deployment did not succeed" in failure_text(result)


def test_a_deployment_that_writes_no_outputs_file_fails(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox", mode="no_outputs")
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    assert not result.success and "wrote no new" in failure_text(result)


def test_exit_zero_with_a_failed_stack_reports_cloudformations_reasons(app: App, cloud: Cloud) -> None:
    cloud.expect("sandbox", mode="report_failure_exit_zero")
    workspace = EnvironmentWorkspace.open(app.project, "development", AwsSettings())
    workspace.desired()
    stack = cloud.stack_name("sandbox")
    stack_id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/1"
    nested_id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}-data-ABC/2"
    cloudformation = workspace.target.client("cloudformation")
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)

    def event(stack_arn, logical, kind, status, reason, seconds, physical=None):
        return {"StackId": stack_arn, "EventId": f"{logical}-{seconds}", "StackName": stack, "LogicalResourceId": logical,
                "PhysicalResourceId": physical or logical, "ResourceType": kind, "ResourceStatus": status,
                "ResourceStatusReason": reason, "Timestamp": start + timedelta(seconds=seconds)}

    with Stubber(cloudformation) as stubber:
        for _ in ("plan", "tables before the deployment"):
            stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {stack} does not exist")
        stubber.add_response("describe_stacks", {"Stacks": [
            {"StackName": stack, "StackId": stack_id, "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": start}]})
        stubber.add_response("describe_stack_events", {"StackEvents": [
            event(stack_id, stack, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", "", 9, stack_id),
            event(stack_id, "data", "AWS::CloudFormation::Stack", "CREATE_FAILED",
                  "Embedded stack data was not successfully created", 8, nested_id),
            event(stack_id, stack, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated", 0, stack_id),
        ]})
        stubber.add_response("describe_stack_events", {"StackEvents": [
            event(nested_id, "TodoTable", "AWS::DynamoDB::Table", "CREATE_FAILED", "Resource creation cancelled", 7),
            event(nested_id, "GraphQLAPI", "AWS::AppSync::GraphQLApi", "CREATE_FAILED",
                  "Schema Creation Status is FAILED with details: Unknown type Todoo", 5),
        ]})
        with pytest.raises(DeploymentError) as raised:
            deploy_backend(workspace, deployed=DeployedState(), force=False, allow_destructive=False, log=lambda _: None)
    message = str(raised.value)
    assert "ampx exited 0 but the deployment did not succeed" in message and "ROLLBACK_COMPLETE" in message
    reasons = [line for line in message.splitlines() if line.startswith("  - ")]
    assert "Unknown type Todoo" in reasons[0]  # the root cause comes first, the cascades after
    assert any("Embedded stack data" in line for line in reasons[1:])
    assert "Unknown type Todoo" in raised.value.details["failed_events"]


def test_missing_credentials_name_profile_and_region(app: App, instance, cloud: Cloud, monkeypatch) -> None:
    cloud.expect("sandbox")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_PROFILE", "team-dev")
    (cloud.root / "no-config").write_text("[profile team-dev]\nregion = us-east-1\n")
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    text = failure_text(result)
    assert "No usable AWS credentials" in text and "profile 'team-dev', region us-east-1" in text
    assert cloud.calls() == []  # ampx never ran


def test_unbootstrapped_region_says_to_bootstrap(app: App, instance, cloud: Cloud) -> None:
    cloud.expect("sandbox")
    cloud.client("ssm").delete_parameter(Name="/cdk-bootstrap/hnb659fds/version")
    result = app.materialize("development", instance, selection=["backend_deployment"], raise_on_error=False)
    assert "npx cdk bootstrap aws://123456789012/us-east-1" in failure_text(result)
    assert cloud.calls() == []


SECRET_API_KEY = "da2-ampflowsecretapikeyzz9"


def test_secrets_never_reach_logs_metadata_or_cli_output(app: App, instance, cloud: Cloud, tmp_path: Path) -> None:
    cloud.expect("sandbox")
    spec = json.loads(cloud.spec_file.read_text())
    cloud.spec_file.write_text(json.dumps({**spec, "api_key": SECRET_API_KEY}))
    result = app.materialize("development", instance)
    assert SECRET_API_KEY in (app.root / "clients" / "development" / "amplify_outputs.json").read_text()
    logged = "\n".join(str(record) for record in instance.all_logs(result.run_id))
    assert "Deployment completed" in logged  # ampx's output did stream into the run
    for secret in (SECRET_API_KEY, "fake/secret/ampflow/test/key", "AKIAFAKEAMPFLOWTEST1", "FakeSessionTokenAmpflow"):
        assert secret not in logged
    (app.root / "amplify" / "data" / "resource.ts").write_text(
        (app.root / "amplify" / "data" / "resource.ts").read_text() + "\n// force a deployment\n")
    run = ampflow(app.root, "dev", dagster_home=tmp_path / "home")
    assert run.returncode == 0, run.stderr
    for secret in (SECRET_API_KEY, "fake/secret/ampflow/test/key", "AKIAFAKEAMPFLOWTEST1", "FakeSessionTokenAmpflow"):
        assert secret not in run.stdout + run.stderr


def test_destroy_is_refused_for_production_and_runs_sandbox_delete(app: App, instance, cloud: Cloud, tmp_path: Path) -> None:
    cloud.expect("sandbox")
    app.materialize("development", instance, selection=["backend_deployment"])
    refused = ampflow(app.root, "destroy", "production", "--yes", dagster_home=tmp_path / "home")
    assert refused.returncode == 2 and "Refusing to destroy environment 'production': it is protected" in refused.stderr
    deleted = ampflow(app.root, "destroy", "development", "--yes", dagster_home=tmp_path / "home")
    assert deleted.returncode == 0, deleted.stderr
    assert cloud.calls()[-1]["argv"] == ["ampx", "sandbox", "delete", "--yes", "--identifier", "devbox"]
    stacks = cloud.client("cloudformation").describe_stacks()["Stacks"]
    assert cloud.stack_name("sandbox") not in [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]


def test_a_sandbox_preview_is_torn_down_with_sandbox_delete_and_its_partition_removed(app: App, cloud: Cloud, tmp_path: Path) -> None:
    config = app.root / "ampflow.toml"
    config.write_text(config.read_text() + '\n[previews]\nbranches = ["feature/*"]\ntarget = "sandbox"\n')
    cloud.expect("sandbox")
    name = preview_environment("feature/gone")
    save_preview(app.project.state_dir, Preview(name, "feature/gone", "0" * 40, created=time.time(), gone_since=time.time()))
    status = ampflow(app.root, "status", dagster_home=tmp_path / "home")
    assert f"{name}: branch feature/gone at 000000000000, added " in status.stdout, status.stderr
    assert "ago, not deployed yet\n    its branch is gone (" in status.stdout and "ago): torn down in 2" in status.stdout  # of 1d
    deleted = ampflow(app.root, "destroy", name, "--yes", dagster_home=tmp_path / "home")
    assert deleted.returncode == 0, deleted.stderr
    assert cloud.calls()[-1]["argv"] == ["ampx", "sandbox", "delete", "--yes", "--identifier", name]
    assert registered_previews(app.project.state_dir) == {}
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        assert set(instance.get_dynamic_partitions("environments")) == {"development", "production"}
    gone = ampflow(app.root, "destroy", name, "--yes", dagster_home=tmp_path / "home")
    assert gone.returncode == 2 and f"Unknown environment '{name}'" in gone.stderr


# "Not deployed" is what AWS answers, never what a failed read is taken for.

DENIED = "User: arn:aws:sts::123456789012:assumed-role/ci/deployer is not authorized to perform: {}"
PLANNING_FAILURES = {
    "stack-throttled": ("cloudformation", "describe_stacks", "Throttling", "Rate exceeded", 400, "Throttled"),
    "stack-500": ("cloudformation", "describe_stacks", "InternalFailure", "An internal error occurred", 500, "AwsRequestFailed"),
    "stack-denied": ("cloudformation", "describe_stacks", "AccessDenied", DENIED.format("cloudformation:DescribeStacks"),
                     403, "AccessDenied"),
    "table-denied": ("dynamodb", "describe_table", "AccessDeniedException", DENIED.format("dynamodb:DescribeTable"),
                     400, "AccessDenied"),
    "table-500": ("dynamodb", "describe_table", "InternalServerError", "Internal server error", 500, "AwsRequestFailed"),
}


@pytest.mark.parametrize(("service", "operation", "aws_code", "aws_message", "status", "code"),
                         PLANNING_FAILURES.values(), ids=PLANNING_FAILURES)
def test_a_plan_that_could_not_be_read_stops_the_protected_deployment(
    app: App, instance, cloud: Cloud, service: str, operation: str, aws_code: str, aws_message: str, status: int, code: str,
) -> None:
    """Before: any failure reading the stack but throttling and denial read as "no stack yet": every table
    planned `create`, the destructive guard passed, no backup was taken, and ampx deployed production."""
    cloud.expect("branch")
    app.materialize("production", instance, selection=["backend_deployment"])  # the stack and its tables exist
    calls_before = len(cloud.calls())
    for run in (deploy_backend, plan_deployment):
        workspace = EnvironmentWorkspace.open(app.project, "production", AwsSettings())
        tables = len(workspace.desired().tables)
        logged: list[str] = []
        with Stubber(workspace.target.client(service)) as stubber:
            for _ in range(tables if operation == "describe_table" else 1):  # the tables are described concurrently
                stubber.add_client_error(operation, aws_code, aws_message, http_status_code=status)
            with pytest.raises(AmpflowError) as raised:
                if run is deploy_backend:
                    deploy_backend(workspace, deployed=DeployedState(), force=False, allow_destructive=False,
                                   log=logged.append)
                else:
                    plan_deployment(workspace)
        error = raised.value
        assert error.code == code, str(error)
        assert "environment 'production'" in error.message and aws_code in error.message
        assert not isinstance(error, NotDeployed) and isinstance(error.__cause__, ClientError)
        assert not any(line.startswith("Plan:") for line in logged)  # no plan was made, let alone a `create` one
    assert len(cloud.calls()) == calls_before  # ampx never ran
    assert cloud.client("dynamodb").list_backups()["BackupSummaries"] == []


def test_a_missing_stack_plans_every_table_as_new(app: App, cloud: Cloud) -> None:
    workspace = EnvironmentWorkspace.open(app.project, "production", AwsSettings())
    tables = sorted(workspace.desired().tables)
    plan = plan_deployment(workspace)  # moto's CloudFormation answers "Stack with id ... does not exist"
    assert sorted(change.model for change in plan) == tables and {change.action for change in plan} == {"create"}
    with pytest.raises(NotDeployed) as raised:
        workspace.target.api_id()
    assert raised.value.code == "NotDeployed" and f"stack {cloud.stack_name('branch')} does not exist" in raised.value.message

    stack = cloud.stack_name("branch")
    stack_id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/1"
    started = datetime(2026, 11, 1, tzinfo=timezone.utc)
    workspace = EnvironmentWorkspace.open(app.project, "production", AwsSettings())
    with Stubber(workspace.target.client("cloudformation")) as stubber:  # the first deployment is still creating it
        stubber.add_response("describe_stacks", {"Stacks": [
            {"StackName": stack, "StackId": stack_id, "StackStatus": "CREATE_IN_PROGRESS", "CreationTime": started}]})
        plan = workspace.target.plan(workspace.desired(), force=False)
    assert {change.action for change in plan} == {"create"} and len(plan) == len(tables)


def test_a_denied_stack_read_reaches_the_user_and_ampx_never_runs(app: App, instance, cloud: Cloud, tmp_path: Path) -> None:
    """The same through `ampflow plan` and `ampflow deploy`, with AWS's refusal on the wire (no Stubber)."""
    cloud.expect("branch")
    app.materialize("production", instance, selection=["backend_deployment"])
    calls_before = len(cloud.calls())
    with FaultProxy(cloud.endpoint) as proxy:
        proxy.refuse["DescribeStacks"] = (403, "AccessDenied", DENIED.format("cloudformation:DescribeStacks"))
        for command in ("plan", "deploy"):
            run = ampflow(app.root, command, "production", dagster_home=tmp_path / "home",
                          env={"AWS_ENDPOINT_URL": proxy.endpoint})
            shown = run.stdout + run.stderr
            assert run.returncode != 0 and "[AccessDenied]" in shown, shown
            assert "cloudformation:DescribeStacks" in shown and "<new API>" not in shown  # no all-`create` plan
    assert proxy.injected >= 2 and len(cloud.calls()) == calls_before
