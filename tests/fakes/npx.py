"""A stand-in for `npx ampx` in tests: records its arguments and environment, plays ampx's part.

It deploys what the test's spec file describes as a CloudFormation stack in the moto
server named by AWS_ENDPOINT_URL (tables and an awsAppsyncApiId output), writes
amplify_outputs.json, and exits as the spec's mode says. Like ampx, it names the stack from
its own arguments (sandbox: package.json's name and --identifier; pipeline-deploy: --app-id
and --branch) with Amplify's own naming function, and `generate` fails for a stack that does
not exist: a stack name of ampflow's that differs from Amplify's fails the test.
"""

import getpass
import json
import os
import sys
from pathlib import Path

import boto3

from amplify_names import amplify_stack_name


def option(arguments, name):
    return arguments[arguments.index(name) + 1] if name in arguments else None


def deployed_stack_name(command):
    """The root stack ampx deploys (or deletes) for these arguments, named as Amplify names it."""
    if command[:1] == ["pipeline-deploy"]:
        return amplify_stack_name(Path.cwd(), option(command, "--app-id"), option(command, "--branch"), "branch")
    namespace = json.loads(Path("package.json").read_text())["name"]
    return amplify_stack_name(Path.cwd(), namespace, option(command, "--identifier") or getpass.getuser(), "sandbox")


def stack_exists(cloudformation, name):
    stacks = cloudformation.describe_stacks()["Stacks"]
    return any(stack["StackName"] == name and stack["StackStatus"] != "DELETE_COMPLETE" for stack in stacks)


def main() -> int:
    arguments = sys.argv[1:]
    spec = json.loads(Path(os.environ["FAKE_AMPX_SPEC"]).read_text())
    with open(os.environ["FAKE_AMPX_LOG"], "a") as log:
        log.write(json.dumps({
            "argv": arguments,
            "env": {key: os.environ.get(key) for key in ("CI", "AWS_REGION", "AWS_PROFILE")},
            "cwd": os.getcwd(),
        }) + "\n")
    if arguments[:1] != ["ampx"]:
        print(f"fake npx only plays ampx, not {arguments}", file=sys.stderr)
        return 2
    command = arguments[1:]
    mode = spec.get("mode", "success")
    cloudformation = boto3.client("cloudformation")
    if command[:1] == ["pipeline-deploy"] or (command[:1] == ["sandbox"] and "delete" not in command):
        print("[Sandbox] Deploying the backend...")
        if mode == "exit_nonzero":
            print("[SyntaxError] amplify/data/resource.ts: something is wrong", file=sys.stderr)
            return 1
        if mode == "ampx_error":  # ampx's own error report, as @aws-amplify/cli-core prints it
            print(spec["output"], file=sys.stderr)
            return spec.get("exit", 1)
        if mode == "report_failure_exit_zero":
            print("[CloudformationStackCreateFailed] The CloudFormation deployment has failed.")
            return 0  # what ampx sandbox --once can do
        resources = {
            f"{table['model']}Table": {"Type": "AWS::DynamoDB::Table", "Properties": table["properties"]}
            for table in spec["tables"]
        }
        template = {"Resources": resources, "Outputs": {"awsAppsyncApiId": {"Value": spec["api_id"]}}}
        stack_name = deployed_stack_name(command)
        if not stack_exists(cloudformation, stack_name):
            cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
            dynamodb = boto3.client("dynamodb")
            for table in spec["tables"]:  # moto's CloudFormation ignores PointInTimeRecoverySpecification; AWS's does not
                recovery = table["properties"].get("PointInTimeRecoverySpecification")
                if recovery:
                    dynamodb.update_continuous_backups(TableName=table["properties"]["TableName"],
                                                       PointInTimeRecoverySpecification=recovery)
        out_dir = option(command, "--outputs-out-dir")
        if out_dir and mode != "no_outputs":
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            Path(out_dir, "amplify_outputs.json").write_text(json.dumps(outputs(spec)))
        # Debug noise a real CLI might print: ampflow must not let it reach the run's logs.
        print(f"[debug] apiKey: {spec.get('api_key', '')}")
        print(f"[debug] credentials {os.environ.get('AWS_ACCESS_KEY_ID')} {os.environ.get('AWS_SECRET_ACCESS_KEY')} "
              f"{os.environ.get('AWS_SESSION_TOKEN')}")
        print("Deployment completed")
        return 0
    if command[:1] == ["generate"] and not stack_exists(cloudformation, option(command, "--stack")):
        print(f"[StackDoesNotExistError] Stack {option(command, '--stack')} does not exist.", file=sys.stderr)
        print("Resolution: Ensure the CloudFormation stack ID or Amplify App ID and branch specified are correct "
              "and exists.", file=sys.stderr)
        return 1
    if command[:2] == ["generate", "outputs"]:
        Path(option(command, "--out-dir")).mkdir(parents=True, exist_ok=True)
        Path(option(command, "--out-dir"), "amplify_outputs.json").write_text(json.dumps(outputs(spec)))
        return 0
    if command[:2] == ["generate", "graphql-client-code"]:
        out = Path(option(command, "--out"))
        out.mkdir(parents=True, exist_ok=True)
        (out / "queries.graphql").write_text("query ListTodos { listTodos { items { id } } }\n")
        return 0
    if command[:2] == ["sandbox", "delete"]:
        cloudformation.delete_stack(StackName=deployed_stack_name(command))
        print("Deleted")
        return 0
    print(f"fake ampx does not know {command}", file=sys.stderr)
    return 2


def outputs(spec):
    return {
        "version": "1.4",
        "data": {
            "url": f"https://{spec['api_id']}.appsync-api.us-east-1.amazonaws.com/graphql",
            "aws_region": "us-east-1",
            "api_key": spec.get("api_key", "da2-fakefakefakefakefakefake1"),
            "default_authorization_type": "API_KEY",
            "authorization_types": ["AWS_IAM"],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
