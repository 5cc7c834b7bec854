"""Read a CDK cloud assembly (cdk.out) that Amplify synthesized.

Amplify declares each model table as a `Custom::AmplifyDynamoDBTable` in a nested
stack, with properties behind `Fn::If` on parameters the parent stack passes down
(billing mode, point-in-time recovery). We walk the stack tree from the root,
resolving parameters and conditions the way CloudFormation would, and keep what is
known at synthesis time; values only known after deployment (the API id) stay tokens.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampflow_dagster.errors import SynthesisError
from ampflow_dagster.synthesis.desired_state import IndexSpec, TableSpec

AMPLIFY_TABLE = "Custom::AmplifyDynamoDBTable"
PLAIN_TABLE = "AWS::DynamoDB::Table"
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
    parameters: dict[str, Any]

    def evaluate(self, value: Any) -> Any:
        return _Evaluator(self).evaluate(value)


@dataclass
class CloudAssembly:
    directory: Path
    stack_name: str
    templates: list[StackTemplate]

    @property
    def root(self) -> StackTemplate:
        return self.templates[0]

    def outputs(self) -> dict[str, Any]:
        root = self.root
        return {name: root.evaluate(output.get("Value")) for name, output in root.body.get("Outputs", {}).items()}

    def tables(self) -> dict[str, TableSpec]:
        tables: dict[str, TableSpec] = {}
        for template in self.templates:
            for logical_id, resource in template.body.get("Resources", {}).items():
                if resource.get("Type") in (AMPLIFY_TABLE, PLAIN_TABLE):
                    spec = _table_spec(template, logical_id, resource)
                    tables[spec.model] = spec
        return tables

    def asset_file(self, name: str) -> Path | None:
        """The first file called `name` inside one of the assembly's asset folders."""
        for candidate in sorted(self.directory.glob(f"asset.*/{name}")):
            return candidate
        return None

    def transformed_schema(self) -> Path | None:
        for candidate in sorted(self.directory.glob("asset.*.graphql")):
            return candidate
        return None


def read_cloud_assembly(directory: Path) -> CloudAssembly:
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SynthesisError(
            f"Synthesis wrote no cloud assembly manifest ({manifest_path}).",
            "Check that amplify/backend.ts calls defineBackend(...).",
        ) from None
    stacks = [
        (name, artifact["properties"]["templateFile"])
        for name, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    ]
    if len(stacks) != 1:
        raise SynthesisError(
            f"Expected one root stack in {manifest_path}, found {len(stacks)}.",
            "amplify/backend.ts should define exactly one backend with defineBackend(...).",
        )
    stack_name, template_file = stacks[0]
    asset_paths = _file_assets(directory, manifest)
    root = StackTemplate(directory / template_file, _load(directory / template_file), {})
    templates = [root]
    _collect_nested(directory, asset_paths, root, templates)
    return CloudAssembly(directory=directory, stack_name=stack_name, templates=templates)


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


def _collect_nested(directory: Path, asset_paths: dict[str, str], parent: StackTemplate, into: list[StackTemplate]) -> None:
    for logical_id, resource in parent.body.get("Resources", {}).items():
        if resource.get("Type") != "AWS::CloudFormation::Stack":
            continue
        template_path = _nested_template_path(resource, asset_paths)
        if template_path is None:
            raise SynthesisError(
                f"Nested stack {logical_id} in {parent.path.name} has no template in the cloud assembly.",
                "Synthesize again; if it persists, the assembly was produced by an unsupported CDK version.",
            )
        passed = resource.get("Properties", {}).get("Parameters", {})
        child = StackTemplate(directory / template_path, _load(directory / template_path), {})
        child.parameters = {name: parent.evaluate(value) for name, value in passed.items()}
        into.append(child)
        _collect_nested(directory, asset_paths, child, into)


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise SynthesisError(f"Cannot read synthesized template {path}: {error}.", "Synthesize again (ampflow force ENV).") from None


class _Evaluator:
    def __init__(self, template: StackTemplate) -> None:
        self.template = template

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.evaluate(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.reference(argument)
            if function == "Fn::If":
                condition, when_true, when_false = argument
                return self.evaluate(when_true if self.condition(condition) else when_false)
            if function == "Fn::Equals":
                first, second = (self.evaluate(v) for v in argument)
                if isinstance(first, Unresolved) or isinstance(second, Unresolved):
                    return Unresolved(f"Fn::Equals {argument}")
                return str(first) == str(second)
            if function == "Fn::Not":
                inner = self.evaluate(argument[0])
                return inner if isinstance(inner, Unresolved) else not inner
            if function == "Fn::Join":
                separator, parts = argument
                parts = self.evaluate(parts)
                if any(isinstance(part, Unresolved) for part in parts):
                    return JoinedTokens(separator, parts)
                return separator.join(str(part) for part in parts)
            if function.startswith("Fn::"):
                return Unresolved(f"{function} {json.dumps(argument)[:80]}")
        return {key: item for key, item in ((k, self.evaluate(v)) for k, v in value.items()) if item is not NO_VALUE}

    def reference(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.template.parameters:
            return self.template.parameters[name]
        declared = self.template.body.get("Parameters", {}).get(name)
        if declared is not None and "Default" in declared:
            return declared["Default"]
        return Unresolved(f"Ref {name}")

    def condition(self, name: str) -> bool:
        definition = self.template.body.get("Conditions", {}).get(name)
        result = self.evaluate(definition) if definition is not None else Unresolved(name)
        if isinstance(result, Unresolved):
            raise SynthesisError(
                f"Condition {name} in {self.template.path.name} depends on a deploy-time value.",
                "ampflow can only read tables whose settings are known at synthesis; keep table overrides to literal values.",
            )
        return bool(result)


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


def _table_spec(template: StackTemplate, logical_id: str, resource: dict[str, Any]) -> TableSpec:
    raw = resource.get("Properties", {})
    properties = {key[0].lower() + key[1:]: value for key, value in raw.items()}  # AWS::DynamoDB::Table is PascalCase
    model = _table_name_model(template, logical_id, properties.get("tableName"))
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
