"""The sandbox and branch targets' stand-in cloud: moto as AWS, and a fake `npx` that plays ampx from a spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from conftest import CLOUD_IDENTIFIERS, LONG_BRANCH, App
from fakes.amplify_names import amplify_stack_name

SANDBOX, BRANCH = CLOUD_IDENTIFIERS
API_IDS = {"sandbox": "sbx4n7q2w9e5r1t6y3u8i0o2pa", "branch": "brn1q2w3e4r5t6y7u8i9o0p1as"}
CLOUD_CONFIG = """
[environments.development]
prefix = "[DEV]"
target = "sandbox"
sandbox_identifier = "devbox"
automated_deploys = true
protected = false

[environments.production]
prefix = "[PROD]"
target = "branch"
branch = "{branch}"
app_id = "d1a2b3c4d5e6f7"
protected = true

[models.InventoryItem]
label_field = "name"
""".replace("{branch}", LONG_BRANCH)


class Cloud:
    def __init__(self, app: App, root: Path, endpoint: str) -> None:
        self.app, self.root, self.endpoint = app, root, endpoint
        self.spec_file, self.log_file = root / "ampx-spec.json", root / "ampx-calls.jsonl"

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def expect(self, kind: str, mode: str = "success") -> None:
        """What the next `npx ampx` deploy does: create the stack for `kind`, or fail as `mode` says.

        The fake names the stack itself, from its arguments, as Amplify does (tests/fakes/amplify_names.py).
        """
        desired = EnvironmentWorkspace.open(self.app.project, "development" if kind == "sandbox" else "production",
                                            AwsSettings()).desired()
        self.spec_file.write_text(json.dumps({
            "mode": mode, "api_id": API_IDS[kind], "tables": table_properties(desired, API_IDS[kind]),
        }))

    def stack_name(self, kind: str) -> str:
        """The root stack of `kind`'s backend as Amplify itself names it (never ampflow's computation)."""
        identifier = SANDBOX if kind == "sandbox" else BRANCH
        return amplify_stack_name(self.app.root, identifier.namespace, identifier.name, identifier.type)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]


def table_properties(desired: DesiredBackend, api_id: str) -> list[dict[str, Any]]:
    tables = []
    for model, spec in desired.tables.items():
        keys = lambda h, r: [{"AttributeName": h, "KeyType": "HASH"}] + ([{"AttributeName": r, "KeyType": "RANGE"}] if r else [])  # noqa: E731
        properties = {
            "TableName": f"{model}-{api_id}-NONE",
            "KeySchema": keys(spec.hash_key, spec.range_key),
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in spec.attribute_types.items()],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": spec.stream_view_type},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": spec.point_in_time_recovery},
        }
        if spec.indexes:
            properties["GlobalSecondaryIndexes"] = [
                {"IndexName": i.name, "KeySchema": keys(i.hash_key, i.range_key), "Projection": {"ProjectionType": "ALL"}}
                for i in spec.indexes
            ]
        tables.append({"model": model, "properties": properties})
    return tables
