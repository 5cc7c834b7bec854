"""The data API as the local GraphQL endpoint serves it, read from the cloud assembly at synthesis.

Amplify declares each resolver and pipeline function as an `AWS::AppSync::Resolver` /
`FunctionConfiguration` in the data API's nested stacks. Their VTL templates are assets (named by
their hash in the asset manifest) or inline `Fn::Join`s whose values (table name, API id, roles)
are CloudFormation expressions across nested stacks. We evaluate those the way CloudFormation
would, with placeholders (`@@apiId@@`, `@@region@@`, ...) for what only a deployment knows; the
endpoint puts the environment's values in when it starts. Templates are kept as Amplify generated
them, deduplicated by content, so the cached synthesis holds the whole API and an unchanged tree
never starts Node for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterator

from ampflow_dagster.synthesis.api_spec import (
    ACCOUNT, API_ID, GRAPHQL_URL, REGION, USER_POOL_CLIENT_ID, USER_POOL_ID, UNSUPPORTED_DATA_SOURCE,
    GraphqlApiSpec, Unsupported,
)
from ampflow_dagster.synthesis.cloud_assembly import ASSET_HASH, NESTED_STACK, CloudAssembly, StackTemplate

RESOLVER = "AWS::AppSync::Resolver"
FUNCTION = "AWS::AppSync::FunctionConfiguration"
DATA_SOURCE = "AWS::AppSync::DataSource"
API = "AWS::AppSync::GraphQLApi"
TABLE_TYPES = ("Custom::AmplifyDynamoDBTable", "AWS::DynamoDB::Table")
EMPTY_RESPONSE = "$util.toJson({})"
BATCH_OR_TRANSACT = re.compile(r"\b(BatchGetItem|BatchPutItem|BatchDeleteItem|TransactGetItems|TransactWriteItems)\b")


class CannotEvaluate(Exception):
    """An expression the local endpoint has no value for."""


def graphql_api_spec(assembly: CloudAssembly) -> GraphqlApiSpec | None:
    """The assembly's data API as the local endpoint serves it; None without a data API or schema."""
    schema_file = assembly.transformed_schema()
    if schema_file is None:
        return None
    data_templates = {id(t) for stack in assembly.data_stacks() for t in stack.tree()}
    extraction = _Extraction(assembly)
    for stack in _StackNode(assembly.root, None, assembly.stack_name).tree():
        if id(stack.template) in data_templates:
            extraction.read(stack)
    return extraction.spec(schema_file.read_text(encoding="utf-8"))


