"""One CloudFormation evaluator serves the table reader (deploy-time values kept as tokens) and the
local endpoint's extraction (placeholders, and an error for what it cannot evaluate).

The assembly here is written by hand in the shapes Amplify's synthesis produces (nested stacks passing
parameters, outputs read across them, ARNs split apart), so each function's rule is checked on its own;
the tests on real syntheses (test_synthesis*, test_local_api) check the whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.synthesis.api_spec import ACCOUNT, API_ID, REGION
from ampflow_dagster.synthesis.cloud_assembly import Evaluator, JoinedTokens, Unresolved, read_cloud_assembly
from ampflow_dagster.synthesis.graphql_api import CannotEvaluate, EndpointPlaceholders

TABLE_ARN = {"Fn::GetAtt": ["TodoTable", "TableArn"]}
TABLE_NAME_FROM_ARN = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::Select": [5, {"Fn::Split": [":", TABLE_ARN]}]}]}]}

ROOT = {
    "Resources": {
        "Api": {"Type": "AWS::AppSync::GraphQLApi", "Properties": {"Name": "amplifyData"}},
        "Uploads": {"Type": "AWS::S3::Bucket"},
        "Data": {
            "Type": "AWS::CloudFormation::Stack",
            "Metadata": {"aws:asset:path": "data.nested.template.json"},
            # The bucket's ARN, as `bucket.grantWrite(fn)` on a function of the data stack passes it: a value the
            # endpoint has none for, which must reach only what reads it.
            "Properties": {"Parameters": {"apiId": {"Fn::GetAtt": ["Api", "ApiId"]}, "mode": "PAY_PER_REQUEST",
                                          "bucketArn": {"Fn::GetAtt": ["Uploads", "Arn"]}}},
        },
    },
    "Outputs": {
        "TableName": {"Value": {"Fn::GetAtt": ["Data", "Outputs.TableName"]}},
        "Mode": {"Value": {"Fn::GetAtt": ["Data", "Outputs.Mode"]}},
        "Shared": {"Value": "shared-value", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-shared"}}},
    },
}
DATA = {
    "Parameters": {"apiId": {"Type": "String"}, "mode": {"Type": "String"}, "env": {"Type": "String", "Default": "NONE"},
                   "bucketArn": {"Type": "String"}},
    "Conditions": {"OnDemand": {"Fn::Equals": [{"Ref": "mode"}, "PAY_PER_REQUEST"]}},
    "Resources": {
        "TodoTable": {
            "Type": "Custom::AmplifyDynamoDBTable",
            "Properties": {
                "tableName": {"Fn::Join": ["", ["Todo-", {"Ref": "apiId"}, "-", {"Ref": "env"}]]},
                "billingMode": {"Fn::If": ["OnDemand", "PAY_PER_REQUEST", "PROVISIONED"]},
                "sseSpecification": {"Fn::If": ["OnDemand", {"Ref": "AWS::NoValue"}, {"sseEnabled": True}]},
                "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
                "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
            },
        },
    },
    "Outputs": {
        "TableName": {"Value": TABLE_NAME_FROM_ARN},
        "Mode": {"Value": {"Fn::If": ["OnDemand", "on-demand", "provisioned"]}},
        "Sub": {"Value": {"Fn::Sub": ["${Prefix}-${AWS::Region}-${!Literal}", {"Prefix": {"Ref": "env"}}]}},
        "Imported": {"Value": {"Fn::ImportValue": "backend-shared"}},
    },
}


@pytest.fixture
def assembly(tmp_path: Path) -> Any:
    (tmp_path / "backend.template.json").write_text(json.dumps(ROOT))
    (tmp_path / "data.nested.template.json").write_text(json.dumps(DATA))
    manifest = {"artifacts": {"backend": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "backend.template.json", "stackName": "backend"}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return read_cloud_assembly(tmp_path, "backend")


def test_table_reader_keeps_deploy_time_values_as_tokens(assembly: Any) -> None:
    data = assembly.root.children["Data"]
    name = data.evaluate(DATA["Resources"]["TodoTable"]["Properties"]["tableName"])
    assert isinstance(name, JoinedTokens)
    assert name.parts[0] == "Todo-" and isinstance(name.parts[1], Unresolved) and name.parts[2:] == ["-", "NONE"]
    # a parameter the parent passes, a condition on it, and AWS::NoValue dropping the property
    properties = data.evaluate({key: value for key, value in DATA["Resources"]["TodoTable"]["Properties"].items() if key != "tableName"})
    assert properties["billingMode"] == "PAY_PER_REQUEST" and "sseSpecification" not in properties
    # an output read across the nested stack, evaluated in the child: the table's ARN is a token, so is its name
    outputs = assembly.outputs()
    assert outputs["Mode"] == "on-demand"
    assert isinstance(outputs["TableName"], Unresolved)


def test_endpoint_binding_evaluates_across_nested_stacks_with_placeholders(assembly: Any) -> None:
    evaluator = Evaluator(EndpointPlaceholders())
    data = assembly.root.children["Data"]
    outputs = DATA["Outputs"]
    assert evaluator.evaluate(data, outputs["TableName"]["Value"]) == f"Todo-{API_ID}-NONE"
    assert evaluator.evaluate(data, TABLE_ARN) == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Todo-{API_ID}-NONE"
    assert evaluator.evaluate(data, outputs["Sub"]["Value"]) == f"NONE-{REGION}-${{Literal}}"
    assert evaluator.evaluate(data, outputs["Imported"]["Value"]) == "shared-value"
    assert evaluator.evaluate(assembly.root, ROOT["Outputs"]["TableName"]["Value"]) == f"Todo-{API_ID}-NONE"


def test_endpoint_binding_refuses_what_it_cannot_evaluate(assembly: Any) -> None:
    evaluator = Evaluator(EndpointPlaceholders())
    data = assembly.root.children["Data"]
    with pytest.raises(CannotEvaluate, match="Fn::GetAtt Missing.Arn"):
        evaluator.evaluate(data, {"Fn::GetAtt": ["Missing", "Arn"]})
    with pytest.raises(CannotEvaluate, match="Fn::Base64"):
        evaluator.evaluate(data, {"Fn::Base64": "x"})
    with pytest.raises(CannotEvaluate, match="Fn::ImportValue nobody-exports-this"):
        evaluator.evaluate(data, {"Fn::ImportValue": "nobody-exports-this"})


def test_a_parameter_the_endpoint_cannot_evaluate_reaches_only_what_reads_it(assembly: Any) -> None:
    evaluator = Evaluator(EndpointPlaceholders())
    data = assembly.root.children["Data"]
    policy = {"Fn::Join": ["", [{"Ref": "bucketArn"}, "/*"]]}
    with pytest.raises(CannotEvaluate, match="Fn::GetAtt Uploads.Arn"):
        evaluator.evaluate(data, policy)
    # the same evaluator still answers every other parameter of the stack, before and after the failed one
    assert evaluator.evaluate(data, DATA["Resources"]["TodoTable"]["Properties"]["tableName"]) == f"Todo-{API_ID}-NONE"
    with pytest.raises(CannotEvaluate, match="Fn::GetAtt Uploads.Arn"):
        evaluator.evaluate(data, {"Ref": "bucketArn"})
    assert evaluator.evaluate(data, {"Fn::If": ["OnDemand", "yes", "no"]}) == "yes"


def test_a_condition_on_a_deploy_time_value_is_a_synthesis_error(assembly: Any) -> None:
    data = assembly.root.children["Data"]
    data.body["Conditions"]["OnApi"] = {"Fn::Equals": [{"Ref": "apiId"}, "x"]}
    with pytest.raises(SynthesisError, match="Condition OnApi in data.nested.template.json depends on a deploy-time value"):
        data.evaluate({"Fn::If": ["OnApi", 1, 2]})
