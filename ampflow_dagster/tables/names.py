"""The one place that knows how an environment's API id and table names are formed."""

from __future__ import annotations

import base64
import hashlib

TABLE_SUFFIX = "NONE"  # Amplify Gen 2 has no Gen 1 "env" segment: tables end in -NONE.
APP_TABLE_SUFFIX = "app"


def local_api_id(namespace: str, environment: str, project_id: str | None = None) -> str:
    """A stable 26-character API id per (app, environment), shaped like AppSync's.

    Dangerous to change: every local table is named after it. Package names repeat across
    apps (Amplify's sandbox namespace is the package name), so ampflow.toml's project_id,
    written once by `ampflow init`, keeps two apps on one endpoint apart.
    """
    material = f"{namespace}\0{environment}" + (f"\0{project_id}" if project_id else "")
    digest = hashlib.sha256(material.encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:26]


def table_name(model: str, api_id: str) -> str:
    return f"{model}-{api_id}-{TABLE_SUFFIX}"


def app_table_name(logical_id: str, api_id: str) -> str:
    """A local environment's copy of a table the app's own CDK stack declares (`backend.data.addDynamoDbDataSource`).

    Never `-NONE`: planning takes every `<x>-<apiId>-NONE` table for a model's.
    """
    return f"{logical_id}-{api_id}-{APP_TABLE_SUFFIX}"


def belongs_to_api_as_app_table(table: str, api_id: str) -> bool:
    """Whether `table` is the API's environment's copy of a table of the app's own stack."""
    return _named_for(table, api_id, APP_TABLE_SUFFIX)


def belongs_to_api(table: str, api_id: str) -> bool:
    """Whether `table` is one of the API's model tables (and so of its environment)."""
    return _named_for(table, api_id, TABLE_SUFFIX)


def _named_for(table: str, api_id: str, suffix: str) -> bool:
    return table.endswith(f"-{api_id}-{suffix}") and len(table) > len(api_id) + len(suffix) + 2


def model_of(table: str, api_id: str) -> str:
    return table[: -(len(api_id) + len(TABLE_SUFFIX) + 2)]


def local_user_pool_name(api_id: str) -> str:
    """The local target's user pool of the environment whose API id is `api_id`.

    Dangerous to change: the local pool is found again by this name, and its users' ids (subs) are
    what seeded owner fields hold.
    """
    return f"amplifyAuthUserPool-{api_id}"
