"""The verification step: every declared table exists, is ACTIVE and matches its declaration."""

from __future__ import annotations

from dataclasses import dataclass, field

from ampflow_dagster.errors import VerificationError
from ampflow_dagster.tables.differences import table_differences, table_settings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace


@dataclass(frozen=True)
class TableCheck:
    """One table against its declaration: what was expected and what was found, and what differs."""

    model: str
    table: str
    status: str
    item_count: int | None
    problems: list[str]
    expected_keys: str = ""
    found_keys: str = ""
    expected_indexes: tuple[str, ...] = ()
    found_indexes: tuple[str, ...] = ()
    expected_settings: dict[str, str] = field(default_factory=dict)  # setting -> value, as table_settings shows it
    found_settings: dict[str, str] = field(default_factory=dict)
    updated_in_place: bool = False  # a deployment fixes every problem without replacing the table


TROUBLESHOOTING = [
    "a schema error in amplify/data/resource.ts: synthesis or the deployment stopped before the tables were made",
    "the default authorization mode is `iam` instead of `apiKey` or `userPool`: the app's calls are refused "
    "(set defaultAuthorizationMode in defineData; api_client's default_authorization_mode check says more)",
    "credentials or endpoint point at another account, region or emulator than the deployment used",
    "a setting (stream, point-in-time recovery, billing, deletion protection) was changed outside ampflow since the "
    "deployment: deploying sets it back in place",
    "the deployment's stack failed: rerun backend_deployment and read its errors",
]


def inspect_tables(workspace: EnvironmentWorkspace) -> list[TableCheck]:
    """Each desired table against the live one: exists, ACTIVE, every difference table_differences finds. Raises nothing."""
    desired = workspace.desired()
    checks = []
    for model, live in workspace.target.live_tables(desired).items():
        name = workspace.target.table_name(model)
        spec = desired.tables[model]
        expected = {
            "expected_keys": spec.key_schema_text(), "expected_indexes": tuple(i.text() for i in spec.indexes),
            "expected_settings": table_settings(spec),
        }
        if live is None:
            checks.append(TableCheck(model, name, "MISSING", None, ["table does not exist"], found_keys="none", **expected))
            continue
        differences = table_differences(spec, live.spec)
        problems = differences.describe()
        if live.status != "ACTIVE":
            problems.insert(0, f"status {live.status}, not ACTIVE")
        found = {
            "found_keys": live.spec.key_schema_text(), "found_indexes": tuple(i.text() for i in live.spec.indexes),
            "found_settings": table_settings(live.spec),
        }
        in_place = live.status == "ACTIVE" and not differences.replacement(workspace.target.replaces_on_index_change)
        checks.append(
            TableCheck(model, name, live.status, live.item_count, problems, **expected, **found, updated_in_place=in_place)
        )
    return checks


def require_matching_tables(workspace: EnvironmentWorkspace, checks: list[TableCheck]) -> None:
    """Raise, naming every table that does not match, its problems and what to do."""
    failing = [check for check in checks if check.problems]
    if not failing:
        return
    lines = "\n".join(f"  {c.table} ({c.model}): {'; '.join(c.problems)}" for c in failing)
    causes = "\n".join(f"  - {cause}" for cause in TROUBLESHOOTING)
    auth = workspace.desired().default_authorization_type
    raise VerificationError(
        f"{len(failing)} of {len(checks)} table(s) of environment '{workspace.environment.name}' "
        f"do not match amplify/ (default authorization: {auth}):\n{lines}\nCommon causes:\n{causes}",
        redeploy_advice(workspace.environment.name, failing),
    )


def redeploy_advice(environment: str, failing: list[TableCheck]) -> str:
    """What to do about the `failing` tables, which do not match amplify/."""
    advice = f"Materialize backend_deployment for '{environment}' (ampflow deploy {environment}), then verify again."
    if failing and all(check.updated_in_place for check in failing):
        advice += " The deployment updates the table(s) in place and keeps their items."
    return advice
