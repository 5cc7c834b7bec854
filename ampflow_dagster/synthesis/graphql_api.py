"""The data API as the local GraphQL endpoint serves it, read from the cloud assembly at synthesis.

Amplify declares each resolver and pipeline function as an `AWS::AppSync::Resolver` /
`FunctionConfiguration` in the data API's nested stacks. Their VTL templates are assets (named by
their hash in the asset manifest) or inline `Fn::Join`s whose values (table name, API id, roles)
are CloudFormation expressions across nested stacks. An `a.handler.custom` handler is APPSYNC_JS
code instead: the file the app wrote, kept as an asset, and Amplify's own pipeline resolver inline. We evaluate those the way CloudFormation
would, with placeholders (`@@apiId@@`, `@@region@@`, ...) for what only a deployment knows; the
endpoint puts the environment's values in when it starts. Templates are kept as Amplify generated
them, deduplicated by content, so the cached synthesis holds the whole API and an unchanged tree
never starts Node for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ampflow_dagster.synthesis.api_spec import (
    ACCOUNT, API_ID, GRAPHQL_URL, REGION, USER_POOL_CLIENT_ID, USER_POOL_ID,
    GraphqlApiSpec, Unsupported,
)
from ampflow_dagster.synthesis.cloud_assembly import ASSET_HASH, PLAIN_TABLE, Binding, CloudAssembly, Evaluator, StackTemplate, table_spec
from ampflow_dagster.tables.names import app_table_name

RESOLVER = "AWS::AppSync::Resolver"
FUNCTION = "AWS::AppSync::FunctionConfiguration"
DATA_SOURCE = "AWS::AppSync::DataSource"
API = "AWS::AppSync::GraphQLApi"
TABLE_TYPES = ("Custom::AmplifyDynamoDBTable", "AWS::DynamoDB::Table")
LAMBDA = "AWS::Lambda::Function"
BUNDLE_LIMIT_BYTES = 10 * 1024 * 1024  # a function bundle kept with the synthesis; larger is not run locally
BATCH_OR_TRANSACT = re.compile(r"\b(BatchGetItem|BatchPutItem|BatchDeleteItem|TransactGetItems|TransactWriteItems)\b")
BATCH_OR_TRANSACT_HELPERS = re.compile(r"\b(batchGet|batchPut|batchDelete|transactGet|transactWrite)\s*\(")
SOURCE_SUFFIXES = (".js", ".mjs", ".ts")


class CannotEvaluate(Exception):
    """An expression the local endpoint has no value for."""


def graphql_api_spec(assembly: CloudAssembly, sources: Path | None = None) -> GraphqlApiSpec | None:
    """The assembly's data API as the local endpoint serves it; None without a data API or schema.

    `sources` is the app's amplify/ folder: a JS handler is named by the file of it the app wrote.
    """
    schema_file = assembly.transformed_schema()
    if schema_file is None:
        return None
    extraction = _Extraction(assembly, sources)
    stacks = {id(stack): stack for data_stack in assembly.data_stacks() for stack in data_stack.tree()}
    for stack in stacks.values():
        extraction.read(stack)
    return extraction.spec(schema_file.read_text(encoding="utf-8"))


class _Extraction:
    def __init__(self, assembly: CloudAssembly, sources: Path | None) -> None:
        self.assembly = assembly
        self.sources = sources
        self.source_files: dict[str, str] | None = None
        self.templates: dict[str, str] = {}
        self.code: dict[str, dict[str, str]] = {}
        self.data_sources: list[dict[str, str]] = []
        self.functions: list[dict[str, Any]] = []
        self.resolvers: list[dict[str, Any]] = []
        self.unsupported: list[Unsupported] = []
        self.lambdas: dict[str, dict[str, Any]] = {}
        self.authorization: tuple[str, list[str]] = ("", [])
        self.app_tables: dict[str, dict[str, Any]] = {}
        data_stacks = {id(template) for data_stack in assembly.data_stacks() for template in data_stack.tree()}
        self.evaluator = Evaluator(EndpointPlaceholders(lambda stack: id(stack) in data_stacks, self._app_table))

    def evaluate(self, stack: StackTemplate, value: Any) -> Any:
        return self.evaluator.evaluate(stack, value)

    def read(self, stack: StackTemplate) -> None:
        for logical_id, resource in stack.all_resources.items():
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
                self.unsupported.append(Unsupported(f"{stack.logical_path}/{logical_id}", f"cannot be evaluated locally: {error}"))
            except (KeyError, IndexError, TypeError, ValueError) as error:  # a shape Amplify does not generate
                self.unsupported.append(Unsupported(f"{stack.logical_path}/{logical_id}", f"{kind} not understood locally: {error!r}"))

    def spec(self, schema: str) -> GraphqlApiSpec:
        default, additional = self.authorization
        unsupported = list(self.unsupported)
        if "AWS_IAM" in (default, *additional):
            unsupported.append(Unsupported("AWS_IAM authorization", "not served locally: no identity pool runs, and an unchecked IAM caller would be granted everything"))
        for digest, text in sorted(self.templates.items()):
            operations = sorted(set(BATCH_OR_TRANSACT.findall(text)))
            if operations:
                unsupported.append(Unsupported(f"template {digest[:12]}", f"uses {', '.join(operations)}, which the simulator's DynamoDB data source does not implement"))
        for module in sorted(self.code.values(), key=lambda module: module["file"]):
            operations = sorted(set(BATCH_OR_TRANSACT.findall(module["source"]) + BATCH_OR_TRANSACT_HELPERS.findall(module["source"])))
            if operations:
                unsupported.append(Unsupported(module["file"], f"uses {', '.join(operations)}, which the simulator's DynamoDB data source does not implement"))
        return GraphqlApiSpec(
            schema=schema,
            default_authorization_type=default,
            additional_authorization_types=additional,
            data_sources=sorted(self.data_sources, key=lambda source: source["name"]),
            functions=sorted(self.functions, key=lambda function: function["name"]),
            resolvers=sorted(self.resolvers, key=lambda resolver: (resolver["typeName"], resolver["fieldName"])),
            templates=self.templates,
            unsupported=sorted(unsupported, key=lambda entry: entry.subject),
            lambdas=self.lambdas,
            code=self.code,
            app_tables=self.app_tables,
        )

    def _api(self, stack: StackTemplate, properties: dict[str, Any]) -> None:
        additional = [provider.get("AuthenticationType") for provider in properties.get("AdditionalAuthenticationProviders", [])]
        self.authorization = (str(properties.get("AuthenticationType", "")), [str(mode) for mode in additional])

    def _data_source(self, stack: StackTemplate, properties: dict[str, Any]) -> None:
        evaluated = self.evaluate(stack, {key: value for key, value in properties.items() if key != "ServiceRoleArn"})
        source = {"name": evaluated["Name"], "type": evaluated["Type"]}
        if evaluated["Type"] == "AMAZON_DYNAMODB":
            source["tableName"] = evaluated["DynamoDBConfig"]["TableName"]
            if not source["tableName"]:
                reason = ("its table has no name the local environment knows (a table of the app's own CDK stack): "
                          "the local environment creates the data API's model tables only")
                source["unsupported"] = reason
                self.unsupported.append(Unsupported(f"data source {evaluated['Name']}", reason))
        elif evaluated["Type"] == "AWS_LAMBDA":
            key = str(evaluated["LambdaConfig"]["LambdaFunctionArn"]).rsplit(":function:", 1)[-1]
            reason = self._lambda(key)
            if reason is None:
                source["function"] = key
            else:
                source["unsupported"] = reason
                self.unsupported.append(Unsupported(f"data source {evaluated['Name']}", reason))
        elif evaluated["Type"] != "NONE":
            source["unsupported"] = f"a {evaluated['Type']} data source does not run on the local endpoint yet"
            self.unsupported.append(Unsupported(f"data source {evaluated['Name']}", source["unsupported"]))
        self.data_sources.append(source)

    def _app_table(self, stack: StackTemplate, logical_id: str, resource: dict[str, Any]) -> str:
        """The local name of a table the app's own stack declares, kept with its declaration to be made locally."""
        name = app_table_name(logical_id, API_ID)
        if name not in self.app_tables:
            self.app_tables[name] = asdict(table_spec(stack, logical_id, resource, model=logical_id)) | {"stack": stack.logical_path}
        return name

    def _lambda(self, key: str) -> str | None:
        """Keep the Lambda function behind an a.handler.function data source, to run in a child process; else why not."""
        if key in self.lambdas:
            return None
        found = [(stack, logical_id, resource.get("Properties", {})) for stack in self.assembly.root.tree()
                 for logical_id, resource in stack.resources(LAMBDA) if lambda_key(stack, logical_id) == key]
        if not found:
            return f"an a.handler.function (Lambda) resolver whose function ({key}) is not in the backend's stacks"
        stack, logical_id, properties = found[0]
        runtime = str(properties.get("Runtime", ""))
        if not runtime.startswith("nodejs"):
            return f"an a.handler.function (Lambda) resolver whose function {logical_id} runs {runtime or 'a container image'}; the local endpoint runs Node functions only"
        digests = [d for d in ASSET_HASH.findall(json.dumps(properties.get("Code"))) if d in self.assembly.asset_paths]
        bundle = self.assembly.directory / self.assembly.asset_paths[digests[0]] if digests else None
        if bundle is None or not bundle.is_dir():
            return f"an a.handler.function (Lambda) resolver whose function {logical_id} has no bundled code in the assembly"
        files = {path.relative_to(bundle).as_posix(): path for path in sorted(bundle.rglob("*")) if path.is_file() and path.suffix != ".map"}
        if sum(path.stat().st_size for path in files.values()) > BUNDLE_LIMIT_BYTES:
            return f"an a.handler.function (Lambda) resolver whose function {logical_id} bundles over {BUNDLE_LIMIT_BYTES // 2**20} MB"
        texts = {}
        for name, path in files.items():
            try:
                texts[name] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                return f"an a.handler.function (Lambda) resolver whose function {logical_id} bundles a binary file ({name})"
        environment = {}
        for name, value in ((properties.get("Environment") or {}).get("Variables") or {}).items():
            try:
                environment[name] = str(self.evaluate(stack, value))
            except CannotEvaluate as error:
                self.unsupported.append(Unsupported(f"function {logical_id}: variable {name}", f"left unset locally: {error}"))
        self.lambdas[key] = {
            "name": key, "functionName": logical_id, "runtime": runtime, "handler": str(properties.get("Handler", "index.handler")),
            "timeout": int(properties.get("Timeout", 3)), "environment": environment, "files": texts,
        }
        return None

    def _function(self, stack: StackTemplate, logical_id: str, properties: dict[str, Any]) -> None:
        function = {"name": function_key(stack, logical_id), "dataSourceName": self.evaluate(stack, properties["DataSourceName"])}
        if _javascript(properties):
            self.functions.append({**function, "code": self._code(stack, properties, f"{properties.get('Name', logical_id)}.js")})
            return
        function["request"] = self._template(stack, properties, "Request")
        function["response"] = self._template(stack, properties, "Response")
        self.functions.append(function)

    def _resolver(self, stack: StackTemplate, properties: dict[str, Any]) -> None:
        type_name, field_name = properties["TypeName"], properties["FieldName"]
        resolver: dict[str, Any] = {"typeName": type_name, "fieldName": field_name, "kind": properties.get("Kind", "UNIT")}
        if resolver["kind"] == "PIPELINE":
            resolver["functions"] = self.evaluate(stack, properties["PipelineConfig"]["Functions"])
        else:
            resolver["dataSourceName"] = self.evaluate(stack, properties["DataSourceName"])
        if _javascript(properties):
            resolver["code"] = self._code(stack, properties, f"{type_name}.{field_name}.js")
        else:
            resolver["request"] = self._template(stack, properties, "Request")
            resolver["response"] = self._template(stack, properties, "Response")
        self.resolvers.append(resolver)

    def _code(self, stack: StackTemplate, properties: dict[str, Any], name: str) -> str:
        """The hash of an APPSYNC_JS resolver's or function's module (an asset, or inline and evaluated)."""
        source = self._text(stack, properties, "Code", "code")
        if source is None:
            raise KeyError("Code")  # an APPSYNC_JS runtime with no code: not understood locally
        digest = hashlib.sha256(source.encode()).hexdigest()
        self.code.setdefault(digest, {"file": self._source_file(source) or name, "source": source})
        return digest

    def _source_file(self, source: str) -> str | None:
        """The app's own file a handler was copied from (`amplify/data/publish.js`), for its errors."""
        if self.sources is None:
            return None
        if self.source_files is None:
            files = (path for path in sorted(self.sources.rglob("*"))
                     if path.suffix in SOURCE_SUFFIXES and "node_modules" not in path.parts and path.is_file())
            self.source_files = {}
            for path in files:
                text = path.read_text(encoding="utf-8", errors="replace")
                self.source_files.setdefault(text, path.relative_to(self.sources.parent).as_posix())
        return self.source_files.get(source)

    def _template(self, stack: StackTemplate, properties: dict[str, Any], which: str) -> str | None:
        """The hash of a resolver's or function's request or response template (an asset, or inline and evaluated)."""
        text = self._text(stack, properties, f"{which}MappingTemplate", f"{which.lower()} template")
        return None if text is None else self._keep(text)

    def _text(self, stack: StackTemplate, properties: dict[str, Any], key: str, what: str) -> str | None:
        """A template's or module's text: the asset `<key>S3Location` names, else `<key>` inline and evaluated, else None."""
        location = properties.get(f"{key}S3Location")
        if location is not None:
            digests = [d for d in ASSET_HASH.findall(json.dumps(location)) if d in self.assembly.asset_paths]
            if not digests:
                raise CannotEvaluate(f"{what} {json.dumps(location)[:120]} is not an asset of the assembly")
            return (self.assembly.directory / self.assembly.asset_paths[digests[0]]).read_text(encoding="utf-8")
        inline = properties.get(key)
        return None if inline is None else str(self.evaluate(stack, inline))

    def _keep(self, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        self.templates[digest] = text
        return digest


def _javascript(properties: dict[str, Any]) -> bool:
    runtime = properties.get("Runtime") or {}
    return runtime.get("Name") == "APPSYNC_JS" or "Code" in properties or "CodeS3Location" in properties


def function_key(stack: StackTemplate, logical_id: str) -> str:
    """A pipeline function's name for the simulator: AppSync's own function names may repeat across stacks."""
    name = stack.all_resources[logical_id].get("Properties", {}).get("Name", logical_id)
    return f"{name}-{hashlib.sha1(f'{stack.logical_path}/{logical_id}'.encode()).hexdigest()[:8]}"


class EndpointPlaceholders(Binding):
    """Deploy-time values as the endpoint's placeholders; anything else the endpoint cannot evaluate is an error.

    `Fn::GetAtt` on the API, tables, data sources, functions, roles and Lambda functions is answered as
    CloudFormation would after deploying, with the environment's values still to be put in. A table
    of a stack that is not the data API's is the app's own: `app_table` names its local copy.
    """

    def __init__(self, in_data_api: Callable[[StackTemplate], bool] = lambda stack: True,
                 app_table: Callable[[StackTemplate, str, dict[str, Any]], str] | None = None) -> None:
        self.in_data_api = in_data_api
        self.app_table = app_table

    def pseudo(self, stack: StackTemplate, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::StackName": stack.logical_id}
        return pseudo[name] if name in pseudo else self.unknown(f"Ref {name}")

    def reference(self, evaluator: Evaluator, stack: StackTemplate, name: str, resource: dict[str, Any]) -> Any:
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        if kind == PLAIN_TABLE and self.app_table is not None and not self.in_data_api(stack):
            return self.app_table(stack, name, resource)
        if kind in TABLE_TYPES:
            return evaluator.evaluate(stack, properties.get("tableName") or properties.get("TableName"))
        if kind == API:
            return f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/{API_ID}"
        if kind == "AWS::Cognito::UserPool":
            return USER_POOL_ID  # the environment's pool in the emulator, not the synthesized one
        if kind == "AWS::Cognito::UserPoolClient":
            return USER_POOL_CLIENT_ID
        if kind == LAMBDA:
            return lambda_key(stack, name)
        if kind in ("AWS::IAM::Role", "AWS::Cognito::IdentityPool"):
            # Only IAM callers and Lambda data sources read these, and the endpoint serves neither.
            return f"{name}-local"
        return self.unknown(f"Ref {name} ({kind}) in {stack.logical_path}")

    def attribute(self, evaluator: Evaluator, stack: StackTemplate, name: str, attribute: str, resource: dict[str, Any]) -> Any:
        kind, properties = resource.get("Type"), resource.get("Properties", {})
        api_arn = f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/{API_ID}"
        if kind == API and attribute in ("ApiId", "Arn", "GraphQLUrl"):
            return {"ApiId": API_ID, "Arn": api_arn, "GraphQLUrl": GRAPHQL_URL}[attribute]
        if kind == DATA_SOURCE and attribute in ("Name", "DataSourceArn"):
            source = evaluator.evaluate(stack, properties["Name"])
            return source if attribute == "Name" else f"{api_arn}/datasources/{source}"
        if kind == FUNCTION and attribute == "FunctionId":
            return function_key(stack, name)
        if kind in TABLE_TYPES:
            table = self.reference(evaluator, stack, name, resource)
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
            values = {"TableArn": arn, "Arn": arn, "TableName": table, "StreamArn": f"{arn}/stream/local", "TableStreamArn": f"{arn}/stream/local"}
            if attribute in values:
                return values[attribute]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{name}-local"
        if kind == LAMBDA and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lambda_key(stack, name)}"
        return self.unknown(f"Fn::GetAtt {name}.{attribute} ({kind}) in {stack.logical_path}")

    def unknown(self, description: str) -> Any:
        raise CannotEvaluate(description)


def lambda_key(stack: StackTemplate, logical_id: str) -> str:
    """A Lambda function's name on the local endpoint: its logical id, told apart by where its stack sits."""
    return f"{logical_id}-{hashlib.sha1(f'{stack.logical_path}/{logical_id}'.encode()).hexdigest()[:8]}"
