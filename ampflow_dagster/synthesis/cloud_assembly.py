"""Read a CDK cloud assembly (cdk.out) that Amplify synthesized.

The assembly may hold several root stacks: the backend's own (`amplify-<namespace>-<name>-<type>-<hash>`)
and plain CDK stacks a `backend.ts` adds to the same CDK app. Inside the backend's root stack,
`backend.createStack(...)` stacks and the data API are nested stacks. Amplify declares each model
table as a `Custom::AmplifyDynamoDBTable` in a nested stack of the data API, with properties behind
`Fn::If` on parameters the parent stack passes down (billing mode, point-in-time recovery). We walk
the stack tree from the root, resolving parameters and conditions the way CloudFormation would, and
keep what is known at synthesis time. What only a deployment knows (a resource's `Ref` or `Fn::GetAtt`,
the region) is answered by a `Binding`: the table reader keeps it as a token (`Unresolved`), so it can
tell the API id inside a table name; the local GraphQL endpoint's extraction puts placeholders in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec

AMPLIFY_TABLE = "Custom::AmplifyDynamoDBTable"
PLAIN_TABLE = "AWS::DynamoDB::Table"
NESTED_STACK = "AWS::CloudFormation::Stack"
GRAPHQL_API = "AWS::AppSync::GraphQLApi"
GRAPHQL_SCHEMA = "AWS::AppSync::GraphQLSchema"
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
NO_VALUE = object()


class Unresolved:
    """A value CloudFormation only knows at deploy time, e.g. the AppSync API id."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


