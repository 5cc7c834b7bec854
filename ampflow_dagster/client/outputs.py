"""Write an environment's amplify_outputs.json and GraphQL statements.

The model introspection schema and the statements come from Amplify's own generator
(@aws-amplify/graphql-generator, run during synthesis). For the local target, `data.url`
and `data.api_key` are those of the environment's local GraphQL endpoint; the tables and
the DynamoDB endpoint are listed under `custom.ampflow`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampflow_dagster.synthesis.desired_state import DesiredBackend

OUTPUTS_VERSION = "1.4"
LOCAL_NOTE = (
    "data.url is this environment's local GraphQL endpoint (Amplify's AppSync simulator on 127.0.0.1) over the tables "
    "listed here: API key and user pool authorization; IAM authorization, subscriptions and function or JavaScript "
    "resolvers are not served locally yet."
)


@dataclass(frozen=True)
class DataApi:
    """Where the environment's GraphQL API answers, when the target serves one itself (local)."""

    url: str
    api_key: str


@dataclass(frozen=True)
class ClientFiles:
    directory: Path
    outputs_file: Path
    statement_files: list[Path]


def write_client(
    directory: Path, desired: DesiredBackend, target: dict[str, Any], tables: dict[str, str], data_api: DataApi | None = None
) -> ClientFiles:
    """Replace `directory` with a fresh client, written whole or not at all."""
    data: dict[str, Any] = {
        "aws_region": target.get("aws_region"),
        "default_authorization_type": desired.default_authorization_type,
        "authorization_types": desired.additional_authorization_types,
        "model_introspection": desired.model_introspection,
    }
    if data_api is not None and desired.graphql_api is not None:
        served = desired.graphql_api.served_authorization_types()
        data = {"url": data_api.url, "api_key": data_api.api_key, **data,
                "default_authorization_type": served[0] if served else "API_KEY", "authorization_types": served[1:]}
    outputs = {
        "version": OUTPUTS_VERSION,
        "data": data,
        "custom": {
            "ampflow": {
                **{key: value for key, value in target.items() if key != "endpoint_source"},
                "stack_name": desired.stack_name,
                "amplify_fingerprint": desired.fingerprint,
                "tables": tables,
                "note": LOCAL_NOTE if target.get("target") == "local" else "",
            }
        },
    }
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        (staging / "amplify_outputs.json").write_text(json.dumps(outputs, indent=2) + "\n", encoding="utf-8")
        statements_dir = staging / "graphql"
        statements_dir.mkdir()
        for name, text in sorted(desired.statements.items()):
            (statements_dir / name).write_text(text, encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ClientFiles(
        directory=directory,
        outputs_file=directory / "amplify_outputs.json",
        statement_files=sorted((directory / "graphql").iterdir()),
    )