class _Extraction:
    def __init__(self, assembly: CloudAssembly) -> None:
        self.assembly = assembly
        self.templates: dict[str, str] = {}
        self.data_sources: list[dict[str, str]] = []
        self.functions: list[dict[str, Any]] = []
        self.resolvers: list[dict[str, Any]] = []
        self.unsupported: list[Unsupported] = []
        self.authorization: tuple[str, list[str]] = ("", [])

    def read(self, stack: _StackNode) -> None:
        for logical_id, resource in stack.template.body.get("Resources", {}).items():
            kind, properties = resource.get("Type"), resource.get("Properties", {})
            try:
                if kind == API:
                    self._api(stack, properties)
                elif kind == DATA_SOURCE:
                    self._data_source(stack, properties)
                elif kind == FUNCTION:
                    self._function(stack, logical_id, properties)
                elif kind == RESOLVER:
                    self._resolver(stack, properties)
            except CannotEvaluate as error:
                self.unsupported.append(Unsupported(f"{stack.path}/{logical_id}", f"cannot be evaluated locally: {error}"))
            except (KeyError, IndexError, TypeError, ValueError) as error:  # a shape Amplify does not generate
                self.unsupported.append(Unsupported(f"{stack.path}/{logical_id}", f"{kind} not understood locally: {error!r}"))

    def spec(self, schema: str) -> GraphqlApiSpec:
        default, additional = self.authorization
        unsupported = list(self.unsupported)
        if "AWS_IAM" in (default, *additional):
            unsupported.append(Unsupported("AWS_IAM authorization", "not served locally: no identity pool runs, and an unchecked IAM caller would be granted everything"))
        for digest, text in sorted(self.templates.items()):
            operations = sorted(set(BATCH_OR_TRANSACT.findall(text)))
            if operations:
                unsupported.append(Unsupported(f"template {digest[:12]}", f"uses {', '.join(operations)}, which the simulator's DynamoDB data source does not implement"))
        return GraphqlApiSpec(
            schema=schema,
            default_authorization_type=default,
            additional_authorization_types=additional,
            data_sources=sorted(self.data_sources, key=lambda source: source["name"]),
            functions=sorted(self.functions, key=lambda function: function["name"]),
            resolvers=sorted(self.resolvers, key=lambda resolver: (resolver["typeName"], resolver["fieldName"])),
            templates=self.templates,
            unsupported=sorted(unsupported, key=lambda entry: entry.subject),
        )

    def _api(self, stack: _StackNode, properties: dict[str, Any]) -> None:
        additional = [provider.get("AuthenticationType") for provider in properties.get("AdditionalAuthenticationProviders", [])]
        self.authorization = (str(properties.get("AuthenticationType", "")), [str(mode) for mode in additional])

    def _data_source(self, stack: _StackNode, properties: dict[str, Any]) -> None:
        evaluated = stack.evaluate({key: value for key, value in properties.items() if key != "ServiceRoleArn"})
        source = {"name": evaluated["Name"], "type": evaluated["Type"]}
        if evaluated["Type"] == "AMAZON_DYNAMODB":
            source["tableName"] = evaluated["DynamoDBConfig"]["TableName"]
        elif evaluated["Type"] != "NONE":
            why = "an a.handler.function (Lambda) resolver" if evaluated["Type"] == "AWS_LAMBDA" else f"a {evaluated['Type']} data source"
            self.unsupported.append(Unsupported(f"data source {evaluated['Name']}", f"{why} does not run on the local endpoint yet"))
        self.data_sources.append(source)

    def _function(self, stack: _StackNode, logical_id: str, properties: dict[str, Any]) -> None:
        name = function_key(stack, logical_id)
        if _javascript(properties):
            reason = f"pipeline function {properties.get('Name', logical_id)} uses the APPSYNC_JS runtime (a.handler.custom); the local endpoint runs VTL only"
            self.unsupported.append(Unsupported(f"function {properties.get('Name', logical_id)}", reason))
            self.functions.append({"name": name, "dataSourceName": UNSUPPORTED_DATA_SOURCE, **self._failing(reason)})
            return
        self.functions.append({
            "name": name,
            "dataSourceName": stack.evaluate(properties["DataSourceName"]),
            "request": self._template(stack, properties, "Request"),
            "response": self._template(stack, properties, "Response"),
        })

    def _resolver(self, stack: _StackNode, properties: dict[str, Any]) -> None:
        type_name, field_name = properties["TypeName"], properties["FieldName"]
        resolver: dict[str, Any] = {"typeName": type_name, "fieldName": field_name}
        if _javascript(properties):
            reason = f"{type_name}.{field_name} uses an APPSYNC_JS resolver (a.handler.custom); the local endpoint runs VTL only"
            self.unsupported.append(Unsupported(f"{type_name}.{field_name}", reason))
            self.resolvers.append({**resolver, "kind": "UNIT", "dataSourceName": UNSUPPORTED_DATA_SOURCE, **self._failing(reason)})
            return
        resolver["kind"] = properties.get("Kind", "UNIT")
        if resolver["kind"] == "PIPELINE":
            resolver["functions"] = stack.evaluate(properties["PipelineConfig"]["Functions"])
        else:
            resolver["dataSourceName"] = stack.evaluate(properties["DataSourceName"])
        resolver["request"] = self._template(stack, properties, "Request")
        resolver["response"] = self._template(stack, properties, "Response")
        self.resolvers.append(resolver)

    def _failing(self, reason: str) -> dict[str, str]:
        return {"request": self._keep(f"$util.error({json.dumps(reason)}, \"Unsupported\")"), "response": self._keep(EMPTY_RESPONSE)}

    def _template(self, stack: _StackNode, properties: dict[str, Any], which: str) -> str | None:
        """The hash of a resolver's or function's request or response template (an asset, or inline and evaluated)."""
        location = properties.get(f"{which}MappingTemplateS3Location")
        if location is not None:
            digests = [d for d in ASSET_HASH.findall(json.dumps(location)) if d in self.assembly.asset_paths]
            if not digests:
                raise CannotEvaluate(f"{which.lower()} template {json.dumps(location)[:120]} is not an asset of the assembly")
            path = self.assembly.directory / self.assembly.asset_paths[digests[0]]
            return self._keep(path.read_text(encoding="utf-8"))
        inline = properties.get(f"{which}MappingTemplate")
        return None if inline is None else self._keep(str(stack.evaluate(inline)))

    def _keep(self, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        self.templates[digest] = text
        return digest


def _javascript(properties: dict[str, Any]) -> bool:
    runtime = properties.get("Runtime") or {}
    return runtime.get("Name") == "APPSYNC_JS" or "Code" in properties or "CodeS3Location" in properties


def function_key(stack: _StackNode, logical_id: str) -> str:
    """A pipeline function's name for the simulator: AppSync's own function names may repeat across stacks."""
    name = stack.template.body["Resources"][logical_id].get("Properties", {}).get("Name", logical_id)
    return f"{name}-{hashlib.sha1(f'{stack.path}/{logical_id}'.encode()).hexdigest()[:8]}"


class _StackNode:
    """A stack of the tree with its parent, so expressions evaluate as CloudFormation would after deploying.

    The table reader (cloud_assembly) keeps deploy-time values as tokens to recognise model names;
    here they become the placeholders, and `Fn::GetAtt` on API, tables, data sources, functions and
    nested-stack outputs is answered too.
    """

    def __init__(self, template: StackTemplate, parent: _StackNode | None, logical_id: str) -> None:
        self.template, self.parent, self.logical_id = template, parent, logical_id
        self.path = f"{parent.path}/{logical_id}" if parent else logical_id
        self._parameters: dict[str, Any] | None = None
        nested_ids = [lid for lid, r in template.body.get("Resources", {}).items() if r.get("Type") == NESTED_STACK]
        # cloud_assembly nests children in the order of their resources
        self.children = {lid: _StackNode(child, self, lid) for lid, child in zip(nested_ids, template.nested)}

    def tree(self) -> Iterator[_StackNode]:
        yield self
        for child in self.children.values():
            yield from child.tree()

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.body.get("Resources", {})

    def parameters(self) -> dict[str, Any]:
        if self._parameters is None:
            self._parameters = {}
            if self.parent is not None:
                passed = self.parent.resources[self.logical_id].get("Properties", {}).get("Parameters", {})
                self._parameters = {name: self.parent.evaluate(value) for name, value in passed.items()}
        return self._parameters

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.evaluate(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.reference(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attribute(name, attribute)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self.evaluate(parts))
            if function == "Fn::Select":
                index, items = argument
                return self.evaluate(items)[int(self.evaluate(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.evaluate(text)).split(separator)
            if function == "Fn::Sub":
                return self.substitute(argument)
            if function == "Fn::If":
                condition, when_true, when_false = argument
                return self.evaluate(when_true if self.condition(condition) else when_false)
            if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self.condition_value(value)
            if function == "Fn::ImportValue":
                return self.imported(self.evaluate(argument))
            if function.startswith("Fn::"):
                raise CannotEvaluate(f"{function} in {self.path}")
        return {key: self.evaluate(item) for key, item in value.items()}

    def condition(self, name: str) -> bool:
        return bool(self.condition_value(self.template.body.get("Conditions", {})[name]))

    def condition_value(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            (function, argument), = expression.items()
            if function == "Fn::Equals":
                return str(self.condition_value(argument[0])) == str(self.condition_value(argument[1]))
            if function == "Fn::Not":
                return not self.condition_value(argument[0])
            if function == "Fn::And":
                return all(self.condition_value(item) for item in argument)
            if function == "Fn::Or":
                return any(self.condition_value(item) for item in argument)
            if function == "Condition":
                return self.condition(argument)
        return self.evaluate(expression)

    def reference(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::StackName": self.logical_id, "AWS::NoValue": None}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters():
            return self.parameters()[name]
        declared = self.template.body.get("Parameters", {}).get(name)
        if declared is not None:
            if "Default" in declared:
                return declared["Default"]
            raise CannotEvaluate(f"parameter {name} of {self.path} has no value")
        resource = self.resources.get(name)
        if resource is None:
            raise CannotEvaluate(f"Ref {name} in {self.path}")
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        if kind in TABLE_TYPES:
            return self.evaluate(properties.get("tableName") or properties.get("TableName"))
        if kind == API:
            return f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/{API_ID}"
        if kind == "AWS::Cognito::UserPool":
            return USER_POOL_ID  # the environment's pool in the emulator, not the synthesized one
        if kind == "AWS::Cognito::UserPoolClient":
            return USER_POOL_CLIENT_ID
        if kind in ("AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Cognito::IdentityPool"):
            # Only IAM callers and Lambda data sources read these, and the endpoint serves neither.
            return f"{name}-local"
        raise CannotEvaluate(f"Ref {name} ({kind}) in {self.path}")

    def attribute(self, name: str, attribute: str) -> Any:
        resource = self.resources.get(name)
        if resource is None:
            raise CannotEvaluate(f"Fn::GetAtt {name}.{attribute} in {self.path}: no such resource")
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        if kind == NESTED_STACK and attribute.startswith("Outputs."):
            child = self.children[name]
            return child.evaluate(child.template.body["Outputs"][attribute.removeprefix("Outputs.")]["Value"])
        api_arn = f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/{API_ID}"
        if kind == API and attribute in ("ApiId", "Arn", "GraphQLUrl"):
            return {"ApiId": API_ID, "Arn": api_arn, "GraphQLUrl": GRAPHQL_URL}[attribute]
        if kind == DATA_SOURCE and attribute in ("Name", "DataSourceArn"):
            source = self.evaluate(properties["Name"])
            return source if attribute == "Name" else f"{api_arn}/datasources/{source}"
        if kind == FUNCTION and attribute == "FunctionId":
            return function_key(self, name)
        if kind in TABLE_TYPES:
            table = self.reference(name)
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
            values = {"TableArn": arn, "Arn": arn, "TableName": table, "StreamArn": f"{arn}/stream/local", "TableStreamArn": f"{arn}/stream/local"}
            if attribute in values:
                return values[attribute]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{self.reference(name)}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.reference(name)}"
        raise CannotEvaluate(f"Fn::GetAtt {name}.{attribute} ({kind}) in {self.path}")

    def substitute(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.evaluate(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in values:
                return str(values[token])
            if "." in token and not token.startswith("AWS::"):
                return str(self.attribute(*token.split(".", 1)))
            return str(self.reference(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def imported(self, export_name: Any) -> Any:
        root = self
        while root.parent is not None:
            root = root.parent
        for stack in root.tree():
            for output in stack.template.body.get("Outputs", {}).values():
                export = output.get("Export")
                if export and stack.evaluate(export["Name"]) == export_name:
                    return stack.evaluate(output["Value"])
        raise CannotEvaluate(f"Fn::ImportValue {export_name} (exported by no stack of the backend)")