@dataclass
class StackTemplate:
    path: Path
    body: dict[str, Any]
    logical_id: str
    parent: StackTemplate | None = None
    children: dict[str, StackTemplate] = field(default_factory=dict)

    def evaluate(self, value: Any) -> Any:
        """`value` evaluated in this stack, deploy-time values kept as tokens."""
        return Evaluator().evaluate(self, value)

    @property
    def logical_path(self) -> str:
        """Where the stack sits in the tree: the root stack's name, then each nested stack's logical id."""
        return f"{self.parent.logical_path}/{self.logical_id}" if self.parent else self.logical_id

    @property
    def all_resources(self) -> dict[str, Any]:
        return self.body.get("Resources", {})

    def resources(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.all_resources.items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource

    def tree(self) -> Iterator[StackTemplate]:
        """This stack and every stack nested in it, parents first."""
        yield self
        for child in self.children.values():
            yield from child.tree()

    def root(self) -> StackTemplate:
        return self.parent.root() if self.parent else self

    def data_apis(self) -> list[dict[str, Any]]:
        return [resource for _, resource in self.resources(GRAPHQL_API)]


@dataclass
class CloudAssembly:
    directory: Path
    stack_name: str
    root: StackTemplate
    asset_paths: dict[str, str]
    other_stacks: list[str] = field(default_factory=list)

    def outputs(self) -> dict[str, Any]:
        root = self.root
        return {name: root.evaluate(output.get("Value")) for name, output in root.body.get("Outputs", {}).items()}

    def data_stacks(self) -> list[StackTemplate]:
        """The nested stacks that declare Amplify's data API; none for a backend without data.

        Amplify tags its GraphQL API with `amplify:friendly-name`, which tells it from an AppSync API
        a custom stack declares (with tables of its own); without that tag any GraphQL API counts.
        """
        with_api = [template for template in self.root.tree() if template.data_apis()]
        tagged = [template for template in with_api if any(_amplify_named(api) for api in template.data_apis())]
        return tagged or with_api

    def tables(self) -> dict[str, TableSpec]:
        """The data API's model tables. Tables of custom stacks belong to the app, not to a model."""
        tables: dict[str, TableSpec] = {}
        for data_stack in self.data_stacks():
            for template in data_stack.tree():
                for resource_type in (AMPLIFY_TABLE, PLAIN_TABLE):
                    for logical_id, resource in template.resources(resource_type):
                        spec = table_spec(template, logical_id, resource)
                        tables[spec.model] = spec
        return tables

    def transformed_schema(self) -> Path | None:
        """The AppSync schema Amplify transformed the data schema into (the API's GraphQLSchema definition)."""
        for data_stack in self.data_stacks():
            for _, resource in data_stack.resources(GRAPHQL_SCHEMA):
                for digest in ASSET_HASH.findall(json.dumps(resource.get("Properties", {}))):
                    if digest in self.asset_paths:
                        return self.directory / self.asset_paths[digest]
        return None

    def data_api_file(self, name: str) -> Path | None:
        """A file called `name` in one of the assets the data API's stacks refer to (e.g. model-schema.graphql)."""
        for data_stack in self.data_stacks():
            for template in data_stack.tree():
                for digest in sorted(set(ASSET_HASH.findall(json.dumps(template.body)))):
                    if digest in self.asset_paths and (self.directory / self.asset_paths[digest] / name).is_file():
                        return self.directory / self.asset_paths[digest] / name
        return None


def read_cloud_assembly(directory: Path, backend_stack_name: str | None = None) -> CloudAssembly:
    """The backend's root stack (named `backend_stack_name`, else found by its data API) and its nested stacks."""
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SynthesisError(
            f"Synthesis wrote no cloud assembly manifest ({manifest_path}).",
            "Check that amplify/backend.ts calls defineBackend(...).",
        ) from error
    stacks = {
        artifact.get("properties", {}).get("stackName") or artifact_id: artifact
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }
    if not stacks:
        raise SynthesisError(
            f"Synthesis wrote no stack ({manifest_path}).",
            "Check that amplify/backend.ts calls defineBackend(...).",
        )
    asset_paths = _file_assets(directory, manifest)

    def load_tree(name: str) -> StackTemplate:
        template_file = stacks[name]["properties"]["templateFile"]
        root = StackTemplate(directory / template_file, _load(directory / template_file), name)
        _collect_nested(directory, asset_paths, root)
        return root

    if backend_stack_name in stacks:
        name, root = backend_stack_name, load_tree(backend_stack_name)
    else:
        name, root = _find_backend_stack(manifest_path, stacks, load_tree, backend_stack_name)
    others = [other for other in stacks if other != name]
    return CloudAssembly(directory=directory, stack_name=name, root=root, asset_paths=asset_paths, other_stacks=others)


def _find_backend_stack(
    manifest_path: Path, stacks: dict[str, Any], load_tree: Callable[[str], StackTemplate], expected: str | None
) -> tuple[str, StackTemplate]:
    """Without a stack of the expected name: the one root stack with the data API, else the one Amplify tagged."""
    if len(stacks) == 1:
        (name,) = stacks
        return name, load_tree(name)
    trees = {name: load_tree(name) for name in stacks}
    with_data = [name for name, tree in trees.items() if any(t.data_apis() for t in tree.tree())]
    tagged = [name for name, artifact in stacks.items() if artifact.get("properties", {}).get("tags", {}).get("created-by") == "amplify"]
    for candidates in (with_data, tagged):
        if len(candidates) == 1:
            return candidates[0], trees[candidates[0]]
    expected_text = f"none is named {expected}, and " if expected else ""
    raise SynthesisError(
        f"{manifest_path} has {len(stacks)} root stacks ({', '.join(stacks)}); {expected_text}"
        f"{len(with_data)} of them hold a data API, so ampflow cannot tell which is the Amplify backend.",
        "Keep one defineBackend(...) in amplify/backend.ts and add other stacks with backend.createStack(...) "
        "or as plain CDK stacks without a GraphQL API.",
    )


def _amplify_named(api: dict[str, Any]) -> bool:
    tags = api.get("Properties", {}).get("Tags") or []
    return any(isinstance(tag, dict) and tag.get("Key") == "amplify:friendly-name" for tag in tags)


def _file_assets(directory: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """Asset hash -> file in the assembly, from its asset manifests."""
    paths: dict[str, str] = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") == "cdk:asset-manifest":
            assets = _load(directory / artifact["properties"]["file"])
            paths.update({digest: entry["source"]["path"] for digest, entry in assets.get("files", {}).items()})
    return paths


def _nested_template_path(resource: dict[str, Any], asset_paths: dict[str, str]) -> str | None:
    """A nested stack's template: named in its metadata, or by the asset hash in its TemplateURL."""
    declared = resource.get("Metadata", {}).get("aws:asset:path")
    if declared:
        return declared
    found = re.search(r"/([0-9a-f]{64})\.json", json.dumps(resource.get("Properties", {}).get("TemplateURL")))
    return asset_paths.get(found.group(1)) if found else None


def _collect_nested(directory: Path, asset_paths: dict[str, str], parent: StackTemplate) -> None:
    for logical_id, resource in parent.resources(NESTED_STACK):
        template_path = _nested_template_path(resource, asset_paths)
        if template_path is None:
            raise SynthesisError(
                f"Nested stack {logical_id} in {parent.path.name} has no template in the cloud assembly.",
                "Synthesize again; if it persists, the assembly was produced by an unsupported CDK version.",
            )
        child = StackTemplate(directory / template_path, _load(directory / template_path), logical_id, parent)
        parent.children[logical_id] = child
        _collect_nested(directory, asset_paths, child)


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise SynthesisError(f"Cannot read synthesized template {path}: {error}.", "Synthesize again (ampflow force ENV).") from error


class Binding:
    """The answers only a deployment has: pseudo parameters, and a resource's `Ref` or `Fn::GetAtt`.

    This binding keeps each as a token (`Unresolved`), as the table reader needs. A binding that must
    have every value (the local endpoint's) overrides `unknown` to raise.
    """

    def pseudo(self, stack: StackTemplate, name: str) -> Any:
        return self.unknown(f"Ref {name}")

    def reference(self, evaluator: Evaluator, stack: StackTemplate, name: str, resource: dict[str, Any]) -> Any:
        return self.unknown(f"Ref {name}")

    def attribute(self, evaluator: Evaluator, stack: StackTemplate, name: str, attribute: str, resource: dict[str, Any]) -> Any:
        return self.unknown(f"Fn::GetAtt {name}.{attribute}")

    def unknown(self, description: str) -> Any:
        return Unresolved(description)


class Evaluator:
    """CloudFormation's intrinsic functions over a stack tree, for one binding.

    A nested stack's parameters are what its parent passes, evaluated in the parent one at a time and
    only when something reads them (then kept for this evaluator): a parameter nothing needs, say the ARN
    of a bucket a function may write to, never stops the resources that do not read it.
    `Fn::GetAtt <nested stack>.Outputs.X` evaluates the child's output in the child.
    """

    def __init__(self, binding: Binding | None = None) -> None:
        self.binding = binding or Binding()
        self._parameters: dict[tuple[int, str], Any] = {}

    def parameter(self, stack: StackTemplate, name: str) -> Any:
        """What the parent passes as parameter `name` (NO_VALUE when it passes nothing by that name).

        A binding that raises for a value it cannot evaluate raises again on every read, so only the
        resources that read the parameter are affected.
        """
        if stack.parent is None:
            return NO_VALUE
        key = (id(stack), name)
        if key not in self._parameters:
            passed = stack.parent.all_resources[stack.logical_id].get("Properties", {}).get("Parameters", {})
            try:
                self._parameters[key] = self.evaluate(stack.parent, passed[name]) if name in passed else NO_VALUE
            except Exception as error:
                self._parameters[key] = _Failed(error)
        value = self._parameters[key]
        if isinstance(value, _Failed):
            raise value.error
        return value

    def evaluate(self, stack: StackTemplate, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.evaluate(stack, v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.reference(stack, argument)
            if function == "Condition" or function.startswith("Fn::"):
                return self._function(stack, function, argument)
        return {key: item for key, item in ((k, self.evaluate(stack, v)) for k, v in value.items()) if item is not NO_VALUE}

    def _function(self, stack: StackTemplate, function: str, argument: Any) -> Any:
        if function == "Fn::If":
            condition, when_true, when_false = argument
            return self.evaluate(stack, when_true if self.condition(stack, condition) else when_false)
        if function == "Condition":
            return self.condition(stack, argument)
        if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            values = [self.evaluate(stack, item) for item in argument]
            if any(_token(item) for item in values):
                return self.binding.unknown(f"{function} {json.dumps(argument)[:80]}")
            if function == "Fn::Equals":
                return str(values[0]) == str(values[1])
            return not values[0] if function == "Fn::Not" else (all(values) if function == "Fn::And" else any(values))
        if function == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.attribute(stack, name, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            parts = self.evaluate(stack, parts)
            if any(_token(part) for part in parts):
                return JoinedTokens(separator, parts)
            return separator.join(str(part) for part in parts)
        if function == "Fn::Select":
            index, items = (self.evaluate(stack, item) for item in argument)
            if _token(items) or _token(index):
                return self.binding.unknown(f"Fn::Select {json.dumps(argument)[:80]}")
            return items[int(index)]
        if function == "Fn::Split":
            separator, text = argument
            text = self.evaluate(stack, text)
            return self.binding.unknown(f"Fn::Split {json.dumps(argument)[:80]}") if _token(text) else str(text).split(separator)
        if function == "Fn::Sub":
            return self._substitute(stack, argument)
        if function == "Fn::ImportValue":
            return self._imported(stack, self.evaluate(stack, argument))
        return self.binding.unknown(f"{function} {json.dumps(argument)[:80]} in {stack.logical_path}")

    def reference(self, stack: StackTemplate, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        passed = self.parameter(stack, name)
        if passed is not NO_VALUE:
            return passed
        declared = stack.body.get("Parameters", {}).get(name)
        if declared is not None:
            return declared["Default"] if "Default" in declared else self.binding.unknown(f"parameter {name} of {stack.logical_path} has no value")
        if name.startswith("AWS::"):
            return self.binding.pseudo(stack, name)
        resource = stack.all_resources.get(name)
        if resource is None:
            return self.binding.unknown(f"Ref {name} in {stack.logical_path}: no such parameter or resource")
        return self.binding.reference(self, stack, name, resource)

    def attribute(self, stack: StackTemplate, name: str, attribute: str) -> Any:
        resource = stack.all_resources.get(name)
        if resource is None:
            return self.binding.unknown(f"Fn::GetAtt {name}.{attribute} in {stack.logical_path}: no such resource")
        if resource.get("Type") == NESTED_STACK and attribute.startswith("Outputs.") and name in stack.children:
            child = stack.children[name]
            output = child.body.get("Outputs", {}).get(attribute.removeprefix("Outputs."))
            if output is None:
                return self.binding.unknown(f"Fn::GetAtt {name}.{attribute} in {stack.logical_path}: no such output")
            return self.evaluate(child, output["Value"])
        return self.binding.attribute(self, stack, name, attribute, resource)

    def condition(self, stack: StackTemplate, name: str) -> bool:
        definition = stack.body.get("Conditions", {}).get(name)
        result = self.evaluate(stack, definition) if definition is not None else Unresolved(name)
        if _token(result):
            raise SynthesisError(
                f"Condition {name} in {stack.path.name} depends on a deploy-time value.",
                "ampflow can only read tables whose settings are known at synthesis; keep table overrides to literal values.",
            )
        return bool(result)

    def _substitute(self, stack: StackTemplate, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.evaluate(stack, value) for key, value in variables.items()}

        def value_of(token: str) -> Any:
            if token in values:
                return values[token]
            if "." in token and not token.startswith("AWS::"):
                return self.attribute(stack, *token.split(".", 1))
            return self.reference(stack, token)

        tokens = {token: value_of(token) for token in re.findall(r"\$\{([^!}][^}]*)\}", text)}
        if any(_token(value) for value in tokens.values()):
            return self.binding.unknown(f"Fn::Sub {text[:80]}")
        return re.sub(r"\$\{([^}]+)\}", lambda match: "${" + match.group(1)[1:] + "}" if match.group(1).startswith("!") else str(tokens[match.group(1)]), text)

    def _imported(self, stack: StackTemplate, export_name: Any) -> Any:
        for exporter in stack.root().tree():
            for output in exporter.body.get("Outputs", {}).values():
                export = output.get("Export")
                if export and self.evaluate(exporter, export["Name"]) == export_name:
                    return self.evaluate(exporter, output["Value"])
        return self.binding.unknown(f"Fn::ImportValue {export_name} (exported by no stack of the backend)")


@dataclass
class _Failed:
    """A parameter whose evaluation raised: raised again wherever it is read."""

    error: Exception


def _token(value: Any) -> bool:
    return isinstance(value, (Unresolved, JoinedTokens))


@dataclass
class JoinedTokens:
    separator: str
    parts: list[Any]


def _table_name_model(template: StackTemplate, logical_id: str, raw_name: Any) -> str:
    """The model in a table name shaped `<Model>-<apiId>-NONE`."""
    name = template.evaluate(raw_name)
    if isinstance(name, JoinedTokens) and name.separator == "" and len(name.parts) == 3:
        head, api_id, tail = name.parts
        if isinstance(head, str) and head.endswith("-") and isinstance(api_id, Unresolved) and tail == "-NONE":
            return head[:-1]
    raise SynthesisError(
        f"Table {logical_id} in {template.path.name} is not named <Model>-<apiId>-NONE (found {name!r}).",
        "ampflow reads Amplify Data's model tables; tables renamed in backend.ts overrides are not supported.",
    )


def table_spec(template: StackTemplate, logical_id: str, resource: dict[str, Any], model: str | None = None) -> TableSpec:
    """A table's declaration; `model` names a table that is not a model's (else it is read from its name)."""
    raw = resource.get("Properties", {})
    properties = {key[0].lower() + key[1:]: value for key, value in raw.items()}  # AWS::DynamoDB::Table is PascalCase
    model = model or _table_name_model(template, logical_id, properties.get("tableName"))
    evaluated = template.evaluate({key: value for key, value in properties.items() if key != "tableName"})
    keys = {_lower(element)["attributeName"]: _lower(element)["keyType"] for element in evaluated.get("keySchema", [])}
    hash_key = next(name for name, kind in keys.items() if kind == "HASH")
    range_key = next((name for name, kind in keys.items() if kind == "RANGE"), None)
    indexes = []
    for index in evaluated.get("globalSecondaryIndexes", []):
        index = _lower(index)
        index_keys = {_lower(e)["attributeName"]: _lower(e)["keyType"] for e in index["keySchema"]}
        indexes.append(
            IndexSpec(
                name=index["indexName"],
                hash_key=next(n for n, k in index_keys.items() if k == "HASH"),
                range_key=next((n for n, k in index_keys.items() if k == "RANGE"), None),
                projection=_lower(index.get("projection", {})).get("projectionType", "ALL"),
            )
        )
    stream = _lower(evaluated.get("streamSpecification") or {})
    pitr = _lower(evaluated.get("pointInTimeRecoverySpecification") or {})
    return TableSpec(
        model=model,
        hash_key=hash_key,
        range_key=range_key,
        attribute_types={_lower(d)["attributeName"]: _lower(d)["attributeType"] for d in evaluated.get("attributeDefinitions", [])},
        indexes=tuple(sorted(indexes, key=lambda index: index.name)),
        stream_view_type=stream.get("streamViewType") if stream.get("streamEnabled", True) else None,
        billing_mode=evaluated.get("billingMode") or "PROVISIONED",
        point_in_time_recovery=_truthy(pitr.get("pointInTimeRecoveryEnabled", False)),
        deletion_protection=_truthy(evaluated.get("deletionProtectionEnabled", False)),
        replace_table_upon_gsi_update=_truthy(evaluated.get("replaceTableUponGsiUpdate", False)),
    )


def _lower(mapping: dict[str, Any]) -> dict[str, Any]:
    """Amplify's custom table uses camelCase keys; AWS::DynamoDB::Table and user overrides use PascalCase."""
    return {key[0].lower() + key[1:]: value for key, value in mapping.items()}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
